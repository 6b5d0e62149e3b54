"""The C field diff (configtrail.history._diffcore) against the Python reference.

diff_sections in C must return exactly what python_diff_sections returns (the same Change
tuples, values of the same types, in the same order) and raise what it raises; its strict
comparison must agree with _same on every JSON value; it must not leak references or memory.
The tests of the C code are skipped when the extension is not in use; test_the_extension_is_built
fails when a machine with a C compiler (CI) did not build it, and the fallback tests always run.
"""

from __future__ import annotations

import gc
import itertools
import json
import math
import os
import random
import shutil
import subprocess
import sys
import sysconfig
import tracemalloc
from pathlib import Path
from urllib.parse import quote

import pytest

from configtrail.history import diff
from configtrail.history.model import SECTIONS, Change

needs_native = pytest.mark.skipif(
    not diff.NATIVE,
    reason="the C diff (configtrail.history._diffcore) is not in use: not built (no C compiler "
    "at install) or CONFIGTRAIL_PURE_PYTHON is set",
)
native, python = diff.diff_sections, diff.python_diff_sections
NAN = float("nan")


def _compiler_and_headers() -> bool:
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    headers = Path(sysconfig.get_paths()["include"], "Python.h")
    return shutil.which(compiler) is not None and headers.is_file()


@pytest.mark.skipif(
    not (os.environ.get("CI") or _compiler_and_headers()),
    reason="no C compiler or no Python headers here: the pure-Python diff is expected",
)
def test_the_extension_is_built():
    """CI and any machine with a C compiler build the C diff (`make venv`); an install that
    quietly fell back to Python would lose the speed of issue 13 unnoticed."""
    from configtrail.history import _diffcore  # noqa: F401  (fails when it was not built)


# --- random JSON-ish items ------------------------------------------------------------------

KEYS = ["a", "b", "c", "Name", "a.b", "a-b", "b[1]", "é", "中", ""]
LEAVES = [
    0, 1, 2, -1, 10, 2**70, True, False, 0.0, -0.0, 1.0, 1.5, 2.0**70, NAN, math.inf, None,
    "", "a", "b", "s3:*", "{", "[", "%", "%7", "é", "中文", " x ",
    "{not json}", "%7Bbad", "[1, 2", '{"k": 1}', '{"k": true}', '{"k": 1.0}', "[1, 2]", "[]",
    "{}", '{"k": {"j": [1, {"i": null}]}}', '{"a.b": 1, "a": {"b": 2}}', '{"k": "{\\"n\\": 1}"}',
]  # fmt: skip


def _embedded(rng: random.Random, depth: int) -> str:
    document = json.dumps(_value(rng, depth + 2))
    return quote(document, safe="") if rng.random() < 0.5 else document


def _value(rng: random.Random, depth: int = 0):
    choice = rng.randrange(12 if depth < 4 else 3)
    if choice == 0:
        return rng.choice(LEAVES)
    if choice == 1:
        return rng.randrange(4)
    if choice == 2:
        return rng.choice([{}, [], "", None])
    if choice == 3:
        return _embedded(rng, depth) if depth < 3 else rng.choice(LEAVES)
    if choice in (4, 5, 6, 7):
        return {rng.choice(KEYS): _value(rng, depth + 1) for _ in range(rng.randrange(6))}
    return [_value(rng, depth + 1) for _ in range(rng.randrange(5))]


def _mutated(rng: random.Random, value, depth: int = 0):
    """A changed copy that shares the unchanged parts (as consecutive items often do not, but
    identical objects are a case of their own)."""
    roll = rng.random()
    if roll < 0.15 or depth > 4:
        return _value(rng, depth)
    if roll < 0.25:  # equal, but a fresh object (or a twin of another type)
        return json.loads(json.dumps(value)) if not isinstance(value, float) else value + 0.0
    if isinstance(value, dict):
        result = {
            k: _mutated(rng, v, depth + 1) if rng.random() < 0.4 else v for k, v in value.items()
        }
        if rng.random() < 0.3:
            result[rng.choice(KEYS)] = _value(rng, depth + 1)
        if result and rng.random() < 0.2:
            result.pop(rng.choice(list(result)))
        if rng.random() < 0.2:  # same content, another key order
            result = dict(reversed(result.items()))
        return result
    if isinstance(value, list):
        result = [_mutated(rng, v, depth + 1) if rng.random() < 0.4 else v for v in value]
        if rng.random() < 0.3:
            result.append(_value(rng, depth + 1))
        if result and rng.random() < 0.2:
            result.pop()
        return result
    if isinstance(value, bool):
        return rng.choice([int(value), float(value), not value, value])
    if isinstance(value, (int, float)):
        return rng.choice([value, float(value), bool(value), -value])
    if isinstance(value, str) and value[:1] in "{[%" and rng.random() < 0.5:
        decoded = diff._decoded(value)
        if decoded is not value:  # the same document, re-encoded or changed inside
            changed = _mutated(rng, decoded, depth + 1)
            text = json.dumps(changed)
            return quote(text, safe="") if value[0] == "%" else text
    return value


RELATIONSHIP_FIELDS = {
    "resourceId": ["r1", "r2", "", None, 7],
    "resourceName": ["n1", "", None],
    "name": ["Is associated with Role", " Contains ", "", None, "Is attached to"] * 4 + [3],
    "relationshipName": ["Is attached to", None],
    "resourceType": ["AWS::IAM::Role", "AWS::KMS::Key", None],
}


def _relationship(rng: random.Random):
    if rng.random() < 0.1:
        return rng.choice(["plain", 5, None, ["r"]])
    return {
        field: rng.choice(values)
        for field, values in RELATIONSHIP_FIELDS.items()
        if rng.random() < 0.7
    }


def _relationships(rng: random.Random):
    roll = rng.random()
    if roll < 0.1:
        return rng.choice([None, [], {}, "text"])
    return [_relationship(rng) for _ in range(rng.randrange(4))]


def _item_pair(rng: random.Random):
    before = {section: _value(rng) for section in SECTIONS[:3]}
    before["relationships"] = _relationships(rng)
    after = {section: _mutated(rng, value) for section, value in before.items()}
    if rng.random() < 0.5:
        shuffled = (
            list(after["relationships"] or []) if isinstance(after["relationships"], list) else []
        )
        rng.shuffle(shuffled)
        after["relationships"] = shuffled if rng.random() < 0.7 else _relationships(rng)
    for side in (before, after):
        if rng.random() < 0.05:
            side.pop(rng.choice(SECTIONS), None)  # a section missing
    return before, after


def _outcome(function, before, after):
    try:
        return function(before, after)
    except Exception as error:  # both must fail alike
        return type(error)


def _assert_identical(got, expected, context):
    assert repr(got) == repr(expected), context  # repr tells 1, True, 1.0 and -0.0 apart
    if isinstance(expected, type):
        return
    assert type(got) is list, context
    for mine, theirs in zip(got, expected, strict=True):
        assert type(mine) is Change and type(theirs) is Change, context
        for a, b in zip(mine, theirs, strict=True):
            assert type(a) is type(b), context
            assert a is b or a == b or (a != a and b != b), context


@needs_native
def test_native_equals_the_python_reference_on_random_items():
    """Tens of thousands of random pairs: nested JSON, JSON text (plain and URL-encoded, valid
    and not), empty containers, type changes, 1/True/1.0/-0.0/NaN, added and removed keys,
    lists that grow and shrink, keys that make duplicate or unsorted paths, relationships."""
    rng = random.Random(13)
    differing = errors = 0
    for _ in range(30_000):
        before, after = _item_pair(rng)
        expected = _outcome(python, before, after)
        _assert_identical(_outcome(native, before, after), expected, (before, after))
        differing += bool(expected) and not isinstance(expected, type)
        errors += isinstance(expected, type)
    # the cases really differ; some are bad on purpose (a name or relationships that are not
    # text or a list): both raise alike
    assert differing > 20_000 and 0 < errors < 3_000


# --- _same, exactly -------------------------------------------------------------------------

shared_nan, shared_list, obj = float("nan"), [1, "x"], object()


class Text(str):
    pass


SAME_CASES = [
    (1, True), (1, 1.0), (True, 1.0), (0, False), (0, 0.0), (0.0, -0.0), (-0.0, -0.0),
    (NAN, NAN), (shared_nan, shared_nan), (float("nan"), float("nan")), (math.inf, math.inf),
    ([1], [True]), ([1], [1.0]), ([0.0], [-0.0]), ([-0.0], [-0.0]), ([0], [-0.0]),
    ([shared_nan], [shared_nan]), ([float("nan")], [float("nan")]), ([math.inf], [math.inf]),
    ({"a": 1, "b": 2}, {"b": 2, "a": 1}), ({"a": 1}, {"a": True}), ({"a": 1}, {"b": 1}),
    ({"a": [1, {"b": True}]}, {"a": [1, {"b": 1}]}), ({"a": [1, {"b": 1}]}, {"a": [1, {"b": 1}]}),
    ([[1]], [[1.0]]), ([2**70], [2**70]), ([2**70], [2.0**70]), ([2**53 + 1], [2.0**53]),
    ([1, True], [True, 2]), ([True, 2], [1, 3]), ([1, "a"], [True, "b"]), ([], []), ({}, {}),
    ([], {}), ([None], [None]), ([None], [0]), (["a"], ["a"]), (["é"], ["é"]), (["中"], ["中"]),
    ("\ud800", "\ud800"), (["\ud800"], ["\ud800"]), (["\ud800"], ["x"]),
    ({"\ud800": 1}, {"\ud800": 1}),
    ([1, "\ud800"], [True, "\ud800"]), ([1, "\ud800"], [2, "\ud800"]),
    ([(1, 2)], [(1, 2)]), ([(1,)], [[1]]), ([{1}], [{1}]), ([obj], [obj]), ([obj], [1]),
    ([Text("a")], [Text("a")]), (["a"], [Text("a")]), ({1: "a"}, {1: "a"}), ({1: "a"}, {True: "a"}),
    ({"a": 1}, {Text("a"): 1}), ([shared_list], [shared_list]), ([[1, obj]], [[1, obj]]),
    ((1, 2), (1, 2)), ({1, 2}, {1, 2}), (Text("a"), Text("a")), ("a", "a"), (None, None),
]  # fmt: skip


@needs_native
@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(a, b, id=f"{i}-{type(a).__name__}-{type(b).__name__}")
        for i, (a, b) in enumerate(SAME_CASES)
    ],
)  # ids without repr: an object's repr differs between test workers
def test_same_agrees_with_the_python_same(a, b):
    from configtrail.history import _diffcore

    expected, got = _outcome(diff._same, a, b), _outcome(_diffcore.same, a, b)
    assert got == expected and type(got) is type(expected)
    nested_a, nested_b = {"k": [a]}, {"k": [b]}
    assert _outcome(native, {"tags": nested_a}, {"tags": nested_b}) == _outcome(
        python, {"tags": nested_a}, {"tags": nested_b}
    )


@needs_native
def test_strict_comparison_edge_cases_as_changes():
    """What the strict comparison means for a diff: numbers of another type are changes,
    key order is not, -0.0 is 0.0 as a leaf; NaN as Python's == and != take it."""
    other_nan = float("nan")
    cases = [
        ({"v": 1}, {"v": True}, [("v", 1, True)]),
        ({"v": [1.0]}, {"v": [1]}, [("v[0]", 1.0, 1)]),
        ({"v": {"z": 0.0}}, {"v": {"z": -0.0}}, []),  # a leaf: -0.0 == 0.0
        ({"v": [{"z": 0.0}]}, {"v": [{"z": -0.0}]}, []),
        ({"v": {"a": 1, "b": 2}}, {"v": {"b": 2, "a": 1}}, []),
        ({"v": shared_nan}, {"v": shared_nan}, []),  # the section: dict == takes it as equal
        (
            {"v": shared_nan, "w": 1},
            {"v": shared_nan, "w": 2},
            [("v", shared_nan, shared_nan), ("w", 1, 2)],
        ),
        ({"v": [shared_nan]}, {"v": [shared_nan]}, []),  # list == takes one object as equal
        ({"v": [NAN]}, {"v": [other_nan]}, [("v[0]", NAN, other_nan)]),
    ]
    for before, after, expected in cases:
        for function in (native, python):
            got = function({"configuration": before}, {"configuration": after})
            assert [(c.path, c.before, c.after) for c in got] == expected, (function, before)


@needs_native
def test_changes_are_real_change_tuples():
    [change] = native({"tags": {"k": "v"}}, {"tags": {"k": "w"}})
    assert type(change) is Change and change.path == "k" and change.after == "w"
    assert change == Change("tags", "k", "changed", "v", "w") and hash(change) == hash(
        Change("tags", "k", "changed", "v", "w")
    )
    assert change._replace(kind="x").kind == "x" and change._asdict()["before"] == "v"


@needs_native
def test_paths_that_need_the_stable_sort():
    """Keys with dots and brackets give equal or out-of-order paths: the stable sort by path."""
    before = {"configuration": {"a.b": 1, "a": {"b": 2}, "a-b": 0, "l": list(range(12))}}
    after = {"configuration": {"a.b": 3, "a": {"b": 4}, "a-b": 9, "l": list(range(1, 13))}}
    got = native(before, after)
    assert got == python(before, after)
    assert [c.path for c in got][:4] == ["a-b", "a.b", "a.b", "l[0]"]
    assert [c.before for c in got][1:3] == [2, 1]  # key "a" sorts first: its change first


@needs_native
def test_rare_values_go_through_the_python_functions():
    """Values that are not JSON (tuples, sets, objects, keys that are not str, subclasses) and
    deep nesting take the Python path and give the Python result."""
    deep_a, deep_b = current_a, current_b = {}, {}
    for _ in range(150):
        current_a["x"] = current_a = {"n": 1}
        current_b["x"] = current_b = {"n": 1}
    current_b["n"] = 2
    cases = [
        ({"t": (1, 2)}, {"t": (1, 3)}),
        ({"t": {1, 2}}, {"t": {1, 3}}),
        ({"t": obj}, {"t": object()}),
        ({1: "a", "b": 1}, {1: "b", "b": 1}),
        ({"s": Text("a")}, {"s": Text("b")}),
        ({"d": {"k": [1, (2,)]}}, {"d": {"k": [1, (3,)]}}),
        (deep_a, deep_b),
    ]
    for before, after in cases:
        b, a = {"configuration": before}, {"configuration": after}
        assert _outcome(native, b, a) == _outcome(python, b, a), before
    assert native({"configuration": deep_a}, {"configuration": deep_b})[0].path.count(".x") == 149


@needs_native
def test_errors_are_the_python_errors():
    """A lone surrogate msgspec cannot encode makes the Python _same raise; so does the C one."""
    before = {"configuration": {"a": ["\ud800", 1]}, "tags": {}}
    after = {"configuration": {"a": ["\ud800", 1]}, "tags": {"x": 1}}
    with pytest.raises(UnicodeEncodeError):
        python(before, after)
    with pytest.raises(UnicodeEncodeError):
        native(before, after)
    with pytest.raises(TypeError):
        native({}, {}, {})


@needs_native
def test_relationships_few_many_repeated_and_not_a_list():
    """Labels are a set however they are held: a few (scanned), many (a set), the same label
    twice, one side not a list (the Python _labels)."""

    def related(*ids):
        return [{"resourceId": f"r{i}", "resourceType": "T", "name": " Uses "} for i in ids]

    cases = [
        (related(*range(20)), related(*range(3, 25))),  # more than 16: a set
        (related("a", "a", "b"), related("b", "c", "c")),  # repeated labels
        (related(*range(16)), related(*range(17))),  # 16 and 17
        ("ab", related("a")),  # a str: its characters, by the Python _labels
        (related(1), {"k": 1}),
    ]
    for old, new in cases:
        for a, b in ((old, new), (new, old)):
            before, after = {"relationships": a}, {"relationships": b}
            _assert_identical(native(before, after), python(before, after), (a, b))
    assert [
        c.kind for c in native({"relationships": cases[0][0]}, {"relationships": cases[0][1]})
    ] == ["added"] * 5 + ["removed"] * 3


@needs_native
def test_sections_that_are_not_dicts_use_the_python_function():
    class Sections(dict):
        pass

    before, after = Sections(tags={"k": 1}), Sections(tags={"k": 2})
    assert native(before, after) == python(before, after) == [Change("tags", "k", "changed", 1, 2)]


@needs_native
@pytest.mark.parametrize("seed", range(20))
def test_relationships_compared_twice_in_a_row_give_what_fresh_copies_give(seed):
    """Each item's relationships are compared as the new side and then as the old side of the
    next diff, and their labels are remembered in between: the changes are those of copies
    that share nothing."""
    import copy

    rng = random.Random(seed)
    chain = [_relationships(rng) for _ in range(8)]
    chain.insert(rng.randrange(len(chain)), chain[rng.randrange(len(chain))])  # a repeat
    for old, new in itertools.pairwise(chain):
        fresh = ({"relationships": copy.deepcopy(old)}, {"relationships": copy.deepcopy(new)})
        expected = _outcome(python, *fresh)
        got = _outcome(native, {"relationships": old}, {"relationships": new})
        _assert_identical(got, expected, (old, new))


# --- a timeline's entries ----------------------------------------------------------------------

STATUSES = [
    "OK",
    "ResourceDiscovered",
    "ResourceDeleted",
    "ResourceNotRecorded",
    "ResourceDeletedNotRecorded",
]


class _Sections:
    """An item as timeline_entries reads it: status and sections (counting how often the
    sections are asked for, and raising for a bad document as Item.sections does)."""

    def __init__(self, status, sections):
        self.status, self._sections, self.asked = status, sections, 0

    @property
    def sections(self):
        self.asked += 1
        if self._sections is None:
            raise ValueError("bad item JSON")
        return self._sections

    def __repr__(self):
        return f"item({self.status})"


def _timeline_items(rng: random.Random, count: int):
    value = _item_pair(rng)[0]
    items = []
    for _ in range(count):
        value = {section: _mutated(rng, part) for section, part in value.items()}
        items.append(_Sections(rng.choice(STATUSES) if rng.random() < 0.3 else "OK", value))
    return items


def _entries_outcome(function, items, previous):
    try:
        return [(e.item, e.changes, e.note, type(e)) for e in function(items, previous)]
    except Exception as error:
        return type(error), str(error)


@needs_native
@pytest.mark.parametrize("seed", range(60))
def test_native_entries_equal_the_python_reference(seed):
    """Notes (first-recorded, changed, unchanged, gone, returned), changes and Entry tuples
    exactly as python_entries makes them, from every kind of baseline and status sequence."""
    rng = random.Random(seed)
    items = _timeline_items(rng, rng.randrange(0, 12))
    baseline = rng.choice(
        [None, _Sections("OK", _item_pair(rng)[0]), _Sections("ResourceDeleted", {})]
    )
    got = _entries_outcome(diff.timeline_entries, items, baseline)
    expected = _entries_outcome(diff.python_entries, items, baseline)
    assert repr(got) == repr(expected)
    if items and not isinstance(expected, tuple):
        assert all(isinstance(entry[1], tuple) for entry in got)


@needs_native
def test_native_entries_ask_each_item_for_its_sections_once_and_raise_its_error():
    rng = random.Random(1)
    items = [_Sections("OK", _item_pair(rng)[0]) for _ in range(4)]
    diff.timeline_entries(items, None)
    assert [item.asked for item in items] == [1, 1, 1, 1]
    broken = [_Sections("OK", {}), _Sections("OK", None)]
    got = _entries_outcome(diff.timeline_entries, broken, None)
    assert (
        got == _entries_outcome(diff.python_entries, broken, None) == (ValueError, "bad item JSON")
    )


@needs_native
def test_native_entries_check_their_arguments():
    from configtrail.history import _diffcore

    with pytest.raises(TypeError):
        _diffcore.timeline_entries((), None, diff.Entry, diff.GONE)  # not a list
    with pytest.raises(TypeError):
        _diffcore.timeline_entries([], None, dict, diff.GONE)  # not a named tuple type
    with pytest.raises(TypeError):
        _diffcore.timeline_entries([], None, diff.Entry, set(diff.GONE))  # not a frozenset


# --- references and memory ------------------------------------------------------------------


@needs_native
def test_no_reference_or_memory_leak():
    """Many diffs over the same objects: their reference counts and the traced memory come
    back to where they were (a missing DECREF would keep them growing)."""
    rng = random.Random(5)
    pairs = [_item_pair(rng) for _ in range(400)]
    marker, shared = "".join(["mark", "er"]), {"deep": [1, 2, {"x": "y"}]}
    for before, after in pairs[:200]:
        before["tags"], after["tags"] = {"m": marker, "s": shared}, {"m": marker + "!", "s": shared}
    watched = [marker, shared, Change, *SECTIONS, "changed", "added", "removed", None, True]

    def run(rounds):
        for _ in range(rounds):
            for before, after in pairs:
                _outcome(native, before, after)

    run(3)  # warm the decoding cache
    gc.collect()
    counts = [sys.getrefcount(o) for o in watched]
    tracemalloc.start()
    run(2)
    gc.collect()
    start = tracemalloc.get_traced_memory()[0]
    run(20)
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - start
    tracemalloc.stop()
    assert [sys.getrefcount(o) for o in watched] == counts
    assert grown < 64 * 1024, f"{grown} bytes more after 20 rounds of {len(pairs)} diffs"


@needs_native
def test_timeline_entries_leak_no_references():
    rng = random.Random(7)
    items = _timeline_items(rng, 30)
    baseline = _Sections("OK", _item_pair(rng)[0])
    watched = [*items, baseline, diff.Entry, diff.GONE, "gone", "returned", "changed"]
    diff.timeline_entries(items, baseline)
    gc.collect()
    counts = [sys.getrefcount(o) for o in watched]
    for _ in range(50):
        diff.timeline_entries(items, baseline)
    gc.collect()
    assert [sys.getrefcount(o) for o in watched] == counts


@needs_native
def test_native_unquote_is_urllibs_unquote():
    """The C percent-decoding of URL-encoded policy documents gives exactly urllib's result for
    every ASCII text (valid, malformed and truncated escapes, bytes that are not UTF-8, either
    case of hex digit), returns the same str when there is nothing to decode, and declines
    (None) non-ASCII text, which diff hands to urllib."""
    from urllib.parse import unquote

    from configtrail.history import _diffcore

    alphabet = ["%", "%2", "%7B", "%7b", "%5D", "%e4%b8%ad", "%C3", "%FF", "%zz", "%%41"]
    alphabet += ["a", "{", "%0A", "%E2%82", "%AC", " ", "\x00", "\x7f"]
    rng = random.Random(13)
    texts = ["", "%", "%4", "%41", "abc", "%7B%22a%22%3A1%7D", quote(json.dumps({"é": "中"}))]
    texts += [
        "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 12))) for _ in range(3000)
    ]
    for text in texts:
        assert _diffcore.unquote(text) == unquote(text), text
    plain = "".join(["no", "-escapes"])
    assert _diffcore.unquote(plain) is plain
    assert _diffcore.unquote("é%41") is None
    assert diff._percent_decoded("é%41") == "éA"
    with pytest.raises(TypeError):
        _diffcore.unquote(b"%41")


# --- without the extension ------------------------------------------------------------------

PROBE = """
import sys
{block}
from configtrail.history import diff
from configtrail.history.diff import build_timeline
assert diff.diff_sections is diff.python_diff_sections and diff.NATIVE is False
changes = diff.diff_sections({{"tags": {{"k": 1}}}}, {{"tags": {{"k": True}}}})
assert [tuple(c) for c in changes] == [("tags", "k", "changed", 1, True)], changes
print("pure python")
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("block", "env"),
    [
        # as if the .so were not there: the import of the extension fails
        ("sys.modules['configtrail.history._diffcore'] = None", {}),
        ("", {"CONFIGTRAIL_PURE_PYTHON": "1"}),
    ],
    ids=["extension-missing", "env-var"],
)
def test_without_the_extension_the_python_diff_is_used(block, env):
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(block=block)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pure python"
