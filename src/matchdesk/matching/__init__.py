"""The matching engine: pure optimisation core (no database, web or CLI)."""
