"""addons: extras a pledge adds (addons, their shipping rules, the lines of pledges and payments)

Revision ID: 8411f47d5d70
Revises: e9b4c2d6f8a1
Create Date: 2026-12-04 04:08:21.677276

"""
from alembic import op
import sqlalchemy as sa

from app.db_types import UTCDateTime


# revision identifiers, used by Alembic.
revision = '8411f47d5d70'
down_revision = 'e9b4c2d6f8a1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('addons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('quantity_limit', sa.Integer(), nullable=True),
    sa.Column('claimed', sa.Integer(), nullable=False),
    sa.Column('is_closed', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint('claimed >= 0', name=op.f('ck_addons_claimed_not_negative')),
    sa.CheckConstraint('price > 0', name=op.f('ck_addons_price_positive')),
    sa.CheckConstraint('quantity_limit IS NULL OR claimed <= quantity_limit', name=op.f('ck_addons_claimed_within_limit')),
    sa.CheckConstraint('quantity_limit IS NULL OR quantity_limit > 0', name=op.f('ck_addons_limit_positive')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_addons_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_addons'))
    )
    with op.batch_alter_table('addons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_addons_project_id'), ['project_id'], unique=False)

    op.create_table('addon_shipping_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('addon_id', sa.Integer(), nullable=False),
    sa.Column('destination', sa.String(length=16), nullable=False),
    sa.Column('fee', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('fee >= 0', name=op.f('ck_addon_shipping_rules_fee_not_negative')),
    sa.ForeignKeyConstraint(['addon_id'], ['addons.id'], name=op.f('fk_addon_shipping_rules_addon_id_addons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_addon_shipping_rules')),
    sa.UniqueConstraint('addon_id', 'destination', name=op.f('uq_addon_shipping_rules_addon_id'))
    )
    with op.batch_alter_table('addon_shipping_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_addon_shipping_rules_addon_id'), ['addon_id'], unique=False)

    op.create_table('pledge_addons',
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('addon_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('shipping_fee', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_pledge_addons_quantity_positive')),
    sa.ForeignKeyConstraint(['addon_id'], ['addons.id'], name=op.f('fk_pledge_addons_addon_id_addons')),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_pledge_addons_pledge_id_pledges')),
    sa.PrimaryKeyConstraint('pledge_id', 'addon_id', name=op.f('pk_pledge_addons'))
    )
    with op.batch_alter_table('pledge_addons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pledge_addons_addon_id'), ['addon_id'], unique=False)

    op.create_table('payment_addons',
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('addon_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('shipping_fee', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_payment_addons_quantity_positive')),
    sa.ForeignKeyConstraint(['addon_id'], ['addons.id'], name=op.f('fk_payment_addons_addon_id_addons')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_addons_payment_id_payments')),
    sa.PrimaryKeyConstraint('payment_id', 'addon_id', name=op.f('pk_payment_addons'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_addons_amount', sa.BigInteger(), server_default='0', nullable=False))

    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('addons_amount', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.create_check_constraint('addons_not_negative', 'addons_amount >= 0')



def downgrade():
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_constraint('addons_not_negative', type_='check')
        batch_op.drop_column('addons_amount')

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('target_addons_amount')

    op.drop_table('payment_addons')
    with op.batch_alter_table('pledge_addons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pledge_addons_addon_id'))

    op.drop_table('pledge_addons')
    with op.batch_alter_table('addon_shipping_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_addon_shipping_rules_addon_id'))

    op.drop_table('addon_shipping_rules')
    with op.batch_alter_table('addons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_addons_project_id'))

    op.drop_table('addons')
