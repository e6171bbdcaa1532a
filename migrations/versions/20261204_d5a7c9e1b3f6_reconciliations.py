"""reconciliations: each scheduled check of an ended project's books against Stripe

Revision ID: d5a7c9e1b3f6
Revises: c3f9a1e7b2d4
Create Date: 2026-12-04 22:50:00

"""
from alembic import op
import sqlalchemy as sa

from app.db_types import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'd5a7c9e1b3f6'
down_revision = 'c3f9a1e7b2d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reconciliations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('checked_at', UTCDateTime(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('differences', sa.Text(), nullable=False),
    sa.Column('transactions', sa.Integer(), nullable=False),
    sa.Column('chain_head', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_reconciliations_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliations'))
    )
    op.create_index('ix_reconciliations_project_checked', 'reconciliations', ['project_id', 'checked_at'], unique=False)


def downgrade():
    op.drop_index('ix_reconciliations_project_checked', table_name='reconciliations')
    op.drop_table('reconciliations')
