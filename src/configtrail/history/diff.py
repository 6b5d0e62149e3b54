"""Field-level differences between two configuration items, and timelines built from items.

Values are flattened into dotted paths (`configuration.PrimaryContainer.Image`,
`configuration.Containers[0].Environment.MODEL`) and compared path by path. Two details make the
diff read like the change a person made rather than like its encoding:

- policy documents and other JSON that AWS Config embeds as text (IAM documents arrive
  URL-encoded, bucket policies as JSON strings) are decoded first, so a changed statement shows as
  that statement, not as one long string;
- relationships are a set: a relationship is added or removed, never "moved" because the list
  came back in another order.
"""

from __future__ import annotations

import functools
import json
import operator
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import unquote

import msgspec

from configtrail.history.model import GONE, SECTIONS, Change, Entry, Item, Timeline

ABSENT = _ABSENT = object()


_JSON_STARTS = frozenset("{[%")


def _decoded(value: Any) -> Any:
    """JSON embedded in a string (plain or URL-encoded), decoded; other values unchanged."""
    if type(value) is not str or len(value) < 2 or value[0] not in _JSON_STARTS:
        return value
    return _decode_text(value)


@functools.lru_cache(maxsize=4096)
def _decode_text(value: str) -> Any:
    """Cached: a policy document usually repeats from one item to the next, and consecutive
    diffs read each item twice. The decoded value is shared, so nothing may change it."""
    text = value
    if text[0] == "%":
        if text[:3].upper() not in ("%7B", "%5B"):
            return value
        text = _percent_decoded(text)
    if text[0] in "{[" and text[-1] in "}]":
        try:
            return json.loads(text)
        except ValueError:
            return value
    return value


def flatten(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, leaf value) pairs; empty containers are leaves so that they still compare."""
    value = _decoded(value)
    if isinstance(value, dict) and value:
        for key in sorted(value, key=str):
            yield from flatten(value[key], f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and value:
        for index, element in enumerate(value):
            yield from flatten(element, f"{path}[{index}]")
    else:
        yield path, value


def _relationship_label(relationship: Any) -> str:
    if not isinstance(relationship, dict):
        return json.dumps(relationship, sort_keys=True, default=str)
    target = relationship.get("resourceId") or relationship.get("resourceName") or "?"
    # Delivered files say `name`; API exports say `relationshipName`.
    name = relationship.get("name") or relationship.get("relationshipName") or "related to"
    return f"{name.strip()} {relationship.get('resourceType', '?')} {target}"


# (relationships, their labels) of the last `after` compared: a timeline compares each item
# twice, with the one before it and with the one after it. One tuple, replaced whole.
_last_labels: tuple[Any, frozenset[str]] = (None, frozenset())


def _labels(relationships: Any) -> frozenset[str]:
    return frozenset(_relationship_label(r) for r in (relationships or []))


def _relationship_changes(before: Any, after: Any) -> list[Change]:
    global _last_labels
    last, labels = _last_labels
    old = labels if before is last and before is not None else _labels(before)
    new = _labels(after)
    _last_labels = (after, new)
    return [Change("relationships", label, "added", None, label) for label in sorted(new - old)] + [
        Change("relationships", label, "removed", label, None) for label in sorted(old - new)
    ]


def python_diff_sections(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """Every field of the compared sections that was added, removed or changed.

    The result is the same as comparing the two flattened sections path by path (`flat_changes`),
    but equal subtrees are recognised (`==`, and for containers an exact comparison of their
    sorted JSON, since `==` takes 1 for True) and never flattened, so the cost follows what
    changed rather than the size of the configuration.

    This is the reference implementation; `diff_sections` is its C twin (`_diffcore.c`) when the
    extension was built, and this function otherwise.
    """
    changes: list[Change] = []
    for section in SECTIONS:
        old, new = before.get(section), after.get(section)
        if section == "relationships":
            if not _same(old, new):
                changes.extend(_relationship_changes(old, new))
            continue
        old, new = _decoded(old), _decoded(new)
        if _same(old, new):
            continue
        kind = type(old)
        if kind is type(new) and (kind is dict or kind is list) and old and new:
            found: list[Change] = []
            if kind is dict:
                _walk_dicts(section, "", old, new, found)
            else:
                _walk_lists(section, "", old, new, found)
            found.sort(key=_PATH)
            changes.extend(found)
        else:
            changes.extend(flat_changes(section, old, new))
    return changes


def _same(a: Any, b: Any) -> bool:
    """Equal, with the types of every leaf equal too (JSON's 1 and true are different)."""
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b) or a != b:
        return False
    if kind is dict or kind is list:
        try:
            return _SORTED.encode(a) == _SORTED.encode(b)
        except (TypeError, msgspec.EncodeError):  # not JSON data: compare field by field
            return False
    return True


_CONTAINERS = (dict, list)
_SORTED = msgspec.json.Encoder(order="sorted")
_PATH = operator.itemgetter(1)  # Change.path
# _new(Change, fields) is Change(*fields) without the named tuple's constructor in Python:
# millions are made.
_new = tuple.__new__


def _walk(section: str, path: str, old: Any, new: Any, out: list[Change]) -> None:
    """The changes between two values at `path` (embedded JSON decoded first)."""
    old, new = _decoded(old), _decoded(new)
    if _same(old, new):
        return
    kind = type(old)
    if kind is type(new) and (kind is dict or kind is list) and old and new:
        if kind is dict:
            _walk_dicts(section, path, old, new, out)
        else:
            _walk_lists(section, path, old, new, out)
    elif kind not in _CONTAINERS and type(new) not in _CONTAINERS:
        out.append(_new(Change, (section, path, "changed", old, new)))  # two different leaves
    else:
        out.extend(flat_changes(section, old, new, path))


def _walk_dicts(section: str, path: str, old: dict, new: dict, out: list[Change]) -> None:
    """Two non-empty dicts that differ: only the keys whose values differ are visited (in
    sorted order); plain leaves that differ are compared here, without a call per key."""
    same_keys = old.keys() == new.keys()
    keys = old.keys() if same_keys else old.keys() | new.keys()
    differing = []
    for key in keys:
        if not same_keys and (key not in new or key not in old):
            differing.append(key)
            continue
        a = old[key]
        b = new[key]
        kind = type(a)
        if kind is not type(b):
            differing.append(key)
        elif kind is dict or kind is list:
            if not (a == b and _same(a, b)):
                differing.append(key)
        elif a != b:
            differing.append(key)
    if not differing:
        return
    try:
        differing.sort()
    except TypeError:
        differing.sort(key=str)
    append = out.append
    for key in differing:
        child = f"{path}.{key}" if path else str(key)
        if same_keys or (key in new and key in old):
            a = old[key]
            b = new[key]
            kind = type(a)
            if (
                kind is type(b)
                and kind is not dict
                and kind is not list
                and (kind is not str or (a[:1] not in _JSON_STARTS and b[:1] not in _JSON_STARTS))
            ):
                append(_new(Change, (section, child, "changed", a, b)))  # known to differ
            elif kind is dict and type(b) is dict and a and b:
                _walk_dicts(section, child, a, b, out)  # known to differ
            elif kind is list and type(b) is list and a and b:
                _walk_lists(section, child, a, b, out)
            else:
                _walk(section, child, a, b, out)
        elif key not in new:
            out.extend(
                _new(Change, (section, p, "removed", v, None)) for p, v in flatten(old[key], child)
            )
        elif key not in old:
            out.extend(
                _new(Change, (section, p, "added", None, v)) for p, v in flatten(new[key], child)
            )


def _walk_lists(section: str, path: str, old: list, new: list, out: list[Change]) -> None:
    """Two non-empty lists that differ, compared position by position."""
    shared = min(len(old), len(new))
    for index in range(shared):
        a = old[index]
        b = new[index]
        kind = type(a)
        if kind is type(b) and kind is not dict and kind is not list and a == b:
            continue
        _differing(section, f"{path}[{index}]", a, b, out)
    for index in range(shared, len(old)):
        child = f"{path}[{index}]"
        out.extend(
            _new(Change, (section, p, "removed", v, None)) for p, v in flatten(old[index], child)
        )
    for index in range(shared, len(new)):
        child = f"{path}[{index}]"
        out.extend(
            _new(Change, (section, p, "added", None, v)) for p, v in flatten(new[index], child)
        )


def _differing(section: str, path: str, old: Any, new: Any, out: list[Change]) -> None:
    """_walk for two values already known to be unequal or of different types, with the
    common case (two plain leaves of one type, no embedded JSON) inline."""
    kind = type(old)
    if (
        kind is type(new)
        and kind is not dict
        and kind is not list
        and (kind is not str or (old[:1] not in _JSON_STARTS and new[:1] not in _JSON_STARTS))
    ):
        if old != new:
            out.append(_new(Change, (section, path, "changed", old, new)))
        return
    _walk(section, path, old, new, out)


def flat_changes(section: str, before: Any, after: Any, path: str = "") -> list[Change]:
    """The reference comparison: both values flattened to leaves and compared path by path."""
    changes: list[Change] = []
    old = dict(flatten(before, path))
    new = dict(flatten(after, path))
    for leaf in sorted(old.keys() | new.keys()):
        was, now = old.get(leaf, _ABSENT), new.get(leaf, _ABSENT)
        if was is _ABSENT:
            if not _filled_in(now, leaf, old):
                changes.append(Change(section, leaf, "added", None, now))
        elif now is _ABSENT:
            if not _filled_in(was, leaf, new):
                changes.append(Change(section, leaf, "removed", was, None))
        elif was != now or type(was) is not type(now):
            changes.append(Change(section, leaf, "changed", was, now))
    return changes


def _filled_in(value: Any, path: str, other: dict[str, Any]) -> bool:
    """An empty container whose place the other side fills with fields: those fields are the
    change, not the container itself."""
    if path == "":  # the whole section: absent (null) or empty on one side
        return value in (None, {}, []) and any(key != "" for key in other)
    if value not in ({}, []):
        return False
    return any(key.startswith((f"{path}.", f"{path}[")) for key in other)


def _native_module() -> Any:
    """The C extension `_diffcore`; None when it was not built (no C compiler at install) or
    CONFIGTRAIL_PURE_PYTHON is set (to compare or debug the two)."""
    if os.environ.get("CONFIGTRAIL_PURE_PYTHON"):
        return None
    try:
        from configtrail.history import _diffcore
    except ImportError:
        return None
    return _diffcore


def _native_diff_sections(native: Any) -> Any:
    """The C diff_sections, configured with the Python functions it hands rare cases to (it
    makes _decoded's own checks, so it calls _decode_text directly); None without `native`."""
    if native is None:
        return None
    native.configure(
        change=Change,
        sections=SECTIONS,
        decoded=_decode_text,
        same=_same,
        flat_changes=flat_changes,
        flatten=flatten,
        walk=_walk,
        walk_dicts=_walk_dicts,
        walk_lists=_walk_lists,
        relationship_label=_relationship_label,
        labels=_labels,
        path_key=_PATH,
        diff_sections=python_diff_sections,
    )
    return native.diff_sections


def _percent_decoder(native: Any) -> Any:
    """urllib.parse.unquote, with the C twin doing ASCII text (all that URL-encoding makes)
    when the extension was built."""
    if native is None:
        return unquote
    ascii_unquote = native.unquote

    def percent_decoded(text: str) -> str:
        decoded = ascii_unquote(text)
        return unquote(text) if decoded is None else decoded

    return percent_decoded


_native = _native_module()
_percent_decoded = _percent_decoder(_native)
# diff_sections: the C implementation when it is built, else the Python reference. NATIVE says
# which one this process uses.
diff_sections = _native_diff_sections(_native) or python_diff_sections
NATIVE = diff_sections is not python_diff_sections


def build_timeline(items: Iterable[Item], baseline: Item | None) -> Timeline:
    """A timeline from one resource's items, already in capture-time order.

    Each item is compared with the one before it (the first with the baseline, the last state
    before the window, when known). An item of a deleted or no-longer-recorded resource has no
    configuration to compare, so it carries its status and no field changes, and so does the
    first item after it. A first item that is a deletion reads as one ("gone").
    """
    entries = timeline_entries(items if type(items) is list else list(items), baseline)
    first = entries[0].item.key if entries else (baseline.key if baseline else None)
    if first is None:
        raise ValueError("a timeline needs at least one item")
    return Timeline(key=first, baseline=baseline, entries=entries)


def python_entries(items: list[Item], previous: Item | None) -> list[Entry]:
    """build_timeline's entries, each item compared with `previous` (at first the baseline).

    The reference implementation; `timeline_entries` is its C twin (`_diffcore.c`) when the
    extension was built, and this function otherwise."""
    entries: list[Entry] = []
    append = entries.append
    for item in items:
        # _new(Entry, fields) is Entry(*fields) without the named tuple's Python constructor.
        if item.status in GONE:
            # Also when it is the first item seen: a deletion is never a first recording.
            append(_new(Entry, (item, (), "gone")))
        elif previous is None:
            append(_new(Entry, (item, (), "first-recorded")))
        elif previous.status in GONE:
            append(_new(Entry, (item, (), "returned")))
        else:
            changes = tuple(diff_sections(previous.sections, item.sections))
            append(_new(Entry, (item, changes, "changed" if changes else "unchanged")))
        previous = item
    return entries


def _native_entries(native: Any) -> Any:
    """The C timeline_entries, given the Entry type and the GONE statuses; None without
    `native`."""
    if native is None:
        return None
    entries = native.timeline_entries

    def timeline_entries(items: list[Item], previous: Item | None) -> list[Entry]:
        return entries(items, previous, Entry, GONE)

    return timeline_entries


# timeline_entries: the C loop when the extension is built, else the Python reference.
timeline_entries = _native_entries(_native) or python_entries


def decode_deep(value: Any) -> Any:
    """A value with every JSON document embedded as text (plain or URL-encoded) decoded, at any
    depth: how a person wants to read a configuration item."""
    value = _decoded(value)
    if isinstance(value, dict):
        return {key: decode_deep(element) for key, element in value.items()}
    if isinstance(value, list):
        return [decode_deep(element) for element in value]
    return value


_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def lookup(value: Any, path: str) -> Any:
    """The value at a flattened path (`a.b[0].c`) inside a section, decoding embedded JSON on the
    way; ABSENT when there is none (or the path cannot be read back, e.g. a key with a dot)."""
    for key, index in _TOKEN.findall(path):
        value = _decoded(value)
        if index:
            if not isinstance(value, list) or int(index) >= len(value):
                return ABSENT
            value = value[int(index)]
        elif isinstance(value, dict) and key in value:
            value = value[key]
        else:
            return ABSENT
    return value


def ancestors(path: str) -> list[str]:
    """`a.b[0].c` -> ["a", "a.b", "a.b[0]"]: the containers above a leaf, outermost first."""
    cuts = [m.start() for m in re.finditer(r"[.\[]", path) if m.start() > 0]
    return [path[:cut] for cut in cuts]
