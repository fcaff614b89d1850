"""What a record is: its COAR resource type and its version (issue 7).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no default): no table rewrite on either backend.
    op.add_column("records", sa.Column("resource_type", sa.String(64), nullable=True))
    op.add_column("records", sa.Column("version", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.drop_column("version")
        batch.drop_column("resource_type")
