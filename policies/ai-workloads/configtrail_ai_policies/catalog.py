"""The preventive half of the AI control catalog, read where the pack runs.

`ai_controls.yaml` beside this module is a link to the repository's catalog
(src/configtrail/data/ai_controls.yaml), so there is one file; `pulumi policy publish` archives
the linked file's content. The repository's loader (`configtrail.controls`) validates the whole
catalog; this reader takes only what the policies need and needs nothing but PyYAML, so the pack
installs from its requirements.txt alone. tests/ai_controls keep the two readings equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CATALOG = Path(__file__).with_name("ai_controls.yaml")


@dataclass(frozen=True)
class Requirement:
    path: str
    op: str  # equals | in | present | any_present
    value: Any = None
    absent: Any = None
    has_absent: bool = False


@dataclass(frozen=True)
class PolicySpec:
    """One control's preventive policy."""

    control_id: str
    statement: str
    severity: str
    guidance: tuple[str, ...]
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
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)


def _requirement(raw: dict) -> Requirement:
    op = next(op for op in ("equals", "in", "present", "any_present") if op in raw)
    return Requirement(raw["path"], op, raw[op], raw.get("absent"), "absent" in raw)


@cache
def specs(path: Path = CATALOG) -> tuple[PolicySpec, ...]:
    """Every control with a preventive policy, in catalog order."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    found = []
    for control in document["controls"]:
        preventive = control.get("preventive")
        if not preventive:
            continue
        companion = preventive.get("companion") or {}
        found.append(
            PolicySpec(
                control_id=control["id"],
                statement=control["statement"],
                severity=control["severity"],
                guidance=tuple(control.get("guidance") or ()),
                resource=preventive["resource"],
                check=preventive.get("check", "require"),
                remediation=preventive["remediation"],
                require=tuple(_requirement(r) for r in preventive.get("require") or ()),
                path=preventive.get("path", ""),
                categories=tuple(preventive.get("categories") or ()),
                input_only=tuple(preventive.get("input_only") or ()),
                when=_requirement(preventive["when"]) if "when" in preventive else None,
                companion_type=companion.get("type", ""),
                companion_link=companion.get("link", ""),
                parameters=dict(control.get("parameters") or {}),
            )
        )
    return tuple(found)
