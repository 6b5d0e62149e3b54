"""Read the resource states the engine would hand to the policy pack, from the files the Pulumi
CLI writes — a verdict or a clear `PolicyInputError` (exit 2), never a traceback:

- `pulumi stack export`: `{"version": 1-4, "deployment": {...}}` (version 4 when a stack uses newer
  features, which are checked against the features Pulumi itself accepts);
- a backend's checkpoint file (`.pulumi/stacks/<stack>.json`, self-managed backends):
  `{"version": 1-4, "checkpoint": {"latest": {...}}}`, and the unversioned v0 `{"latest": {...}}`;
- `pulumi preview --json`: `steps[].newState`, the state each step leaves (unknowns as sentinels,
  secrets masked as "[secret]"). A real preview usually carries no `newState.outputs`; the engine
  judges each resource's state after its step, which for a planned step is its inputs, so the
  inputs stand in for missing outputs;
- an engine event log (`pulumi preview|up --event-log FILE`, one JSON event a line): the `new`
  state of each resource's last step event (inputs where it has no outputs yet).

A preview of an existing stack lists only *changed* resources unless run with `--show-sames`;
stack policies would then judge a partial graph, so such a file is refused with that advice. An
export with pending operations (an interrupted update) is refused too: until `pulumi refresh`
settles them, the file does not say what exists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Preview steps whose newState is not part of the stack after the operation.
_GONE_OPS = {"delete", "delete-replaced", "discard", "discard-replaced", "remove-pending-replace"}
# Deployment features Pulumi's own reader accepts in a version-4 file
# (pulumi/pkg/resource/stack/deployment.go, supportedFeatures).
SUPPORTED_FEATURES = frozenset(
    {
        "refreshBeforeUpdate",
        "views",
        "hooks",
        "taint",
        "replaceWith",
        "snippets-prototype",
        "extensionParameterization",
        "byteString",
    }
)
VERSIONS = (1, 2, 3, 4)


class PolicyInputError(Exception):
    """A file that cannot be evaluated: the message names the file and what is wrong."""


@dataclass
class State:
    """One resource as the engine holds it. `outputs` is None when the file has none."""

    urn: str
    type: str
    custom: bool
    inputs: dict
    outputs: dict | None
    parent: str = ""
    provider: str = ""
    protect: bool = False
    external: bool = False
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    additional_secret_outputs: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    ignore_changes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def final(self) -> dict:
        """The state after the step: its outputs, or its inputs when the file has no outputs."""
        return self.outputs if self.outputs is not None else self.inputs


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


def _object(raw: dict, key: str, source: str, where: str) -> dict | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, dict):
        raise PolicyInputError(f"{source}: {where}.{key}: must be an object")
    return value


def _strings(raw: dict, key: str, source: str, where: str) -> list[str]:
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise PolicyInputError(f"{source}: {where}.{key}: must be a list")
    return [item for item in value if isinstance(item, str)]


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
    dependencies = _object(raw, "propertyDependencies", source, where) or {}
    for key, urns in dependencies.items():
        if urns is not None and not isinstance(urns, list):
            raise PolicyInputError(f"{source}: {where}.propertyDependencies.{key}: must be a list")
    if raw.get("provider") is not None and not isinstance(raw["provider"], str):
        raise PolicyInputError(f"{source}: {where}.provider: must be a string")
    return State(
        urn=urn,
        type=raw["type"],
        custom=bool(raw.get("custom", False)),
        inputs=_object(raw, "inputs", source, where) or {},
        outputs=_object(raw, "outputs", source, where),
        parent=raw.get("parent") or "",
        provider=raw.get("provider") or "",
        protect=bool(raw.get("protect", False)),
        external=bool(raw.get("external", False)),
        dependencies=_strings(raw, "dependencies", source, where),
        property_dependencies={
            key: [u for u in urns or [] if isinstance(u, str)] for key, urns in dependencies.items()
        },
        additional_secret_outputs=_strings(raw, "additionalSecretOutputs", source, where),
        aliases=_strings(raw, "aliases", source, where),
        ignore_changes=_strings(raw, "ignoreChanges", source, where),
    )


def _stack_and_project(states: list[State], source: str) -> tuple[str, str]:
    if not states:
        raise PolicyInputError(f"{source}: contains no resources to evaluate")
    # urn:pulumi:<stack>::<project>::<type>::<name>
    head = states[0].urn.removeprefix("urn:pulumi:")
    stack, project = head.split("::")[:2]
    return stack, project


def _version(document: dict, source: str, what: str) -> int:
    version = document.get("version")
    if version not in VERSIONS:
        newer = isinstance(version, int) and version > VERSIONS[-1]
        raise PolicyInputError(
            f"{source}: {what} version {version!r} is not supported: Pulumi reads versions "
            f"{VERSIONS[0]} to {VERSIONS[-1]}"
            + (" (the file was written by a newer Pulumi)" if newer else "")
        )
    if version >= 4:
        features = document.get("features") or []
        unsupported = sorted(
            str(f)
            for f in (features if isinstance(features, list) else [features])
            if f not in SUPPORTED_FEATURES
        )
        if unsupported:
            raise PolicyInputError(
                f"{source}: the {what} needs deployment features that Pulumi does not know "
                f"({', '.join(unsupported)}): it was written by a newer Pulumi; export it with "
                "the Pulumi version the stack uses"
            )
    return version


def _snapshot(deployment: Any, source: str, where: str) -> Deployment:
    """A deployment (`deployment`, `checkpoint.latest` or v0 `latest`) of any version."""
    if not isinstance(deployment, dict):
        raise PolicyInputError(f"{source}: {where}: must be an object")
    resources = deployment.get("resources") or []
    if not isinstance(resources, list):
        raise PolicyInputError(f"{source}: {where}.resources: must be a list")
    pending = deployment.get("pending_operations") or []
    if pending:
        shown = ", ".join(
            f"{op.get('type', '?')} {(op.get('resource') or {}).get('urn', '?')}"
            for op in pending[:3]
            if isinstance(op, dict)
        )
        raise PolicyInputError(
            f"{source}: {len(pending)} pending operation(s) ({shown}): an update was interrupted, "
            "so the file does not say which of these resources exist. Run `pulumi refresh` (it "
            "resolves them), then export again"
        )
    states = [
        _state(raw, source, f"{where}.resources[{index}]")
        for index, raw in enumerate(resources)
        if not (isinstance(raw, dict) and raw.get("delete"))  # pending deletes of replaced
    ]
    return Deployment(source, "stack-export", states, *_stack_and_project(states, source))


def parse(document: Any, source: str) -> Deployment:
    """A Deployment from a parsed JSON document of any kind above."""
    if isinstance(document, dict) and "deployment" in document:
        _version(document, source, "stack export")
        return _snapshot(document["deployment"], source, "deployment")
    if isinstance(document, dict) and "checkpoint" in document:
        version = _version(document, source, "checkpoint")
        checkpoint = document["checkpoint"]
        if not isinstance(checkpoint, dict):
            raise PolicyInputError(f"{source}: checkpoint: must be an object")
        latest = checkpoint.get("latest", checkpoint.get("Latest"))
        if latest is None:
            raise PolicyInputError(f"{source}: checkpoint (version {version}) has no deployment")
        return _snapshot(latest, source, "checkpoint.latest")
    if isinstance(document, dict) and "latest" in document and "version" not in document:
        return _snapshot(document["latest"], source, "latest")  # version 0 checkpoint
    if isinstance(document, dict) and isinstance(document.get("steps"), list):
        return _preview(document, source)
    raise PolicyInputError(
        f"{source}: unknown format: expected `pulumi stack export` output (a 'version' and a "
        "'deployment' object), a backend checkpoint, or `pulumi preview --json` output (a "
        "'steps' list)"
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


_STEP_EVENTS = ("resourcePreEvent", "resOutputsEvent")


def parse_event_log(events: list[dict], source: str) -> Deployment:
    """A Deployment from an engine event log: each resource's state after its last step."""
    by_urn: dict[str, State] = {}
    planning = False
    for number, event in enumerate(events, start=1):
        for kind in _STEP_EVENTS:
            payload = event.get(kind)
            if not isinstance(payload, dict):
                continue
            planning = planning or bool(payload.get("planning"))
            metadata = payload.get("metadata") or {}
            op, new = metadata.get("op"), metadata.get("new")
            if op in _GONE_OPS or not isinstance(new, dict):
                if op == "delete" and isinstance(metadata.get("urn"), str):
                    by_urn.pop(metadata["urn"], None)
                continue
            state = _state(new, source, f"line {number}: {kind}.metadata.new")
            if not state.outputs:  # a step event before its outputs: judge its inputs
                state.outputs = None
            by_urn[state.urn] = state
    states = list(by_urn.values())
    kind = "preview" if planning else "update-log"
    return Deployment(source, kind, states, *_stack_and_project(states, source))


def _event_lines(text: str, source: str) -> list[dict] | None:
    """The events of a JSON-lines engine event log, or None when `text` is not one."""
    events = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            return None
        if not isinstance(event, dict) or "sequence" not in event:
            return None
        events.append(event)
    return events or None


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
        events = _event_lines(text, str(path))
        if events is None:
            raise PolicyInputError(f"{path}: not valid JSON: {error}") from None
        return parse_event_log(events, str(path))
    if isinstance(document, dict) and "sequence" in document and "deployment" not in document:
        return parse_event_log([document], str(path))
    return parse(document, str(path))
