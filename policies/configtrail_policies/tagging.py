"""Required tags on every taggable AWS resource, and knowing which resources are taggable.

Whether a type takes `tags` is data the pack carries (`data/taggable.json`, read from the public
`<Resource>Args` classes of the pulumi-aws release the repository pins). A pulumi-aws type the data
does not list — a newer or older provider — is not guessed at: `aws-taggable-resource-type-known`
reports it (mandatory), so a missing tag can never hide behind an unknown type.

Stack policies, not resource policies: a tag is an ownership and cost label, not a guard of the
history, so judging the whole stack once (before any deploy, in the pull request's preview) is
enough — and it spares the engine one more policy on every resource.

A resource's effective tags are the provider's `defaultTags` (which the engine passes as a JSON
string) merged with its own `tags` and, after an update, the provider-computed `tagsAll`.
"""

from __future__ import annotations

import json

from configtrail_policies import data
from configtrail_policies.definition import NOT_AFFECTED, WAIT, stack_policy, string_list
from configtrail_policies.support import Unseen, names, peek, wait_or_fail

AWS_TYPES = ("aws:*",)


def taggable(resource_type: str) -> bool | None:
    """Whether the pulumi-aws resource type takes tags; None when the pack's data does not say."""
    package, _, rest = resource_type.partition(":")
    module, _, class_name = rest.partition(":")
    if package != "aws" or not class_name:
        return False
    return data.taggable_types().get(f"{module.split('/', 1)[0]}:{class_name}")


def _provider_tags(provider) -> dict | Unseen:
    if provider is None:
        return {}
    raw = peek(provider.props, "defaultTags")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    if isinstance(raw, Unseen):
        return raw
    tags = (raw or {}).get("tags") if isinstance(raw, dict) else None
    return tags if isinstance(tags, Unseen) else dict(tags or {})


@stack_policy(
    name="aws-taggable-resource-required-tags",
    description="Taggable resources must carry the required tags, directly or from the "
    "provider's default tags.",
    level="advisory",
    severity="low",
    unknowns=WAIT,
    types=AWS_TYPES,
    config={
        "requiredTags": string_list(
            "Tag keys every taggable resource must carry (its own tags or the provider's "
            "default tags).",
            data.required_tags(),
        ),
    },
    remediation="Add the missing keys to configtrail:tags (the provider's default_tags).",
)
def required_tags(args, report, settings) -> None:
    required = settings["requiredTags"]
    for resource in args.resources:
        if not taggable(resource.resource_type):
            continue  # untaggable, or unknown to the pack (aws-taggable-resource-type-known)
        sources = [
            _provider_tags(resource.provider),
            peek(resource.props, "tags", default={}) or {},
            peek(resource.props, "tagsAll", default={}) or {},
        ]
        if not wait_or_fail(sources, f"The tags of {resource.name!r}", report, "tags"):
            continue
        tags = {key: value for source in sources for key, value in source.items()}
        missing = [key for key in required if not str(tags.get(key) or "").strip()]
        if missing:
            report(
                f"{resource.name!r} has no {names(missing)} tag(s). Add them to configtrail:tags "
                "(the provider's default tags) or to the resource's tags.",
                resource.urn,
            )


@stack_policy(
    name="aws-taggable-resource-type-known",
    description="The pack must know whether every AWS resource type of the stack takes tags.",
    severity="medium",
    unknowns=NOT_AFFECTED,  # reads only resource types, which are always known
    types=AWS_TYPES,
    remediation="Regenerate the pack's data for the pulumi-aws release the stack uses (python -m "
    "configtrail.policy.packdata) or use the release the pack was made for.",
)
def taggable_type_known(args, report, settings) -> None:
    unknown: dict[str, list[str]] = {}
    for resource in args.resources:
        if taggable(resource.resource_type) is None:
            unknown.setdefault(resource.resource_type, []).append(resource.name)
    for resource_type, resources in sorted(unknown.items()):
        report(
            f"{resource_type} ({names(sorted(resources)[:3])}"
            f"{f' and {len(resources) - 3} more' if len(resources) > 3 else ''}) is not a "
            f"resource of {data.taggable_source()}, which the pack's data describes, so the pack "
            "cannot tell whether it must carry the required tags. Regenerate the data for the "
            "provider release this stack uses (python -m configtrail.policy.packdata)."
        )
