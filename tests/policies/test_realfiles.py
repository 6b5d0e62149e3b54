"""Real files from public repositories (realfiles/, sources in realfiles/SOURCES.md): each gets a
verdict or a clean exit 2 with a one-line reason, never a traceback — and, none being a ConfigTrail
stack, a verdict that says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from configtrail.cli import main
from configtrail.policy import inputs
from configtrail.policy.runner import evaluate_with

REAL = Path(__file__).resolve().parent / "realfiles"
FILES = sorted(REAL.glob("*.json"))
# Files Pulumi itself refuses, and the one-line reason policy-check gives.
REFUSED = {
    "pulumi-checkpoint-v4-unsupported-feature.json": "features that Pulumi does not know",
}


def test_every_file_has_its_source_noted():
    sources = (REAL / "SOURCES.md").read_text(encoding="utf-8")
    assert len(FILES) >= 10
    for path in FILES:
        assert f"`{path.name}`" in sources, path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_real_file_gets_a_verdict_or_a_clean_exit_2(path, capsys):
    code = main(["policy-check", str(path), "--quiet"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    if path.name in REFUSED:
        assert code == 2
        assert REFUSED[path.name] in captured.err and path.name in captured.err
    else:
        assert code in (0, 1), captured.err
        assert ("PASS" if code == 0 else "FAIL") in captured.out


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in FILES if p.name not in REFUSED], ids=lambda p: p.name)
def test_a_real_foreign_stack_is_said_not_to_be_a_configtrail_stack(pack, path):
    report = evaluate_with(pack, inputs.load(path), {}, None)
    [plain] = [f for f in report.findings if f.policy == "aws-cfg-stack-is-configtrail"]
    assert plain.level == "mandatory" and "not a ConfigTrail stack" in plain.message
    assert not report.passed


def test_versions_and_formats_are_read_as_pulumi_reads_them():
    kinds = {p.name: inputs.load(p) for p in FILES if p.name not in REFUSED}
    v0, v1, v3, v4 = (kinds[f"pulumi-checkpoint-{v}.json"] for v in ("v0", "v1", "v3", "v4"))
    assert [s.urn for s in v0.resources] == [s.urn for s in v1.resources]
    assert [s.urn for s in v3.resources] == [s.urn for s in v4.resources]
    assert kinds["pulumi-eventlog-template-body.json"].kind == "preview"
    assert kinds["pulumi-eventlog-up.json"].kind == "update-log"
    export = kinds["pulumi-docs-rest-api-export.json"]
    assert export.kind == "stack-export" and export.stack == "dev-user1"
    vpc = next(s for s in export.resources if s.type == "aws:ec2/vpc:Vpc")
    assert vpc.property_dependencies == {"cidrBlock": []}
