"""Resumption tokens (§3.5) that hold no server-side state.

A token carries the list's original arguments, the ``until`` frozen at the first
request, the keyset position (datestamp, id) of the last item sent, the cursor and
the completeListSize. It is signed with the configured secret and stamped with its
issue time, so any worker of any process sharing the secret resumes it, a forged or
edited token is refused, and an old one expires.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from oai.errors import BadResumptionToken

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

    def advanced(self, after: tuple[datetime, str], sent: int) -> ListState:
        return replace(self, after=after, cursor=self.cursor + sent)


class TokenCodec:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="oaipress.resumptionToken.v1")
        self.ttl = ttl_seconds

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
        return str(self._serializer.dumps(payload))

    def expiration(self) -> datetime:
        """When a token issued now stops working (naive UTC, second granularity)."""
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        return now + timedelta(seconds=self.ttl)

    def decode(self, token: str, verb: str) -> ListState:
        try:
            payload = self._serializer.loads(token, max_age=self.ttl)
        except SignatureExpired:
            raise BadResumptionToken("the resumptionToken has expired") from None
        except (BadSignature, ValueError, TypeError, UnicodeError):
            raise BadResumptionToken("the resumptionToken is not valid") from None
        try:
            (token_verb, prefix, set_spec, from_s, until_s, after, cursor, total) = payload
            state = ListState(
                verb=token_verb,
                prefix=prefix,
                set_spec=set_spec,
                from_=_from_seconds(from_s),
                until=_from_seconds(until_s),
                after=None if after is None else (_EPOCH + timedelta(seconds=after[0]), after[1]),
                cursor=int(cursor),
                total=int(total),
            )
        except (TypeError, ValueError, IndexError, OverflowError):
            raise BadResumptionToken("the resumptionToken is not valid") from None
        if state.verb != verb:
            raise BadResumptionToken(f"the resumptionToken belongs to {state.verb}, not {verb}")
        return state
