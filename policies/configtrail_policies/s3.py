"""Guardrails for the history buckets: the archive AWS Config delivers to and the vault it
replicates into. Every bucket this stack creates holds history, so the per-resource policies apply
to every bucket; the policies about Config delivery apply to the buckets a delivery channel names.

Resource policies block the step before it runs (in preview and in `up`). Stack policies see the
whole graph: they find what is *missing* (a bucket without its public access block) and check
what links two resources (a channel's prefix against its bucket's policy).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable

from configtrail_policies import types
from configtrail_policies.definition import FAIL_CLOSED, NOT_AFFECTED, resource_policy, stack_policy
from configtrail_policies.graph import StackGraph, bucket_name_of
from configtrail_policies.support import (
    DocumentError,
    Unseen,
    as_list,
    condition_values,
    matches,
    parse_document,
    peek,
    principals,
    shown,
    statements,
    unseen_in,
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


# --- resource policies -----------------------------------------------------------------------


@resource_policy(
    name="aws-s3-bucket-versioning-enabled",
    description="History buckets must keep every object version (S3 versioning Enabled).",
    severity="high",
    unknowns=FAIL_CLOSED,
    types=types.VERSIONING,
    controls=("Security Hub S3.14", "CIS v1.4 2.1.3 (MFA delete needs it)"),
    remediation='Set versioning_configuration.status to "Enabled" on the BucketVersioning '
    "resource.",
)
def versioning_enabled(args, report, settings) -> None:
    status = peek(args.props, "versioningConfiguration", "status")
    if isinstance(status, Unseen):
        report(status.explain("versioning_configuration.status"))
    elif status != "Enabled":
        report(
            f"Versioning of bucket {shown(bucket_name_of(args.props))} is {status!r}: overwritten "
            'or deleted history would be lost. Set versioning_configuration.status to "Enabled".'
        )


@resource_policy(
    name="aws-s3-bucket-default-encryption-kms",
    description="History buckets must encrypt by default, with a customer KMS key where required.",
    severity="high",
    unknowns=FAIL_CLOSED,
    types=types.ENCRYPTION,
    config={
        "requireKms": {
            "type": "boolean",
            "description": "Require SSE-KMS with a customer key (false: SSE-S3 is enough).",
            "default": True,
        },
        "sseS3Buckets": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Bucket-name patterns (fnmatch) that may use SSE-S3 although KMS is "
            "required: server-access-log buckets, which S3 logging delivers to with SSE-S3 only.",
            "default": [],
        },
    },
    controls=("Security Hub S3.17", "AWS Config S3_DEFAULT_ENCRYPTION_KMS"),
    remediation='Use sse_algorithm "aws:kms" with kms_master_key_id set to the ConfigTrail key.',
)
def default_encryption_kms(args, report, settings) -> None:
    bucket = bucket_name_of(args.props)
    # Server-access-log buckets named in the config may (must) use SSE-S3.
    require_kms = settings["requireKms"] and not (
        isinstance(bucket, str)
        and any(fnmatch.fnmatchcase(bucket, pattern) for pattern in settings["sseS3Buckets"])
    )
    rules = peek(args.props, "rules", default=[])
    if isinstance(rules, Unseen):
        report(rules.explain("rules"))
        return
    if not rules:
        report(
            f"Bucket {shown(bucket)} has an encryption configuration without rules. Add a rule "
            "with apply_server_side_encryption_by_default."
        )
        return
    for index, rule in enumerate(rules):
        if isinstance(rule, Unseen):
            report(rule.explain(f"rules[{index}]"))
            continue
        default = (rule or {}).get("applyServerSideEncryptionByDefault") or {}
        if isinstance(default, Unseen):
            report(default.explain(f"rules[{index}].apply_server_side_encryption_by_default"))
            continue
        algorithm = default.get("sseAlgorithm")
        if isinstance(algorithm, Unseen):
            report(algorithm.explain(f"rules[{index}].sse_algorithm"))
        elif algorithm not in ALGORITHMS:
            report(
                f"Bucket {shown(bucket)} rule {index} uses sse_algorithm {algorithm!r}; use one "
                f"of {', '.join(ALGORITHMS)}."
            )
        elif require_kms and algorithm not in KMS_ALGORITHMS:
            report(
                f"Bucket {shown(bucket)} is encrypted with {algorithm} (SSE-S3), but this "
                "environment requires SSE-KMS with a customer key. Set "
                "configtrail:archiveEncryption to kms."
            )
        elif require_kms and not default.get("kmsMasterKeyId"):
            # An unknown or masked key ARN (a key created in the same update) counts as set.
            report(
                f"Bucket {shown(bucket)} uses {algorithm} without kms_master_key_id, so S3 uses "
                "the AWS-managed key, which AWS Config cannot be granted. Set the "
                "ConfigTrail key."
            )


@resource_policy(
    name="aws-s3-bucket-public-access-blocked",
    description="History buckets must turn on all four S3 Block Public Access settings.",
    severity="critical",
    unknowns=FAIL_CLOSED,
    types=types.PUBLIC_ACCESS_BLOCK,
    controls=("CIS v5 2.1.4", "Security Hub S3.8"),
    remediation="Set block_public_acls, block_public_policy, ignore_public_acls and "
    "restrict_public_buckets to true.",
)
def public_access_blocked(args, report, settings) -> None:
    off, unseen = [], {}
    for flag in PUBLIC_ACCESS_FLAGS:
        value = peek(args.props, flag, default=False)
        if isinstance(value, Unseen):
            unseen.setdefault(value, []).append(flag)
        elif value is not True:
            off.append(flag)
    for value, flags in unseen.items():
        report(value.explain(", ".join(flags)))
    if off:
        report(
            f"Public access block of bucket {shown(bucket_name_of(args.props))} leaves "
            f"{', '.join(off)} off, so the history could be made public. Set all four flags "
            "to true."
        )


@resource_policy(
    name="aws-s3-bucket-tls-only",
    description="History bucket policies must deny every request that does not use TLS.",
    severity="high",
    unknowns=FAIL_CLOSED,
    types=types.BUCKET_POLICY,
    controls=("CIS v5 2.1.1", "Security Hub S3.5"),
    remediation='Add a Deny statement for Principal "*", Action "s3:*" on the bucket and bucket/* '
    'with Condition Bool aws:SecureTransport = "false".',
)
def tls_only(args, report, settings) -> None:
    text = peek(args.props, "policy")
    if isinstance(text, Unseen):
        report(text.explain("The bucket policy"))
        return
    bucket = bucket_name_of(args.props)
    try:
        found = statements(parse_document(text))
    except DocumentError as error:
        report(
            f"Bucket policy of {shown(bucket)}: {error}. Write a valid policy with a TLS-only deny."
        )
        return
    if (hidden := unseen_in(found)) is not None:
        report(hidden.explain("Part of the bucket policy"))
        return
    targets = [bucket, f"{bucket}/any/key"] if isinstance(bucket, str) else None
    narrowed = [(s, _tls_deny_narrowing(s, targets)) for s in found if _is_tls_deny(s)]
    if any(not reasons for _, reasons in narrowed):
        return
    for statement, reasons in narrowed:
        report(
            f"Bucket policy of {shown(bucket)}: the TLS deny "
            f"{statement.get('Sid') or '(no Sid)'!r} is narrowed ({'; '.join(reasons)}), so "
            "requests without TLS that escape the narrowing are not denied. Make it "
            'unconditional otherwise: Principal "*", Action "s3:*", Resource [bucket ARN, '
            'bucket ARN/*], and Bool aws:SecureTransport "false" as its only condition.'
        )
    if not narrowed:
        report(
            f"Bucket policy of {shown(bucket)} has no statement that denies requests without TLS. "
            'Add Effect Deny, Principal "*", Action "s3:*", Resource [bucket ARN, '
            'bucket ARN/*], Condition Bool aws:SecureTransport "false".'
        )


def _is_tls_deny(statement: dict) -> bool:
    """A Deny that applies when aws:SecureTransport is false (whatever else narrows it)."""
    values = condition_values(statement, "aws:SecureTransport").get("Bool", [])
    return statement.get("Effect") == "Deny" and "false" in [v.lower() for v in values]


def _tls_deny_narrowing(statement: dict, targets: list[str] | None) -> list[str]:
    """What keeps a TLS deny from denying every plain-HTTP request (empty: nothing)."""
    reasons = []
    if "NotPrincipal" in statement:
        reasons.append("it has a NotPrincipal")
    if not principals(statement)[0]:
        reasons.append(f'it applies only to {statement.get("Principal")!r}, not Principal "*"')
    if "NotAction" in statement or not any(
        action in ("*", "s3:*") for action in as_list(statement.get("Action"))
    ):
        reasons.append('it does not deny every action ("s3:*")')
    patterns = [_s3_path(resource) for resource in as_list(statement.get("Resource"))]
    if "NotResource" in statement:
        reasons.append("it has a NotResource")
    elif targets is None:  # bucket name unknown: require a bucket-level and an object-level entry
        if not (any("/" not in p for p in patterns) and any(p.endswith("/*") for p in patterns)):
            reasons.append("it does not cover the bucket and its objects")
    elif not all(matches(target, patterns) for target in targets):
        reasons.append("it does not cover the bucket and its objects")
    for operator, conditions in (statement.get("Condition") or {}).items():
        for key in conditions if isinstance(conditions, dict) else [conditions]:
            if not (operator == "Bool" and str(key).lower() == "aws:securetransport"):
                reasons.append(f"it adds the condition {operator} {key}")
    return reasons


@resource_policy(
    name="aws-s3-bucket-disallow-force-destroy",
    description="History buckets must not set forceDestroy, which deletes every object on destroy.",
    severity="critical",
    unknowns=FAIL_CLOSED,
    types=types.BUCKET,
    remediation="Remove force_destroy (or set it to false).",
)
def disallow_force_destroy(args, report, settings) -> None:
    value = peek(args.props, "forceDestroy", default=False)
    if isinstance(value, Unseen):
        report(value.explain("force_destroy"))
    elif value:
        report(
            f"Bucket {shown(bucket_name_of(args.props))} sets force_destroy: destroying the stack "
            "would delete every object and version of the history. Remove force_destroy."
        )


@resource_policy(
    name="aws-s3-bucket-protected",
    description="History buckets must be protected so that no Pulumi operation deletes them.",
    severity="high",
    unknowns=NOT_AFFECTED,
    types=types.BUCKET,
    remediation="Set the protect (and retain_on_delete) resource options; the environment setting "
    "is configtrail:archiveProtect.",
)
def protected(args, report, settings) -> None:
    # The Analyzer protocol passes `protect` but not `retainOnDelete`, so `protect` is what the
    # engine lets a policy see; the stack sets both together (configtrail.stack.base.child).
    if not args.opts.protect:
        report(
            f"Bucket {shown(bucket_name_of(args.props))} is not protected: `pulumi destroy` or a "
            "merge that drops it from the program would delete the history. Set protect "
            "and retain_on_delete (configtrail:archiveProtect: true)."
        )


@resource_policy(
    name="aws-s3-bucket-lifecycle-keeps-history",
    description="Lifecycle rules must not expire history before the minimum retention.",
    severity="high",
    unknowns=FAIL_CLOSED,
    types=types.LIFECYCLE,
    config={
        "minRetentionDays": {
            "type": "integer",
            "minimum": 1,
            "description": "No lifecycle rule may expire objects or old versions sooner.",
            "default": 365,
        },
    },
    controls=("AWS Config retention (history kept at least as long as Config keeps it)",),
    remediation="Remove expiration / noncurrent_version_expiration or raise their days to at "
    "least minRetentionDays.",
)
def lifecycle_keeps_history(args, report, settings) -> None:
    minimum = settings["minRetentionDays"]
    bucket = bucket_name_of(args.props)
    rules = peek(args.props, "rules", default=[])
    if isinstance(rules, Unseen):
        report(rules.explain("rules"))
        return
    for index, rule in enumerate(rules or []):
        if isinstance(rule, Unseen):
            report(rule.explain(f"rules[{index}]"))
            continue
        rule = rule or {}
        if rule.get("status") == "Disabled":
            continue
        label = f"rule {rule.get('id') or index!r}"
        expiration = rule.get("expiration") or {}
        noncurrent = rule.get("noncurrentVersionExpiration") or {}
        if isinstance(expiration, Unseen) or isinstance(noncurrent, Unseen):
            report((expiration if isinstance(expiration, Unseen) else noncurrent).explain(label))
            continue
        checks: list[tuple[str, object]] = [
            ("expiration.days", expiration.get("days")),
            ("noncurrent_version_expiration.noncurrent_days", noncurrent.get("noncurrentDays")),
        ]
        for field, days in checks:
            if days is None:
                continue
            if isinstance(days, Unseen):
                report(days.explain(f"{label} {field}"))
            elif float(days) < minimum:
                report(
                    f"Lifecycle {label} of bucket {shown(bucket)} expires history after "
                    f"{int(float(days))} days ({field}), before the minimum retention of "
                    f"{minimum} days. Remove the expiration or raise it to {minimum} days."
                )
        date = expiration.get("date")
        if date:
            report(
                f"Lifecycle {label} of bucket {shown(bucket)} expires history on a fixed date "
                f"({shown(date) if isinstance(date, Unseen) else date}). Expire by age of at "
                f"least {minimum} days, or not at all."
            )


# --- stack policies ----------------------------------------------------------------------------


@stack_policy(
    name="aws-s3-bucket-history-controls-present",
    description="Every history bucket must have its versioning, encryption, public access block "
    "and bucket policy resources.",
    severity="high",
    unknowns=NOT_AFFECTED,
    types=types.BUCKET | types.BUCKET_COMPANIONS,
    controls=("Security Hub S3.5, S3.8, S3.14, S3.17",),
    remediation="Create the missing aws.s3 resource for the bucket (see ArchiveBucket in "
    "src/configtrail/stack/archive.py).",
)
def history_controls_present(args, report, settings) -> None:
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
                f"Bucket {shown(graph.bucket_name(bucket))} has no {', '.join(missing)}: its "
                "history lacks that protection. Create the missing aws.s3 resource(s) for "
                "the bucket.",
                bucket.urn,
            )


@stack_policy(
    name="aws-s3-bucket-config-delivery-policy",
    description="A bucket that AWS Config delivers to must grant Config's three delivery "
    "statements, each limited by AWS:SourceAccount, and deny none of them.",
    severity="high",
    unknowns=FAIL_CLOSED,
    types=types.BUCKET | types.BUCKET_POLICY | {types.DELIVERY_CHANNEL},
    controls=("AWS Config delivery-bucket policy", "CIS v5 3.3 (Config enabled)"),
    remediation="Allow config.amazonaws.com s3:GetBucketAcl and s3:ListBucket on the bucket and "
    "s3:PutObject on <bucket>/<prefix>/AWSLogs/<account>/Config/*, each with "
    "StringEquals AWS:SourceAccount = <account>; no Deny (but the TLS deny) may match them.",
)
def config_delivery_policy(args, report, settings) -> None:
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
        hidden = name if isinstance(name, Unseen) else prefix
        if isinstance(hidden, Unseen):
            report(hidden.explain("The delivery channel's bucket name or key prefix"), channel.urn)
            continue
        for policy in policies:
            for problem in _delivery_problems(peek(policy.props, "policy"), name, prefix):
                report(
                    f"Bucket policy of {name!r} (delivery channel {channel.name!r}, prefix "
                    f"{prefix or '(none)'!r}): {problem}",
                    policy.urn,
                )


def _delivery_problems(text, bucket: str, prefix: str) -> list[str]:
    if isinstance(text, Unseen):
        return [text.explain("the policy document")]
    try:
        found = statements(parse_document(text))
    except DocumentError as error:
        return [str(error)]
    if (hidden := unseen_in(found)) is not None:
        return [hidden.explain("part of the policy document")]
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
            matches(target_for(account), [_s3_path(r) for r in as_list(s.get("Resource"))])
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
    accounts = sorted({a for s in config_allows for a in _source_accounts(s)})
    for action, _sid, target_for in needed:
        for account in accounts:
            target = target_for(account)
            for statement in found:
                verdict = _deny_blocks(statement, action, target, account)
                if verdict is None:
                    continue
                sid = statement.get("Sid") or "(no Sid)"
                problems.append(
                    f"the Deny statement {sid!r} "
                    + (
                        "blocks"
                        if verdict == ()
                        else f"may block (its conditions on {', '.join(verdict)} cannot be "
                        "shown to spare Config's request)"
                    )
                    + f" {CONFIG_PRINCIPAL} {action} on arn:aws:s3:::{target} for account "
                    f"{account}; an explicit Deny overrides every Allow, so AWS Config cannot "
                    "deliver. Remove it, or narrow it so that Config's delivery is spared (the "
                    "TLS deny already is)."
                )
    return problems


# The request context of AWS Config's delivery calls, as far as a policy can test it: Config
# uses TLS, names the delivering account (aws:SourceAccount) and writes with the canned ACL
# bucket-owner-full-control. Conditions on any other key cannot be evaluated here.
def _delivery_context(action: str, account: str) -> dict[str, str]:
    context = {"aws:securetransport": "true", "aws:sourceaccount": account}
    if action == "s3:PutObject":
        context["s3:x-amz-acl"] = "bucket-owner-full-control"
    return context


_STRING_TESTS = {
    "StringEquals": lambda value, wanted: value == wanted,
    "StringNotEquals": lambda value, wanted: value != wanted,
    "StringEqualsIgnoreCase": lambda value, wanted: value.lower() == wanted.lower(),
    "StringNotEqualsIgnoreCase": lambda value, wanted: value.lower() != wanted.lower(),
    "StringLike": lambda value, wanted: fnmatch.fnmatchcase(value, wanted),
    "StringNotLike": lambda value, wanted: not fnmatch.fnmatchcase(value, wanted),
    "Bool": lambda value, wanted: value == wanted.lower(),
}
_NEGATED = ("StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike")


def _deny_blocks(statement: dict, action: str, target: str, account: str) -> tuple | None:
    """Whether a Deny applies to Config's `action` on `target`: None (it does not), () (it
    does), or the condition keys it cannot evaluate (it may)."""
    if statement.get("Effect") != "Deny":
        return None
    everyone, by_kind = principals(statement)
    if "NotPrincipal" in statement:
        _, excluded = principals({"Principal": statement["NotPrincipal"]})
        if CONFIG_PRINCIPAL in excluded.get("Service", []):
            return None
    elif not (everyone or CONFIG_PRINCIPAL in by_kind.get("Service", [])):
        return None
    if "NotAction" in statement:
        if _allows_action({"Action": statement["NotAction"]}, action):
            return None
    elif not _allows_action(statement, action):
        return None
    if "NotResource" in statement:
        if matches(target, [_s3_path(r) for r in as_list(statement["NotResource"])]):
            return None
    elif not matches(target, [_s3_path(r) for r in as_list(statement.get("Resource"))]):
        return None
    context = _delivery_context(action, account)
    unknown = []
    for operator, conditions in (statement.get("Condition") or {}).items():
        base = operator.removesuffix("IfExists")
        test = _STRING_TESTS.get(base)
        for key, wanted in (conditions or {}).items() if isinstance(conditions, dict) else []:
            value = context.get(str(key).lower())
            if test is None or value is None:
                unknown.append(f"{operator} {key}")
                continue
            values = [str(w) for w in as_list(wanted)]
            # A negated operator matches when the value equals none; the others when any.
            matched = (
                all(test(value, w) for w in values)
                if base in _NEGATED
                else any(test(value, w) for w in values)
            )
            if not matched:
                return None  # conditions are ANDed: this one spares Config's request
    return tuple(unknown)


@stack_policy(
    name="aws-s3-bucket-no-object-lock-on-delivery",
    description="A bucket that AWS Config delivers to must not use S3 Object Lock.",
    severity="high",
    unknowns=FAIL_CLOSED,
    types=types.BUCKET | types.OBJECT_LOCK | {types.DELIVERY_CHANNEL},
    controls=(
        "AWS::Config::DeliveryChannel (Object Lock unsupported)",
        "Security Hub S3.15 via the replicated vault",
    ),
    remediation="Deliver to a bucket without Object Lock and replicate it into an Object Lock "
    "vault.",
)
def no_object_lock_on_delivery(args, report, settings) -> None:
    graph = StackGraph(args.resources)
    seen = set()
    for channel in graph.of_type(types.DELIVERY_CHANNEL):
        bucket = graph.channel_bucket(channel)
        if bucket is None or bucket.urn in seen:
            continue
        seen.add(bucket.urn)
        name = shown(graph.bucket_name(bucket))
        enabled = peek(bucket.props, "objectLockEnabled", default=False)
        if isinstance(enabled, Unseen):
            report(enabled.explain(f"object_lock_enabled of bucket {name}"), bucket.urn)
        elif enabled:
            report(
                f"Bucket {name} receives AWS Config delivery but has Object Lock enabled; "
                "AWS Config cannot deliver to it. Deliver to a bucket without Object Lock and "
                "replicate into a locked vault.",
                bucket.urn,
            )
        for lock in graph.attached(bucket, types.OBJECT_LOCK):
            report(
                f"Bucket {name} receives AWS Config delivery but has an Object Lock "
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


def _allows_action(statement: dict, action: str) -> bool:
    return any(
        fnmatch.fnmatchcase(action.lower(), str(pattern).lower())
        for pattern in as_list(statement.get("Action"))
    )


def _source_accounts(statement: dict) -> list[str]:
    values = condition_values(statement, "AWS:SourceAccount")
    return values.get("StringEquals", []) + values.get("StringLike", [])
