"""Adding a stack is one file: a copy of a member stack file with a new account id plans, gets a
derived policy config the real pack passes, and passes the real checkov gate with the
repository's acceptances (which select stacks by their settings, not by name)."""

from __future__ import annotations

import shutil

import pytest
import yaml

from configtrail import cli, estate
from configtrail.gates import checkov

REPO = checkov.REPO_ROOT


@pytest.fixture(scope="module")
def grown_estate(tmp_path_factory):
    directory = tmp_path_factory.mktemp("environments")
    shutil.copytree(estate.ENVIRONMENTS, directory, dirs_exist_ok=True)
    document = yaml.safe_load((directory / "Pulumi.ml-dev.yaml").read_text())
    document["config"]["configtrail:accountId"] = "666666666666"
    (directory / "Pulumi.ml-research.yaml").write_text(yaml.safe_dump(document))
    # a scratch repository root, so that findings read build/<stack>/tfplan.json as in the repo
    root = tmp_path_factory.mktemp("repo")
    shutil.copy(REPO / ".checkov.yaml", root / ".checkov.yaml")
    build = root / "build"
    code = cli.main(
        ["plan", "--all", "--quiet", "--environments-dir", str(directory), "--out", str(build)]
    )
    assert code == 0
    return directory, build, root


def test_the_new_stack_passes_the_policy_pack(grown_estate, capsys):
    directory, build, _ = grown_estate
    command = ["policy", "--env", "ml-research", "--environments-dir", str(directory)]
    assert cli.main([*command, "--out", str(build), "--quiet"]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert out.count("PASS") == 2 and "0 mandatory" in out
    assert (build / "ml-research" / "policy-config.json").is_file()


def test_the_new_stack_passes_checkov_with_the_repositorys_acceptances(
    grown_estate, capsys, monkeypatch
):
    directory, build, root = grown_estate
    monkeypatch.setattr(checkov, "REPO_ROOT", root)
    code = cli.main(
        [
            "checkov",
            "--all",
            "--only",
            "terraform_plan",
            "--environments-dir",
            str(directory),
            "--build",
            str(build),
            "--config",
            str(root / ".checkov.yaml"),
            "--accepted",
            str(REPO / ".checkov-accepted.yaml"),
            "--summary",
            str(build / "checkov.md"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "0 open" in out and "accepted" in out
    accepted = checkov.load_accepted(REPO / ".checkov-accepted.yaml", estate.load(directory))
    assert any("build/ml-research/tfplan.json" in p for a in accepted for p in a.where), (
        "the acceptances that follow the copied settings cover the new stack"
    )
