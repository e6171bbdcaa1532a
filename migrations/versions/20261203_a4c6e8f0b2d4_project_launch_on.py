"""projects.launch_on: the day the creator of an approved project plans to launch it

Revision ID: a4c6e8f0b2d4
Revises: 9d4b7e2a1c63
Create Date: 2026-12-03 07:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = "a4c6e8f0b2d4"
down_revision = "9d4b7e2a1c63"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("launch_on", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("launch_on")
