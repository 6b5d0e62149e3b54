"""Guardrails for identities and keys: the role AWS Config assumes, administrator grants, key
rotation and topic encryption.

The IAM rules read their documents through the SDK's proxy: a document built from values created
in the same update (ARNs of new keys) is unknown during preview, and these rules wait for `up`,
where the engine calls them with known values before the step runs.
"""

from __future__ import annotations

from configtrail_policies import types
from configtrail_policies.s3 import CONFIG_PRINCIPAL, unknown
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

ADMIN_POLICY_SUFFIX = ":policy/AdministratorAccess"


def config_trust(args, report) -> None:
    if args.resource_type != types.ROLE:
        return
    text = args.props.get("assumeRolePolicy")  # waits for a known document (see module doc)
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


def no_admin_statements(args, report) -> None:
    documents: list[tuple[str, object]] = []
    if args.resource_type in types.IDENTITY_POLICIES:
        documents.append(("policy", args.props.get("policy")))
    elif args.resource_type == types.ROLE:
        for index, inline in enumerate(args.props.get("inlinePolicies") or []):
            documents.append((f"inline_policies[{index}]", (inline or {}).get("policy")))
    for label, text in documents:
        if not text:
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


def no_administrator_access(args, report) -> None:
    arns: list[str] = []
    if args.resource_type in types.POLICY_ATTACHMENTS:
        arns.append(args.props.get("policyArn") or "")
    elif args.resource_type == types.ROLE:
        arns.extend(args.props.get("managedPolicyArns") or [])
    for arn in arns:
        if isinstance(arn, str) and arn.endswith(ADMIN_POLICY_SUFFIX):
            report(
                f"{args.name!r} attaches {arn}: full administrator access. Attach a "
                "least-privilege policy instead (AWS_ConfigRole for AWS Config)."
            )


def key_rotation(args, report) -> None:
    if args.resource_type != types.KMS_KEY:
        return
    spec = peek(args.props, "customerMasterKeySpec") or peek(args.props, "keySpec")
    if isinstance(spec, str) and not is_unknown(spec) and spec != "SYMMETRIC_DEFAULT":
        return  # AWS rotates only symmetric encryption keys automatically
    enabled = peek(args.props, "enableKeyRotation", default=False)
    if is_unknown(enabled):
        report(unknown("enable_key_rotation"))
    elif enabled is not True:
        report(f"KMS key {args.name!r} does not rotate. Set enable_key_rotation=True.")


def topic_encrypted(args, report) -> None:
    if args.resource_type != types.SNS_TOPIC:
        return
    # An unknown key id (a key created in the same update) will be a key: it counts as set.
    if not peek(args.props, "kmsMasterKeyId"):
        report(
            f"SNS topic {peek(args.props, 'name') or args.name!r} is not encrypted; Config "
            "notifications name resources and changes. Set kms_master_key_id to the "
            "ConfigTrail key of its region."
        )
