"""funding series: each project's pledged total and backers by hour, kept as pledges move

Revision ID: c1d2e3f4a5b6
Revises: bbf721d485da
Create Date: 2026-12-03 12:00:00

"""
from alembic import op
import sqlalchemy as sa

from app.db_types import UTCDateTime


revision = "c1d2e3f4a5b6"
down_revision = "bbf721d485da"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "funding_series",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("hour", UTCDateTime(), nullable=False),
        sa.Column("pledged", sa.BigInteger(), nullable=False),
        sa.Column("backers", sa.Integer(), nullable=False),
        sa.Column("new_pledges", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.PrimaryKeyConstraint("project_id", "hour"),
    )
    # Projects pledged to before the series existed start with one point: their totals at the
    # hour of their latest pledge (the history before it is not known).
    op.execute(
        """
        INSERT INTO funding_series (project_id, hour, pledged, backers, new_pledges, changed,
                                    cancelled)
        SELECT p.id, (SELECT max(pl.created_at) FROM pledges pl WHERE pl.project_id = p.id),
               p.pledged_amount, p.backer_count, p.backer_count, 0, 0
        FROM projects p
        WHERE p.backer_count > 0
        """
    )


def downgrade():
    op.drop_table("funding_series")
