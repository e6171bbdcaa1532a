"""follows: projects people saved ("Remind me"), and which reminders went

Revision ID: c8f1a3d5e7b9
Revises: b2e6f8a1c9d7
Create Date: 2026-12-02 15:10:00

"""
from alembic import op
import sqlalchemy as sa

from app.db_types import UTCDateTime


revision = "c8f1a3d5e7b9"
down_revision = "b2e6f8a1c9d7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "follows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("launch_mailed_at", UTCDateTime(), nullable=True),
        sa.Column("reminder_mailed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_follows_project_id_projects")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_follows_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follows")),
        sa.UniqueConstraint("user_id", "project_id", name=op.f("uq_follows_user_id")),
    )
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follows_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_follows_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follows_user_id"))
        batch_op.drop_index(batch_op.f("ix_follows_project_id"))
    op.drop_table("follows")
