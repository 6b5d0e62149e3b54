"""ConvertOnceAnalyzer (policies/configtrail_policies/analyzer.py) and the in-process engine:
the SDK shape it restates, one conversion per call, read-only props, the one patch point, and an
in-process engine that leaves this process as it found it.

Verdict equality with the SDK's own servicer is tests/policies/test_engines.py.
"""

from __future__ import annotations

import ast
import contextvars
import hashlib
import inspect
import json
import os
import subprocess
import sys

import pulumi
import pulumi_policy.policy as sdk
import pulumi_policy.proxy as sdk_proxy
import pytest
from configtrail_policies import analyzer, pack
from configtrail_policies.support import peek
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

from configtrail.policy.analyzer import POLICY_PACK_DIR, PackStartError
from configtrail.policy.inprocess import InProcessPack
from configtrail.policy.wire import UNKNOWN, struct

SDK = analyzer.SDK_ANALYZER  # the SDK's class (the module-level name is ours once installed)

# sha256 (first 16 hex digits) of the SDK code ConvertOnceAnalyzer restates or relies on, in
# pulumi-policy analyzer.SDK_VERSION. A new SDK fails here: re-read these functions, carry their
# changes into analyzer.py (or drop the restatement), then update SDK_VERSION and the hashes.
SDK_SOURCES = {
    "_PolicyAnalyzerServicer.Analyze": (SDK.Analyze, "75db9cf8fc9d1585"),
    "_PolicyAnalyzerServicer.AnalyzeStack": (
        SDK.AnalyzeStack,
        "3917a008482c2387",
    ),
    "_PolicyAnalyzerServicer._get_provider_resource": (
        SDK._get_provider_resource,
        "5db736069fc8d3d6",
    ),
    "_PolicyAnalyzerServicer._configure_runtime_settings": (
        SDK._configure_runtime_settings,
        "da0923ff3a404f36",
    ),
    "PolicyPack.__init__": (sdk.PolicyPack.__init__, "34256ae3a291d0b4"),
    "proxy._proxy_helper": (sdk_proxy._proxy_helper, "c36dd3b6af1196cb"),
    "proxy._DictProxy": (sdk_proxy._DictProxy, "9c45424925aaa8d0"),
}


def _digest(obj) -> str:
    return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()[:16]


def test_installed_sdk_is_the_one_the_restatement_was_written_against():
    assert analyzer.installed_sdk_version() == analyzer.SDK_VERSION
    changed = {name for name, (obj, digest) in SDK_SOURCES.items() if _digest(obj) != digest}
    assert not changed, f"pulumi-policy changed {changed}: re-check configtrail_policies.analyzer"


def test_pack_import_makes_policy_pack_serve_the_convert_once_analyzer():
    # policies/__main__.py imports configtrail_policies.pack before calling PolicyPack(...).
    assert sdk._PolicyAnalyzerServicer is analyzer.ConvertOnceAnalyzer
    assert analyzer.SDK_ANALYZER is not analyzer.ConvertOnceAnalyzer
    assert analyzer.ConvertOnceAnalyzer.__mro__[1] is analyzer.SDK_ANALYZER


def test_install_leaves_another_sdk_version_alone(monkeypatch):
    monkeypatch.setattr(sdk, "_PolicyAnalyzerServicer", analyzer.SDK_ANALYZER)
    monkeypatch.setattr(analyzer, "installed_sdk_version", lambda: "1.22.0")
    assert analyzer.install() is False
    assert sdk._PolicyAnalyzerServicer is analyzer.SDK_ANALYZER


def test_main_builds_the_service_that_pack_service_builds():
    """`pack.service()` restates `PolicyPack(...)` of __main__.py; read it (never import it)."""
    tree = ast.parse((POLICY_PACK_DIR / "__main__.py").read_text(encoding="utf-8"))
    calls = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
    ]
    assert len(calls) == 1 and ast.unparse(calls[0].func) == "PolicyPack"
    assert {k.arg: ast.unparse(k.value) for k in calls[0].keywords} == {
        "name": "PACK_NAME",
        "policies": "policies()",
        "enforcement_level": "PACK_ENFORCEMENT_LEVEL",
        "description": "PACK_DESCRIPTION",
    }


# --- one conversion per call ----------------------------------------------------------------


def _request(name: str, props: dict, provider_region: str = "us-east-1"):
    request = analyzer_pb2.AnalyzeRequest(
        type="aws:s3/bucket:Bucket",
        properties=struct(props),
        urn=f"urn:pulumi:t::p::aws:s3/bucket:Bucket::{name}",
        name=name,
    )
    request.provider.CopyFrom(
        analyzer_pb2.AnalyzerProviderResource(
            type="pulumi:providers:aws",
            properties=struct({"region": provider_region}),
            urn="urn:pulumi:t::p::pulumi:providers:aws::default",
            name="default",
        )
    )
    return request


def _count_conversions(monkeypatch) -> list:
    calls = []
    real = json_format.MessageToDict
    monkeypatch.setattr(
        json_format, "MessageToDict", lambda m, *a, **k: (calls.append(m), real(m, *a, **k))[1]
    )
    return calls


def test_analyze_converts_props_once_and_each_provider_once(monkeypatch):
    service = pack.service()
    calls = _count_conversions(monkeypatch)
    service.Analyze(_request("a", {"bucket": "a"}), None)
    assert len(calls) == 2  # props, provider — not once per policy (18 resource policies)
    service.Analyze(_request("b", {"bucket": "b"}), None)
    assert len(calls) == 3  # the same provider is not converted again
    service.Analyze(_request("c", {"bucket": "c"}, provider_region="eu-west-1"), None)
    assert len(calls) == 5


def test_the_sdk_servicer_converts_per_policy(monkeypatch):
    """What ConvertOnceAnalyzer saves (and proof the counter above counts the real thing)."""
    service = pack.service(analyzer.SDK_ANALYZER)
    calls = _count_conversions(monkeypatch)
    service.Analyze(_request("a", {"bucket": "a"}), None)
    resource_policies = sum(isinstance(p, ResourceValidationPolicy) for p in pack.policies())
    assert len(calls) == 2 * resource_policies


def test_analyze_stack_converts_each_resource_once(monkeypatch):
    service = pack.service()
    resources = [
        analyzer_pb2.AnalyzerResource(
            type=r.type, properties=r.properties, urn=r.urn, name=r.name, provider=r.provider
        )
        for r in (_request(str(i), {"bucket": str(i)}) for i in range(5))
    ]
    calls = _count_conversions(monkeypatch)
    service.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources), None)
    assert len(calls) == 5 + 1  # every resource once, the one provider once


def test_runtime_settings_are_rebuilt_only_when_the_environment_changes(monkeypatch):
    service = pack.service()
    calls = []
    real = SDK._configure_runtime_settings
    monkeypatch.setattr(
        SDK, "_configure_runtime_settings", lambda self: (calls.append(1), real(self))
    )
    monkeypatch.setenv("PULUMI_PROJECT", "p")
    monkeypatch.setenv("PULUMI_STACK", "one")
    monkeypatch.setenv("PULUMI_DRY_RUN", "true")

    def analyze_in(context):
        context.run(service.Analyze, _request("a", {"bucket": "a"}), None)

    context = contextvars.copy_context()
    analyze_in(context)
    analyze_in(context)
    assert len(calls) == 1
    assert context.run(pulumi.get_stack) == "one"
    monkeypatch.setenv("PULUMI_STACK", "two")
    analyze_in(context)
    assert len(calls) == 2 and context.run(pulumi.get_stack) == "two"
    analyze_in(contextvars.copy_context())  # settings live in a context: a new one is configured
    assert len(calls) == 3


# --- props are shared, so they are read-only ----------------------------------------------------


def _service_with(policy) -> analyzer.ConvertOnceAnalyzer:
    return analyzer.ConvertOnceAnalyzer("t", "0.0.1", [policy], EnforcementLevel.MANDATORY)


@pytest.mark.parametrize(
    "write",
    [
        lambda args: args.props.__setitem__("bucket", "other"),
        lambda args: args.props["tags"].__setitem__("owner", "me"),
        lambda args: args.provider.props.__setitem__("region", "eu-west-1"),
    ],
    ids=["props", "nested", "provider"],
)
def test_policies_cannot_change_the_shared_props(write):
    service = _service_with(
        ResourceValidationPolicy(
            name="writer", description="Writes.", validate=lambda a, r: write(a)
        )
    )
    with pytest.raises(TypeError, match="must not change resource properties"):
        service.Analyze(_request("a", {"bucket": "a", "tags": {"owner": "x"}}), None)


def test_stack_policies_cannot_change_the_shared_props():
    def write(args, report):
        args.resources[0].props["bucket"] = "other"

    service = _service_with(
        StackValidationPolicy(name="writer", description="Writes.", validate=write)
    )
    request = _request("a", {"bucket": "a"})
    resource = analyzer_pb2.AnalyzerResource(
        type=request.type, properties=request.properties, urn=request.urn, name=request.name
    )
    with pytest.raises(TypeError, match="must not change resource properties"):
        service.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[resource]), None)


def test_read_only_props_read_like_the_sdks():
    props = {"a": {"b": [1.0, {"c": UNKNOWN}]}, "d": "x"}
    ours, theirs = analyzer.read_only_proxy(props), sdk_proxy.unknown_checking_proxy(props)
    assert ours["a"]["b"][0] == theirs["a"]["b"][0] == 1.0
    assert dict(ours).keys() == dict(theirs).keys()
    for proxy in (ours, theirs):
        with pytest.raises(sdk_proxy.UnknownValueError) as caught:
            _ = proxy["a"]["b"][1]["c"]
        assert caught.value.message == "string value at .a.b.1.c can't be known during preview"


def test_peek_reads_through_proxies_without_copying_everything():
    props = analyzer.read_only_proxy({"a": {"b": [{"c": 1.0}], "u": UNKNOWN}, "s": "x"})
    assert peek(props, "a", "b", 0) == {"c": 1.0} and type(peek(props, "a", "b", 0)) is dict
    assert peek(props, "a", "b", 0, "c") == 1.0
    assert peek(props, "a", "u", "deeper") == UNKNOWN
    assert peek(props, "a", "b", 5, default="none") == "none"
    assert peek(props, "missing", default=0) == 0
    assert peek(props, "s", "x", default="d") == "d"
    assert peek({"t": (1, 2)}, "t", 1) == 2


# --- the in-process engine ------------------------------------------------------------------------


def test_in_process_engine_runs_the_pack_as_the_engine_would_and_leaves_no_trace(monkeypatch):
    monkeypatch.delenv("PULUMI_STACK", raising=False)
    before = pulumi.get_stack()
    with InProcessPack(
        POLICY_PACK_DIR, project="proj", stack="engine-stack", dry_run=False
    ) as pack_:
        info = pack_.info()
        assert info.name == pack.PACK_NAME
        pack_.analyze(_request("a", {"bucket": "a"}))
        # The SDK configured the Pulumi runtime from the engine's variables — in the engine's
        # own context only.
        assert pack_._context.run(pulumi.get_stack) == "engine-stack"
        assert pack_._context.run(pulumi.runtime.is_dry_run) is False
    assert "PULUMI_STACK" not in os.environ
    assert pulumi.get_stack() == before


def test_in_process_engine_refuses_another_pack_dir(tmp_path):
    with pytest.raises(PackStartError, match="use --engine grpc"):
        InProcessPack(tmp_path).__enter__()


def test_get_analyzer_info_of_the_service_lists_every_policy():
    info = pack.service().GetAnalyzerInfo(empty_pb2.Empty(), None)
    assert [p.name for p in info.policies] == [p.name for p in pack.policies()]


# --- concurrency: the engine calls Analyze from several threads ---------------------------------

_CONCURRENT_TAGGABLE = """
import json, sys, threading
from configtrail_policies.tagging import taggable
types = json.loads(sys.argv[1])
barrier = threading.Barrier(len(types))
found = {}
def work(resource_type):
    barrier.wait()
    found[resource_type] = taggable(resource_type)
threads = [threading.Thread(target=work, args=(t,)) for t in types]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps(found))
"""


@pytest.mark.slow
def test_taggable_is_right_when_first_asked_from_many_threads_at_once():
    """A fresh process (nothing of pulumi-aws imported yet), every type asked at the same moment:
    two threads importing pulumi_aws.cfg together once made `aws:cfg/rule:Rule` "not taggable"
    for the whole run, so the pack missed its required tags."""
    expected = {
        "aws:s3/bucket:Bucket": True,
        "aws:kms/key:Key": True,
        "aws:iam/role:Role": True,
        "aws:sns/topic:Topic": True,
        "aws:cfg/rule:Rule": True,
        "aws:iam/serviceLinkedRole:ServiceLinkedRole": True,
        "aws:cfg/recorder:Recorder": False,
        "aws:cfg/deliveryChannel:DeliveryChannel": False,
    }
    result = subprocess.run(
        [sys.executable, "-c", _CONCURRENT_TAGGABLE, json.dumps(list(expected))],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout) == expected
