"""round board indexes: matches by round and status, byes by round and reason

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 21:45:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # Every board action and page counts the round's matches by status and its byes by
    # reason: from these indexes alone, not by reading each of 45,000 match rows.
    op.create_index('ix_matches_round_id_status', 'matches', ['round_id', 'status'], unique=False)
    op.create_index('ix_byes_round_id_reason', 'byes', ['round_id', 'reason'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_byes_round_id_reason', table_name='byes')
    op.drop_index('ix_matches_round_id_status', table_name='matches')
