"""The two engines and the convert-once analyzer give the verdicts of the SDK's own service.

Three ways to run the pack, every one fed the same requests by the same code (runner.evaluate_with):
- `grpc`: the pack process (`policies/__main__.py`, serving ConvertOnceAnalyzer) over gRPC — the
  session's `pack` fixture, as every other policy test uses;
- `in-process`: ConvertOnceAnalyzer called in this process (InProcessPack);
- `sdk`: the SDK's unmodified `_PolicyAnalyzerServicer`, in this process — the reference.

Every environment's plan (stack and preview), every row of the mutation table and every row of
the unknown-value table must give the same findings (policy, URN, level, message, resource,
phase, severity) in the same order, and the same GetAnalyzerInfo.
"""

from __future__ import annotations

import copy
from dataclasses import asdict

import pytest
from configtrail_policies.analyzer import SDK_ANALYZER, ConvertOnceAnalyzer
from configtrail_policies.rules import BY_NAME, WAIT

from configtrail.policy import inputs
from configtrail.policy.analyzer import POLICY_PACK_DIR
from configtrail.policy.inprocess import InProcessPack
from configtrail.policy.runner import evaluate_with
from tests.policies.conftest import env_config
from tests.policies.test_mutations import MUTATIONS
from tests.policies.test_unknowns import CASES as UNKNOWN_CASES

PLANS = [
    (env, kind) for env in ("dev", "staging", "prod", "customrole") for kind in ("stack", "preview")
]


@pytest.fixture(scope="module")
def engines(pack):
    """{name: pack} — the gRPC pack process (session fixture) and two in-process services, all
    with the settings the `pack` fixture starts its process with."""
    with (
        InProcessPack(POLICY_PACK_DIR, stack="tests") as in_process,
        InProcessPack(POLICY_PACK_DIR, stack="tests", servicer=SDK_ANALYZER) as sdk,
    ):
        assert type(in_process.service) is ConvertOnceAnalyzer
        assert type(sdk.service) is SDK_ANALYZER
        yield {"grpc": pack, "in-process": in_process, "sdk": sdk}


def _verdicts(engines, document: dict, env: str) -> dict[str, list[dict]]:
    found = {}
    for name, pack in engines.items():
        deployment = inputs.parse(copy.deepcopy(document), "test.json")
        report = evaluate_with(pack, deployment, env_config(env), "test-config")
        found[name] = [asdict(finding) for finding in report.findings]
    return found


def _assert_same(found: dict[str, list[dict]]) -> None:
    reference = found["sdk"]
    for name in ("grpc", "in-process"):
        assert found[name] == reference, f"{name} differs from the SDK's own servicer"


@pytest.mark.slow
def test_same_analyzer_info(engines):
    infos = {name: pack.info() for name, pack in engines.items()}
    assert infos["grpc"] == infos["sdk"] == infos["in-process"]
    assert len(infos["sdk"].policies) == 24


@pytest.mark.slow
@pytest.mark.parametrize(("env", "kind"), PLANS)
def test_same_verdicts_on_every_plan(engines, plan_documents, env, kind):
    _assert_same(_verdicts(engines, plan_documents[env][kind], env))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "kind", "mutate", "policy"),
    [row[1:5] for row in MUTATIONS],
    ids=[row[0] for row in MUTATIONS],
)
def test_same_verdicts_on_every_mutation(engines, plan_documents, env, kind, mutate, policy):
    document = copy.deepcopy(plan_documents[env][kind])
    mutate(document)
    found = _verdicts(engines, document, env)
    _assert_same(found)
    assert any(f["policy"] == policy for f in found["sdk"])  # the row really trips its policy


@pytest.mark.slow
@pytest.mark.parametrize(
    ("policy", "env", "mutate"),
    [case[:3] for case in UNKNOWN_CASES],
    ids=[f"{case[0]}-{index}" for index, case in enumerate(UNKNOWN_CASES)],
)
def test_same_verdicts_on_every_unknown_case(engines, plan_documents, policy, env, mutate):
    document = copy.deepcopy(plan_documents[env]["preview"])
    mutate(document)
    found = _verdicts(engines, document, env)
    _assert_same(found)
    if BY_NAME[policy].unknowns == WAIT:  # the SDK's advisory downgrade, restated in analyzer.py
        assert any(
            f["policy"] == policy and f["message"].startswith("can't run policy")
            for f in found["sdk"]
        )
