"""Fail closed where the pack cannot see (issue 10, item 2): a security-relevant value that is a
secret the file holds only as ciphertext (a stack export) or masks as "[secret]" (a preview) is a
mandatory finding that says why and what to run instead — for the policies that wait for unknowns
too, since offline a secret never becomes known. A secret the file shows (`--show-secrets`) is
judged like any other value."""

from __future__ import annotations

import copy
import json

import pytest

from configtrail.policy.wire import SECRET_SIG as SECRET
from configtrail.policy.wire import SIG_KEY as SIG
from tests.policies.helpers import edit_policy, find, set_prop

CIPHERTEXT = {SIG: SECRET, "ciphertext": "v1:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAA"}
MASK = "[secret]"


def _hide(type_, name, key, value):
    return lambda doc: set_prop(find(doc, type_, name), key, value)


def _channel_bucket_secret(doc):
    channel = find(doc, "aws:cfg/deliveryChannel:DeliveryChannel", "us-west-2")
    set_prop(channel, "s3BucketName", CIPHERTEXT)
    channel.pop("propertyDependencies", None)


# (id, env, document, mutation, policy that must fail closed)
CASES = [
    (
        "public-access-flag-ciphertext",
        "prod",
        "stack",
        _hide(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "archive",
            "blockPublicAcls",
            CIPHERTEXT,
        ),
        "aws-s3-bucket-public-access-blocked",
    ),
    (
        "bucket-policy-masked",
        "prod",
        "preview",
        _hide("aws:s3/bucketPolicy:BucketPolicy", "vault", "policy", MASK),
        "aws-s3-bucket-tls-only",
    ),
    (
        "recorder-role-trust-ciphertext",
        "customrole",
        "stack",
        _hide("aws:iam/role:Role", "recorder-role", "assumeRolePolicy", CIPHERTEXT),
        "aws-iam-role-config-trust",
    ),
    (
        "inline-policy-masked",
        "customrole",
        "stack",
        _hide("aws:iam/rolePolicy:RolePolicy", "recorder-role", "policy", MASK),
        "aws-iam-policy-no-admin-statements",
    ),
    (
        "recording-group-ciphertext",
        "prod",
        "stack",
        _hide("aws:cfg/recorder:Recorder", "us-east-1", "recordingGroup", CIPHERTEXT),
        "aws-cfg-recorder-recording-scope",
    ),
    (
        "retention-masked",
        "staging",
        "preview",
        _hide(
            "aws:cfg/retentionConfiguration:RetentionConfiguration",
            "us-east-1",
            "retentionPeriodInDays",
            MASK,
        ),
        "aws-cfg-retentionconfiguration-minimum-days",
    ),
    (
        "channel-bucket-ciphertext",
        "prod",
        "stack",
        _channel_bucket_secret,
        "aws-cfg-recorder-delivery-channel",
    ),
    (
        "recorder-region-masked",
        "prod",
        "preview",
        _hide("aws:cfg/recorder:Recorder", "eu-west-1", "region", MASK),
        "aws-provider-region-known",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "kind", "mutate", "policy"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_hidden_security_value_fails_closed(plan_documents, run, env, kind, mutate, policy):
    document = copy.deepcopy(plan_documents[env][kind])
    assert not [f for f in run(document, env).findings if f.policy == policy]
    mutate(document)
    report = run(document, env)
    found = [f for f in report.findings if f.policy == policy]
    assert found and all(f.level == "mandatory" for f in found), report.findings
    assert any("secret" in f.message and "--show-secrets" in f.message for f in found), found
    assert not any(f.unknown_downgrade for f in found)
    assert not report.passed


@pytest.mark.slow
def test_a_secret_the_file_shows_is_judged(plan_documents, run):
    """`pulumi stack export --show-secrets` writes `plaintext`: the pack sees and judges it."""
    document = copy.deepcopy(plan_documents["customrole"]["stack"])
    state = find(document, "aws:iam/rolePolicy:RolePolicy", "recorder-role")
    edit_policy(
        state,
        lambda doc: doc["Statement"].append({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    )
    for side in ("inputs", "outputs"):
        state[side]["policy"] = {SIG: SECRET, "plaintext": json.dumps(state[side]["policy"])}
    report = run(document, "customrole")
    [found] = [f for f in report.findings if f.policy == "aws-iam-policy-no-admin-statements"]
    assert found.level == "mandatory" and "allows every action on every resource" in found.message
