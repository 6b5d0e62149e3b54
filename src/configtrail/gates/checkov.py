"""checkov over the offline plans (Terraform plan JSON), the workflows and the repository's files
(secrets), in one checkov process, offline.

checkov runs from its own virtualenv (.venv/checkov, `make checkov-venv`): it pins an older
botocore than the project. Its options and repository-wide skips are in `.checkov.yaml`; findings
accepted only for particular resources (an environment's deliberate choice, or a known gap with
its fix named) are in `.checkov-accepted.yaml`, each with its reason. An acceptance that no longer
matches any finding is itself a failure, so the list cannot silently outlive what it excuses.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from configtrail.settings import SettingsError

if TYPE_CHECKING:
    from configtrail.estate import Estate

REPO_ROOT = Path(__file__).resolve().parents[3]
CHECKOV = REPO_ROOT / ".venv" / "checkov" / "bin" / "checkov"
CONFIG = REPO_ROOT / ".checkov.yaml"
ACCEPTED = REPO_ROOT / ".checkov-accepted.yaml"
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
FRAMEWORKS = ("terraform_plan", "github_actions", "secrets")
# Offline and quiet: no update check against PyPI, no guideline / policy-metadata download.
OFFLINE_ENV = {
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
    "BC_SKIP_MAPPING": "TRUE",
    "LOG_LEVEL": "ERROR",
}
MIN_REASON_WORDS = 5


@dataclass(frozen=True)
class Finding:
    framework: str
    check_id: str
    check_name: str
    file: str  # repository-relative
    resource: str

    @property
    def target(self) -> str:
        """What acceptance patterns match: `<file>::<resource>`."""
        return f"{self.file}::{self.resource}"


@dataclass(frozen=True)
class Acceptance:
    check: str
    where: tuple[str, ...]  # fnmatch patterns over Finding.target
    reason: str

    def covers(self, finding: Finding) -> bool:
        return finding.check_id == self.check and any(
            fnmatch.fnmatchcase(finding.target, pattern) for pattern in self.where
        )


@dataclass
class Result:
    version: str
    summaries: dict[str, dict[str, int]]  # framework -> passed/failed counts
    open: list[Finding] = field(default_factory=list)
    accepted: list[tuple[Finding, Acceptance]] = field(default_factory=list)
    stale: list[Acceptance] = field(default_factory=list)
    unmapped: dict[str, dict[str, int]] = field(default_factory=dict)  # plan file -> types

    def counts(self) -> str:
        """Per framework, what its checks came to: passed, accepted (a recorded reason) and
        open (failing the gate). checkov's own "failed" counts the accepted ones too."""
        parts = []
        for name, summary in self.summaries.items():
            accepted = sum(1 for finding, _ in self.accepted if finding.framework == name)
            still_open = sum(1 for finding in self.open if finding.framework == name)
            parts.append(
                f"{name} {summary['passed']} checks passed, {accepted} accepted, {still_open} open"
            )
        return "; ".join(parts)

    @property
    def ok(self) -> bool:
        return not (self.open or self.stale or self.unmapped)


def load_accepted(path: Path = ACCEPTED, estate: Estate | None = None) -> list[Acceptance]:
    """The accepted findings; SettingsError naming file, entry and what is allowed if malformed.

    An entry with `when` (stack settings, `key: value` or `key: [values]`) applies to every stack
    of the estate whose settings match, its `where` patterns written with `{stack}`,
    `{region}` (each recorded region) or `{other_region}` (each recorded region but the home
    one): so an acceptance follows a stack's deliberate choice, not a list of stack names.
    """
    if not path.exists():
        return []
    from configtrail import files

    raw = files.read_yaml(path) or []
    if not isinstance(raw, list):
        raise SettingsError([f"{shown(path)}: expected a list of {{check, where, reason}} entries"])
    accepted, problems = [], []
    for index, entry in enumerate(raw):
        where = f"{shown(path)}: entry {index + 1}"
        if (
            not isinstance(entry, dict)
            or not {"check", "where", "reason"} <= set(entry)
            or not (set(entry) <= {"check", "where", "reason", "when"})
        ):
            problems.append(
                f"{where}: expected the keys check, where, reason (and optionally when); "
                f"got {entry!r}"
            )
            continue
        check, patterns, reason = entry["check"], entry["where"], entry["reason"]
        if not isinstance(check, str) or not re.fullmatch(r"CKV2?_[A-Z0-9]+_\d+", check):
            problems.append(f"{where}: check {check!r} is not a checkov check id (CKV_AWS_18)")
        if isinstance(patterns, str):
            patterns = [patterns]
        if not patterns or not all(isinstance(p, str) and "::" in p for p in patterns):
            problems.append(f"{where}: where {patterns!r} must list FILE::RESOURCE patterns")
        if not isinstance(reason, str) or len(reason.split()) < MIN_REASON_WORDS:
            problems.append(
                f"{where}: reason {reason!r} must say why, in {MIN_REASON_WORDS}+ words"
            )
        if problems:
            continue
        if "when" in entry:
            if estate is None:
                from configtrail import estate as estate_module

                estate = estate_module.load()
            try:
                patterns = _for_matching_stacks(entry["when"], patterns, estate)
            except ValueError as error:
                problems.append(f"{where}: when: {error}")
                continue
        elif any(_PLACEHOLDER.search(p) for p in patterns):
            problems.append(f"{where}: where uses {{stack}}/{{region}} but the entry has no when")
            continue
        accepted.append(Acceptance(check, tuple(patterns), " ".join(reason.split())))
    if problems:
        raise SettingsError(problems)
    return accepted


_PLACEHOLDER = re.compile(r"\{(stack|region|other_region)\}")


def _for_matching_stacks(when: Any, patterns: list[str], estate: Estate) -> list[str]:
    """`patterns` filled in for every stack whose settings match `when`."""
    from configtrail.settings import Settings

    if not isinstance(when, dict) or not when:
        raise ValueError(f"{when!r} must map setting names to a value or a list of values")
    fields = {f.alias: name for name, f in Settings.model_fields.items() if f.alias}
    unknown = sorted(key for key in when if key not in fields)
    if unknown:
        raise ValueError(
            f"{', '.join(unknown)}: not a stack setting (keys: {', '.join(sorted(fields))})"
        )
    expanded: list[str] = []
    for stack in estate.stacks.values():
        settings = stack.settings
        if not all(
            getattr(settings, fields[key]) in (wanted if isinstance(wanted, list) else [wanted])
            for key, wanted in when.items()
        ):
            continue
        for pattern in patterns:
            if "{other_region}" in pattern:
                regions = settings.other_regions
            elif "{region}" in pattern:
                regions = settings.regions
            else:
                regions = [None]
            for region in regions:
                expanded.append(
                    pattern.replace("{stack}", stack.name)
                    .replace("{region}", region or "")
                    .replace("{other_region}", region or "")
                )
    return expanded


def skipped_checks(path: Path = CONFIG) -> dict[str, str]:
    """`skip-check` entries of the checkov config with the reason written after each (`# ...`).
    A skip without a reason of MIN_REASON_WORDS words is a SettingsError."""
    if not path.exists():
        raise SettingsError([f"{shown(path)}: missing (checkov would silently run without it)"])
    from configtrail import files

    config = files.read_yaml(path) or {}
    listed = config.get("skip-check") or []
    reasons: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^\s*-\s*([A-Z0-9_]+)\s*(?:#\s*(.*))?$", line)
        if match and match.group(1) in listed:
            reasons[match.group(1)] = (match.group(2) or "").strip()
    problems = [
        f"{shown(path)}: skip-check {check}: give the reason after it (`- {check}  # why`), "
        f"{MIN_REASON_WORDS}+ words"
        for check in listed
        if len(reasons.get(check, "").split()) < MIN_REASON_WORDS
    ]
    if problems:
        raise SettingsError(problems)
    return reasons


def secret_scan_files(root: Path = REPO_ROOT) -> list[Path]:
    """The files a commit could contain: tracked, plus untracked ones git does not ignore."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        problem = f"{root}: cannot list files with git for the secrets scan: {error}"
        raise SettingsError([problem]) from None
    names = sorted({name for name in out.decode().split("\0") if name})
    return [root / name for name in names if (root / name).is_file()]


def is_workflow(path: Path) -> bool:
    resolved = path.resolve()
    return resolved.parent == WORKFLOWS.resolve() and resolved.suffix in (".yml", ".yaml")


def framework_of(check_id: str) -> str:
    """The checkov framework of a check id (which acceptances a run could have used)."""
    if check_id.startswith("CKV_SECRET_"):
        return "secrets"
    if "_GHA_" in check_id:
        return "github_actions"
    return "terraform_plan"


def workflow_files(directory: Path = WORKFLOWS) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in (".yml", ".yaml"))


def run(
    plans: list[Path],
    workflows: list[Path],
    secrets: list[Path],
    *,
    checkov: Path = CHECKOV,
    config: Path = CONFIG,
    accepted: list[Acceptance] | None = None,
    root: Path | None = None,
) -> Result:
    """Scan everything in one checkov process and sort the findings (paths relative to `root`,
    the repository by default)."""
    root = root or REPO_ROOT
    if not checkov.exists():
        raise SettingsError(
            [f"{shown(checkov)}: checkov is not installed; run `make checkov-venv`"]
        )
    missing = [p for p in plans if not p.exists()]
    if missing:
        raise SettingsError(
            [
                f"{shown(p)}: no Terraform plan; run `configtrail plan --all` (make check-plan)"
                for p in missing
            ]
        )
    skipped_checks(config)  # refuses a skip without a reason before anything runs
    frameworks = [
        name for name, files in zip(FRAMEWORKS, (plans, workflows, secrets), strict=True) if files
    ]
    views = schema_compatible_copies(workflows, root)
    files = [*plans, *views, *secrets]
    command = [
        str(checkov),
        "--config-file",
        str(config),
        "--output",
        "json",
        "--framework",
        *frameworks,
        "--file",
        *map(str, files),
    ]
    env = {**os.environ, **OFFLINE_ENV}
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"checkov failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    try:
        reports = json.loads(done.stdout) if done.stdout.strip() else []
    except json.JSONDecodeError:
        raise RuntimeError(f"checkov printed no JSON report:\n{done.stdout[-2000:]}") from None
    scanned = dict(zip(FRAMEWORKS, (plans, workflows, secrets), strict=True))
    reports = reports if isinstance(reports, list) else [reports]
    aliases = {
        _relative(str(view), root): _relative(str(original), root)
        for view, original in zip(views, workflows, strict=True)
    }
    return _sort(reports, scanned, accepted or [], root, aliases)


# checkov's bundled workflow schema predates GitHub's `concurrency.queue` (`queue: max`), and
# checkov skips a workflow that fails its schema without a word. It scans a copy with only that
# key removed (build/checkov/.github/workflows/), and findings name the original file.
_QUEUE_KEY = re.compile(r"^\s+queue:\s*(single|max)\s*(#.*)?$")


def schema_compatible_copies(workflows: list[Path], root: Path) -> list[Path]:
    if not workflows:
        return []
    target = root / "build" / "checkov" / ".github" / "workflows"
    target.mkdir(parents=True, exist_ok=True)
    copies = []
    for workflow in workflows:
        lines = workflow.read_text().splitlines(keepends=True)
        copy = target / workflow.name
        copy.write_text("".join(line for line in lines if not _QUEUE_KEY.match(line)))
        copies.append(copy)
    return copies


def _relative(name: str, root: Path) -> str:
    path = Path(name.lstrip("/")) if not Path(name).exists() else Path(name)
    try:
        return str((root / path).resolve().relative_to(root.resolve()))
    except ValueError:
        return name


def _in_scope(acceptance: Acceptance, scanned: dict[str, list[str]]) -> bool:
    """Whether this run scanned what the acceptance is about (else unused is not stale)."""
    files = scanned.get(framework_of(acceptance.check), [])
    patterns = [pattern.split("::", 1)[0] for pattern in acceptance.where]
    return any(fnmatch.fnmatchcase(f, p) for f in files for p in patterns)


def _sort(
    reports: list[Any],
    scanned_files: dict[str, list[Path]],
    accepted: list[Acceptance],
    root: Path,
    aliases: dict[str, str] | None = None,
) -> Result:
    version = ""
    summaries: dict[str, dict[str, int]] = {}
    findings: list[Finding] = []
    for report in reports:
        if not isinstance(report, dict) or "check_type" not in report:
            continue  # checkov prints a bare summary dict when a framework had nothing to scan
        summary = report.get("summary", {})
        version = summary.get("checkov_version", version)
        summaries[report["check_type"]] = {
            "passed": summary.get("passed", 0),
            "failed": summary.get("failed", 0),
        }
        for failed in report.get("results", {}).get("failed_checks", []):
            path = _relative(failed.get("file_abs_path") or failed["file_path"], root)
            findings.append(
                Finding(
                    report["check_type"],
                    failed["check_id"],
                    failed.get("check_name", ""),
                    (aliases or {}).get(path, path),
                    failed.get("resource", ""),
                )
            )
    result = Result(version, summaries)
    used: set[int] = set()
    for finding in findings:
        match = next((i for i, a in enumerate(accepted) if a.covers(finding)), None)
        if match is None:
            result.open.append(finding)
        else:
            used.add(match)
            result.accepted.append((finding, accepted[match]))
    scanned = {
        framework: [_relative(str(p), root) for p in files]
        for framework, files in scanned_files.items()
        if files
    }
    result.stale = [a for i, a in enumerate(accepted) if i not in used and _in_scope(a, scanned)]
    for plan in scanned_files["terraform_plan"]:
        unmapped = json.loads(plan.read_text()).get("configtrail", {}).get("unmapped_types", {})
        if unmapped:
            result.unmapped[shown(plan)] = unmapped
    return result


def summary_markdown(result: Result, skips: dict[str, str]) -> str:
    """The job-summary section (build/summary/checkov.md)."""
    verdict = "passed" if result.ok else "**failed**"
    counts = result.counts()
    lines = [
        f"## checkov {result.version}".rstrip(),
        "",
        f"{verdict} — {counts or 'nothing scanned'}",
        "",
    ]
    if result.open:
        lines += [
            "### Open findings",
            "",
            "| check | file | resource | what |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {f.check_id} | `{f.file}` | `{f.resource}` | {f.check_name} |" for f in result.open
        ]
        lines.append("")
    if result.unmapped:
        lines += [
            "### Resource types checkov cannot see (map them in "
            "src/configtrail/data/terraform_types.yaml)",
            "",
        ]
        lines += [f"- `{plan}`: {', '.join(types)}" for plan, types in result.unmapped.items()]
        lines.append("")
    if result.stale:
        lines += ["### Stale acceptances (no longer match a finding; remove them)", ""]
        lines += [f"- {a.check} at {', '.join(a.where)}" for a in result.stale]
        lines.append("")
    if result.accepted:
        lines += ["### Accepted findings (.checkov-accepted.yaml)", ""]
        for acceptance in dict.fromkeys(a for _, a in result.accepted):
            where = ", ".join(
                f"`{f.file}::{f.resource}`" for f, a in result.accepted if a is acceptance
            )
            lines.append(f"- **{acceptance.check}** {where}: {acceptance.reason}")
        lines.append("")
    if skips:
        lines += ["### Checks skipped everywhere (.checkov.yaml)", ""]
        lines += [f"- {check}: {reason}" for check, reason in skips.items()]
        lines.append("")
    return "\n".join(lines)


def shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
