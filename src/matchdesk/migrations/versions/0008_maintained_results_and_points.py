"""maintained results figures and campaign points

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 21:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # Each creator's 30-day figures and last LIVE day, kept by results.creator_stats.
    op.create_table('creator_results',
    sa.Column('creator_id', sa.Integer(), nullable=False),
    sa.Column('diamonds_30d', sa.BigInteger(), nullable=False),
    sa.Column('live_days_30d', sa.Integer(), nullable=False),
    sa.Column('last_live_day', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('creator_id', name=op.f('pk_creator_results'))
    )
    # Campaign points per enrolled creator and local day, kept by outreach.standings.
    op.create_table('campaign_days',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('creator_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('diamonds', sa.BigInteger(), nullable=False),
    sa.Column('bonus_diamonds', sa.BigInteger(), nullable=False),
    sa.Column('minutes', sa.BigInteger(), nullable=False),
    sa.Column('wins', sa.Integer(), nullable=False),
    sa.Column('live_points', sa.BigInteger(), nullable=False),
    sa.Column('capped', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('campaign_id', 'creator_id', 'day', name=op.f('pk_campaign_days'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('points_rules', sa.JSON(), nullable=True))
    with op.batch_alter_table('campaign_enrolments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('points', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('points_zone', sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('campaign_enrolments', schema=None) as batch_op:
        batch_op.drop_column('points_zone')
        batch_op.drop_column('points')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('points_rules')
    op.drop_table('campaign_days')
    op.drop_table('creator_results')
