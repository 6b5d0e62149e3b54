"""Fixtures for the local gates' tests. Plans run the real program through Pulumi's mock runtime
(AWS-like stand-in mocks, configtrail/plan/mocks.py); checkov is the real one from .venv/checkov."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from configtrail import tfplan
from configtrail.gates import checkov
from configtrail.plan import export, runner
from tests.conftest import STACKS

VARIANT = {
    # A standalone stack with everything: archive, vault and recording in one graph (so checkov's
    # connection checks see a channel that references its bucket), the custom recorder role with
    # its policy attachment, KMS and notifications, so every mapped type is exercised by some plan.
    "aws:region": "eu-west-1",
    "configtrail:accountId": "210987654321",
    "configtrail:stackKind": "standalone",
    "configtrail:regions": ["eu-west-1", "eu-central-1"],
    "configtrail:recordingProfile": "all",
    "configtrail:recorderRole": "custom",
    "configtrail:archiveEncryption": "kms",
    "configtrail:notifications": True,
    "configtrail:vault": True,
    "configtrail:vaultRegion": "eu-central-1",
    "configtrail:rules": ["supporting"],
    "configtrail:tags": {
        "owner": "ml",
        "environment": "variant",
        "ai-system": "llm-gateway",
        "data-classification": "restricted",
    },
}


@pytest.fixture(scope="session")
def checkov_bin() -> Path:
    if not checkov.CHECKOV.exists():
        pytest.fail(f"{checkov.CHECKOV} is missing: run `make checkov-venv` first")
    return checkov.CHECKOV


@pytest.fixture(scope="session")
def stack_exports(plan_of, tmp_path_factory) -> dict[str, dict]:
    """`pulumi stack export` documents of the estate's stacks and the everything-variant."""
    exports = {env: export.stack_export(plan_of(env, False)) for env in STACKS}
    directory = tmp_path_factory.mktemp("variant")
    (directory / "Pulumi.variant.yaml").write_text(yaml.safe_dump({"config": VARIANT}))
    exports["variant"] = export.stack_export(runner.run("variant", directory=directory))
    return exports


@pytest.fixture(scope="session")
def plan_files(stack_exports, tmp_path_factory) -> dict[str, Path]:
    """build/<env>/tfplan.json as `configtrail plan` writes it, in a scratch build directory."""
    build = tmp_path_factory.mktemp("build")
    return {
        env: tfplan.write(document, build / env / "tfplan.json")
        for env, document in stack_exports.items()
    }


PARSE = """
import json, sys
from checkov.terraform.plan_parser import parse_tf_plan
out = {}
for path in sys.argv[1:]:
    definition, _ = parse_tf_plan(path, {})
    out[path] = [block for block in definition["resource"]]
print(json.dumps(out, default=str))
"""


def checkov_parse(checkov_bin: Path, files: list[Path]) -> dict[str, list[dict]]:
    """What checkov's own terraform_plan parser makes of the files (run in checkov's venv)."""
    python = checkov_bin.parent / "python"
    done = subprocess.run(
        [str(python), "-c", PARSE, *map(str, files)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)
