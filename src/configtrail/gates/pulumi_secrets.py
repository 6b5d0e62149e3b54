"""Secrets scan for Pulumi stack files (`Pulumi.<stack>.yaml`), run as a pre-commit hook.

Generic scanners get Pulumi stack files wrong both ways: they flag the ciphertext Pulumi is
meant to commit (`secure:` values, `encryptedkey:`) as high-entropy secrets, and they miss a
password committed in plain text under an innocent-looking config key. This hook knows the format:

- `secure:` must hold Pulumi ciphertext (`v1:<nonce>:<ciphertext>` from the passphrase provider,
  or base64 from a cloud KMS provider); anything else is plain text someone typed under `secure:`;
- `encryptedkey:` must be base64 (the stack's data key, encrypted by the secrets provider);
- `secretsprovider:` must be a known provider URL without credentials in it;
- a config value whose key names a secret (password, token, api key, ...) must be `secure:`;
- no value anywhere may look like an AWS access key id or a private key.

Usage: `python -m configtrail.gates.pulumi_secrets FILE...`; exit 0 clean, 1 findings, 2 a file
could not be read or parsed.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import yaml

CIPHERTEXT = re.compile(r"^(v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+|[A-Za-z0-9+/]{16,}={0,2})$")
BASE64 = re.compile(r"^[A-Za-z0-9+/]{16,}={0,2}$")
SECRET_KEY = re.compile(
    r"(pass(word|wd|phrase)|secret|token|api[-_]?key|private[-_]?key|credential|access[-_]?key)",
    re.IGNORECASE,
)
PROVIDER_SCHEMES = ("awskms", "azurekeyvault", "gcpkms", "hashivault")
PLAIN_PROVIDERS = ("passphrase", "default")
LEAKS = {
    "an AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "a private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
}


def _scalars(node: yaml.Node, path: str = "") -> Iterator[tuple[str, yaml.ScalarNode]]:
    """Every scalar value with its dotted key path."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _scalars(value, f"{path}.{key.value}" if path else str(key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _scalars(item, f"{path}[{index}]")
    elif isinstance(node, yaml.ScalarNode):
        yield path, node


def _provider_problem(url: str) -> str | None:
    if url in PLAIN_PROVIDERS:
        return None
    parts = urlsplit(url)
    if parts.scheme not in PROVIDER_SCHEMES:
        allowed = ", ".join([*PLAIN_PROVIDERS, *(f"{s}://..." for s in PROVIDER_SCHEMES)])
        return f"secretsprovider {url!r} is not a Pulumi secrets provider (allowed: {allowed})"
    if parts.username or parts.password:
        return "secretsprovider URL carries credentials; use the provider's environment instead"
    for name, _ in parse_qsl(parts.query):
        if SECRET_KEY.search(name):
            return f"secretsprovider URL carries {name!r}; use the provider's environment instead"
    return None


def scan_text(text: str, source: str) -> list[str]:
    """Findings as `source:line: problem` lines (empty when the file is clean)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as error:
        raise ValueError(f"{source}: not valid YAML: {error}") from None
    if root is None:
        return []
    findings: list[str] = []
    for path, node in _scalars(root):
        line = node.start_mark.line + 1
        value = str(node.value)
        leaf = path.rsplit(".", 1)[-1]
        for what, pattern in LEAKS.items():
            if pattern.search(value):
                findings.append(f"{source}:{line}: {path} holds {what}; remove it and rotate it")
        if path == "secretsprovider":
            problem = _provider_problem(value)
            if problem:
                findings.append(f"{source}:{line}: {problem}")
        elif path == "encryptedkey":
            if not BASE64.match(value):
                findings.append(f"{source}:{line}: encryptedkey is not base64 ciphertext")
        elif leaf == "secure":
            if not CIPHERTEXT.match(value):
                findings.append(
                    f"{source}:{line}: {path} is not Pulumi ciphertext; set it with "
                    "`pulumi config set --secret`"
                )
        elif path.startswith("config.") and SECRET_KEY.search(leaf.split(":")[-1]) and value:
            findings.append(
                f"{source}:{line}: {path} looks like a secret in plain text; set it with "
                "`pulumi config set --secret` (stores it under `secure:`)"
            )
    return findings


def main(argv: list[str] | None = None) -> int:
    files = sys.argv[1:] if argv is None else argv
    findings: list[str] = []
    for name in files:
        try:
            findings.extend(scan_text(Path(name).read_text(), name))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            print(f"{name}: cannot scan: {error}", file=sys.stderr)
            return 2
    for finding in findings:
        print(finding)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
