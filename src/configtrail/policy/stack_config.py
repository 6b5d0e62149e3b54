"""The policy pack's configuration for one stack, derived from its stack file and the estate.

Never kept by hand beside the stack files: `configtrail plan` writes it to
`build/<stack>/policy-config.json`, and every preview and up passes that file to the pack
(`--policy-pack-config`). What it says:

- the thresholds are the stack's own settings (retention, delivery frequency, daily types), so the
  pack catches a program that deploys something other than what the stack file says;
- a stack's deliberately weaker choice (SSE-S3, an unprotected archive, a month of retention,
  daily recording, slow delivery) turns the policy that judges it into `advisory` with the secure
  threshold: the pack still reports the choice as risky, on every preview, without blocking;
- policies about something a kind does not have are `disabled` (an archive stack has no
  recorder; an aggregator has no bucket), so a missing recorder in a member is still mandatory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from configtrail.estate import Estate, Stack
from configtrail.stack import names

# The secure floors a weaker choice is measured against (the pack's own defaults).
SECURE_RETENTION_DAYS = 365
SECURE_DELIVERY_FREQUENCY = "Six_Hours"
_FREQUENCY_HOURS = {
    "One_Hour": 1,
    "Three_Hours": 3,
    "Six_Hours": 6,
    "Twelve_Hours": 12,
    "TwentyFour_Hours": 24,
}
# Policies about recording (recorders, channels, retention) and about history buckets.
RECORDING_POLICIES = (
    "aws-cfg-stack-is-configtrail",
    "aws-cfg-recorder-recording-scope",
    "aws-cfg-recorder-global-types-once",
    "aws-cfg-recorder-delivery-channel",
    "aws-cfg-recorder-status-enabled",
    "aws-cfg-deliverychannel-delivery-frequency",
    "aws-cfg-retentionconfiguration-minimum-days",
    "aws-cfg-recorder-continuous-recording",
    "aws-cfg-recorder-churny-types-daily",
    "aws-cfg-recorder-role-own-account",
    "aws-cfg-recorded-regions-complete",
    "aws-cfg-rule-selected-rules-present",
    "aws-cfg-deliverychannel-one-per-region",
    "aws-cfg-deliverychannel-estate-accounts",
)
ARCHIVE_POLICIES = (
    "aws-s3-bucket-config-delivery-policy",
    "aws-s3-bucket-no-object-lock-on-delivery",
    "aws-s3-bucket-history-controls-present",
    "aws-s3-bucket-access-logging",
    "aws-kms-key-history-protected",
)
# Policies about the write-once vault (a stack with `vault: true`).
VAULT_POLICIES = ("aws-s3-bucket-vault-replication", "aws-s3-bucket-vault-object-lock")


def _weaker(secure: dict[str, Any]) -> dict[str, Any]:
    return {"enforcementLevel": "advisory", **secure}


def policy_config(stack: Stack, estate: Estate) -> dict[str, Any]:
    """The `--policy-pack-config` document of `stack`."""
    settings = stack.settings
    config: dict[str, Any] = {"all": "mandatory", **_estate_access(stack, estate)}

    if settings.has_archive:
        history_days = max(
            [settings.retention_days]
            + [member.settings.retention_days for member in estate.members_of(stack.name)]
        )
        log_pattern = _log_pattern(stack)
        kms = {"requireKms": True, "sseS3Buckets": [log_pattern]}
        config["aws-s3-bucket-default-encryption-kms"] = (
            kms if settings.archive_encryption == "kms" else _weaker(kms)
        )
        if not settings.archive_protect:
            config["aws-s3-bucket-protected"] = "advisory"
        keep = {"minRetentionDays": history_days}
        config["aws-s3-bucket-lifecycle-keeps-history"] = (
            keep if history_days >= SECURE_RETENTION_DAYS else _weaker(keep)
        )
        config.update(_history_store(stack, log_pattern))
    else:
        for name in ARCHIVE_POLICIES + VAULT_POLICIES:
            config[name] = "disabled"

    if settings.records:
        retention = settings.retention_days
        config["aws-cfg-retentionconfiguration-minimum-days"] = (
            {"minRetentionDays": retention}
            if retention >= SECURE_RETENTION_DAYS
            else _weaker({"minRetentionDays": SECURE_RETENTION_DAYS})
        )
        frequency = settings.delivery_frequency
        slow = _FREQUENCY_HOURS[frequency] > _FREQUENCY_HOURS[SECURE_DELIVERY_FREQUENCY]
        config["aws-cfg-deliverychannel-delivery-frequency"] = (
            _weaker({"slowestDeliveryFrequency": SECURE_DELIVERY_FREQUENCY})
            if slow
            else {"slowestDeliveryFrequency": frequency}
        )
        if settings.recording_frequency == "DAILY":
            config["aws-cfg-recorder-continuous-recording"] = "advisory"
        config["aws-cfg-recorder-role-own-account"] = {"accountId": stack.account_id}
        config["aws-cfg-recorder-churny-types-daily"] = {
            "enforcementLevel": "advisory",
            "allowContinuous": False,
        }
        config.update(_recording(stack, estate))
    else:
        for name in RECORDING_POLICIES:
            config[name] = "disabled"
        if not settings.has_archive:  # an aggregator: no channel, no archive
            config["aws-cfg-deliverychannel-archive-bucket"] = "disabled"
    return config


def _bucket(stack: Stack, kind: str, region: str) -> str:
    return names.bucket_name(stack.name, kind, stack.account_id, region)


def _archive_bucket(archive: Stack) -> str:
    """The archive bucket of a stack that holds the archive (in its home region)."""
    return _bucket(archive, "archive", archive.home_region)


def _log_pattern(archive: Stack) -> str:
    """The access-log buckets of a stack that holds the archive (exempt from KMS: SSE-S3)."""
    return f"{names.resource_prefix(archive.name)}-logs-*"


def _history_store(stack: Stack, log_pattern: str) -> dict[str, Any]:
    """Where the history goes and its write-once copy, for a stack that holds the archive: the
    exact archive, vault and access-log bucket names, the vault's lock, protected keys."""
    settings = stack.settings
    home, vault_region = settings.home_region, settings.effective_vault_region
    archive = _archive_bucket(stack)
    config: dict[str, Any] = {
        "aws-cfg-deliverychannel-archive-bucket": {
            "deliveryBuckets": [archive],
            "archiveInStack": True,
            "exemptBucketPatterns": [log_pattern],
        },
    }
    if settings.access_logs:
        regions = sorted({home, vault_region} if settings.vault else {home})
        config["aws-s3-bucket-access-logging"] = {
            "logBuckets": [_bucket(stack, "logs", region) for region in regions]
        }
    else:
        config["aws-s3-bucket-access-logging"] = "disabled"
    if not settings.archive_protect:
        # The unprotected archive is the stack's explicit choice, reported (advisory) by
        # aws-s3-bucket-protected; its keys follow the archive.
        config["aws-kms-key-history-protected"] = "disabled"
    if settings.vault:
        vault = _bucket(stack, "vault", vault_region)
        config["aws-s3-bucket-vault-replication"] = {"archiveBucket": archive, "vaultBucket": vault}
        days = settings.effective_vault_retention_days
        lock = {
            "vaultBucket": vault,
            "lockMode": settings.vault_lock_mode,
            "minRetentionDays": days,
        }
        weaker = settings.vault_lock_mode != "COMPLIANCE" or days < SECURE_RETENTION_DAYS
        config["aws-s3-bucket-vault-object-lock"] = (
            _weaker({**lock, "lockMode": "COMPLIANCE", "minRetentionDays": SECURE_RETENTION_DAYS})
            if weaker
            else lock
        )
    else:
        for name in VAULT_POLICIES:
            config[name] = "disabled"
    return config


def _recording(stack: Stack, estate: Estate) -> dict[str, Any]:
    """What a recording stack must keep recording, and where its channels may point: its
    regions, the managed rules its selection implies per region, the estate's accounts."""
    settings = stack.settings
    config: dict[str, Any] = {}
    archive = estate.archive_of(stack.name)
    if stack.kind == "member":
        bucket = _archive_bucket(archive)
        config["aws-cfg-recorder-delivery-channel"] = {"archiveBuckets": [bucket]}
        config["aws-cfg-deliverychannel-archive-bucket"] = {
            "deliveryBuckets": [bucket],
            "archiveInStack": False,
            "exemptBucketPatterns": [_log_pattern(archive)],
        }
    config["aws-cfg-deliverychannel-estate-accounts"] = {
        "accounts": sorted({stack.account_id, archive.account_id})
    }
    if settings.existing_recorder == "skip":
        # The account's recorder is someone else's: this stack creates none to keep.
        config["aws-cfg-recorded-regions-complete"] = "disabled"
    else:
        config["aws-cfg-recorded-regions-complete"] = {"recordedRegions": list(settings.regions)}
    selected = settings.selected_rules()
    required = {
        region: sorted(
            {
                names.rule_name(stack.name, rule.rule_name)
                for rule in selected
                if region == settings.home_region or not rule.home_region_only
            }
        )
        for region in settings.regions
    }
    config["aws-cfg-rule-selected-rules-present"] = {"requiredRules": required if selected else {}}
    return config


def _estate_access(stack: Stack, estate: Estate) -> dict[str, Any]:
    """Who may read or write the stack's history, from the estate: the accounts its resource
    policies may name (its own and, for an archive, the accounts delivering to it), the
    organization a source condition may name, and the account and regions of its providers
    (its regions, home region and vault region)."""
    settings = stack.settings
    accounts = {stack.account_id}
    if settings.has_archive:
        accounts.update(estate.delivering_accounts(stack.name))
    regions = {settings.home_region, *settings.regions}
    if settings.has_archive and settings.vault:
        regions.add(settings.effective_vault_region)
    return {
        "aws-resource-policy-estate-principals": {
            "allowedAccounts": sorted(accounts),
            "organizationId": settings.organization_id or "",
        },
        "aws-provider-estate-account-region": {
            "accountId": stack.account_id,
            "regions": sorted(regions),
        },
    }


def path_for(build: Path, name: str) -> Path:
    """Where `configtrail plan` writes a stack's policy config."""
    return build / name / "policy-config.json"


def write(stack: Stack, estate: Estate, build: Path) -> Path:
    """Write the stack's policy config under `build/<stack>/`; return its path."""
    from configtrail import files

    document = json.dumps(policy_config(stack, estate), indent=2, sort_keys=True) + "\n"
    return files.write_text(path_for(build, stack.name), document)
