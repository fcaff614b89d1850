"""Tables for the record checker's findings (oaipress check, issue 12).

``findings``: one row per problem of a stored record, replaced whole by each run of
``oaipress check`` over the store; the run's time is a ``store_settings`` row.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("record_pk", sa.Integer(), nullable=False),
        sa.Column("local_id", sa.String(length=512), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["record_pk"], ["records.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_findings_rule", "findings", ["rule", "id"], unique=False)
    op.create_index("ix_findings_local_id", "findings", ["local_id", "id"], unique=False)
    op.create_index("ix_findings_record_pk", "findings", ["record_pk", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_findings_record_pk", table_name="findings")
    op.drop_index("ix_findings_local_id", table_name="findings")
    op.drop_index("ix_findings_rule", table_name="findings")
    op.drop_table("findings")
