"""Who may read or write the history: whole-graph invariants against the estate (issue 10,
item 1). The estate's accounts, organization, account and regions of each stack are policy config
derived from the stack files (src/configtrail/policy/stack_config.py), never kept by hand; the
schema defaults admit nothing, so a pack run without the derived config fails closed.

- resource policies (bucket, key and topic policies) grant only the estate's accounts, and AWS
  service principals only under a source condition (aws:SourceAccount / aws:SourceArn /
  aws:SourceOrgID) that limits them to the estate — the confused-deputy guard;
- history buckets keep ACLs disabled (BucketOwnerEnforced) and have one bucket policy (S3 keeps
  one: PutBucketPolicy replaces the whole policy, so the last resource to write it wins);
- a recorder uses a role of its own account, and every AWS provider deploys into the stack's
  account (allowedAccountIds, assumed roles) and regions.

The TLS deny and the denies that would block Config's own delivery are judged where the bucket
policy already is (s3.py: aws-s3-bucket-tls-only, aws-s3-bucket-config-delivery-policy).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

from configtrail_policies import types
from configtrail_policies.definition import (
    FAIL_CLOSED,
    NOT_AFFECTED,
    WAIT,
    resource_policy,
    stack_policy,
    string_list,
)
from configtrail_policies.graph import StackGraph
from configtrail_policies.stack import REGIONAL
from configtrail_policies.support import (
    DocumentError,
    Unseen,
    arn_account,
    as_list,
    condition_values,
    names,
    parse_document,
    peek,
    principals,
    shown,
    statements,
    wait_or_fail,
)

ACCOUNT_ID = re.compile(r"^\d{12}$")
# arn:<partition>:iam::<account>:root|role/...|user/... (and sts assumed-role sessions)
PRINCIPAL_ARN = re.compile(r"^arn:[a-z-]+:(?:iam|sts)::(\d{12}):")
SOURCE_KEYS = ("aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID")
# Operators that limit a key to the values listed; a negated or ...IfExists operator does not
# (IfExists is true when the key is absent).
LIMITING_OPERATORS = frozenset(
    {"StringEquals", "StringLike", "StringEqualsIgnoreCase", "ArnEquals", "ArnLike"}
)
ENFORCED = "BucketOwnerEnforced"
DELIVERY_ACTIONS = frozenset({"s3:getbucketacl", "s3:listbucket", "s3:putobject"})


def _estate(settings: dict) -> str:
    accounts = settings.get("allowedAccounts") or []
    organization = settings.get("organizationId") or ""
    if not accounts:
        return (
            "the pack config admits no account (derive it: `configtrail policy-config`, passed "
            "as --policy-pack-config)"
        )
    found = f"the estate admits account{'s' if len(accounts) > 1 else ''} {names(accounts)}"
    return found + (f" and organization {organization}" if organization else "")


# --- resource policies: who a bucket, key or topic policy admits ------------------------------


@resource_policy(
    name="aws-resource-policy-estate-principals",
    description="Bucket, key and topic policies may grant only the estate's accounts, and AWS "
    "services only under a source condition limited to the estate.",
    severity="critical",
    unknowns=WAIT,
    types=types.RESOURCE_POLICIES,
    config={
        "allowedAccounts": string_list(
            "Accounts a resource policy may name: the stack's own and, for an archive, the "
            "accounts delivering to it (derived from the estate).",
            [],
        ),
        "organizationId": {
            "type": "string",
            "description": "The estate's AWS Organizations id a source condition may name "
            '(aws:SourceOrgID / aws:PrincipalOrgID); "" for none.',
            "default": "",
        },
    },
    controls=("confused-deputy prevention", "Security Hub S3.6 (no access for other accounts)"),
    remediation="Grant only the stack's own account (and an archive's delivering accounts); give "
    "every service principal StringEquals AWS:SourceAccount = <estate account>.",
)
def estate_principals(args, report, settings) -> None:
    text = peek(args.props, "policy")
    what = f"The policy of {args.name!r}"
    if not wait_or_fail(text, what, report, "policy") or not text:
        return  # no policy: a key keeps AWS's default (its own account), a topic its owner's
    try:
        found = statements(parse_document(text))
    except DocumentError as error:
        report(f"{what}: {error}. Write a valid policy that grants only the estate's accounts.")
        return
    allowed = set(settings["allowedAccounts"])
    organization = settings["organizationId"]
    for index, statement in enumerate(found):
        if statement.get("Effect") != "Allow":
            continue
        label = f"statement {statement.get('Sid') or index!r}"
        bucket_policy = args.resource_type in types.BUCKET_POLICY
        for problem in _grant_problems(statement, allowed, organization, bucket_policy):
            report(
                f"{what} ({args.resource_type.rsplit(':', 1)[-1]}), {label}: {problem}; "
                f"{_estate(settings)}. Grant only those accounts, and limit every AWS service "
                "principal with StringEquals AWS:SourceAccount (or aws:SourceArn / "
                "aws:SourceOrgID) to them."
            )


def _grant_problems(
    statement: dict, allowed: set[str], organization: str, missing: bool = False
) -> list[str]:
    """What a statement grants outside the estate. `missing`: a bucket policy, whose Config
    delivery grants without a source condition another policy reports."""
    if "NotPrincipal" in statement:
        return ["Allow with NotPrincipal grants everyone but the principals it names"]
    everyone, by_kind = principals(statement)
    problems = []
    if everyone and not _within_organization(statement, organization):
        problems.append('it grants everyone (Principal "*")')
    for value in by_kind.get("AWS", []):
        if value == "*":
            continue  # reported above as everyone
        account = value if ACCOUNT_ID.match(str(value)) else None
        if account is None and (match := PRINCIPAL_ARN.match(str(value))):
            account = match.group(1)
        if account not in allowed:
            problems.append(f"it grants {value!r}, an account outside the estate")
    for kind in ("Federated", "CanonicalUser"):
        for value in by_kind.get(kind, []):
            problems.append(f"it grants the {kind} principal {value!r}")
    services = by_kind.get("Service", [])
    if services:
        problem = _source_problem(statement, allowed, organization)
        if problem and not (missing and _delivery_grant(statement, services)):
            problems.append(f"{names(sorted(map(str, services)))}: {problem}")
    return problems


def _delivery_grant(statement: dict, services: list) -> bool:
    """Config's own delivery statements in a bucket policy: whether each carries
    AWS:SourceAccount is aws-s3-bucket-config-delivery-policy's finding (one problem, one
    policy)."""
    actions = {str(a).lower() for a in as_list(statement.get("Action"))}
    return services == ["config.amazonaws.com"] and actions <= DELIVERY_ACTIONS


def _within_organization(statement: dict, organization: str) -> bool:
    """`Principal "*"` limited by StringEquals aws:PrincipalOrgID to the estate's organization."""
    if not organization:
        return False
    values = condition_values(statement, "aws:PrincipalOrgID").get("StringEquals", [])
    return bool(values) and set(values) == {organization}


def _source_problem(statement: dict, allowed: set[str], organization: str) -> str | None:
    """Why a service principal's Allow is not limited to the estate (None when it is)."""
    proved = False
    for key in SOURCE_KEYS:
        for operator, values in condition_values(statement, key).items():
            if operator.split(":")[-1] not in LIMITING_OPERATORS:
                return (
                    f"its {key} condition uses {operator}, which does not limit the service to "
                    "the listed values"
                )
            for value in values:
                if key == "aws:SourceAccount":
                    inside = value in allowed
                elif key == "aws:SourceArn":
                    account = arn_account(value)
                    if account == "":
                        continue  # an ARN without an account (an S3 bucket) proves nothing
                    inside = account in allowed
                else:
                    inside = bool(organization) and value == organization
                if not inside:
                    return f"its {key} condition admits {value!r}, outside the estate"
                proved = True
    if not proved:
        return (
            "no aws:SourceAccount, aws:SourceArn or aws:SourceOrgID condition limits the service "
            "to the estate, so any account's use of that service could act here (confused deputy)"
        )
    return None


# --- ACLs and the one bucket policy -------------------------------------------------------------


@stack_policy(
    name="aws-s3-bucket-acls-disabled",
    description="History buckets must keep ACLs disabled: BucketOwnerEnforced ownership controls "
    "and no ACL that grants anything.",
    severity="high",
    unknowns=FAIL_CLOSED,
    types=types.BUCKET | types.OWNERSHIP_CONTROLS | types.BUCKET_ACL,
    controls=("Security Hub S3.12 (no ACLs)", "AWS Config S3_BUCKET_ACL_PROHIBITED"),
    remediation='Give the bucket a BucketOwnershipControls with object_ownership "BucketOwner'
    'Enforced" and remove every BucketAcl.',
)
def acls_disabled(args, report, settings) -> None:
    graph = StackGraph(args.resources)
    attached: dict[str, list[Any]] = defaultdict(list)
    for resource in graph.of_type(types.OWNERSHIP_CONTROLS, types.BUCKET_ACL):
        bucket = graph.bucket_named_by(resource)
        if bucket is not None:
            attached[bucket.urn].append(resource)
    for bucket in graph.buckets():
        name = shown(graph.bucket_name(bucket))
        controls = [r for r in attached[bucket.urn] if r.resource_type in types.OWNERSHIP_CONTROLS]
        if not controls:
            report(
                f"Bucket {name} has no BucketOwnershipControls: without BucketOwnerEnforced "
                "(removing the resource deletes it) object ACLs apply again and another "
                "account's writer can own what it writes. Add BucketOwnershipControls with "
                'object_ownership "BucketOwnerEnforced".',
                bucket.urn,
            )
        for control in controls:
            ownership = peek(control.props, "rule", "objectOwnership")
            if isinstance(ownership, Unseen):
                report(ownership.explain(f"The object ownership of bucket {name}"), control.urn)
            elif ownership != ENFORCED:
                report(
                    f"Bucket {name} sets object ownership {ownership!r}: ACLs are enabled again, "
                    "so an ACL can grant the history to anyone, and objects another account "
                    f'writes can stay that account\'s. Set object_ownership "{ENFORCED}".',
                    control.urn,
                )
        for acl in (r for r in attached[bucket.urn] if r.resource_type in types.BUCKET_ACL):
            grants = peek(acl.props, "accessControlPolicy", "grants", default=[])
            canned = peek(acl.props, "acl")
            hidden = next((v for v in (grants, canned) if isinstance(v, Unseen)), None)
            if hidden is not None:
                report(hidden.explain(f"The ACL {acl.name!r} of bucket {name}"), acl.urn)
            elif grants or (canned and canned != "private"):
                report(
                    f"Bucket {name} has the ACL {acl.name!r} "
                    f"({'grants ' + str(len(grants)) if grants else 'canned ' + repr(canned)}): "
                    "ACLs grant access outside the bucket policy. Remove the BucketAcl; grant in "
                    "the bucket policy only.",
                    acl.urn,
                )


@stack_policy(
    name="aws-s3-bucket-single-policy",
    description="A bucket must have exactly one BucketPolicy resource; S3 keeps one policy and the "
    "last one written replaces the other.",
    severity="high",
    unknowns=NOT_AFFECTED,
    types=types.BUCKET | types.BUCKET_POLICY,
    controls=("S3 PutBucketPolicy replaces the whole policy",),
    remediation="Merge the statements into the bucket's one BucketPolicy and delete the other.",
)
def single_policy(args, report, settings) -> None:
    graph = StackGraph(args.resources)
    groups: dict[str, list[Any]] = defaultdict(list)
    for policy in graph.of_type(types.BUCKET_POLICY):
        bucket = graph.bucket_named_by(policy)
        name = peek(policy.props, "bucket")
        if bucket is not None:
            groups[f"bucket {shown(graph.bucket_name(bucket))}"].append(policy)
        elif isinstance(name, str):  # a bucket outside the stack (another stack's archive)
            groups[f"bucket {name!r}"].append(policy)
    for where, policies in groups.items():
        if len(policies) < 2:
            continue
        for policy in policies[1:]:
            report(
                f"{where} has {len(policies)} BucketPolicy resources "
                f"({names(sorted(p.name for p in policies))}): S3 keeps one policy per bucket and "
                "each PutBucketPolicy replaces it whole, so whichever deploys last silently "
                "drops the other's statements (Config's grants or the TLS deny). Merge them into "
                "one BucketPolicy.",
                policy.urn,
            )


# --- accounts and regions of the roles and providers ------------------------------------------


@resource_policy(
    name="aws-cfg-recorder-role-own-account",
    description="A recorder must use a role of the stack's own account.",
    severity="high",
    unknowns=WAIT,
    types={types.RECORDER},
    config={
        "accountId": {
            "type": "string",
            "description": 'The stack\'s account (derived from its stack file); "" admits none.',
            "default": "",
        },
    },
    remediation="Use the account's service-linked role AWSServiceRoleForConfig or a ConfigTrail "
    "recorder role of the stack's account.",
)
def recorder_role_own_account(args, report, settings) -> None:
    arn = peek(args.props, "roleArn")
    if not wait_or_fail(arn, f"The role of recorder {args.name!r}", report, "roleArn"):
        return
    account = settings["accountId"]
    owner = PRINCIPAL_ARN.match(arn or "")
    if owner is None or owner.group(1) != account:
        report(
            f"Recorder {args.name!r} uses role {arn!r}, "
            + ("which is not an IAM role ARN" if owner is None else f"of account {owner[1]}")
            + f", but the stack's account is {account or '(none in the pack config)'}: another "
            "account's role would decide what is recorded and could be changed outside this "
            "stack. Use a role of the stack's own account."
        )


@stack_policy(
    name="aws-provider-estate-account-region",
    description="Every AWS provider must deploy into the stack's account only (allowedAccountIds, "
    "assumed roles) and into the stack's regions.",
    severity="critical",
    unknowns=FAIL_CLOSED,
    types={types.AWS_PROVIDER, *REGIONAL},
    config={
        "accountId": {
            "type": "string",
            "description": 'The stack\'s account (derived from its stack file); "" admits none.',
            "default": "",
        },
        "regions": string_list(
            "Regions the stack's providers may use: its regions, home and vault region (derived).",
            [],
        ),
    },
    remediation="Set allowed_account_ids to exactly the stack's account, assume only roles of "
    "that account, and keep every provider's region among the stack's regions.",
)
def provider_account_region(args, report, settings) -> None:
    providers: dict[str, Any] = {}
    for resource in args.resources:
        if resource.resource_type == types.AWS_PROVIDER:
            providers.setdefault(resource.urn, resource)
        elif resource.provider is not None and resource.provider.resource_type == (
            types.AWS_PROVIDER
        ):
            providers.setdefault(resource.provider.urn, resource.provider)
    for urn, provider in providers.items():
        for problem in _provider_problems(provider, settings):
            report(problem, urn)


def _config_value(props: Any, key: str) -> Any:
    """A provider input: the engine passes objects and lists of a provider's config as JSON
    strings (a stack export), a preview as plain values."""
    value = peek(props, key)
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _provider_problems(provider: Any, settings: dict) -> list[str]:
    account = settings["accountId"] or "(none in the pack config)"
    regions = settings["regions"]
    label = f"Provider {provider.name!r}"
    problems = []
    allowed = _config_value(provider.props, "allowedAccountIds")
    if isinstance(allowed, Unseen) or any(isinstance(a, Unseen) for a in as_list(allowed)):
        hidden = allowed if isinstance(allowed, Unseen) else Unseen("secret")
        problems.append(
            hidden.explain(f"allowed_account_ids of {label.lower()}")
            + "; the pack cannot tell which account it deploys into"
        )
    elif sorted(map(str, as_list(allowed))) != [settings["accountId"]]:
        problems.append(
            f"{label} has allowed_account_ids {sorted(map(str, as_list(allowed)))}, but the "
            f"stack's account is {account}: "
            + (
                "without it, credentials of any account would deploy the stack there"
                if not allowed
                else "another account is admitted"
            )
            + f". Set allowed_account_ids to [{account!r}]."
        )
    for key in ("assumeRoles", "assumeRole", "assumeRoleWithWebIdentity"):
        value = _config_value(provider.props, key)
        if value is None:
            continue
        if isinstance(value, Unseen):
            problems.append(
                value.explain(f"{key} of {label.lower()}")
                + "; the pack cannot tell which account's role it assumes"
            )
            continue
        for entry in as_list(value) if isinstance(value, list) else [value]:
            arn = peek(entry, "roleArn") if isinstance(entry, dict) else entry
            if not arn:
                continue
            if isinstance(arn, Unseen):
                problems.append(
                    arn.explain(f"{key}.role_arn of {label.lower()}")
                    + "; the pack cannot tell which account's role it assumes"
                )
                continue
            owner = PRINCIPAL_ARN.match(str(arn))
            if owner is None or owner.group(1) != settings["accountId"]:
                problems.append(
                    f"{label} assumes role {arn!r}"
                    + (f" of account {owner[1]}" if owner else "")
                    + f", outside the stack's account {account}: the stack would deploy into "
                    "another account. Assume only a role of the stack's account."
                )
    region = peek(provider.props, "region")
    # An unknown or unset region is aws-provider-region-known's finding (on what the provider
    # places); here only a region that is known and outside the stack's.
    if isinstance(region, str) and region and region not in regions:
        problems.append(
            f"{label} is in region {region!r}, outside the stack's regions "
            f"({names(regions) or 'none in the pack config'}): what it creates there is "
            "neither recorded by this stack nor covered by its archive. Use one of the stack's "
            "regions (configtrail:regions, vaultRegion)."
        )
    return problems
