"""users: email_verified_at, reset_serial (password reset links)

Revision ID: b5e2d7c4a9f1
Revises: a7c4e2b9d1f5
Create Date: 2026-12-03 09:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = "b5e2d7c4a9f1"
down_revision = "a7c4e2b9d1f5"
branch_labels = None
depends_on = None


def upgrade():
    # Accounts made before verification existed stay unverified: their owners prove the
    # address once (the banner's "send the link again") before a new project or a payout.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_verified_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("reset_serial", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("reset_serial")
        batch_op.drop_column("email_verified_at")
