"""`configtrail controls`: the AI control table (control -> preventive policy -> Config rule ->
types, and what is not covered and why), generated from the AI control catalog so the README
cannot drift from it. `--update README.md` rewrites the table between its markers."""

from __future__ import annotations

import argparse
from pathlib import Path

from configtrail import controls
from configtrail.commands.settings_doc import rewrite_between

START, END = "<!-- ai-controls:start -->\n", "<!-- ai-controls:end -->"


def _detective(control: controls.Control) -> str:
    detective = control.detective
    if detective.kind == "managed":
        params = ", ".join(f"{k}={v}" for k, v in detective.parameters.items())
        return f"`{detective.identifier}` (AWS-managed, {detective.trigger})" + (
            f" {params}" if params else ""
        )
    if detective.kind == "guard":
        return f"`{detective.guard_file}` (Guard, CUSTOM_POLICY)"
    return "—"


def _types(control: controls.Control) -> str:
    if not control.resource_types:
        return "—"
    unrecorded = set(control.unrecorded_types)
    return ", ".join(
        f"`{t}`" + (" (not recorded)" if t in unrecorded else "") for t in control.resource_types
    )


def _gaps(control: controls.Control) -> str:
    gaps = []
    if control.preventive is None:
        gaps.append("no preventive policy")
    if control.detective_gap:
        gaps.append("detective: " + control.detective_gap)
    if control.note:
        gaps.append(control.note)
    return " ".join(g if g.endswith(".") else g + "." for g in gaps) or "—"


def table_markdown() -> str:
    """The AI control table as Markdown, one row per control in catalog order."""
    rows = [
        "| control | severity | preventive policy (policies/ai-workloads) | AWS Config rule "
        "| resource types | not covered, and why |",
        "|---|---|---|---|---|---|",
    ]
    for control in controls.controls():
        preventive = (
            f"`{control.id}` on `{control.preventive.resource}`" if control.preventive else "—"
        )
        rows.append(
            f"| **{control.id}**: {control.statement} | {control.severity} | {preventive} "
            f"| {_detective(control)} | {_types(control)} | {_gaps(control)} |"
        )
    return "\n".join(rows) + "\n"


def register(subparsers) -> None:
    parser = subparsers.add_parser("controls", help="print the AI control table")
    parser.add_argument(
        "--update",
        type=Path,
        metavar="FILE",
        help="rewrite the table between the ai-controls markers of FILE",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.update is None:
        print(table_markdown(), end="")
        return 0
    rewrite_between(args.update, START, END, table_markdown())
    print(f"updated the AI control table in {args.update}")
    return 0
