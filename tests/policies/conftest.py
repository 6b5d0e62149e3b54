"""Fixtures for the policy-pack tests.

The plans judged here are of three standalone test stacks (tests/policies/stacks/: a trial-like
`dev`, a mid-size `staging`, a complete `prod` with vault, KMS and notifications), each in its own
account, plus `customrole` (prod with a custom recorder role); their policy configs are derived
the way `configtrail plan` derives every stack's (configtrail.policy.stack_config). The example
estate in environments/ is judged by test_environments.py.

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
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from configtrail import estate
from configtrail.plan import export, runner
from configtrail.policy import inputs, stack_config
from configtrail.policy.analyzer import POLICY_PACK_DIR, PackProcess
from configtrail.policy.report import Report
from configtrail.policy.runner import evaluate_with

ENVS = ("dev", "staging", "prod")
STACK_FILES = Path(__file__).parent / "stacks"


@pytest.fixture(scope="session")
def pack():
    with PackProcess(POLICY_PACK_DIR) as process:
        yield process


@pytest.fixture(scope="session")
def plan_documents(tmp_path_factory) -> dict[str, dict[str, dict]]:
    """{env: {"stack": <stack export>, "preview": <preview --json>}} for every environment, plus
    `custom-role`: prod with a custom recorder role (trust policy, attachment, inline policy)."""
    directory = _test_estate(tmp_path_factory.mktemp("environments"))
    documents = {}
    for env in (*ENVS, "customrole"):
        normal = runner.run(env, preview=False, directory=directory)
        preview = runner.run(env, preview=True, directory=directory)
        documents[env] = {
            "stack": json.loads(json.dumps(export.stack_export(normal))),
            "preview": json.loads(json.dumps(export.preview_json(preview))),
        }
    return documents


def _test_estate(directory: Path) -> Path:
    for path in STACK_FILES.glob("Pulumi.*.yaml"):
        shutil.copy(path, directory / path.name)
    prod = (STACK_FILES / "Pulumi.prod.yaml").read_text(encoding="utf-8")
    (directory / "Pulumi.customrole.yaml").write_text(
        prod.replace("config:\n", "config:\n  configtrail:recorderRole: custom\n", 1)
        # its own account: prod already owns 210000000003's recorders and service-linked role
        .replace('"210000000003"', '"210000000004"'),
        encoding="utf-8",
    )
    return directory


TEST_ESTATE_DIR = _test_estate(Path(tempfile.mkdtemp(prefix="policy-test-estate-")))
TEST_ESTATE = estate.load(TEST_ESTATE_DIR)


def env_config(env: str) -> dict:
    """The policy config `configtrail plan` would derive for test stack `env`."""
    return stack_config.policy_config(TEST_ESTATE[env], TEST_ESTATE)


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
