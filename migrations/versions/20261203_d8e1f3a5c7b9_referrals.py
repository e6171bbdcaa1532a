"""referrals: creators' referral tags per project; each pledge's tag and referring host

Revision ID: d8e1f3a5c7b9
Revises: b5e2d7c4a9f1
Create Date: 2026-12-03 16:00:00

"""
from alembic import op
import sqlalchemy as sa

from app.db_types import UTCDateTime


revision = "d8e1f3a5c7b9"
down_revision = "b5e2d7c4a9f1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "referral_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name="fk_referral_tags_project_id_projects"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_referral_tags"),
        sa.UniqueConstraint("project_id", "tag", name="uq_referral_tags_project_id"),
    )
    with op.batch_alter_table("referral_tags", schema=None) as batch_op:
        batch_op.create_index("ix_referral_tags_project_id", ["project_id"], unique=False)
    # Pledges made before referrals existed have no known source: both stay NULL.
    with op.batch_alter_table("pledges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ref_tag", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("referrer_host", sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table("pledges", schema=None) as batch_op:
        batch_op.drop_column("referrer_host")
        batch_op.drop_column("ref_tag")
    with op.batch_alter_table("referral_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_tags_project_id")
    op.drop_table("referral_tags")
