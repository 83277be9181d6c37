"""Which function runs which kind of job. Each domain registers its own jobs."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from matchdesk.context import Matchdesk


class Progress(Protocol):
    """What a job calls to report how far it got: `progress(done, total, "message")`."""

    def __call__(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """Record that `done` of `total` steps are done."""


JobResult = dict[str, Any] | None
JobFunction = Callable[["Matchdesk", dict[str, Any], Progress], JobResult]


class JobRegistry(Mapping[str, JobFunction]):
    """Job kind -> the function that runs it: `fn(md, payload, progress) -> result`. The
    function opens its own transactions through `md`; its (JSON) result is kept on the
    job. Built by whoever starts the worker or the CLI (no global registry)."""

    def __init__(self, jobs: Mapping[str, JobFunction] | None = None) -> None:
        self._jobs: dict[str, JobFunction] = dict(jobs or {})

    def register(self, kind: str, function: JobFunction) -> JobFunction:
        """Run `function` for jobs of `kind`; registering a kind twice is a mistake."""
        if kind in self._jobs:
            raise ValueError(f"job kind {kind!r} is already registered")
        self._jobs[kind] = function
        return function

    def __getitem__(self, kind: str) -> JobFunction:
        return self._jobs[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self._jobs)

    def __len__(self) -> int:
        return len(self._jobs)
