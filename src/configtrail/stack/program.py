"""The ConfigTrail program: registers one stack of the estate, by its kind.

`build()` is what both the real Pulumi program (`infra/__main__.py`) and the offline plan run, so
the offline plan shows exactly the graph a real `pulumi preview` would register. The wiring lives
per concern: keys (`keys`), the history store (`history_store`), recording (`recording`) and the
organization aggregator (`aggregator`); this module chooses what a kind has and checks, before
registering anything else, that the credentials belong to the stack's account.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from configtrail import estate as estate_module
from configtrail.estate import Estate, Stack
from configtrail.settings import SettingsError
from configtrail.stack import names
from configtrail.stack.aggregator import OrganizationAggregator, OrganizationAggregatorArgs
from configtrail.stack.base import Account
from configtrail.stack.history_store import HistoryStoreArgs, build_history_store
from configtrail.stack.keys import KeysArgs, build_keys
from configtrail.stack.recording import Destination, RecordingArgs, build_recording

ENVIRONMENTS_DIR = estate_module.ENVIRONMENTS
# pulumi-aws loads its submodules lazily; these are the ones build() uses.
PROVIDER_MODULES = ("athena", "cfg", "glue", "iam", "kms", "s3", "sns")


class AccountMismatch(pulumi.RunError):
    """The credentials belong to another account than the stack file names."""


def import_provider_modules() -> None:
    """Load the pulumi-aws submodules the program uses (the offline plan does this once before
    it forks one worker per stack, so no worker pays for it again)."""
    import importlib

    for module in PROVIDER_MODULES:
        # pulumi-aws modules are lazy: only an attribute access really executes them.
        getattr(importlib.import_module(f"pulumi_aws.{module}"), "__doc__", None)


def _provider(stack: Stack) -> aws.Provider:
    """The one provider of the stack. `allowed_account_ids` makes the provider itself refuse
    every operation with credentials of another account ("AWS account ID not allowed")."""
    settings = stack.settings
    return aws.Provider(
        "aws",
        region=settings.home_region,
        allowed_account_ids=[settings.account_id],
        default_tags={"tags": settings.tags},
    )


def check_account(stack: Stack, provider: aws.Provider) -> None:
    """Stop before any resource is registered when the credentials' account is not the stack's."""
    identity = aws.get_caller_identity(opts=pulumi.InvokeOptions(provider=provider))
    if identity.account_id != stack.account_id:
        raise AccountMismatch(
            f"{stack.shown}: configtrail:accountId is {stack.account_id}, but the credentials "
            f"belong to account {identity.account_id} ({identity.arn}); nothing was registered. "
            f"Use credentials of account {stack.account_id} for stack {stack.name!r}."
        )


def destination_of(stack: Stack, estate: Estate, account: Account, store=None) -> Destination:
    """Where a recording stack's AWS Config delivers: its own archive, or its archive stack's."""
    if store is not None:
        return Destination(
            bucket_name=store.archive.name,
            bucket_arn=store.archive.arn,
            key_prefix=stack.settings.key_prefix,
            kms_key_arn=store.archive_key_arn,
            ready=[store.archive.policy],
        )
    archive = estate.archive_of(stack.name)
    bucket = names.bucket_name(archive.name, "archive", archive.account_id, archive.home_region)
    return Destination(
        bucket_name=bucket,
        bucket_arn=pulumi.Output.concat("arn:", account.partition, ":s3:::", bucket),
        key_prefix=archive.settings.key_prefix,
    )


def build(stack: Stack, estate: Estate) -> dict[str, Any]:
    """Register every resource of the stack; return the stack outputs."""
    settings = stack.settings
    provider = _provider(stack)
    check_account(stack, provider)
    opts = pulumi.ResourceOptions(provider=provider)
    partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(provider=provider))
    account = Account(
        account_id=pulumi.Output.from_input(settings.account_id), partition=partition.partition
    )
    outputs: dict[str, Any] = {
        "stackKind": settings.stack_kind,
        "accountId": settings.account_id,
        "homeRegion": settings.home_region,
    }
    delivering = estate.delivering_accounts(stack.name) if settings.has_archive else []
    keys = build_keys(
        KeysArgs(
            stack=stack.name, settings=settings, account=account, delivering_accounts=delivering
        ),
        opts,
    )
    if keys:
        outputs["kmsKeyArns"] = {region: key.arn for region, key in keys.items()}

    store = None
    if settings.has_archive:
        recorded = (
            stack.regions
            if settings.stack_kind == "standalone"
            else sorted({r for m in estate.members_of(stack.name) for r in m.regions})
        )
        store = build_history_store(
            HistoryStoreArgs(
                stack=stack.name,
                settings=settings,
                account=account,
                delivering_accounts=delivering,
                recorded_regions=recorded or [settings.home_region],
                keys=keys,
            ),
            opts,
        )
        outputs.update(store.outputs)

    if settings.records:
        outputs.update(
            build_recording(
                RecordingArgs(
                    stack=stack.name,
                    settings=settings,
                    account=account,
                    destination=destination_of(stack, estate, account, store),
                    keys=keys,
                ),
                opts,
            )
        )

    if settings.stack_kind == "aggregator":
        aggregator = OrganizationAggregator(
            "organization",
            OrganizationAggregatorArgs(
                aggregator_name=names.aggregator_name(stack.name),
                role_name=f"{names.resource_prefix(stack.name)}-aggregator",
                account=account,
                region=settings.home_region,
            ),
            opts,
        )
        outputs["aggregatorArn"] = aggregator.arn
        outputs["aggregatorName"] = aggregator.name
    return outputs


def stack_name(qualified: str) -> str:
    """The stack file's name of a stack name; a qualified name (org/project/stack) uses its
    last part."""
    return qualified.rsplit("/", 1)[-1]


def stack_from_runtime(directory: Path = ENVIRONMENTS_DIR) -> tuple[Stack, Estate]:
    """The running stack and its estate. The engine's config for the stack must be what its
    stack file says (a `--config` override would let a deploy differ from the reviewed file)."""
    from configtrail import settings as settings_module

    name = stack_name(pulumi.get_stack())
    estate = estate_module.load(directory)
    if name not in estate.stacks:
        raise SettingsError(
            [
                f"stack {pulumi.get_stack()!r}: no stack file "
                f"{estate_module.shown(estate_module.stack_path(name, directory))} "
                f"(stacks: {', '.join(estate.names()) or 'none'})"
            ]
        )
    stack = estate[name]
    running = settings_module.from_config(engine_config(), stack.shown)
    if running != stack.settings:
        raise SettingsError(
            [
                f"{stack.shown}: the engine's configuration of stack {pulumi.get_stack()!r} "
                "differs from the stack file; deploy what the file says (no --config overrides)"
            ]
        )
    return stack, estate


def engine_config() -> dict[str, str]:
    """The stack's configuration as the engine passed it, read through `pulumi.Config` (every key
    a stack file may set, and `aws:region`)."""
    from configtrail import settings as settings_module

    ours = pulumi.Config(settings_module.NAMESPACE)
    found = {
        f"{settings_module.NAMESPACE}:{key}": ours.get(key)
        for key in settings_module.settings_keys()
    }
    found["aws:region"] = pulumi.Config("aws").get("region")
    return {key: value for key, value in found.items() if value is not None}


def main() -> None:
    """Entry point of the real program: validate the estate, then register and export."""
    try:
        stack, estate = stack_from_runtime()
    except SettingsError as error:
        raise pulumi.RunError("\n".join(error.problems)) from None
    for key, value in build(stack, estate).items():
        pulumi.export(key, value)
