"""An AI workload as a team would write it with pulumi-aws v7: a training-data bucket, a SageMaker
notebook, model, endpoint configuration and Studio domain, a Bedrock guardrail, a managed
knowledge base with its data source, an agent with the guardrail attached, and model invocation
logging — every one configured to pass the AI control catalog.

`build(variant)` registers the compliant stack, or (variant = a control id) the same stack with
exactly that control broken the way teams break it, so the AI workload pack can be shown to block
each one. VARIANTS lists them; the ids are the catalog's.
"""

from __future__ import annotations

import json

import pulumi_aws as aws

SUBNETS = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
SECURITY_GROUPS = ["sg-0a1b2c3d4e5f60003"]
VPC_ID = "vpc-0a1b2c3d4e5f60004"
CONTENT_CATEGORIES = ("HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT")

VARIANTS = (
    "compliant",
    "sagemaker-notebook-no-direct-internet",
    "sagemaker-notebook-no-root-access",
    "sagemaker-notebook-in-vpc",
    "sagemaker-notebook-kms",
    "sagemaker-endpoint-config-kms",
    "sagemaker-model-network-isolation",
    "sagemaker-model-in-vpc",
    "sagemaker-domain-vpc-only",
    "bedrock-guardrail-content-filters",
    "bedrock-guardrail-contextual-grounding",
    "bedrock-guardrail-customer-key",
    "bedrock-knowledge-base-customer-key",
    "bedrock-data-source-customer-key",
    "bedrock-agent-guardrail",
    "bedrock-model-invocation-logging",
    "training-data-bucket-versioned",
    "training-data-bucket-encrypted",
    "training-data-bucket-not-public",
)


def _role(name: str, service: str) -> aws.iam.Role:
    return aws.iam.Role(
        name,
        assume_role_policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"Service": service},
                    }
                ],
            }
        ),
    )


def _bucket(name: str, key: aws.kms.Key, broken: str) -> aws.s3.Bucket:
    bucket = aws.s3.Bucket(name)
    if broken != "training-data-bucket-versioned":
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
        )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        rules=[
            {
                "apply_server_side_encryption_by_default": (
                    {"sse_algorithm": "AES256"}
                    if broken == "training-data-bucket-encrypted"
                    else {"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn}
                ),
                "bucket_key_enabled": True,
            }
        ],
    )
    aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=broken != "training-data-bucket-not-public",
        ignore_public_acls=True,
        restrict_public_buckets=broken != "training-data-bucket-not-public",
    )
    return bucket


def _content_filters(broken: str) -> list[dict]:
    filters = [
        {"type": c, "input_strength": "HIGH", "output_strength": "HIGH"} for c in CONTENT_CATEGORIES
    ]
    if broken == "bedrock-guardrail-content-filters":
        filters[0]["input_strength"] = "LOW"  # HATE, below the allowed strengths
    filters.append({"type": "PROMPT_ATTACK", "input_strength": "HIGH", "output_strength": "NONE"})
    return filters


def build(variant: str = "compliant") -> dict:
    """Register the example stack; `variant` is "compliant" or the id of the control to break."""
    if variant not in VARIANTS:
        raise ValueError(
            f"config ai-workload:variant: {variant!r} is not a variant; allowed: "
            + ", ".join(VARIANTS)
        )
    broken = variant
    key = aws.kms.Key("workload-key", description="AI workload data", enable_key_rotation=True)
    sagemaker_role = _role("sagemaker-execution", "sagemaker.amazonaws.com")
    bedrock_role = _role("bedrock-execution", "bedrock.amazonaws.com")
    training = _bucket("training-data", key, broken)
    logs = _bucket("invocation-logs", key, "")

    notebook = {
        "instance_type": "ml.t3.medium",
        "role_arn": sagemaker_role.arn,
        "direct_internet_access": "Disabled",
        "root_access": "Disabled",
        "subnet_id": SUBNETS[0],
        "security_groups": SECURITY_GROUPS,
        "kms_key_id": key.arn,
    }
    if broken == "sagemaker-notebook-no-direct-internet":
        del notebook["direct_internet_access"]  # the provider's default is Enabled
    if broken == "sagemaker-notebook-no-root-access":
        notebook["root_access"] = "Enabled"
    if broken == "sagemaker-notebook-in-vpc":
        del notebook["subnet_id"], notebook["security_groups"]
    if broken == "sagemaker-notebook-kms":
        del notebook["kms_key_id"]
    aws.sagemaker.NotebookInstance("research-notebook", **notebook)

    model = aws.sagemaker.Model(
        "classifier",
        execution_role_arn=sagemaker_role.arn,
        primary_container={
            "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/classifier:1.4.2",
            "model_data_url": training.bucket.apply(lambda b: f"s3://{b}/models/model.tar.gz"),
        },
        enable_network_isolation=broken != "sagemaker-model-network-isolation",
        vpc_config=None
        if broken == "sagemaker-model-in-vpc"
        else {
            "subnets": SUBNETS,
            "security_group_ids": SECURITY_GROUPS,
        },
    )
    aws.sagemaker.EndpointConfiguration(
        "classifier-endpoint",
        production_variants=[
            {
                "variant_name": "primary",
                "model_name": model.name,
                "initial_instance_count": 2,
                "instance_type": "ml.m5.large",
            }
        ],
        kms_key_arn=None if broken == "sagemaker-endpoint-config-kms" else key.arn,
    )
    aws.sagemaker.Domain(
        "studio",
        domain_name="ml-studio",
        auth_mode="IAM",
        vpc_id=VPC_ID,
        subnet_ids=SUBNETS,
        default_user_settings={
            "execution_role": sagemaker_role.arn,
            "security_groups": SECURITY_GROUPS,
        },
        app_network_access_type=(
            "PublicInternetOnly" if broken == "sagemaker-domain-vpc-only" else "VpcOnly"
        ),
        kms_key_id=key.arn,
    )

    grounding = [{"type": "GROUNDING", "threshold": 0.8}, {"type": "RELEVANCE", "threshold": 0.8}]
    if broken == "bedrock-guardrail-contextual-grounding":
        grounding = [{"type": "GROUNDING", "threshold": 0.3}, grounding[1]]
    guardrail = aws.bedrock.Guardrail(
        "assistant-guardrail",
        name="assistant-guardrail",
        blocked_input_messaging="Sorry, this request is not allowed.",
        blocked_outputs_messaging="Sorry, this response was blocked.",
        content_policy_config={"filters_configs": _content_filters(broken)},
        contextual_grounding_policy_config={"filters_configs": grounding},
        kms_key_arn=None if broken == "bedrock-guardrail-customer-key" else key.arn,
        tags={"ai-grounding-check": "required"},
    )
    guardrail_version = aws.bedrock.GuardrailVersion(
        "assistant-guardrail-v1", guardrail_arn=guardrail.guardrail_arn, description="reviewed"
    )

    managed = {"embedding_model_type": "MANAGED"}
    if broken != "bedrock-knowledge-base-customer-key":
        managed["server_side_encryption_configuration"] = {"kms_key_arn": key.arn}
    knowledge_base = aws.bedrock.AgentKnowledgeBase(
        "handbook",
        name="handbook",
        role_arn=bedrock_role.arn,
        knowledge_base_configuration={
            "type": "MANAGED",
            "managed_knowledge_base_configuration": managed,
        },
    )
    aws.bedrock.AgentDataSource(
        "handbook-documents",
        name="handbook-documents",
        knowledge_base_id=knowledge_base.id,
        data_source_configuration={
            "type": "S3",
            "s3_configuration": {"bucket_arn": training.arn},
        },
        server_side_encryption_configuration=(
            None if broken == "bedrock-data-source-customer-key" else {"kms_key_arn": key.arn}
        ),
    )
    aws.bedrock.AgentAgent(
        "assistant",
        agent_name="assistant",
        agent_resource_role_arn=bedrock_role.arn,
        foundation_model="anthropic.claude-3-5-sonnet-20240620-v1:0",
        instruction="Answer questions about the employee handbook, citing the documents.",
        guardrail_configurations=None
        if broken == "bedrock-agent-guardrail"
        else [
            {
                "guardrail_identifier": guardrail.guardrail_id,
                "guardrail_version": guardrail_version.version,
            }
        ],
    )
    aws.bedrockmodel.InvocationLoggingConfiguration(
        "invocation-logging",
        logging_config={
            "s3_config": {"bucket_name": logs.bucket, "key_prefix": "bedrock/"},
            "text_data_delivery_enabled": broken != "bedrock-model-invocation-logging",
            "image_data_delivery_enabled": True,
            "embedding_data_delivery_enabled": True,
        },
    )
    return {"trainingBucket": training.bucket, "guardrailArn": guardrail.guardrail_arn}
