"""pledge version and attention, project settlement hold

Revision ID: 4f1c2a9b7d10
Revises: efde95513618
Create Date: 2026-12-01 21:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4f1c2a9b7d10'
down_revision = 'efde95513618'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('attention', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('settlement_hold', sa.Text(), server_default='', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('settlement_hold')
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_column('attention')
        batch_op.drop_column('version')
