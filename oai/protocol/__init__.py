"""The OAI-PMH 2.0 protocol: arguments, errors, resumption tokens, the six verbs,
the streamed XML writer and the ``/oai`` view."""
