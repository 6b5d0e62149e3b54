"""The pipeline's own logic (configtrail.pipeline): the dispatch ref guard on a real git
repository, the estate matrix, the one pull-request report grouped by account and its comment
(with a recording stand-in for `gh`), and the checksum-verified CLI install (against archives
served from loopback)."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import shutil
import subprocess
import tarfile
import threading
from pathlib import Path

import pytest
import yaml

from configtrail import estate as estate_module
from configtrail.bootstrap import settings as bs
from configtrail.pipeline import cli_install, matrix, refs, report
from tests.conftest import ESTATE, STACKS
from tests.workflows import workflow_files as wf

# --- dispatch refs -----------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A clone whose main has two commits and a tag, plus an unmerged branch, its tag, and a
    pull request ref."""
    origin = tmp_path_factory.mktemp("origin")
    git(origin, "init", "-q", "-b", "main")
    git(origin, "config", "user.email", "t@example.org")
    git(origin, "config", "user.name", "t")
    for number in (1, 2):
        (origin / "f").write_text(str(number))
        git(origin, "add", "f")
        git(origin, "commit", "-q", "-m", f"c{number}")
    git(origin, "tag", "v1", "HEAD~1")
    git(origin, "checkout", "-q", "-b", "feature")
    (origin / "f").write_text("unreviewed")
    git(origin, "commit", "-q", "-am", "unreviewed")
    git(origin, "tag", "unmerged-tag")
    git(origin, "update-ref", "refs/pull/7/head", "HEAD")
    git(origin, "checkout", "-q", "main")
    clone = tmp_path_factory.mktemp("clone") / "repo"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)
    git(clone, "fetch", "-q", "origin", "+refs/pull/*:refs/remotes/origin/pull/*", "--tags")
    return clone


def test_the_default_branch_a_tag_and_commits_on_it_resolve_to_full_shas(repo):
    head = git(repo, "rev-parse", "origin/main")
    first = git(repo, "rev-parse", "origin/main~1")
    assert refs.resolve("main", "main", repo) == head
    assert refs.resolve("v1", "main", repo) == first
    assert refs.resolve(first, "main", repo) == first
    assert refs.resolve(first[:7], "main", repo) == first, "short SHAs are resolved"
    assert refs.resolve(first[:7].upper(), "main", repo) == first


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("feature", "is not main, a tag or a commit SHA"),
        ("refs/pull/7/head", "is not main, a tag or a commit SHA"),
        ("unmerged-tag", "is not reachable from main"),
        ("", "is not a plain ref name or SHA"),
        ("--upload-pack=x", "is not a plain ref name or SHA"),
        ("main~1", "is not a plain ref name or SHA"),
        ("deadbeef", "no such commit"),
    ],
)
def test_anything_else_is_refused_with_one_line(repo, ref, expected):
    with pytest.raises(refs.RefusedRef) as error:
        refs.resolve(ref, "main", repo)
    assert expected in str(error.value) and "\n" not in str(error.value)
    assert "allowed: main, a tag, or a commit SHA" in str(error.value)


def test_an_unmerged_commit_by_sha_is_refused(repo):
    unmerged = git(repo, "rev-parse", "origin/feature")
    with pytest.raises(refs.RefusedRef, match="not reachable from main"):
        refs.resolve(unmerged, "main", repo)


def test_check_ref_writes_the_sha_and_exits_1_on_refusal(repo, tmp_path):
    out = tmp_path / "out"
    done = subprocess.run(
        [
            str(wf.REPO / ".venv/bin/configtrail"),
            "pipeline",
            "check-ref",
            "--ref",
            "v1",
            "--default-branch",
            "main",
            "--repo",
            str(repo),
            "--github-output",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text() == f"sha={git(repo, 'rev-parse', 'v1^{commit}')}\n"
    done = subprocess.run(
        [
            str(wf.REPO / ".venv/bin/configtrail"),
            "pipeline",
            "check-ref",
            "--ref",
            "refs/pull/7/head",
            "--default-branch",
            "main",
            "--repo",
            str(repo),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and "nothing was run" in done.stderr


# --- the estate matrix ---------------------------------------------------------------------------


def test_the_matrix_is_every_stack_in_deploy_waves():
    values = matrix.outputs(ESTATE, bs.load_accounts())
    stacks = json.loads(values["stacks"])
    assert [s["name"] for s in stacks] == list(STACKS)
    waves = [[s["name"] for s in json.loads(values[wave])] for wave in matrix.WAVES]
    assert [set(w) for w in waves if w] == [set(w) for w in ESTATE.deploy_order()]
    by_name = {s["name"]: s for s in stacks}
    assert by_name["ml-prod"]["preview_role"] == (
        "arn:aws:iam::444444444444:role/configtrail-github-preview-ml-prod"
    )
    assert by_name["log-archive"]["archive_admin_environment"] == "log-archive-archive-admin"
    assert by_name["trial"]["archive_admin_environment"] == ""
    assert by_name["ml-prod"]["production"] and not by_name["ml-dev"]["production"]
    assert values["session_seconds"] == "7200" and by_name["ml-dev"]["timeout_minutes"] == 110


def test_a_new_stack_file_reaches_every_workflow_without_an_edit(tmp_path):
    """The workflows' stack lists are estate.yml's outputs: a copy of a member with a new account
    id appears in the matrix, in the members' wave, and no workflow names any stack."""
    directory = tmp_path / "environments"
    shutil.copytree(estate_module.ENVIRONMENTS, directory)
    member = yaml.safe_load((directory / "Pulumi.ml-dev.yaml").read_text())
    member["config"]["configtrail:accountId"] = "666666666666"
    (directory / "Pulumi.ml-test.yaml").write_text(yaml.safe_dump(member))
    estate = estate_module.load(directory)
    values = matrix.outputs(estate, bs.accounts(bs.load(), estate))
    members = {s["name"]: s for s in json.loads(values["members"])}
    assert members["ml-test"]["account"] == "666666666666"
    assert members["ml-test"]["preview_role"].startswith("arn:aws:iam::666666666666:role/")
    for path in wf.workflow_paths():
        named = set(scalars(wf.load(path.name))) & set(STACKS)
        assert not named, (path.name, named)


def scalars(node):
    """Every string in a parsed workflow (keys and values; comments are gone)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from scalars(value)
    elif isinstance(node, list):
        for item in node:
            yield from scalars(item)
    elif isinstance(node, str):
        yield from node.replace(",", " ").split()


# --- the report and the comment ------------------------------------------------------------------


def verdict(stack, status, **extra):
    base = {
        "stack": stack,
        "account": ESTATE[stack].account_id,
        "command": "preview",
        "status": status,
        "exit_code": 0 if status in ("ok", "changes") else 255,
        "first_deploy": False,
        "changes": [],
        "violations": [],
        "errors": [],
    }
    return {**base, **extra}


def test_the_report_groups_every_stack_by_account_and_names_failures():
    verdicts = {
        "ml-prod": verdict(
            "ml-prod",
            "policy-violations",
            violations=[
                {
                    "level": "mandatory",
                    "pack": "configtrail",
                    "version": "v1",
                    "policy": "aws-cfg-recorder-status-enabled",
                    "resource": "r: t",
                    "message": "The recorder must be started.",
                }
            ],
        ),
        "ml-dev": verdict("ml-dev", "failed", errors=["AccessDenied: not authorized"]),
        "trial": verdict("trial", "changes", changes=["+ 3 to create"], first_deploy=True),
        "log-archive": verdict("log-archive", "ok", changes=["12 unchanged"]),
    }
    body = report.render(ESTATE, verdicts, "Pulumi preview")
    assert body.startswith(report.MARKER)
    positions = [body.index(f"### Account {a}") for a in ESTATE.accounts()]
    assert positions == sorted(positions)
    for account, stacks in ESTATE.accounts().items():
        section = body.split(f"### Account {account}", 1)[1].split("### Account", 1)[0]
        for stack in stacks:
            assert f"| `{stack}` |" in section
    assert "aws-cfg-recorder-status-enabled" in body and "The recorder must be started." in body
    assert "AccessDenied: not authorized" in body
    assert "| `aggregator` | aggregator | ❔ no result" in body, "a missing verdict is listed"
    assert "first deploy" in body
    assert "**3 stack(s) need attention.**" in body


def test_the_comment_is_created_once_then_edited(tmp_path, gh_stand_in, monkeypatch):
    body = tmp_path / "preview.md"
    body.write_text(report.MARKER + "\nreport\n")
    monkeypatch.setenv("GH_STAND_IN_LOG", str(gh_stand_in.log))
    monkeypatch.setenv("PATH", f"{gh_stand_in.bin_dir}:{__import__('os').environ['PATH']}")
    calls = []

    def gh(args):
        calls.append(list(args))
        if args[0] == "api" and "--paginate" in args:
            return json.dumps(existing)
        return ""

    existing: list[int] = []
    assert "commented" in report.upsert_comment("o/r", 5, body, gh)
    assert calls[-1][:4] == ["api", "--method", "POST", "repos/o/r/issues/5/comments"]
    existing.append(99)
    assert "edited comment 99" in report.upsert_comment("o/r", 5, body, gh)
    assert calls[-1][:4] == ["api", "--method", "PATCH", "repos/o/r/issues/comments/99"]
    assert calls[-1][-1] == f"body=@{body}"


def test_make_preview_report_collects_verdicts(tmp_path):
    from tests.workflows.conftest import run_make

    build = tmp_path / "build"
    (build / "preview").mkdir(parents=True)
    (build / "preview" / "ml-dev.json").write_text(json.dumps(verdict("ml-dev", "ok")))
    done = run_make("preview-report", f"PIPELINE_OUT={build}", f"SUMMARY_DIR={tmp_path / 's'}")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "s" / "preview.md").read_text()
    assert "| `ml-dev` | member | ✅ no changes |" in text


# --- the CLI, verified against Pulumi's checksums -------------------------------------------------


def fake_release(version: str) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = b"#!/bin/sh\necho v" + version.encode() + b"\n"
        info = tarfile.TarInfo("pulumi/pulumi")
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
    archive = buffer.getvalue()
    name = cli_install.archive_name(version)
    checksums = (
        f"{'0' * 64}  pulumi-v{version}-darwin-arm64.tar.gz\n"
        f"{hashlib.sha256(archive).hexdigest()}  {name}\n"
    )
    return archive, checksums


@pytest.fixture
def release_server(tmp_path):
    """Pulumi's release layout, served from loopback (a stand-in for get.pulumi.com)."""
    root = tmp_path / "releases"
    root.mkdir()
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(root), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_cli_installs_only_when_its_checksum_matches(release_server, tmp_path):
    root, url = release_server
    archive, checksums = fake_release("3.272.0")
    (root / cli_install.archive_name("3.272.0")).write_bytes(archive)
    (root / cli_install.checksums_name("3.272.0")).write_text(checksums)
    bin_dir = cli_install.install("3.272.0", tmp_path / "good", url)
    assert (bin_dir / "pulumi").is_file()
    (root / cli_install.archive_name("3.272.0")).write_bytes(archive + b"tampered")
    with pytest.raises(cli_install.ChecksumError, match="does not match Pulumi's published"):
        cli_install.install("3.272.0", tmp_path / "bad", url)
    assert not (tmp_path / "bad").exists(), "nothing unpacked"
    (root / cli_install.checksums_name("3.272.0")).write_text("abc  other.tar.gz\n")
    with pytest.raises(cli_install.ChecksumError, match="not listed"):
        cli_install.install("3.272.0", tmp_path / "bad", url)


def test_make_pulumi_cli_puts_the_verified_cli_on_the_path(release_server, tmp_path):
    root, url = release_server
    version = (wf.REPO / ".pulumi-version").read_text().strip()
    archive, checksums = fake_release(version)
    (root / cli_install.archive_name(version)).write_bytes(archive)
    (root / cli_install.checksums_name(version)).write_text(checksums)
    github_path = tmp_path / "github-path"
    done = subprocess.run(
        [
            str(wf.REPO / ".venv/bin/configtrail"),
            "pipeline",
            "install-cli",
            "--base-url",
            url,
            "--dest",
            str(tmp_path / "cli"),
            "--github-path",
            str(github_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert github_path.read_text() == f"{tmp_path / 'cli' / 'pulumi'}\n"
    assert f"Pulumi CLI {version} verified" in done.stderr


def test_the_real_download_urls_are_pulumis(monkeypatch):
    seen = []

    def fetch(url):
        seen.append(url)
        raise OSError("offline")

    with pytest.raises(OSError):
        cli_install.install("3.272.0", Path("/nonexistent"), fetch=fetch)
    assert seen == ["https://get.pulumi.com/releases/sdk/pulumi-v3.272.0-linux-x64.tar.gz"]
