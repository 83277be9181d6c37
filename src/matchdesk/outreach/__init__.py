"""Outreach: segments, newsletters, consent and campaigns."""
