"""Embargoes that end: the record starts to disseminate open access, so it is re-stamped.

An embargoed record is rendered with ``embargoedAccess`` until its ``embargo_until``
date; from then on it counts as open. Records rendered before that date (their datestamp
is earlier) are rendered again with a new datestamp, so harvesters fetch the change.
Run ``oaipress lift-embargoes`` daily (cron or a systemd timer).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from records.ingest import RecordWriter, Renderer
from records.models import Record, RightsStatement
from records.queries import record_to_dict
from records.stamping import Clock, publish


def lift_embargoes(
    session: Session, renderer: Renderer, today: date, *, now: Clock | None = None
) -> list[str]:
    """Re-stamp every record whose embargo ended after it was rendered; return their ids."""
    ended = (
        select(Record)
        .join(RightsStatement, RightsStatement.record_pk == Record.pk)
        .where(
            RightsStatement.access == "embargoed",
            RightsStatement.embargo_until <= today.isoformat(),
        )
        .options(
            selectinload(Record.authors),
            selectinload(Record.files),
            selectinload(Record.rights),
            selectinload(Record.memberships),
        )
    )
    stale = [
        record
        for record in session.scalars(ended)
        if record.datestamp < datetime.fromisoformat(str(record.rights.embargo_until))
    ]
    writer = RecordWriter(session, renderer)
    writer.restamp([(record_to_dict(record), record.pk) for record in stale])
    publish(session, now)
    return [record.local_id for record in stale]
