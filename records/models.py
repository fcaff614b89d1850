"""The record store's tables.

Layout choices, all driven by the protocol's queries:

* ``records`` holds one row per item, live or deleted, with the datestamp and the
  pre-rendered ``<header>``; selective harvesting by date is a range scan of the
  ``(datestamp, local_id)`` index and pages resume by keyset on the same pair.
* ``record_sets`` repeats ``datestamp`` and ``local_id`` beside each set membership
  (ancestors of hierarchical specs included) so that a harvest of one set is a range
  scan of ``(set_spec, datestamp, local_id)`` with no join needed to order it.
* ``renditions`` holds each record's metadata already serialised per format, so a
  List response is a keyset scan plus concatenation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Record(Base):
    """An item: an article, or the tombstone of a deleted one."""

    __tablename__ = "records"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    local_id: Mapped[str] = mapped_column(String(512), unique=True)
    datestamp: Mapped[datetime] = mapped_column(DateTime)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(String(64))
    header_xml: Mapped[bytes] = mapped_column(LargeBinary)

    title: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(35))
    abstract: Mapped[str | None] = mapped_column(Text)
    keywords: Mapped[list[str] | None] = mapped_column(JSON)
    # Raw citation strings, in order: never queried one by one, so one JSON list.
    references: Mapped[list[str] | None] = mapped_column(JSON)
    journal_title: Mapped[str | None] = mapped_column(Text)
    journal_issn: Mapped[str | None] = mapped_column(String(9))
    journal_eissn: Mapped[str | None] = mapped_column(String(9))
    journal_publisher: Mapped[str | None] = mapped_column(Text)
    volume: Mapped[str | None] = mapped_column(String(64))
    issue: Mapped[str | None] = mapped_column(String(64))
    pages: Mapped[str | None] = mapped_column(String(64))
    published: Mapped[str | None] = mapped_column(String(10))
    doi: Mapped[str | None] = mapped_column(String(512))
    url: Mapped[str | None] = mapped_column(Text)
    #: the import format's ``type`` and ``version``; None: not given (the defaults apply)
    resource_type: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[str | None] = mapped_column(String(16))
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    authors: Mapped[list[Author]] = relationship(
        order_by="Author.position", cascade="all, delete-orphan", lazy="raise"
    )
    files: Mapped[list[ArticleFile]] = relationship(
        order_by="ArticleFile.position", cascade="all, delete-orphan", lazy="raise"
    )
    rights: Mapped[RightsStatement | None] = relationship(
        cascade="all, delete-orphan", lazy="raise"
    )
    memberships: Mapped[list[SetMembership]] = relationship(
        cascade="all, delete-orphan", lazy="raise"
    )

    # Keyset order plus what a List page reads: the scan never touches the wide rows.
    # Browse by year (records.browse): live records in (published, local_id) order, and the
    # live/deleted and per-year counts as scans of this narrow index alone. Sitemaps: the
    # records of a primary-key range without reading the wide rows.
    __table_args__ = (
        Index("ix_records_listing", "datestamp", "local_id", "pk", "deleted", "header_xml"),
        Index("ix_records_browse_year", "deleted", "published", "local_id"),
        Index("ix_records_sitemap", "pk", "deleted", "datestamp", "local_id"),
    )


class Author(Base):
    __tablename__ = "authors"

    record_pk: Mapped[int] = mapped_column(
        ForeignKey("records.pk", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    family: Mapped[str] = mapped_column(Text)
    given: Mapped[str | None] = mapped_column(Text)
    orcid: Mapped[str | None] = mapped_column(String(19))
    affiliation: Mapped[str | None] = mapped_column(Text)


class ArticleFile(Base):
    __tablename__ = "files"

    record_pk: Mapped[int] = mapped_column(
        ForeignKey("records.pk", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    mime_type: Mapped[str | None] = mapped_column(String(255))
    label: Mapped[str | None] = mapped_column(Text)


class RightsStatement(Base):
    """The article's rights: never the metadata's, which is repository policy."""

    __tablename__ = "rights_statements"

    record_pk: Mapped[int] = mapped_column(
        ForeignKey("records.pk", ondelete="CASCADE"), primary_key=True
    )
    license: Mapped[str | None] = mapped_column(Text)
    license_name: Mapped[str | None] = mapped_column(Text)
    statement: Mapped[str | None] = mapped_column(Text)
    holder: Mapped[str | None] = mapped_column(Text)
    year: Mapped[int | None] = mapped_column(Integer)
    access: Mapped[str] = mapped_column(String(16))
    embargo_until: Mapped[str | None] = mapped_column(String(10))


class SetMembership(Base):
    """One row per (record, set) including every ancestor of a hierarchical spec.

    ``direct`` marks the specs the record declares; only those appear in its header.
    """

    __tablename__ = "record_sets"

    record_pk: Mapped[int] = mapped_column(
        ForeignKey("records.pk", ondelete="CASCADE"), primary_key=True
    )
    set_spec: Mapped[str] = mapped_column(String(255), primary_key=True)
    direct: Mapped[bool] = mapped_column(Boolean)
    datestamp: Mapped[datetime] = mapped_column(DateTime)
    local_id: Mapped[str] = mapped_column(String(512))

    __table_args__ = (
        Index("ix_record_sets_spec_datestamp_local_id", "set_spec", "datestamp", "local_id"),
        # Browse by set (records.browse): a set's members in local_id order, and the counts.
        Index("ix_record_sets_browse", "set_spec", "local_id", "record_pk"),
    )


class OAISet(Base):
    __tablename__ = "sets"

    spec: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)


class Rendition(Base):
    """A record's metadata serialised in one format, tagged with the format's version."""

    __tablename__ = "renditions"

    record_pk: Mapped[int] = mapped_column(
        ForeignKey("records.pk", ondelete="CASCADE"), primary_key=True
    )
    prefix: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    xml: Mapped[bytes] = mapped_column(LargeBinary)


class ListTotal(Base):
    """How many rows a list has, whatever their datestamps: ``list_key`` '' for the whole
    repository, else a setSpec. Lets completeListSize count only a window's edges
    (records.list_totals); kept current by every write as it publishes."""

    __tablename__ = "list_totals"

    list_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    records: Mapped[int] = mapped_column(Integer)


class StoreSetting(Base):
    """Facts about the store itself, e.g. what its headers were rendered for."""

    __tablename__ = "store_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class HarvestSource(Base):
    """Another OAI-PMH repository ``oaipress harvest`` brings records from, and how far.

    One row per (base URL, set, metadata prefix): each is its own list with its own
    incremental ``from``. ``token`` is the resumption token of the next page of the list
    in progress, committed with the page before it (oai.harvester.harvest); times are the
    source's own strings, in its granularity, as the provenance guideline asks.
    """

    __tablename__ = "harvest_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    base_url: Mapped[str] = mapped_column(Text)
    set_spec: Mapped[str] = mapped_column(String(255), default="")  #: "" for the whole source
    prefix: Mapped[str] = mapped_column(String(64))
    #: the start of every local id harvested from it: ``{id_prefix}/{source local part}``
    id_prefix: Mapped[str] = mapped_column(String(255))
    #: responseDate of the first response of the last list harvested to its end
    last_response_date: Mapped[str | None] = mapped_column(String(32))
    token: Mapped[str | None] = mapped_column(Text)
    #: the list in progress: its ``from`` and the responseDate of its first response
    list_from: Mapped[str | None] = mapped_column(String(32))
    list_response_date: Mapped[str | None] = mapped_column(String(32))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    harvested: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_run: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index("ux_harvest_sources_list", "base_url", "set_spec", "prefix", unique=True),
    )


class HarvestedRecord(Base):
    """Where a harvested record came from, and its ``<about>`` with OAI provenance.

    ``about_xml`` is the rendered ``<about><provenance>…</provenance></about>`` the
    protocol serves beside the rights statement (oai.protocol.verbs); it is written when
    the record's content is written, so it always describes the harvest it came from.
    Keyed by local id: the protocol's rows carry it, and the lookup is one index probe.
    """

    __tablename__ = "harvested_records"

    local_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("harvest_sources.id", ondelete="CASCADE"))
    identifier: Mapped[str] = mapped_column(Text)  #: the OAI identifier at the source
    datestamp: Mapped[str] = mapped_column(String(32))  #: the source's, as it wrote it
    about_xml: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (Index("ix_harvested_records_source", "source_id"),)


class Finding(Base):
    """One problem ``oaipress check`` found in a stored record, as of its last run.

    Each run over the whole store replaces every row in one transaction and notes its time
    in ``store_settings`` (records.findings), so a record whose datestamp is later than
    that has changed since it was checked.
    """

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_pk: Mapped[int] = mapped_column(ForeignKey("records.pk", ondelete="CASCADE"))
    local_id: Mapped[str] = mapped_column(String(512))
    rule: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(Text)

    # The page's lists (records.findings): one rule's, one record's, one set's (through
    # record_sets' primary key), each in id order for keyset pages.
    __table_args__ = (
        Index("ix_findings_rule", "rule", "id"),
        Index("ix_findings_local_id", "local_id", "id"),
        Index("ix_findings_record_pk", "record_pk", "id"),
    )
