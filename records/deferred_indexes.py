"""Building the listing indexes after the rows when an import fills an empty store.

Inserting a million rows into five secondary indexes keyed on random values (datestamps,
local ids, set specs) costs a page lookup per row and index, and once an index outgrows
the cache, a read and a write of the disk as well; building each index once, from rows
already written, is one sort. Only when the store is empty, so nobody is reading an
index whose absence would make a query slow, and always inside the import's own
transaction: SQLite and PostgreSQL both roll DDL back, so an import that fails or is
killed leaves the indexes exactly as they were.

On SQLite, readers go on reading the snapshot they started with, indexes included. On
PostgreSQL ``DROP INDEX`` locks the table until the commit: a request reading the
records of an empty store waits for the first import to finish (it would have found
nothing anyway).

Only indexes that make queries fast are deferred, never one that enforces something
(primary keys, ``UNIQUE``): those keep checking every row as it is written.
"""

from __future__ import annotations

from sqlalchemy import Connection, exists, select

from records.models import Record, SetMembership

#: the tables whose secondary indexes an import into an empty store builds last
TABLES = (Record.__table__.name, SetMembership.__table__.name)


def defer_if_empty(connection: Connection) -> list[tuple[str, str]]:
    """Drop the listing indexes if the store has no record yet; return how to rebuild them.

    Returns ``(name, CREATE INDEX statement)`` pairs, as the database itself describes the
    indexes it has (migrations included), or an empty list when nothing was dropped.
    """
    if connection.dialect.name == "sqlite":
        _begin_sqlite_transaction(connection)
    if connection.scalar(select(exists().select_from(Record))):
        return []
    indexes = _secondary_indexes(connection)
    for name, _ in indexes:
        connection.exec_driver_sql(
            f"DROP INDEX {connection.dialect.identifier_preparer.quote(name)}"
        )
    return indexes


def rebuild(connection: Connection, indexes: list[tuple[str, str]]) -> None:
    """Create again the indexes :func:`defer_if_empty` dropped, in the same transaction."""
    if connection.dialect.name == "postgresql" and indexes:
        # One sort per index: let it use memory rather than temporary files.
        connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
    for _, create in indexes:
        connection.exec_driver_sql(create)


def _secondary_indexes(connection: Connection) -> list[tuple[str, str]]:
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({', '.join('?' * len(TABLES))}) ORDER BY name",
            TABLES,
        )
        return [(name, sql) for name, sql in rows if not sql.upper().startswith("CREATE UNIQUE")]
    rows = connection.exec_driver_sql(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
        "WHERE t.relname = ANY(%s) AND t.relnamespace = current_schema()::regnamespace "
        "AND NOT i.indisunique AND NOT i.indisprimary ORDER BY c.relname",
        (list(TABLES),),
    )
    return [(name, sql) for name, sql in rows]


def _begin_sqlite_transaction(connection: Connection) -> None:
    """Make sure the DROP INDEX runs inside the import's transaction.

    Python's sqlite3 opens a transaction only before INSERT, UPDATE or DELETE: DDL run
    first would be committed at once, and a failed import would leave the store without
    its indexes. ``BEGIN IMMEDIATE`` also takes the write lock now, so no other writer
    can add records between the emptiness check and the import's own rows.
    """
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is not None and not dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
