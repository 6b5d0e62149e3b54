"""What every component shares: the account it deploys into, and how children are attached."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi

PROJECT_TYPE_PREFIX = "configtrail"


@dataclass(frozen=True)
class Account:
    """The AWS account and partition the stack deploys into (resolved by the provider)."""

    account_id: pulumi.Output[str]
    partition: pulumi.Output[str]

    @property
    def workload_boundary(self) -> pulumi.Output[str]:
        """The permissions boundary every role of the stack carries (the bootstrap project
        creates it; the pipeline's deploy roles may create only roles that carry it)."""
        from configtrail.stack import names

        return pulumi.Output.all(self.partition, self.account_id).apply(
            lambda v: names.workload_boundary_arn(*v)
        )


def child(
    parent: pulumi.Resource,
    *,
    depends_on: list[pulumi.Resource] | None = None,
    protect: bool = False,
    import_id: str | None = None,
    delete_before_replace: bool = False,
) -> pulumi.ResourceOptions:
    """Options for a component's child. `protect` also sets `retain_on_delete`: a protected
    history resource must survive both `pulumi destroy` and a merge that drops it from code."""
    return pulumi.ResourceOptions(
        parent=parent,
        depends_on=depends_on or [],
        protect=protect,
        retain_on_delete=protect or None,
        import_=import_id,
        delete_before_replace=delete_before_replace or None,
    )


def json_policy(*values: Any, build: Callable[..., dict]) -> pulumi.Output[str]:
    """`build(*resolved values)` as canonical JSON (sorted keys, so diffs stay quiet)."""
    return pulumi.Output.all(*values).apply(lambda v: json.dumps(build(*v), sort_keys=True))
