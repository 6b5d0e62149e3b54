"""The Pulumi CLI calls of the pipeline, in one place: `make preview|up|converged|refresh|destroy|
drift` and the workflows run them through `configtrail pipeline run`.

What it settles:

- **A first run works on both backends.** `up` selects the stack with `--create` and the
  secrets provider the README names (Pulumi Cloud's own, or the account's KMS key with the
  stack's encryption context). Read-only runs never create anything (their credentials cannot):
  a preview of a stack that does not exist yet previews against an empty, throwaway local state
  — exactly what a first `up` will do — and says so; a drift check of it reports that nothing is
  deployed (a failed check, never drift).
- **A mandatory policy violation stops a deploy before any resource changes.** `up` runs
  `pulumi preview` with the policy pack first, in the same job, with the same code and
  credentials; only a clean preview goes on to `pulumi up` (which runs the pack again).
- **Visible verdicts.** Every run writes `build/preview/<stack>.json` (status, change summary,
  policy violations, errors) for the pull request's one comment and the job summary, also when it
  fails.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from configtrail import estate as estate_module
from configtrail.pipeline import drift
from configtrail.policy import stack_config

REPO_ROOT = estate_module.REPO_ROOT
INFRA = REPO_ROOT / "infra"
POLICY_PACK = "../policies"
COMMANDS = ("preview", "up", "converged", "refresh", "destroy", "drift")
READ_ONLY = ("preview", "converged", "drift")
_VIOLATION = re.compile(
    r"^\s*\[(?P<level>mandatory|advisory|remediate)\]\s+(?P<pack>\S+)\s+(?P<version>v\S+)\s+"
    r"(?P<policy>\S+)\s+\((?P<resource>[^)]*)\)"
)
_SUMMARY = re.compile(
    r"^\s+([+~\-]|\+-)?\s*(\d+) (to create|to update|to delete|to replace|"
    r"unchanged|created|updated|deleted|replaced)\s*$"
)


class RunError(Exception):
    """A run that cannot start: one line saying why."""


@dataclass
class Verdict:
    """What one run found, for the pull-request comment and the job summary."""

    stack: str
    account: str
    command: str
    status: str  # ok, changes, policy-violations, failed, not-deployed
    exit_code: int
    first_deploy: bool = False
    changes: list[str] = field(default_factory=list)
    violations: list[dict[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def write(self, out_dir: Path) -> Path:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{self.stack}.json"
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")
        return path


def read_output(stack: str, account: str, command: str, code: int, text: str) -> Verdict:
    """The verdict in the CLI's own words: policy violations as it prints them
    (`[mandatory]  <pack> v<version>  <policy> (<resource>)`), its `error:` lines and the
    resource summary."""
    verdict = Verdict(stack=stack, account=account, command=command, status="ok", exit_code=code)
    lines = drift.strip_ansi(text).splitlines()
    for number, line in enumerate(lines):
        match = _VIOLATION.match(line)
        if match:
            detail = lines[number + 1].strip() if number + 1 < len(lines) else ""
            verdict.violations.append({**match.groupdict(), "message": detail})
        elif line.strip().startswith("error:"):
            verdict.errors.append(line.strip()[len("error:") :].strip())
        elif _SUMMARY.match(line):
            verdict.changes.append(" ".join(line.split()))
    mandatory = [v for v in verdict.violations if v["level"] == "mandatory"]
    if code != 0:
        verdict.status = "policy-violations" if mandatory else "failed"
    elif any(not c.endswith("unchanged") for c in verdict.changes):
        verdict.status = "changes"
    return verdict


@dataclass
class Run:
    """One pipeline command on one stack."""

    command: str
    stack_name: str  # the stack file's name (environments/Pulumi.<stack_name>.yaml)
    stack: str  # what the CLI selects (may be qualified: org/configtrail/<name>)
    message: str
    secrets_provider: str = ""
    pulumi: str = "pulumi"
    out_dir: Path = REPO_ROOT / "build"
    drift_dir: Path = REPO_ROOT / "build" / "drift"
    summary_dir: Path = REPO_ROOT / "build" / "summary"
    environments: Path = estate_module.ENVIRONMENTS
    log: list[str] = field(default_factory=list)

    # --- the CLI ----------------------------------------------------------------------------------

    def cli(self, *args: str, env: dict[str, str] | None = None, echo: bool = True):
        """One CLI call from infra/, its output streamed and kept."""
        full_env = {**os.environ, **(env or {})}
        done = subprocess.run(
            [self.pulumi, *args],
            cwd=INFRA,
            env=full_env,
            capture_output=True,
            text=True,
            check=False,
        )
        output = done.stdout + done.stderr
        if echo and output:
            sys.stdout.write(output)
            sys.stdout.flush()
        self.log.append(output)
        return done.returncode, output

    def policy_args(self, config: Path) -> list[str]:
        return ["--policy-pack", POLICY_PACK, "--policy-pack-config", str(config)]

    def stack_exists(self) -> bool:
        """`stack select` succeeds, or fails because the backend lists no such stack (anything
        else — credentials, network — is an error, never taken for a missing stack)."""
        code, _ = self.cli("stack", "select", "--stack", self.stack, echo=False)
        if code == 0:
            return True
        code, listing = self.cli("stack", "ls", "--json", echo=False)
        if code != 0:
            raise RunError(f"cannot list the backend's stacks: {listing.strip()[-300:]}")
        try:
            names = [item["name"].rsplit("/", 1)[-1] for item in json.loads(listing)]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise RunError(f"unexpected `pulumi stack ls --json` output: {listing[:200]}") from None
        if self.stack_name in names:
            raise RunError(f"stack {self.stack} exists but could not be selected; see above")
        return False

    # --- the commands -----------------------------------------------------------------------------

    def execute(self) -> int:
        if self.command not in COMMANDS:
            raise RunError(f"command {self.command!r} is not one of {', '.join(COMMANDS)}")
        estate = estate_module.load(self.environments)
        if self.stack_name not in estate.stacks:
            path = estate_module.stack_path(self.stack_name, self.environments)
            raise RunError(
                f"{estate_module.shown(path)}: no such stack file "
                f"(stacks: {', '.join(estate.names())})"
            )
        stack = estate[self.stack_name]
        # Absolute: the CLI runs from infra/.
        config = stack_config.write(stack, estate, self.out_dir.resolve())
        handler = getattr(self, f"_{self.command}")
        code, verdict = handler(config)
        verdict = verdict or read_output(
            self.stack_name, stack.account_id, self.command, code, "".join(self.log)
        )
        verdict.write(self.out_dir / "preview")
        return code

    def _account(self) -> str:
        return estate_module.load(self.environments)[self.stack_name].account_id

    def _preview(self, config: Path):
        if self.stack_exists():
            return self._read_only_preview(config), None
        # Nothing deployed yet: preview against an empty local state in a temporary directory,
        # with a throwaway passphrase (nothing is kept), against the real cloud.
        print(
            f"stack {self.stack} does not exist yet: previewing its first deploy from an empty "
            "state (the first `up` creates the stack)"
        )
        with tempfile.TemporaryDirectory(prefix="configtrail-first-preview-") as state:
            env = {
                "PULUMI_BACKEND_URL": Path(state).as_uri(),
                "PULUMI_CONFIG_PASSPHRASE": secrets.token_hex(16),
            }
            code, _ = self.cli(
                "stack", "init", self.stack_name, "--secrets-provider", "passphrase", env=env
            )
            if code == 0:
                code, _ = self.cli(
                    "preview",
                    "--stack",
                    self.stack_name,
                    "--diff",
                    *self.policy_args(config),
                    "--message",
                    self.message,
                    env=env,
                )
        verdict = read_output(self.stack_name, self._account(), "preview", code, "".join(self.log))
        verdict.first_deploy = True
        return code, verdict

    def _read_only_preview(self, config: Path, *extra: str) -> int:
        code, _ = self.cli(
            "preview",
            "--stack",
            self.stack,
            *extra,
            "--diff",
            *self.policy_args(config),
            "--message",
            self.message,
        )
        return code

    def _converged(self, config: Path):
        if not self.stack_exists():
            raise RunError(f"stack {self.stack} does not exist: nothing was deployed to converge")
        code, _ = self.cli(
            "preview",
            "--stack",
            self.stack,
            "--expect-no-changes",
            "--diff",
            *self.policy_args(config),
            "--message",
            f"converged after: {self.message}",
        )
        return code, None

    def _up(self, config: Path):
        select = ["stack", "select", "--create", "--stack", self.stack]
        if self.secrets_provider:
            select += ["--secrets-provider", self.secrets_provider]
        code, _output = self.cli(*select)
        if code != 0:
            return code, None
        # The policy pack on a preview first: a mandatory violation stops here, before `up`
        # changes any resource (stack policies run only after every step of an `up`).
        code = self._read_only_preview(config)
        if code != 0:
            print(
                f"up {self.stack}: the preview with the policy pack failed (exit {code}); "
                "nothing was changed"
            )
            return code, None
        code, _ = self.cli(
            "up",
            "--stack",
            self.stack,
            "--yes",
            "--diff",
            *self.policy_args(config),
            "--message",
            self.message,
        )
        return code, None

    def _refresh(self, config: Path):
        if not self.stack_exists():
            raise RunError(f"stack {self.stack} does not exist: nothing to refresh")
        code, _ = self.cli("refresh", "--stack", self.stack, "--yes", "--message", self.message)
        return code, None

    def _destroy(self, config: Path):
        if not self.stack_exists():
            raise RunError(f"stack {self.stack} does not exist: nothing to destroy")
        code, _ = self.cli(
            "destroy",
            "--stack",
            self.stack,
            "--yes",
            "--exclude-protected",
            "--message",
            self.message,
        )
        return code, None

    def _drift(self, config: Path):
        self.drift_dir.mkdir(parents=True, exist_ok=True)
        log_file = self.drift_dir / f"{self.stack_name}.log"
        if not self.stack_exists():
            text = f"stack {self.stack} does not exist: nothing is deployed to check for drift\n"
            print(text, end="")
            log_file.write_text(text)
            code = 2
        else:
            code, output = self.cli(
                "preview",
                "--stack",
                self.stack,
                "--refresh",
                "--expect-no-changes",
                "--diff",
                "--color",
                "never",
                *self.policy_args(config),
                "--message",
                f"drift check: {self.message}",
            )
            log_file.write_text(output)
        report = drift.new_report(self.stack_name, self.stack, code, log_file)
        report.write(self.drift_dir)
        self.summary_dir.mkdir(parents=True, exist_ok=True)
        (self.summary_dir / f"drift-{self.stack_name}.md").write_text(
            drift.summary_markdown(report)
        )
        return {"clean": 0, "drifted": 1, "failed": 2}[report.status], None
