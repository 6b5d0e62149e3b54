"""The Pulumi -> Terraform type map (data: configtrail/data/terraform_types.yaml), loaded and
checked once. A malformed map is a `TypeMapError` naming the file, the key and what is allowed."""

from __future__ import annotations

import fnmatch
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "terraform_types.yaml"


class TypeMapError(ValueError):
    """The type-map file is unusable; the message names file, key and what is allowed."""


@dataclass(frozen=True)
class Mapping:
    """One Pulumi resource type written as one Terraform resource type."""

    pulumi_type: str
    terraform: str
    blocks: dict[str, str]  # Pulumi name of a repeated block -> Terraform block name
    reads: tuple[str, ...]  # Terraform attribute paths checkov reads (round-trip tested)


@dataclass(frozen=True)
class TypeMap:
    maps: frozenset[str]  # Pulumi attribute names whose objects are maps, not blocks
    mapped: dict[str, Mapping]
    unmapped: dict[str, str]  # type token or fnmatch pattern -> reason

    def mapping(self, pulumi_type: str) -> Mapping | None:
        return self.mapped.get(pulumi_type)

    def unmapped_reason(self, pulumi_type: str) -> str | None:
        """The written reason a type is left out of the Terraform plan, or None if it is not."""
        for pattern, reason in self.unmapped.items():
            if fnmatch.fnmatchcase(pulumi_type, pattern):
                return reason
        return None


def _fail(path: Path, key: str, problem: str) -> TypeMapError:
    return TypeMapError(f"{path}: {key}: {problem}")


def _str_dict(path: Path, key: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()
    ):
        raise _fail(path, key, f"expected a mapping of names to non-empty text, got {value!r}")
    return dict(value)


def _mapping(path: Path, token: str, entry: Any) -> Mapping:
    key = f"mapped.{token}"
    if not isinstance(entry, dict):
        raise _fail(path, key, f"expected a mapping with 'terraform', got {entry!r}")
    unknown = set(entry) - {"terraform", "blocks", "reads"}
    if unknown:
        raise _fail(
            path, key, f"unknown keys {sorted(unknown)} (allowed: terraform, blocks, reads)"
        )
    terraform = entry.get("terraform")
    if not isinstance(terraform, str) or not terraform.startswith("aws_"):
        raise _fail(path, f"{key}.terraform", f"expected a Terraform type aws_*, got {terraform!r}")
    reads = entry.get("reads") or []
    if not isinstance(reads, list) or not all(isinstance(r, str) and r for r in reads):
        raise _fail(path, f"{key}.reads", f"expected a list of attribute paths, got {reads!r}")
    return Mapping(
        token, terraform, _str_dict(path, f"{key}.blocks", entry.get("blocks")), tuple(reads)
    )


def parse(raw: Any, path: Path) -> TypeMap:
    """A TypeMap from the YAML document `raw` read from `path` (named in errors)."""
    if not isinstance(raw, dict):
        raise _fail(path, "(top level)", "expected a mapping with 'mapped' and 'unmapped'")
    unknown = set(raw) - {"maps", "mapped", "unmapped"}
    if unknown:
        raise _fail(
            path, "(top level)", f"unknown keys {sorted(unknown)} (allowed: maps, mapped, unmapped)"
        )
    maps = raw.get("maps") or []
    if not isinstance(maps, list) or not all(isinstance(m, str) for m in maps):
        raise _fail(path, "maps", f"expected a list of attribute names, got {maps!r}")
    mapped_raw = raw.get("mapped")
    if not isinstance(mapped_raw, dict) or not mapped_raw:
        raise _fail(path, "mapped", "expected a non-empty mapping of Pulumi type tokens")
    mapped = {token: _mapping(path, token, entry) for token, entry in mapped_raw.items()}
    targets = [m.terraform for m in mapped.values()]
    duplicated = sorted({t for t in targets if targets.count(t) > 1})
    if duplicated:
        raise _fail(path, "mapped", f"Terraform types mapped more than once: {duplicated}")
    unmapped = _str_dict(path, "unmapped", raw.get("unmapped"))
    both = sorted(t for t in mapped if any(fnmatch.fnmatchcase(t, p) for p in unmapped))
    if both:
        raise _fail(path, "unmapped", f"types both mapped and unmapped: {both}")
    return TypeMap(frozenset(maps), mapped, unmapped)


@functools.cache
def load(path: Path = DEFAULT_PATH) -> TypeMap:
    """The type map in `path` (cached)."""
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise TypeMapError(f"{path}: cannot read the type map: {error}") from None
    return parse(raw, path)
