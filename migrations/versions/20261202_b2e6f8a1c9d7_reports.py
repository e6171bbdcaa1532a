"""reports: what signed-in people report to the moderators, and the decisions

Revision ID: b2e6f8a1c9d7
Revises: a7d4e9f1b3c5
Create Date: 2026-12-02 15:00:00

"""
from alembic import op
import sqlalchemy as sa

from app.db_types import UTCDateTime


revision = "b2e6f8a1c9d7"
down_revision = "a7d4e9f1b3c5"
branch_labels = None
depends_on = None

REASONS = ("fraud", "prohibited", "intellectual_property", "offensive", "spam", "other")
STATUSES = ("open", "dismissed", "acted_on")


def upgrade():
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("target_type", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Enum(*REASONS, name="report_reason"), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("status", sa.Enum(*STATUSES, name="report_status"), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"], name=op.f("fk_reports_decided_by_id_users")),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_reports_project_id_projects")),
        sa.ForeignKeyConstraint(["reporter_id"], ["users.id"], name=op.f("fk_reports_reporter_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reports_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reports_reporter_id"), ["reporter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reports_status"), ["status"], unique=False)


def downgrade():
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reports_status"))
        batch_op.drop_index(batch_op.f("ix_reports_reporter_id"))
        batch_op.drop_index(batch_op.f("ix_reports_project_id"))
    op.drop_table("reports")
    sa.Enum(name="report_status").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="report_reason").drop(op.get_bind(), checkfirst=True)
