"""Guardrails for the history buckets: the archive AWS Config delivers to and the vault it
replicates into. Every bucket this stack creates holds history, so the per-resource rules apply
to every bucket; the rules about Config delivery apply to the buckets a delivery channel names.

Resource rules block the step before it runs (in preview and in `up`). Stack rules see the whole
graph: they find what is *missing* (a bucket without its public access block) and check what
links two resources (a channel's prefix against its bucket's policy).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable

from configtrail_policies import types
from configtrail_policies.config import settings_for
from configtrail_policies.graph import StackGraph, bucket_name_of
from configtrail_policies.support import (
    DocumentError,
    as_list,
    condition_values,
    is_unknown,
    parse_document,
    peek,
    principals,
    statements,
)

CONFIG_PRINCIPAL = "config.amazonaws.com"
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
ALGORITHMS = ("AES256", *KMS_ALGORITHMS)
PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


def unknown(what: str) -> str:
    return (
        f"{what} is unknown during preview, so it cannot be shown to be safe; build it from "
        "values known at preview (literals, names) so the policy can check it"
    )


# --- resource rules --------------------------------------------------------------------------


def versioning_enabled(args, report) -> None:
    if args.resource_type not in types.VERSIONING:
        return
    status = peek(args.props, "versioningConfiguration", "status")
    if is_unknown(status):
        report(unknown("versioning_configuration.status"))
    elif status != "Enabled":
        report(
            f"Versioning of bucket {bucket_name_of(args.props)!r} is {status!r}: overwritten or "
            'deleted history would be lost. Set versioning_configuration.status to "Enabled".'
        )


def default_encryption_kms(args, report) -> None:
    if args.resource_type not in types.ENCRYPTION:
        return
    settings = settings_for("aws-s3-bucket-default-encryption-kms", args.get_config())
    bucket = bucket_name_of(args.props)
    # Server-access-log buckets named in the config may (must) use SSE-S3.
    require_kms = settings["requireKms"] and not any(
        fnmatch.fnmatchcase(str(bucket), pattern) for pattern in settings["sseS3Buckets"]
    )
    rules = peek(args.props, "rules", default=[])
    if is_unknown(rules) or not rules:
        report(
            unknown("rules")
            if is_unknown(rules)
            else f"Bucket {bucket!r} has an encryption configuration without rules. Add a rule "
            "with apply_server_side_encryption_by_default."
        )
        return
    for index, rule in enumerate(rules):
        default = (rule or {}).get("applyServerSideEncryptionByDefault") or {}
        algorithm = default.get("sseAlgorithm")
        if is_unknown(algorithm):
            report(unknown(f"rules[{index}].sse_algorithm"))
        elif algorithm not in ALGORITHMS:
            report(
                f"Bucket {bucket!r} rule {index} uses sse_algorithm {algorithm!r}; use one of "
                f"{', '.join(ALGORITHMS)}."
            )
        elif require_kms and algorithm not in KMS_ALGORITHMS:
            report(
                f"Bucket {bucket!r} is encrypted with {algorithm} (SSE-S3), but this "
                "environment requires SSE-KMS with a customer key. Set "
                "configtrail:archiveEncryption to kms."
            )
        elif require_kms and not default.get("kmsMasterKeyId"):
            # An unknown key ARN (a key created in the same update) counts as set.
            report(
                f"Bucket {bucket!r} uses {algorithm} without kms_master_key_id, so S3 uses "
                "the AWS-managed key, which AWS Config cannot be granted. Set the "
                "ConfigTrail key."
            )


def public_access_blocked(args, report) -> None:
    if args.resource_type not in types.PUBLIC_ACCESS_BLOCK:
        return
    off, unknowns = [], []
    for flag in PUBLIC_ACCESS_FLAGS:
        value = peek(args.props, flag, default=False)
        if is_unknown(value):
            unknowns.append(flag)
        elif value is not True:
            off.append(flag)
    if unknowns:
        report(unknown(", ".join(unknowns)))
    if off:
        report(
            f"Public access block of bucket {bucket_name_of(args.props)!r} leaves "
            f"{', '.join(off)} off, so the history could be made public. Set all four flags "
            "to true."
        )


def tls_only(args, report) -> None:
    if args.resource_type not in types.BUCKET_POLICY:
        return
    text = peek(args.props, "policy")
    if is_unknown(text):
        report(unknown("The bucket policy"))
        return
    bucket = bucket_name_of(args.props)
    try:
        document = parse_document(text)
        found = statements(document)
    except DocumentError as error:
        report(f"Bucket policy of {bucket!r}: {error}. Write a valid policy with a TLS-only deny.")
        return
    targets = (
        [f"{bucket}", f"{bucket}/any/key"]
        if isinstance(bucket, str) and not is_unknown(bucket)
        else None
    )
    if not any(_denies_plain_http(statement, targets) for statement in found):
        report(
            f"Bucket policy of {bucket!r} has no statement that denies requests without TLS. "
            'Add Effect Deny, Principal "*", Action "s3:*", Resource [bucket ARN, '
            'bucket ARN/*], Condition Bool aws:SecureTransport "false".'
        )


def _denies_plain_http(statement: dict, targets: list[str] | None) -> bool:
    if statement.get("Effect") != "Deny":
        return False
    everyone, _ = principals(statement)
    if not everyone:
        return False
    actions = as_list(statement.get("Action"))
    if not any(action in ("*", "s3:*") for action in actions):
        return False
    if "false" not in [
        v.lower() for v in condition_values(statement, "aws:SecureTransport").get("Bool", [])
    ]:
        return False
    patterns = [_s3_path(resource) for resource in as_list(statement.get("Resource"))]
    if targets is None:  # bucket name unknown: require a bucket-level and an object-level entry
        return any("/" not in p for p in patterns) and any(p.endswith("/*") for p in patterns)
    return all(_matches(target, patterns) for target in targets)


def disallow_force_destroy(args, report) -> None:
    if args.resource_type not in types.BUCKET:
        return
    value = peek(args.props, "forceDestroy", default=False)
    if is_unknown(value):
        report(unknown("force_destroy"))
    elif value:
        report(
            f"Bucket {bucket_name_of(args.props)!r} sets force_destroy: destroying the stack "
            "would delete every object and version of the history. Remove force_destroy."
        )


def protected(args, report) -> None:
    if args.resource_type not in types.BUCKET:
        return
    # The Analyzer protocol passes `protect` but not `retainOnDelete`, so `protect` is what the
    # engine lets a policy see; the stack sets both together (configtrail.stack.base.child).
    if not args.opts.protect:
        report(
            f"Bucket {bucket_name_of(args.props)!r} is not protected: `pulumi destroy` or a "
            "merge that drops it from the program would delete the history. Set protect "
            "and retain_on_delete (configtrail:archiveProtect: true)."
        )


def lifecycle_keeps_history(args, report) -> None:
    if args.resource_type not in types.LIFECYCLE:
        return
    minimum = settings_for("aws-s3-bucket-lifecycle-keeps-history", args.get_config())[
        "minRetentionDays"
    ]
    bucket = bucket_name_of(args.props)
    rules = peek(args.props, "rules", default=[])
    if is_unknown(rules):
        report(unknown("rules"))
        return
    for index, rule in enumerate(rules or []):
        rule = rule or {}
        if rule.get("status") == "Disabled":
            continue
        label = f"rule {rule.get('id') or index!r}"
        checks: list[tuple[str, object]] = [
            ("expiration.days", (rule.get("expiration") or {}).get("days")),
            (
                "noncurrent_version_expiration.noncurrent_days",
                (rule.get("noncurrentVersionExpiration") or {}).get("noncurrentDays"),
            ),
        ]
        for field, days in checks:
            if days is None:
                continue
            if is_unknown(days):
                report(unknown(f"{label} {field}"))
            elif float(days) < minimum:
                report(
                    f"Lifecycle {label} of bucket {bucket!r} expires history after "
                    f"{int(float(days))} days ({field}), before the minimum retention of "
                    f"{minimum} days. Remove the expiration or raise it to {minimum} days."
                )
        date = (rule.get("expiration") or {}).get("date")
        if date:
            report(
                f"Lifecycle {label} of bucket {bucket!r} expires history on a fixed date "
                f"({date}). Expire by age of at least {minimum} days, or not at all."
            )


# --- stack rules -----------------------------------------------------------------------------


def history_controls_present(args, report) -> None:
    graph = StackGraph(args.resources)
    required: list[tuple[str, frozenset[str]]] = [
        ("BucketVersioning", types.VERSIONING),
        ("BucketServerSideEncryptionConfiguration", types.ENCRYPTION),
        ("BucketPublicAccessBlock", types.PUBLIC_ACCESS_BLOCK),
        ("BucketPolicy", types.BUCKET_POLICY),
    ]
    for bucket in graph.buckets():
        missing = [label for label, kinds in required if not graph.attached(bucket, kinds)]
        if missing:
            report(
                f"Bucket {graph.bucket_name(bucket)!r} has no {', '.join(missing)}: its "
                "history lacks that protection. Create the missing aws.s3 resource(s) for "
                "the bucket.",
                bucket.urn,
            )


def config_delivery_policy(args, report) -> None:
    graph = StackGraph(args.resources)
    for channel in graph.of_type(types.DELIVERY_CHANNEL):
        bucket = graph.channel_bucket(channel)
        if bucket is None:
            continue  # aws-cfg-recorder-delivery-channel reports channels without a stack bucket
        policies = graph.attached(bucket, types.BUCKET_POLICY)
        if not policies:
            continue  # aws-s3-bucket-history-controls-present reports the missing policy
        name = graph.bucket_name(bucket)
        prefix = peek(channel.props, "s3KeyPrefix") or ""
        if is_unknown(name) or is_unknown(prefix):
            report(unknown("The delivery channel's bucket name or key prefix"), channel.urn)
            continue
        for policy in policies:
            problems = _delivery_problems(peek(policy.props, "policy"), name, prefix)
            for problem in problems:
                report(
                    f"Bucket policy of {name!r} (delivery channel {channel.name!r}, prefix "
                    f"{prefix or '(none)'!r}): {problem}",
                    policy.urn,
                )


def _delivery_problems(text, bucket: str, prefix: str) -> list[str]:
    if is_unknown(text):
        return [unknown("the policy document")]
    try:
        found = statements(parse_document(text))
    except DocumentError as error:
        return [str(error)]
    config_allows = [
        s
        for s in found
        if s.get("Effect") == "Allow" and CONFIG_PRINCIPAL in principals(s)[1].get("Service", [])
    ]
    problems = []
    needed: list[tuple[str, str, Callable[[str], str]]] = [
        ("s3:GetBucketAcl", "AWSConfigBucketPermissionsCheck", lambda _account: bucket),
        ("s3:ListBucket", "AWSConfigBucketExistenceCheck", lambda _account: bucket),
        (
            "s3:PutObject",
            "AWSConfigBucketDelivery",
            lambda account: (
                f"{bucket}/{prefix + '/' if prefix else ''}AWSLogs/{account}/Config/"
                "us-east-1/2026/1/1/ConfigSnapshot/x.json.gz"
            ),
        ),
    ]
    for action, sid, target_for in needed:
        granting = [s for s in config_allows if _allows_action(s, action)]
        if not granting:
            problems.append(
                f"no statement lets {CONFIG_PRINCIPAL} {action} ({sid}); AWS Config "
                "cannot deliver. Add it."
            )
            continue
        limited = [s for s in granting if _source_accounts(s)]
        if not limited:
            problems.append(
                f"the {action} statement for {CONFIG_PRINCIPAL} has no "
                "AWS:SourceAccount condition (confused deputy). Add StringEquals "
                "AWS:SourceAccount = <account id>."
            )
            continue
        covered = any(
            _matches(target_for(account), [_s3_path(r) for r in as_list(s.get("Resource"))])
            for s in limited
            for account in _source_accounts(s)
        )
        if not covered:
            where = (
                target_for("<account>").rsplit("/", 6)[0] + "/*"
                if action == "s3:PutObject"
                else bucket
            )
            problems.append(
                f"the {action} statement does not cover arn:aws:s3:::{where} "
                "(the channel's bucket and prefix), so delivery fails with "
                "InsufficientDeliveryPolicyException. Fix its Resource."
            )
    return problems


def no_object_lock_on_delivery(args, report) -> None:
    graph = StackGraph(args.resources)
    seen = set()
    for channel in graph.of_type(types.DELIVERY_CHANNEL):
        bucket = graph.channel_bucket(channel)
        if bucket is None or bucket.urn in seen:
            continue
        seen.add(bucket.urn)
        name = graph.bucket_name(bucket)
        enabled = peek(bucket.props, "objectLockEnabled", default=False)
        if is_unknown(enabled):
            report(unknown(f"object_lock_enabled of bucket {name!r}"), bucket.urn)
        elif enabled:
            report(
                f"Bucket {name!r} receives AWS Config delivery but has Object Lock enabled; "
                "AWS Config cannot deliver to it. Deliver to a bucket without Object Lock and "
                "replicate into a locked vault.",
                bucket.urn,
            )
        for lock in graph.attached(bucket, types.OBJECT_LOCK):
            report(
                f"Bucket {name!r} receives AWS Config delivery but has an Object Lock "
                "configuration; AWS Config cannot deliver to it. Move the lock to the "
                "replicated vault.",
                lock.urn,
            )


# --- matching helpers --------------------------------------------------------------------------


def _s3_path(resource: str) -> str:
    """`arn:<partition>:s3:::bucket/key` -> `bucket/key` ("*" stays "*")."""
    if not isinstance(resource, str):
        return ""
    if resource.startswith("arn:") and ":s3:::" in resource:
        return resource.split(":s3:::", 1)[1]
    return resource


def _matches(target: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(target, pattern) for pattern in patterns)


def _allows_action(statement: dict, action: str) -> bool:
    return any(
        fnmatch.fnmatchcase(action.lower(), str(pattern).lower())
        for pattern in as_list(statement.get("Action"))
    )


def _source_accounts(statement: dict) -> list[str]:
    values = condition_values(statement, "AWS:SourceAccount")
    return values.get("StringEquals", []) + values.get("StringLike", [])
