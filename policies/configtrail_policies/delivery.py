"""Where the history goes: whole-graph invariants against the estate (issue 10, item 1).

AWS Config delivers whatever its one delivery channel per region names: a channel pointed at a
new bucket, a second channel, a KMS key or SNS topic in an account outside the estate, or an
archive whose server access logs stop or go elsewhere all pass every per-resource check and still
send the history (or the record of who read it) somewhere the estate does not vouch for. The
names these policies hold the plan to are derived per stack from the stack files
(src/configtrail/policy/stack_config.py); the defaults are the ConfigTrail naming patterns.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from configtrail_policies import types
from configtrail_policies.definition import FAIL_CLOSED, NOT_AFFECTED, stack_policy, string_list
from configtrail_policies.graph import StackGraph
from configtrail_policies.support import Unseen, arn_account, matches, names, peek, shown

ARCHIVE_PATTERN = "configtrail-*-archive-*"
ACCESS_LOG_PATTERN = "configtrail-*-logs-*"


def _label(resource: Any) -> str:
    name = peek(resource.props, "name")
    return name if isinstance(name, str) else resource.name


def _depends_on_stack(resource: Any, key: str, kinds: Iterable[str]) -> bool:
    """The engine recorded that `key` was computed from a resource of `kinds` of this stack."""
    wanted = set(kinds)
    return any(
        dependency.resource_type in wanted
        for dependency in (resource.property_dependencies or {}).get(key, [])
    )


@stack_policy(
    name="aws-cfg-deliverychannel-archive-bucket",
    description="Delivery channels must deliver to the estate's archive bucket, which must never "
    "be exempt from KMS encryption; a stack that holds the archive must keep it.",
    severity="critical",
    unknowns=FAIL_CLOSED,
    types=types.BUCKET | {types.DELIVERY_CHANNEL},
    config={
        "deliveryBuckets": string_list(
            "Bucket names (fnmatch patterns) this stack's delivery channels may deliver to; "
            "derived: the exact name of the estate's archive bucket for this stack.",
            [ARCHIVE_PATTERN],
        ),
        "archiveInStack": {
            "type": "boolean",
            "description": "This stack holds the archive (standalone, archive): a bucket named "
            "in deliveryBuckets must be one of its buckets.",
            "default": False,
        },
        "exemptBucketPatterns": string_list(
            "Bucket-name patterns exempt from KMS (the access-log buckets' SSE-S3 exemption of "
            "aws-s3-bucket-default-encryption-kms); a delivery bucket must match none.",
            [ACCESS_LOG_PATTERN],
        ),
    },
    controls=("CIS v5 3.3", "Security Hub Config.1"),
    remediation="Set s3_bucket_name of every aws.cfg.DeliveryChannel to the archive bucket the "
    "stack file implies (configtrail-<archive stack>-archive-<account>-<region>) and keep that "
    "bucket.",
)
def archive_bucket(args, report, settings) -> None:
    graph = StackGraph(args.resources)
    allowed = settings["deliveryBuckets"]
    exempt = settings["exemptBucketPatterns"]
    for channel in graph.of_type(types.DELIVERY_CHANNEL):
        bucket = graph.channel_bucket(channel)
        if bucket is None:
            # Outside this stack: aws-cfg-recorder-delivery-channel accepts only the estate's
            # archive there and reports anything else (one problem, one policy).
            continue
        target = peek(channel.props, "s3BucketName")
        if isinstance(target, Unseen):
            target = graph.bucket_name(bucket)
        if isinstance(target, Unseen):
            report(
                target.explain(f"The bucket delivery channel {_label(channel)!r} delivers to"),
                channel.urn,
            )
            continue
        if not isinstance(target, str) or not target:
            continue  # no bucket at all: AWS refuses the channel (s3_bucket_name is required)
        if matches(target, exempt):
            report(
                f"Delivery channel {_label(channel)!r} delivers to {target!r}, whose name is "
                f"exempt from KMS encryption ({names(exempt)}: the access-log buckets' SSE-S3 "
                "exemption), so the history would be kept without the customer key. Deliver "
                f"to the archive bucket ({names(allowed)}) and never give it a log-bucket name.",
                channel.urn,
            )
        elif not matches(target, allowed):
            report(
                f"Delivery channel {_label(channel)!r} delivers to {target!r}, not to the "
                f"estate's archive ({names(allowed)}): the history would go to a bucket the "
                "estate does not hold as its write-once archive. Set s3_bucket_name back to "
                "the archive bucket.",
                channel.urn,
            )
    if settings["archiveInStack"]:
        present = [
            name for bucket in graph.buckets() if isinstance(name := graph.bucket_name(bucket), str)
        ]
        hidden = [b for b in graph.buckets() if isinstance(graph.bucket_name(b), Unseen)]
        if not any(matches(name, allowed) for name in present) and not hidden:
            report(
                f"This stack holds the estate's archive, but has no bucket named "
                f"{names(allowed)}: the archive was renamed or removed, so the history already "
                "delivered (and every member's deliveries) is left behind. Keep the archive "
                "bucket under its name."
            )


@stack_policy(
    name="aws-cfg-deliverychannel-one-per-region",
    description="A stack must have at most one recorder and one delivery channel per region "
    "(AWS Config allows one of each per account and region).",
    severity="high",
    unknowns=NOT_AFFECTED,
    types={types.RECORDER, types.DELIVERY_CHANNEL},
    controls=("AWS Config quotas (one recorder and one channel per account and region)",),
    remediation="Remove the extra aws.cfg.DeliveryChannel / aws.cfg.Recorder; keep one per region "
    "(configtrail:regions).",
)
def one_per_region(args, report, settings) -> None:
    graph = StackGraph(args.resources)
    for kind, label in (
        (types.DELIVERY_CHANNEL, "delivery channels"),
        (types.RECORDER, "recorders"),
    ):
        by_region: dict[str, list[Any]] = defaultdict(list)
        for resource in graph.of_type(kind):
            region = graph.region(resource)
            if region is not None:  # aws-provider-region-known reports the others
                by_region[region].append(resource)
        for region, found in sorted(by_region.items()):
            if len(found) > 1:
                report(
                    f"{len(found)} {label} in {region} "
                    f"({names([repr(_label(r)) for r in found])}): AWS Config keeps one per "
                    "account and region, so one overwrites the other (same name) or fails, and "
                    "the history may go where the extra one points. Keep exactly one.",
                    found[1].urn,
                )


@stack_policy(
    name="aws-cfg-deliverychannel-estate-accounts",
    description="A delivery channel's KMS key and SNS topic must belong to an account of the "
    "estate for this stack.",
    severity="high",
    unknowns=FAIL_CLOSED,
    types={types.DELIVERY_CHANNEL, types.KMS_KEY, types.SNS_TOPIC},
    config={
        "accounts": string_list(
            "Accounts whose KMS keys and SNS topics this stack's channels may use; derived: the "
            "stack's own account and, for a member, its archive's account.",
            [],
        ),
    },
    controls=("Confused-deputy prevention (history encrypted and announced inside the estate)",),
    remediation="Set s3_kms_key_arn to the archive's ConfigTrail key and sns_topic_arn to the "
    "stack's own notification topic.",
)
def estate_accounts(args, report, settings) -> None:
    graph = StackGraph(args.resources)
    accounts = set(settings["accounts"])
    fields = (
        ("s3KmsKeyArn", "s3_kms_key_arn", {types.KMS_KEY}),
        ("snsTopicArn", "sns_topic_arn", {types.SNS_TOPIC}),
    )
    for channel in graph.of_type(types.DELIVERY_CHANNEL):
        for key, label, kinds in fields:
            arn = peek(channel.props, key)
            if arn is None or arn == "":
                continue
            if isinstance(arn, Unseen):
                # Computed from a key or topic of this stack (a first preview): it is created in
                # this stack's account, which the stack file names.
                if not _depends_on_stack(channel, key, kinds):
                    report(
                        arn.explain(f"{label} of delivery channel {_label(channel)!r}"), channel.urn
                    )
                continue
            account = arn_account(arn) if isinstance(arn, str) else None
            if account is None or account not in accounts:
                where = f"account {account}" if account else "no account (not an ARN)"
                report(
                    f"Delivery channel {_label(channel)!r} uses {label} {shown(arn)} in {where}, "
                    f"outside the estate's accounts for this stack "
                    f"({names(sorted(accounts)) or 'none configured'}): whoever holds it could "
                    "read or silence the history. Use the archive's ConfigTrail key and this "
                    "stack's topic.",
                    channel.urn,
                )


@stack_policy(
    name="aws-s3-bucket-access-logging",
    description="Every history bucket must send its S3 server access logs to the stack's "
    "access-log bucket.",
    severity="high",
    unknowns=FAIL_CLOSED,
    types=types.BUCKET | types.LOGGING,
    config={
        "logBuckets": string_list(
            "Names (fnmatch patterns) of the stack's access-log buckets: the only allowed "
            "targets, and not themselves logged; derived: their exact names.",
            [ACCESS_LOG_PATTERN],
        ),
    },
    controls=("CIS v1.4 3.6 / Security Hub S3.9 (server access logging)",),
    remediation="Create aws.s3.BucketLogging for the bucket with target_bucket set to the stack's "
    "log bucket in the bucket's region (configtrail:accessLogs).",
)
def access_logging(args, report, settings) -> None:
    graph = StackGraph(args.resources)
    log_buckets = settings["logBuckets"]
    loggings: dict[str, list[Any]] = defaultdict(list)
    for logging in graph.of_type(types.LOGGING):
        source = graph.bucket_named_by(logging, "bucket")
        if source is not None:
            loggings[source.urn].append(logging)
    for bucket in graph.buckets():
        name = graph.bucket_name(bucket)
        if isinstance(name, str) and matches(name, log_buckets):
            continue  # a log bucket does not log into itself
        found = loggings.get(bucket.urn, [])
        if not found:
            report(
                f"Bucket {shown(name)} has no server access logging (aws.s3.BucketLogging), so "
                "nothing records who read or changed the history in it. Log it to the stack's "
                f"access-log bucket ({names(log_buckets)}).",
                bucket.urn,
            )
            continue
        for logging in found:
            target = peek(logging.props, "targetBucket")
            if isinstance(target, Unseen):
                linked = graph.bucket_named_by(logging, "targetBucket")
                target = graph.bucket_name(linked) if linked is not None else target
            if isinstance(target, Unseen):
                report(
                    target.explain(f"target_bucket of the access logging of {shown(name)}"),
                    logging.urn,
                )
            elif not isinstance(target, str) or not matches(target, log_buckets):
                report(
                    f"Access logs of bucket {shown(name)} go to {shown(target)}, not to the "
                    f"stack's access-log bucket ({names(log_buckets)}): the record of who read "
                    "the history would be kept where the estate does not protect it. Set "
                    "target_bucket to the stack's log bucket.",
                    logging.urn,
                )
