"""The lock files pin every dependency that pyproject.toml names, at a version it allows
(a dependency added without `make lock` fails here, not on a fresh machine)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", re.MULTILINE)


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / lock).read_text(encoding="utf-8")
    return {canonicalize_name(name): version for name, version in PIN.findall(text)}


def requirements(*extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = list(project["dependencies"])
    for extra in extras:
        names += project["optional-dependencies"][extra]
    return [Requirement(name) for name in names]


@pytest.mark.parametrize(
    ("lock", "extras"), [("run.lock", ()), ("dev.lock", ("dev",)), ("bench.lock", ("dev", "bench"))]
)
def test_every_dependency_is_pinned_at_an_allowed_version(
    lock: str, extras: tuple[str, ...]
) -> None:
    pinned = pins(lock)
    missing = [str(r) for r in requirements(*extras) if canonicalize_name(r.name) not in pinned]
    assert missing == [], f"not in requirements/{lock}: run `make lock`"
    outside = [
        f"{r.name}=={pinned[canonicalize_name(r.name)]} (wants {r.specifier})"
        for r in requirements(*extras)
        if not r.specifier.contains(pinned[canonicalize_name(r.name)], prereleases=True)
    ]
    assert outside == []


def test_a_package_in_two_lock_files_has_one_version() -> None:
    """`make bench` installs bench.lock over what `make test` installed (dev.lock), and
    `make test` over `make run`'s: each narrower lock is the wider one's pins, less the
    packages it does not need (filelock and pyrate-limiter once differed between dev and
    bench, so the tests ran on other versions than a fresh `make test` installs)."""
    run, dev, bench = pins("run.lock"), pins("dev.lock"), pins("bench.lock")
    assert {n: (v, dev.get(n)) for n, v in run.items() if dev.get(n) != v} == {}
    assert {n: (v, bench.get(n)) for n, v in dev.items() if bench.get(n) != v} == {}
