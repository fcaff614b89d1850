"""Tables for harvesting other repositories (oaipress harvest, issue 12).

* ``harvest_sources``: one row per harvested list (base URL, set, prefix) with its
  incremental ``from``, the resumption token of a list in progress, counts, last error;
* ``harvested_records``: per harvested record, its source identifier and datestamp and
  the rendered ``<about>`` carrying its OAI provenance.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "harvest_sources",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("base_url", sa.Text(), nullable=False),
        sa.Column("set_spec", sa.String(255), nullable=False),
        sa.Column("prefix", sa.String(64), nullable=False),
        sa.Column("id_prefix", sa.String(255), nullable=False),
        sa.Column("last_response_date", sa.String(32), nullable=True),
        sa.Column("token", sa.Text(), nullable=True),
        sa.Column("list_from", sa.String(32), nullable=True),
        sa.Column("list_response_date", sa.String(32), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("harvested", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_run", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ux_harvest_sources_list",
        "harvest_sources",
        ["base_url", "set_spec", "prefix"],
        unique=True,
    )
    op.create_table(
        "harvested_records",
        sa.Column("local_id", sa.String(512), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.Text(), nullable=False),
        sa.Column("datestamp", sa.String(32), nullable=False),
        sa.Column("about_xml", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["harvest_sources.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("local_id"),
    )
    op.create_index("ix_harvested_records_source", "harvested_records", ["source_id"])


def downgrade() -> None:
    op.drop_index("ix_harvested_records_source", table_name="harvested_records")
    op.drop_table("harvested_records")
    op.drop_index("ux_harvest_sources_list", table_name="harvest_sources")
    op.drop_table("harvest_sources")
