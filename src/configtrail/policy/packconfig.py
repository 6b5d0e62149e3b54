"""Policy config (`--policy-pack-config <file>`) applied the way the Pulumi CLI applies it
(pulumi/pkg/resource/analyzer/config.go, ReconcilePolicyPackConfig):

1. every policy starts at its own enforcement level with the defaults of its config schema;
2. an `all` level in the file applies to every policy, then each policy's own entry;
3. the result is validated against each policy's schema, and sent to the pack with `Configure`.

Stricter than the CLI, by the team's rule that no key is silently ignored: a policy name the pack
does not have, or a property its schema does not declare, is an error here.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
from google.protobuf import json_format
from pulumi.runtime.proto import analyzer_pb2

from configtrail.policy.inputs import PolicyInputError

LEVELS = ("advisory", "mandatory", "remediate", "disabled")
_LEVEL_NAMES = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
    analyzer_pb2.DISABLED: "disabled",
}
_LEVEL_VALUES = {name: value for value, name in _LEVEL_NAMES.items()}


def level_name(value: int) -> str:
    return _LEVEL_NAMES[value]


@dataclass
class PolicySetting:
    level: str
    properties: dict[str, Any] = field(default_factory=dict)


def _did_you_mean(value: str, choices) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def read_file(path: Path | None) -> dict[str, Any]:
    """The raw config mapping of a file (empty for None)."""
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyInputError(f"{path}: no such policy config file") from None
    if not text.strip():
        return {}  # the CLI accepts an empty file
    try:
        document = json.loads(text)
    except ValueError as error:
        raise PolicyInputError(f"{path}: not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise PolicyInputError(f"{path}: must be a JSON object of policy name -> level or object")
    return document


def _schemas(info: analyzer_pb2.AnalyzerInfo) -> dict[str, dict]:
    schemas = {}
    for policy in info.policies:
        properties = json_format.MessageToDict(policy.configSchema.properties)
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if policy.configSchema.required:
            schema["required"] = list(policy.configSchema.required)
        schemas[policy.name] = schema
    return schemas


def reconcile(
    info: analyzer_pb2.AnalyzerInfo, raw: dict[str, Any], source: str
) -> dict[str, PolicySetting]:
    """Levels and properties for every policy of the pack, as the CLI would configure them."""
    schemas = _schemas(info)
    result = {
        policy.name: PolicySetting(
            level=level_name(policy.enforcementLevel),
            properties={
                key: spec["default"]
                for key, spec in schemas[policy.name]["properties"].items()
                if "default" in spec
            },
        )
        for policy in info.policies
    }
    problems: list[str] = []
    given: dict[str, tuple[str | None, dict]] = {}
    for name, value in raw.items():
        if name != "all" and name not in result:
            problems.append(
                f"{source}: {name!r}: no such policy in the pack{_did_you_mean(name, result)}"
            )
            continue
        if isinstance(value, str):
            level, properties = value, {}
        elif isinstance(value, dict):
            properties = dict(value)
            level = properties.pop("enforcementLevel", None)
        else:
            problems.append(
                f"{source}: {name}: {json.dumps(value)} is not a valid value; must be "
                "an enforcement level or an object"
            )
            continue
        if level is not None and level not in LEVELS:
            problems.append(
                f"{source}: {name}: enforcementLevel {level!r} is not one of {', '.join(LEVELS)}"
            )
            continue
        if name == "all" and properties:
            problems.append(f"{source}: all: only an enforcement level may be set for all policies")
            continue
        if name != "all":
            declared = schemas[name]["properties"]
            for key in properties:
                if key not in declared:
                    allowed = ", ".join(sorted(declared)) or "none"
                    problems.append(
                        f"{source}: {name}.{key}: not a setting of this policy"
                        f"{_did_you_mean(key, declared)}; allowed: {allowed}"
                    )
        given[name] = (level, properties)
    if problems:
        raise PolicyInputError("\n".join(problems))

    all_level = given.get("all", (None, {}))[0]
    if all_level is not None:
        for setting in result.values():
            setting.level = all_level
    for name, (level, properties) in given.items():
        if name == "all":
            continue
        if level is not None:
            result[name].level = level
        result[name].properties.update(properties)

    for name, setting in result.items():
        validator = jsonschema.validators.validator_for(schemas[name])(schemas[name])
        for error in validator.iter_errors(setting.properties):
            where = ".".join(str(part) for part in error.absolute_path)
            problems.append(f"{source}: {name}{'.' + where if where else ''}: {error.message}")
    if problems:
        raise PolicyInputError("\n".join(problems))
    return result


def to_wire(settings: dict[str, PolicySetting]) -> dict[str, analyzer_pb2.PolicyConfig]:
    wire = {}
    for name, setting in settings.items():
        config = analyzer_pb2.PolicyConfig(enforcementLevel=_LEVEL_VALUES[setting.level])
        if setting.properties:
            config.properties.update(setting.properties)
        wire[name] = config
    return wire
