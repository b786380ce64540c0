"""Fixtures for the replay tests: app versions as child processes on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from replay_helpers import app_process


@pytest.fixture
def apps() -> Iterator[Callable[[str], str]]:
    """Start app versions for one test: ``apps("v2")`` → its URL."""
    with ExitStack() as stack:
        yield lambda version: stack.enter_context(app_process(version))


@pytest.fixture(scope="module")
def v1() -> Iterator[str]:
    with app_process("v1") as url:
        yield url


@pytest.fixture(scope="module")
def v2() -> Iterator[str]:
    with app_process("v2") as url:
        yield url


@pytest.fixture(scope="module")
def v1_copy() -> Iterator[str]:
    with app_process("v1") as url:
        yield url
