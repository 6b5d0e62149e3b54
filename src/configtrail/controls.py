"""The AI control catalog (`configtrail/data/ai_controls.yaml`): each control once, with how it is
enforced before a change (a CrossGuard policy of policies/ai-workloads/, generated from the same
file) and after it (an AWS-managed Config rule, or a Guard rule shipped in `data/guard/`).

`load()` validates the whole file against what AWS and this repository accept — resource types
against botocore's Config `ResourceType` enum, managed identifiers against the managed-rule
catalog, Guard files present and parseable-sized — and raises ControlCatalogError with one line
per problem. `select()` picks controls for a stack by ids or packs; `guard_policy_text()` renders
a Guard rule with the parameters a stack chose.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from configtrail import catalog

CATALOG_FILE = "src/configtrail/data/ai_controls.yaml"
SEVERITIES = ("low", "medium", "high", "critical")
TRIGGERS = ("change", "periodic")
STRENGTHS = ("NONE", "LOW", "MEDIUM", "HIGH")
PARAMETER_TYPES = ("strengths", "threshold", "string")
PREVENTIVE_CHECKS = ("require", "content-filters", "contextual-grounding")
REQUIREMENT_OPS = ("equals", "in", "present", "any_present")
_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_TYPE = re.compile(r"^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$")
_PULUMI_TYPE = re.compile(r"^aws:[a-zA-Z0-9]+/[a-zA-Z0-9]+:[A-Z][a-zA-Z0-9]+$")
_LET = re.compile(r"^let\s+([a-z_][a-z0-9_]*)\s*=\s*(.+)$", re.M)
# Guard 3 added built-in functions; the AWS Config runtime is guard-2.x.x, so rules avoid them.
GUARD3_FUNCTIONS = (
    "count(",
    "json_parse(",
    "regex_replace(",
    "substring(",
    "to_upper(",
    "to_lower(",
    "join(",
    "url_decode(",
    "parse_int(",
    "parse_float(",
    "parse_char(",
    "parse_string(",
    "parse_boolean(",
    "now(",
    "parse_epoch(",
)


class ControlCatalogError(ValueError):
    """Bad catalog data or a bad selection: one line per problem (file, key, value, allowed)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Parameter:
    """A threshold both enforcements share: a Guard `let`, and a key of the policy config."""

    name: str
    type: str
    default: Any
    description: str


@dataclass(frozen=True)
class Requirement:
    """One property check of a preventive policy (`path` as the engine sends it, camelCase)."""

    path: str
    op: str
    value: Any = None
    absent: Any = None  # the provider's behaviour when the input is not set
    has_absent: bool = False


@dataclass(frozen=True)
class Preventive:
    resource: str
    check: str
    remediation: str
    require: tuple[Requirement, ...] = ()
    path: str = ""
    categories: tuple[str, ...] = ()
    input_only: tuple[str, ...] = ()
    when: Requirement | None = None
    companion_type: str = ""
    companion_link: str = ""


@dataclass(frozen=True)
class Detective:
    kind: str  # "managed" | "guard" | "none"
    identifier: str = ""  # managed rule identifier
    trigger: str = ""  # managed rule trigger as AWS documents it
    parameters: dict[str, str] = field(default_factory=dict)  # managed rule input parameters
    guard_file: str = ""
    reason: str = ""  # kind "none": why Config cannot evaluate it


@dataclass(frozen=True)
class Control:
    id: str
    pack: str
    statement: str
    severity: str
    resource_types: tuple[str, ...]
    guidance: tuple[str, ...]
    parameters: dict[str, Parameter]
    preventive: Preventive | None
    detective: Detective
    note: str = ""

    @property
    def unrecorded_types(self) -> tuple[str, ...]:
        """The control's types that AWS Config does not record (not in botocore's enum)."""
        recordable = catalog.recordable_resource_types()
        return tuple(t for t in self.resource_types if t not in recordable)

    @property
    def detective_gap(self) -> str:
        """Why Config does not evaluate this control after a change; "" when it does."""
        if self.detective.kind == "none":
            return self.detective.reason
        if self.detective.trigger == "change" and self.unrecorded_types:
            return (
                f"{self.detective.identifier} is change-triggered, but AWS Config does not record "
                f"{', '.join(self.unrecorded_types)} (not in botocore's ResourceType enum)"
            )
        return ""


# --- loading and validation --------------------------------------------------------------------


def _where(index: int, control_id: Any, key: str) -> str:
    name = control_id if isinstance(control_id, str) else f"#{index}"
    return f"{CATALOG_FILE}: controls[{name}].{key}"


def _unknown_keys(raw: dict, allowed: tuple[str, ...], where: str, problems: list[str]) -> None:
    for key in raw:
        if key not in allowed:
            problems.append(f"{where}: unknown key {key!r}; allowed: {', '.join(allowed)}")


def _parameter(name: str, raw: Any, where: str, problems: list[str]) -> Parameter | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping with type, default, description")
        return None
    _unknown_keys(raw, ("type", "default", "description"), where, problems)
    kind = raw.get("type")
    if kind not in PARAMETER_TYPES:
        problems.append(f"{where}.type: {kind!r} is not one of {', '.join(PARAMETER_TYPES)}")
        return None
    default = raw.get("default")
    error = parameter_problem(kind, default)
    if error:
        problems.append(f"{where}.default: {default!r}: {error}")
    return Parameter(name, kind, default, str(raw.get("description", "")))


def parameter_problem(kind: str, value: Any) -> str:
    """What is wrong with `value` for a parameter of type `kind` ("" when it is fine)."""
    if kind == "strengths":
        accepted = STRENGTHS[1:]
        if (
            not isinstance(value, list)
            or not value
            or any(v not in accepted for v in value)
            or len(set(value)) != len(value)
        ):
            return f"must be a non-empty list of distinct strengths from {', '.join(accepted)}"
        lowest = min(STRENGTHS.index(v) for v in value)
        if sorted(value, key=STRENGTHS.index) != list(STRENGTHS[lowest:]):
            return (
                "must be a strength and every one above it (at or above), e.g. "
                f"{list(STRENGTHS[lowest:])}"
            )
        return ""
    if kind == "threshold":
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 0.99:
            return "must be a number from 0 to 0.99 (Bedrock's contextual grounding range)"
        return ""
    if kind == "string":
        if not isinstance(value, str) or not 1 <= len(value) <= 128:
            return "must be a string of 1-128 characters"
        return ""
    return f"unknown parameter type (allowed: {', '.join(PARAMETER_TYPES)})"


def _requirement(raw: Any, where: str, problems: list[str]) -> Requirement | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("path"), str):
        problems.append(f"{where}: must be a mapping with a path and one of {REQUIREMENT_OPS}")
        return None
    _unknown_keys(raw, ("path", *REQUIREMENT_OPS, "absent"), where, problems)
    ops = [op for op in REQUIREMENT_OPS if op in raw]
    if len(ops) != 1:
        problems.append(f"{where}: needs exactly one of {', '.join(REQUIREMENT_OPS)}; has {ops}")
        return None
    op = ops[0]
    value = raw[op]
    if op == "in" and not (isinstance(value, list) and value):
        problems.append(f"{where}.in: {value!r}: must be a non-empty list")
    if op == "any_present" and not (isinstance(value, list) and value):
        problems.append(f"{where}.any_present: {value!r}: must be a non-empty list of sub-paths")
    if op == "present" and value is not True:
        problems.append(f"{where}.present: {value!r}: must be true")
    return Requirement(raw["path"], op, value, raw.get("absent"), "absent" in raw)


def _preventive(raw: Any, where: str, problems: list[str]) -> Preventive | None:
    if raw is None:
        return None
    allowed = (
        "resource",
        "check",
        "require",
        "path",
        "categories",
        "input_only",
        "when",
        "companion",
        "remediation",
    )
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping")
        return None
    _unknown_keys(raw, allowed, where, problems)
    resource = raw.get("resource")
    if not isinstance(resource, str) or not _PULUMI_TYPE.match(resource):
        problems.append(
            f"{where}.resource: {resource!r}: must be a pulumi-aws type token "
            "(aws:<module>/<name>:<Type>)"
        )
    check = raw.get("check", "require")
    if check not in PREVENTIVE_CHECKS:
        problems.append(f"{where}.check: {check!r} is not one of {', '.join(PREVENTIVE_CHECKS)}")
    require = tuple(
        r
        for i, item in enumerate(raw.get("require") or [])
        if (r := _requirement(item, f"{where}.require[{i}]", problems)) is not None
    )
    if check == "require" and not require:
        problems.append(f"{where}.require: a `require` check needs at least one requirement")
    if check != "require" and not raw.get("path"):
        problems.append(f"{where}.path: the {check} check needs the path of its filter list")
    if check == "content-filters" and not raw.get("categories"):
        problems.append(f"{where}.categories: the content-filters check needs its categories")
    when = _requirement(raw["when"], f"{where}.when", problems) if "when" in raw else None
    companion = raw.get("companion") or {}
    if companion and not (
        isinstance(companion, dict)
        and _PULUMI_TYPE.match(str(companion.get("type", "")))
        and isinstance(companion.get("link"), str)
    ):
        problems.append(
            f"{where}.companion: {companion!r}: needs a pulumi-aws `type` and the "
            "`link` input that names the resource"
        )
        companion = {}
    if not raw.get("remediation"):
        problems.append(f"{where}.remediation: say how to fix a violation")
    return Preventive(
        resource=str(resource),
        check=str(check),
        remediation=str(raw.get("remediation", "")),
        require=require,
        path=str(raw.get("path", "")),
        categories=tuple(raw.get("categories") or ()),
        input_only=tuple(raw.get("input_only") or ()),
        when=when,
        companion_type=str(companion.get("type", "")),
        companion_link=str(companion.get("link", "")),
    )


def _detective(raw: Any, where: str, problems: list[str]) -> Detective:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping with one of managed, guard, none")
        return Detective("none", reason="(invalid)")
    kinds = [k for k in ("managed", "guard", "none") if k in raw]
    if len(kinds) != 1:
        problems.append(f"{where}: needs exactly one of managed, guard, none; has {kinds}")
        return Detective("none", reason="(invalid)")
    kind = kinds[0]
    if kind == "managed":
        _unknown_keys(raw, ("managed", "trigger", "parameters"), where, problems)
        identifier = raw["managed"]
        if identifier not in catalog.rules_by_identifier():
            problems.append(
                f"{where}.managed: {identifier!r} is not in the managed-rule catalog "
                "(src/configtrail/data/managed_rules.yaml)"
            )
        if raw.get("trigger") not in TRIGGERS:
            problems.append(
                f"{where}.trigger: {raw.get('trigger')!r}: one of {', '.join(TRIGGERS)}"
                " (as AWS documents the managed rule)"
            )
        parameters = raw.get("parameters") or {}
        if not isinstance(parameters, dict) or not all(
            isinstance(v, str) for v in parameters.values()
        ):
            problems.append(f"{where}.parameters: managed rule input parameters are strings")
            parameters = {}
        return Detective(
            "managed",
            identifier=str(identifier),
            trigger=str(raw.get("trigger")),
            parameters=dict(parameters),
        )
    if kind == "guard":
        _unknown_keys(raw, ("guard",), where, problems)
        name = raw["guard"]
        if not isinstance(name, str) or not guard_file_exists(name):
            problems.append(f"{where}.guard: {name!r}: no such file in src/configtrail/data/guard/")
        return Detective("guard", guard_file=str(name), trigger="change")
    _unknown_keys(raw, ("none",), where, problems)
    if not isinstance(raw["none"], str) or not raw["none"].strip():
        problems.append(f"{where}.none: say why AWS Config cannot evaluate this control")
    return Detective("none", reason=str(raw["none"]))


def guard_file_exists(name: str) -> bool:
    return resources.files("configtrail.data").joinpath("guard").joinpath(name).is_file()


def guard_source(name: str) -> str:
    """The shipped text of a Guard rule file (`data/guard/<name>`)."""
    return (
        resources.files("configtrail.data")
        .joinpath("guard")
        .joinpath(name)
        .read_text(encoding="utf-8")
    )


def parse(document: Any) -> tuple[dict[str, str], tuple[Control, ...]]:
    """Packs and controls from the parsed catalog; ControlCatalogError lists every problem."""
    problems: list[str] = []
    if not isinstance(document, dict):
        raise ControlCatalogError([f"{CATALOG_FILE}: must be a mapping with packs and controls"])
    _unknown_keys(document, ("packs", "controls"), CATALOG_FILE, problems)
    packs = document.get("packs") or {}
    controls: list[Control] = []
    seen: set[str] = set()
    recordable = catalog.recordable_resource_types()
    allowed = (
        "id",
        "pack",
        "statement",
        "severity",
        "resource_types",
        "guidance",
        "parameters",
        "preventive",
        "detective",
        "note",
    )
    for index, raw in enumerate(document.get("controls") or []):
        if not isinstance(raw, dict):
            problems.append(f"{CATALOG_FILE}: controls[#{index}]: must be a mapping")
            continue
        cid = raw.get("id")
        _unknown_keys(raw, allowed, _where(index, cid, "")[:-1], problems)
        if not isinstance(cid, str) or not _ID.match(cid):
            problems.append(f"{_where(index, cid, 'id')}: {cid!r}: lowercase words joined by '-'")
            continue
        if cid in seen:
            problems.append(f"{_where(index, cid, 'id')}: {cid!r} appears twice")
        seen.add(cid)
        if raw.get("pack") not in packs:
            problems.append(
                f"{_where(index, cid, 'pack')}: {raw.get('pack')!r}; allowed: {', '.join(packs)}"
            )
        statement = raw.get("statement")
        if not isinstance(statement, str) or not statement.endswith("."):
            problems.append(f"{_where(index, cid, 'statement')}: one sentence, ending in '.'")
        if raw.get("severity") not in SEVERITIES:
            problems.append(
                f"{_where(index, cid, 'severity')}: {raw.get('severity')!r}; allowed: "
                f"{', '.join(SEVERITIES)}"
            )
        types = raw.get("resource_types")
        if not isinstance(types, list):
            problems.append(f"{_where(index, cid, 'resource_types')}: must be a list")
            types = []
        for t in types:
            if not isinstance(t, str) or not _TYPE.match(t):
                problems.append(f"{_where(index, cid, 'resource_types')}: {t!r} is not AWS::X::Y")
        parameters = {}
        for name, spec in (raw.get("parameters") or {}).items():
            parameter = _parameter(name, spec, _where(index, cid, f"parameters.{name}"), problems)
            if parameter is not None:
                parameters[name] = parameter
        preventive = _preventive(raw.get("preventive"), _where(index, cid, "preventive"), problems)
        detective = _detective(raw.get("detective"), _where(index, cid, "detective"), problems)
        if detective.kind == "guard":
            unrecorded = [t for t in types if t not in recordable]
            if unrecorded or not types:
                problems.append(
                    f"{_where(index, cid, 'detective.guard')}: a Guard rule evaluates recorded "
                    f"configuration items, but AWS Config does not record {unrecorded or types}"
                )
            if guard_file_exists(detective.guard_file):
                problems += _guard_problems(cid, detective.guard_file, parameters)
        if not raw.get("guidance"):
            problems.append(f"{_where(index, cid, 'guidance')}: name the benchmark or AWS guidance")
        controls.append(
            Control(
                id=cid,
                pack=str(raw.get("pack")),
                statement=str(statement),
                severity=str(raw.get("severity")),
                resource_types=tuple(types),
                guidance=tuple(raw.get("guidance") or ()),
                parameters=parameters,
                preventive=preventive,
                detective=detective,
                note=" ".join(str(raw.get("note", "")).split()),
            )
        )
    if problems:
        raise ControlCatalogError(problems)
    return dict(packs), tuple(controls)


def _guard_problems(cid: str, name: str, parameters: dict[str, Parameter]) -> list[str]:
    text = guard_source(name)
    where = f"src/configtrail/data/guard/{name}"
    problems = []
    lets = dict(_LET.findall(text))
    for parameter in parameters.values():
        if parameter.name not in lets:
            problems.append(
                f"{where}: control {cid} parameter {parameter.name!r} has no "
                f"`let {parameter.name} = ...` line to render"
            )
        elif json.loads(lets[parameter.name]) != parameter.default:
            problems.append(
                f"{where}: `let {parameter.name}` is {lets[parameter.name]} but the "
                f"catalog default is {json.dumps(parameter.default)}"
            )
    used = [f for f in GUARD3_FUNCTIONS if f in text]
    if used:
        problems.append(f"{where}: uses Guard 3 functions {used}; AWS Config runs guard-2.x.x")
    return problems


@cache
def _loaded() -> tuple[dict[str, str], tuple[Control, ...]]:
    import yaml

    text = resources.files("configtrail.data").joinpath("ai_controls.yaml").read_text("utf-8")
    return parse(yaml.safe_load(text))


def packs() -> dict[str, str]:
    """Pack name -> description."""
    return _loaded()[0]


def controls() -> tuple[Control, ...]:
    """Every control, in catalog order."""
    return _loaded()[1]


def by_id() -> dict[str, Control]:
    return {control.id: control for control in controls()}


# --- selection and rendering for a stack ------------------------------------------------------


def select(names: list[str], exclude: list[str] = (), source: str = "selection") -> list[Control]:
    """The controls named by `names` (control ids or pack names), minus `exclude`, in catalog
    order. `source` names where the list came from (e.g. `environments/Pulumi.ml-dev.yaml:
    configtrail:aiControls`) for the one-line error an unknown name gets."""
    known = by_id()
    pack_names = packs()
    problems = []
    chosen: set[str] = set()
    for name in names:
        if name in pack_names:
            chosen.update(c.id for c in controls() if c.pack == name)
        elif name in known:
            chosen.add(name)
        else:
            problems.append(
                f"{source}: {name!r} is not an AI control or pack; allowed: packs "
                f"{', '.join(pack_names)}, or control ids {', '.join(known)}"
            )
    for name in exclude:
        if name not in known:
            problems.append(
                f"{source}: exclude {name!r} is not an AI control id; allowed: {', '.join(known)}"
            )
        chosen.discard(name)
    if problems:
        raise ControlCatalogError(problems)
    return [control for control in controls() if control.id in chosen]


def resolved_parameters(
    control: Control, overrides: dict[str, Any] | None = None, source: str = "parameters"
) -> dict[str, Any]:
    """The control's parameters: catalog defaults, replaced by `overrides` (validated)."""
    values = {name: p.default for name, p in control.parameters.items()}
    problems = []
    for name, value in (overrides or {}).items():
        parameter = control.parameters.get(name)
        if parameter is None:
            problems.append(
                f"{source}: {control.id}.{name}: unknown parameter; allowed: "
                f"{', '.join(control.parameters) or 'none'}"
            )
            continue
        error = parameter_problem(parameter.type, value)
        if error:
            problems.append(f"{source}: {control.id}.{name}: {value!r}: {error}")
        values[name] = value
    if problems:
        raise ControlCatalogError(problems)
    return values


def guard_policy_text(control: Control, overrides: dict[str, Any] | None = None) -> str:
    """The Guard rule as deployed: the shipped file with each parameter's `let` set to the stack's
    value, full-line comments dropped (Config allows 10,000 characters of policy text)."""
    if control.detective.kind != "guard":
        raise ValueError(f"control {control.id} has no Guard rule")
    values = resolved_parameters(control, overrides)

    def render(match: re.Match) -> str:
        name = match.group(1)
        if name in values:
            return f"let {name} = {json.dumps(values[name])}"
        return match.group(0)

    text = _LET.sub(render, guard_source(control.detective.guard_file))
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return "\n".join(lines).strip() + "\n"


def managed_identifiers(selected: list[Control]) -> list[str]:
    """The AWS-managed rule identifiers the selected controls rely on after a change (for the
    stack's managed-rule selection, `configtrail:rules`), in catalog order, each once."""
    return list(
        dict.fromkeys(c.detective.identifier for c in selected if c.detective.kind == "managed")
    )


def parameter_problems(
    selected: list[Control], parameters: dict[str, dict[str, Any]], source: str
) -> list[str]:
    """One line per bad parameter override (unknown control, control not selected, unknown
    parameter, bad value), for a settings validator to report with the stack file's name."""
    chosen = {c.id: c for c in selected}
    problems = []
    for control_id, values in parameters.items():
        if control_id not in chosen:
            known = ", ".join(c.id for c in selected if c.parameters) or "none"
            problems.append(
                f"{source}: {control_id!r} is not a selected control with "
                f"parameters; allowed: {known}"
            )
            continue
        try:
            resolved_parameters(chosen[control_id], values, source)
        except ControlCatalogError as error:
            problems += error.problems
    return problems
