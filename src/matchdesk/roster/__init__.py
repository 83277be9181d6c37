"""The roster: creators, their availability, block lists and tiers."""
