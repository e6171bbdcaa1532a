"""project_revisions: changes to a live project's words, cover and tiers

Revision ID: a7d4e9f1b3c5
Revises: f3a8c2d9e4b1
Create Date: 2026-12-02 14:45:00

"""
from alembic import op
import sqlalchemy as sa

from app.db_types import UTCDateTime


revision = "a7d4e9f1b3c5"
down_revision = "f3a8c2d9e4b1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "project_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("tier_id", sa.Integer(), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=False),
        sa.Column("new_value", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("reverted_at", UTCDateTime(), nullable=True),
        sa.Column("reverted_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["editor_id"], ["users.id"], name=op.f("fk_project_revisions_editor_id_users")),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_project_revisions_project_id_projects")),
        sa.ForeignKeyConstraint(["reverted_by_id"], ["users.id"], name=op.f("fk_project_revisions_reverted_by_id_users")),
        sa.ForeignKeyConstraint(["tier_id"], ["reward_tiers.id"], name=op.f("fk_project_revisions_tier_id_reward_tiers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_revisions")),
    )
    with op.batch_alter_table("project_revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_revisions_project_id"), ["project_id"], unique=False)


def downgrade():
    with op.batch_alter_table("project_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_revisions_project_id"))
    op.drop_table("project_revisions")
