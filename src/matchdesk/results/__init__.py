"""LIVE session results and revenue: sessions, the per-day ledger, match uplift, tier
review and reports (SPEC sections 4 and 5)."""
