"""Alembic environment: the connection comes from `matchdesk.migrate` (never from an ini
file), so the CLI, the app and the tests migrate whatever database they were given."""

from __future__ import annotations

from alembic import context

from matchdesk.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
