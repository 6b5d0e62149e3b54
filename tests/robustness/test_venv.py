"""The virtual environments survive an interrupted build and two builds at once
(scripts/build-venv, which the Makefile's venv targets run). Real builds, of an environment with
an empty requirements file so that they take seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build-venv"


def _build(venv: Path, requirements: Path, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [str(SCRIPT), str(venv), str(requirements), "--", str(requirements)],
        env={**os.environ, "PYTHON": sys.executable},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **popen,
    )


def _works(venv: Path) -> bool:
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "--version"], check=False)
    return done.returncode == 0 and (venv / ".installed").is_file()


@pytest.fixture
def requirements(tmp_path) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text("# nothing to install\n")
    return path


@pytest.mark.slow
def test_an_interrupted_build_is_rebuilt_by_the_next_run(tmp_path, requirements):
    venv = tmp_path / "venv"
    first = _build(venv, requirements)
    deadline = time.monotonic() + 60
    while not (venv / "bin" / "python").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGINT)  # Ctrl-C, as at a terminal: the whole process group
    first.communicate(timeout=60)
    assert not (venv / ".installed").exists(), "the interrupted build must not look finished"
    second = _build(venv, requirements)
    _, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert "rebuilding it" in err
    assert _works(venv)


@pytest.mark.slow
def test_a_half_built_environment_is_not_reused(tmp_path, requirements):
    """What an interrupted pip upgrade leaves: a venv whose pip is gone, and no marker."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    build = _build(venv, requirements)
    _, err = build.communicate(timeout=300)
    assert build.returncode == 0, err
    assert _works(venv)


@pytest.mark.slow
def test_two_builds_at_once_build_once(tmp_path, requirements):
    venv = tmp_path / "venv"
    builds = [_build(venv, requirements), _build(venv, requirements)]
    results = [build.communicate(timeout=300) for build in builds]
    assert [build.returncode for build in builds] == [0, 0], results
    assert any("another build" in err for _, err in results), "the second waited for the first"
    assert _works(venv)
    marker = (venv / ".installed").stat().st_mtime
    again = _build(venv, requirements)
    again.communicate(timeout=60)
    assert again.returncode == 0 and (venv / ".installed").stat().st_mtime == marker, "fresh: kept"


def test_a_kept_entry_survives_a_rebuild(tmp_path, requirements):
    venv = tmp_path / "venv"
    (venv / "checkov").mkdir(parents=True)
    (venv / "checkov" / "keep-me").write_text("x")
    (venv / "stale").write_text("x")
    build = subprocess.run(
        [str(SCRIPT), str(venv), str(requirements), "--keep", "checkov", "--", str(requirements)],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    assert (venv / "checkov" / "keep-me").exists() and not (venv / "stale").exists()
