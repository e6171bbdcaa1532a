"""processing fees: what Stripe kept of each payment, and the part of a payout they take

Revision ID: c3f9a1e7b2d4
Revises: 8411f47d5d70
Create Date: 2026-12-04 22:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3f9a1e7b2d4'
down_revision = '8411f47d5d70'
branch_labels = None
depends_on = None

FEE_UNREAD = sa.text("status = 'succeeded' AND processing_fee IS NULL")
OLD_SPLIT = "fee >= 0 AND net >= 0 AND fee + net = gross"
NEW_SPLIT = "fee >= 0 AND processing_fee >= 0 AND net >= 0 AND fee + processing_fee + net = gross"


def upgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('processing_fee', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('stripe_balance_transaction_id', sa.String(length=255), nullable=True))
    op.create_index(
        'ix_payments_fee_unread', 'payments', ['id'], unique=False,
        sqlite_where=FEE_UNREAD, postgresql_where=FEE_UNREAD,
    )
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('processing_fee', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.drop_constraint(batch_op.f('ck_payouts_split_adds_up'), type_='check')
        batch_op.create_check_constraint('split_adds_up', sa.text(NEW_SPLIT))


def downgrade():
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_payouts_split_adds_up'), type_='check')
        batch_op.create_check_constraint('split_adds_up', sa.text(OLD_SPLIT))
        batch_op.drop_column('processing_fee')
    op.drop_index('ix_payments_fee_unread', table_name='payments')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('stripe_balance_transaction_id')
        batch_op.drop_column('processing_fee')
