"""Guardrails for identities and keys: the role AWS Config assumes, administrator grants, key
rotation and topic encryption.

The IAM policies wait for unknown documents: a document built from values created in the same
update (ARNs of new keys) is unknown during preview, and `up` calls these policies with known
values before the step runs. A document masked as a secret is different — offline it stays
hidden — so it fails closed (`support.wait_or_fail`).
"""

from __future__ import annotations

from configtrail_policies import types
from configtrail_policies.definition import FAIL_CLOSED, NOT_AFFECTED, WAIT, resource_policy
from configtrail_policies.s3 import CONFIG_PRINCIPAL
from configtrail_policies.support import (
    DocumentError,
    Unseen,
    as_list,
    condition_values,
    parse_document,
    peek,
    principals,
    statements,
    wait_or_fail,
)

ADMIN_POLICY_SUFFIX = ":policy/AdministratorAccess"


@resource_policy(
    name="aws-iam-role-config-trust",
    description="A role that AWS Config assumes must trust only config.amazonaws.com, limited by "
    "AWS:SourceAccount.",
    severity="critical",
    unknowns=WAIT,
    types={types.ROLE},
    controls=("Security Hub Config.1 (custom role)", "confused-deputy prevention"),
    remediation='Trust only {"Service": "config.amazonaws.com"} with StringEquals '
    "AWS:SourceAccount = <account>.",
)
def config_trust(args, report, settings) -> None:
    text = peek(args.props, "assumeRolePolicy")
    if not wait_or_fail(
        text, f"The assume-role policy of role {args.name!r}", report, "assumeRolePolicy"
    ):
        return
    try:
        found = statements(parse_document(text))
    except DocumentError as error:
        report(f"Role {args.name!r}: assume-role policy: {error}.")
        return
    allows = [s for s in found if s.get("Effect") == "Allow"]
    if not any(CONFIG_PRINCIPAL in principals(s)[1].get("Service", []) for s in allows):
        return  # not a role AWS Config assumes
    for statement in allows:
        everyone, by_kind = principals(statement)
        others = sorted(
            {f"{kind}:{value}" for kind, values in by_kind.items() for value in values}
            - {f"Service:{CONFIG_PRINCIPAL}"}
        )
        if everyone or others:
            shown = "everyone (*)" if everyone else ", ".join(others)
            report(
                f"Role {args.name!r} is assumed by AWS Config but also trusts {shown}. Trust "
                f"only {CONFIG_PRINCIPAL}."
            )
        values = condition_values(statement, "AWS:SourceAccount")
        if not (values.get("StringEquals") or values.get("StringLike")):
            report(
                f"Role {args.name!r} trusts {CONFIG_PRINCIPAL} without an AWS:SourceAccount "
                "condition, so another account's Config could use it (confused deputy). Add "
                "StringEquals AWS:SourceAccount = <account id>."
            )


@resource_policy(
    name="aws-iam-policy-no-admin-statements",
    description="No IAM policy may allow every action on every resource.",
    severity="critical",
    unknowns=WAIT,
    types=types.IDENTITY_POLICIES | {types.ROLE},
    controls=("CIS v5 1.15", "Security Hub IAM.1"),
    remediation="Grant the specific actions on the specific resources the principal needs.",
)
def no_admin_statements(args, report, settings) -> None:
    documents: list[tuple[str, object]] = []
    if args.resource_type in types.IDENTITY_POLICIES:
        documents.append(("policy", peek(args.props, "policy")))
    else:
        inline = peek(args.props, "inlinePolicies", default=[]) or []
        if not wait_or_fail(inline, f"{args.name!r} inline_policies", report, "inlinePolicies"):
            return
        for index, entry in enumerate(inline):
            documents.append((f"inline_policies[{index}]", (entry or {}).get("policy")))
    for label, text in documents:
        if not wait_or_fail(text, f"{args.name!r} {label}", report, label) or not text:
            continue
        try:
            found = statements(parse_document(text))
        except DocumentError as error:
            report(f"{args.name!r} {label}: {error}.")
            continue
        for statement in found:
            if statement.get("Effect") != "Allow":
                continue
            actions = as_list(statement.get("Action"))
            resources = as_list(statement.get("Resource"))
            if any(a in ("*", "*:*") for a in actions) and "*" in resources:
                sid = statement.get("Sid")
                report(
                    f"{args.name!r} {label} allows every action on every resource"
                    f"{f' (statement {sid!r})' if sid else ''}: full administrator access. "
                    "Grant only the actions and resources needed."
                )


@resource_policy(
    name="aws-iam-role-no-administrator-access",
    description="No role, user or group may have the AdministratorAccess managed policy attached.",
    severity="critical",
    unknowns=WAIT,
    types=types.POLICY_ATTACHMENTS | {types.ROLE},
    controls=("CIS v5 1.15", "Security Hub IAM.1"),
    remediation="Attach a least-privilege policy instead (AWS_ConfigRole for Config).",
)
def no_administrator_access(args, report, settings) -> None:
    if args.resource_type in types.POLICY_ATTACHMENTS:
        arns = [peek(args.props, "policyArn") or ""]
    else:
        arns = peek(args.props, "managedPolicyArns", default=[]) or []
    if not wait_or_fail(
        arns,
        f"The managed policies attached by {args.name!r}",
        report,
        "policyArn" if args.resource_type in types.POLICY_ATTACHMENTS else "managedPolicyArns",
    ):
        return
    for arn in arns:
        if isinstance(arn, str) and arn.endswith(ADMIN_POLICY_SUFFIX):
            report(
                f"{args.name!r} attaches {arn}: full administrator access. Attach a "
                "least-privilege policy instead (AWS_ConfigRole for AWS Config)."
            )


@resource_policy(
    name="aws-kms-key-rotation-enabled",
    description="Customer-managed symmetric KMS keys must rotate automatically.",
    severity="medium",
    unknowns=FAIL_CLOSED,
    types={types.KMS_KEY},
    controls=("CIS v5 3.6", "Security Hub KMS.4"),
    remediation="Set enable_key_rotation=True.",
)
def key_rotation(args, report, settings) -> None:
    spec = peek(args.props, "customerMasterKeySpec") or peek(args.props, "keySpec")
    if isinstance(spec, str) and spec != "SYMMETRIC_DEFAULT":
        return  # AWS rotates only symmetric encryption keys automatically
    enabled = peek(args.props, "enableKeyRotation", default=False)
    if isinstance(enabled, Unseen):
        report(enabled.explain("enable_key_rotation"))
    elif enabled is not True:
        report(f"KMS key {args.name!r} does not rotate. Set enable_key_rotation=True.")


@resource_policy(
    name="aws-sns-topic-encrypted",
    description="SNS topics must be encrypted with a KMS key.",
    severity="medium",
    unknowns=NOT_AFFECTED,
    types={types.SNS_TOPIC},
    controls=("Security Hub SNS.1",),
    remediation="Set kms_master_key_id to the ConfigTrail key of the topic's region.",
)
def topic_encrypted(args, report, settings) -> None:
    # An unknown or masked key id (a key created in the same update) will be a key: it is set.
    if not peek(args.props, "kmsMasterKeyId"):
        name = peek(args.props, "name")
        report(
            f"SNS topic {name if isinstance(name, str) else args.name!r} is not encrypted; "
            "Config notifications name resources and changes. Set kms_master_key_id to the "
            "ConfigTrail key of its region."
        )
