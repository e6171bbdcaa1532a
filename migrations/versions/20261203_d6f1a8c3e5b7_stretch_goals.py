"""stretch goals: amounts above a project's goal, with a title, a description and when reached

Revision ID: d6f1a8c3e5b7
Revises: d8e1f3a5c7b9
Create Date: 2026-12-03 16:00:00

"""
from alembic import op
import sqlalchemy as sa

from app.db_types import UTCDateTime


revision = "d6f1a8c3e5b7"
down_revision = "d8e1f3a5c7b9"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stretch_goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reached_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_stretch_goals_amount_positive")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_stretch_goals_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stretch_goals")),
        sa.UniqueConstraint("project_id", "amount", name=op.f("uq_stretch_goals_project_id")),
    )
    with op.batch_alter_table("stretch_goals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stretch_goals_project_id"), ["project_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("stretch_goals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stretch_goals_project_id"))
    op.drop_table("stretch_goals")
