"""Validated settings of the bootstrap project, from `bootstrap/Pulumi.<stack>.yaml`.

Every bad value stops the run before anything is registered, with one line per problem naming the
stack file, the key, the value and what is allowed (the same contract as the recording stack's
settings, configtrail/settings.py).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from configtrail import catalog, estate
from configtrail.bootstrap import audit
from configtrail.settings import SettingsError, describe, parse_config_value

NAMESPACE = "configtrail-bootstrap"
# The GitHub environment of .github/workflows/audit-report.yml: the audit role trusts only it.
AUDIT_GITHUB_ENVIRONMENT = "audit"
# IAM role names are at most 64 characters; the longest is "<rolePrefix>-deploy-<environment>".
MAX_ROLE_NAME = 64
_GITHUB_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$")
_GITHUB_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_BRANCH = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
_ROLE_PREFIX = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,56}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_KMS_ARN = re.compile(
    r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key/[A-Za-z0-9-]+|alias/[A-Za-z0-9/_-]+)$"
)


class BootstrapSettings(BaseModel):
    """Who may deploy (the GitHub repository) and into which environments of this account."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )

    home_region: str = Field(description="Region of the provider calls; read from `aws:region`.")
    github_org: str = Field(description="GitHub organisation or user that owns the repository.")
    github_repo: str = Field(description="Repository name (without the owner).")
    environments: list[str] = Field(
        default_factory=lambda: estate.stack_names(),
        description="Environments deployed into this account, each with a deploy role; each "
        "needs environments/Pulumi.<env>.yaml. Default: every environment.",
    )
    default_branch: str = Field(
        "main",
        description="Branch whose runs (scheduled drift checks, manual previews) may use the "
        "read-only role.",
    )
    oidc_provider: Literal["create", "existing"] = Field(
        "create",
        description="`create` GitHub's OIDC provider, or use the one the account already has "
        "(AWS allows one per URL).",
    )
    role_prefix: str = Field("configtrail-github", description="Prefix of the role names.")
    deploy_session_seconds: int = Field(
        7200,
        description="Maximum session of the deploy roles (3600-43200); the deploy workflow "
        "asks for this much so a long `up` keeps its credentials.",
    )
    state_bucket: str | None = Field(
        None, description="S3 bucket of a self-managed Pulumi backend; null: Pulumi Cloud."
    )
    secrets_key_arn: str | None = Field(
        None, description="KMS key (or alias) ARN of the stacks' secrets provider, if any."
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Tags on every resource.")
    audit_role: bool = Field(
        True,
        description="Create the read-only role of the monthly audit report "
        "(.github/workflows/audit-report.yml), trusting only the GitHub environment `audit`.",
    )
    audit_environments: list[str] | None = Field(
        None,
        description="Environments whose archive the audit role may read (each one of "
        "`environments`). Default: every environment of this account.",
    )

    @field_validator("audit_environments")
    @classmethod
    def _audit_environments(cls, values: list[str] | None) -> list[str] | None:
        if values is None:
            return values
        if not values:
            raise ValueError(
                "must list at least one environment (leave it out for every environment of "
                "this account, or set auditRole: false)"
            )
        if len(set(values)) != len(values):
            raise ValueError("lists an environment twice")
        return values

    @field_validator("home_region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value not in catalog.config_regions():
            raise ValueError(f"{value!r} is not an AWS region")
        return value

    @field_validator("github_org")
    @classmethod
    def _org(cls, value: str) -> str:
        if not _GITHUB_OWNER.match(value):
            raise ValueError("must be a GitHub owner name: 1-39 letters, digits or inner '-'")
        return value

    @field_validator("github_repo")
    @classmethod
    def _repo(cls, value: str) -> str:
        if not _GITHUB_REPO.match(value) or value in (".", ".."):
            raise ValueError("must be a repository name: 1-100 letters, digits, '.', '_' or '-'")
        return value

    @field_validator("environments")
    @classmethod
    def _environments(cls, values: list[str]) -> list[str]:
        known = estate.stack_names()
        if not values:
            raise ValueError(f"must list at least one environment (known: {', '.join(known)})")
        for value in values:
            if value not in known:
                hint = difflib.get_close_matches(value, known, n=1)
                raise ValueError(
                    f"{value!r} has no stack file environments/Pulumi.{value}.yaml "
                    f"(known: {', '.join(known)})"
                    + (f"; did you mean {hint[0]!r}?" if hint else "")
                )
        if len(set(values)) != len(values):
            raise ValueError("lists an environment twice")
        return values

    @field_validator("default_branch")
    @classmethod
    def _branch(cls, value: str) -> str:
        if not _BRANCH.match(value) or ".." in value:
            raise ValueError("must be a branch name such as main")
        return value

    @field_validator("role_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not _ROLE_PREFIX.match(value):
            raise ValueError("must be 1-56 characters of letters, digits and +=,.@_-")
        return value

    @field_validator("deploy_session_seconds")
    @classmethod
    def _session(cls, value: int) -> int:
        if not 3600 <= value <= 43200:
            raise ValueError("must be between 3600 and 43200 seconds (IAM's limits)")
        return value

    @field_validator("state_bucket")
    @classmethod
    def _bucket(cls, value: str | None) -> str | None:
        if value is not None and not _BUCKET.match(value):
            raise ValueError("must be an S3 bucket name (3-63 lowercase letters, digits, '.', '-')")
        return value

    @field_validator("secrets_key_arn")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        if value is not None and not _KMS_ARN.match(value):
            raise ValueError(
                "must be a KMS key or alias ARN, e.g. "
                "arn:aws:kms:us-east-1:123456789012:alias/pulumi-secrets"
            )
        return value

    @model_validator(mode="after")
    def _one_account(self) -> BootstrapSettings:
        # A bootstrap stack holds the account's OIDC provider and roles: one account each.
        accounts = estate.load().accounts()
        by_account = {
            account: [env for env in self.environments if env in names]
            for account, names in accounts.items()
        }
        used = {account: envs for account, envs in by_account.items() if envs}
        if len(used) > 1:
            shown = "; ".join(f"{', '.join(envs)} in {account}" for account, envs in used.items())
            raise ValueError(
                f"{NAMESPACE}:environments lists stacks of {len(used)} AWS accounts ({shown}); "
                "a bootstrap stack serves one account: make one bootstrap stack per account"
            )
        return self

    @property
    def account_id(self) -> str:
        """The AWS account of this bootstrap stack (that of its environments)."""
        return estate.load()[self.environments[0]].account_id

    @model_validator(mode="after")
    def _separate_name_prefixes(self) -> BootstrapSettings:
        # Each deploy role reaches the names "configtrail-<env>-*": no environment's prefix may
        # cover another's, and the backend bucket must not fall under one (its objects are denied).
        for env in self.environments:
            prefix = f"configtrail-{env}-"
            for other in self.environments:
                if other != env and f"configtrail-{other}-".startswith(prefix):
                    raise ValueError(
                        f"environments {env!r} and {other!r} would share the resource name "
                        f"prefix {prefix!r}, so {env}'s deploy role would reach {other}'s stack"
                    )
            if self.state_bucket and self.state_bucket.startswith(prefix):
                raise ValueError(
                    f"stateBucket {self.state_bucket!r} falls under {env}'s resource names "
                    f"({prefix}*): choose a bucket name outside configtrail-<env>-"
                )
        return self

    @model_validator(mode="after")
    def _audit(self) -> BootstrapSettings:
        if not self.audit_role:
            if self.audit_environments is not None:
                raise ValueError(
                    f"{NAMESPACE}:auditEnvironments is set but auditRole is false: remove "
                    "auditEnvironments, or set auditRole: true"
                )
            return self
        if AUDIT_GITHUB_ENVIRONMENT in self.environments:
            # Its deploy role would trust the same OIDC subject as the read-only audit role.
            raise ValueError(
                f"environment {AUDIT_GITHUB_ENVIRONMENT!r} shares its GitHub environment with the "
                "audit role (environment:audit): rename the environment, or set auditRole: false"
            )
        for env in self.audit_environments or []:
            if env not in self.environments:
                raise ValueError(
                    f"{NAMESPACE}:auditEnvironments lists {env!r}, which is not deployed into "
                    f"this account (environments: {', '.join(self.environments)}); the audit "
                    "role reads archives of this account only"
                )
        return self

    @model_validator(mode="after")
    def _role_names_fit(self) -> BootstrapSettings:
        longest = max(self.environments, key=len)
        name = deploy_role_name(self.role_prefix, longest)
        if len(name) > MAX_ROLE_NAME:
            raise ValueError(
                f"role name {name!r} is {len(name)} characters; IAM allows {MAX_ROLE_NAME}: "
                "shorten rolePrefix"
            )
        return self

    @property
    def repository(self) -> str:
        return f"{self.github_org}/{self.github_repo}"

    @property
    def audited_environments(self) -> list[str]:
        """Environments whose archive the audit role reads; none without the role."""
        if not self.audit_role:
            return []
        return list(self.audit_environments or self.environments)


def preview_role_name(prefix: str) -> str:
    return f"{prefix}-preview"


def deploy_role_name(prefix: str, env: str) -> str:
    return f"{prefix}-deploy-{env}"


def audit_role_name(prefix: str) -> str:
    return f"{prefix}-audit"


# --- loading -----------------------------------------------------------------------------------


def read_stack_file(path: Path) -> dict[str, Any]:
    """The `config:` mapping of a bootstrap stack file; bare keys belong to this project."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise SettingsError([f"{path}: no such stack file"]) from None
    except yaml.YAMLError as error:
        raise SettingsError([f"{path}: not valid YAML: {' '.join(str(error).split())}"]) from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise SettingsError([f"{path}: a stack file must be a mapping with a 'config:' mapping"])
    return {(k if ":" in str(k) else f"{NAMESPACE}:{k}"): v for k, v in config.items()}


def from_config(config: dict[str, Any], source: str) -> BootstrapSettings:
    """Settings from a flat `namespace:key -> value` mapping; `source` names the stack file."""
    aliases = {
        field.alias or name: name
        for name, field in BootstrapSettings.model_fields.items()
        if name != "home_region"
    }
    problems: list[str] = []
    values: dict[str, Any] = {}
    for full_key, raw in config.items():
        namespace, _, key = str(full_key).rpartition(":")
        if namespace != NAMESPACE:
            if namespace not in ("aws", "pulumi"):
                problems.append(
                    f"{source}: {full_key}: unknown namespace {namespace!r}; bootstrap settings "
                    f"are {NAMESPACE}:<key>"
                )
            continue
        if key not in aliases:
            close = difflib.get_close_matches(key, aliases, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                f"{source}: {full_key}: unknown setting{hint}; allowed keys: "
                f"{', '.join(sorted(aliases))}"
            )
            continue
        values[key] = parse_config_value(raw)
    region = config.get("aws:region")
    if region in (None, ""):
        problems.append(f"{source}: aws:region: missing; set the region, e.g. us-east-1")
    else:
        values["homeRegion"] = region
    for required in ("githubOrg", "githubRepo"):
        if required not in values:
            problems.append(f"{source}: {NAMESPACE}:{required}: missing (required)")
    if problems:
        raise SettingsError(problems)
    try:
        settings = BootstrapSettings.model_validate(values)
    except ValidationError as error:
        raise SettingsError(describe(error, values, source, NAMESPACE)) from None
    # The audit role's archives are named by the audited environments' own stack files: a bad one
    # stops the run here, before anything is registered.
    audit.archives(settings.audited_environments)
    return settings


def load(path: Path) -> BootstrapSettings:
    return from_config(read_stack_file(path), str(path))
