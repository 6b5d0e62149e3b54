"""Where delivered files come from (an S3 bucket or a local directory), and how one is decoded.

Both sources list keys and read one object at a time, so memory is bounded by the largest single
file, never by the archive. Decoding never raises anything but FileProblem, whose message says
what is wrong with that one file (corrupt gzip, truncated JSON, unknown file version, ...), so the
scan can skip it, say so and carry on.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import msgspec
from isal import igzip, isal_zlib

from configtrail.history.model import KNOWN_FILE_VERSIONS


class SourceError(Exception):
    """The source itself is unusable (no such directory, bucket not reachable, ...)."""


class FileProblem(Exception):
    """One delivered file cannot be read; the message says why."""


class Source(Protocol):
    description: str

    def list_keys(self) -> Iterator[str]: ...

    def read(self, key: str) -> bytes: ...

    def name(self, key: str) -> str:
        """How warnings and reports name the object (a path or an s3:// URI)."""
        ...


@dataclass
class LocalSource:
    """A directory holding downloaded deliveries (e.g. from `aws s3 sync`), at any depth."""

    root: Path

    @property
    def description(self) -> str:
        return str(self.root)

    def list_keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            raise SourceError(f"{self.root}: no such directory")
        for directory, subdirectories, files in os.walk(self.root):
            subdirectories.sort()
            for file in sorted(files):
                yield Path(directory, file).relative_to(self.root).as_posix()

    def read(self, key: str) -> bytes:
        try:
            return (self.root / key).read_bytes()
        except OSError as error:
            raise FileProblem(f"cannot read ({error.strerror})") from None

    def name(self, key: str) -> str:
        return str(self.root / key)


@dataclass
class S3Source:
    """Objects under `s3://bucket/prefix`, read through boto3 (any S3-compatible endpoint)."""

    bucket: str
    prefix: str
    client: Any

    @property
    def description(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def list_keys(self) -> Iterator[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for entry in page.get("Contents", []):
                    yield entry["Key"]
        except ClientError as error:
            raise SourceError(
                f"{self.description}: cannot list ({error.response['Error'].get('Code')}: "
                f"{error.response['Error'].get('Message')})"
            ) from None
        except BotoCoreError as error:
            raise SourceError(f"{self.description}: cannot list ({error})") from None

    def read(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as error:
            raise FileProblem(f"cannot read ({error.response['Error'].get('Code')})") from None
        except BotoCoreError as error:
            raise FileProblem(f"cannot read ({error})") from None

    def name(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"


def s3_client(endpoint_url: str | None = None, region: str | None = None):
    """A boto3 S3 client; `endpoint_url` points it at any S3-compatible service."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        config=Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=16),
    )


def open_source(
    location: str, endpoint_url: str | None = None, region: str | None = None
) -> Source:
    """`s3://bucket[/prefix]` or a directory path."""
    if location.startswith("s3://"):
        parsed = urlparse(location)
        if not parsed.netloc:
            raise SourceError(f"{location}: no bucket name (expected s3://bucket[/prefix])")
        return S3Source(parsed.netloc, parsed.path.lstrip("/"), s3_client(endpoint_url, region))
    if "://" in location:
        raise SourceError(f"{location}: only s3:// URIs and local directories are supported")
    return LocalSource(Path(location))


def _inflate(data: bytes, gzipped: bool) -> bytes:
    """A delivered file's bytes, gunzipped by ISA-L (python-isal: several times faster than zlib,
    and decompressing is a large part of reading an archive). A file ISA-L cannot read goes to
    the standard library, whose answer decides and whose error message is the one reported."""
    if not gzipped:
        return data
    try:
        return igzip.decompress(data)
    except (OSError, EOFError, ValueError, isal_zlib.error):
        pass
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        raise FileProblem(f"corrupt gzip ({error})") from None


def _document(data: bytes) -> Any:
    """The standard library's reading, for its exact error messages."""
    try:
        return json.loads(data)
    except UnicodeDecodeError:
        raise FileProblem("not UTF-8 text") from None
    except ValueError as error:
        raise FileProblem(f"truncated or invalid JSON ({error})") from None


def _items(document: Any) -> list[Any]:
    if not isinstance(document, dict):
        raise FileProblem("not a JSON object with fileVersion and configurationItems")
    version = document.get("fileVersion")
    if version not in KNOWN_FILE_VERSIONS:
        raise FileProblem(
            f"unknown fileVersion {version!r} (this reader knows "
            f"{', '.join(sorted(KNOWN_FILE_VERSIONS))})"
        )
    items = document.get("configurationItems")
    if not isinstance(items, list):
        raise FileProblem("configurationItems is missing or not a list")
    return items


def decode(data: bytes, gzipped: bool) -> list[Any]:
    """The `configurationItems` of one delivered file; FileProblem says what is wrong."""
    return _items(_document(_inflate(data, gzipped)))


class _Delivery(msgspec.Struct):
    fileVersion: Any = None
    configurationItems: list[msgspec.Raw] | None = None


_NULL = msgspec.Raw(b"null")


class _Notification(msgspec.Struct):
    configurationItem: msgspec.Raw = _NULL


_DELIVERY = msgspec.json.Decoder(_Delivery)
_NOTIFICATION = msgspec.json.Decoder(_Notification)
_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])


def decode_json(data: bytes, gzipped: bool) -> list[bytes]:
    """Like decode, but each item as the JSON text AWS Config wrote: msgspec checks the whole
    document and cuts it into items without building them. Anything unusual is read again by
    the standard library, so the problems and their messages are the same as decode's."""
    text = _inflate(data, gzipped)
    try:
        document = _DELIVERY.decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError):
        document = None
    if (
        document is None
        or document.fileVersion not in KNOWN_FILE_VERSIONS
        or document.configurationItems is None
    ):
        return [msgspec.json.encode(item) for item in _items(_document(text))]
    return [bytes(item) for item in document.configurationItems]


def decode_notification(data: bytes, gzipped: bool) -> list[bytes]:
    """The item of an oversized configuration item change notification, as JSON.

    The object is the notification SNS could not carry: `{"configurationItemDiff": ...,
    "configurationItem": {...}, "messageType": "ConfigurationItemChangeNotification", ...}`
    (AWS's oldest examples carry `configurationItem` as a list of one).
    """
    text = _inflate(data, gzipped)
    try:
        raw = bytes(_NOTIFICATION.decode(text).configurationItem)
    except (msgspec.DecodeError, msgspec.ValidationError):
        _document(text)  # the standard library's message for what is wrong
        raw = b"null"
    if raw == b"null":
        raise FileProblem("not a configuration item change notification (no configurationItem)")
    if raw.lstrip()[:1] == b"[":
        return [bytes(element) for element in _RAW_LIST.decode(raw)]
    return [raw]
