"""Wiring of the history store of a `standalone` or `archive` stack: access-log buckets, the
archive AWS Config delivers to, the write-once vault, and Athena over the archive.

The archive admits exactly the accounts that deliver to it: a standalone stack's own account, or
the estate's member accounts for an `archive` stack (optionally also bound to the organization).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from configtrail.settings import Settings
from configtrail.stack import names
from configtrail.stack.archive import (
    AccessLogBucket,
    AccessLogBucketArgs,
    ArchiveBucket,
    ArchiveBucketArgs,
    ConfigKey,
    HistoryVault,
    HistoryVaultArgs,
)
from configtrail.stack.base import Account


@dataclass(frozen=True)
class HistoryStoreArgs:
    stack: str
    settings: Settings
    account: Account
    # Accounts whose AWS Config delivers into the archive, and the regions they record.
    delivering_accounts: list[str]
    recorded_regions: list[str]
    # The stack's ConfigTrail keys by region (configtrail.stack.keys).
    keys: dict[str, ConfigKey]


@dataclass
class HistoryStore:
    """What the rest of the stack needs from the store, and the outputs it adds."""

    archive: ArchiveBucket
    archive_key_arn: pulumi.Output[str] | None
    outputs: dict[str, Any]


def build_history_store(args: HistoryStoreArgs, opts: pulumi.ResourceOptions) -> HistoryStore:
    """Register the store's components; return the archive, keys and outputs."""
    settings, stack, account, keys = args.settings, args.stack, args.account, args.keys
    protect = settings.archive_protect
    home = settings.home_region
    vault_region = settings.effective_vault_region
    prefix = names.resource_prefix(stack)

    def bucket_name(kind: str, region: str) -> str:
        return names.bucket_name(stack, kind, settings.account_id, region)

    archive_key_arn = keys[home].arn if settings.archive_encryption == "kms" else None

    archive_name = bucket_name("archive", home)
    vault_name = bucket_name("vault", vault_region) if settings.vault else None
    results_name = bucket_name("athena", home) if settings.athena else None
    # Server access logs of the history buckets (and the query results), per region.
    log_buckets: dict[str, AccessLogBucket] = {}
    if settings.access_logs:
        sources = {home: [archive_name] + ([results_name] if results_name else [])}
        if vault_name is not None:
            sources.setdefault(vault_region, []).append(vault_name)
        for region, source_names in sources.items():
            log_buckets[region] = AccessLogBucket(
                f"access-logs-{region}",
                AccessLogBucketArgs(
                    bucket_name=bucket_name("logs", region),
                    region=region,
                    account=account,
                    kms_key_arn=None,
                    protect=protect,
                    source_names=source_names,
                    transition_days=settings.archive_transition_days,
                ),
                opts,
            )

    def log_target(region: str) -> pulumi.Output[str] | None:
        return log_buckets[region].name if region in log_buckets else None

    archive = ArchiveBucket(
        "archive",
        ArchiveBucketArgs(
            bucket_name=archive_name,
            region=home,
            account=account,
            kms_key_arn=archive_key_arn,
            protect=protect,
            access_log_bucket=log_target(home),
            key_prefix=settings.key_prefix,
            transition_days=settings.archive_transition_days,
            expiration_days=settings.archive_expiration_days,
            delivering_accounts=args.delivering_accounts,
            organization_id=settings.organization_id,
        ),
        opts,
    )
    outputs: dict[str, Any] = {
        "archiveBucketName": archive.name,
        "archiveBucketArn": archive.arn,
        "deliveringAccounts": args.delivering_accounts,
    }
    if vault_name is not None:
        vault = HistoryVault(
            "vault",
            HistoryVaultArgs(
                bucket_name=vault_name,
                region=vault_region,
                account=account,
                kms_key_arn=keys[vault_region].arn if archive_key_arn is not None else None,
                protect=protect,
                access_log_bucket=log_target(vault_region),
                source=archive,
                source_kms_key_arn=archive_key_arn,
                lock_mode=settings.vault_lock_mode,
                retention_days=settings.effective_vault_retention_days,
                role_name=f"{prefix}-vault-replication",
                transition_days=settings.archive_transition_days,
            ),
            opts,
        )
        outputs["vaultBucketName"] = vault.name
        outputs["vaultBucketArn"] = vault.arn
    if log_buckets:
        outputs["accessLogBuckets"] = {region: b.name for region, b in log_buckets.items()}

    if results_name is not None:
        from configtrail.stack.athena import HistoryQueries, HistoryQueriesArgs

        queries = HistoryQueries(
            "history-queries",
            HistoryQueriesArgs(
                stack=stack,
                region=home,
                account=account,
                accounts=args.delivering_accounts,
                regions=args.recorded_regions,
                archive_bucket=archive.name,
                key_prefix=settings.key_prefix,
                results_bucket_name=results_name,
                kms_key_arn=archive_key_arn,
                workgroup_name=f"{prefix}-history",
                protect=protect,
                results_expiration_days=settings.retention_days,
                access_log_bucket=log_target(home),
            ),
            opts,
        )
        outputs["athenaWorkgroup"] = queries.workgroup.name
        outputs["athenaDatabase"] = queries.database.name
        outputs["athenaTable"] = queries.table.name
        outputs["athenaResultsBucket"] = queries.results_bucket
    return HistoryStore(archive=archive, archive_key_arn=archive_key_arn, outputs=outputs)
