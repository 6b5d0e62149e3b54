"""The pack's policies, generated from the AI control catalog: one policy per control that has a
preventive side, named by the control id, so the CrossGuard pack and the detective Config rules
cannot drift apart (tests/ai_controls/test_pack.py proves the one-to-one match).

- a control whose requirements concern the resource itself becomes a ResourceValidationPolicy on
  its pulumi-aws type;
- a control on a companion resource (pulumi-aws v7 splits bucket versioning, encryption and the
  public access block off aws:s3/bucket:Bucket) becomes a StackValidationPolicy: every bucket of
  the stack needs a companion, linked through the companion's `link` input, that passes.
Controls with parameters take them from the policy's config (keys as in the catalog, defaults
from the catalog), the same values the stack's Guard rules are rendered with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from configtrail_ai_policies import checks
from configtrail_ai_policies.catalog import PolicySpec, specs

PACK_NAME = "configtrail-ai-workloads"
PACK_DESCRIPTION = (
    "ConfigTrail AI workload guardrails: block SageMaker, Bedrock and training-data changes that "
    "break a control of the AI control catalog."
)
PACK_ENFORCEMENT_LEVEL = EnforcementLevel.MANDATORY

_SCHEMAS: dict[str, Callable[[Any], dict]] = {
    "strengths": lambda d: {
        "type": "array",
        "items": {"enum": list(checks.STRENGTHS[1:])},
        "minItems": 1,
        "uniqueItems": True,
        "default": d,
    },
    "threshold": lambda d: {"type": "number", "minimum": 0, "maximum": 0.99, "default": d},
    "string": lambda d: {"type": "string", "minLength": 1, "maxLength": 128, "default": d},
}


def config_schema(spec: PolicySpec) -> PolicyConfigSchema | None:
    if not spec.parameters:
        return None
    return PolicyConfigSchema(
        properties={
            name: {**_SCHEMAS[p["type"]](p["default"]), "description": p.get("description", "")}
            for name, p in spec.parameters.items()
        }
    )


def parameters(spec: PolicySpec, config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The policy's parameters: the config's values over the catalog's defaults (the CLI applies
    schema defaults, the SDK does not, so the defaults are applied here too)."""
    values = {name: p["default"] for name, p in spec.parameters.items()}
    for name in values:
        if config and name in config:
            values[name] = config[name]
    return values


def problems(spec: PolicySpec, props: Any, config: Mapping[str, Any] | None = None) -> list[str]:
    """What is wrong with one resource's props for `spec` (for companions: the companion's)."""
    if spec.when is not None and checks.requirement_problem(props, spec.when):
        return []  # the control does not concern this resource
    if spec.check == "content-filters":
        allowed = list(parameters(spec, config)["allowed_strengths"])
        return checks.content_filter_problems(props, spec, allowed)
    if spec.check == "contextual-grounding":
        return checks.grounding_problems(props, spec, parameters(spec, config))
    found = []
    for requirement in spec.require:
        try:
            problem = checks.requirement_problem(props, requirement)
        except UnknownValueError:
            continue  # this one waits for the value; the others still decide
        if problem:
            found.append(problem)
    return found


def _message(spec: PolicySpec, found: list[str]) -> str:
    return f"{spec.statement} Found: {'; '.join(found)}. Fix: {spec.remediation}"


def _resource_validator(spec: PolicySpec):
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type != spec.resource:
            return
        try:
            found = problems(spec, args.props, args.get_config())
        except UnknownValueError:
            return  # decided once the value is known (see checks.py)
        if found:
            report_violation(_message(spec, found), None)

    return validate


def _linked(companion: Any, link: str, bucket: Any) -> bool:
    """Whether `companion` names `bucket` in its `link` input: by dependency (also during a
    preview, where the name may be unknown), else by the name or id value."""
    if any(dep.urn == bucket.urn for dep in companion.property_dependencies.get(link, [])):
        return True
    try:
        value = companion.props.get(link)
        return value is not None and value in (bucket.props.get("bucket"), bucket.props.get("id"))
    except UnknownValueError:
        return False


def _stack_validator(spec: PolicySpec):
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        companions = [r for r in args.resources if r.resource_type == spec.companion_type]
        for bucket in args.resources:
            if bucket.resource_type != spec.resource:
                continue
            mine = [c for c in companions if _linked(c, spec.companion_link, bucket)]
            if not mine:
                short = spec.companion_type.rsplit(":", 1)[-1]
                report_violation(_message(spec, [f"the bucket has no {short}"]), bucket.urn)
                continue
            for companion in mine:
                try:
                    found = problems(spec, companion.props)
                except UnknownValueError:
                    continue
                if found:
                    report_violation(_message(spec, found), bucket.urn)

    return validate


def build(spec: PolicySpec) -> Policy:
    """The SDK policy of one control."""
    common = dict(
        name=spec.control_id,
        description=spec.statement,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=config_schema(spec),
        severity=Severity(spec.severity),
        framework=PolicyComplianceFramework(
            name="ConfigTrail AI controls", reference="; ".join(spec.guidance)
        ),
        remediation_steps=spec.remediation,
        tags=[f"control:{spec.control_id}", f"resource:{spec.resource}"],
    )
    if spec.companion_type:
        return StackValidationPolicy(validate=_stack_validator(spec), **common)
    return ResourceValidationPolicy(validate=_resource_validator(spec), **common)


def policies() -> list[Policy]:
    """Every policy of the pack, in catalog order."""
    return [build(spec) for spec in specs()]
