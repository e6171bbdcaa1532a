"""faq_entries and project_questions: a project's FAQ and the questions asked privately

Revision ID: f3a8c2d9e4b1
Revises: e1c7a9b4d2f6
Create Date: 2026-12-02 14:30:00

"""
from alembic import op
import sqlalchemy as sa

from app.db_types import UTCDateTime


revision = "f3a8c2d9e4b1"
down_revision = "e1c7a9b4d2f6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "faq_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_faq_entries_project_id_projects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_entries")),
    )
    with op.batch_alter_table("faq_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_faq_entries_project_id"), ["project_id"], unique=False)
    op.create_table(
        "project_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("asker_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("faq_entry_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["asker_id"], ["users.id"], name=op.f("fk_project_questions_asker_id_users")),
        sa.ForeignKeyConstraint(["faq_entry_id"], ["faq_entries.id"], name=op.f("fk_project_questions_faq_entry_id_faq_entries")),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_project_questions_project_id_projects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_questions")),
    )
    with op.batch_alter_table("project_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_questions_asker_id"), ["asker_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_project_questions_project_id"), ["project_id"], unique=False)


def downgrade():
    with op.batch_alter_table("project_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_questions_project_id"))
        batch_op.drop_index(batch_op.f("ix_project_questions_asker_id"))
    op.drop_table("project_questions")
    with op.batch_alter_table("faq_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_entries_project_id"))
    op.drop_table("faq_entries")
