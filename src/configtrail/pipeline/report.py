"""The pull request's one comment and the job summaries: every stack's preview verdict, grouped
by AWS account, also when previews failed.

Each preview job leaves `build/preview/<stack>.json` (configtrail.pipeline.runner.Verdict) as an
artifact, also on failure; one job without cloud credentials collects them, renders one Markdown
report and creates or edits the single comment that carries `MARKER`. A stack whose preview left
no verdict (the job was cancelled, or failed before the CLI ran) is listed as such, never left
out.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from configtrail.estate import Estate

MARKER = "<!-- configtrail:preview-summary -->"
# GitHub rejects comment bodies over 65,536 characters.
MAX_BODY = 60_000
_ICON = {
    "ok": "✅ no changes",
    "changes": "🔶 changes",
    "policy-violations": "⛔ policy violations",
    "failed": "❌ failed",
    "not-deployed": "⚪ not deployed",
}


def read_verdicts(directory: Path) -> dict[str, dict]:
    found = {}
    for path in sorted(directory.glob("*.json")):
        try:
            verdict = json.loads(path.read_text())
            found[verdict["stack"]] = verdict
        except (ValueError, KeyError, OSError):
            continue
    return found


def render(estate: Estate, verdicts: dict[str, dict], title: str, run_url: str = "") -> str:
    """One Markdown report: a section per account, a row per stack, then the violations and
    errors of each stack that has any."""
    lines = [MARKER, f"## {title}", ""]
    failing = 0
    for account, stacks in estate.accounts().items():
        lines += [
            f"### Account {account}",
            "",
            "| stack | kind | result | changes |",
            "|---|---|---|---|",
        ]
        for name in stacks:
            verdict = verdicts.get(name)
            if verdict is None:
                lines.append(
                    f"| `{name}` | {estate[name].kind} | ❔ no result (job did not finish) | |"
                )
                failing += 1
                continue
            status = _ICON.get(verdict["status"], verdict["status"])
            if verdict.get("first_deploy"):
                status += " (first deploy: previewed from an empty state)"
            if verdict["status"] in ("failed", "policy-violations"):
                failing += 1
            lines.append(
                f"| `{name}` | {estate[name].kind} | {status} | "
                f"{'; '.join(verdict.get('changes', [])) or '—'} |"
            )
        lines.append("")
        for name in stacks:
            verdict = verdicts.get(name) or {}
            violations = verdict.get("violations", [])
            errors = verdict.get("errors", [])
            if not violations and not errors:
                continue
            lines.append(
                f"<details open><summary><code>{name}</code>: "
                f"{len(violations)} policy violation(s), {len(errors)} error(s)</summary>"
            )
            lines.append("")
            for v in violations:
                lines.append(
                    f"- **[{v['level']}] {v['policy']}** ({v['resource']}): {v.get('message', '')}"
                )
            for error in errors:
                lines.append(f"- error: `{error[:500]}`")
            lines += ["", "</details>", ""]
    verdict_line = (
        f"**{failing} stack(s) need attention.**"
        if failing
        else "**Every stack previewed cleanly.**"
    )
    lines.insert(3, verdict_line + (f" [Run]({run_url})" if run_url else "") + "\n")
    body = "\n".join(lines) + "\n"
    if len(body) > MAX_BODY:
        body = body[: MAX_BODY - 200] + "\n\n… trimmed; the whole report is in the job summary.\n"
    return body


Gh = Callable[[Sequence[str]], str]


def run_gh(args: Sequence[str]) -> str:
    done = subprocess.run(["gh", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"gh {' '.join(args[:2])} failed: {done.stderr.strip()[:300]}")
    return done.stdout


def upsert_comment(repo: str, pull_request: int, body_file: Path, gh: Gh = run_gh) -> str:
    """Edit the comment that carries MARKER, or create it: one comment per pull request."""
    listing = gh(
        [
            "api",
            "--paginate",
            f"repos/{repo}/issues/{pull_request}/comments",
            "--jq",
            f'[.[] | select(.body | contains("{MARKER}")) | .id]',
        ]
    )
    ids = [i for chunk in listing.split("\n") if chunk.strip() for i in json.loads(chunk)]
    if ids:
        gh(
            [
                "api",
                "--method",
                "PATCH",
                f"repos/{repo}/issues/comments/{ids[0]}",
                "-F",
                f"body=@{body_file}",
            ]
        )
        return f"edited comment {ids[0]} on pull request {pull_request}"
    gh(
        [
            "api",
            "--method",
            "POST",
            f"repos/{repo}/issues/{pull_request}/comments",
            "-F",
            f"body=@{body_file}",
        ]
    )
    return f"commented on pull request {pull_request}"
