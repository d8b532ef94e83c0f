"""chat places: an order's channel or thread on a chat platform, and its board message

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import adapters.db.types


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chat_places',
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('order_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('community_id', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('board_ref', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('created_at', adapters.db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'order_id')
    )
    with op.batch_alter_table('chat_places', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_places_community_id'), ['community_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('chat_places', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_places_community_id'))
    op.drop_table('chat_places')
