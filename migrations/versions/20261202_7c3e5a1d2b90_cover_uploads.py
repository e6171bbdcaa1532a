"""cover uploads, counted for the per-account quota

Revision ID: 7c3e5a1d2b90
Revises: 7a3e5c1d9b20
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c3e5a1d2b90'
down_revision = '7a3e5c1d9b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'cover_uploads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_cover_uploads_user_id_users')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cover_uploads')),
    )
    with op.batch_alter_table('cover_uploads', schema=None) as batch_op:
        batch_op.create_index(
            'ix_cover_uploads_user_created', ['user_id', 'created_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('cover_uploads', schema=None) as batch_op:
        batch_op.drop_index('ix_cover_uploads_user_created')
    op.drop_table('cover_uploads')
