"""The stack's customer-managed KMS keys: one per region that needs one.

The archive's key (home region) and the vault's key exist when the archive is KMS-encrypted; every
region with a notification topic needs a key too, because AWS-managed SNS keys do not let AWS
Config publish. The archive's key admits AWS Config of every account that delivers to the
archive; every other key admits this account's Config only.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from configtrail.settings import Settings
from configtrail.stack import names
from configtrail.stack.archive import ConfigKey, ConfigKeyArgs
from configtrail.stack.base import Account


@dataclass(frozen=True)
class KeysArgs:
    stack: str
    settings: Settings
    account: Account
    delivering_accounts: list[str]


def key_regions(settings: Settings) -> list[str]:
    """Regions where the stack needs a ConfigTrail key."""
    regions = set()
    if settings.has_archive and settings.archive_encryption == "kms":
        regions.add(settings.home_region)
        if settings.vault:
            regions.add(settings.effective_vault_region)
    if settings.records and settings.notifications:
        regions.update(settings.regions)
    return sorted(regions)


def build_keys(args: KeysArgs, opts: pulumi.ResourceOptions) -> dict[str, ConfigKey]:
    """Register one ConfigKey per region that needs one."""
    settings = args.settings
    archive_key_region = (
        settings.home_region
        if settings.has_archive and settings.archive_encryption == "kms"
        else None
    )
    topic_regions = settings.regions if settings.records and settings.notifications else []

    def config_accounts(region: str) -> list[str]:
        if region == archive_key_region:
            return args.delivering_accounts
        # A topic key: this account's Config publishes; the vault's key needs no Config grant.
        return [settings.account_id] if region in topic_regions else []

    return {
        region: ConfigKey(
            f"key-{region}",
            ConfigKeyArgs(
                region=region,
                alias=names.key_alias(args.stack, region).removeprefix("alias/"),
                account=args.account,
                protect=settings.archive_protect,
                config_accounts=config_accounts(region),
                organization_id=settings.organization_id if region == archive_key_region else None,
            ),
            opts,
        )
        for region in key_regions(settings)
    }
