"""Resumption tokens (§3.5) that hold no server-side state.

A token carries the list's original arguments, the ``until`` frozen at the first
request, the keyset position (datestamp, id) of the last item sent, the cursor and
the completeListSize. It is signed with the configured secret and stamped with its
issue time, so any worker of any process sharing the secret resumes it, a forged or
edited token is refused, and an old one expires.

The form is ``<payload>.<issued>.<signature>``: base64url JSON, Unix seconds, and an
HMAC-SHA256 over the first two parts with a key derived once from the secret. It is
signed and checked on every List page, so it is kept to a few hashlib calls.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from oai.protocol.errors import BadResumptionToken

_PURPOSE = b"oaipress.resumptionToken.v2"
_EPOCH = datetime(1970, 1, 1)


def _to_seconds(value: datetime | None) -> int | None:
    return None if value is None else int((value - _EPOCH).total_seconds())


def _from_seconds(value: int | None) -> datetime | None:
    return None if value is None else _EPOCH + timedelta(seconds=value)


@dataclass(frozen=True)
class ListState:
    verb: str
    prefix: str | None
    set_spec: str | None
    from_: datetime | None
    until: datetime | None
    after: tuple[datetime, str] | None
    cursor: int
    total: int
    #: the primary's WAL position when the list started, if it is read from a replica
    position: str | None = None

    def advanced(self, after: tuple[datetime, str], sent: int) -> ListState:
        return replace(self, after=after, cursor=self.cursor + sent)


def _b64encode(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _b64decode(text: bytes) -> bytes:
    return base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))


def _well_formed(payload: list[Any], position: Any) -> bool:
    """The payload has the types encode() writes. A signature proves who made a token,
    not its shape: an id that is a number would reach the keyset query (PostgreSQL then
    fails, a 503), a cursor below 0 or a list of no items would make the response
    invalid (OAI-PMH.xsd: cursor nonNegativeInteger, completeListSize positiveInteger)."""
    verb, prefix, set_spec, from_s, until_s, after, cursor, total = payload

    def seconds(value: Any) -> bool:
        return value is None or (type(value) is int)

    return (
        isinstance(verb, str)
        and all(value is None or isinstance(value, str) for value in (prefix, set_spec, position))
        and seconds(from_s)
        and seconds(until_s)
        and (
            after is None
            or (
                isinstance(after, list)
                and len(after) == 2
                and type(after[0]) is int
                and isinstance(after[1], str)
            )
        )
        and type(cursor) is int
        and type(total) is int
        and cursor >= 0
        and total >= 1
    )


class TokenCodec:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._key = hmac.new(secret.encode("utf-8"), _PURPOSE, hashlib.sha256).digest()
        self.ttl = ttl_seconds

    def _signature(self, signed: bytes) -> bytes:
        return _b64encode(hmac.new(self._key, signed, hashlib.sha256).digest())

    def encode(self, state: ListState) -> str:
        after = state.after
        payload = [
            state.verb,
            state.prefix,
            state.set_spec,
            _to_seconds(state.from_),
            _to_seconds(state.until),
            None if after is None else [_to_seconds(after[0]), after[1]],
            state.cursor,
            state.total,
        ]
        if state.position is not None:
            payload.append(state.position)
        body = _b64encode(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
        signed = body + b"." + str(int(time.time())).encode("ascii")
        return (signed + b"." + self._signature(signed)).decode("ascii")

    def expiration(self) -> datetime:
        """When a token issued now stops working (naive UTC, second granularity)."""
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        return now + timedelta(seconds=self.ttl)

    def _payload(self, token: str) -> Any:
        """The signed payload of ``token``; raises ValueError if it is not one of ours."""
        signed, _, signature = token.encode("ascii").rpartition(b".")
        if not hmac.compare_digest(signature, self._signature(signed)):
            raise ValueError("bad signature")
        body, issued = signed.split(b".")
        if not issued.isdigit():
            raise ValueError("bad timestamp")
        if int(time.time()) - int(issued) > self.ttl:
            raise BadResumptionToken("the resumptionToken has expired")
        return json.loads(_b64decode(body))

    def decode(self, token: str, verb: str) -> ListState:
        try:
            payload = self._payload(token)
            (token_verb, prefix, set_spec, from_s, until_s, after, cursor, total) = payload[:8]
            position = payload[8] if len(payload) == 9 else None
            if len(payload) not in (8, 9) or not _well_formed(payload[:8], position):
                raise ValueError("unexpected payload")
            state = ListState(
                verb=token_verb,
                prefix=prefix,
                set_spec=set_spec,
                from_=_from_seconds(from_s),
                until=_from_seconds(until_s),
                after=None if after is None else (_EPOCH + timedelta(seconds=after[0]), after[1]),
                cursor=cursor,
                total=total,
                position=position,
            )
        except (TypeError, ValueError, IndexError, OverflowError, KeyError, binascii.Error):
            raise BadResumptionToken("the resumptionToken is not valid") from None
        if state.verb != verb:
            raise BadResumptionToken(f"the resumptionToken belongs to {state.verb}, not {verb}")
        return state
