"""Validated settings of the bootstrap project: one file for the repository, the accounts from
the estate.

`bootstrap/pipeline.yaml` holds what is the same for every AWS account (the GitHub repository,
role names, session length, the self-managed backend, tags) and, under `accounts:`, only what
differs for one account (an OIDC provider that already exists, another state bucket...). Which
accounts there are and which stacks each holds comes from `environments/` (configtrail.estate):
a new stack file, even in a new account, needs no bootstrap edit. One bootstrap stack per account,
`account-<id>`, holds that account's OIDC provider, the permissions boundaries and the roles of the
stacks in that account only.

Every bad value stops the run before anything is registered, with one line per problem naming the
file, the key, the value and what is allowed.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from configtrail import catalog
from configtrail import estate as estate_module
from configtrail.estate import Estate, Stack
from configtrail.settings import SettingsError
from configtrail.stack import names

REPO_ROOT = estate_module.REPO_ROOT
SETTINGS_FILE = REPO_ROOT / "bootstrap" / "pipeline.yaml"
# The GitHub environment of .github/workflows/audit-report.yml: the audit role trusts only it.
AUDIT_GITHUB_ENVIRONMENT = "audit"
# Suffix of the GitHub environment whose role may change a protected archive's bucket settings.
ARCHIVE_ADMIN_SUFFIX = "-archive-admin"
STACK_PREFIX = "account-"
MAX_ROLE_NAME = 64
MIN_SESSION, MAX_SESSION = 3600, 43200
_GITHUB_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$")
_GITHUB_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_BRANCH = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
_ROLE_PREFIX = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,40}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ACCOUNT = re.compile(r"^\d{12}$")
_PULUMI_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class AccountOverrides(_Model):
    """What one account does differently from the repository's defaults."""

    oidc_provider: Literal["create", "existing"] | None = Field(
        None, description="`existing` when the account already has GitHub's OIDC provider."
    )
    state_bucket: str | None = Field(
        None, description="This account's stacks keep their state in another bucket."
    )
    region: str | None = Field(
        None,
        description="Region of the bootstrap's provider calls; default: the home region "
        "of the account's first stack.",
    )
    tags: dict[str, str] | None = Field(None, description="Tags for this account's resources.")

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and value not in catalog.config_regions():
            raise ValueError(f"{value!r} is not an AWS region")
        return value

    @field_validator("state_bucket")
    @classmethod
    def _bucket(cls, value: str | None) -> str | None:
        return _bucket_name(value)


class PulumiCloud(_Model):
    """Pulumi Cloud teams the workflows exchange their GitHub OIDC tokens for (pulumi/auth-actions);
    `{stack}` stands for the stack name."""

    preview_team: str = Field(
        "configtrail-preview-{stack}",
        description="Team with Stack Read on one stack: previews and drift checks of it.",
    )
    deploy_team: str = Field(
        "configtrail-deploy-{stack}",
        description="Team with Stack Write on one stack: its deploys.",
    )

    @field_validator("preview_team", "deploy_team")
    @classmethod
    def _team(cls, value: str) -> str:
        if "{stack}" not in value or not _PULUMI_NAME.match(value.replace("{stack}", "x")):
            raise ValueError(
                "must be a Pulumi team name containing {stack}, e.g. configtrail-preview-{stack}"
            )
        return value


class BootstrapSettings(_Model):
    """The repository-level settings (`bootstrap/pipeline.yaml`)."""

    github_org: str = Field(description="GitHub organisation or user that owns the repository.")
    github_repo: str = Field(description="Repository name (without the owner).")
    default_branch: str = Field(
        "main",
        description="Branch whose runs (merges, scheduled drift checks) may use the read-only "
        "roles; dispatches may deploy only commits reachable from it.",
    )
    role_prefix: str = Field("configtrail-github", description="Prefix of the role names.")
    session_seconds: int = Field(
        7200,
        description="The one session length (3600-43200): every role's maximum session, the "
        "session every workflow asks for, and (less 10 minutes) every Pulumi job's timeout.",
    )
    oidc_provider: Literal["create", "existing"] = Field(
        "create",
        description="`create` GitHub's OIDC provider in each account, or use the one it has "
        "(AWS allows one per URL); per account under `accounts:`.",
    )
    state_bucket: str | None = Field(
        None,
        description="S3 bucket of a self-managed Pulumi backend; null: Pulumi Cloud. Each stack's "
        "roles reach only that stack's state in it.",
    )
    secrets_key_alias: str = Field(
        "alias/configtrail-pulumi-secrets",
        description="With a self-managed backend: the KMS key the bootstrap creates in each "
        "account for the stacks' secrets (awskms provider, one encryption context per stack).",
    )
    audit_role: bool = Field(
        True, description="Create the monthly audit report's read-only role (environment audit)."
    )
    audit_stack: str | None = Field(
        None,
        description="The stack whose archive the audit role reads (in that stack's account). "
        "Default: the estate's only `archive` stack (else its only `standalone` stack).",
    )
    pulumi_cloud: PulumiCloud = Field(default_factory=PulumiCloud)
    tags: dict[str, str] = Field(default_factory=dict, description="Tags on every resource.")
    accounts: dict[str, AccountOverrides] = Field(
        default_factory=dict,
        description="Per-account overrides, keyed by the 12-digit account id (only accounts "
        "of the estate).",
    )

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
            raise ValueError("must be 1-40 characters of letters, digits and +=,.@_-")
        return value

    @field_validator("session_seconds")
    @classmethod
    def _session(cls, value: int) -> int:
        if not MIN_SESSION <= value <= MAX_SESSION:
            raise ValueError(f"must be between {MIN_SESSION} and {MAX_SESSION} seconds (IAM)")
        return value

    @field_validator("state_bucket")
    @classmethod
    def _bucket(cls, value: str | None) -> str | None:
        return _bucket_name(value)

    @field_validator("secrets_key_alias")
    @classmethod
    def _alias(cls, value: str) -> str:
        if not re.fullmatch(r"alias/[A-Za-z0-9/_-]{1,250}", value) or value.startswith(
            "alias/aws/"
        ):
            raise ValueError("must be a KMS alias such as alias/configtrail-pulumi-secrets")
        return value

    @property
    def repository(self) -> str:
        return f"{self.github_org}/{self.github_repo}"

    @property
    def read_session_seconds(self) -> int:
        """Previews, drift checks and the audit report: the same setting, at most one hour
        longer than they need (IAM's default of one hour is the floor)."""
        return self.session_seconds

    @property
    def job_timeout_minutes(self) -> int:
        """Every Pulumi job ends 10 minutes before its credentials do."""
        return self.session_seconds // 60 - 10


def _bucket_name(value: str | None) -> str | None:
    if value is not None and not _BUCKET.match(value):
        raise ValueError("must be an S3 bucket name (3-63 lowercase letters, digits, '.', '-')")
    return value


# --- names ---------------------------------------------------------------------------------------


def preview_role_name(prefix: str, stack: str) -> str:
    return f"{prefix}-preview-{stack}"


def deploy_role_name(prefix: str, stack: str) -> str:
    return f"{prefix}-deploy-{stack}"


def archive_admin_role_name(prefix: str, stack: str) -> str:
    return f"{prefix}-archive-{stack}"


def audit_role_name(prefix: str) -> str:
    return f"{prefix}-audit"


def deploy_boundary_name(prefix: str) -> str:
    """The permissions boundary every pipeline role of the account carries."""
    return f"{prefix}-boundary"


def archive_admin_environment(stack: str) -> str:
    return f"{stack}{ARCHIVE_ADMIN_SUFFIX}"


def bootstrap_stack_name(account_id: str) -> str:
    return f"{STACK_PREFIX}{account_id}"


# --- one account ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountBootstrap:
    """Everything one bootstrap stack (`account-<id>`) needs: the repository settings with this
    account's overrides applied, and the estate's stacks in this account."""

    settings: BootstrapSettings
    account_id: str
    stacks: tuple[Stack, ...]
    region: str
    oidc_provider: str
    state_bucket: str | None
    tags: dict[str, str]
    audit_stack: Stack | None

    @property
    def stack_name(self) -> str:
        return bootstrap_stack_name(self.account_id)

    @property
    def stack_names(self) -> list[str]:
        return [stack.name for stack in self.stacks]

    def protected_archives(self) -> list[Stack]:
        """Stacks of this account whose archive is protected: their deploy role may not change
        the archive's bucket policy, lifecycle, versioning or replication, nor delete its key."""
        return [s for s in self.stacks if s.settings.has_archive and s.settings.archive_protect]


def resolve_audit_stack(settings: BootstrapSettings, estate: Estate, source: str) -> Stack | None:
    """The stack whose archive the audit role reads, or None without the role."""
    if not settings.audit_role:
        if settings.audit_stack is not None:
            raise SettingsError(
                [
                    f"{source}: auditStack = {json.dumps(settings.audit_stack)}: set but "
                    "auditRole is false; remove auditStack, or set auditRole: true"
                ]
            )
        return None
    holders = [s.name for s in estate.stacks.values() if s.settings.has_archive]
    name = settings.audit_stack
    if name is None:
        archives = [s.name for s in estate.of_kind("archive")]
        standalone = [s.name for s in estate.of_kind("standalone")]
        candidates = archives or standalone
        if len(candidates) != 1:
            raise SettingsError(
                [
                    f"{source}: auditStack: missing; the estate has {len(candidates)} "
                    f"{'archive' if archives else 'standalone'} stacks "
                    f"({', '.join(candidates) or 'none'}): name the one the audit report reads "
                    "(stacks with an archive: " + (", ".join(holders) or "none") + "), or set "
                    "auditRole: false"
                ]
            )
        name = candidates[0]
    if name not in estate.stacks or not estate[name].settings.has_archive:
        hint = difflib.get_close_matches(name, holders, n=1)
        raise SettingsError(
            [
                f"{source}: auditStack = {json.dumps(name)}: "
                + (
                    f"a {estate[name].kind} stack holds no archive"
                    if name in estate.stacks
                    else "no such stack"
                )
                + f"; stacks with an archive: {', '.join(holders) or 'none'}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
            ]
        )
    return estate[name]


def accounts(
    settings: BootstrapSettings, estate: Estate, source: str = "bootstrap/pipeline.yaml"
) -> dict[str, AccountBootstrap]:
    """account id -> its bootstrap, for every account of the estate (SettingsError with every
    problem: overrides for accounts outside the estate, names that do not fit)."""
    problems: list[str] = []
    by_account = estate.accounts()
    for account in settings.accounts:
        if account not in by_account:
            problems.append(
                f"{source}: accounts.{account}: not an account of the estate "
                f"(accounts: {', '.join(by_account)}); a key here must be the "
                "configtrail:accountId of a stack file"
            )
    for stack in estate.stacks.values():
        for name in (
            deploy_role_name(settings.role_prefix, stack.name),
            preview_role_name(settings.role_prefix, stack.name),
        ):
            if len(name) > MAX_ROLE_NAME:
                problems.append(
                    f"{source}: rolePrefix = {json.dumps(settings.role_prefix)}: role name "
                    f"{name!r} of stack {stack.name} has {len(name)} characters; IAM allows "
                    f"{MAX_ROLE_NAME}: shorten rolePrefix"
                )
        if stack.name == AUDIT_GITHUB_ENVIRONMENT and settings.audit_role:
            problems.append(
                f"{stack.shown}: stack {stack.name!r} would share its GitHub environment with "
                "the audit role (environment:audit): rename the stack, or set auditRole: false "
                f"in {source}"
            )
        if f"{settings.role_prefix}-".startswith(names.resource_prefix(stack.name) + "-"):
            problems.append(
                f"{source}: rolePrefix = {json.dumps(settings.role_prefix)}: falls under the "
                f"resource names of stack {stack.name} ({names.resource_prefix(stack.name)}-*), "
                "so that stack's deploy role could change the pipeline's own roles"
            )
        if settings.state_bucket and settings.state_bucket.startswith(
            names.resource_prefix(stack.name) + "-"
        ):
            problems.append(
                f"{source}: stateBucket = {json.dumps(settings.state_bucket)}: falls under "
                f"stack {stack.name}'s resource names ({names.resource_prefix(stack.name)}-*); "
                "choose a bucket name outside configtrail-<stack>-"
            )
    if problems:
        raise SettingsError(problems)
    audit = resolve_audit_stack(settings, estate, source)
    found = {}
    for account, stack_names in by_account.items():
        override = settings.accounts.get(account, AccountOverrides())
        stacks = tuple(estate[name] for name in stack_names)
        found[account] = AccountBootstrap(
            settings=settings,
            account_id=account,
            stacks=stacks,
            region=override.region or stacks[0].home_region,
            oidc_provider=override.oidc_provider or settings.oidc_provider,
            state_bucket=override.state_bucket or settings.state_bucket,
            tags={**settings.tags, **(override.tags or {})},
            audit_stack=audit if audit is not None and audit.account_id == account else None,
        )
    return found


# --- loading -------------------------------------------------------------------------------------


def read_settings_file(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError([f"{shown(path)}: no such settings file"]) from None
    except yaml.YAMLError as error:
        raise SettingsError(
            [f"{shown(path)}: not valid YAML: {' '.join(str(error).split())}"]
        ) from None
    if not isinstance(document, dict):
        raise SettingsError([f"{shown(path)}: must be a mapping of bootstrap settings"])
    return document


def from_mapping(values: dict[str, Any], source: str) -> BootstrapSettings:
    """Settings from the parsed file; every problem as one line (file, key, value, allowed)."""
    problems = _unknown_keys(values, source)
    if problems:
        raise SettingsError(problems)
    try:
        return BootstrapSettings.model_validate(values)
    except ValidationError as error:
        raise SettingsError(_describe(error, values, source)) from None


def load(path: Path = SETTINGS_FILE) -> BootstrapSettings:
    return from_mapping(read_settings_file(path), shown(path))


def load_accounts(
    path: Path = SETTINGS_FILE, directory: Path = estate_module.ENVIRONMENTS
) -> dict[str, AccountBootstrap]:
    """The validated settings applied to the validated estate: one entry per account."""
    return accounts(load(path), estate_module.load(directory), shown(path))


def account_of_stack(stack_name: str, found: dict[str, AccountBootstrap]) -> AccountBootstrap:
    """The account of bootstrap stack `account-<id>`; SettingsError naming the stacks there are."""
    bare = stack_name.rsplit("/", 1)[-1]
    account = bare.removeprefix(STACK_PREFIX)
    if bare.startswith(STACK_PREFIX) and account in found:
        return found[account]
    known = ", ".join(bootstrap_stack_name(a) for a in found)
    raise SettingsError(
        [
            f"bootstrap stack {bare!r}: not an account of the estate; bootstrap stacks are "
            f"named account-<12-digit id> after the accounts of environments/ ({known})"
        ]
    )


def _unknown_keys(values: dict[str, Any], source: str) -> list[str]:
    problems = []
    levels: list[tuple[str, dict[str, Any], type[_Model]]] = [("", values, BootstrapSettings)]
    accounts_value = values.get("accounts")
    if isinstance(accounts_value, dict):
        for account, override in accounts_value.items():
            if not _ACCOUNT.match(str(account)):
                problems.append(
                    f"{source}: accounts.{account}: not a 12-digit AWS account id (quote it)"
                )
            elif isinstance(override, dict):
                levels.append((f"accounts.{account}.", override, AccountOverrides))
    if isinstance(values.get("pulumiCloud"), dict):
        levels.append(("pulumiCloud.", values["pulumiCloud"], PulumiCloud))
    for prefix, mapping, model in levels:
        aliases = [field.alias or name for name, field in model.model_fields.items()]
        for key in mapping:
            if key not in aliases:
                close = difflib.get_close_matches(str(key), aliases, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.append(
                    f"{source}: {prefix}{key}: unknown setting{hint}; allowed keys: "
                    f"{', '.join(sorted(aliases))}"
                )
    return problems


def _describe(error: ValidationError, values: dict[str, Any], source: str) -> list[str]:
    problems = []
    for item in error.errors(include_url=False):
        location = [str(part) for part in item["loc"]]
        key = ".".join(location)
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            problems.append(f"{source}: {key}: missing (required)")
            continue
        shown_value: Any = values
        for part in location:
            shown_value = shown_value.get(part) if isinstance(shown_value, dict) else None
        if shown_value is None:
            shown_value = item.get("input")
        problems.append(f"{source}: {key} = {json.dumps(shown_value, default=str)}: {message}")
    return problems


def shown(path: Path) -> str:
    return estate_module.shown(path)
