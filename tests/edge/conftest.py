"""Edge fixtures: real HTTP targets on 127.0.0.1, each closed at teardown."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from edge_targets import Target


def _target(kind: str, **kw: Any) -> Iterator[Target]:
    target = Target(kind, **kw)
    try:
        yield target
    finally:
        target.close()


@pytest.fixture
def fast() -> Iterator[Target]:
    yield from _target("fast")


@pytest.fixture
def slow() -> Iterator[Target]:
    yield from _target("slow", delay=1.0)


@pytest.fixture
def hanging() -> Iterator[Target]:
    yield from _target("hanging")


@pytest.fixture
def refusing() -> Iterator[Target]:
    yield from _target("refusing")


@pytest.fixture
def resetting() -> Iterator[Target]:
    yield from _target("resetting")
