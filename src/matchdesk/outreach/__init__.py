"""Outreach: segments, newsletters, consent and campaigns."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from matchdesk.results.creator_stats import IMPORT_HOOKS

if TYPE_CHECKING:
    from matchdesk.results.staging import Stage


def _campaign_points(stage: Stage, today: date) -> None:
    """The results import's hook: campaign points kept for the sessions it wrote."""
    from matchdesk.outreach.standings import record_import

    record_import(stage, today)


if _campaign_points not in IMPORT_HOOKS:
    IMPORT_HOOKS.append(_campaign_points)
