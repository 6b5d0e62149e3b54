"""Required tags on every taggable resource.

A resource is taggable when its pulumi-aws class takes a `tags` argument — read from the
installed provider SDK, so the list never goes stale. Its effective tags are the provider's
`defaultTags` (which the engine passes to policies as a JSON string) merged with its own `tags`.
"""

from __future__ import annotations

import importlib
import inspect
import json
import threading
from functools import cache

from configtrail_policies.config import settings_for
from configtrail_policies.support import names

# The engine calls Analyze concurrently (the SDK serves it from 4 threads). Two threads importing
# the same pulumi-aws module at once can see it half-initialised — the class missing — and the
# cache would then remember "not taggable" for the whole run; one import at a time.
_IMPORT_LOCK = threading.Lock()


@cache
def taggable(resource_type: str) -> bool:
    """True when the pulumi-aws resource class of `resource_type` accepts `tags`."""
    package, _, rest = resource_type.partition(":")
    module, _, class_name = rest.partition(":")
    module = module.split("/", 1)[0]
    if package != "aws" or not class_name or module == "index":
        return False
    try:
        with _IMPORT_LOCK:
            cls = getattr(importlib.import_module(f"pulumi_aws.{module}"), class_name)
        return "tags" in inspect.signature(cls._internal_init).parameters
    except (ImportError, AttributeError, TypeError, ValueError):
        return False


def _default_tags(provider) -> dict:
    if provider is None:
        return {}
    raw = provider.props.get("defaultTags")  # waits for known provider config
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    tags = (raw or {}).get("tags") if hasattr(raw, "get") else None
    return dict(tags or {})


def required_tags(args, report) -> None:
    if not taggable(args.resource_type):
        return
    required = settings_for("aws-taggable-resource-required-tags", args.get_config())[
        "requiredTags"
    ]
    tags = {**_default_tags(args.provider), **dict(args.props.get("tags") or {})}
    missing = [key for key in required if not str(tags.get(key) or "").strip()]
    if missing:
        report(
            f"{args.name!r} has no {names(missing)} tag(s). Add them to configtrail:tags (the "
            "provider's default tags) or to the resource's tags."
        )
