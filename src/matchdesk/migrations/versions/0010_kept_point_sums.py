"""kept point sums: each enrolment's component sums over its campaign days

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 22:50:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

SUMS = ('kept_diamonds', 'kept_bonus_diamonds', 'kept_wins', 'kept_live_points', 'kept_capped_days')


def upgrade() -> None:
    """Upgrade schema."""
    # The sums an enrolment's points are the floor of (outreach.standings): an import
    # adjusts them by its touched days' difference instead of re-summing every day.
    with op.batch_alter_table('campaign_enrolments', schema=None) as batch_op:
        for name in SUMS:
            batch_op.add_column(
                sa.Column(name, sa.BigInteger(), nullable=False, server_default='0')
            )
    # The points kept so far: their sums from their days.
    op.execute(
        "UPDATE campaign_enrolments SET"
        " kept_diamonds = coalesce((SELECT sum(d.diamonds) FROM campaign_days AS d"
        "  WHERE d.campaign_id = campaign_enrolments.campaign_id"
        "  AND d.creator_id = campaign_enrolments.creator_id), 0),"
        " kept_bonus_diamonds = coalesce((SELECT sum(d.bonus_diamonds) FROM campaign_days AS d"
        "  WHERE d.campaign_id = campaign_enrolments.campaign_id"
        "  AND d.creator_id = campaign_enrolments.creator_id), 0),"
        " kept_wins = coalesce((SELECT sum(d.wins) FROM campaign_days AS d"
        "  WHERE d.campaign_id = campaign_enrolments.campaign_id"
        "  AND d.creator_id = campaign_enrolments.creator_id), 0),"
        " kept_live_points = coalesce((SELECT sum(CASE WHEN d.capped THEN 0"
        "  ELSE d.live_points END) FROM campaign_days AS d"
        "  WHERE d.campaign_id = campaign_enrolments.campaign_id"
        "  AND d.creator_id = campaign_enrolments.creator_id), 0),"
        " kept_capped_days = coalesce((SELECT sum(CASE WHEN d.capped THEN 1 ELSE 0 END)"
        "  FROM campaign_days AS d WHERE d.campaign_id = campaign_enrolments.campaign_id"
        "  AND d.creator_id = campaign_enrolments.creator_id), 0)"
    )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('campaign_enrolments', schema=None) as batch_op:
        for name in reversed(SUMS):
            batch_op.drop_column(name)
