"""comments: on a project (and later an update), one level of replies; reports on comments

Revision ID: bbf721d485da
Revises: a4c6e8f0b2d4
Create Date: 2026-12-03 07:30:00

"""
from alembic import op
import sqlalchemy as sa

from app.db_types import UTCDateTime


revision = "bbf721d485da"
down_revision = "a4c6e8f0b2d4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        # The foreign key to updates.id is added with the updates table.
        sa.Column("update_id", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("edited_at", UTCDateTime(), nullable=True),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.Column("hidden_at", UTCDateTime(), nullable=True),
        sa.Column(
            "hidden_by", sa.Enum("creator", "moderator", name="comment_hidden_by"), nullable=True
        ),
        sa.Column("hidden_by_id", sa.Integer(), nullable=True),
        sa.Column("hidden_reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_comments_author_id_users")),
        sa.ForeignKeyConstraint(["hidden_by_id"], ["users.id"], name=op.f("fk_comments_hidden_by_id_users")),
        sa.ForeignKeyConstraint(["parent_id"], ["comments.id"], name=op.f("fk_comments_parent_id_comments")),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_comments_project_id_projects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comments_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_comments_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(
            "ix_comments_thread", ["project_id", "update_id", "parent_id", "id"], unique=False
        )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("comment_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_reports_comment_id"), ["comment_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_reports_comment_id_comments"), "comments", ["comment_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_reports_comment_id_comments"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_reports_comment_id"))
        batch_op.drop_column("comment_id")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index("ix_comments_thread")
        batch_op.drop_index(batch_op.f("ix_comments_parent_id"))
        batch_op.drop_index(batch_op.f("ix_comments_author_id"))
    op.drop_table("comments")
    sa.Enum(name="comment_hidden_by").drop(op.get_bind(), checkfirst=True)
