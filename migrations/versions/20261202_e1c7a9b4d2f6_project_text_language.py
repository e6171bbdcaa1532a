"""projects.text_language: the language the creator writes the project's own text in

Revision ID: e1c7a9b4d2f6
Revises: d8b3f6a2c9e1
Create Date: 2026-12-02 07:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = "e1c7a9b4d2f6"
down_revision = "d8b3f6a2c9e1"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("text_language", sa.String(length=16), nullable=False, server_default="en")
        )


def downgrade():
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("text_language")
