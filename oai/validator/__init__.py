"""The endpoint validator: checks any OAI-PMH base URL as a harvester meets it (issue 12)."""
