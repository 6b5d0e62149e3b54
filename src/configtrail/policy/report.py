"""Policy verdicts and their three renderings: readable text grouped by resource, JSON, and a
Markdown summary short enough for a pull-request comment."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

# The SDK's own message when a policy read a value unknown during preview (always advisory).
UNKNOWN_PREFIX = "can't run policy '"
MARKDOWN_LIMIT = 25  # findings listed per level in the Markdown summary


@dataclass
class Finding:
    policy: str
    level: str  # mandatory | advisory (as the pack reported it)
    message: str
    urn: str
    resource_type: str
    resource_name: str
    phase: str  # "resource" (Analyze) or "stack" (AnalyzeStack)
    severity: str = ""

    @property
    def unknown_downgrade(self) -> bool:
        """The SDK downgraded this policy because it read a value unknown during preview."""
        return self.message.startswith(UNKNOWN_PREFIX)


@dataclass
class Report:
    source: str
    kind: str  # stack-export | preview
    env: str | None
    config: str | None
    pack: str
    version: str
    resources: int
    levels: dict[str, str]
    findings: list[Finding] = field(default_factory=list)

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "mandatory"]

    @property
    def advisory(self) -> list[Finding]:
        return [f for f in self.findings if f.level != "mandatory"]

    @property
    def passed(self) -> bool:
        return not self.mandatory

    def as_dict(self) -> dict:
        data = asdict(self)
        data["passed"] = self.passed
        data["summary"] = {"mandatory": len(self.mandatory), "advisory": len(self.advisory)}
        for finding, raw in zip(self.findings, data["findings"], strict=True):
            raw["unknownDowngrade"] = finding.unknown_downgrade
        return data


def shown_path(path: str | None) -> str:
    """A path relative to the working directory when it is inside it."""
    if not path:
        return ""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path


def _title(report: Report) -> str:
    env = f" env {report.env}" if report.env else ""
    return f"{shown_path(report.source)}{env} ({report.kind}, {report.resources} resources)"


def render_text(reports: list[Report], console: Console, quiet: bool = False) -> None:
    for report in reports:
        verdict = "[bold green]PASS[/]" if report.passed else "[bold red]FAIL[/]"
        console.print(
            verdict
            + " "
            + escape(
                f"{_title(report)}: {len(report.mandatory)} mandatory, "
                f"{len(report.advisory)} advisory — {report.pack}@{report.version}, "
                + (f"config {shown_path(report.config)}" if report.config else "default config")
            ),
            highlight=False,
        )
        if quiet or not report.findings:
            continue
        grouped: dict[tuple[str, str], list[Finding]] = defaultdict(list)
        for finding in report.findings:
            grouped[(finding.resource_type, finding.urn)].append(finding)
        table = Table(show_lines=True, header_style="bold", expand=False)
        table.add_column("resource", overflow="fold", max_width=38)
        table.add_column("level")
        table.add_column("policy", overflow="fold")
        table.add_column("what is wrong and how to fix it", overflow="fold")
        for (resource_type, _urn), findings in sorted(
            grouped.items(), key=lambda item: (item[0][0], item[0][1])
        ):
            for index, finding in enumerate(sorted(findings, key=lambda f: (f.level, f.policy))):
                label = (
                    f"{escape(finding.resource_name)}\n[dim]{escape(resource_type)}[/]"
                    if index == 0
                    else ""
                )
                style = "red" if finding.level == "mandatory" else "yellow"
                table.add_row(
                    label, f"[{style}]{finding.level}[/]", finding.policy, escape(finding.message)
                )
        console.print(table)


def render_json(reports: list[Report]) -> str:
    return json.dumps(
        {
            "passed": all(report.passed for report in reports),
            "reports": [report.as_dict() for report in reports],
        },
        indent=2,
    )


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(reports: list[Report]) -> str:
    passed = all(report.passed for report in reports)
    lines = [
        f"### Policy pack: {'passed' if passed else 'FAILED'}",
        "",
        "| file | env | resources | mandatory | advisory |",
        "|---|---|---:|---:|---:|",
    ]
    for report in reports:
        lines.append(
            f"| `{shown_path(report.source)}` | {report.env or '-'} | {report.resources} | "
            f"{len(report.mandatory)} | {len(report.advisory)} |"
        )
    for level, pick in (("Mandatory", "mandatory"), ("Advisory", "advisory")):
        findings = [(r, f) for r in reports for f in getattr(r, pick)]
        if not findings:
            continue
        lines += ["", f"**{level}** ({len(findings)})", ""]
        for report, finding in findings[:MARKDOWN_LIMIT]:
            lines.append(
                f"- `{finding.policy}` on `{finding.resource_name}` "
                f"({report.env or shown_path(report.source)}, {report.kind}): "
                f"{_md_escape(finding.message)}"
            )
        if len(findings) > MARKDOWN_LIMIT:
            lines.append(
                f"- … and {len(findings) - MARKDOWN_LIMIT} more "
                "(`configtrail policy --format json` lists all)"
            )
    return "\n".join(lines) + "\n"
