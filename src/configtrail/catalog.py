"""Data the stack is built from: resource-type profiles, the managed-rule catalog and the lists of
values AWS accepts (from botocore's bundled service models, so no hand-written list goes stale).

Everything here is read once and cached; nothing touches the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

PROFILE_NAMES = ("ai-systems", "all")


def _load_yaml(name: str) -> dict:
    text = resources.files("configtrail.data").joinpath(name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


@cache
def _config_service_model():
    import botocore.session

    return botocore.session.get_session().get_service_model("config")


@cache
def recordable_resource_types() -> frozenset[str]:
    """Every resource type AWS Config can record, per botocore's Config service model."""
    return frozenset(_config_service_model().shape_for("ResourceType").enum)


@cache
def execution_frequencies() -> tuple[str, ...]:
    """Allowed values for a delivery or periodic-rule frequency (`MaximumExecutionFrequency`)."""
    return tuple(_config_service_model().shape_for("MaximumExecutionFrequency").enum)


@cache
def config_regions() -> tuple[str, ...]:
    """Regions in which AWS Config is offered (commercial partition), per botocore."""
    import botocore.session

    return tuple(sorted(botocore.session.get_session().get_available_regions("config")))


@cache
def _profiles_data() -> dict:
    return _load_yaml("resource_profiles.yaml")


def global_resource_types() -> tuple[str, ...]:
    """IAM types that must be recorded in exactly one (the home) region."""
    return tuple(_profiles_data()["global_resource_types"])


def always_recorded_types() -> tuple[str, ...]:
    """Types every narrowed recorder keeps (console compliance reporting needs them)."""
    return tuple(_profiles_data()["always_recorded"])


def continuous_only_types() -> frozenset[str]:
    """Types AWS Config records only continuously: the RecordingMode API refuses DAILY for them."""
    return frozenset(_profiles_data()["continuous_only_types"])


def churny_resource_types() -> tuple[str, ...]:
    """Types that change so often that CONTINUOUS recording gets expensive."""
    return tuple(_profiles_data()["churny_resource_types"])


def ai_systems_groups() -> dict[str, tuple[str, ...]]:
    """The `ai-systems` profile's types, by group (sagemaker, bedrock, ...)."""
    groups = _profiles_data()["profiles"]["ai-systems"]["groups"]
    return {name: tuple(types) for name, types in groups.items()}


def ai_systems_types() -> tuple[str, ...]:
    """The `ai-systems` profile as one sorted list, always including the always-recorded types."""
    types = {t for group in ai_systems_groups().values() for t in group}
    types.update(always_recorded_types())
    return tuple(sorted(types))


TRIGGERS = ("change", "periodic")
PARAMETER_TYPES = ("String", "CSV", "int", "double", "boolean")


@dataclass(frozen=True)
class RuleParameter:
    """One input parameter of a managed rule, as AWS's rule page documents it."""

    name: str
    type: str
    description: str
    required: bool = False
    default: Any = None
    allowed: tuple[str, ...] = ()

    def problem(self, value: Any) -> str | None:
        """Why `value` is not acceptable for this parameter (None: it is)."""
        items = value if self.type == "CSV" and isinstance(value, list) else [value]
        for item in items:
            if self.type in ("int", "double"):
                number = isinstance(item, int | float) and not isinstance(item, bool)
                if not number or (self.type == "int" and item != int(item)):
                    return f"must be {'an integer' if self.type == 'int' else 'a number'}"
            elif self.type == "boolean":
                if not isinstance(item, bool):
                    return "must be true or false"
            elif not isinstance(item, str) or not item.strip():
                shape = (
                    "a non-empty string, or a list of them"
                    if self.type == "CSV"
                    else ("a non-empty string")
                )
                return f"must be {shape}"
            if self.allowed:
                values = str(item).split(",") if self.type == "CSV" else [str(item)]
                bad = [v.strip() for v in values if v.strip() not in self.allowed]
                if bad:
                    return f"{', '.join(bad)} not allowed; one of {', '.join(self.allowed)}"
        return None

    def as_input(self, value: Any) -> str:
        """The value as AWS's InputParameters carry it: a string (CSV lists comma-joined)."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            return ",".join(str(item).strip() for item in value)
        return str(value)


@dataclass(frozen=True)
class ManagedRule:
    """One AWS-managed Config rule from the catalog."""

    identifier: str
    pack: str
    description: str
    triggers: tuple[str, ...]
    parameters: dict[str, RuleParameter] = field(default_factory=dict)
    home_region_only: bool = False

    @property
    def periodic(self) -> bool:
        """Whether AWS evaluates the rule on a schedule (and so accepts an execution frequency)."""
        return "periodic" in self.triggers

    @property
    def rule_name(self) -> str:
        """The rule's catalog name (lowercase, hyphenated); the stack prefixes it with its own
        name (configtrail.stack.names.rule_name), so rules of two stacks never share a name."""
        return self.identifier.lower().replace("_", "-")

    def input_parameters(self, overrides: dict[str, Any]) -> dict[str, str]:
        """Defaults from the catalog overlaid by `overrides`, as strings; only set values."""
        values = {name: p.default for name, p in self.parameters.items() if p.default is not None}
        values.update(overrides)
        return {name: self.parameters[name].as_input(v) for name, v in sorted(values.items())}


@cache
def _rules_data() -> dict:
    return _load_yaml("managed_rules.yaml")


def rule_packs() -> dict[str, str]:
    """Pack name -> description."""
    return dict(_rules_data()["packs"])


def _rule(entry: dict) -> ManagedRule:
    parameters = {
        name: RuleParameter(name=name, **{**spec, "allowed": tuple(spec.get("allowed", ()))})
        for name, spec in (entry.get("parameters") or {}).items()
    }
    return ManagedRule(
        identifier=entry["identifier"],
        pack=entry["pack"],
        description=entry["description"],
        triggers=tuple(entry["triggers"]),
        parameters=parameters,
        home_region_only=entry.get("home_region_only", False),
    )


@cache
def managed_rules() -> tuple[ManagedRule, ...]:
    """The whole managed-rule catalog, in file order."""
    return tuple(_rule(entry) for entry in _rules_data()["rules"])


def rules_by_identifier() -> dict[str, ManagedRule]:
    return {rule.identifier: rule for rule in managed_rules()}
