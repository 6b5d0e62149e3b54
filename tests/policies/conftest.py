"""Fixtures for the policy-pack tests.

Every verdict in these tests comes from the real pack, started as the Pulumi CLI starts it
(`python -u -m pulumi.policy <engine> policies/`) and driven over the Analyzer gRPC protocol
exactly as `configtrail policy` drives it (one process for the session; `Configure` replaces the
whole config before each run).
The plans are made fresh from the real program through Pulumi's mock runtime — the mocks stand in
for AWS-computed values (ids, ARNs), nothing else.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable

import pytest

from configtrail.plan import export, runner
from configtrail.policy import inputs
from configtrail.policy.analyzer import POLICY_PACK_DIR, PackProcess
from configtrail.policy.report import Report
from configtrail.policy.runner import config_path, evaluate_with

ENVS = ("dev", "staging", "prod")


@pytest.fixture(scope="session")
def pack():
    with PackProcess(POLICY_PACK_DIR) as process:
        yield process


@pytest.fixture(scope="session")
def plan_documents(tmp_path_factory) -> dict[str, dict[str, dict]]:
    """{env: {"stack": <stack export>, "preview": <preview --json>}} for every environment, plus
    `custom-role`: prod with a custom recorder role (trust policy, attachment, inline policy)."""
    directory = tmp_path_factory.mktemp("environments")
    for path in runner.ENVIRONMENTS.glob("Pulumi.*.yaml"):
        shutil.copy(path, directory / path.name)
    prod = (runner.ENVIRONMENTS / "Pulumi.prod.yaml").read_text(encoding="utf-8")
    (directory / "Pulumi.customrole.yaml").write_text(
        prod.replace("config:\n", "config:\n  configtrail:recorderRole: custom\n", 1),
        encoding="utf-8",
    )
    documents = {}
    for env in (*ENVS, "customrole"):
        normal = runner.run(env, preview=False, directory=directory)
        preview = runner.run(env, preview=True, directory=directory)
        documents[env] = {
            "stack": json.loads(json.dumps(export.stack_export(normal))),
            "preview": json.loads(json.dumps(export.preview_json(preview))),
        }
    return documents


def env_config(env: str) -> dict:
    name = "prod" if env == "customrole" else env
    return json.loads(config_path(name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def run(pack) -> Callable[..., Report]:
    """run(document, config=dict|env name, dispatch=...) -> the pack's report on that document."""

    def _run(
        document: dict,
        config: dict | str = "prod",
        source: str = "test.json",
        dispatch: str = "scoped",
    ) -> Report:
        raw = env_config(config) if isinstance(config, str) else config
        deployment = inputs.parse(copy.deepcopy(document), source)
        return evaluate_with(pack, deployment, raw, "test-config", dispatch=dispatch)

    return _run
