"""The bootstrap program: one AWS account's GitHub OIDC provider, permissions boundaries and the
pipeline roles of the stacks in that account.

`build()` is what both the real program (`bootstrap/__main__.py`, stack `account-<id>`) and the
offline plan (`configtrail bootstrap-plan`) run. Per stack of the account: a read-only preview
role, a deploy role, and for a protected archive an archive-admin role; with a self-managed
backend the account's secrets key; with `auditRole` in the audited stack's account the audit
role. Roles are protected: deleting one by accident would stop every deploy until an
administrator runs this project again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from configtrail.bootstrap import audit, documents
from configtrail.bootstrap import settings as settings_module
from configtrail.bootstrap.settings import AUDIT_GITHUB_ENVIRONMENT, AccountBootstrap
from configtrail.stack import names
from configtrail.stack.base import child, json_policy

PROJECT = "configtrail-bootstrap"
PROJECT_DIR = Path(__file__).resolve().parents[3] / "bootstrap"


def backend_of(account: AccountBootstrap) -> documents.Backend | None:
    """The self-managed backend as this account's roles reach it (None: Pulumi Cloud)."""
    if account.state_bucket is None:
        return None
    return documents.Backend(
        state_bucket=account.state_bucket,
        secrets_key_alias=account.settings.secrets_key_alias,
        region=account.region,
    )


class PipelineBoundaries(pulumi.ComponentResource):
    """The account's two permissions boundaries: one on every pipeline role, one on every role a
    stack creates. Exposes `deploy_arn` and `workload_arn`."""

    def __init__(
        self, name: str, account: AccountBootstrap, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("configtrail:bootstrap:PipelineBoundaries", name, None, opts)
        invoke = pulumi.InvokeOutputOptions(provider=opts.provider if opts else None)
        partition = aws.get_partition_output(opts=invoke).partition
        prefix = account.settings.role_prefix
        self.deploy_arn = aws.iam.Policy(
            f"{name}-deploy",
            name=settings_module.deploy_boundary_name(prefix),
            description="ConfigTrail pipeline: boundary of every pipeline role",
            policy=json_policy(
                partition,
                build=lambda part: documents.deploy_boundary(part, account.account_id, prefix),
            ),
            opts=child(self, protect=True),
        ).arn
        self.workload_arn = aws.iam.Policy(
            f"{name}-workload",
            name=names.WORKLOAD_BOUNDARY,
            description="ConfigTrail: boundary of every role a ConfigTrail stack creates",
            policy=json_policy(partition, build=lambda _: documents.workload_boundary()),
            opts=child(self, protect=True),
        ).arn
        self.register_outputs({"deployArn": self.deploy_arn, "workloadArn": self.workload_arn})


class StackPipelineRoles(pulumi.ComponentResource):
    """One stack's roles: preview (pull requests, default branch), deploy (its GitHub
    environment) and, for a protected archive, archive-admin (`<stack>-archive-admin`).
    Exposes `preview_arn`, `deploy_arn` and `archive_admin_arn` (or None)."""

    def __init__(
        self,
        name: str,
        account: AccountBootstrap,
        stack: str,
        provider_arn: pulumi.Input[str],
        boundaries: PipelineBoundaries,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("configtrail:bootstrap:StackPipelineRoles", name, None, opts)
        invoke = pulumi.InvokeOutputOptions(provider=opts.provider if opts else None)
        partition = aws.get_partition_output(opts=invoke).partition
        settings = account.settings
        repo = settings.repository
        acct = account.account_id
        backend = backend_of(account)
        protected = stack in [s.name for s in account.protected_archives()]

        def role(suffix: str, role_name: str, subjects: list[str], what: str, policy) -> Any:
            created = aws.iam.Role(
                f"{name}-{suffix}",
                name=role_name,
                description=f"ConfigTrail pipeline: {what} {stack} from {repo}",
                assume_role_policy=json_policy(
                    provider_arn, build=lambda arn: documents.github_trust(arn, subjects)
                ),
                max_session_duration=settings.session_seconds,
                permissions_boundary=boundaries.deploy_arn,
                opts=child(self, protect=True),
            )
            aws.iam.RolePolicy(
                f"{name}-{suffix}-policy",
                role=created.name,
                policy=json_policy(partition, boundaries.workload_arn, build=policy),
                opts=child(self),
            )
            return created.arn

        self.preview_arn = role(
            "preview",
            settings_module.preview_role_name(settings.role_prefix, stack),
            [
                documents.pull_request_subject(repo),
                documents.branch_subject(repo, settings.default_branch),
            ],
            "read-only previews and drift checks of",
            lambda part, _: documents.preview_permissions(part, acct, stack, backend),
        )
        self.deploy_arn = role(
            "deploy",
            settings_module.deploy_role_name(settings.role_prefix, stack),
            [documents.environment_subject(repo, stack)],
            f"deploys (environment {stack})",
            lambda part, boundary: documents.deploy_permissions(
                part, acct, stack, boundary, backend, protect_archive=protected
            ),
        )
        self.archive_admin_arn = None
        if protected:
            environment = settings_module.archive_admin_environment(stack)
            self.archive_admin_arn = role(
                "archive-admin",
                settings_module.archive_admin_role_name(settings.role_prefix, stack),
                [documents.environment_subject(repo, environment)],
                f"changes the protected archive settings (environment {environment}) of",
                lambda part, boundary: documents.deploy_permissions(
                    part, acct, stack, boundary, backend, protect_archive=False
                ),
            )
        self.register_outputs(
            {
                "previewArn": self.preview_arn,
                "deployArn": self.deploy_arn,
                "archiveAdminArn": self.archive_admin_arn,
            }
        )


class AuditReadAccess(pulumi.ComponentResource):
    """The read-only role of the monthly audit report (.github/workflows/audit-report.yml).

    Trusts only jobs in the GitHub environment `audit`; reads the recorded history of the audited
    stack's archive and can do nothing else (documents.audit_permissions). Exposes `role_arn` and
    `archive` ({stack, source, region}: the workflow's variables).
    """

    def __init__(
        self,
        name: str,
        account: AccountBootstrap,
        provider_arn: pulumi.Input[str],
        archive: audit.Archive,
        boundary_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("configtrail:bootstrap:AuditReadAccess", name, None, opts)
        invoke = pulumi.InvokeOutputOptions(provider=opts.provider if opts else None)
        partition = aws.get_partition_output(opts=invoke).partition
        settings = account.settings
        repo = settings.repository
        acct = account.account_id
        role = aws.iam.Role(
            f"{name}-role",
            name=settings_module.audit_role_name(settings.role_prefix),
            description=f"ConfigTrail audit report: reads the archived history of {archive.env} "
            f"for {repo} (environment {AUDIT_GITHUB_ENVIRONMENT})",
            assume_role_policy=json_policy(
                provider_arn,
                build=lambda arn: documents.github_trust(
                    arn, [documents.environment_subject(repo, AUDIT_GITHUB_ENVIRONMENT)]
                ),
            ),
            max_session_duration=settings.session_seconds,
            permissions_boundary=boundary_arn,
            opts=child(self, protect=True),
        )
        aws.iam.RolePolicy(
            f"{name}-read-history",
            role=role.name,
            policy=json_policy(
                partition,
                build=lambda part: documents.audit_permissions(part, acct, [archive]),
            ),
            opts=child(self),
        )
        self.role_arn = role.arn
        self.archive = {
            "stack": archive.env,
            "source": archive.source(acct),
            "region": archive.region,
        }
        self.register_outputs({"roleArn": self.role_arn, "archive": self.archive})


def build(account: AccountBootstrap) -> dict[str, Any]:
    """Register everything of one account; return the stack outputs (what GitHub needs)."""
    provider = aws.Provider(
        "aws",
        region=account.region,
        allowed_account_ids=[account.account_id],
        default_tags={"tags": account.tags} if account.tags else None,
    )
    opts = pulumi.ResourceOptions(provider=provider)
    invoke = pulumi.InvokeOutputOptions(provider=provider)
    partition = aws.get_partition_output(opts=invoke).partition
    if account.oidc_provider == "create":
        provider_arn = aws.iam.OpenIdConnectProvider(
            "github-oidc-provider",
            url=documents.GITHUB_OIDC_URL,
            client_id_lists=[documents.AUDIENCE],
            opts=pulumi.ResourceOptions(provider=provider, protect=True, retain_on_delete=True),
        ).arn
    else:
        provider_arn = partition.apply(lambda p: documents.provider_arn(p, account.account_id))
    boundaries = PipelineBoundaries("boundaries", account, opts)
    outputs: dict[str, Any] = {
        "accountId": account.account_id,
        "oidcProviderArn": provider_arn,
        "workloadBoundaryArn": boundaries.workload_arn,
    }
    stacks: dict[str, Any] = {}
    backend = backend_of(account)
    for stack in account.stack_names:
        roles = StackPipelineRoles(f"stack-{stack}", account, stack, provider_arn, boundaries, opts)
        # Variables of the stack's GitHub environment(s) (README, "Pipeline").
        entry: dict[str, Any] = {
            "previewRoleArn": roles.preview_arn,
            "deployRoleArn": roles.deploy_arn,
        }
        if roles.archive_admin_arn is not None:
            entry["archiveAdminRoleArn"] = roles.archive_admin_arn
        if backend is not None:
            entry["secretsProvider"] = backend.secrets_provider(stack)
        stacks[stack] = entry
    outputs["stacks"] = stacks
    if backend is not None:
        key = aws.kms.Key(
            "pulumi-secrets-key",
            description="ConfigTrail: Pulumi secrets of this account's stacks (one encryption "
            "context per stack)",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=json_policy(
                partition, build=lambda part: documents.secrets_key_policy(part, account.account_id)
            ),
            opts=pulumi.ResourceOptions(provider=provider, protect=True, retain_on_delete=True),
        )
        aws.kms.Alias(
            "pulumi-secrets-alias",
            name=account.settings.secrets_key_alias,
            target_key_id=key.key_id,
            opts=opts,
        )
        outputs["secretsKeyArn"] = key.arn
    if account.audit_stack is not None:
        [archive] = audit.archives([account.audit_stack.name])
        reader = AuditReadAccess(
            "audit", account, provider_arn, archive, boundaries.deploy_arn, opts
        )
        # Variables of the GitHub environment `audit`: AUDIT_ROLE_ARN, AUDIT_ARCHIVE,
        # AUDIT_AWS_REGION.
        outputs["auditRoleArn"] = reader.role_arn
        outputs["auditArchive"] = reader.archive
    return outputs


def main() -> None:
    """Entry point of the real program: the account comes from the stack name (account-<id>),
    everything else from bootstrap/pipeline.yaml and environments/."""
    from configtrail.settings import SettingsError

    # The engine passes the stack's config to the program in the environment (public API).
    raw = pulumi.runtime.get_config_env()
    stray = sorted(key for key in raw if key.startswith(f"{PROJECT}:"))
    if stray:
        raise SettingsError(
            [
                f"stack {pulumi.get_stack()}: {key}: bootstrap settings live in "
                "bootstrap/pipeline.yaml, not in stack config; remove it with "
                f"`pulumi config rm {key}`"
                for key in stray
            ]
        )
    account = settings_module.account_of_stack(pulumi.get_stack(), settings_module.load_accounts())
    for key, value in build(account).items():
        pulumi.export(key, value)
