"""Indexes for the browse pages, the home page's counts and the sitemaps (issue 8).

* ``ix_records_browse_year`` (deleted, published, local_id): live records of one year in
  publication order, and the live, deleted and per-year counts, without reading the rows;
* ``ix_record_sets_browse`` (set_spec, local_id, record_pk): one set's members in local_id
  order (keyset pages), and the members per set;
* ``ix_records_sitemap`` (pk, deleted, datestamp, local_id): a sitemap's primary-key range
  and its lastmod without reading the wide rows (abstracts, references, headers).

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_records_browse_year", "records", ["deleted", "published", "local_id"], unique=False
    )
    op.create_index(
        "ix_record_sets_browse", "record_sets", ["set_spec", "local_id", "record_pk"], unique=False
    )
    op.create_index(
        "ix_records_sitemap", "records", ["pk", "deleted", "datestamp", "local_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_records_sitemap", table_name="records")
    op.drop_index("ix_record_sets_browse", table_name="record_sets")
    op.drop_index("ix_records_browse_year", table_name="records")
