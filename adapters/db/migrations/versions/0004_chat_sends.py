"""chat sends: the steps of showing an event on a chat platform already done, so that a retry skips them

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import adapters.db.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chat_sends',
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('event_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('at', adapters.db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'event_key', 'step')
    )
    with op.batch_alter_table('chat_sends', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_sends_at'), ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('chat_sends', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_sends_at'))
    op.drop_table('chat_sends')
