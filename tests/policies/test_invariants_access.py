"""Who may read or write the history (issue 10, item 1): mutations of the real prod plan, each
caught by exactly the policy expected, at the expected level; the unmutated plan does not trip
it. Same harness as test_mutations.py (the real pack over the Analyzer protocol)."""

from __future__ import annotations

import copy
import json

import pytest

from tests.policies.helpers import (
    assert_only_policy_catches,
    edit_policy,
    find,
    resources,
    set_prop,
)

POLICY = "aws:s3/bucketPolicy:BucketPolicy"
KEY = "aws:kms/key:Key"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
RECORDER = "aws:cfg/recorder:Recorder"
PROVIDER = "pulumi:providers:aws"
OUTSIDER = "999999999999"


def _statements(type_, name, change):
    return lambda d: edit_policy(find(d, type_, name), lambda doc: change(doc["Statement"]))


def _by_sid(statements, sid):
    return next(s for s in statements if s.get("Sid") == sid)


def _grant(statement):
    return lambda s: s.append(statement)


def _drop_resource(type_, name):
    def change(doc):
        state = find(doc, type_, name)
        doc["deployment"]["resources"].remove(state)

    return change


def _second_policy(doc):
    original = find(doc, POLICY, "vault")
    extra = copy.deepcopy(original)
    extra["urn"] = extra["urn"].replace("::vault-policy", "::vault-policy-extra")
    resources(doc).append(extra)


def _acl_with_grants(doc):
    ownership = find(doc, OWNERSHIP, "archive-ownership")
    acl = copy.deepcopy(ownership)
    acl["type"] = "aws:s3/bucketAcl:BucketAcl"
    acl["urn"] = acl["urn"].replace(OWNERSHIP, acl["type"]).replace("-ownership", "-acl")
    for side in ("inputs", "outputs"):
        acl[side] = {
            "bucket": ownership["inputs"]["bucket"],
            "accessControlPolicy": {
                "grants": [{"grantee": {"type": "Group", "uri": "x"}, "permission": "READ"}],
                "owner": {"id": "o"},
            },
        }
    resources(doc).append(acl)


def _provider(key, value):
    return lambda d: set_prop(find(d, PROVIDER), key, value)


DELIVERY_DENY = {
    "Sid": "DenyConfig",
    "Effect": "Deny",
    "Principal": {"Service": "config.amazonaws.com"},
    "Action": "s3:PutObject",
    "Resource": "arn:aws:s3:::configtrail-prod-archive-210000000003-us-east-1/*",
}

# (id, env, document, mutation, expected policy, expected level)
ROWS = [
    (
        "bucket-policy-grants-other-account",
        "prod",
        "stack",
        _statements(
            POLICY,
            "archive-policy",
            _grant(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{OUTSIDER}:root"},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::configtrail-prod-archive-210000000003-us-east-1/*",
                }
            ),
        ),
        "aws-resource-policy-estate-principals",
        "mandatory",
    ),
    (
        "bucket-policy-grants-everyone",
        "prod",
        "stack",
        _statements(
            POLICY,
            "vault-policy",
            _grant(
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::configtrail-prod-vault-210000000003-us-west-2/*",
                }
            ),
        ),
        "aws-resource-policy-estate-principals",
        "mandatory",
    ),
    (
        "key-policy-config-without-source-condition",
        "prod",
        "stack",
        _statements(
            KEY, "key-us-east-1", lambda s: _by_sid(s, "AWSConfigKMSPolicy").pop("Condition")
        ),
        "aws-resource-policy-estate-principals",
        "mandatory",
    ),
    (
        "key-policy-admin-other-account",
        "prod",
        "stack",
        _statements(
            KEY,
            "key-us-west-2",
            lambda s: _by_sid(s, "EnableAccountAdministration").update(
                Principal={"AWS": f"arn:aws:iam::{OUTSIDER}:root"}
            ),
        ),
        "aws-resource-policy-estate-principals",
        "mandatory",
    ),
    (
        "topic-policy-source-account-outside",
        "prod",
        "stack",
        _statements(
            TOPIC_POLICY,
            "notifications-eu-west-1",
            lambda s: s[0].update(Condition={"StringEquals": {"AWS:SourceAccount": OUTSIDER}}),
        ),
        "aws-resource-policy-estate-principals",
        "mandatory",
    ),
    (
        "tls-deny-extra-condition",
        "prod",
        "stack",
        _statements(
            POLICY,
            "archive-policy",
            lambda s: _by_sid(s, "DenyInsecureTransport")["Condition"].update(
                StringNotEquals={"aws:PrincipalAccount": OUTSIDER}
            ),
        ),
        "aws-s3-bucket-tls-only",
        "mandatory",
    ),
    (
        "tls-deny-not-principal",
        "prod",
        "stack",
        _statements(
            POLICY,
            "vault-policy",
            lambda s: _by_sid(s, "DenyInsecureTransport").update(
                NotPrincipal={"AWS": f"arn:aws:iam::{OUTSIDER}:root"}
            ),
        ),
        "aws-s3-bucket-tls-only",
        "mandatory",
    ),
    (
        "deny-blocks-config-delivery",
        "prod",
        "stack",
        _statements(POLICY, "archive-policy", _grant(DELIVERY_DENY)),
        "aws-s3-bucket-config-delivery-policy",
        "mandatory",
    ),
    (
        "deny-everyone-list-bucket",
        "prod",
        "stack",
        _statements(
            POLICY,
            "archive-policy",
            _grant(
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:ListBucket",
                    "Resource": "arn:aws:s3:::configtrail-prod-archive-210000000003-us-east-1",
                }
            ),
        ),
        "aws-s3-bucket-config-delivery-policy",
        "mandatory",
    ),
    (
        "ownership-object-writer",
        "prod",
        "stack",
        lambda d: set_prop(
            find(d, OWNERSHIP, "archive-ownership"), "rule", {"objectOwnership": "ObjectWriter"}
        ),
        "aws-s3-bucket-acls-disabled",
        "mandatory",
    ),
    (
        "ownership-controls-removed",
        "prod",
        "stack",
        _drop_resource(OWNERSHIP, "vault-ownership"),
        "aws-s3-bucket-acls-disabled",
        "mandatory",
    ),
    (
        "bucket-acl-with-grants",
        "prod",
        "stack",
        _acl_with_grants,
        "aws-s3-bucket-acls-disabled",
        "mandatory",
    ),
    (
        "second-bucket-policy",
        "prod",
        "stack",
        _second_policy,
        "aws-s3-bucket-single-policy",
        "mandatory",
    ),
    (
        "recorder-role-other-account",
        "customrole",
        "stack",
        lambda d: set_prop(
            find(d, RECORDER, "us-west-2"),
            "roleArn",
            f"arn:aws:iam::{OUTSIDER}:role/configtrail-customrole-recorder",
        ),
        "aws-cfg-recorder-role-own-account",
        "mandatory",
    ),
    (
        "provider-assumes-other-account",
        "prod",
        "stack",
        _provider("assumeRoles", json.dumps([{"roleArn": f"arn:aws:iam::{OUTSIDER}:role/deploy"}])),
        "aws-provider-estate-account-region",
        "mandatory",
    ),
    (
        "provider-allows-another-account",
        "prod",
        "stack",
        _provider("allowedAccountIds", json.dumps(["210000000003", OUTSIDER])),
        "aws-provider-estate-account-region",
        "mandatory",
    ),
    (
        "provider-without-allowed-accounts",
        "prod",
        "preview",
        lambda d: [
            find(d, PROVIDER).get(side, {}).pop("allowedAccountIds", None)
            for side in ("inputs", "outputs")
        ],
        "aws-provider-estate-account-region",
        "mandatory",
    ),
    (
        "provider-allowed-accounts-secret",
        "prod",
        "preview",
        _provider("allowedAccountIds", "[secret]"),
        "aws-provider-estate-account-region",
        "mandatory",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "kind", "mutate", "policy", "level"),
    [row[1:] for row in ROWS],
    ids=[row[0] for row in ROWS],
)
def test_access_mutation_is_caught(plan_documents, run, env, kind, mutate, policy, level):
    assert_only_policy_catches(run, plan_documents[env][kind], env, mutate, policy, level)


def test_estate_access_config_is_derived_from_the_estate():
    """An archive admits its own and its members' accounts; a member only its own; regions are
    the stack's, home and vault region."""
    from configtrail.policy import stack_config
    from tests.conftest import ESTATE

    def config(name, policy):
        return stack_config.policy_config(ESTATE[name], ESTATE)[policy]

    archive = config("log-archive", "aws-resource-policy-estate-principals")
    members = ESTATE.delivering_accounts("log-archive")
    assert members and archive["allowedAccounts"] == sorted(
        {ESTATE["log-archive"].account_id, *members}
    )
    member = config("ml-prod", "aws-resource-policy-estate-principals")
    assert member["allowedAccounts"] == [ESTATE["ml-prod"].account_id]
    provider = config("log-archive", "aws-provider-estate-account-region")
    settings = ESTATE["log-archive"].settings
    assert provider == {
        "accountId": settings.account_id,
        "regions": sorted({settings.home_region, settings.effective_vault_region}),
    }
    assert config("aggregator", "aws-cfg-recorder-role-own-account") == "disabled"
