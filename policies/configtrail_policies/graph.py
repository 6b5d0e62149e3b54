"""The stack as stack policies see it (`args.resources` of AnalyzeStack, already narrowed to the
policy's resource types): resources by type, the bucket each S3 companion resource belongs to, the
bucket a delivery channel names, regions.

A companion belongs to a bucket when its `bucket` property names the bucket, or when the engine
recorded that `bucket` was computed from the bucket resource (property dependencies) — the second
works even when the name is unknown during preview.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from configtrail_policies import types
from configtrail_policies.support import Unseen, peek, region_of


def bucket_name_of(props: Any) -> Any:
    """The bucket name a bucket or bucket companion carries (None if absent)."""
    return peek(props, "bucket")


class StackGraph:
    def __init__(self, resources: Iterable[Any]):
        self.resources = list(resources)
        self._by_type: dict[str, list[Any]] = defaultdict(list)
        for resource in self.resources:
            self._by_type[resource.resource_type].append(resource)
        self._buckets = [r for kind in sorted(types.BUCKET) for r in self._by_type.get(kind, [])]
        self._bucket_by_name = {
            name: bucket
            for bucket in self._buckets
            if isinstance(name := self.bucket_name(bucket), str)
        }
        self._bucket_urns = {bucket.urn: bucket for bucket in self._buckets}
        # Companions indexed once, so every lookup is O(1) however large the stack is.
        self._companions: dict[str, list[Any]] = defaultdict(list)
        for kind in sorted(types.BUCKET_COMPANIONS):
            for resource in self._by_type.get(kind, []):
                bucket = self._bucket_for(resource, "bucket")
                if bucket is not None:
                    self._companions[bucket.urn].append(resource)

    def of_type(self, *kinds: str | Iterable[str]) -> list[Any]:
        found = []
        for kind in kinds:
            for token in [kind] if isinstance(kind, str) else sorted(kind):
                found.extend(self._by_type.get(token, []))
        return found

    def buckets(self) -> list[Any]:
        return list(self._buckets)

    @staticmethod
    def bucket_name(bucket: Any) -> Any:
        return bucket_name_of(bucket.props)

    def _bucket_for(self, resource: Any, name_key: str) -> Any | None:
        """The stack bucket `resource.props[name_key]` refers to, by name or by dependency."""
        name = peek(resource.props, name_key)
        if isinstance(name, str) and name in self._bucket_by_name:
            return self._bucket_by_name[name]
        for dependency in (resource.property_dependencies or {}).get(name_key, []):
            if dependency.urn in self._bucket_urns:
                return self._bucket_urns[dependency.urn]
        return None

    def attached(self, bucket: Any, kinds: Iterable[str]) -> list[Any]:
        """Companions of `kinds` (versioning, policy, ...) that belong to `bucket`."""
        wanted = set(kinds)
        return [r for r in self._companions.get(bucket.urn, []) if r.resource_type in wanted]

    def channel_bucket(self, channel: Any) -> Any | None:
        return self._bucket_for(channel, "s3BucketName")

    def bucket_named_by(self, resource: Any, name_key: str = "bucket") -> Any | None:
        """The stack bucket `resource.props[name_key]` names (by name or by dependency), for a
        resource of any type (ownership controls, ACLs, logging, replication)."""
        return self._bucket_for(resource, name_key)

    def bucket_called(self, name: str) -> Any | None:
        """The stack bucket whose `bucket` name is `name`, if any."""
        return self._bucket_by_name.get(name)

    @staticmethod
    def region(resource: Any) -> str | None:
        """The resource's region, or None when the pack cannot place it (reported by
        aws-provider-region-known, so region rules skip such resources)."""
        region = region_of(resource.props, resource.provider)
        return None if isinstance(region, Unseen) else region
