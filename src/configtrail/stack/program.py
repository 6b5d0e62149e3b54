"""The ConfigTrail stack: wires the components together for one environment.

`build()` is what both the real Pulumi program (`infra/__main__.py`) and the offline plan run, so
the offline plan shows exactly the graph a real `pulumi preview` would register.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from configtrail import settings as settings_module
from configtrail.settings import Settings, SettingsError
from configtrail.stack import names, scope
from configtrail.stack.archive import (
    AccessLogBucket,
    AccessLogBucketArgs,
    ArchiveBucket,
    ArchiveBucketArgs,
    ConfigKey,
    ConfigKeyArgs,
    HistoryVault,
    HistoryVaultArgs,
)
from configtrail.stack.base import Account
from configtrail.stack.notifications import NotificationTopic, NotificationTopicArgs
from configtrail.stack.recorder import RegionalRecorder, RegionalRecorderArgs
from configtrail.stack.role import RecorderRole, RecorderRoleArgs
from configtrail.stack.rules import ManagedRules, ManagedRulesArgs

ENVIRONMENTS_DIR = Path(__file__).resolve().parents[3] / "environments"
# pulumi-aws loads its submodules lazily; these are the ones build() uses.
PROVIDER_MODULES = ("cfg", "iam", "kms", "s3", "sns")


def import_provider_modules() -> None:
    """Load the pulumi-aws submodules the program uses (the offline plan does this once before
    it forks one worker per environment, so no worker pays for it again)."""
    import importlib

    for module in PROVIDER_MODULES:
        # pulumi-aws modules are lazy: only an attribute access really executes them.
        getattr(importlib.import_module(f"pulumi_aws.{module}"), "__doc__", None)


# Bucket names: prefix + "-archive-" / "-vault-" + 12-digit account + "-" + region, at most 63.
_BUCKET_NAME_LIMIT = 63
_STACK_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def stack_problems(settings: Settings, stack: str, source: str) -> list[str]:
    """Problems that come from the stack name rather than a setting: S3 bucket names are
    lowercase and at most 63 characters, and this stack's names embed the stack name."""
    name = stack.rsplit("/", 1)[-1]
    if not _STACK_NAME.match(name):
        return [
            f"{source}: stack name {name!r} must be lowercase letters, digits and '-' "
            "(it becomes part of S3 bucket names)"
        ]
    regions = [settings.home_region, settings.effective_vault_region]
    longest = max(len(names.bucket_name(name, "archive", "123456789012", r)) for r in regions)
    if longest > _BUCKET_NAME_LIMIT:
        return [
            f"{source}: stack name {name!r} is too long: bucket names would have {longest} "
            f"characters (S3 allows {_BUCKET_NAME_LIMIT}); use at most "
            f"{len(name) - (longest - _BUCKET_NAME_LIMIT)} characters"
        ]
    return []


def build(settings: Settings, stack: str) -> dict[str, Any]:
    """Register every resource of the stack; return the stack outputs."""
    provider = aws.Provider(
        "aws",
        region=settings.home_region,
        default_tags={"tags": settings.tags},
    )
    opts = pulumi.ResourceOptions(provider=provider)
    identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider))
    partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(provider=provider))
    account = Account(account_id=identity.account_id, partition=partition.partition)
    prefix = names.resource_prefix(stack)
    protect = settings.protect_archive
    home = settings.home_region

    # --- keys: one per region that needs one (archive in the home region; topics anywhere) ---
    keys: dict[str, ConfigKey] = {}
    key_regions = set()
    if settings.archive_encryption == "kms":
        key_regions.add(home)
        if settings.vault:
            key_regions.add(settings.effective_vault_region)
    if settings.notifications:
        key_regions.update(settings.regions)
    for region in sorted(key_regions):
        keys[region] = ConfigKey(
            f"key-{region}",
            ConfigKeyArgs(
                region=region,
                alias=names.key_alias(stack, region).removeprefix("alias/"),
                account=account,
                protect=protect,
            ),
            opts,
        )
    archive_key_arn = keys[home].arn if settings.archive_encryption == "kms" else None

    # --- the history store ---
    def bucket_name(kind: str, region: str) -> pulumi.Output[str]:
        return account.account_id.apply(
            lambda account_id: names.bucket_name(stack, kind, account_id, region)
        )

    vault_region = settings.effective_vault_region
    archive_name = bucket_name("archive", home)
    vault_name = bucket_name("vault", vault_region) if settings.vault else None
    # Server access logs of the history buckets, in each region that holds one.
    log_buckets: dict[str, AccessLogBucket] = {}
    if settings.access_logs:
        sources = {home: [archive_name]}
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
        ),
        opts,
    )
    vault = None
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

    # --- notifications ---
    topics: dict[str, NotificationTopic] = {}
    if settings.notifications:
        for region in settings.regions:
            topics[region] = NotificationTopic(
                f"notifications-{region}",
                NotificationTopicArgs(
                    topic_name=f"{prefix}-notifications",
                    region=region,
                    account=account,
                    kms_key_arn=keys[region].arn,
                ),
                opts,
            )

    # --- recording, per region ---
    role = None
    if settings.existing_recorder != "skip":
        role = RecorderRole(
            "recorder-role",
            RecorderRoleArgs(
                mode=settings.recorder_role,
                service_linked_role=settings.service_linked_role,
                role_name=f"{prefix}-recorder",
                account=account,
                archive_arn=archive.arn,
                key_prefix=settings.key_prefix,
                kms_key_arn=archive_key_arn,
                topic_arns=[topic.arn for topic in topics.values()],
            ),
            opts,
        )
    adopting = settings.existing_recorder == "adopt"
    recorders: dict[str, RegionalRecorder] = {}
    rule_names: dict[str, list[str]] = {}
    selected_rules = settings.selected_rules()
    for region in settings.regions:
        is_home = region == home
        recorder = RegionalRecorder(
            f"recording-{region}",
            RegionalRecorderArgs(
                region=region,
                existing=settings.existing_recorder,
                recorder_name=(
                    settings.existing_recorder_name if adopting else settings.recorder_name
                ),
                channel_name=(
                    settings.existing_delivery_channel_name if adopting else settings.recorder_name
                ),
                role_arn=role.arn if role is not None else "",
                recording_group=scope.recording_group(settings, is_home),
                recording_mode=scope.recording_mode(settings, is_home),
                bucket_name=archive.name,
                key_prefix=settings.key_prefix,
                delivery_frequency=settings.delivery_frequency,
                retention_days=settings.retention_days,
                kms_key_arn=archive_key_arn,
                sns_topic_arn=topics[region].arn if region in topics else None,
                delivery_ready=[archive.policy] + ([keys[home]] if archive_key_arn else []),
            ),
            opts,
        )
        recorders[region] = recorder
        regional_rules = [rule for rule in selected_rules if is_home or not rule.home_region_only]
        if regional_rules:
            rules = ManagedRules(
                f"rules-{region}",
                ManagedRulesArgs(
                    region=region,
                    rules=regional_rules,
                    periodic_frequency=settings.rule_frequency,
                    after=[recorder.status] if recorder.status is not None else [],
                ),
                opts,
            )
            rule_names[region] = rules.names

    outputs: dict[str, Any] = {
        "archiveBucketName": archive.name,
        "archiveBucketArn": archive.arn,
        "recorderNames": {region: r.recorder_name for region, r in recorders.items()},
        "regions": settings.regions,
        "homeRegion": home,
        "configRules": rule_names,
    }
    if role is not None:
        outputs["recorderRoleArn"] = role.arn
    if keys:
        outputs["kmsKeyArns"] = {region: key.arn for region, key in keys.items()}
    if topics:
        outputs["snsTopicArns"] = {region: topic.arn for region, topic in topics.items()}
    if vault is not None:
        outputs["vaultBucketName"] = vault.name
        outputs["vaultBucketArn"] = vault.arn
    if log_buckets:
        outputs["accessLogBuckets"] = {region: b.name for region, b in log_buckets.items()}

    # --- at scale: Athena over the archive (configtrail:athena) ---
    if settings.athena:
        from configtrail.stack.athena import HistoryQueries, HistoryQueriesArgs

        queries = HistoryQueries(
            "history-queries",
            HistoryQueriesArgs(
                stack=stack,
                region=home,
                account=account,
                regions=settings.regions,
                archive_bucket=archive.name,
                key_prefix=settings.key_prefix,
                results_bucket_name=bucket_name("athena", home),
                kms_key_arn=archive_key_arn,
                workgroup_name=f"{prefix}-history",
                protect=protect,
                results_expiration_days=settings.retention_days,
            ),
            opts,
        )
        outputs["athenaWorkgroup"] = queries.workgroup.name
        outputs["athenaDatabase"] = queries.database.name
        outputs["athenaTable"] = queries.table.name
        outputs["athenaResultsBucket"] = queries.results_bucket
    return outputs


def stack_file(stack: str) -> Path:
    """The stack file of a stack name; a qualified name (org/project/env) uses its last part."""
    return ENVIRONMENTS_DIR / f"Pulumi.{stack.rsplit('/', 1)[-1]}.yaml"


def settings_from_runtime() -> Settings:
    """Settings from the config the Pulumi engine passes to the program."""
    stack = pulumi.get_stack()
    from pulumi.runtime import config as runtime_config

    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    path = stack_file(stack)
    source = str(path.relative_to(ENVIRONMENTS_DIR.parent)) if path.exists() else f"stack {stack}"
    settings = settings_module.from_config(raw, source)
    problems = stack_problems(settings, stack, source)
    if problems:
        raise SettingsError(problems)
    return settings


def main() -> None:
    """Entry point of the real program: validate, then register and export."""
    settings = settings_from_runtime()
    for key, value in build(settings, pulumi.get_stack()).items():
        pulumi.export(key, value)
