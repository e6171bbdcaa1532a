"""users: a public profile (bio, location, website, avatar), a time zone, deleted_at

Revision ID: 9d4b7e2a1c63
Revises: f3a8c2d1b7e4
Create Date: 2026-12-02 18:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = "9d4b7e2a1c63"
down_revision = "f3a8c2d1b7e4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bio", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("location", sa.String(length=80), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("website", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("avatar_image", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("timezone")
        batch_op.drop_column("avatar_image")
        batch_op.drop_column("website")
        batch_op.drop_column("location")
        batch_op.drop_column("bio")
