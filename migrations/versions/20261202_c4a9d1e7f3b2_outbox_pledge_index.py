"""outbox: index on pledge_id, so messages about one pledge are sent in written order

Revision ID: c4a9d1e7f3b2
Revises: b5d2e8f4a610
Create Date: 2026-12-02
"""

from alembic import op

revision = "c4a9d1e7f3b2"
down_revision = "b5d2e8f4a610"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.create_index("ix_outbox_pledge_id", ["pledge_id"], unique=False)


def downgrade():
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_index("ix_outbox_pledge_id")
