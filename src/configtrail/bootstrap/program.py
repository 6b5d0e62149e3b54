"""The bootstrap program: GitHub's OIDC provider and the pipeline's roles in one AWS account.

`build()` is what both the real program (`bootstrap/__main__.py`) and the offline plan
(`configtrail bootstrap-plan`) run. With `auditRole` (the default) it adds the read-only role of
the monthly audit report. The roles are protected: deleting one by accident would stop
every deploy until an administrator runs this project again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from configtrail.bootstrap import audit, documents
from configtrail.bootstrap import settings as settings_module
from configtrail.bootstrap.settings import (
    AUDIT_GITHUB_ENVIRONMENT,
    BootstrapSettings,
    audit_role_name,
    deploy_role_name,
    preview_role_name,
)
from configtrail.stack.base import child, json_policy

PROJECT = "configtrail-bootstrap"
PROJECT_DIR = Path(__file__).resolve().parents[3] / "bootstrap"


class GitHubDeployAccess(pulumi.ComponentResource):
    """The OIDC provider, the read-only preview role and one deploy role per environment.

    Exposes `provider_arn`, `preview_role_arn` and `deploy_role_arns` (environment -> ARN).
    """

    def __init__(
        self, name: str, settings: BootstrapSettings, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("configtrail:bootstrap:GitHubDeployAccess", name, None, opts)
        provider = opts.provider if opts else None
        invoke = pulumi.InvokeOutputOptions(provider=provider)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition
        repo = settings.repository

        if settings.oidc_provider == "create":
            self.provider_arn = aws.iam.OpenIdConnectProvider(
                f"{name}-oidc-provider",
                url=documents.GITHUB_OIDC_URL,
                client_id_lists=[documents.AUDIENCE],
                opts=child(self, protect=True),
            ).arn
        else:
            self.provider_arn = pulumi.Output.all(partition, account).apply(
                lambda v: documents.provider_arn(*v)
            )

        preview = aws.iam.Role(
            f"{name}-preview",
            name=preview_role_name(settings.role_prefix),
            description=f"ConfigTrail pipeline: read-only previews and drift checks for {repo}",
            assume_role_policy=json_policy(
                self.provider_arn,
                build=lambda arn: documents.github_trust(
                    arn,
                    [
                        documents.pull_request_subject(repo),
                        documents.branch_subject(repo, settings.default_branch),
                    ],
                ),
            ),
            max_session_duration=documents.PREVIEW_SESSION_SECONDS,
            opts=child(self, protect=True),
        )
        aws.iam.RolePolicy(
            f"{name}-preview-read",
            role=preview.name,
            policy=json_policy(
                partition,
                account,
                build=lambda part, acct: documents.preview_permissions(
                    part,
                    acct,
                    settings.environments,
                    settings.state_bucket,
                    settings.secrets_key_arn,
                ),
            ),
            opts=child(self),
        )
        self.preview_role_arn = preview.arn

        self.deploy_role_arns: dict[str, pulumi.Output[str]] = {}
        for env in settings.environments:
            role = aws.iam.Role(
                f"{name}-deploy-{env}",
                name=deploy_role_name(settings.role_prefix, env),
                description=f"ConfigTrail pipeline: deploys {env} from {repo} (environment {env})",
                assume_role_policy=json_policy(
                    self.provider_arn,
                    build=lambda arn, env=env: documents.github_trust(
                        arn, [documents.environment_subject(repo, env)]
                    ),
                ),
                max_session_duration=settings.deploy_session_seconds,
                opts=child(self, protect=True),
            )
            aws.iam.RolePolicy(
                f"{name}-deploy-{env}-manage",
                role=role.name,
                policy=json_policy(
                    partition,
                    account,
                    build=lambda part, acct, env=env: documents.deploy_permissions(
                        part, acct, env, settings.state_bucket, settings.secrets_key_arn
                    ),
                ),
                opts=child(self),
            )
            self.deploy_role_arns[env] = role.arn

        self.register_outputs(
            {
                "providerArn": self.provider_arn,
                "previewRoleArn": self.preview_role_arn,
                "deployRoleArns": self.deploy_role_arns,
            }
        )


class AuditReadAccess(pulumi.ComponentResource):
    """The read-only role of the monthly audit report (.github/workflows/audit-report.yml).

    Trusts only jobs in the GitHub environment `audit`; reads the recorded history of the audited
    environments' archives and can do nothing else (documents.audit_permissions). Exposes
    `role_arn` and `archives` (environment -> {source, region}, the workflow's variables).
    """

    def __init__(
        self,
        name: str,
        settings: BootstrapSettings,
        provider_arn: pulumi.Input[str],
        archives: list[audit.Archive],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("configtrail:bootstrap:AuditReadAccess", name, None, opts)
        provider = opts.provider if opts else None
        invoke = pulumi.InvokeOutputOptions(provider=provider)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition
        repo = settings.repository
        audited = ", ".join(archive.env for archive in archives)

        role = aws.iam.Role(
            f"{name}-role",
            name=audit_role_name(settings.role_prefix),
            description=f"ConfigTrail audit report: reads the archived history of {audited} "
            f"for {repo} (environment {AUDIT_GITHUB_ENVIRONMENT})",
            assume_role_policy=json_policy(
                provider_arn,
                build=lambda arn: documents.github_trust(
                    arn, [documents.environment_subject(repo, AUDIT_GITHUB_ENVIRONMENT)]
                ),
            ),
            max_session_duration=audit.SESSION_SECONDS,
            opts=child(self, protect=True),
        )
        aws.iam.RolePolicy(
            f"{name}-read-history",
            role=role.name,
            policy=json_policy(
                partition,
                account,
                build=lambda part, acct: documents.audit_permissions(part, acct, archives),
            ),
            opts=child(self),
        )
        self.role_arn = role.arn
        self.archives = account.apply(
            lambda acct: {
                archive.env: {"source": archive.source(acct), "region": archive.region}
                for archive in archives
            }
        )
        self.register_outputs({"roleArn": self.role_arn, "archives": self.archives})


def build(settings: BootstrapSettings) -> dict[str, Any]:
    """Register everything; return the stack outputs (the values the repository needs)."""
    provider = aws.Provider(
        "aws",
        region=settings.home_region,
        default_tags={"tags": settings.tags} if settings.tags else None,
    )
    access = GitHubDeployAccess("github", settings, pulumi.ResourceOptions(provider=provider))
    outputs: dict[str, Any] = {
        "oidcProviderArn": access.provider_arn,
        # Repository variable AWS_PREVIEW_ROLE_ARN.
        "previewRoleArn": access.preview_role_arn,
        # Variable AWS_DEPLOY_ROLE_ARN of each GitHub environment.
        "deployRoleArns": access.deploy_role_arns,
    }
    if settings.audit_role:
        reader = AuditReadAccess(
            "audit",
            settings,
            access.provider_arn,
            audit.archives(settings.audited_environments),
            pulumi.ResourceOptions(provider=provider),
        )
        # Repository variable AUDIT_ROLE_ARN.
        outputs["auditRoleArn"] = reader.role_arn
        # AUDIT_ARCHIVE (source) and AUDIT_AWS_REGION (region) of the archive to report on.
        outputs["auditArchives"] = reader.archives
    return outputs


def stack_file(stack: str) -> Path:
    return PROJECT_DIR / f"Pulumi.{stack.rsplit('/', 1)[-1]}.yaml"


def main() -> None:
    """Entry point of the real program: validate the engine's config, then register."""
    from pulumi.runtime import config as runtime_config

    stack = pulumi.get_stack()
    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    path = stack_file(stack)
    source = str(path.relative_to(PROJECT_DIR.parent)) if path.exists() else f"stack {stack}"
    settings = settings_module.from_config(raw, source)
    for key, value in build(settings).items():
        pulumi.export(key, value)
