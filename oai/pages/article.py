"""What every page about one record starts from: the stored record, read once.

Landing pages, citations and exports all take an :class:`Article`; it holds the canonical
record (the same dict the formats render from, records.queries.record_to_dict), so a page
says exactly what ``/oai`` serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app

from oai.protocol.rendering import oai_identifier
from oai.store import Store
from records.queries import load_record, record_to_dict


@dataclass(frozen=True)
class Article:
    local_id: str
    #: the OAI identifier (oai:<repository>:<local id>)
    identifier: str
    datestamp: datetime
    deleted: bool
    #: the canonical record; for a deleted record only ``id``, ``deleted`` and ``sets``
    record: dict[str, Any]
    #: every set the record is in, ancestors and the computed aggregator sets included
    sets: tuple[str, ...]


def load_article(local_id: str) -> Article | None:
    store: Store = current_app.extensions["oaipress.store"]
    repository_identifier = current_app.config["OAIPRESS_REPOSITORY_IDENTIFIER"]
    with store.session() as session:
        stored = load_record(session, local_id)
        if stored is None:
            return None
        return Article(
            local_id=stored.local_id,
            identifier=oai_identifier(repository_identifier, stored.local_id),
            datestamp=stored.datestamp,
            deleted=stored.deleted,
            record=record_to_dict(stored),
            sets=tuple(sorted(m.set_spec for m in stored.memberships)),
        )
