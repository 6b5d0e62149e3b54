"""Required tags on every taggable AWS resource.

Whether a type takes `tags` is data the pack carries (`data/taggable.json`, read from the public
`<Resource>Args` classes of the pulumi-aws release the repository pins). A pulumi-aws type the data
does not list — a newer or older provider — fails closed: it is held to the tags like a taggable
type, and when it lacks them the finding says that the pack cannot tell whether the type takes
tags. The policy is mandatory unless a stack's config lowers it (dev's does), so a missing tag
never hides behind an unknown type.

Stack policies, not resource policies: a tag is an ownership and cost label, not a guard of the
history, so judging the whole stack once (before any deploy, in the pull request's preview) is
enough — and it spares the engine one more policy on every resource.

A resource's effective tags are the provider's `defaultTags` (which the engine passes as a JSON
string) merged with its own `tags` and, after an update, the provider-computed `tagsAll`.
"""

from __future__ import annotations

import json

from configtrail_policies import data
from configtrail_policies.definition import WAIT, stack_policy, string_list
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
        known = taggable(resource.resource_type)
        if known is False:
            continue
        sources = [
            _provider_tags(resource.provider),
            peek(resource.props, "tags", default={}) or {},
            peek(resource.props, "tagsAll", default={}) or {},
        ]
        if not wait_or_fail(sources, f"The tags of {resource.name!r}", report, "tags"):
            continue
        tags = {key: value for source in sources for key, value in source.items()}
        missing = [key for key in required if not str(tags.get(key) or "").strip()]
        if missing and known is None:
            report(
                f"{resource.name!r} has no {names(missing)} tag(s), and its type "
                f"{resource.resource_type} is not a resource of {data.taggable_source()}, which "
                "the pack's data describes, so the pack cannot tell whether it takes tags and "
                "holds it to them. Tag it, or regenerate the pack's data for the pulumi-aws "
                "release this stack uses (make pack-data).",
                resource.urn,
            )
        elif missing:
            report(
                f"{resource.name!r} has no {names(missing)} tag(s). Add them to configtrail:tags "
                "(the provider's default tags) or to the resource's tags.",
                resource.urn,
            )
