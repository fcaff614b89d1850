"""Reading from a PostgreSQL streaming replica without losing what it has not replayed.

A list that starts at responseDate ``R`` promises every record stamped before ``R − 1 s``
(records.stamping). On a replica that lags the primary, records committed just before
``R`` may not be there yet: a harvester would never see them, since its next ``from`` is
``R``. So a list starts at the primary's clock and WAL position, and is read from the
replica only once the replica has replayed up to that position; otherwise from the
primary. The position travels in the resumption token, so later pages make the same
check on whichever replica answers them.
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import Connection, text

#: How long a list request waits for the replica to catch up before reading the primary.
REPLAY_WAIT_SECONDS = 1.0
_POLL_SECONDS = 0.01


class ReplicaBehind(Exception):
    """The replica has not replayed what the request must see: read the primary instead."""


def primary_position(primary: Connection) -> tuple[datetime, str]:
    """The primary's clock (naive UTC) and its current WAL position, read together."""
    row = primary.execute(
        text("SELECT clock_timestamp() AT TIME ZONE 'UTC', CAST(pg_current_wal_lsn() AS text)")
    ).one()
    return row[0], row[1]


def has_replayed(replica: Connection, position: str) -> bool:
    """True when ``replica`` shows everything committed up to ``position``.

    A server that is not in recovery (a promoted replica, or the primary itself) has.
    """
    row = replica.execute(
        text("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= CAST(:position AS pg_lsn)"),
        {"position": position},
    ).one()
    in_recovery, replayed = row
    return not in_recovery or bool(replayed)


def wait_for_replay(
    replica: Connection, position: str, timeout: float = REPLAY_WAIT_SECONDS
) -> None:
    """Return once ``replica`` has replayed ``position``; raise ReplicaBehind after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not has_replayed(replica, position):
        if time.monotonic() >= deadline:
            raise ReplicaBehind(f"the replica has not replayed {position}")
        time.sleep(_POLL_SECONDS)
