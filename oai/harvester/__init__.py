"""Harvesting another OAI-PMH repository into the store (issue 12)."""
