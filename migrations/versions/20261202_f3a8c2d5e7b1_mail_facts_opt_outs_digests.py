"""mail: outbox.data (the facts of a news), mail_opt_outs (kinds of mail a user turned off),
mail_digests (the period each digest covered, once per user, kind and end)

Revision ID: f3a8c2d5e7b1
Revises: c8f1a3d5e7b9
Create Date: 2026-12-02 14:45:00
"""

from alembic import op
import sqlalchemy as sa


revision = "f3a8c2d5e7b1"
down_revision = "c8f1a3d5e7b9"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("data", sa.JSON(), nullable=True))
    op.create_table(
        "mail_opt_outs",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mail_opt_outs_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "topic", name=op.f("pk_mail_opt_outs")),
    )
    op.create_table(
        "mail_digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("period_start", sa.DateTime(), nullable=False),
        sa.Column("period_end", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mail_digests_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_digests")),
        sa.UniqueConstraint(
            "user_id", "kind", "period_end", name=op.f("uq_mail_digests_user_id")
        ),
    )


def downgrade():
    op.drop_table("mail_digests")
    op.drop_table("mail_opt_outs")
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("data")
