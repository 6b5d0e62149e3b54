"""The checks a generated policy runs on `args.props` (the engine's camelCase wire names).

Paths are dotted; `[*]` means every item of a list (and at least one). A value the engine does not
know yet (a preview, before the resource it depends on exists) raises the SDK's public
`UnknownValueError` when read; a check that meets one cannot decide and reports nothing — the
stack's next preview or its `pulumi stack export` is judged once the value is known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from configtrail_ai_policies.catalog import PolicySpec, Requirement

STRENGTHS = ("NONE", "LOW", "MEDIUM", "HIGH")
MISSING = object()


def values_at(props: Any, path: str) -> list[Any]:
    """The values at `path`: one (or MISSING) for a plain path; one per item under `[*]`
    (none when the list is absent or empty)."""
    current = [props]
    for part in path.split("."):
        star = part.endswith("[*]")
        key = part.removesuffix("[*]")
        nxt = []
        for value in current:
            item = value.get(key, MISSING) if isinstance(value, Mapping) else MISSING
            if item is None:
                item = MISSING
            if star:
                if isinstance(item, Sequence) and not isinstance(item, str):
                    nxt.extend(item)
            else:
                nxt.append(item)
        current = nxt
    return current


def _present(value: Any) -> bool:
    if value is MISSING or value is None:
        return False
    if isinstance(value, str | Sequence | Mapping):
        return len(value) > 0
    return True


def requirement_problem(props: Any, requirement: Requirement) -> str:
    """Why `props` fail `requirement` ("" when they pass)."""
    values = values_at(props, requirement.path)
    if "[*]" in requirement.path and not values:
        return f"{requirement.path.split('[*]')[0]} is not set"
    for value in values:
        if value is MISSING and requirement.has_absent:
            value = requirement.absent
        shown = "not set" if value is MISSING else f"{value!r}"
        if requirement.op == "equals" and value != requirement.value:
            return f"{requirement.path} is {shown}; must be {requirement.value!r}"
        if requirement.op == "in" and value not in requirement.value:
            return f"{requirement.path} is {shown}; must be one of {list(requirement.value)}"
        if requirement.op == "present" and not _present(value):
            return f"{requirement.path} is {shown if value is not MISSING else 'not set'}"
        if requirement.op == "any_present" and not any(
            _present(v) for sub in requirement.value for v in values_at(value, sub)
        ):
            return f"{requirement.path} sets none of {', '.join(requirement.value)}"
    return ""


def content_filter_problems(props: Any, spec: PolicySpec, allowed: list[str]) -> list[str]:
    """Every category needs a filter with strengths in `allowed`, enabled and blocking."""
    filters = [f for f in values_at(props, spec.path + "[*]") if isinstance(f, Mapping)]
    problems = []
    for category in spec.categories:
        found = [f for f in filters if f.get("type") == category]
        if not found:
            problems.append(f"no {category} content filter")
            continue
        directions = ("input",) if category in spec.input_only else ("input", "output")
        for f in found:
            for direction in directions:
                strength = f.get(f"{direction}Strength")
                if strength not in allowed:
                    problems.append(
                        f"{category} {direction} strength {strength!r} is below {allowed}"
                    )
                if f.get(f"{direction}Enabled") is False:
                    problems.append(f"{category} filter is switched off for {direction}")
                if f.get(f"{direction}Action") == "NONE":
                    problems.append(f"{category} filter only detects {direction} (action NONE)")
    return problems


def grounding_problems(props: Any, spec: PolicySpec, config: Mapping[str, Any]) -> list[str]:
    """Guardrails tagged as grounding-required need GROUNDING and RELEVANCE filters at or above
    the minimum thresholds; others are not concerned."""
    tags = props.get("tags") or {}
    key, wanted = config["grounding_tag_key"], config["grounding_tag_value"]
    if not isinstance(tags, Mapping) or tags.get(key) != wanted:
        return []
    filters = [f for f in values_at(props, spec.path + "[*]") if isinstance(f, Mapping)]
    problems = []
    for kind, minimum in (
        ("GROUNDING", config["minimum_grounding_threshold"]),
        ("RELEVANCE", config["minimum_relevance_threshold"]),
    ):
        thresholds = [f.get("threshold") for f in filters if f.get("type") == kind]
        if not thresholds:
            problems.append(f"tagged {key}={wanted} but has no {kind} filter")
        for threshold in thresholds:
            if not isinstance(threshold, int | float) or threshold < minimum:
                problems.append(f"{kind} threshold {threshold!r} is below {minimum}")
    return problems
