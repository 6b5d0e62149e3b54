"""A MockMonitor that records every resource registration the way the engine would persist it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor, Mocks


def plain_value(value: Any) -> Any:
    """Wire values as JSON: unknowns become the engine's unknown sentinel string."""
    if isinstance(value, dict):
        return {key: plain_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_value(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    # pulumi.output.Unknown and anything else unresolved
    return rpc.UNKNOWN


@dataclass
class CapturedResource:
    """One registered resource, in `pulumi stack export` terms."""

    urn: str
    type: str
    name: str
    custom: bool
    id: str | None
    parent: str
    provider: str
    inputs: dict
    outputs: dict
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    retain_on_delete: bool
    import_id: str
    delete_before_replace: bool = False
    extra: dict = field(default_factory=dict)


class CapturingMonitor(MockMonitor):
    """Sees the whole RegisterResource request (parent, dependencies, property dependencies,
    protect, retainOnDelete, importId, provider) and keeps it with the mocked outputs."""

    def __init__(self, mocks: Mocks):
        super().__init__(mocks)
        self.captured: list[CapturedResource] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine forms them: the full chain of parent types, without the Stack."""
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != "pulumi:pulumi:Stack":
                type_ = f"{parent_type}${type_}"
        return super().make_urn("", type_, name)

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        outputs = (
            rpc.deserialize_properties(response.object, keep_unknowns=True)
            if response.object is not None and request.type != "pulumi:pulumi:Stack"
            else {}
        )
        self.captured.append(
            CapturedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                id=response.id or None,
                parent=request.parent,
                provider=request.provider,
                inputs=plain_value(inputs),
                outputs=plain_value(outputs),
                dependencies=sorted(set(request.dependencies)),
                property_dependencies={
                    key: sorted(set(value.urns))
                    for key, value in request.propertyDependencies.items()
                },
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                import_id=request.importId,
                delete_before_replace=bool(request.deleteBeforeReplace),
            )
        )
        return response
