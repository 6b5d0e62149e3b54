"""Fixtures for the pipeline tests: a recording stand-in for the `pulumi` binary and for `gh`.

The stand-ins are small scripts put first on PATH. They never deploy or talk to GitHub: they
write down how they were called (arguments, working directory, and what the real CLI would have
resolved from there: the stack file through Pulumi.yaml's stackConfigDir, the policy pack and its
config) and answer with an exit code and output chosen by the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.workflows.workflow_files import REPO

PULUMI_STAND_IN = r"""
import json, os, sys
from pathlib import Path
import yaml

args = sys.argv[1:]
cwd = Path.cwd()
record = {
    "argv": args,
    "cwd": str(cwd),
    "backend": os.environ.get("PULUMI_BACKEND_URL"),
    "passphrase": bool(os.environ.get("PULUMI_CONFIG_PASSPHRASE")),
}
project_file = cwd / "Pulumi.yaml"
project = yaml.safe_load(project_file.read_text()) if project_file.exists() else {}
config_dir = (cwd / project.get("stackConfigDir", ".")).resolve()
if "--stack" in args:
    stack = args[args.index("--stack") + 1]
    stack_file = config_dir / f"Pulumi.{stack.rsplit('/', 1)[-1]}.yaml"
    record["stack_file"] = str(stack_file) if stack_file.is_file() else None
for flag, key in (("--policy-pack", "policy_pack"), ("--policy-pack-config", "policy_config")):
    if flag in args:
        path = (cwd / args[args.index(flag) + 1]).resolve()
        record[key] = str(path) if path.exists() else None
with open(os.environ["PULUMI_STAND_IN_LOG"], "a") as log:
    log.write(json.dumps(record) + "\n")
# Stacks the (pretend) backend holds: PULUMI_STAND_IN_STACKS, comma-separated; a file:// backend
# (a first preview's throwaway state) holds what `stack init` put there in this call's life.
existing = [s for s in os.environ.get("PULUMI_STAND_IN_STACKS", "").split(",") if s]
command = " ".join(a for a in args[:2] if not a.startswith("-"))
exits = json.loads(os.environ.get("PULUMI_STAND_IN_EXITS", "{}"))
if args[:2] == ["stack", "select"] and "--create" not in args:
    name = args[args.index("--stack") + 1].rsplit("/", 1)[-1]
    local = (os.environ.get("PULUMI_BACKEND_URL") or "").startswith("file:")
    if name not in existing and not local:
        sys.stderr.write(f"error: no stack named '{name}' found\n")
        sys.exit(255)
    sys.exit(exits.get(command, 0))
if args[:2] == ["stack", "ls"]:
    sys.stdout.write(json.dumps([{"name": f"organization/configtrail/{s}"} for s in existing]))
    sys.exit(exits.get(command, 0))
if args[:1] == ["stack"]:
    sys.exit(exits.get(command, 0))
outputs = json.loads(os.environ.get("PULUMI_STAND_IN_OUTPUTS", "{}"))
default = os.environ.get("PULUMI_STAND_IN_OUTPUT", "Resources:\n    5 unchanged\n")
sys.stdout.write(outputs.get(args[0], default))
sys.exit(exits.get(args[0], int(os.environ.get("PULUMI_STAND_IN_EXIT", "0"))))
"""

GH_STAND_IN = r"""
import json, os, sys
from pathlib import Path

args = sys.argv[1:]
record = {"argv": args}
if "--body-file" in args:
    record["body"] = Path(args[args.index("--body-file") + 1]).read_text()
with open(os.environ["GH_STAND_IN_LOG"], "a") as log:
    log.write(json.dumps(record) + "\n")
if os.environ.get("GH_STAND_IN_FAIL"):
    sys.stderr.write(os.environ["GH_STAND_IN_FAIL"] + "\n")
    sys.exit(1)
if args[:2] == ["issue", "list"]:
    sys.stdout.write(os.environ.get("GH_STAND_IN_ISSUES", "[]"))
elif args[:2] == ["issue", "create"]:
    sys.stdout.write("https://github.com/example-org/configtrail/issues/99\n")
"""


@dataclass
class StandIn:
    """A recording stand-in on PATH: `calls()` returns what it recorded, in order."""

    bin_dir: Path
    log: Path

    def calls(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


def _install(bin_dir: Path, name: str, body: str) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / name
    script.write_text(f"#!{sys.executable}\n{body}")
    script.chmod(0o755)


@pytest.fixture
def pulumi_stand_in(tmp_path) -> StandIn:
    """A recording stand-in for the `pulumi` CLI (see the module docstring)."""
    stand_in = StandIn(tmp_path / "bin", tmp_path / "pulumi-calls.jsonl")
    _install(stand_in.bin_dir, "pulumi", PULUMI_STAND_IN)
    return stand_in


@pytest.fixture
def gh_stand_in(tmp_path) -> StandIn:
    """A recording stand-in for the GitHub CLI `gh`."""
    stand_in = StandIn(tmp_path / "bin", tmp_path / "gh-calls.jsonl")
    _install(stand_in.bin_dir, "gh", GH_STAND_IN)
    return stand_in


def run_make(*args: str, env: dict[str, str] | None = None, path_first: Path | None = None):
    """`make` in the repository, never rebuilding .venv (`-o`: treat it as up to date)."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("STACK", "MESSAGE", "ENV")}
    full_env.pop("MAKEFLAGS", None)
    if path_first is not None:
        full_env["PATH"] = f"{path_first}{os.pathsep}{full_env['PATH']}"
    full_env.update(env or {})
    return subprocess.run(
        ["make", "-o", ".venv/.installed", *args],
        cwd=REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
