"""The estate: every stack file in environments/, loaded and checked together.

A stack file describes one stack in one AWS account (`configtrail:accountId`) of one kind
(`configtrail:stackKind`). AWS Config is a singleton per account and region — one customer
recorder, one delivery channel, one retention configuration, and one service-linked role per
account — and the APIs that create them overwrite what is there. So stack files are never judged
alone: two stacks that would own the same singleton are refused here, before anything runs, and
members are matched with the archive they deliver to.

Every command that works with stacks (plan, policy, bootstrap, history, the real program) loads
stacks through this module, so they all see the same estate and the same errors.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from configtrail import settings as settings_module
from configtrail.settings import Settings, SettingsError

REPO_ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = REPO_ROOT / "environments"
STACK_FILE = re.compile(r"^Pulumi\.(?P<name>.+)\.yaml$")
_STACK_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Bucket names: "configtrail-<stack>-<kind>-<12-digit account>-<region>", at most 63 characters.
BUCKET_NAME_LIMIT = 63
# Deploy order: archives (and self-contained standalone stacks) first, then the members that
# deliver to them, then the aggregators that read the whole organization.
_WAVE = {"archive": 0, "standalone": 0, "member": 1, "aggregator": 2}


@dataclass(frozen=True)
class Stack:
    """One stack file, validated."""

    name: str
    path: Path
    settings: Settings
    config: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.settings.stack_kind

    @property
    def account_id(self) -> str:
        return self.settings.account_id

    @property
    def home_region(self) -> str:
        return self.settings.home_region

    @property
    def regions(self) -> list[str]:
        """Regions this stack records (none for archive and aggregator stacks)."""
        return list(self.settings.regions)

    @property
    def shown(self) -> str:
        """The stack file's path as messages show it (relative to the repository)."""
        return shown(self.path)


@dataclass(frozen=True, order=True)
class Singleton:
    """Something AWS allows once per account (region None) or once per account and region."""

    what: str
    account_id: str
    region: str | None

    def describe(self) -> str:
        where = f"account {self.account_id}" + (f" in {self.region}" if self.region else "")
        return f"the {self.what} of {where}"


def singletons(settings: Settings) -> list[Singleton]:
    """The per-account singletons a stack with these settings creates (or adopts and manages)."""
    if not settings.records:
        return []
    account = settings.account_id
    owned = []
    for region in settings.regions:
        if settings.existing_recorder != "skip":
            owned.append(Singleton("configuration recorder", account, region))
            owned.append(Singleton("delivery channel", account, region))
        owned.append(Singleton("retention configuration", account, region))
    if settings.recorder_role == "service-linked" and settings.service_linked_role == "create":
        owned.append(Singleton("service-linked role AWSServiceRoleForConfig", account, None))
    return owned


class Estate:
    """Every stack of the repository, checked together."""

    def __init__(self, stacks: dict[str, Stack]):
        self.stacks = dict(sorted(stacks.items(), key=lambda item: _order_key(item[1])))

    def __getitem__(self, name: str) -> Stack:
        return self.stacks[name]

    def names(self) -> list[str]:
        """Stack names in deploy order."""
        return list(self.stacks)

    def of_kind(self, kind: str) -> list[Stack]:
        return [stack for stack in self.stacks.values() if stack.kind == kind]

    def archive_of(self, name: str) -> Stack:
        """The stack holding the archive that stack `name` delivers to (itself if standalone)."""
        stack = self.stacks[name]
        if stack.kind in ("standalone", "archive"):
            return stack
        if stack.kind != "member":
            raise ValueError(f"a {stack.kind} stack delivers nowhere")
        if stack.settings.archive_stack is not None:
            return self.stacks[stack.settings.archive_stack]
        (archive,) = self.of_kind("archive")
        return archive

    def members_of(self, archive: str) -> list[Stack]:
        """The member stacks that deliver to the archive of stack `archive`."""
        return [
            stack
            for stack in self.stacks.values()
            if stack.kind == "member" and self.archive_of(stack.name).name == archive
        ]

    def delivering_accounts(self, archive: str) -> list[str]:
        """Accounts whose AWS Config may deliver into the archive of stack `archive`: the
        archive's members (a standalone archive receives its own account only)."""
        stack = self.stacks[archive]
        if stack.kind == "standalone":
            return [stack.account_id]
        return sorted({member.account_id for member in self.members_of(archive)})

    def recorded(self) -> list[tuple[str, str, str]]:
        """Every (account, region, stack) the estate records: what an auditor expects to find
        delivered every day."""
        return sorted(
            (stack.account_id, region, stack.name)
            for stack in self.stacks.values()
            for region in stack.regions
        )

    def accounts(self) -> dict[str, list[str]]:
        """Account id -> the stacks deployed into it."""
        found: dict[str, list[str]] = defaultdict(list)
        for stack in self.stacks.values():
            found[stack.account_id].append(stack.name)
        return dict(sorted(found.items()))

    def deploy_order(self) -> list[list[str]]:
        """Waves of stacks that can deploy together, in order: archives and standalone stacks,
        then members, then aggregators."""
        waves: dict[int, list[str]] = defaultdict(list)
        for stack in self.stacks.values():
            waves[_WAVE[stack.kind]].append(stack.name)
        return [waves[index] for index in sorted(waves)]


def _order_key(stack: Stack) -> tuple[int, str]:
    return (_WAVE[stack.kind], stack.name)


def shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def stack_path(name: str, directory: Path = ENVIRONMENTS) -> Path:
    return directory / f"Pulumi.{name}.yaml"


def stack_names(directory: Path = ENVIRONMENTS) -> list[str]:
    """Names of the stack files in `directory`, sorted."""
    found = []
    for path in directory.glob("Pulumi.*.yaml"):
        match = STACK_FILE.match(path.name)
        if match:
            found.append(match["name"])
    return sorted(found)


def stack_name_problems(settings: Settings, name: str, source: str) -> list[str]:
    """Problems that come from the stack name rather than a setting: S3 bucket names are
    lowercase and at most 63 characters, and this stack's bucket names embed the stack name."""
    from configtrail.stack import names

    if not _STACK_NAME.match(name):
        return [
            f"{source}: stack name {name!r} must be lowercase letters, digits and '-' "
            "(it becomes part of AWS resource names)"
        ]
    if not settings.has_archive:
        return []
    regions = [settings.home_region, settings.effective_vault_region]
    longest = max(
        len(names.bucket_name(name, "archive", settings.account_id, region)) for region in regions
    )
    if longest > BUCKET_NAME_LIMIT:
        return [
            f"{source}: stack name {name!r} is too long: bucket names would have {longest} "
            f"characters (S3 allows {BUCKET_NAME_LIMIT}); use at most "
            f"{len(name) - (longest - BUCKET_NAME_LIMIT)} characters"
        ]
    return []


def read_stack(name: str, directory: Path = ENVIRONMENTS) -> Stack:
    """One stack file, validated on its own (SettingsError with every problem)."""
    path = stack_path(name, directory)
    source = shown(path)
    raw = settings_module.read_stack_file(path)
    settings = settings_module.from_config(raw, source)
    problems = stack_name_problems(settings, name, source)
    if problems:
        raise SettingsError(problems)
    return Stack(name=name, path=path, settings=settings, config=raw)


def load(directory: Path = ENVIRONMENTS) -> Estate:
    """Every stack file of `directory`, validated one by one and then together.

    Raises SettingsError naming every problem (file, key, value, what is allowed) before
    anything is registered anywhere.
    """
    stacks: dict[str, Stack] = {}
    problems: list[str] = []
    for name in stack_names(directory):
        try:
            stacks[name] = read_stack(name, directory)
        except SettingsError as error:
            problems += error.problems
    if problems:
        raise SettingsError(problems)
    estate = Estate(stacks)
    problems = _archive_problems(estate) + _singleton_problems(estate)
    if not problems:
        problems = _retention_problems(estate)
    if problems:
        raise SettingsError(problems)
    return estate


def _archive_problems(estate: Estate) -> list[str]:
    """Every member names an archive stack that exists (or the estate has exactly one)."""
    problems = []
    archives = [stack.name for stack in estate.of_kind("archive")]
    for stack in estate.of_kind("member"):
        wanted = stack.settings.archive_stack
        if wanted is None:
            if len(archives) != 1:
                problems.append(
                    f"{stack.shown}: configtrail:archiveStack: missing; the estate has "
                    f"{len(archives)} archive stacks ({', '.join(archives) or 'none'}), so a "
                    "member must name the one it delivers to"
                    + ("" if archives else " (add a stack file with stackKind: archive)")
                )
        elif wanted not in estate.stacks:
            problems.append(
                f"{stack.shown}: configtrail:archiveStack = {wanted!r}: no stack file "
                f"{shown(stack.path.parent / f'Pulumi.{wanted}.yaml')} "
                f"(archive stacks: {', '.join(archives) or 'none'})"
            )
        elif estate[wanted].kind != "archive":
            problems.append(
                f"{stack.shown}: configtrail:archiveStack = {wanted!r}: that stack is a "
                f"{estate[wanted].kind!r} stack, not an 'archive' stack "
                f"(archive stacks: {', '.join(archives) or 'none'})"
            )
    return problems


def _singleton_problems(estate: Estate) -> list[str]:
    """No two stacks own one account's recorder, channel, retention or service-linked role."""
    owners: dict[Singleton, list[Stack]] = defaultdict(list)
    for stack in estate.stacks.values():
        for singleton in singletons(stack.settings):
            owners[singleton].append(stack)
    problems = []
    for singleton, stacks in sorted(owners.items()):
        if len(stacks) < 2:
            continue
        files = " and ".join(stack.shown for stack in stacks)
        problems.append(
            f"{files}: both would own {singleton.describe()}; AWS allows one, and a second "
            f"deploy silently overwrites (or fails on) the first. {_remedy(singleton)}"
        )
    return problems


def _remedy(singleton: Singleton) -> str:
    if singleton.region is None:
        return (
            "Let one stack create it and set configtrail:serviceLinkedRole: existing on the others."
        )
    return (
        "Record each account and region in one stack only: split configtrail:regions between "
        "the stacks, or set configtrail:existingRecorder: skip where another stack (or Control "
        "Tower) records."
    )


def _retention_problems(estate: Estate) -> list[str]:
    """An archive keeps history at least as long as AWS Config keeps it in any member."""
    problems = []
    for archive in estate.of_kind("archive"):
        expiry = archive.settings.archive_expiration_days
        if expiry is None:
            continue
        for member in estate.members_of(archive.name):
            if expiry < member.settings.retention_days:
                problems.append(
                    f"{archive.shown}: configtrail:archiveExpirationDays = {expiry}: must be at "
                    f"least the retentionDays of every member delivering to it; "
                    f"{member.shown} keeps {member.settings.retention_days} days"
                )
    return problems
