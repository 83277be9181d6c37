"""What every CLI command shares: the consoles, the progress bar, the app object."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from matchdesk.context import Matchdesk

out = Console(soft_wrap=True)  # long lines (links, passwords) must not be broken
err = Console(stderr=True, soft_wrap=True)


@contextmanager
def _progress(label: str) -> Iterator[Progress]:
    """A rich progress bar on stderr (quiet when stderr is not a terminal)."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        yield progress


def _app() -> Matchdesk:
    return Matchdesk.build()
