"""updates: a creator's numbered updates to a launched project, comments on them, reports of them

Revision ID: a7c4e2b9d1f5
Revises: c1d2e3f4a5b6
Create Date: 2026-12-03 09:10:00

"""
from alembic import op
import sqlalchemy as sa

from app.db_types import UTCDateTime


revision = "a7c4e2b9d1f5"
down_revision = "c1d2e3f4a5b6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("image", sa.String(length=40), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.Column("edited_at", UTCDateTime(), nullable=True),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.Column("deleted_by_id", sa.Integer(), nullable=True),
        sa.Column("delete_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_updates_author_id_users")),
        sa.ForeignKeyConstraint(["deleted_by_id"], ["users.id"], name=op.f("fk_updates_deleted_by_id_users")),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_updates_project_id_projects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_updates")),
        sa.UniqueConstraint("project_id", "number", name=op.f("uq_updates_project_id")),
    )
    with op.batch_alter_table("updates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_updates_project_id"), ["project_id"], unique=False)
    # Comments had their update_id column before there were updates: now its foreign key.
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_comments_update_id_updates"), "updates", ["update_id"], ["id"]
        )
    # A report may be about an update (target_type "update", target_id = update_id).
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("update_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_reports_update_id"), ["update_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_reports_update_id_updates"), "updates", ["update_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_reports_update_id_updates"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_reports_update_id"))
        batch_op.drop_column("update_id")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_comments_update_id_updates"), type_="foreignkey")
    with op.batch_alter_table("updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_updates_project_id"))
    op.drop_table("updates")
