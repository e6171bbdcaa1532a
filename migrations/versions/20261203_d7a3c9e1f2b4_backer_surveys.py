"""backer surveys: a funded project's survey, its questions, and one response per pledge asked

Revision ID: d7a3c9e1f2b4
Revises: d6f1a8c3e5b7
Create Date: 2026-12-03 16:00:00

"""
from alembic import op
import sqlalchemy as sa

from app.db_types import UTCDateTime


revision = "d7a3c9e1f2b4"
down_revision = "d6f1a8c3e5b7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column(
            "status", sa.Enum("draft", "sent", "locked", name="survey_status"), nullable=False
        ),
        sa.Column("asks_address", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("locked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_surveys_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("project_id", name=op.f("uq_surveys_project_id")),
    )
    op.create_table(
        "survey_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "kind", sa.Enum("line", "long", "choice", name="survey_question_kind"), nullable=False
        ),
        sa.Column("prompt", sa.String(length=300), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("tier_ids", sa.JSON(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_questions_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_questions")),
    )
    op.create_index(
        op.f("ix_survey_questions_survey_id"), "survey_questions", ["survey_id"], unique=False
    )
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("backer_id", sa.Integer(), nullable=False),
        sa.Column("asked_at", UTCDateTime(), nullable=False),
        sa.Column("reminded_2_at", UTCDateTime(), nullable=True),
        sa.Column("reminded_7_at", UTCDateTime(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("changed_at", UTCDateTime(), nullable=True),
        sa.Column("address", sa.JSON(), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("erased_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["backer_id"], ["users.id"], name=op.f("fk_survey_responses_backer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["pledge_id"], ["pledges.id"], name=op.f("fk_survey_responses_pledge_id_pledges")
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_responses_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint(
            "survey_id", "pledge_id", name=op.f("uq_survey_responses_survey_id")
        ),
    )
    op.create_index(
        op.f("ix_survey_responses_backer_id"), "survey_responses", ["backer_id"], unique=False
    )
    op.create_index(
        op.f("ix_survey_responses_pledge_id"), "survey_responses", ["pledge_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_survey_responses_pledge_id"), table_name="survey_responses")
    op.drop_index(op.f("ix_survey_responses_backer_id"), table_name="survey_responses")
    op.drop_table("survey_responses")
    op.drop_index(op.f("ix_survey_questions_survey_id"), table_name="survey_questions")
    op.drop_table("survey_questions")
    op.drop_table("surveys")
    sa.Enum(name="survey_question_kind").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="survey_status").drop(op.get_bind(), checkfirst=True)
