"""Install the Pulumi CLI at the version in `.pulumi-version`, verified against Pulumi's published
checksums before anything is unpacked.

Pulumi publishes, for every release, the archives and one checksums file
(`pulumi-<version>-checksums.txt`, `sha256sum` format) at `https://get.pulumi.com/releases/sdk/`
(the URLs `data/versions.json` of pulumi/docs lists for each version). The archive's SHA-256 must
equal its line in that file, or nothing is installed. pulumi/actions downloads the same archive
without this check; the workflows install with this instead and never let the action download.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import urllib.request
from pathlib import Path

BASE_URL = "https://get.pulumi.com/releases/sdk"


class ChecksumError(Exception):
    """The download does not match Pulumi's published checksum: one line saying so."""


def archive_name(version: str, platform: str = "linux-x64") -> str:
    return f"pulumi-v{version}-{platform}.tar.gz"


def checksums_name(version: str) -> str:
    return f"pulumi-{version}-checksums.txt"


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:
        return response.read()


def expected_sha256(checksums: str, name: str) -> str:
    for line in checksums.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == name:
            return parts[0].lower()
    raise ChecksumError(f"{name} is not listed in Pulumi's checksums file")


def install(version: str, destination: Path, base_url: str = BASE_URL, fetch=_fetch) -> Path:
    """Download, verify and unpack the CLI into `destination`; return its bin directory."""
    name = archive_name(version)
    archive = fetch(f"{base_url}/{name}")
    checksums = fetch(f"{base_url}/{checksums_name(version)}").decode("utf-8", "replace")
    expected = expected_sha256(checksums, name)
    actual = hashlib.sha256(archive).hexdigest()
    if actual != expected:
        raise ChecksumError(
            f"{name}: SHA-256 {actual} does not match Pulumi's published {expected}; not installed"
        )
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        tar.extractall(destination, filter="data")
    bin_dir = destination / "pulumi"
    if not (bin_dir / "pulumi").is_file():
        raise ChecksumError(f"{name}: verified, but it holds no pulumi/pulumi binary")
    return bin_dir
