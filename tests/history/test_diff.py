"""Field-level diffs and timeline notes, on hand-made items.

Every diff test runs against both implementations of diff_sections: the Python reference and
the C extension (configtrail.history._diffcore), which is skipped only when it was not built.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from configtrail.history import diff
from configtrail.history.diff import build_timeline, flatten
from configtrail.history.model import Change, Item, ItemError, ResourceKey, item_from_delivery

NOT_BUILT = (
    "the C diff (configtrail.history._diffcore) is not in use: not built (no C compiler at "
    "install) or CONFIGTRAIL_PURE_PYTHON is set"
)
IMPLEMENTATIONS = [
    pytest.param(diff.python_diff_sections, id="python"),
    pytest.param(
        diff.diff_sections, id="native", marks=pytest.mark.skipif(not diff.NATIVE, reason=NOT_BUILT)
    ),
]


@pytest.fixture(params=IMPLEMENTATIONS)
def diff_sections(request, monkeypatch):
    """One implementation, also the one build_timeline calls."""
    monkeypatch.setattr(diff, "diff_sections", request.param)
    return request.param


KEY = ResourceKey("123456789012", "us-east-1", "AWS::SageMaker::Model", "m")


def make(hour: int, status="OK", **sections) -> Item:
    base = {
        "configuration": None,
        "supplementaryConfiguration": {},
        "tags": {},
        "relationships": [],
    }
    return Item(
        KEY,
        datetime(2025, 3, 1, hour, tzinfo=UTC),
        status,
        str(hour),
        None,
        None,
        "file",
        {**base, **sections},
    )


def test_changed_added_removed_and_nested_paths(diff_sections):
    before = {"configuration": {"a": 1, "nested": {"x": "old"}, "gone": True, "list": [1, 2]}}
    after = {"configuration": {"a": 1, "nested": {"x": "new"}, "new": None, "list": [1, 3]}}
    assert diff_sections(before, after) == [
        Change("configuration", "gone", "removed", True, None),
        Change("configuration", "list[1]", "changed", 2, 3),
        Change("configuration", "nested.x", "changed", "old", "new"),
        Change("configuration", "new", "added", None, None),
    ]


def test_type_change_is_a_change_even_when_python_thinks_equal(diff_sections):
    assert diff_sections({"tags": {"n": 1}}, {"tags": {"n": True}}) == [
        Change("tags", "n", "changed", 1, True)
    ]


def test_url_encoded_policy_documents_are_compared_statement_by_statement(diff_sections):
    def doc(actions):
        return quote(json.dumps({"Statement": [{"Action": actions}]}))

    changes = diff_sections(
        {"configuration": {"policy": doc(["s3:GetObject"])}},
        {"configuration": {"policy": doc(["s3:*"])}},
    )
    assert changes == [
        Change("configuration", "policy.Statement[0].Action[0]", "changed", "s3:GetObject", "s3:*")
    ]


def test_json_text_in_supplementary_configuration_is_decoded(diff_sections):
    old = {"supplementaryConfiguration": {"BucketPolicy": {"policyText": '{"Effect": "Deny"}'}}}
    new = {"supplementaryConfiguration": {"BucketPolicy": {"policyText": '{"Effect": "Allow"}'}}}
    [change] = diff_sections(old, new)
    assert change.path == "BucketPolicy.policyText.Effect"
    assert (change.before, change.after) == ("Deny", "Allow")


def test_relationships_are_a_set(diff_sections):
    a = {"resourceId": "r1", "resourceType": "AWS::IAM::Role", "name": "Is associated with Role"}
    b = {"resourceId": "k1", "resourceType": "AWS::KMS::Key", "name": "Is associated with Key"}
    assert diff_sections({"relationships": [a, b]}, {"relationships": [b, a]}) == []
    [change] = diff_sections({"relationships": [a]}, {"relationships": [a, b]})
    assert (change.section, change.kind) == ("relationships", "added")
    assert change.after == "Is associated with Key AWS::KMS::Key k1"


def test_empty_containers_still_compare(diff_sections):
    assert dict(flatten({"a": {}, "b": []})) == {"a": {}, "b": []}
    [change] = diff_sections({"configuration": {"a": {}}}, {"configuration": {"a": {"k": 1}}})
    assert change.path == "a.k" and change.kind == "added"


def test_timeline_notes(diff_sections):
    items = [
        make(1, configuration={"v": 1}),
        make(2, configuration={"v": 1}),
        make(3, configuration={"v": 2}),
        make(4, status="ResourceDeleted"),
        make(5, status="ResourceDiscovered", configuration={"v": 9}),
    ]
    timeline = build_timeline(items, baseline=None)
    assert [e.note for e in timeline.entries] == [
        "first-recorded",
        "unchanged",
        "changed",
        "gone",
        "returned",
    ]
    assert timeline.entries[2].changes == (Change("configuration", "v", "changed", 1, 2),)
    assert timeline.change_count == 1


def test_timeline_compares_first_item_with_baseline(diff_sections):
    timeline = build_timeline(
        [make(5, configuration={"v": 2})], baseline=make(1, configuration={"v": 1})
    )
    assert timeline.entries[0].note == "changed"
    assert timeline.entries[0].changes[0].before == 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "is a list, not an object"),
        (
            {
                "resourceType": "AWS::S3::Bucket",
                "configurationItemCaptureTime": "2025-01-01T00:00:00Z",
            },
            "has no resourceId",
        ),
        (
            {
                "resourceType": "AWS::S3::Bucket",
                "resourceId": "b",
                "configurationItemCaptureTime": "yesterday",
            },
            "'yesterday' is not an ISO 8601 time",
        ),
    ],
)
def test_items_that_cannot_be_placed_are_explained(raw, message):
    with pytest.raises(ItemError, match=message):
        item_from_delivery(raw, delivery_account="1", delivery_region="us-east-1", source="f")


def test_documented_legacy_spelling_and_global_region():
    item = item_from_delivery(
        {
            "resourceType": "AWS::IAM::Role",
            "resourceId": "r",
            "awsRegion": "global",
            "configurationItemCaptureTime": "2014-03-07T23:47:08.918Z",
            "arn": "arn:aws:iam::1:role/r",
            "accountId": "111122223333",
            "configurationStateID": "3e660fdf",
        },
        delivery_account="999999999999",
        delivery_region="us-east-1",
        source="f",
    )
    assert item.key == ResourceKey("111122223333", "us-east-1", "AWS::IAM::Role", "r")
    assert (item.arn, item.state_id) == ("arn:aws:iam::1:role/r", "3e660fdf")
    assert item.capture_time == datetime(2014, 3, 7, 23, 47, 8, 918000, tzinfo=UTC)


def test_a_section_that_appears_is_its_fields(diff_sections):
    changes = diff_sections({"configuration": None}, {"configuration": {"a": 1}})
    assert changes == [Change("configuration", "a", "added", None, 1)]
    assert diff_sections({"tags": {"k": "v"}}, {"tags": {}}) == [
        Change("tags", "k", "removed", "v", None)
    ]


def _random_value(rng, depth=0):
    choice = rng.randrange(10 if depth < 3 else 5)
    if choice == 0:
        return rng.choice([0, 1, 2, True, False, 1.0, None])
    if choice == 1:
        return rng.choice(["a", "b", "", "s3:*", '{"k": 1}', '{"k": true}', "%7B%22k%22%3A2%7D"])
    if choice == 2:
        return rng.choice([{}, []])
    if choice in (3, 4):
        return rng.randrange(3)
    if choice in (5, 6, 7):
        return {rng.choice("abcde"): _random_value(rng, depth + 1) for _ in range(rng.randrange(4))}
    return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]


def _mutate(rng, value, depth=0):
    if rng.random() < 0.25 or depth > 3:
        return _random_value(rng, depth)
    if isinstance(value, dict):
        result = {
            k: _mutate(rng, v, depth + 1) if rng.random() < 0.4 else v for k, v in value.items()
        }
        if rng.random() < 0.3:
            result[rng.choice("abcdef")] = _random_value(rng, depth + 1)
        if result and rng.random() < 0.2:
            result.pop(rng.choice(list(result)))
        return result
    if isinstance(value, list):
        result = [_mutate(rng, v, depth + 1) if rng.random() < 0.4 else v for v in value]
        if rng.random() < 0.3:
            result.append(_random_value(rng, depth + 1))
        return result
    return value


def test_fast_diff_equals_the_flat_reference_on_random_items(diff_sections):
    """diff_sections skips equal subtrees; it must report exactly what comparing every
    flattened path reports (types of leaves included, embedded JSON decoded)."""
    import random

    from configtrail.history.diff import flat_changes

    rng = random.Random(13)
    differing = 0
    for _ in range(3000):
        before = {
            s: _random_value(rng) for s in ("configuration", "supplementaryConfiguration", "tags")
        }
        after = {s: _mutate(rng, v) for s, v in before.items()}
        expected = [
            change
            for section in ("configuration", "supplementaryConfiguration", "tags")
            for change in flat_changes(section, before[section], after[section])
        ]
        assert diff_sections(before, after) == expected, (before, after)
        differing += bool(expected)
    assert differing > 1000  # the cases really differ
