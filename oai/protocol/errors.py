"""OAI-PMH error conditions (§3.6): raised anywhere, rendered once as ``<error>``."""

from __future__ import annotations

from datetime import datetime


class OAIError(Exception):
    code = "badArgument"
    #: badVerb and badArgument responses must not echo the request's arguments (§3.2).
    echoes_request = True

    def __init__(self, message: str, *, response_date: datetime | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: the store's time the answer was decided at, when it is not the request's
        self.response_date = response_date


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
