"""The SDK's analyzer service, converting each request once instead of once per policy.

Why: pulumi-policy's `_PolicyAnalyzerServicer.Analyze` (policy.py of version `SDK_VERSION`)
converts the request's properties (`json_format.MessageToDict`, `deserialize_properties`,
`unknown_checking_proxy`), options and provider *inside* its loop over the policies — 24 times per
resource for this pack, about 85-90 % of the pack's time on a large stack — and `AnalyzeStack`
rebuilds every resource of the stack once per stack policy. `ConvertOnceAnalyzer` is that servicer
with `Analyze` and `AnalyzeStack` restated statement for statement, except that the conversion
happens once per call and every policy reads the same result. Everything a verdict depends on —
enforcement levels and their overrides, the advisory downgrade of `UnknownValueError`,
`not_applicable`, `report_violation` — is the SDK's own code, inherited unchanged.

Sharing one conversion is only sound if no policy changes it, so the props (and provider props)
are read-only proxies: `args.props[key] = value` raises `TypeError` (the SDK handed each policy a
fresh copy, so a write could never leak into the next policy's verdict there).

The SDK also rebuilds the Pulumi runtime settings from the process environment on every call;
`ConvertOnceAnalyzer` rebuilds them only when that environment changed.

`install()` makes `PolicyPack(...)` (policies/__main__.py, the process the engine starts) serve
this class — the one place the SDK is patched. It does so only for `SDK_VERSION`; on any other
version the pack runs on the SDK's own servicer (slower, same verdicts) and
tests/policies/test_analyzer.py fails until the restatement is re-checked against the new SDK.
tests/policies/test_engines.py proves the diagnostics identical to the SDK's servicer on every
environment's plan and the whole mutation table.
"""

from __future__ import annotations

import asyncio
import os
from contextvars import ContextVar
from importlib.metadata import version
from inspect import isawaitable
from typing import Any

import pulumi_policy.policy as sdk
from google.protobuf import json_format
from pulumi.runtime import proto
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import (
    EnforcementLevel,
    PolicyProviderResource,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
    UnknownValueError,
    _NotApplicableError,
    _PolicyAnalyzerServicer,
)
from pulumi_policy.proxy import _append_prop, _DictProxy, _ListProxy

# The pulumi-policy release whose Analyze/AnalyzeStack are restated below.
SDK_VERSION = "1.21.0"
SDK_ANALYZER = _PolicyAnalyzerServicer


class ReadOnlyDictProxy(_DictProxy):
    """The SDK's unknown-checking dict proxy without `__setitem__`: policies share one copy."""

    def __setitem__(self, key, value):
        raise TypeError(
            f"policies must not change resource properties (tried to set {key!r}): every policy "
            "of a request reads the same converted copy"
        )


def read_only_proxy(value: Any, path: list[str] | None = None) -> Any:
    """`pulumi_policy.proxy.unknown_checking_proxy`, with read-only dict proxies."""
    path = [] if path is None else path
    if isinstance(value, list):
        return _ListProxy(
            [read_only_proxy(item, _append_prop(path, i)) for i, item in enumerate(value)], path
        )
    if isinstance(value, dict):
        return ReadOnlyDictProxy(
            {key: read_only_proxy(value[key], _append_prop(path, key)) for key in value}, path
        )
    return value


def convert_properties(message) -> Any:
    """A request's Struct as policies read it (what the SDK computes per policy)."""
    return read_only_proxy(deserialize_properties(json_format.MessageToDict(message)))


def _run(result) -> None:
    """Await a validator's result as the SDK does (most return None: skip the inspection)."""
    if result is not None and isawaitable(result):
        loop = asyncio.new_event_loop()
        task = asyncio.Task(result, loop=loop)
        loop.run_until_complete(task)
        loop.close()


# The process environment `_configure_runtime_settings` reads, and the environment it last
# configured the Pulumi runtime from — a ContextVar because the settings it configures are
# ContextVars too (a gRPC worker thread keeps one context; the in-process engine uses its own).
_RUNTIME_ENV = (
    "PULUMI_CONFIG",
    "PULUMI_PROJECT",
    "PULUMI_STACK",
    "PULUMI_DRY_RUN",
    "PULUMI_ORGANIZATION",
)
_configured_from: ContextVar[tuple | None] = ContextVar("configtrail_runtime_env", default=None)


class ConvertOnceAnalyzer(_PolicyAnalyzerServicer):
    """`_PolicyAnalyzerServicer` with one conversion per Analyze/AnalyzeStack call."""

    def _configure_runtime_settings(self):
        """The SDK's, run again only when the environment it reads has changed: it rebuilds the
        same Pulumi runtime settings from the same variables on every request (`inspect.signature`
        included), about a fifth of the pack's time on a large stack."""
        key = tuple(os.environ.get(name) for name in _RUNTIME_ENV)
        if _configured_from.get() != key:
            super()._configure_runtime_settings()
            _configured_from.set(key)

    _PROVIDER_CACHE_SIZE = 64

    def _provider(self, request) -> PolicyProviderResource | None:
        """`_get_provider_resource` with read-only props, made once per distinct provider: a
        stack has a handful of providers and thousands of resources that name one (the SDK's
        own method stays as it is, for the inherited `Remediate`)."""
        if not request.HasField("provider"):
            return None
        provider = request.provider
        key = provider.SerializeToString(deterministic=True)
        cache = self.__dict__.setdefault("_providers", {})
        found = cache.get(key)
        if found is None:
            if len(cache) >= self._PROVIDER_CACHE_SIZE:
                cache.clear()
            found = cache[key] = PolicyProviderResource(
                provider.type, convert_properties(provider.properties), provider.urn, provider.name
            )
        return found

    def _skipped_downgrade(self, response, policy, error) -> None:
        # The SDK's "can't run policy during preview" diagnostic, verbatim.
        name = self._PolicyAnalyzerServicer__policy_pack_name
        pack_version = self._PolicyAnalyzerServicer__policy_pack_version
        response.diagnostics.append(
            proto.AnalyzeDiagnostic(
                policyName=policy.name,
                policyPackName=name,
                policyPackVersion=pack_version,
                message=(
                    f"can't run policy '{policy.name}' from policy pack "
                    f"'{name}@v{pack_version}' during preview: {error.message}"
                ),
                urn="",
                description=policy.description,
                enforcementLevel=self._map_enforcement_level(EnforcementLevel.ADVISORY),
            )
        )

    def Analyze(self, request, _context):
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        converted = None  # (props, opts, provider), made for the first policy that runs

        for policy in self._PolicyAnalyzerServicer__policies:
            enforcement_level = self._get_enforcement_level(policy)
            if enforcement_level == EnforcementLevel.DISABLED or not isinstance(
                policy, ResourceValidationPolicy
            ):
                continue
            if not policy.has_validation():
                response.not_applicable.append(
                    proto.PolicyNotApplicable(
                        policy_name=policy.name, reason="Policy does not implement validate"
                    )
                )
                continue
            if enforcement_level == EnforcementLevel.REMEDIATE:
                enforcement_level = EnforcementLevel.MANDATORY

            report_violation = self._create_report_violation(
                response, policy.name, policy.description, enforcement_level, policy.severity
            )
            if converted is None:
                converted = (
                    convert_properties(request.properties),
                    self._get_resource_options(request),
                    self._provider(request),
                )
            props, opts, provider = converted
            config = self._get_policy_config(policy.name)
            args = ResourceValidationArgs(
                request.type,
                props,
                request.urn,
                request.name,
                opts,
                provider,
                config,
                self._PolicyAnalyzerServicer__stack_tags,
            )
            try:
                _run(policy.validate(args, report_violation))
            except UnknownValueError as error:
                self._skipped_downgrade(response, policy, error)
            except _NotApplicableError as error:
                response.not_applicable.append(
                    proto.PolicyNotApplicable(policy_name=policy.name, reason=error.reason or "")
                )
        return response

    def _stack_resources(self, request) -> list[PolicyResource]:
        """Every resource of the request, linked to its parent and dependencies (as the SDK
        links them, for each stack policy anew)."""
        linked = []
        by_urn: dict[str, PolicyResource] = {}
        for r in request.resources:
            resource = PolicyResource(
                r.type,
                convert_properties(r.properties),
                r.urn,
                r.name,
                self._get_resource_options(r),
                self._provider(r),
                None,
                [],
                {},
            )
            by_urn[resource.urn] = resource
            linked.append((resource, r))
        for resource, r in linked:
            if r.parent is not None and r.parent in by_urn:
                resource.parent = by_urn[r.parent]
            resource.dependencies.extend(by_urn[d] for d in r.dependencies if d in by_urn)
            for key, dependencies in r.propertyDependencies.items():
                resource.property_dependencies[key] = [
                    by_urn[d] for d in dependencies.urns if d in by_urn
                ]
        return [resource for resource, _ in linked]

    def AnalyzeStack(self, request, _context):
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        resources = None

        for policy in self._PolicyAnalyzerServicer__policies:
            enforcement_level = self._get_enforcement_level(policy)
            if enforcement_level == EnforcementLevel.DISABLED or not isinstance(
                policy, StackValidationPolicy
            ):
                continue
            if enforcement_level == EnforcementLevel.REMEDIATE:
                enforcement_level = EnforcementLevel.MANDATORY

            report_violation = self._create_report_violation(
                response, policy.name, policy.description, enforcement_level, policy.severity
            )
            if resources is None:
                resources = self._stack_resources(request)
            config = self._get_policy_config(policy.name)
            args = StackValidationArgs(
                list(resources), config, self._PolicyAnalyzerServicer__stack_tags
            )
            try:
                _run(policy.validate(args, report_violation))
            except UnknownValueError as error:
                self._skipped_downgrade(response, policy, error)
            except _NotApplicableError as error:
                response.not_applicable.append(
                    proto.PolicyNotApplicable(policy_name=policy.name, reason=error.reason or "")
                )
        return response


def installed_sdk_version() -> str:
    return version("pulumi-policy")


def install() -> bool:
    """Make `PolicyPack(...)` serve `ConvertOnceAnalyzer` (it instantiates the module-level name
    `_PolicyAnalyzerServicer` when called). Only for `SDK_VERSION`; returns whether it did."""
    if installed_sdk_version() != SDK_VERSION:
        return False
    sdk._PolicyAnalyzerServicer = ConvertOnceAnalyzer
    return True
