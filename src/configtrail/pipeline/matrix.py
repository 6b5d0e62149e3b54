"""What the workflows run over, derived from the estate and the bootstrap settings.

Every workflow's stack list comes from here (`configtrail pipeline matrix`, one job at the start
of each run), never from a list in a workflow file: a new stack file is previewed, deployed in its
wave and checked for drift with no workflow edit. Each entry carries what the reusable workflow
needs for that stack: its account, GitHub environment(s), the read-only role (derived: the
bootstrap names it), the Pulumi Cloud teams, the secrets provider of a self-managed backend,
and whether it is production (its `environment` tag is `prod`: give its GitHub environment
required reviewers).
"""

from __future__ import annotations

import json
from typing import Any

from configtrail.bootstrap import program as bootstrap_program
from configtrail.bootstrap import settings as bs
from configtrail.estate import Estate

# Deploy waves, in order (configtrail.estate.Estate.deploy_order): archives and standalone
# stacks, then the members that deliver to them, then the aggregators that read them all.
WAVES = ("archives", "members", "aggregators")
_WAVE_OF = {"archive": 0, "standalone": 0, "member": 1, "aggregator": 2}
PRODUCTION_TAG = ("environment", "prod")


def entries(estate: Estate, accounts: dict[str, bs.AccountBootstrap]) -> list[dict[str, Any]]:
    """One entry per stack, in deploy order."""
    found = []
    for stack in estate.stacks.values():
        account = accounts[stack.account_id]
        settings = account.settings
        backend = bootstrap_program.backend_of(account)
        protected = stack.name in [s.name for s in account.protected_archives()]
        found.append(
            {
                "name": stack.name,
                "account": stack.account_id,
                "kind": stack.kind,
                "wave": WAVES[_WAVE_OF[stack.kind]],
                "production": stack.settings.tags.get(PRODUCTION_TAG[0]) == PRODUCTION_TAG[1],
                "environment": stack.name,
                "archive_admin_environment": (
                    bs.archive_admin_environment(stack.name) if protected else ""
                ),
                "preview_role": f"arn:aws:iam::{stack.account_id}:role/"
                + bs.preview_role_name(settings.role_prefix, stack.name),
                "region": stack.home_region,
                "preview_team": settings.pulumi_cloud.preview_team.format(stack=stack.name),
                "deploy_team": settings.pulumi_cloud.deploy_team.format(stack=stack.name),
                "secrets_provider": backend.secrets_provider(stack.name) if backend else "",
                "session_seconds": settings.session_seconds,
                "timeout_minutes": settings.job_timeout_minutes,
            }
        )
    return found


def outputs(estate: Estate, accounts: dict[str, bs.AccountBootstrap]) -> dict[str, str]:
    """The matrix job's outputs (`name=value` lines for $GITHUB_OUTPUT): every stack, each wave
    (an empty wave is `[]`, and its job is skipped), and the session settings."""
    stacks = entries(estate, accounts)
    settings = next(iter(accounts.values())).settings
    result = {"stacks": json.dumps(stacks, separators=(",", ":"))}
    for wave in WAVES:
        members = [entry for entry in stacks if entry["wave"] == wave]
        result[wave] = json.dumps(members, separators=(",", ":"))
    result["session_seconds"] = str(settings.session_seconds)
    result["timeout_minutes"] = str(settings.job_timeout_minutes)
    result["default_branch"] = settings.default_branch
    return result
