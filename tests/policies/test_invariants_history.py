"""The history invariants against the estate (issue 10, item 1: where history goes, the
write-once copy, what is recorded, legacy inputs): history-losing edits of the real prod plan
(standalone, vault, KMS, notifications, three regions), each caught by exactly the policy that
names it, at the expected level — and the unmutated plan does not trip it. Same harness as
test_mutations.py (the real pack over the Analyzer protocol)."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from configtrail import estate
from configtrail.policy import stack_config
from tests.policies.conftest import STACK_FILES
from tests.policies.helpers import (
    assert_only_policy_catches,
    drop,
    find,
    resources,
    set_prop,
)

BUCKET = "aws:s3/bucket:Bucket"
CHANNEL = "aws:cfg/deliveryChannel:DeliveryChannel"
RECORDER = "aws:cfg/recorder:Recorder"
STATUS = "aws:cfg/recorderStatus:RecorderStatus"
RULE = "aws:cfg/rule:Rule"
KEY = "aws:kms/key:Key"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
ARCHIVE = "configtrail-prod-archive-210000000003-us-east-1"


def _rename_archive(new_name):
    """Every reference to the archive renamed at once (bucket, companions, policies, channels):
    a consistent stack whose history goes to a different bucket."""

    def change(doc):
        renamed = json.loads(json.dumps(doc).replace(ARCHIVE, new_name))
        doc.clear()
        doc.update(renamed)

    return change


def _second_channel(doc):
    channel = copy.deepcopy(find(doc, CHANNEL, "us-east-1"))
    channel["urn"] = channel["urn"].replace("recording-us-east-1-channel", "extra-channel")
    if "steps" in doc:  # a preview: one more step, like the channel's own
        step = next(s for s in doc["steps"] if (s.get("newState") or {}).get("type") == CHANNEL)
        doc["steps"].append({**copy.deepcopy(step), "urn": channel["urn"], "newState": channel})
    else:
        resources(doc).append(channel)


def _foreign(key, value):
    def change(doc):
        for channel in [s for s in resources(doc) if s["type"] == CHANNEL]:
            set_prop(channel, key, value)
            channel.get("propertyDependencies", {}).pop(key, None)

    return change


def _nested(state, key, change):
    for side in ("inputs", "outputs"):
        if key in state.get(side, {}):
            change(state[side][key])


def _drop_region(region):
    def change(doc):
        for kind in (RECORDER, CHANNEL, STATUS):
            drop(doc, kind, region)

    return change


def _drop_all(kind):
    def change(doc):
        for state in [s for s in resources(doc) if s["type"] == kind]:
            drop(doc, kind, state["urn"].rsplit("::", 1)[1])

    return change


def _log_elsewhere(doc):
    logging = find(doc, LOGGING, "vault")
    set_prop(logging, "targetBucket", "someone-elses-logs")
    logging.get("propertyDependencies", {}).pop("targetBucket", None)


# (id, mutation, expected policy, expected level)
ROWS = [
    (
        "archive-replaced-by-new-bucket",
        _rename_archive("configtrail-prod-history-210000000003-us-east-1"),
        "aws-cfg-deliverychannel-archive-bucket",
    ),
    (
        "archive-renamed-into-log-exemption",
        _rename_archive("configtrail-prod-logs-archive-210000000003-us-east-1"),
        "aws-cfg-deliverychannel-archive-bucket",
    ),
    ("second-channel-in-region", _second_channel, "aws-cfg-deliverychannel-one-per-region"),
    (
        "channel-kms-key-outside-estate",
        _foreign("s3KmsKeyArn", "arn:aws:kms:us-east-1:999999999999:key/abc"),
        "aws-cfg-deliverychannel-estate-accounts",
    ),
    (
        "channel-topic-outside-estate",
        _foreign("snsTopicArn", "arn:aws:sns:us-east-1:999999999999:elsewhere"),
        "aws-cfg-deliverychannel-estate-accounts",
    ),
    (
        "archive-access-logging-removed",
        lambda d: drop(d, LOGGING, "archive"),
        "aws-s3-bucket-access-logging",
    ),
    ("vault-access-logs-elsewhere", _log_elsewhere, "aws-s3-bucket-access-logging"),
    (
        "vault-replication-removed",
        lambda d: drop(d, REPLICATION, "vault"),
        "aws-s3-bucket-vault-replication",
    ),
    (
        "vault-replication-disabled",
        lambda d: _nested(
            find(d, REPLICATION), "rules", lambda rules: rules[0].update(status="Disabled")
        ),
        "aws-s3-bucket-vault-replication",
    ),
    (
        "vault-replication-to-other-bucket",
        lambda d: _nested(
            find(d, REPLICATION),
            "rules",
            lambda rules: rules[0]["destination"].update(bucket="arn:aws:s3:::other-bucket"),
        ),
        "aws-s3-bucket-vault-replication",
    ),
    (
        "vault-retention-lowered",
        lambda d: _nested(
            find(d, LOCK, "vault"), "rule", lambda r: r["defaultRetention"].update(days=30)
        ),
        "aws-s3-bucket-vault-object-lock",
    ),
    (
        "vault-lock-governance",
        lambda d: _nested(
            find(d, LOCK, "vault"),
            "rule",
            lambda r: r["defaultRetention"].update(mode="GOVERNANCE"),
        ),
        "aws-s3-bucket-vault-object-lock",
    ),
    (
        "archive-key-unprotected",
        lambda d: find(d, KEY, "us-east-1").pop("protect"),
        "aws-kms-key-history-protected",
    ),
    ("region-loses-recording", _drop_region("eu-west-1"), "aws-cfg-recorded-regions-complete"),
    ("all-rules-removed", _drop_all(RULE), "aws-cfg-rule-selected-rules-present"),
    (
        "legacy-inline-versioning",
        lambda d: set_prop(find(d, BUCKET, "archive"), "versioning", {"enabled": True}),
        "aws-s3-bucket-no-legacy-inline-arguments",
    ),
    (
        "legacy-inline-lifecycle-rules",
        lambda d: set_prop(
            find(d, BUCKET, "vault"), "lifecycleRules", [{"enabled": True, "id": "old"}]
        ),
        "aws-s3-bucket-no-legacy-inline-arguments",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["stack", "preview"])
@pytest.mark.parametrize(
    ("mutate", "policy"), [row[1:] for row in ROWS], ids=[row[0] for row in ROWS]
)
def test_history_loss_is_caught(plan_documents, run, mutate, policy, kind):
    assert_only_policy_catches(run, plan_documents["prod"][kind], "prod", mutate, policy)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, {"lockMode": "COMPLIANCE", "minRetentionDays": 2557, "enforcementLevel": None}),
        (
            {"configtrail:vaultLockMode": "GOVERNANCE"},
            {"lockMode": "COMPLIANCE", "minRetentionDays": 365, "enforcementLevel": "advisory"},
        ),
        (
            {"configtrail:vaultRetentionDays": 90, "configtrail:allowShortVaultRetention": True},
            {"lockMode": "COMPLIANCE", "minRetentionDays": 365, "enforcementLevel": "advisory"},
        ),
    ],
    ids=["compliance-seven-years", "governance-chosen", "short-vault-allowed"],
)
def test_a_weaker_vault_choice_is_reported_as_risky(tmp_path, changes, expected):
    """The cross-key rule in the pack: a stack file that chooses GOVERNANCE or (explicitly) a vault
    shorter than its retention gets the Object Lock policy as advisory with the secure floor, so
    every preview says the choice is risky; the stack's own values are the threshold otherwise."""
    document = yaml.safe_load(STACK_FILES.joinpath("Pulumi.prod.yaml").read_text(encoding="utf-8"))
    document["config"].update(changes)
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    the_estate = estate.load(tmp_path)
    config = stack_config.policy_config(the_estate["prod"], the_estate)[
        "aws-s3-bucket-vault-object-lock"
    ]
    assert config.get("enforcementLevel") == expected["enforcementLevel"]
    assert config["lockMode"] == expected["lockMode"]
    assert config["minRetentionDays"] == expected["minRetentionDays"]


def test_the_legacy_inputs_are_the_providers_own_deprecations():
    """Every inline argument the pinned pulumi-aws deprecates on aws.s3.Bucket (its BucketArgs
    warn "<arg> is deprecated ... Use the s3.<Resource> resource") is refused by the pack and
    names that resource, so a provider upgrade that deprecates another one fails here."""
    import inspect
    import re

    import pulumi_aws
    from configtrail_policies.legacy import DEPRECATED_INPUTS

    source = inspect.getsource(pulumi_aws.s3.BucketArgs.__init__)
    deprecated = dict(
        re.findall(r'pulumi\.log\.warn\("""(\w+) is deprecated: .*?Use .*?s3\.(\w+)', source)
    )
    assert len(deprecated) >= 10, deprecated
    for argument, resource in deprecated.items():
        camel = re.sub(r"_(\w)", lambda m: m.group(1).upper(), argument)
        assert resource in DEPRECATED_INPUTS.get(camel, ""), (argument, resource)
