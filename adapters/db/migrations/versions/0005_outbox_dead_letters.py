"""outbox dead letters: an event a platform refused for good is set aside, not retried, and not lost

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
import adapters.db.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dead_at', adapters.db.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('dead_at')
