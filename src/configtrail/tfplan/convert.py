"""A Pulumi deployment (`pulumi stack export` shape) written as a Terraform plan JSON
(`terraform show -json` of a first-time plan), the format of checkov's `terraform_plan` framework.

checkov has no Pulumi support; pulumi-aws resources are Terraform AWS provider resources under
other names, so its AWS checks apply unchanged once the plan is in Terraform's shape:

- `planned_values.root_module.resources[]`: `address` (`<type>.<name>`), `type`, `name`, `values`
  (snake_case attributes, nested objects as lists of blocks);
- `configuration.root_module.resources[].expressions.<attr>.references`: how checkov links
  resources for its cross-resource checks (CKV2_*, and the S3 checks that look for a separate
  versioning / encryption / public-access-block resource);
- `configuration.provider_config`: the provider's region and default tags.

checkov links two resources only through an attribute whose planned value is unknown and whose
configuration names the other resource (plan_parser._add_references). That is what Terraform
shows for a resource that takes another's id or ARN before either exists, so the plan is written
as a first-time create: an attribute whose value *is* an identity attribute (id, arn, name, ...)
of a resource it depends on is left out of `values`, marked in `after_unknown`, and given the
reference; an attribute that merely embeds one (a policy naming a bucket ARN) keeps its value and
records the reference too. Dependencies come from Pulumi's own `propertyDependencies`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from configtrail.tfplan.typemap import Mapping, TypeMap

FORMAT_VERSION = "1.2"
# The Terraform release whose plan format this mirrors (any 1.x reads the same for checkov).
TERRAFORM_VERSION = "1.9.8"
PROVIDER_NAME = "registry.terraform.io/hashicorp/aws"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # Pulumi's wire sentinel for unknown values
# Dependency attributes an input can take its value from, most idiomatic first (Terraform code
# writes `aws_s3_bucket.x.id` rather than `.bucket`).
IDENTITY_ATTRIBUTES = ("id", "arn", "name", "bucket", "keyId")
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]")
_OMIT = object()  # a value Terraform shows as unknown (absent from planned values)


def snake(name: str) -> str:
    """camelCase -> snake_case, the bridge's naming rule (`s3KmsKeyArn` -> `s3_kms_key_arn`)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def terraform_name(pulumi_name: str) -> str:
    """A Terraform resource name (letters, digits, `_`, `-`; not starting with a digit)."""
    name = _NAME_CHARS.sub("_", pulumi_name)
    return name if re.match(r"[A-Za-z_]", name) else f"_{name}"


class ExportError(ValueError):
    """The deployment cannot be written as a Terraform plan; the message says why."""


@dataclass
class _Resource:
    state: dict[str, Any]
    mapping: Mapping
    address: str
    name: str


@dataclass
class _Link:
    """Which dependency attribute a value comes from: value -> references (best first)."""

    exact: dict[str, list[str]] = field(default_factory=dict)

    def references(self, value: str) -> list[str] | None:
        return self.exact.get(value)

    def embedded(self, value: str) -> list[str]:
        return [ref for known, refs in self.exact.items() if known in value for ref in refs]


def terraform_value(
    value: Any, mapping: Mapping, maps: frozenset[str], key: str | None = None
) -> Any:
    """A Pulumi input value in Terraform's plan shape: snake_case names, every nested object a
    list of blocks (except map-typed attributes such as tags), lists of objects block lists."""
    if isinstance(value, dict):
        if key in maps:
            return dict(value)
        return [
            {
                mapping.blocks.get(k, snake(k)): terraform_value(v, mapping, maps, k)
                for k, v in value.items()
                if not k.startswith("__")  # the engine's bookkeeping (`__defaults`)
            }
        ]
    if isinstance(value, list):
        converted: list[Any] = []
        for item in value:
            if isinstance(item, dict) and key not in maps:
                converted.extend(terraform_value(item, mapping, maps, key))
            else:
                converted.append(terraform_value(item, mapping, maps, key))
        return converted
    return value


def _link(value: Any, link: _Link) -> tuple[Any, Any, Any]:
    """(planned value or _OMIT, configuration expression or None, after_unknown or None)."""
    if isinstance(value, str):
        if value == UNKNOWN:
            return _OMIT, None, True
        exact = link.references(value)
        if exact:
            return _OMIT, {"references": exact}, True
        embedded = link.embedded(value)
        return value, ({"references": embedded} if embedded else None), None
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        planned, expressions, unknown = [], [], []
        for block in value:
            p, e, u = _link_block(block, link)
            planned.append(p)
            expressions.append(e)
            unknown.append(u)
        return (
            planned,
            expressions if any(expressions) else None,
            unknown if any(unknown) else None,
        )
    if isinstance(value, list):
        refs = [r for v in value if isinstance(v, str) for r in link.embedded(v)]
        return value, ({"references": refs} if refs else None), None
    return value, None, None


def _link_block(block: dict[str, Any], link: _Link) -> tuple[dict, dict, dict]:
    planned, expressions, unknown = {}, {}, {}
    for key, value in block.items():
        p, e, u = _link(value, link)
        if p is not _OMIT:
            planned[key] = p
        if e:
            expressions[key] = e
        if u:
            unknown[key] = u
    return planned, expressions, unknown


def _identity(state: dict[str, Any]) -> dict[str, str]:
    """A resource's identity attributes (Pulumi names) with their values."""
    found = {"id": state.get("id")}
    for source in (state.get("outputs") or {}, state.get("inputs") or {}):
        for attr in IDENTITY_ATTRIBUTES[1:]:
            found.setdefault(attr, source.get(attr))
    return {a: v for a, v in found.items() if isinstance(v, str) and v and v != UNKNOWN}


def _links(state: dict[str, Any], key: str, by_urn: dict[str, _Resource]) -> _Link:
    link = _Link()
    for urn in (state.get("propertyDependencies") or {}).get(key, []):
        target = by_urn.get(urn)
        if target is None:
            continue
        identity = _identity(target.state)
        # An ARN is referenced as `.arn` even where the id is the same ARN (SNS topics, roles).
        preferred = sorted(identity, key=lambda a: a != "arn" or not identity[a].startswith("arn:"))
        for attr in preferred:
            # Terraform lists the attribute reference, then the resource itself.
            ref = [f"{target.address}.{snake(attr)}", target.address]
            link.exact.setdefault(identity[attr], ref)
    return link


def _provider_config(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """Each `pulumi:providers:aws` as Terraform provider configuration (the first one is the
    default `aws`; others get their Pulumi name as alias)."""
    config: dict[str, Any] = {}
    for state in resources:
        if state.get("type") != "pulumi:providers:aws":
            continue
        inputs = state.get("inputs") or {}
        name = state["urn"].split("::")[-1]
        key = "aws" if not config else f"aws.{terraform_name(name)}"
        expressions: dict[str, Any] = {}
        if isinstance(inputs.get("region"), str):
            expressions["region"] = {"constant_value": inputs["region"]}
        tags = inputs.get("defaultTags")
        if isinstance(tags, str):
            try:
                tags = json.loads(tags)
            except ValueError:
                tags = None
        if isinstance(tags, dict) and isinstance(tags.get("tags"), dict):
            expressions["default_tags"] = [{"tags": {"constant_value": tags["tags"]}}]
        entry = {"name": "aws", "full_name": PROVIDER_NAME, "expressions": expressions}
        if key != "aws":
            entry["alias"] = terraform_name(name)
        config[key] = entry
    return config


def convert(export: dict[str, Any], types: TypeMap) -> dict[str, Any]:
    """The Terraform plan JSON of a `pulumi stack export` document.

    Custom resources of types the map neither maps nor explains are listed under
    `configtrail.unmapped_types` (checkov would not see them; `configtrail checkov` fails on them).
    """
    try:
        states = export["deployment"]["resources"]
    except (KeyError, TypeError):
        raise ExportError("not a `pulumi stack export` document: no deployment.resources") from None
    by_urn: dict[str, _Resource] = {}
    addresses: dict[str, str] = {}
    unexplained: dict[str, int] = {}
    left_out: dict[str, int] = {}
    for state in states:
        token = state.get("type", "")
        mapping = types.mapping(token)
        if mapping is None:
            bucket = left_out if types.unmapped_reason(token) else unexplained
            bucket[token] = bucket.get(token, 0) + 1
            continue
        name = terraform_name(state["urn"].split("::")[-1])
        address = f"{mapping.terraform}.{name}"
        if address in addresses:
            raise ExportError(
                f"two resources would both be {address}: {addresses[address]} and "
                f"{state['urn']} (give them distinct Pulumi names)"
            )
        addresses[address] = state["urn"]
        by_urn[state["urn"]] = _Resource(state, mapping, address, name)

    planned, changes, configuration = [], [], []
    for resource in by_urn.values():
        state = resource.state
        inputs = state.get("inputs") or {}
        values, expressions, after_unknown = {}, {}, {}
        for key, raw in inputs.items():
            if key.startswith("__"):
                continue
            tf_key = resource.mapping.blocks.get(key, snake(key))
            value = terraform_value(raw, resource.mapping, types.maps, key)
            p, e, u = _link(value, _links(state, key, by_urn))
            if p is not _OMIT:
                values[tf_key] = p
            if e:
                expressions[tf_key] = e
            if u:
                after_unknown[tf_key] = u
        common = {
            "address": resource.address,
            "mode": "managed",
            "type": resource.mapping.terraform,
            "name": resource.name,
            "provider_name": PROVIDER_NAME,
        }
        planned.append({**common, "schema_version": 0, "values": values, "sensitive_values": {}})
        change: dict[str, Any] = {
            "actions": ["create"],
            "before": None,
            "after": values,
            "after_unknown": after_unknown,
            "before_sensitive": False,
            "after_sensitive": {},
        }
        if state.get("importID"):
            change["actions"] = ["no-op"]
            change["importing"] = {"id": state["importID"]}
        changes.append({**common, "change": change})
        implied = {u for urns in (state.get("propertyDependencies") or {}).values() for u in urns}
        explicit = [
            by_urn[u].address
            for u in state.get("dependencies") or []
            if u in by_urn and u not in implied
        ]
        conf = {
            "address": resource.address,
            "mode": "managed",
            "type": resource.mapping.terraform,
            "name": resource.name,
            "provider_config_key": "aws",
            "expressions": expressions,
            "schema_version": 0,
        }
        if explicit:
            conf["depends_on"] = explicit
        configuration.append(conf)

    return {
        "format_version": FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": _provider_config(states),
            "root_module": {"resources": configuration},
        },
        # Not part of Terraform's format (checkov ignores it): what was left out, and why.
        "configtrail": {
            "left_out": {
                t: {"count": n, "reason": types.unmapped_reason(t)}
                for t, n in sorted(left_out.items())
            },
            "unmapped_types": dict(sorted(unexplained.items())),
        },
    }
