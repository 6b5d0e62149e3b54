"""The `configtrail` entry point: every subcommand is reachable, only the one being run is
imported, and planning in forked workers writes exactly what planning in one process writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from configtrail.cli import COMMAND_MODULES
from tests.conftest import STACKS

ROOT = Path(__file__).resolve().parents[2]
CONFIGTRAIL = str(Path(sys.executable).with_name("configtrail"))


def test_help_lists_every_subcommand():
    out = subprocess.run([CONFIGTRAIL, "--help"], capture_output=True, text=True, check=True)
    for command in COMMAND_MODULES:
        assert command in out.stdout, command


def test_a_subcommand_imports_only_its_own_module():
    script = (
        "import sys; from configtrail import cli; cli.main(['settings']); "
        "print(sorted(m for m in sys.modules if m.startswith('configtrail.commands.')))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    loaded = out.stdout.strip().splitlines()[-1]
    assert loaded == "['configtrail.commands.settings_doc']"


def _resources(path: Path) -> list[dict]:
    return json.loads(path.read_text())["deployment"]["resources"]


def test_forked_workers_write_what_one_process_writes(tmp_path):
    for jobs, out in (("2", tmp_path / "forked"), ("1", tmp_path / "serial")):
        subprocess.run(
            [CONFIGTRAIL, "plan", "--all", "--quiet", "--jobs", jobs, "--out", str(out)],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
    for env in STACKS:
        forked, serial = tmp_path / "forked" / env, tmp_path / "serial" / env
        assert _resources(forked / "stack.json") == _resources(serial / "stack.json")
        assert (forked / "preview.json").read_text() == (serial / "preview.json").read_text()
    summary = (tmp_path / "forked" / "summary" / "plan.md").read_text()
    assert summary == (tmp_path / "serial" / "summary" / "plan.md").read_text()
    assert summary.count("\n| ") == 1 + len(STACKS)  # header row + one per stack
