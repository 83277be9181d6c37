"""Roles, weakest first: a viewer reads, a manager does all operational work, an admin also
manages users and program settings."""

from __future__ import annotations

from typing import Literal

Role = Literal["viewer", "manager", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "manager", "admin")


def allows(role: str, needed: Role) -> bool:
    """Whether `role` may do what `needed` may."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)
