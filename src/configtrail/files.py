"""Every file the tool reads or writes goes through here, so that an OS or decoding problem is one
line naming the path, what is wrong and what to do (a SettingsError: exit 2), never a traceback.

YAML is read with duplicate keys refused: PyYAML keeps the last of two equal keys silently, and a
stack file with `retentionDays` twice would deploy whichever came last.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from configtrail.settings_error import SettingsError


def shown(path: Path) -> str:
    """The path as messages show it: relative to the working directory where it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except (ValueError, OSError):
        return str(path)


def _problem(path: Path, error: OSError, doing: str) -> SettingsError:
    reasons = {
        IsADirectoryError: "is a directory, not a file",
        NotADirectoryError: "a part of the path is a file, not a directory",
        PermissionError: "permission denied",
        FileNotFoundError: "no such file" if doing == "read" else "its folder does not exist",
    }
    reason = next(
        (text for kind, text in reasons.items() if isinstance(error, kind)),
        error.strerror or str(error),
    )
    advice = (
        "check the path" if doing == "read" else "choose a writable file path (its folder is made)"
    )
    return SettingsError([f"{shown(path)}: cannot {doing}: {reason}; {advice}"])


def read_text(path: Path, what: str = "file") -> str:
    """The text of a UTF-8 file; SettingsError for a missing, unreadable or non-UTF-8 file."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise _problem(path, error, "read") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise SettingsError(
            [
                f"{shown(path)}: not UTF-8 text: byte 0x{data[error.start]:02x} on line {line} "
                f"(save the {what} as UTF-8)"
            ]
        ) from None


def write_text(path: Path, text: str) -> Path:
    """Write `text` to `path` atomically (a temporary file beside it, then a rename), making its
    folder; SettingsError naming the path when that cannot be done."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise IsADirectoryError(21, "Is a directory", str(path))
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except (FileExistsError, NotADirectoryError) as error:
        raise _problem(path, NotADirectoryError(error.errno, error.strerror), "write") from None
    except OSError as error:
        raise _problem(path, error, "write") from None
    return path


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a mapping with the same key twice."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"key {key!r} appears twice (lines {seen[key]} and {line}); YAML would keep "
                "only the last: remove one",
                key_node.start_mark,
            )
        seen[key] = line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml_text(text: str) -> Any:
    """YAML from text, duplicate keys refused (yaml.YAMLError)."""
    return yaml.load(text, Loader=_UniqueKeyLoader)


def read_yaml(path: Path, what: str = "YAML file") -> Any:
    """A YAML file: SettingsError for a file problem, bad YAML or a duplicate key."""
    text = read_text(path, what)
    try:
        return load_yaml_text(text)
    except yaml.YAMLError as error:
        raise SettingsError(
            [f"{shown(path)}: not valid YAML: {' '.join(str(error).split())}"]
        ) from None
