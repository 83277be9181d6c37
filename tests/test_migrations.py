"""The migrations build exactly the schema the models describe, on both backends."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from matchdesk.context import Matchdesk
from matchdesk.models import Base


def test_migrated_schema_matches_the_models(md: Matchdesk) -> None:
    with md.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
