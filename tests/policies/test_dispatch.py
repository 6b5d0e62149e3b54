"""The scoped dispatch (each policy is sent only the resource types it declares) gives exactly the
verdicts of the full dispatch (every resource to every policy, the calls the engine makes): same
findings — policy, URN, level, message, resource, phase, severity — in the same order, on every
environment's plan (stack and preview), every row of the mutation table and of the unknown-value
table. Both run through the same pack process (conftest.py)."""

from __future__ import annotations

import copy
from dataclasses import asdict

import pytest
from configtrail_policies.pack import definitions

from configtrail.policy import inputs
from configtrail.policy.runner import PolicyScope, evaluate_with, scopes
from tests.policies.conftest import env_config
from tests.policies.test_invariants_access import ROWS as ACCESS_ROWS
from tests.policies.test_invariants_history import ROWS as HISTORY_ROWS
from tests.policies.test_mutations import MUTATIONS
from tests.policies.test_unknowns import CASES as UNKNOWN_CASES

PLANS = [
    (env, kind) for env in ("dev", "staging", "prod", "customrole") for kind in ("stack", "preview")
]


def _both(pack, document: dict, env: str) -> dict[str, list[dict]]:
    found = {}
    for dispatch in ("full", "scoped"):
        deployment = inputs.parse(copy.deepcopy(document), "test.json")
        report = evaluate_with(pack, deployment, env_config(env), "test-config", dispatch=dispatch)
        found[dispatch] = [asdict(finding) for finding in report.findings]
    assert found["scoped"] == found["full"]
    return found


def test_scopes_come_from_the_pack_info(pack):
    found = {s.name: s for s in scopes(pack.info())}
    for d in definitions():
        assert found[d.name] == PolicyScope(d.name, d.kind, d.types), d.name


class Recording:
    """The session's pack, with the sizes of its Analyze and AnalyzeStack calls recorded."""

    def __init__(self, pack):
        self.pack, self.analyzed, self.stack_calls = pack, 0, []

    def __getattr__(self, name):
        return getattr(self.pack, name)

    def analyze_many(self, requests, window=16):
        self.analyzed += len(requests)
        return self.pack.analyze_many(requests, window)

    def analyze_stack(self, request):
        self.stack_calls.append(len(request.resources))
        return self.pack.analyze_stack(request)


def test_scoped_dispatch_sends_less(pack, plan_documents):
    """What the scoped dispatch saves (and proof that the comparisons below compare two different
    call sequences): fewer Analyze calls, smaller AnalyzeStack requests."""
    deployment = inputs.parse(copy.deepcopy(plan_documents["prod"]["stack"]), "t.json")
    recorded = {}
    for dispatch in ("full", "scoped"):
        recorded[dispatch] = Recording(pack)
        evaluate_with(recorded[dispatch], deployment, env_config("prod"), "c", dispatch=dispatch)
    full, scoped = recorded["full"], recorded["scoped"]
    assert full.analyzed == len(deployment.resources)
    assert full.stack_calls == [len(deployment.resources)]
    judged = {t for d in definitions() if d.kind == "resource" for t in d.types}
    assert scoped.analyzed == sum(1 for s in deployment.resources if s.type in judged)
    assert 0 < scoped.analyzed < full.analyzed / 2
    assert len(scoped.stack_calls) == sum(d.kind == "stack" for d in definitions())
    assert sum(scoped.stack_calls) < len(scoped.stack_calls) * len(deployment.resources) / 2


@pytest.mark.slow
@pytest.mark.parametrize(("env", "kind"), PLANS)
def test_same_verdicts_on_every_plan(pack, plan_documents, env, kind):
    _both(pack, plan_documents[env][kind], env)


# Every mutation of the policy tests: the property table and both halves of the estate invariants.
ALL_MUTATIONS = (
    MUTATIONS
    + ACCESS_ROWS
    + [(name, "prod", "stack", mutate, policy) for name, mutate, policy in HISTORY_ROWS]
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "kind", "mutate", "policy"),
    [row[1:5] for row in ALL_MUTATIONS],
    ids=[row[0] for row in ALL_MUTATIONS],
)
def test_same_verdicts_on_every_mutation(pack, plan_documents, env, kind, mutate, policy):
    document = copy.deepcopy(plan_documents[env][kind])
    mutate(document)
    found = _both(pack, document, env)
    assert any(f["policy"] == policy for f in found["full"])  # the row really trips its policy


@pytest.mark.slow
@pytest.mark.parametrize(
    ("policy", "env", "mutate"),
    [case[:3] for case in UNKNOWN_CASES],
    ids=[f"{case[0]}-{index}" for index, case in enumerate(UNKNOWN_CASES)],
)
def test_same_verdicts_on_every_unknown_case(pack, plan_documents, policy, env, mutate):
    document = copy.deepcopy(plan_documents[env]["preview"])
    mutate(document)
    _both(pack, document, env)
