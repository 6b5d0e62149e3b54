"""How the recording stack names what it creates in AWS, in one place: the stack itself, the
bootstrap project's audit role and the history tools all derive names from here."""

from __future__ import annotations


def resource_prefix(stack: str) -> str:
    """Prefix of every named resource of a stack (the last part of a qualified stack name)."""
    return f"configtrail-{stack.rsplit('/', 1)[-1]}"


def bucket_name(stack: str, kind: str, account_id: str, region: str) -> str:
    """A history bucket: `configtrail-<stack>-<kind>-<account>-<region>` (kind: archive, vault,
    logs, athena), globally unique and at most 63 characters for the stacks settings allow."""
    return f"{resource_prefix(stack)}-{kind}-{account_id}-{region}"


def key_alias(stack: str, region: str) -> str:
    """Alias of the stack's ConfigTrail customer key in one region."""
    return f"alias/{resource_prefix(stack)}-{region}"


def recorder_name(stack: str) -> str:
    """Default name of the stack's recorder and delivery channel in each region. AWS allows one
    of each per account and region, and Put* calls with the same name overwrite: a name that
    carries the stack makes a second stack in the same account fail loudly instead."""
    return resource_prefix(stack)


def rule_name(stack: str, rule: str) -> str:
    """A Config rule of the stack: `configtrail-<stack>-<rule>` (rule names are per account and
    region, so two stacks' rules never overwrite each other)."""
    return f"{resource_prefix(stack)}-{rule}"


def aggregator_name(stack: str) -> str:
    """The organization aggregator of an aggregator stack."""
    return resource_prefix(stack)


# The Pulumi project of the stacks (infra/Pulumi.yaml): state paths and stack names use it.
PROJECT = "configtrail"
# The permissions boundary every role a stack creates carries. The bootstrap project creates this
# managed policy in each account (configtrail/bootstrap/documents.workload_boundary), and the
# pipeline's deploy roles may create only roles that carry it.
WORKLOAD_BOUNDARY = "configtrail-pipeline-boundary"


def workload_boundary_arn(partition: str, account_id: str) -> str:
    return f"arn:{partition}:iam::{account_id}:policy/{WORKLOAD_BOUNDARY}"
