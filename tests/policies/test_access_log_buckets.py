"""Server-access-log buckets must be SSE-S3 (S3 logging cannot deliver into SSE-KMS buckets):
the KMS policy lets exactly the configured name patterns through, and nothing else."""

from __future__ import annotations

import copy

from tests.policies.conftest import env_config
from tests.policies.helpers import find, violations

POLICY = "aws-s3-bucket-default-encryption-kms"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)


def test_prod_log_buckets_pass_by_their_configured_pattern(plan_documents, run):
    report = run(plan_documents["prod"]["stack"], "prod")
    assert violations(report, POLICY) == []
    log_encryption = find(plan_documents["prod"]["stack"], ENCRYPTION, "access-logs-us-east-1")
    default = log_encryption["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]
    assert default == {"sseAlgorithm": "AES256"}, "the exempted bucket really is SSE-S3"


def test_without_the_pattern_the_log_buckets_are_violations(plan_documents, run):
    config = env_config("prod")
    config[POLICY] = {"requireKms": True}
    report = run(plan_documents["prod"]["stack"], config)
    flagged = sorted(f.urn.rsplit("::", 1)[1] for f in violations(report, POLICY))
    assert flagged == ["access-logs-us-east-1-encryption", "access-logs-us-west-2-encryption"]


def test_the_pattern_does_not_exempt_the_archive(plan_documents, run):
    document = copy.deepcopy(plan_documents["prod"]["stack"])
    state = find(document, ENCRYPTION, "archive-encryption")
    for side in ("inputs", "outputs"):
        state[side]["rules"][0]["applyServerSideEncryptionByDefault"] = {"sseAlgorithm": "AES256"}
    report = run(document, "prod")
    flagged = [f.urn.rsplit("::", 1)[1] for f in violations(report, POLICY)]
    assert flagged == ["archive-encryption"]
