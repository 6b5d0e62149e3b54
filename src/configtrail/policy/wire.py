"""Resource states as the engine puts them on the wire to a policy pack (Analyzer protocol).

Mirrors pulumi's analyzer plugin (sdk/go/common/resource/plugin/analyzer_plugin.go) and its
offline `pulumi policy analyze --file` (pkg/resource/deploy/analyze_snapshot.go):
- `Analyze` gets a resource's *inputs*; `AnalyzeStack` gets every resource's state after the step
  (outputs; inputs where the file has none), with parent, dependencies and property
  dependencies; the provider travels with its *inputs*;
- properties are marshalled as `MarshalProperties(KeepUnknowns, KeepSecrets, SkipInternalKeys)`:
  a protobuf Struct (every number a float), unknowns as the engine's sentinel string, secrets as
  `{sig: secret, value: ...}`, internal keys (`__defaults`, ...) skipped, and a resource
  reference as its id (custom resources) or URN (components) — `KeepResources` is off, so the
  pack never sees the reference signature, which its SDK cannot read;
- a secret that a stack export holds only as ciphertext cannot be decrypted offline; like
  `pulumi policy analyze` it is sent as the string "[secret]", and the pack fails closed on it;
- the state file's special values (floats that JSON cannot hold, byte strings, output values,
  assets, archives) are decoded as the engine's deserializer does; an unknown signature is a
  PolicyInputError, not a crash in the pack.
"""

from __future__ import annotations

import base64
import json
import struct as binary
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from configtrail.policy.inputs import Deployment, PolicyInputError, State

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET_MASK = "[secret]"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_REFERENCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
BYTE_STRING_SIG = "803fd3297a5875dc03ca845dda5d2a98"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
FLOAT_SIG = "8ad145fe-0d11-4827-bfd7-1abcbf086f5c"  # state files only (NaN, Inf)


class WireError(ValueError):
    """A value the engine could not marshal either; `path` says where."""

    def __init__(self, message: str, path: list[str]):
        super().__init__(message)
        self.path = path


def _special(value: dict, path: list[str]) -> Any:
    sig = value[SIG_KEY]
    if sig == SECRET_SIG:
        if isinstance(value.get("plaintext"), str):
            try:
                plain = json.loads(value["plaintext"])
            except ValueError:
                plain = value["plaintext"]
            return {SIG_KEY: SECRET_SIG, "value": wire_value(plain, path)}
        if "value" in value:
            return {SIG_KEY: SECRET_SIG, "value": wire_value(value["value"], path)}
        return {SIG_KEY: SECRET_SIG, "value": SECRET_MASK}  # ciphertext: cannot be read here
    if sig == RESOURCE_REFERENCE_SIG:
        reference = value.get("id")
        if isinstance(reference, dict):  # an old serialisation bug: {"V": id or null}
            reference = reference.get("V")
        if isinstance(reference, str):
            return reference
        if isinstance(value.get("urn"), str):
            return value["urn"]
        raise WireError("a resource reference without a URN", path)
    if sig == OUTPUT_VALUE_SIG:
        inner = wire_value(value["value"], path) if "value" in value else UNKNOWN
        return {SIG_KEY: SECRET_SIG, "value": inner} if value.get("secret") else inner
    if sig == BYTE_STRING_SIG:
        return base64.b64decode(str(value.get("value", ""))).decode("utf-8", errors="replace")
    if sig == FLOAT_SIG:
        return binary.unpack(">d", bytes.fromhex(str(value.get("value", ""))))[0]
    if sig == ASSET_SIG:
        kept = {k: v for k, v in value.items() if k in (SIG_KEY, "hash", "path", "text", "uri")}
        return (
            kept if any(k in kept for k in ("path", "text", "uri")) else {"hash": kept.get("hash")}
        )
    if sig == ARCHIVE_SIG:
        out: dict[str, Any] = {SIG_KEY: ARCHIVE_SIG}
        if isinstance(value.get("assets"), dict):
            out["assets"] = {
                key: wire_value(item, [*path, "assets", key])
                for key, item in value["assets"].items()
            }
        for key in ("hash", "path", "uri"):
            if key in value:
                out[key] = value[key]
        return (
            out if any(k in out for k in ("assets", "path", "uri")) else {"hash": out.get("hash")}
        )
    raise WireError(f"unknown value signature {sig!r}", path)


def wire_value(value: Any, path: list[str] | None = None) -> Any:
    """A state value as MarshalProperties(KeepUnknowns, KeepSecrets, SkipInternalKeys) sends it."""
    path = path or []
    if isinstance(value, dict):
        if SIG_KEY in value:
            return _special(value, path)
        return {
            key: wire_value(item, [*path, key])
            for key, item in value.items()
            if not key.startswith("__")
        }
    if isinstance(value, list):
        return [wire_value(item, [*path, str(index)]) for index, item in enumerate(value)]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    return str(value)


def struct(properties: dict, where: str = "") -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    try:
        message.update(wire_value(properties))
    except WireError as error:
        raise PolicyInputError(
            f"{where}.{'.'.join(error.path)}: {error}; the engine could not send it to a policy "
            "pack either"
        ) from None
    return message


class Wire:
    """Builds Analyzer requests for the resources of one deployment, each Struct once."""

    def __init__(self, deployment: Deployment):
        self.deployment = deployment
        self._by_urn = {state.urn: state for state in deployment.resources}
        self._providers: dict[str, analyzer_pb2.AnalyzerProviderResource | None] = {}
        self._stack_resources: dict[str, analyzer_pb2.AnalyzerResource] = {}
        self._stack_chunks: dict[str, bytes] = {}

    def _where(self, state: State, side: str) -> str:
        return f"{self.deployment.source}: {state.urn}: {side}"

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
                else analyzer_pb2.AnalyzerProviderResource(
                    type=provider.type,
                    properties=struct(provider.inputs, self._where(provider, "inputs")),
                    urn=provider.urn,
                    name=provider.name,
                )
            )
        return self._providers[reference]

    @staticmethod
    def options(state: State) -> analyzer_pb2.AnalyzerResourceOptions:
        return analyzer_pb2.AnalyzerResourceOptions(
            protect=state.protect,
            ignoreChanges=state.ignore_changes,
            additionalSecretOutputs=state.additional_secret_outputs,
            aliases=state.aliases,
            parent=state.parent,
            customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(),
        )

    def analyze_request(self, state: State) -> analyzer_pb2.AnalyzeRequest:
        request = analyzer_pb2.AnalyzeRequest(
            type=state.type,
            properties=struct(state.inputs, self._where(state, "inputs")),
            urn=state.urn,
            name=state.name,
            options=self.options(state),
        )
        provider = self.provider(state)
        if provider is not None:
            request.provider.CopyFrom(provider)
        return request

    def stack_resource(self, state: State) -> analyzer_pb2.AnalyzerResource:
        found = self._stack_resources.get(state.urn)
        if found is not None:
            return found
        resource = analyzer_pb2.AnalyzerResource(
            type=state.type,
            properties=struct(
                state.final,
                self._where(state, "outputs" if state.outputs is not None else "inputs"),
            ),
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
        self._stack_resources[state.urn] = resource
        return resource

    def analyze_stack_request(self, states: list[State] | None = None) -> EncodedStackRequest:
        """AnalyzeStack for `states` (default: every resource, as the engine sends it), already
        serialized: each resource is encoded once per file, and a request is their concatenation
        (protobuf merges concatenated messages, appending repeated fields) — a stack policy's
        request of thousands of resources is then a join, not a copy of every message."""
        chosen = self.deployment.resources if states is None else states
        chunks = []
        for state in chosen:
            chunk = self._stack_chunks.get(state.urn)
            if chunk is None:
                single = analyzer_pb2.AnalyzeStackRequest(resources=[self.stack_resource(state)])
                chunk = self._stack_chunks[state.urn] = single.SerializeToString()
            chunks.append(chunk)
        return EncodedStackRequest(b"".join(chunks), list(chosen))


class EncodedStackRequest:
    """A serialized AnalyzeStackRequest; `resources` are the states it holds."""

    def __init__(self, data: bytes, resources: list[State]):
        self.data = data
        self.resources = resources

    def decode(self) -> analyzer_pb2.AnalyzeStackRequest:
        return analyzer_pb2.AnalyzeStackRequest.FromString(self.data)
