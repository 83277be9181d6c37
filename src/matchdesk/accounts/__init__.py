"""Operators (the ops team's accounts, with roles) and API tokens for integrations."""
