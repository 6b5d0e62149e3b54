"""What the audit role reads: the archive of the audited stack (bootstrap `auditStack`).

The monthly audit report (.github/workflows/audit-report.yml) lists the archive and reads its
deliveries. Where they are comes from the environment's own stack file
(`environments/Pulumi.<env>.yaml`: home region, `keyPrefix`, `archiveEncryption`) and the names the
recording stack gives (configtrail/stack/program.py: bucket `configtrail-<env>-archive-<account>-
<home region>`, key alias `alias/configtrail-<env>-<region>`), so the role's permissions follow the
stack instead of a second copy of its settings. tests/bootstrap/ compare these names with the
recording stack's offline plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from configtrail import estate as estate_module
from configtrail.settings import SettingsError
from configtrail.stack import names


@dataclass(frozen=True)
class Archive:
    """The archive bucket of one environment, as its recording stack names it."""

    env: str
    region: str
    key_prefix: str
    kms: bool

    def bucket(self, account: str) -> str:
        return names.bucket_name(self.env, "archive", account, self.region)

    @property
    def key_alias(self) -> str | None:
        """Alias of the archive's customer key (ConfigKey in the home region); None: SSE-S3."""
        return names.key_alias(self.env, self.region) if self.kms else None

    def source(self, account: str) -> str:
        """What the workflow reads (repository variable AUDIT_ARCHIVE)."""
        return f"s3://{self.bucket(account)}/{self.key_prefix}"


def archives(envs: list[str], directory: Path = estate_module.ENVIRONMENTS) -> list[Archive]:
    """The archives of `envs` (stacks that hold one), from the validated estate in `directory`;
    every problem in one SettingsError."""
    estate = estate_module.load(directory)
    found: list[Archive] = []
    problems: list[str] = []
    for env in envs:
        if env not in estate.stacks:
            problems.append(
                f"{estate_module.shown(estate_module.stack_path(env, directory))}: no such stack "
                f"file (stacks: {', '.join(estate.names())})"
            )
            continue
        settings = estate[env].settings
        if not settings.has_archive:
            holder = estate.archive_of(env).name if settings.stack_kind == "member" else None
            problems.append(
                f"{estate[env].shown}: a {settings.stack_kind} stack holds no archive to audit"
                + (f"; its history is in the archive of stack {holder!r}" if holder else "")
            )
            continue
        found.append(
            Archive(
                env=env,
                region=settings.home_region,
                key_prefix=settings.key_prefix,
                kms=settings.archive_encryption == "kms",
            )
        )
    if problems:
        raise SettingsError(problems)
    return found
