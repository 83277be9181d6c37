"""Helpers for jobs that run a domain's import: its progress callback (`progress("Checking
rows", done, total)`, as the roster and results imports call it) turned into a job's
progress (`progress(done, total, text)`), and its refusal as a job's result."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from matchdesk.errors import InvalidInput
from matchdesk.jobs.registry import Progress

if TYPE_CHECKING:
    from matchdesk.context import Matchdesk

StepProgress = Callable[[str, int, int], None]
READ_STEPS = frozenset({"Checking rows"})
SHOWN_PROBLEMS = 1000  # a job's result keeps this many problems (and their count)


def step_progress(
    md: Matchdesk, progress: Progress, read_steps: Collection[str] = READ_STEPS
) -> StepProgress:
    """`progress` for a domain function that runs in one transaction. The job's progress
    is written in a transaction of its own; on SQLite that write waits for the one write
    lock, which the import holds once it starts writing, so there only the steps that
    read (`read_steps`) are reported and the writing shows as one step."""
    sqlite = md.engine.dialect.name == "sqlite"

    def report(message: str, done: int, total: int) -> None:
        if sqlite and message not in read_steps:
            return
        progress(done, total, f"{message}: {done:,} of {total:,}")

    return report


def refusal(name: str, exc: InvalidInput) -> dict[str, Any]:
    """An import's refusal as a job's result: the file, the message, the first problems."""
    return {
        "filename": name,
        "message": exc.message,
        "problems": list(exc.details[:SHOWN_PROBLEMS]),
        "problem_count": len(exc.details),
    }
