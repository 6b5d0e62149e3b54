"""`configtrail settings`: the environment settings reference, generated from the settings model
(field names, defaults, allowed values and descriptions), so the README cannot drift from code."""

from __future__ import annotations

import argparse
import json
import typing
from pathlib import Path

from configtrail import catalog
from configtrail.settings import NAMESPACE, STACK_KINDS, Settings, SettingsError, field_kinds

# Allowed values that live outside the type annotation (validated against catalogs and botocore).
_ALLOWED = {
    "regions": "AWS regions where Config is offered (botocore)",
    "extraResourceTypes": "types in botocore's Config `ResourceType` list",
    "dailyResourceTypes": "types in botocore's Config `ResourceType` list",
    "deliveryFrequency": lambda: ", ".join(catalog.execution_frequencies()),
    "ruleFrequency": lambda: ", ".join(catalog.execution_frequencies()),
    "keyPrefix": "S3 key segments, no leading/trailing `/`, no `AWSLogs`",
    "retentionDays": "30-2557",
    "archiveTransitionDays": ">= 30, or null (never)",
    "archiveExpirationDays": ">= retentionDays, or null (never)",
    "vaultRetentionDays": "1-36500, or null (= retentionDays)",
    "vaultRegion": "an AWS region, or null (= home region)",
    "rules": lambda: "packs " + ", ".join(catalog.rule_packs()) + ", or rule identifiers",
    "excludeRules": "rule identifiers from the catalog",
    "tags": "string map; owner, environment, ai-system, data-classification required",
    "recorderName": "1-256 of letters, digits, `.`, `_`, `-`, or null",
    "accountId": "12 digits, quoted",
    "archiveStack": "the name of an `archive` stack file, or null",
    "organizationId": "`o-` and 10-32 lowercase letters or digits, or null",
    "ruleParameters": "`IDENTIFIER: {parameter: value}` for selected rules, per the catalog",
    "existingRecorderName": "1-256 of letters, digits, `.`, `_`, `-`",
    "existingDeliveryChannelName": "1-256 of letters, digits, `.`, `_`, `-`",
}


def _allowed(alias: str, annotation) -> str:
    if alias in _ALLOWED:
        value = _ALLOWED[alias]
        return value() if callable(value) else value
    if typing.get_origin(annotation) is typing.Literal:
        return ", ".join(f"`{v}`" for v in typing.get_args(annotation))
    if annotation is bool:
        return "true, false"
    return ""


def reference_markdown() -> str:
    """The settings reference as a Markdown table, with the stack kinds each key applies to."""
    rows = [
        "| key | default | kinds | allowed | what it does |",
        "|---|---|---|---|---|",
        "| `aws:region` | (required) | all | an AWS region where Config is offered "
        "| Home region: the archive, keys, topics, aggregator and global resource types live "
        "here. |",
    ]
    for name, field in Settings.model_fields.items():
        if name == "home_region":
            continue
        default = (
            "(required)"
            if field.is_required()
            else f"`{json.dumps(field.get_default(call_default_factory=True))}`"
        )
        kinds = field_kinds(name)
        shown_kinds = "all" if set(kinds) == set(STACK_KINDS) else ", ".join(kinds)
        rows.append(
            f"| `{NAMESPACE}:{field.alias}` | {default} | {shown_kinds} "
            f"| {_allowed(field.alias, field.annotation)} | {field.description} |"
        )
    return "\n".join(rows) + "\n"


START, END = "<!-- settings-reference:start -->\n", "<!-- settings-reference:end -->"


def register(subparsers) -> None:
    parser = subparsers.add_parser("settings", help="print the environment settings reference")
    parser.add_argument(
        "--update",
        type=Path,
        metavar="FILE",
        help="rewrite the reference between the settings-reference markers of FILE",
    )
    parser.set_defaults(handler=run)


def rewrite_between(path: Path, start: str, end: str, body: str) -> None:
    """Replace what lies between the `start` and `end` markers of `path` with `body` (shared by
    every generated README section); SettingsError when the file or a marker is missing."""
    from configtrail import files

    text = files.read_text(path)
    before, found_start, rest = text.partition(start)
    _, found_end, after = rest.partition(end)
    if not (found_start and found_end):
        raise SettingsError([f"{path}: markers {start.strip()} ... {end} not found"])
    files.write_text(path, before + start + body + end + after)


def run(args: argparse.Namespace) -> int:
    if args.update is None:
        print(reference_markdown(), end="")
        return 0
    rewrite_between(args.update, START, END, reference_markdown())
    print(f"updated the settings reference in {args.update}")
    return 0
