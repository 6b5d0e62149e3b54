"""Typed, validated settings for one environment (one Pulumi stack).

Settings come from the stack file `environments/Pulumi.<stack>.yaml`: the `configtrail:` keys and
`aws:region` (the home region). Every stack file names the AWS account it deploys into
(`accountId`) and its kind (`stackKind`), because AWS Config is a singleton per account and region:

- `standalone`: archive and recording in one account;
- `archive`: the log-archive account's central archive, written to by the estate's members;
- `member`: a recorded account, delivering to an archive stack's bucket;
- `aggregator`: the audit account's organization-wide aggregator.

Each setting belongs to the kinds it means something for (`kinds` beside its field); a stack file
that sets a key its kind has no use for is refused, never silently ignored. Every bad value stops
the run before any resource is registered, with one message per problem naming the stack file,
the key, the value and what is allowed. Defaults are the secure, history-preserving choice; a stack
weakens a setting only by writing it down. Checks across stack files live in `configtrail.estate`.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from configtrail import catalog, files
from configtrail.settings_error import SettingsError

__all__ = ["Settings", "SettingsError", "from_config", "load", "read_stack_file"]

NAMESPACE = "configtrail"
# Namespaces of other projects and providers a stack file may carry.
OTHER_NAMESPACES = ("aws", "pulumi", "configtrail-bootstrap")
REQUIRED_TAGS = ("owner", "environment", "ai-system", "data-classification")
MIN_RETENTION_DAYS, MAX_RETENTION_DAYS = 30, 2557
# S3 refuses a transition to STANDARD_IA before 30 days; Glacier Instant Retrieval has no minimum,
# but the same floor keeps recently delivered history in the cheap-to-read class.
MIN_TRANSITION_DAYS = 30
_KEY_PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$")
_RESOURCE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
_STACK_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_TAG_KEY = re.compile(r"^[\w .:/=+@-]{1,128}$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")

StackKind = Literal["standalone", "archive", "member", "aggregator"]
STACK_KINDS: tuple[str, ...] = get_args(StackKind)
# Kinds that record (own the account's recorder, channel, retention and rules in their regions),
# and kinds that hold an archive bucket.
RECORDING_KINDS = ("standalone", "member")
ARCHIVE_KINDS = ("standalone", "archive")
_WHAT_KINDS_DO = {
    "standalone": "holds its own archive and records its own account",
    "archive": "holds the estate's central archive and records nothing itself",
    "member": "records its account and delivers to an archive stack's bucket",
    "aggregator": "holds the organization aggregator and records nothing itself",
}


def _for(*kinds: str) -> dict[str, Any]:
    """Field metadata: the stack kinds a setting applies to."""
    return {"kinds": list(kinds)}


def field_kinds(name: str) -> tuple[str, ...]:
    """The stack kinds a settings field applies to (every kind unless the field says)."""
    extra = Settings.model_fields[name].json_schema_extra or {}
    return tuple(extra.get("kinds", STACK_KINDS))


class Settings(BaseModel):
    """Everything one stack chooses. Field descriptions double as the settings reference."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        coerce_numbers_to_str=True,
    )

    # --- every kind ----------------------------------------------------------------------------
    home_region: str = Field(
        description="Region of the archive bucket, KMS key and SNS topic; read from `aws:region`."
    )
    account_id: str = Field(
        description="The 12-digit AWS account this stack deploys into (required). A real "
        "`pulumi preview`/`up` refuses to run with credentials of another account."
    )
    stack_kind: StackKind = Field(
        description="`standalone` (archive and recording in one account), `archive` (the "
        "log-archive account's central archive), `member` (a recorded account delivering to "
        "the archive) or `aggregator` (the audit account's organization aggregator). Required."
    )
    tags: dict[str, str] = Field(
        default_factory=dict,
        description="Tags on every resource; owner, environment, ai-system and "
        "data-classification are required.",
    )

    # --- recording: standalone and member ------------------------------------------------------
    regions: list[str] = Field(
        default_factory=list,
        description="Regions to record (must include the home region). Default: the home region.",
        json_schema_extra=_for(*RECORDING_KINDS),
    )
    recording_profile: Literal["ai-systems", "all"] = Field(
        "ai-systems",
        description="`ai-systems`: the AI/ML and supporting types; `all`: every supported type.",
        json_schema_extra=_for(*RECORDING_KINDS),
    )
    extra_resource_types: list[str] = Field(
        default_factory=list,
        description="More types to record with the `ai-systems` profile "
        "(checked against botocore).",
        json_schema_extra=_for(*RECORDING_KINDS),
    )
    recording_frequency: Literal["CONTINUOUS", "DAILY"] = Field(
        "CONTINUOUS",
        description="Default recording frequency. With DAILY, the types AWS records only "
        "continuously (AWS::Config::ResourceCompliance and two more) stay CONTINUOUS.",
        json_schema_extra=_for(*RECORDING_KINDS),
    )
    daily_resource_types: list[str] = Field(
        default_factory=lambda: list(catalog.churny_resource_types()),
        description="Types recorded DAILY when the default frequency is CONTINUOUS (cost control).",
        json_schema_extra=_for(*RECORDING_KINDS),
    )
    recorder_role: Literal["service-linked", "custom"] = Field(
        "service-linked",
        description="`service-linked`: AWSServiceRoleForConfig (Security Hub Config.1); "
        "`custom`: a role trusting only config.amazonaws.com.",
        json_schema_extra=_for(*RECORDING_KINDS),
    )
    service_linked_role: Literal["create", "existing"] = Field(
        "create",
        description="`create` the service-linked role, or use the one that already exists in the "
        "account (`existing`; AWS allows only one per account, so at most one stack per account "
        "creates it).",
        json_schema_extra=_for(*RECORDING_KINDS),
    )
    delivery_frequency: str = Field(
        "Six_Hours",
        description="How often Config delivers snapshots to the archive.",
        json_schema_extra=_for(*RECORDING_KINDS),
    )
    rule_frequency: str = Field(
        "TwentyFour_Hours",
        description="How often periodic managed rules are evaluated.",
        json_schema_extra=_for(*RECORDING_KINDS),
    )
    notifications: bool = Field(
        False,
        description="Create an encrypted SNS topic for Config notifications.",
        json_schema_extra=_for(*RECORDING_KINDS),
    )
    rules: list[str] = Field(
        default_factory=list,
        description="Managed-rule packs (sagemaker, data-stores, supporting) or rule identifiers.",
        json_schema_extra=_for(*RECORDING_KINDS),
    )
    exclude_rules: list[str] = Field(
        default_factory=list,
        description="Rule identifiers to leave out of the selected packs.",
        json_schema_extra=_for(*RECORDING_KINDS),
    )
    rule_parameters: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Per-rule parameter overrides, `IDENTIFIER: {parameter: value}`, checked "
        "against the parameters the catalog says the rule accepts.",
        json_schema_extra=_for(*RECORDING_KINDS),
    )
    ai_controls: list[str] = Field(
        default_factory=list,
        description="AI controls (packs sagemaker, bedrock, data-stores, or control ids from "
        "src/configtrail/data/ai_controls.yaml) enforced after a change: their custom Guard "
        "rules, and the managed rules they rely on, join `rules`.",
        json_schema_extra=_for(*RECORDING_KINDS),
    )
    exclude_ai_controls: list[str] = Field(
        default_factory=list,
        description="AI control ids to leave out of the selected packs.",
        json_schema_extra=_for(*RECORDING_KINDS),
    )
    ai_control_parameters: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Per-control thresholds, `control-id: {parameter: value}` (e.g. the "
        "content-filter strengths a guardrail must keep), checked against the catalog.",
        json_schema_extra=_for(*RECORDING_KINDS),
    )
    guard_debug_logs: bool = Field(
        False,
        description="Deliver the Guard rules' debug logs to CloudWatch Logs.",
        json_schema_extra=_for(*RECORDING_KINDS),
    )
    existing_recorder: Literal["create", "adopt", "skip"] = Field(
        "create",
        description="`adopt` imports an existing recorder and channel (by name); `skip` leaves "
        "them to whoever manages them (Control Tower, LZA).",
        json_schema_extra=_for(*RECORDING_KINDS),
    )
    recorder_name: str | None = Field(
        None,
        description="Name of the recorder and delivery channel this stack creates; null: "
        "`configtrail-<stack>`.",
        json_schema_extra=_for(*RECORDING_KINDS),
    )
    existing_recorder_name: str = Field(
        "default",
        description="Name of the recorder to adopt (`existingRecorder: adopt`).",
        json_schema_extra=_for(*RECORDING_KINDS),
    )
    existing_delivery_channel_name: str = Field(
        "default",
        description="Name of the delivery channel to adopt.",
        json_schema_extra=_for(*RECORDING_KINDS),
    )

    # --- recording and archive -----------------------------------------------------------------
    retention_days: int = Field(
        MAX_RETENTION_DAYS,
        description="Days AWS Config keeps history itself (30-2557); on an archive, the history "
        "its lifecycle and vault must keep at least.",
        json_schema_extra=_for("standalone", "member", "archive"),
    )

    # --- member --------------------------------------------------------------------------------
    archive_stack: str | None = Field(
        None,
        description="The `archive` stack (its stack name) this member delivers to; null: the "
        "estate's only archive stack.",
        json_schema_extra=_for("member"),
    )

    # --- archive: standalone and archive -------------------------------------------------------
    organization_id: str | None = Field(
        None,
        description="AWS Organizations id (`o-...`): deliveries are accepted only from accounts "
        "of this organization (aws:SourceOrgID), in addition to the estate's member accounts.",
        json_schema_extra=_for("archive"),
    )
    key_prefix: str = Field(
        "configtrail",
        description="Key prefix of deliveries in the archive.",
        json_schema_extra=_for(*ARCHIVE_KINDS),
    )
    archive_encryption: Literal["sse-s3", "kms"] = Field(
        "sse-s3",
        description="`kms` creates a rotating customer key that Config may use.",
        json_schema_extra=_for(*ARCHIVE_KINDS),
    )
    archive_protect: bool = Field(
        True,
        description="Pulumi `protect` and `retainOnDelete` on the archive and vault.",
        json_schema_extra=_for(*ARCHIVE_KINDS),
    )
    archive_transition_days: int | None = Field(
        90,
        description="Days before history moves to Glacier Instant Retrieval; null: never.",
        json_schema_extra=_for(*ARCHIVE_KINDS),
    )
    archive_expiration_days: int | None = Field(
        None,
        description="Days before archived history expires; null (default): never.",
        json_schema_extra=_for(*ARCHIVE_KINDS),
    )
    access_logs: bool = Field(
        True,
        description="S3 server access logs of the archive and vault, into an SSE-S3 log bucket "
        "per region (who read or wrote history).",
        json_schema_extra=_for(*ARCHIVE_KINDS),
    )
    vault: bool = Field(
        False,
        description="Replicate the archive into a write-once (Object Lock) vault bucket.",
        json_schema_extra=_for(*ARCHIVE_KINDS),
    )
    vault_lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] = Field(
        "COMPLIANCE",
        description="Object Lock mode of the vault.",
        json_schema_extra=_for(*ARCHIVE_KINDS),
    )
    vault_retention_days: int | None = Field(
        None,
        description="Object Lock retention of the vault; default: retentionDays.",
        json_schema_extra=_for(*ARCHIVE_KINDS),
    )
    allow_short_vault_retention: bool = Field(
        False,
        description="Let the vault's Object Lock retention be shorter than retentionDays (the "
        "write-once copy would then stop protecting history Config still keeps). Off: refused.",
        json_schema_extra=_for(*ARCHIVE_KINDS),
    )
    vault_region: str | None = Field(
        None,
        description="Region of the vault (cross-region copy); default: the home region.",
        json_schema_extra=_for(*ARCHIVE_KINDS),
    )
    athena: bool = Field(
        False,
        description="Create a Glue table (partition projection) over the archive and an Athena "
        "workgroup with encrypted results, for `configtrail history --athena-workgroup`.",
        json_schema_extra=_for(*ARCHIVE_KINDS),
    )

    # --- single-value checks -------------------------------------------------------------------

    @field_validator("home_region", "vault_region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        if value is not None and value not in catalog.config_regions():
            raise ValueError(_not_allowed("an AWS region where Config is offered", value))
        return value

    @field_validator("regions")
    @classmethod
    def _known_regions(cls, values: list[str]) -> list[str]:
        for value in values:
            if value not in catalog.config_regions():
                raise ValueError(_not_allowed("an AWS region where Config is offered", value))
        if len(set(values)) != len(values):
            raise ValueError("lists a region twice")
        return values

    @field_validator("extra_resource_types", "daily_resource_types")
    @classmethod
    def _recordable_types(cls, values: list[str]) -> list[str]:
        recordable = catalog.recordable_resource_types()
        for value in values:
            if value not in recordable:
                hint = _did_you_mean(value, recordable)
                raise ValueError(
                    f"{value!r} is not a resource type AWS Config can record "
                    f"(botocore's Config ResourceType list){hint}"
                )
        return values

    @field_validator("delivery_frequency", "rule_frequency")
    @classmethod
    def _frequency(cls, value: str) -> str:
        allowed = catalog.execution_frequencies()
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}{_did_you_mean(value, allowed)}")
        return value

    @field_validator("key_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not _KEY_PREFIX.match(value) or "AWSLogs" in value:
            raise ValueError(
                "must be S3 key segments of letters, digits and !_.*'()- separated by single "
                "'/', with no leading or trailing '/' and without 'AWSLogs'"
            )
        return value

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if not MIN_RETENTION_DAYS <= value <= MAX_RETENTION_DAYS:
            raise ValueError(f"must be between {MIN_RETENTION_DAYS} and {MAX_RETENTION_DAYS} days")
        return value

    @field_validator("archive_transition_days")
    @classmethod
    def _transition(cls, value: int | None) -> int | None:
        if value is not None and value < MIN_TRANSITION_DAYS:
            raise ValueError(f"must be at least {MIN_TRANSITION_DAYS} days, or null for never")
        return value

    @field_validator("vault_retention_days")
    @classmethod
    def _vault_retention(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 36500:
            raise ValueError("must be between 1 and 36500 days (S3 Object Lock)")
        return value

    @field_validator("recorder_name", "existing_recorder_name", "existing_delivery_channel_name")
    @classmethod
    def _resource_name(cls, value: str | None) -> str | None:
        if value is not None and not _RESOURCE_NAME.match(value):
            raise ValueError("must be 1-256 letters, digits, '.', '_' or '-'")
        return value

    @field_validator("account_id", mode="before")
    @classmethod
    def _account(cls, value: Any) -> Any:
        # An unquoted id reads as a number (and the engine hands config over as JSON text): a
        # 12-digit number is the id; a shorter one lost its leading zeros, which cannot be told.
        if isinstance(value, int) and not isinstance(value, bool):
            if len(str(value)) == 12:
                return str(value)
            raise ValueError(
                "must be 12 digits; a number lost its leading zeros: quote the id, "
                'e.g. accountId: "012345678901"'
            )
        if not isinstance(value, str) or not _ACCOUNT_ID.match(value):
            raise ValueError('must be a 12-digit AWS account id, e.g. "111111111111"')
        return value

    @field_validator("organization_id")
    @classmethod
    def _organization(cls, value: str | None) -> str | None:
        if value is not None and not _ORGANIZATION_ID.match(value):
            raise ValueError(
                "must be an AWS Organizations id: 'o-' and 10-32 lowercase letters or digits"
            )
        return value

    @field_validator("archive_stack")
    @classmethod
    def _archive_stack(cls, value: str | None) -> str | None:
        if value is not None and not _STACK_NAME.match(value):
            raise ValueError("must be a stack name (lowercase letters, digits and '-')")
        return value

    @field_validator("rule_parameters")
    @classmethod
    def _rule_parameters(cls, values: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        rules = catalog.rules_by_identifier()
        for identifier, parameters in values.items():
            rule = rules.get(identifier)
            if rule is None:
                raise ValueError(
                    f"{identifier!r} is not a rule identifier in "
                    f"src/configtrail/data/managed_rules.yaml{_did_you_mean(identifier, rules)}"
                )
            if not isinstance(parameters, dict):
                raise ValueError(
                    f"{identifier}: must be a mapping of parameter name to value, "
                    f"e.g. {identifier}: {{{next(iter(rule.parameters), 'parameter')}: value}}"
                )
            for name, value in parameters.items():
                declared = rule.parameters.get(name)
                if declared is None:
                    accepted = ", ".join(rule.parameters) or "none"
                    raise ValueError(
                        f"{identifier}.{name}: not a parameter of this rule"
                        f"{_did_you_mean(name, rule.parameters)}; it accepts: {accepted}"
                    )
                problem = declared.problem(value)
                if problem:
                    raise ValueError(f"{identifier}.{name} = {json.dumps(value)}: {problem}")
        return values

    @field_validator("rules", "exclude_rules")
    @classmethod
    def _known_rules(cls, values: list[str], info) -> list[str]:
        identifiers = catalog.rules_by_identifier()
        allowed = set(identifiers)
        if info.field_name == "rules":
            allowed |= set(catalog.rule_packs())
        for value in values:
            if value not in allowed:
                raise ValueError(
                    f"{value!r} is not "
                    + ("a rule pack or " if info.field_name == "rules" else "")
                    + "a rule identifier in src/configtrail/data/managed_rules.yaml"
                    + _did_you_mean(value, allowed)
                )
        return values

    @model_validator(mode="after")
    def _known_ai_controls(self) -> Settings:
        from configtrail import controls

        try:
            selected = controls.select(
                self.ai_controls, self.exclude_ai_controls, f"{NAMESPACE}:aiControls"
            )
        except controls.ControlCatalogError as error:
            raise ValueError("; ".join(error.problems)) from None
        problems = controls.parameter_problems(
            selected, self.ai_control_parameters, f"{NAMESPACE}:aiControlParameters"
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: dict[str, str]) -> dict[str, str]:
        missing = [key for key in REQUIRED_TAGS if not str(tags.get(key, "")).strip()]
        if missing:
            raise ValueError(
                f"required tag(s) missing or empty: {', '.join(missing)} "
                f"(every environment must set {', '.join(REQUIRED_TAGS)})"
            )
        for key, value in tags.items():
            if not _TAG_KEY.match(key) or key.lower().startswith("aws:"):
                raise ValueError(f"tag key {key!r} is not a valid AWS tag key")
            if len(str(value)) > 256:
                raise ValueError(f"tag {key!r} is longer than 256 characters")
        return {key: str(value) for key, value in tags.items()}

    # --- cross-field checks --------------------------------------------------------------------

    @model_validator(mode="after")
    def _only_keys_of_this_kind(self) -> Settings:
        for name in sorted(self.model_fields_set):
            kinds = field_kinds(name)
            if self.stack_kind in kinds:
                continue
            alias = Settings.model_fields[name].alias
            value = json.dumps(getattr(self, name), default=str)
            raise ValueError(
                f"{NAMESPACE}:{alias} = {value}: not a setting of a {self.stack_kind!r} stack "
                f"(a {self.stack_kind} stack {_WHAT_KINDS_DO[self.stack_kind]}); it applies to "
                f"{' and '.join(repr(k) for k in kinds)} stacks. Keys of a {self.stack_kind} "
                f"stack: {', '.join(keys_for_kind(self.stack_kind))}"
            )
        return self

    @model_validator(mode="after")
    def _no_setting_without_effect(self) -> Settings:
        """A key written down that does nothing in this combination is refused: the reader of
        the stack file would believe it does something."""
        given = self.model_fields_set

        def refuse(name: str, why: str) -> None:
            alias = Settings.model_fields[name].alias
            value = json.dumps(getattr(self, name), default=str)
            raise ValueError(f"{NAMESPACE}:{alias} = {value}: has no effect: {why}; remove it")

        for name in ("vault_lock_mode", "vault_retention_days", "vault_region"):
            if name in given and not self.vault:
                refuse(name, "configtrail:vault is false (no vault is created)")
        if "allow_short_vault_retention" in given and not self.vault:
            refuse("allow_short_vault_retention", "configtrail:vault is false")
        for name in ("existing_recorder_name", "existing_delivery_channel_name"):
            if name in given and self.existing_recorder != "adopt":
                refuse(
                    name, f"configtrail:existingRecorder is {self.existing_recorder!r}, not 'adopt'"
                )
        if "recorder_name" in given and self.existing_recorder != "create":
            refuse(
                "recorder_name",
                f"configtrail:existingRecorder is {self.existing_recorder!r}: this stack creates "
                "no recorder of its own",
            )
        if self.existing_recorder == "skip":
            for name in ("recorder_role", "service_linked_role"):
                if name in given:
                    refuse(name, "configtrail:existingRecorder is 'skip': no recorder, no role")
        if "service_linked_role" in given and self.recorder_role == "custom":
            refuse("service_linked_role", "configtrail:recorderRole is 'custom'")
        if "daily_resource_types" in given and self.recording_frequency == "DAILY":
            refuse("daily_resource_types", "configtrail:recordingFrequency is already DAILY")
        return self

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if not self.records:
            object.__setattr__(self, "regions", [])
        elif not self.regions:
            object.__setattr__(self, "regions", [self.home_region])
        elif self.home_region not in self.regions:
            raise ValueError(
                f"configtrail:regions = {json.dumps(self.regions)}: must include the home region "
                f"{self.home_region!r} (aws:region), where the global resource types are recorded"
            )
        expiry = self.archive_expiration_days
        if self.has_archive and expiry is not None and expiry < self.retention_days:
            raise ValueError(
                f"configtrail:archiveExpirationDays = {expiry}: must be at least "
                f"configtrail:retentionDays ({self.retention_days}); the archive may never lose "
                "history before Config does"
            )
        if (
            expiry is not None
            and self.archive_transition_days is not None
            and expiry <= self.archive_transition_days
        ):
            raise ValueError(
                f"configtrail:archiveExpirationDays = {expiry}: must be later than "
                f"configtrail:archiveTransitionDays ({self.archive_transition_days})"
            )
        if self.recording_profile == "all" and self.extra_resource_types:
            raise ValueError(
                f"configtrail:extraResourceTypes = {json.dumps(self.extra_resource_types)}: only "
                "applies to recordingProfile 'ai-systems' ('all' already records every type)"
            )
        continuous_only = sorted(set(self.daily_resource_types) & catalog.continuous_only_types())
        if continuous_only:
            raise ValueError(
                f"configtrail:dailyResourceTypes = {json.dumps(self.daily_resource_types)}: "
                f"{', '.join(continuous_only)} cannot be recorded DAILY (AWS Config's "
                "RecordingMode API records them continuously only); remove them"
            )
        if (
            self.vault
            and not self.allow_short_vault_retention
            and self.effective_vault_retention_days < self.retention_days
        ):
            raise ValueError(
                f"configtrail:vaultRetentionDays = {self.vault_retention_days}: shorter than "
                f"configtrail:retentionDays ({self.retention_days}); the write-once copy must "
                "protect history as long as it is kept. Raise it, or set "
                "configtrail:allowShortVaultRetention: true to accept the gap"
            )
        if self.records and self.recording_profile == "ai-systems":
            from configtrail.stack import scope

            recorded = set(scope.recorded_types(self, home=True))
            unrecorded = sorted(set(self.daily_resource_types) - recorded)
            if unrecorded and "daily_resource_types" in self.model_fields_set:
                raise ValueError(
                    f"configtrail:dailyResourceTypes = {json.dumps(self.daily_resource_types)}: "
                    f"{', '.join(unrecorded)} is not recorded by the ai-systems profile, so its "
                    "frequency has no effect; record it (configtrail:extraResourceTypes) or "
                    "remove it"
                )
        chosen = {rule.identifier for rule in self.selected_rules()}
        offered = {
            rule.identifier
            for rule in catalog.managed_rules()
            if rule.pack in self.rules or rule.identifier in self.rules
        }
        from configtrail import controls

        offered |= set(controls.managed_identifiers(self.selected_ai_controls()))
        not_selected = [rule for rule in self.exclude_rules if rule not in offered]
        if not_selected:
            raise ValueError(
                f"configtrail:excludeRules = {json.dumps(self.exclude_rules)}: "
                f"{', '.join(not_selected)} is not selected by configtrail:rules or "
                "configtrail:aiControls, so excluding it has no effect; remove it"
            )
        for identifier in self.rule_parameters:
            if identifier not in chosen:
                raise ValueError(
                    f"configtrail:ruleParameters.{identifier}: the rule is not selected by "
                    f"configtrail:rules {json.dumps(self.rules)} (or is excluded), so its "
                    "parameters would have no effect; select the rule or remove the entry"
                )
        return self

    # --- derived values ------------------------------------------------------------------------

    @property
    def records(self) -> bool:
        """Whether this stack records its account (owns recorders, channels and rules)."""
        return self.stack_kind in RECORDING_KINDS

    @property
    def has_archive(self) -> bool:
        """Whether this stack holds an archive bucket."""
        return self.stack_kind in ARCHIVE_KINDS

    @property
    def other_regions(self) -> list[str]:
        return [region for region in self.regions if region != self.home_region]

    @property
    def effective_vault_retention_days(self) -> int:
        return self.vault_retention_days or self.retention_days

    @property
    def effective_vault_region(self) -> str:
        return self.vault_region or self.home_region

    @property
    def protect_archive(self) -> bool:
        return self.archive_protect

    def selected_ai_controls(self) -> list:
        """The AI controls chosen by `aiControls` minus `excludeAiControls` (catalog order)."""
        from configtrail import controls

        return controls.select(self.ai_controls, self.exclude_ai_controls)

    def selected_rules(self) -> list[catalog.ManagedRule]:
        """Catalog rules chosen by `rules` (packs or identifiers) and by the selected AI controls
        that rely on a managed rule, minus `excludeRules`."""
        from configtrail import controls

        chosen = set(self.rules) | set(controls.managed_identifiers(self.selected_ai_controls()))
        excluded = set(self.exclude_rules)
        return [
            rule
            for rule in catalog.managed_rules()
            if (rule.pack in chosen or rule.identifier in chosen)
            and rule.identifier not in excluded
        ]

    def rule_input_parameters(self, rule: catalog.ManagedRule) -> dict[str, str]:
        """The rule's parameters as AWS takes them (strings): catalog defaults, then this
        stack's `ruleParameters` overrides."""
        return rule.input_parameters(self.rule_parameters.get(rule.identifier, {}))


# --- loading -----------------------------------------------------------------------------------


def keys_for_kind(kind: str) -> list[str]:
    """The `configtrail:` keys a stack of `kind` may set."""
    return sorted(
        field.alias
        for name, field in Settings.model_fields.items()
        if name != "home_region" and kind in field_kinds(name)
    )


def _not_allowed(what: str, value: Any) -> str:
    return f"{value!r} is not {what}"


def _did_you_mean(value: str, choices) -> str:
    close = difflib.get_close_matches(str(value), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _field_aliases() -> dict[str, str]:
    """camelCase key -> field name, for every key a stack file may set (home_region excluded)."""
    return {
        field.alias or name: name
        for name, field in Settings.model_fields.items()
        if name != "home_region"
    }


def _is_text(annotation: Any) -> bool:
    """Whether a field holds text (str, an optional str, or string literals)."""
    import typing

    if annotation is str or typing.get_origin(annotation) is Literal:
        return True
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return typing.get_origin(annotation) in (typing.Union, __import__("types").UnionType) and (
        len(args) == 1 and _is_text(args[0])
    )


def _text_keys() -> frozenset[str]:
    """camelCase keys whose values are text: never JSON-decoded ("012345678901" stays text)."""
    return frozenset(
        field.alias or name
        for name, field in Settings.model_fields.items()
        if _is_text(field.annotation)
    )


def settings_keys() -> list[str]:
    """Every `configtrail:` key a stack file may set."""
    return sorted(_field_aliases())


def parse_config_value(raw: Any) -> Any:
    """Decode a config value the way the Pulumi engine hands it to a program: structured values
    (lists, maps, booleans, numbers) arrive as JSON text, plain strings as themselves."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def from_config(config: dict[str, Any], source: str) -> Settings:
    """Build settings from a flat stack-config mapping (`namespace:key` -> value).

    `source` names the stack file in every message. Keys of other namespaces (aws:, pulumi:) are
    not ours to police, except `aws:region`, which is required.
    """
    problems: list[str] = []
    aliases = _field_aliases()
    text = _text_keys()
    values: dict[str, Any] = {}
    for full_key, raw in config.items():
        namespace, _, key = full_key.rpartition(":")
        if namespace != NAMESPACE:
            if namespace not in OTHER_NAMESPACES and _did_you_mean(namespace, [NAMESPACE]):
                problems.append(
                    f"{source}: {full_key}: unknown namespace {namespace!r} (did you mean "
                    f"{NAMESPACE!r}?); ConfigTrail's settings are {NAMESPACE}:<key>"
                )
            continue
        if key not in aliases:
            hint = _did_you_mean(key, aliases)
            problems.append(
                f"{source}: {full_key}: unknown setting{hint}; "
                f"allowed keys: {', '.join(sorted(aliases))}"
            )
            continue
        if isinstance(raw, dict) and set(raw) == {"secure"}:
            problems.append(
                f"{source}: {full_key}: is a secret (`secure:`, set with `pulumi config set "
                "--secret`); ConfigTrail's settings are not secrets and must be readable to "
                "review: write the value in plain text"
            )
            continue
        values[key] = raw if key in text else parse_config_value(raw)

    region = config.get("aws:region")
    if region in (None, ""):
        problems.append(f"{source}: aws:region: missing; set the home region, e.g. us-east-1")
    else:
        values["homeRegion"] = parse_config_value(region)
    if problems:
        raise SettingsError(problems)

    try:
        return Settings.model_validate(values)
    except ValidationError as error:
        raise SettingsError(describe(error, values, source)) from None


# Map-valued settings whose validators name the bad entry themselves.
MAP_KEYS = ("tags", "ruleParameters", "aiControlParameters")


def describe(
    error: ValidationError, values: dict[str, Any], source: str, namespace: str = NAMESPACE
) -> list[str]:
    """One line per pydantic error: stack file, `namespace:key` (home region as `aws:region`),
    the value as written, and what is allowed."""
    problems = []
    for item in error.errors(include_url=False):
        location = [str(part) for part in item["loc"]]
        top = location[0] if location else ""
        key = "aws:region" if top == "homeRegion" else f"{namespace}:{top}" if top else namespace
        if len(location) > 1:
            key += "[" + "][".join(location[1:]) + "]"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            problems.append(f"{source}: {key}: missing (required); {_required_hint(top)}")
            continue
        if top in MAP_KEYS and len(location) == 1:
            # The message names the one bad entry; the whole map would bury it.
            problems.append(f"{source}: {key}: {message}")
        elif top:
            shown = values.get(top, item.get("input"))
            problems.append(f"{source}: {key} = {json.dumps(shown, default=str)}: {message}")
        else:
            problems.append(f"{source}: {message}")
    return problems


def _required_hint(alias: str) -> str:
    """What a required setting is, for the message that says it is missing."""
    for field in Settings.model_fields.values():
        if field.alias == alias and field.description:
            return field.description.split(" Required")[0]
    return "set it in the stack file"


# Top-level keys of a Pulumi stack file (sdk/go/common/workspace/project.go, ProjectStack).
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")


def read_stack_file(path: Path) -> dict[str, Any]:
    """The `config:` mapping of a Pulumi stack file, with bare keys put in our namespace.

    Raises SettingsError (never a traceback) for a missing or unreadable file, bad YAML, a key
    written twice, a wrong shape, or a setting outside `config:`.
    """
    document = files.read_yaml(path, "stack file")
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise SettingsError([f"{path}: a stack file must be a mapping with a 'config:' key"])
    stray = [key for key in document if key not in STACK_FILE_KEYS]
    if stray:
        raise SettingsError(
            [
                f"{path}: {key}: not a key of a Pulumi stack file (keys: "
                f"{', '.join(STACK_FILE_KEYS)}); settings go under config:, "
                f"e.g. config: {{{key}: ...}}"
                for key in stray
            ]
        )
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise SettingsError([f"{path}: config: must be a mapping of 'namespace:key: value'"])
    return {
        (key if ":" in str(key) else f"{NAMESPACE}:{key}"): value for key, value in config.items()
    }


def load(path: Path) -> Settings:
    """Read and validate one stack file."""
    return from_config(read_stack_file(path), str(path))
