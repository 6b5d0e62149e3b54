"""`configtrail controls` and `configtrail ai-pack`: output, exit codes, bad-input lines."""

from __future__ import annotations

from configtrail import cli
from configtrail.commands import controls_doc


def test_controls_prints_the_generated_table(capsys):
    assert cli.main(["controls"]) == 0
    assert capsys.readouterr().out == controls_doc.table_markdown()


def test_ai_pack_unknown_variant_is_bad_input(capsys):
    assert cli.main(["ai-pack", "--variant", "compliantt"]) == 2
    err = capsys.readouterr().err
    assert "variant(s) ['compliantt'] do not exist; allowed: compliant, " in err
    assert "Traceback" not in err


def test_ai_pack_missing_interpreter_is_bad_input(capsys, tmp_path):
    assert cli.main(["ai-pack", "--python", str(tmp_path / "venv/bin/python")]) == 2
    assert "no such interpreter (make ai-pack-venv" in capsys.readouterr().err


def test_ai_pack_one_variant_writes_summary_and_files(capsys, tmp_path):
    summary = tmp_path / "ai-pack.md"
    code = cli.main(
        [
            "ai-pack",
            "--variant",
            "bedrock-agent-guardrail",
            "--out",
            str(tmp_path),
            "--summary",
            str(summary),
            "--quiet",
        ]
    )
    assert code == 0
    assert "2/2 as expected" in capsys.readouterr().out
    assert (
        "| `bedrock-agent-guardrail` | preview | bedrock-agent-guardrail |" in summary.read_text()
    )
    assert (tmp_path / "bedrock-agent-guardrail" / "stack.json").is_file()
    assert (tmp_path / "bedrock-agent-guardrail" / "preview.json").is_file()
