"""The pack is hosted the way the SDK means it: `PolicyPack(...)` in `__main__.py`, started as the
Pulumi CLI starts a Python pack (`python -u -m pulumi.policy <engine> <pack dir>`), the SDK's own
analyzer service unchanged, and no private or name-mangled attribute of pulumi, pulumi_policy or
the generated provider SDK anywhere in the pack or the runner. The pack needs nothing but its
requirements.txt: it carries its data (data/*.json) instead of importing the repository."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from configtrail_policies.pack import definitions

from configtrail.policy.analyzer import POLICY_PACK_DIR

REPO = Path(__file__).resolve().parents[2]
THIRD_PARTY = ("pulumi", "pulumi_policy", "pulumi_aws", "grpc", "google")
CHECKED = [
    # the packs' own code, not the AI pack's virtualenv that `make check-ai-pack` builds inside
    *sorted(p for p in POLICY_PACK_DIR.rglob("*.py") if "venv" not in p.relative_to(REPO).parts),
    *sorted((REPO / "src/configtrail/policy").glob("*.py")),
    REPO / "src/configtrail/commands/policy.py",
    REPO / "benchmarks/policy_pack.py",
]
PRIVATE_NAMES = ("__target", "_internal_init", "_sync_await", "_PolicyAnalyzerServicer")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses(paths: list[Path]) -> list[str]:
    """Every private name of a third-party module the files use."""
    problems = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules: set[str] = set()  # local names bound to third-party modules
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in THIRD_PARTY:
                        modules.add(alias.asname or alias.name.split(".")[0])
                        if any(_private(part) for part in alias.name.split(".")):
                            problems.append(f"{path}: import {alias.name}")
            elif (
                isinstance(node, ast.ImportFrom)
                and (node.module or "").split(".")[0] in THIRD_PARTY
            ):
                for part in [*(node.module or "").split("."), *(a.name for a in node.names)]:
                    if _private(part):
                        problems.append(f"{path}: from {node.module} import ... {part}")
                modules.update(a.asname or a.name for a in node.names)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _private(node.attr):
                root = node.value
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(root, ast.Name) and root.id in modules:
                    problems.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
            if isinstance(node, ast.Constant) and node.value in PRIVATE_NAMES:
                problems.append(f"{path}:{node.lineno}: {node.value!r}")
    return problems


def test_no_private_names_of_pulumi_the_policy_sdk_or_the_provider_sdk():
    problems = private_uses(CHECKED)
    assert not problems, problems


def test_the_checker_catches_a_private_use(tmp_path):
    """The test above can fail: a file with each kind of private use is caught."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import pulumi_policy.policy as sdk\nfrom pulumi_policy.proxy import _DictProxy\n"
        "x = sdk._PolicyAnalyzerServicer\ny = {}['__target']\n"
    )
    found = "\n".join(private_uses([sample]))
    assert "_DictProxy" in found and "sdk._PolicyAnalyzerServicer" in found and "__target" in found


def _requirements() -> dict[str, str]:
    pins = {}
    for line in (POLICY_PACK_DIR / "requirements.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, pin = line.partition("==")
            pins[name.lower().replace("_", "-")] = pin
    return pins


def test_requirements_pin_what_the_lock_pins():
    lock = {
        line.split("==")[0].lower().replace("_", "-"): line.strip().split("==")[1]
        for line in (REPO / "requirements/main.lock").read_text().splitlines()
        if "==" in line
    }
    for name, pin in _requirements().items():
        assert lock[name] == pin, name


def test_the_pack_imports_only_its_requirements_and_the_standard_library():
    """Wherever the pack is published, it installs from requirements.txt alone: no import of the
    repository's `configtrail` package, nor of pulumi-aws (the taggable types are data)."""
    provided = {"pulumi": "pulumi", "pulumi_policy": "pulumi-policy"}
    roots = set()
    # policies/ai-workloads/ is the other pack, with its own requirements (tests/ai_controls)
    own = [p for p in POLICY_PACK_DIR.rglob("*.py") if "ai-workloads" not in p.parts]
    for path in own:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                roots.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots.add((node.module or "").split(".")[0])
    third_party = roots - set(sys.stdlib_module_names) - {"__future__", "configtrail_policies"}
    assert third_party <= set(provided), third_party - set(provided)
    assert {provided[r] for r in third_party} <= set(_requirements())
    assert set(_requirements()) == {"pulumi", "pulumi-policy", "grpcio", "protobuf"}


def test_the_pack_is_started_as_the_cli_starts_a_python_pack(pack):
    cmdline = Path(f"/proc/{pack.process.pid}/cmdline").read_bytes().split(b"\0")[:-1]
    arguments = [part.decode() for part in cmdline]
    assert arguments[1:4] == ["-u", "-m", "pulumi.policy"]
    assert Path(arguments[5]) == POLICY_PACK_DIR.resolve()
    assert Path(f"/proc/{pack.process.pid}/cwd").resolve() == POLICY_PACK_DIR.resolve()
    assert Path(arguments[0]).parent.parent.resolve() == (REPO / ".venv").resolve()


def test_the_running_pack_serves_every_definition(pack):
    info = pack.info()
    assert info.name == "configtrail-guardrails"
    assert [p.name for p in info.policies] == [d.name for d in definitions()]
