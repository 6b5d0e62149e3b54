"""What the audit role reads: the archive of each audited environment.

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

from configtrail.plan import runner
from configtrail.settings import SettingsError
from configtrail.stack import names

# The report assumes the role for at most this long (role-duration-seconds in the workflow).
SESSION_SECONDS = 3600


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


def archives(envs: list[str], directory: Path = runner.ENVIRONMENTS) -> list[Archive]:
    """The archives of `envs`, from their validated stack files in `directory`; every problem
    in one SettingsError."""
    found: list[Archive] = []
    problems: list[str] = []
    for env in envs:
        try:
            settings, _ = runner.load_settings(env, directory)
        except SettingsError as error:
            problems += error.problems
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
