"""Read the resource states the engine would hand to the policy pack, from either file the Pulumi
CLI writes:

- `pulumi stack export` (version 3): `deployment.resources[]`, the state after an `up`;
- `pulumi preview --json`: `steps[].newState`, the state a preview plans (unknowns as sentinels).

A preview of an existing stack lists only *changed* resources unless run with `--show-sames`;
stack policies would then judge a partial graph, so such a file is refused with that advice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Preview steps whose newState is not part of the stack after the operation.
_GONE_OPS = {"delete", "delete-replaced", "discard", "discard-replaced", "remove-pending-replace"}


class PolicyInputError(Exception):
    """A file that cannot be evaluated: the message names the file and what is wrong."""


@dataclass
class State:
    """One resource as `pulumi stack export` stores it."""

    urn: str
    type: str
    custom: bool
    inputs: dict
    outputs: dict
    parent: str = ""
    provider: str = ""
    protect: bool = False
    external: bool = False
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    additional_secret_outputs: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


@dataclass
class Deployment:
    """The resources of one file, and whether they come from a preview (`dry_run`)."""

    source: str
    kind: str  # "stack-export" | "preview"
    resources: list[State]
    stack: str
    project: str

    @property
    def dry_run(self) -> bool:
        return self.kind == "preview"


def _state(raw: Any, source: str, where: str) -> State:
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("urn"), str)
        or not isinstance(raw.get("type"), str)
    ):
        raise PolicyInputError(f"{source}: {where}: not a resource state (needs 'urn' and 'type')")
    urn = raw["urn"]
    if not urn.startswith("urn:pulumi:") or urn.count("::") < 3:
        raise PolicyInputError(f"{source}: {where}: {urn!r} is not a Pulumi URN")
    for key in ("inputs", "outputs", "propertyDependencies"):
        if raw.get(key) is not None and not isinstance(raw[key], dict):
            raise PolicyInputError(f"{source}: {where}.{key}: must be an object")
    return State(
        urn=urn,
        type=raw["type"],
        custom=bool(raw.get("custom", False)),
        inputs=raw.get("inputs") or {},
        outputs=raw.get("outputs") or {},
        parent=raw.get("parent") or "",
        provider=raw.get("provider") or "",
        protect=bool(raw.get("protect", False)),
        external=bool(raw.get("external", False)),
        dependencies=list(raw.get("dependencies") or []),
        property_dependencies={
            key: list(urns or []) for key, urns in (raw.get("propertyDependencies") or {}).items()
        },
        additional_secret_outputs=list(raw.get("additionalSecretOutputs") or []),
        aliases=[a for a in raw.get("aliases") or [] if isinstance(a, str)],
    )


def _stack_and_project(states: list[State], source: str) -> tuple[str, str]:
    if not states:
        raise PolicyInputError(f"{source}: contains no resources to evaluate")
    # urn:pulumi:<stack>::<project>::<type>::<name>
    head = states[0].urn.removeprefix("urn:pulumi:")
    stack, project = head.split("::")[:2]
    return stack, project


def parse(document: Any, source: str) -> Deployment:
    """A Deployment from a parsed JSON document of either kind."""
    if isinstance(document, dict) and "deployment" in document:
        version = document.get("version")
        if version != 3:
            raise PolicyInputError(
                f"{source}: stack export version {version!r} is not supported (expected 3, "
                "as written by `pulumi stack export` of Pulumi 3.x)"
            )
        deployment = document["deployment"]
        resources = deployment.get("resources") if isinstance(deployment, dict) else None
        if not isinstance(resources, list):
            raise PolicyInputError(f"{source}: deployment.resources: must be a list")
        states = [
            _state(raw, source, f"deployment.resources[{index}]")
            for index, raw in enumerate(resources)
            if not (isinstance(raw, dict) and raw.get("delete"))  # pending deletes of replaced
        ]
        return Deployment(source, "stack-export", states, *_stack_and_project(states, source))
    if isinstance(document, dict) and isinstance(document.get("steps"), list):
        return _preview(document, source)
    raise PolicyInputError(
        f"{source}: unknown format: expected `pulumi stack export` output (a 'version' 3 and "
        "'deployment' object) or `pulumi preview --json` output (a 'steps' list)"
    )


def _preview(document: dict, source: str) -> Deployment:
    by_urn: dict[str, State] = {}
    sames = 0
    for index, step in enumerate(document["steps"]):
        if not isinstance(step, dict):
            raise PolicyInputError(f"{source}: steps[{index}]: must be an object")
        op = step.get("op")
        sames += op == "same"
        if op in _GONE_OPS or step.get("newState") is None:
            continue
        state = _state(step["newState"], source, f"steps[{index}].newState")
        by_urn[state.urn] = state  # a replacement lists the same new state more than once
    summary = document.get("changeSummary") or {}
    expected_sames = summary.get("same", 0) if isinstance(summary, dict) else 0
    if isinstance(expected_sames, int) and expected_sames > sames:
        raise PolicyInputError(
            f"{source}: the preview leaves out {expected_sames - sames} unchanged resource(s), "
            "so stack policies would judge a partial stack; re-run `pulumi preview --json "
            "--show-sames`"
        )
    states = list(by_urn.values())
    return Deployment(source, "preview", states, *_stack_and_project(states, source))


def load(path: Path) -> Deployment:
    """Read and parse one file; PolicyInputError (never a traceback) when it is unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyInputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyInputError(f"{path}: cannot be read: {error}") from None
    try:
        document = json.loads(text)
    except ValueError as error:
        raise PolicyInputError(f"{path}: not valid JSON: {error}") from None
    return parse(document, str(path))
