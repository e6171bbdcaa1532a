"""users.locale: the language the user chose for pages and e-mails

Revision ID: d8b3f6a2c9e1
Revises: c4a9d1e7f3b2
Create Date: 2026-12-02 06:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = "d8b3f6a2c9e1"
down_revision = "c4a9d1e7f3b2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("locale")
