"""Resource states as the engine puts them on the wire to a policy pack (Analyzer protocol).

Mirrors pulumi/pkg/resource/plugin/analyzer_plugin.go and the step generator:
- `Analyze` gets a resource's *inputs*; `AnalyzeStack` gets every resource's *outputs*, with
  parent, dependencies and property dependencies;
- properties travel as a protobuf Struct (so every number becomes a float), unknowns as the
  engine's unknown sentinel string, secrets as `{sig: secret, value: ...}` objects; internal keys
  (`__defaults`, ...) are skipped;
- options carry `protect` and the parent, not `retainOnDelete` (the protocol has no such field);
- the provider travels with its *inputs*.

A secret that a stack export holds only as ciphertext cannot be decrypted offline; it is sent as
unknown, so policies treat it exactly like a value not known during preview.
"""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from configtrail.policy.inputs import Deployment, State

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def wire_value(value: Any) -> Any:
    """A state value as MarshalProperties(KeepUnknowns, KeepSecrets, SkipInternalKeys) sends it."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            if "plaintext" in value:
                try:
                    plain = json.loads(value["plaintext"])
                except (TypeError, ValueError):
                    plain = value["plaintext"]
                return {SIG_KEY: SECRET_SIG, "value": wire_value(plain)}
            if "value" in value:
                return {SIG_KEY: SECRET_SIG, "value": wire_value(value["value"])}
            return UNKNOWN  # ciphertext only
        return {key: wire_value(item) for key, item in value.items() if not key.startswith("__")}
    if isinstance(value, list):
        return [wire_value(item) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    return str(value)


def struct(properties: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(wire_value(properties))
    return message


class Wire:
    """Builds Analyzer requests for the resources of one deployment."""

    def __init__(self, deployment: Deployment):
        self.deployment = deployment
        self._by_urn = {state.urn: state for state in deployment.resources}
        self._providers: dict[str, analyzer_pb2.AnalyzerProviderResource | None] = {}

    def provider(self, state: State) -> analyzer_pb2.AnalyzerProviderResource | None:
        reference = state.provider
        if not reference:
            return None
        if reference not in self._providers:
            urn = reference.rsplit("::", 1)[0]  # "<provider urn>::<provider id>"
            provider = self._by_urn.get(urn)
            self._providers[reference] = (
                None
                if provider is None
                else (
                    analyzer_pb2.AnalyzerProviderResource(
                        type=provider.type,
                        properties=struct(provider.inputs),
                        urn=provider.urn,
                        name=provider.name,
                    )
                )
            )
        return self._providers[reference]

    @staticmethod
    def options(state: State) -> analyzer_pb2.AnalyzerResourceOptions:
        return analyzer_pb2.AnalyzerResourceOptions(
            protect=state.protect,
            additionalSecretOutputs=state.additional_secret_outputs,
            aliases=state.aliases,
            parent=state.parent,
            customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(),
        )

    def analyze_request(self, state: State) -> analyzer_pb2.AnalyzeRequest:
        request = analyzer_pb2.AnalyzeRequest(
            type=state.type,
            properties=struct(state.inputs),
            urn=state.urn,
            name=state.name,
            options=self.options(state),
        )
        provider = self.provider(state)
        if provider is not None:
            request.provider.CopyFrom(provider)
        return request

    def stack_resource(self, state: State) -> analyzer_pb2.AnalyzerResource:
        resource = analyzer_pb2.AnalyzerResource(
            type=state.type,
            properties=struct(state.outputs),
            urn=state.urn,
            name=state.name,
            options=self.options(state),
            parent=state.parent,
            dependencies=state.dependencies,
            propertyDependencies={
                key: analyzer_pb2.AnalyzerPropertyDependencies(urns=urns)
                for key, urns in state.property_dependencies.items()
                if urns
            },
        )
        provider = self.provider(state)
        if provider is not None:
            resource.provider.CopyFrom(provider)
        return resource

    def analyze_requests(self) -> list[analyzer_pb2.AnalyzeRequest]:
        """One request per resource the program registers (reads of external resources are not
        analyzed by the engine)."""
        return [self.analyze_request(s) for s in self.deployment.resources if not s.external]

    def analyze_stack_request(self) -> analyzer_pb2.AnalyzeStackRequest:
        return analyzer_pb2.AnalyzeStackRequest(
            resources=[self.stack_resource(s) for s in self.deployment.resources]
        )
