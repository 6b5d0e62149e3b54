"""The write-once copy: the archive replicated into an Object Lock vault, and the keys that
encrypt both kept out of reach of a Pulumi operation (issue 10, item 1).

AWS Config cannot deliver into an Object Lock bucket, so the archive stays unlocked and S3
replication copies every object into the vault. A merge that drops or disables that replication,
shortens the vault's default retention, turns COMPLIANCE into GOVERNANCE or unprotects the keys
still deploys cleanly — and the history is no longer write-once. Per stack, the names and
thresholds come from the stack file (src/configtrail/policy/stack_config.py); these policies are
disabled for a stack without a vault.
"""

from __future__ import annotations

from typing import Any

from configtrail_policies import types
from configtrail_policies.definition import FAIL_CLOSED, NOT_AFFECTED, resource_policy, stack_policy
from configtrail_policies.graph import StackGraph
from configtrail_policies.support import Unseen, peek, shown, unseen_in

LOCK_MODES = ("COMPLIANCE", "GOVERNANCE")
DAYS_PER_YEAR = 365


def _named(config_name: str, description: str) -> dict[str, Any]:
    return {"type": "string", "description": description, "default": config_name}


def _vaults(graph: StackGraph, vault_name: str) -> list[Any]:
    """The vault: the bucket named `vault_name`, or (no name configured) every bucket of the
    stack with Object Lock enabled."""
    if vault_name:
        bucket = graph.bucket_called(vault_name)
        return [bucket] if bucket is not None else []
    return [b for b in graph.buckets() if peek(b.props, "objectLockEnabled") is True]


def _arn_bucket(arn: Any) -> Any:
    """`arn:<partition>:s3:::name` -> `name` (anything else unchanged)."""
    if isinstance(arn, str) and arn.startswith("arn:") and ":s3:::" in arn:
        return arn.split(":s3:::", 1)[1]
    return arn


@stack_policy(
    name="aws-s3-bucket-vault-replication",
    description="The archive must replicate every object into the Object Lock vault with an "
    "enabled replication rule.",
    severity="critical",
    unknowns=FAIL_CLOSED,
    types=types.BUCKET | types.REPLICATION | {types.DELIVERY_CHANNEL},
    config={
        "archiveBucket": _named(
            "",
            "The archive bucket (derived from the stack file); empty: the buckets this stack's "
            "channels deliver to.",
        ),
        "vaultBucket": _named(
            "",
            "The vault bucket (derived from the stack file); empty: any bucket of this stack "
            "with Object Lock enabled.",
        ),
    },
    controls=("Security Hub S3.15 (Object Lock) via the replicated vault",),
    remediation="Keep the aws.s3.BucketReplicationConfig on the archive with an Enabled rule, no "
    "filter prefix or tag, and destination.bucket the vault's ARN (configtrail:vault).",
)
def vault_replication(args, report, settings) -> None:
    graph = StackGraph(args.resources)
    if settings["archiveBucket"]:
        found = graph.bucket_called(settings["archiveBucket"])
        sources = [found] if found is not None else []  # a renamed archive: delivery policies
    else:
        sources = list(
            {
                b.urn: b
                for c in graph.of_type(types.DELIVERY_CHANNEL)
                if (b := graph.channel_bucket(c)) is not None
            }.values()
        )
    vaults = _vaults(graph, settings["vaultBucket"])
    vault_names = {n for v in vaults if isinstance(n := graph.bucket_name(v), str)}
    vault_urns = {v.urn for v in vaults}
    if not sources:
        return
    if not vaults:
        report(
            "This stack has no vault bucket"
            + (f" named {settings['vaultBucket']!r}" if settings["vaultBucket"] else "")
            + ": the write-once copy of the history is gone. Restore the Object Lock vault "
            "(configtrail:vault)."
        )
        return
    replications: dict[str, list[Any]] = {}
    for replication in graph.of_type(types.REPLICATION):
        source = graph.bucket_named_by(replication, "bucket")
        if source is not None:
            replications.setdefault(source.urn, []).append(replication)
    for source in sources:
        name = shown(graph.bucket_name(source))
        configs = replications.get(source.urn, [])
        if not configs:
            report(
                f"Archive {name} has no replication into the vault "
                "(aws.s3.BucketReplicationConfig): new history is no longer copied to the "
                "write-once bucket. Restore the replication.",
                source.urn,
            )
            continue
        if not any(
            _replicates_everything(config, vault_names, vault_urns, report) for config in configs
        ):
            report(
                f"Archive {name} has no enabled replication rule that copies every object to "
                f"the vault ({shown(', '.join(sorted(vault_names)) or '(unknown)')}): the rule "
                "is disabled, filtered or points at another bucket, so history is no longer "
                "copied to the write-once bucket. Enable the rule, drop its filter and set "
                "destination.bucket to the vault's ARN.",
                configs[0].urn,
            )


def _replicates_everything(config: Any, vault_names: set, vault_urns: set, report) -> bool:
    rules = peek(config.props, "rules", default=[])
    dependent = any(
        dependency.urn in vault_urns
        for dependency in (config.property_dependencies or {}).get("rules", [])
    )
    if isinstance(rules, Unseen):
        report(rules.explain("The replication rules of the archive"), config.urn)
        return True  # reported once, as unseen
    for rule in rules or []:
        if not isinstance(rule, dict):
            continue
        status = rule.get("status")
        destination = _arn_bucket((rule.get("destination") or {}).get("bucket"))
        filter_ = rule.get("filter") or {}
        hidden = unseen_in([status, destination, filter_])
        if hidden is not None and not (isinstance(destination, Unseen) and dependent):
            report(hidden.explain("A replication rule of the archive"), config.urn)
            return True
        narrowed = bool(rule.get("prefix")) or (
            isinstance(filter_, dict)
            and bool(filter_.get("prefix") or filter_.get("tag") or filter_.get("and"))
        )
        to_vault = destination in vault_names or (isinstance(destination, Unseen) and dependent)
        if status == "Enabled" and to_vault and not narrowed:
            return True
    return False


@stack_policy(
    name="aws-s3-bucket-vault-object-lock",
    description="The vault must have Object Lock with a default retention at least the stack's "
    "vault retention, in the stack's lock mode.",
    severity="critical",
    unknowns=FAIL_CLOSED,
    types=types.BUCKET | types.OBJECT_LOCK,
    config={
        "vaultBucket": _named(
            "",
            "The vault bucket (derived from the stack file); empty: every bucket of this stack "
            "with Object Lock enabled.",
        ),
        "lockMode": {
            "type": "string",
            "enum": list(LOCK_MODES),
            "description": "The Object Lock mode required (COMPLIANCE: nobody can shorten it).",
            "default": "COMPLIANCE",
        },
        "minRetentionDays": {
            "type": "integer",
            "minimum": 1,
            "description": "Fewest days of default Object Lock retention "
            "(configtrail:vaultRetentionDays, default retentionDays).",
            "default": 365,
        },
    },
    controls=("Security Hub S3.15", "CIS v5 2.1 (write-once history)"),
    remediation="Set the vault's aws.s3.BucketObjectLockConfiguration rule.default_retention to "
    "mode lockMode and days of at least minRetentionDays (configtrail:vaultLockMode, "
    "configtrail:vaultRetentionDays).",
)
def vault_object_lock(args, report, settings) -> None:
    graph = StackGraph(args.resources)
    mode_required, minimum = settings["lockMode"], settings["minRetentionDays"]
    for vault in _vaults(graph, settings["vaultBucket"]):
        name = shown(graph.bucket_name(vault))
        enabled = peek(vault.props, "objectLockEnabled", default=False)
        if isinstance(enabled, Unseen):
            report(enabled.explain(f"object_lock_enabled of vault {name}"), vault.urn)
        elif enabled is not True:
            report(
                f"Vault {name} does not enable Object Lock: its copies of the history can be "
                "deleted or overwritten. Set object_lock_enabled=True (a new bucket).",
                vault.urn,
            )
        locks = graph.attached(vault, types.OBJECT_LOCK)
        if not locks:
            report(
                f"Vault {name} has no Object Lock configuration: replicated history gets no "
                f"default retention. Add aws.s3.BucketObjectLockConfiguration with "
                f"{mode_required} retention of at least {minimum} days.",
                vault.urn,
            )
        for lock in locks:
            retention = peek(lock.props, "rule", "defaultRetention", default={}) or {}
            if (hidden := unseen_in(retention)) is not None:
                report(hidden.explain(f"The Object Lock retention of vault {name}"), lock.urn)
                continue
            mode = retention.get("mode")
            days = retention.get("days")
            years = retention.get("years")
            kept = (
                float(days)
                if days is not None
                else float(years) * DAYS_PER_YEAR
                if years is not None
                else 0.0
            )
            if mode_required == "COMPLIANCE" and mode != "COMPLIANCE":
                report(
                    f"Vault {name} locks history in {mode or 'no'} mode, but the stack file asks "
                    "for COMPLIANCE: in GOVERNANCE mode anyone with "
                    "s3:BypassGovernanceRetention can delete it. Set mode COMPLIANCE "
                    "(configtrail:vaultLockMode).",
                    lock.urn,
                )
            if kept < minimum:
                report(
                    f"Vault {name} keeps history write-once for {int(kept)} days, less than the "
                    f"stack's vault retention of {minimum} days: older history can be deleted "
                    f"while it should still be kept. Set default_retention days to at least "
                    f"{minimum} (configtrail:vaultRetentionDays).",
                    lock.urn,
                )


@resource_policy(
    name="aws-kms-key-history-protected",
    description="The KMS keys that encrypt the archive and vault must be protected when the "
    "archive is.",
    severity="high",
    unknowns=NOT_AFFECTED,
    types={types.KMS_KEY},
    remediation="Set protect (and retain_on_delete) on the ConfigTrail keys, as on the archive "
    "(configtrail:archiveProtect).",
)
def key_protected(args, report, settings) -> None:
    if not args.opts.protect:
        report(
            f"KMS key {args.name!r} is not protected, although the archive is: a `pulumi "
            "destroy` or a merge that drops it schedules the key for deletion, and every "
            "object encrypted with it becomes unreadable. Set protect and retain_on_delete "
            "(configtrail:archiveProtect)."
        )
