"""OAI-PMH error conditions (§3.6): raised anywhere, rendered once as ``<error>``."""

from __future__ import annotations


class OAIError(Exception):
    code = "badArgument"
    #: badVerb and badArgument responses must not echo the request's arguments (§3.2).
    echoes_request = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadArgument(OAIError):
    code = "badArgument"
    echoes_request = False


class BadVerb(OAIError):
    code = "badVerb"
    echoes_request = False


class BadResumptionToken(OAIError):
    code = "badResumptionToken"


class CannotDisseminateFormat(OAIError):
    code = "cannotDisseminateFormat"


class IdDoesNotExist(OAIError):
    code = "idDoesNotExist"


class NoRecordsMatch(OAIError):
    code = "noRecordsMatch"


class NoMetadataFormats(OAIError):
    code = "noMetadataFormats"


class NoSetHierarchy(OAIError):
    code = "noSetHierarchy"
