"""Every kind of bad input is skipped with a warning naming it, counted, and reflected in the
exit code, while everything else in the archive is still read."""

from __future__ import annotations

import json

import pytest

from configtrail.history.reader import FileProblem, decode
from tests.history import archive

CASES = {
    "_7.json.gz": "corrupt gzip",
    "_8.json": "truncated or invalid JSON",
    "_9.json.gz": "truncated or invalid JSON",
    "_10.json.gz": "unknown fileVersion '2.0'",
    "notes.txt": "outside the layout: a ConfigHistory file must be named",
    "exports/": "outside the layout: not under <prefix>/AWSLogs",
}


@pytest.fixture(params=["directory", pytest.param("s3", marks=pytest.mark.slow)])
def bad_source(request, tmp_path):
    files = {**archive.good_files(), **archive.bad_files()}
    if request.param == "directory":
        archive.write_dir(tmp_path, files)
        return [str(tmp_path)]
    bucket = request.getfixturevalue("make_bucket")(files)
    return [f"s3://{bucket}", "--endpoint-url", request.getfixturevalue("moto_endpoint")]


def test_each_bad_file_is_named_counted_and_the_rest_is_kept(run_cli, bad_source):
    code, out, err = run_cli("--source", *bad_source, "--format", "json")
    assert code == 1
    report = json.loads(out)
    skipped = {entry["file"]: entry["reason"] for entry in report["summary"]["skippedFiles"]}
    assert len(skipped) == len(CASES)
    for marker, reason in CASES.items():
        [name] = [name for name in skipped if marker in name]
        assert skipped[name].startswith(reason), (name, skipped[name])
        # One warning line per skipped file names it.
        assert f"warning: skipped {name}: {reason}" in " ".join(err.split())
    [item] = report["summary"]["skippedItems"]
    assert "AWS::S3::Bucket" in item["item"] and item["item"].endswith("configurationItems[0]")
    assert item["reason"] == "has no resourceId"
    # Nothing else is lost: the same timelines as the clean archive.
    assert {t["resourceId"] for t in report["timelines"]} == {
        "churn-model",
        "AROAEXAMPLEROLE",
        "training-data",
        "gr-abc123",
    }
    assert "skipped 6 files and 1 items" in err


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_human_reports_list_what_was_skipped(run_cli, bad_source, fmt):
    code, out, _ = run_cli("--source", *bad_source, "--format", fmt)
    assert code == 1
    assert "corrupt gzip" in out and "unknown fileVersion" in out
    assert "has no resourceId" in out


@pytest.mark.parametrize(
    ("data", "gzipped", "message"),
    [
        (b"[]", False, "not a JSON object"),
        (b'{"fileVersion": "1.0"}', False, "configurationItems is missing or not a list"),
        (b'{"configurationItems": []}', False, "unknown fileVersion None"),
        (b"\xc3\x28{}", False, "not UTF-8 text"),
        (b"", True, "truncated or invalid JSON"),
    ],
)
def test_decode_explains_each_problem(data, gzipped, message):
    with pytest.raises(FileProblem, match=message):
        decode(data, gzipped)


def test_files_are_gunzipped_by_isal_and_its_failures_reported_as_the_standard_library_does(
    monkeypatch,
):
    """ISA-L (python-isal) gunzips every delivered file; one it rejects is read again by the
    standard library, whose verdict and message are what the scan reports."""
    import gzip

    from configtrail.history import reader

    body = {"fileVersion": "1.0", "configurationItems": [archive.M1]}
    data = gzip.compress(json.dumps(body).encode())
    calls = []
    real = reader.igzip.decompress
    monkeypatch.setattr(reader.igzip, "decompress", lambda d: (calls.append(d), real(d))[1])
    assert decode(data, gzipped=True) == [archive.M1]
    assert calls == [data]
    not_gzip = b"plain text, not gzip"
    with pytest.raises(FileProblem, match=r"^corrupt gzip \(Not a gzipped file \(b'pl'\)\)$"):
        decode(not_gzip, gzipped=True)
    assert calls[-1] == not_gzip
