"""Each output format carries the timelines and the diffs; the HTML report is self-contained."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_json_is_one_document(run_cli, good_dir):
    _code, out, _ = run_cli("--source", str(good_dir), "--format", "json")
    document = json.loads(out)
    assert set(document) == {
        "generated",
        "filters",
        "summary",
        "timelines",
        "totals",
        "accounts",
        "compliance",
        "coverage",
    }
    assert document["totals"] == {"resources": 4, "items": 9, "changes": 8}


def test_table(run_cli, good_dir):
    code, out, _ = run_cli("--source", str(good_dir), "--format", "table")
    assert code == 0
    assert "AWS::SageMaker::Model churn-model" in out
    assert "configuration.PrimaryContainer.Image (changed)" in out
    assert "123.dkr.ecr/churn:1.0" in out and "123.dkr.ecr/churn:1.1" in out
    assert "4 resources, 9 items, 8 field changes" in out


def test_markdown_tables(run_cli, good_dir):
    _code, out, _ = run_cli("--source", str(good_dir), "--format", "markdown")
    assert out.startswith("# Configuration history report")
    assert "### AWS::Bedrock::Guardrail `gr-abc123`" in out
    row = next(line for line in out.splitlines() if "BlockedInputMessaging" in line)
    cells = [c.strip() for c in row.strip("|").split(" | ")]
    assert cells == [
        "2025-03-03 15:00:00 UTC",
        "OK",
        "changed",
        "`configuration.BlockedInputMessaging`",
        "`Sorry, I cannot help with that.`",
        "`This request is blocked by policy.`",
    ]
    assert "| resources | 4 |" in out


def test_markdown_escapes_table_breakers():
    from configtrail.history.render.markdown import cell

    assert cell("a|b\nc`d") == "a\\|b c'd"


def test_html_escapes_values(run_cli, tmp_path):
    from tests.history import archive

    evil = archive.guardrail("2025-03-03T16:00:00", "<script>alert(1)</script>")
    files = {
        **archive.good_files(),
        **dict(
            [
                archive.history(
                    archive.OTHER,
                    "AWS::Bedrock::Guardrail",
                    "2025-03-03T16:00:00",
                    "2025-03-03T18:00:00",
                    [evil],
                    sequence=2,
                )
            ]
        ),
    }
    archive.write_dir(tmp_path, files)
    _, out, _ = run_cli("--source", str(tmp_path), "--format", "html")
    assert "<script>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "html"])
def test_every_format_writes_to_a_file(run_cli, good_dir, tmp_path, fmt):
    target = tmp_path / f"report.{fmt}"
    code, out, _ = run_cli("--source", str(good_dir), "--format", fmt, "--out", str(target))
    assert code == 0 and out == ""
    assert "churn-model" in target.read_text()


def test_out_dir_writes_every_report_from_one_scan(run_cli, tmp_path):
    from tests.history import archive

    archive.write_dir(tmp_path / "a", {**archive.good_files(), **archive.bad_files()})
    target = tmp_path / "audit"
    code, out, _ = run_cli(
        "--source",
        str(tmp_path / "a"),
        "--out-dir",
        str(target),
        "--since",
        "2025-03-01",
        "--until",
        "2025-04-01",
    )
    assert code == 1 and out == ""
    assert sorted(p.name for p in target.iterdir()) == [
        "history.html",
        "history.json",
        "history.md",
        "summary.md",
    ]
    assert json.loads((target / "history.json").read_text())["totals"]["resources"] == 4
    assert (target / "history.html").read_text().count("<svg") == 4
    assert "### AWS::SageMaker::Model `churn-model`" in (target / "history.md").read_text()
    summary = (target / "summary.md").read_text()
    assert "- 4 resources, 9 configuration items, 8 field changes" in summary
    assert "**Skipped 6 files and 1 items:**" in summary


def test_out_and_out_dir_exclude_each_other(run_cli, good_dir, tmp_path):
    code, _, err = run_cli(
        "--source", str(good_dir), "--out", str(tmp_path / "x"), "--out-dir", str(tmp_path)
    )
    assert code == 2 and "--out and --out-dir exclude each other" in err
