"""Shared fixtures. Plans run the real program through Pulumi's mock runtime with AWS-like mocks
(stand-ins for the provider: see configtrail/plan/mocks.py); each is built once per session."""

from __future__ import annotations

import functools

import pytest

from configtrail.plan import runner

ENVIRONMENTS = ("dev", "staging", "prod")


@functools.cache
def _plan(env: str, preview: bool) -> runner.Plan:
    return runner.run(env, preview=preview)


@pytest.fixture(scope="session")
def plan_of():
    """`plan_of(env, preview=False)`: the captured offline plan of one environment (cached)."""
    return _plan
