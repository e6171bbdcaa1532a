"""connected accounts: what Stripe still asks for, checks, and why the account is disabled

Revision ID: b5d2e8f4a610
Revises: 7c3e5a1d2b90
Create Date: 2026-12-02 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5d2e8f4a610'
down_revision = '7c3e5a1d2b90'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('connected_accounts', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('requirements_due', sa.JSON(), nullable=False, server_default='[]')
        )
        batch_op.add_column(
            sa.Column('pending_verification', sa.JSON(), nullable=False, server_default='[]')
        )
        batch_op.add_column(
            sa.Column('disabled_reason', sa.String(length=100), nullable=False, server_default='')
        )
        batch_op.add_column(
            sa.Column('capabilities', sa.JSON(), nullable=False, server_default='{}')
        )


def downgrade():
    with op.batch_alter_table('connected_accounts', schema=None) as batch_op:
        batch_op.drop_column('capabilities')
        batch_op.drop_column('disabled_reason')
        batch_op.drop_column('pending_verification')
        batch_op.drop_column('requirements_due')
