"""Background jobs: rows in `jobs`, run by `matchdesk worker` or in-process by the CLI."""
