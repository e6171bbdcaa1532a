"""refund status processing: accepted by Stripe as pending, not booked yet

Revision ID: 7a3e5c1d9b20
Revises: 4f1c2a9b7d10
Create Date: 2026-12-01 22:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a3e5c1d9b20'
down_revision = '4f1c2a9b7d10'
branch_labels = None
depends_on = None

OLD = ('pending', 'succeeded', 'failed')
NEW = ('pending', 'processing', 'succeeded', 'failed')


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TYPE refund_status ADD VALUE IF NOT EXISTS 'processing' AFTER 'pending'")
    else:
        with op.batch_alter_table('refunds', schema=None) as batch_op:
            batch_op.alter_column(
                'status',
                existing_type=sa.Enum(*OLD, name='refund_status'),
                type_=sa.Enum(*NEW, name='refund_status'),
                existing_nullable=False,
            )


def downgrade():
    # Refunds pending at Stripe go back to the sweep's queue; PostgreSQL keeps the enum value.
    op.execute("UPDATE refunds SET status = 'pending' WHERE status = 'processing'")
    if op.get_bind().dialect.name != 'postgresql':
        with op.batch_alter_table('refunds', schema=None) as batch_op:
            batch_op.alter_column(
                'status',
                existing_type=sa.Enum(*NEW, name='refund_status'),
                type_=sa.Enum(*OLD, name='refund_status'),
                existing_nullable=False,
            )
