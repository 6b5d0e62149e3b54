"""Data the stack is built from: resource-type profiles, the managed-rule catalog and the lists of
values AWS accepts (from botocore's bundled service models, so no hand-written list goes stale).

Everything here is read once and cached; nothing touches the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

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


@dataclass(frozen=True)
class ManagedRule:
    """One AWS-managed Config rule from the catalog."""

    identifier: str
    pack: str
    description: str
    periodic: bool = False
    home_region_only: bool = False

    @property
    def rule_name(self) -> str:
        """The Config rule name the stack creates (lowercase, hyphenated, prefixed)."""
        return "configtrail-" + self.identifier.lower().replace("_", "-")


@cache
def _rules_data() -> dict:
    return _load_yaml("managed_rules.yaml")


def rule_packs() -> dict[str, str]:
    """Pack name -> description."""
    return dict(_rules_data()["packs"])


@cache
def managed_rules() -> tuple[ManagedRule, ...]:
    """The whole managed-rule catalog, in file order."""
    return tuple(ManagedRule(**entry) for entry in _rules_data()["rules"])


def rules_by_identifier() -> dict[str, ManagedRule]:
    return {rule.identifier: rule for rule in managed_rules()}
