"""A covering index for List pages: (datestamp, local_id) plus pk, deleted and the header.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_records_listing",
        "records",
        ["datestamp", "local_id", "pk", "deleted", "header_xml"],
        unique=False,
    )
    op.drop_index("ix_records_datestamp_local_id", table_name="records")


def downgrade() -> None:
    op.create_index(
        "ix_records_datestamp_local_id", "records", ["datestamp", "local_id"], unique=False
    )
    op.drop_index("ix_records_listing", table_name="records")
