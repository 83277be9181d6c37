"""The address creators' links point to: `MATCHDESK_BASE_URL` when it is set, otherwise
the address this request reached the app on (so `matchdesk serve --port 8101` sends links
to port 8101, whatever the default says)."""

from __future__ import annotations

from fastapi import Request

from matchdesk.config import Settings
from matchdesk.web.security import app_of


def served_settings(request: Request) -> Settings:
    """The app's settings, with `base_url` filled in from the request when the operator
    did not set one. Only operators' requests (signed in, CSRF-checked) and a creator's
    own portal answers make links, so a forged Host header reaches nobody but its sender."""
    settings = app_of(request).settings
    if settings.base_url:
        return settings
    return settings.model_copy(update={"base_url": served_url(request)})


def served_url(request: Request) -> str:
    """`scheme://host[:port]` (plus any root path) of this request, without a final `/`."""
    return str(request.base_url).rstrip("/")
