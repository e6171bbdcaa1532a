"""shipments: fulfilment of collected pledges (shipped, tracking, received, problem)

Revision ID: e9b4c2d6f8a1
Revises: d4f8a2c6e1b3
Create Date: 2026-12-03 16:00:00

"""
from alembic import op
import sqlalchemy as sa

from app.db_types import UTCDateTime


revision = "e9b4c2d6f8a1"
down_revision = "d4f8a2c6e1b3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("shipped_at", UTCDateTime(), nullable=False),
        sa.Column("tracking_number", sa.String(length=100), nullable=False),
        sa.Column("marked_by_id", sa.Integer(), nullable=True),
        sa.Column("notice", sa.Integer(), server_default="1", nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=True),
        sa.Column("problem", sa.Text(), server_default="", nullable=False),
        sa.Column("problem_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["marked_by_id"], ["users.id"], name=op.f("fk_shipments_marked_by_id_users")),
        sa.ForeignKeyConstraint(["pledge_id"], ["pledges.id"], name=op.f("fk_shipments_pledge_id_pledges")),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_shipments_project_id_projects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("pledge_id", name=op.f("uq_shipments_pledge_id")),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index("ix_shipments_project_received", ["project_id", "received_at"], unique=False)


def downgrade():
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index("ix_shipments_project_received")
    op.drop_table("shipments")
