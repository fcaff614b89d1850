"""Stored list totals, so completeListSize counts a window's edges, not the list (issue 9).

``list_totals`` (list_key '' for every record, else a setSpec; records): how many rows
each list holds whatever their datestamps (records.list_totals). Filled here from the
existing rows; every write keeps it current as it publishes (records.stamping).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "list_totals",
        sa.Column("list_key", sa.String(255), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("list_key"),
    )
    op.execute(
        "INSERT INTO list_totals (list_key, records) "
        "SELECT '', count(*) FROM records "
        "UNION ALL SELECT set_spec, count(*) FROM record_sets GROUP BY set_spec"
    )


def downgrade() -> None:
    op.drop_table("list_totals")
