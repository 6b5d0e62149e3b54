"""Shared fixtures. Plans run the real program through Pulumi's mock runtime with AWS-like mocks
(stand-ins for the provider: see configtrail/plan/mocks.py); each is built once per session.

Which stacks exist comes from environments/ (the estate), never from a list in a test: a new stack
file is planned and checked by every test that selects stacks with `stacks_where`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest

from configtrail import estate
from configtrail.estate import Stack
from configtrail.plan import runner

ESTATE = estate.load()
STACKS = tuple(ESTATE.names())


def stacks_where(predicate: Callable[[Stack], bool]) -> list[str]:
    """Names of the estate's stacks that satisfy `predicate` (for parametrize)."""
    return [name for name, stack in ESTATE.stacks.items() if predicate(stack)]


@functools.cache
def _plan(env: str, preview: bool) -> runner.Plan:
    return runner.run(env, preview=preview, estate=ESTATE)


@pytest.fixture(scope="session")
def plan_of():
    """`plan_of(stack, preview=False)`: the captured offline plan of one stack (cached)."""
    return _plan
