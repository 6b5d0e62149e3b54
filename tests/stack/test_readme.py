"""The README stays true: its settings reference is the generated one, and the commands it
promises exist."""

from __future__ import annotations

import re
from pathlib import Path

from configtrail.commands.settings_doc import reference_markdown

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_settings_reference_in_readme_matches_the_model():
    match = re.search(
        r"<!-- settings-reference:start -->\n(.*?)<!-- settings-reference:end -->", README, re.S
    )
    assert match, "README lost its settings-reference markers"
    assert match.group(1) == reference_markdown(), (
        "README settings reference is stale: run `configtrail settings --update README.md`"
    )


def test_quick_start_is_the_two_commands_and_ci_runs_them():
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "make check" in quick_start and "make test" in quick_start
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "make check" in ci


def test_every_make_target_the_readme_names_exists():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-zA-Z][\w-]*):", makefile, re.M))
    named = set(re.findall(r"`make ([a-z][\w-]*)", README))
    assert named, "README names no make targets"
    assert named <= targets, f"README names missing targets: {sorted(named - targets)}"
