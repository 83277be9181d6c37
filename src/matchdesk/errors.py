"""Domain errors. Each carries a message for the user; the web and the CLI render them
in one place each (the CLI maps `InvalidInput` to exit code 2, anything else to 1)."""

from __future__ import annotations

from collections.abc import Sequence


class MatchdeskError(Exception):
    """Base of every error the user should see as a message, not a stack trace."""

    code = "error"
    status = 400

    def __init__(
        self,
        message: str,
        details: Sequence[str] = (),
        *,
        links: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)
        # (address, label) pairs a page shows as links under the message ("Open round 5").
        self.links = list(links)

    def __str__(self) -> str:
        if not self.details:
            return self.message
        return self.message + "\n" + "\n".join(self.details)


class InvalidInput(MatchdeskError):
    """The user's input (a file, a form, an argument) is wrong; `details` lists each problem."""

    code = "invalid_input"
    status = 422


class NotFound(MatchdeskError):
    code = "not_found"
    status = 404


class Conflict(MatchdeskError):
    """A stale edit or a state that forbids the change."""

    code = "conflict"
    status = 409
