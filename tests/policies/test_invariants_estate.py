"""The estate invariants on the example estate's own kinds (environments/): a member (ml-prod,
delivering to log-archive) and the archive (log-archive, accepting its members' deliveries).
Each edit of the real plan — made fresh from the program through Pulumi's mock runtime, the mocks
standing in for AWS-computed values only — is caught by exactly the policy that names it, judged
with the config `configtrail plan` derives for that stack from the real stack files."""

from __future__ import annotations

import json

import pytest

from configtrail import estate
from configtrail.plan import export, runner
from configtrail.policy import stack_config
from tests.policies.helpers import assert_only_policy_catches, edit_policy, find, set_prop

CHANNEL = "aws:cfg/deliveryChannel:DeliveryChannel"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PROVIDER = "pulumi:providers:aws"
ESTATE = estate.load()
ARCHIVE_ACCOUNT = ESTATE["log-archive"].account_id
OUTSIDER = "999999999999"  # in no stack file of the estate


@pytest.fixture(scope="module")
def estate_plans() -> dict[str, dict]:
    """{stack: stack export} of the member and the archive of the example estate."""
    return {
        name: json.loads(json.dumps(export.stack_export(runner.run(name, preview=False))))
        for name in ("ml-prod", "log-archive")
    }


def _deliver_to_the_archive_accounts_log_bucket(doc):
    """The member's channel sent to another bucket of the archive account (its access-log bucket,
    which the member cannot see in its own graph): the history leaves the write-once archive."""
    channel = find(doc, CHANNEL, "us-east-1")
    log_bucket = f"configtrail-log-archive-logs-{ARCHIVE_ACCOUNT}-us-east-1"
    set_prop(channel, "s3BucketName", log_bucket)


def _grant_outsider_reads(doc):
    def change(policy):
        policy["Statement"].append(
            {
                "Sid": "LetSomeoneRead",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{OUTSIDER}:root"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::configtrail-log-archive-archive-{ARCHIVE_ACCOUNT}"
                "-us-east-1/*",
            }
        )

    edit_policy(find(doc, POLICY, "archive"), change)


def _provider_into_the_archive_account(doc):
    set_prop(find(doc, PROVIDER), "allowedAccountIds", json.dumps([ARCHIVE_ACCOUNT]))


ROWS = [
    (
        "member-delivers-to-archive-accounts-log-bucket",
        "ml-prod",
        _deliver_to_the_archive_accounts_log_bucket,
        "aws-cfg-recorder-delivery-channel",
    ),
    (
        "member-provider-in-archive-account",
        "ml-prod",
        _provider_into_the_archive_account,
        "aws-provider-estate-account-region",
    ),
    (
        "archive-grants-account-outside-estate",
        "log-archive",
        _grant_outsider_reads,
        "aws-resource-policy-estate-principals",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("stack", "mutate", "policy"), [row[1:] for row in ROWS], ids=[row[0] for row in ROWS]
)
def test_estate_invariant_holds_on_the_example_estate(estate_plans, run, stack, mutate, policy):
    config = stack_config.policy_config(ESTATE[stack], ESTATE)
    assert_only_policy_catches(run, estate_plans[stack], config, mutate, policy)


def test_the_archive_admits_exactly_its_members():
    """The archive's derived config names its own account and its members', nobody else."""
    config = stack_config.policy_config(ESTATE["log-archive"], ESTATE)
    allowed = set(config["aws-resource-policy-estate-principals"]["allowedAccounts"])
    members = {ESTATE[name].account_id for name in ("ml-dev", "ml-prod")}
    assert allowed == {ARCHIVE_ACCOUNT} | members
