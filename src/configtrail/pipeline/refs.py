"""Only reviewed code deploys: what a manual dispatch may run.

A dispatch names a git ref to run (a rollback is an earlier commit or tag). It is checked here,
from the trusted branch the workflow runs on and before any credential is requested: accepted
are the default branch itself, a tag, or a commit (full or abbreviated SHA), and in each case the
commit must be reachable from the default branch — reviewed and merged. Anything else (another
branch, a fork's `refs/pull/N/head`, a tag on an unmerged commit, an ambiguous short SHA) is
refused with one line saying why. The answer is the full commit SHA, which is what every later
job checks out, so a ref that moves after the check cannot change what runs.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

_HEX = re.compile(r"^[0-9a-fA-F]{7,40}$")


class RefusedRef(Exception):
    """The ref may not be dispatched: one line saying why and what is allowed."""


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)


def resolve(ref: str, default_branch: str, repo: Path, remote: str = "origin") -> str:
    """The full SHA of `ref` when it may be dispatched; RefusedRef otherwise."""
    allowed = (
        f"allowed: {default_branch}, a tag, or a commit SHA (7-40 hex digits) on {default_branch}"
    )
    ref = ref.strip()
    if not ref or ref.startswith("-") or any(c.isspace() or c in "~^:?*[\\" for c in ref):
        raise RefusedRef(f"ref {ref!r} is not a plain ref name or SHA; {allowed}")
    branch = f"refs/remotes/{remote}/{default_branch}"
    if _git(repo, "rev-parse", "--verify", "--quiet", branch).returncode != 0:
        raise RefusedRef(
            f"the default branch {default_branch} is not fetched ({branch}); check out with "
            "fetch-depth: 0"
        )
    if ref in (default_branch, f"refs/heads/{default_branch}"):
        candidate = branch
    elif (
        _git(
            repo, "rev-parse", "--verify", "--quiet", f"refs/tags/{ref.removeprefix('refs/tags/')}"
        ).returncode
        == 0
    ):
        candidate = f"refs/tags/{ref.removeprefix('refs/tags/')}"
    elif _HEX.match(ref):
        found = _git(repo, "rev-parse", "--verify", "--quiet", "--disambiguate=" + ref)
        matches = [line for line in found.stdout.split() if line]
        commits = [
            sha for sha in matches if _git(repo, "cat-file", "-t", sha).stdout.strip() == "commit"
        ]
        if len(commits) > 1:
            raise RefusedRef(
                f"ref {ref!r} is ambiguous: it abbreviates {len(commits)} commits; give more digits"
            )
        if not commits:
            raise RefusedRef(f"ref {ref!r}: no such commit in this repository; {allowed}")
        candidate = commits[0]
    else:
        raise RefusedRef(
            f"ref {ref!r} is not {default_branch}, a tag or a commit SHA (branches and pull "
            f"request refs run unreviewed code); {allowed}"
        )
    sha = _git(repo, "rev-parse", "--verify", f"{candidate}^{{commit}}").stdout.strip()
    if not sha:
        raise RefusedRef(f"ref {ref!r} does not name a commit; {allowed}")
    if _git(repo, "merge-base", "--is-ancestor", sha, branch).returncode != 0:
        raise RefusedRef(
            f"ref {ref!r} ({sha[:12]}) is not reachable from {default_branch}: only reviewed, "
            f"merged code deploys; {allowed}"
        )
    return sha
