"""The data the pack carries (policies/configtrail_policies/data/) is what
`python -m configtrail.policy.packdata` makes from the repository's catalog and the installed
pulumi-aws: a stale file fails here."""

from __future__ import annotations

import json

import pytest

from configtrail.policy import packdata


def _on_disk(name: str) -> dict:
    return json.loads((packdata.DATA_DIR / name).read_text(encoding="utf-8"))


def test_catalog_data_is_current():
    assert _on_disk("catalog.json") == packdata.catalog_data()


@pytest.mark.slow
def test_taggable_data_is_current():
    """Imports every pulumi-aws module (about 25 s)."""
    current = packdata.taggable_data()
    assert _on_disk("taggable.json") == current
    types = current["types"]
    assert types["s3:Bucket"] and types["cfg:Rule"] and types["lambda:Function"]
    assert not types["cfg:Recorder"] and not types["s3:BucketPolicy"]


def test_check_mode_reports_a_stale_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(packdata, "DATA_DIR", tmp_path)
    monkeypatch.setattr(packdata, "files", lambda: {"catalog.json": {"a": 1}})
    (tmp_path / "catalog.json").write_text("{}")
    assert packdata.main(["--check"]) == 1
    assert "out of date: catalog.json" in capsys.readouterr().out
    assert packdata.main([]) == 0
    assert packdata.main(["--check"]) == 0
