"""shipping by destination: tier_shipping_rules, projects.country; reward_tiers.shipping_fee
becomes one 'world' rule with that fee and is dropped (the rules are the one source)

Revision ID: d4f8a2c6e1b3
Revises: d7a3c9e1f2b4
Create Date: 2026-12-03 15:55:00

"""
from alembic import op
import sqlalchemy as sa


revision = "d4f8a2c6e1b3"
down_revision = "d7a3c9e1f2b4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tier_shipping_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tier_id", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(length=16), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("fee >= 0", name=op.f("ck_tier_shipping_rules_fee_not_negative")),
        sa.ForeignKeyConstraint(
            ["tier_id"],
            ["reward_tiers.id"],
            name=op.f("fk_tier_shipping_rules_tier_id_reward_tiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tier_shipping_rules")),
        sa.UniqueConstraint(
            "tier_id", "destination", name=op.f("uq_tier_shipping_rules_tier_id")
        ),
    )
    with op.batch_alter_table("tier_shipping_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tier_shipping_rules_tier_id"), ["tier_id"], unique=False
        )
    # A flat fee shipped everywhere: one 'world' rule with that fee.
    op.execute(
        "INSERT INTO tier_shipping_rules (tier_id, destination, fee)"
        " SELECT id, 'world', shipping_fee FROM reward_tiers WHERE shipping_fee IS NOT NULL"
    )
    with op.batch_alter_table("reward_tiers", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_reward_tiers_shipping_not_negative"), type_="check")
        batch_op.drop_column("shipping_fee")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=True))


def downgrade():
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("country")
    with op.batch_alter_table("reward_tiers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shipping_fee", sa.BigInteger(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_reward_tiers_shipping_not_negative"), "shipping_fee IS NULL OR shipping_fee >= 0"
        )
    # Back to one flat fee: the dearest rule, so no destination gets cheaper.
    op.execute(
        "UPDATE reward_tiers SET shipping_fee = (SELECT MAX(fee) FROM tier_shipping_rules"
        " WHERE tier_shipping_rules.tier_id = reward_tiers.id)"
    )
    with op.batch_alter_table("tier_shipping_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tier_shipping_rules_tier_id"))
    op.drop_table("tier_shipping_rules")
