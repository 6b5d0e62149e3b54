"""One definition per policy: its metadata, config schema (with defaults), the resource types it
judges, and its validator, declared together with `@resource_policy(...)` / `@stack_policy(...)`
right above the validator. `pack.policies()` turns the definitions into the SDK's
`ResourceValidationPolicy` / `StackValidationPolicy` objects that `PolicyPack(...)` serves; the
README's policy table is rendered from them (`table.markdown()`).

A validator is called as `validate(args, report, settings)`:
- resource policies get the SDK's `ResourceValidationArgs` — only for resources of `types`;
- stack policies get the SDK's `StackValidationArgs` whose `resources` hold only the resources of
  `types` (all of them when `types` is None), linked to each other — parent, dependencies and
  property dependencies outside the scope are left out, so a policy sees exactly the same graph
  whether the engine sent the whole stack or only its scope;
- `settings` is the policy's config: its schema defaults overlaid with what the engine passed
  (numbers that crossed the wire as floats are whole ints again).

The scope travels to the engine as policy tags (`resource-type:<pattern>`, fnmatch patterns), so
an offline runner may send a policy only the resources it judges (see
src/configtrail/policy/runner.py); the filtering here makes that provably the same verdict.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

RESOURCE, STACK = "resource", "stack"
# How a policy treats a value it cannot see (unknown during preview, or a masked secret):
FAIL_CLOSED = "fail-closed"  # a mandatory finding that says why and what to run instead
WAIT = "wait"  # unknowns: the SDK's advisory "can't run during preview" (`up` checks the value);
#                masked secrets still fail closed
NOT_AFFECTED = "not-affected"  # reads nothing that can be unknown (options, or presence only)
UNKNOWNS = (FAIL_CLOSED, WAIT, NOT_AFFECTED)
LEVELS = ("advisory", "mandatory", "disabled")
SEVERITIES = ("low", "medium", "high", "critical")
SCOPE_TAG = "resource-type:"
UNKNOWNS_TAG = "unknowns:"


@dataclass(frozen=True)
class Definition:
    """Everything about one policy. `types`: fnmatch patterns of the resource types it judges
    (None: every resource). `config`: JSON-schema properties, each with a `default`."""

    name: str
    kind: str
    description: str
    severity: str
    unknowns: str
    remediation: str
    validate: Callable[..., None]
    level: str = "mandatory"
    types: tuple[str, ...] | None = None
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    controls: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = [
            f"{label} {value!r}"
            for label, value, allowed in (
                ("kind", self.kind, (RESOURCE, STACK)),
                ("level", self.level, LEVELS),
                ("severity", self.severity, SEVERITIES),
                ("unknowns", self.unknowns, UNKNOWNS),
            )
            if value not in allowed
        ]
        problems += [
            f"config {key!r} without a default"
            for key, spec in self.config.items()
            if "default" not in spec
        ]
        if problems:
            raise ValueError(f"policy {self.name}: {', '.join(problems)}")

    def defaults(self) -> dict[str, Any]:
        return {key: spec["default"] for key, spec in self.config.items()}

    def settings(self, configured: Mapping[str, Any] | None) -> dict[str, Any]:
        """Defaults overlaid with the engine's config (a protobuf Struct: whole floats -> int)."""
        merged = {**self.defaults(), **dict(configured or {})}
        return {
            key: int(value) if isinstance(value, float) and value.is_integer() else value
            for key, value in merged.items()
        }

    def judges(self, resource_type: str) -> bool:
        return self.types is None or in_scope(resource_type, self.types)

    # --- the SDK policy ------------------------------------------------------------------------

    def tags(self) -> list[str]:
        return [f"{UNKNOWNS_TAG}{self.unknowns}"] + [
            f"{SCOPE_TAG}{pattern}" for pattern in self.types or ()
        ]

    def sdk_policy(self) -> Policy:
        common: dict[str, Any] = dict(
            name=self.name,
            description=self.description,
            enforcement_level=EnforcementLevel(self.level),
            config_schema=PolicyConfigSchema(properties=dict(self.config)) if self.config else None,
            severity=Severity(self.severity),
            framework=(
                PolicyComplianceFramework(name="ConfigTrail", reference="; ".join(self.controls))
                if self.controls
                else None
            ),
            tags=self.tags(),
            remediation_steps=self.remediation,
        )
        if self.kind == RESOURCE:
            return ResourceValidationPolicy(validate=self._validate_resource, **common)
        return StackValidationPolicy(validate=self._validate_stack, **common)

    def _validate_resource(self, args: ResourceValidationArgs, report) -> None:
        if self.judges(args.resource_type):
            self.validate(args, report, self.settings(args.get_config()))

    def _validate_stack(self, args: StackValidationArgs, report) -> None:
        scoped = StackValidationArgs(
            scope(args.resources, self.types), args.get_config(), args.stack_tags
        )
        self.validate(scoped, report, self.settings(args.get_config()))


@cache
def in_scope(resource_type: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(resource_type, pattern) for pattern in patterns)


def scope(resources: list[PolicyResource], patterns: tuple[str, ...] | None) -> list:
    """The resources of `patterns` (all when None), as views linked only to each other."""
    if patterns is None:
        return resources
    kept = [r for r in resources if in_scope(r.resource_type, patterns)]
    views = {
        r.urn: PolicyResource(
            r.resource_type, r.props, r.urn, r.name, r.opts, r.provider, None, [], {}
        )
        for r in kept
    }
    for resource in kept:
        view = views[resource.urn]
        if resource.parent is not None:
            view.parent = views.get(resource.parent.urn)
        view.dependencies = [views[d.urn] for d in resource.dependencies if d.urn in views]
        view.property_dependencies = {
            key: [views[d.urn] for d in dependencies if d.urn in views]
            for key, dependencies in (resource.property_dependencies or {}).items()
        }
    return [views[r.urn] for r in kept]


REGISTRY: list[Definition] = []


def _define(kind: str, **metadata: Any) -> Callable[[Callable], Callable]:
    def register(validate: Callable) -> Callable:
        types = metadata.pop("types", None)
        definition = Definition(
            kind=kind,
            validate=validate,
            types=tuple(sorted(types)) if types is not None else None,
            controls=tuple(metadata.pop("controls", ())),
            **metadata,
        )
        if any(existing.name == definition.name for existing in REGISTRY):
            raise ValueError(f"policy {definition.name} is defined twice")
        REGISTRY.append(definition)
        validate.definition = definition
        return validate

    return register


def resource_policy(**metadata: Any) -> Callable[[Callable], Callable]:
    """Declare the decorated `validate(args, report, settings)` as a resource policy."""
    return _define(RESOURCE, **metadata)


def stack_policy(**metadata: Any) -> Callable[[Callable], Callable]:
    """Declare the decorated `validate(args, report, settings)` as a stack policy."""
    return _define(STACK, **metadata)


def string_list(description: str, default: Iterable[str]) -> dict[str, Any]:
    """A config property: a list of unique non-empty strings."""
    return {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "uniqueItems": True,
        "description": description,
        "default": sorted(set(default)),
    }
