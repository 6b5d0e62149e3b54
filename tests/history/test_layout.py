"""Keys of delivered files: AWS's own examples parse, and what does not fit is named."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from configtrail.history import layout

# Verbatim from AWS's "Example Configuration History Delivery Notification".
AWS_HISTORY_KEY = (
    "AWSLogs/123456789012/Config/us-east-2/2016/9/27/ConfigHistory/123456789012_Config_us-east-2_"
    "ConfigHistory_AWS::CloudTrail::Trail_20160927T195818Z_20160927T195818Z_1.json.gz"
)
# The shape of AWS's ConfigSnapshot keys (as in ConfigurationSnapshotDeliveryCompleted events).
AWS_SNAPSHOT_KEY = (
    "AWSLogs/000000000000/Config/us-east-1/2016/2/24/ConfigSnapshot/000000000000_Config_us-east-1_"
    "ConfigSnapshot_20160224T182319Z_00000000-0000-0000-0000-000000000000.json.gz"
)


def test_aws_history_key_parses():
    file = layout.parse_key(AWS_HISTORY_KEY)
    assert (file.account, file.region, file.day, file.kind) == (
        "123456789012",
        "us-east-2",
        date(2016, 9, 27),
        layout.HISTORY,
    )
    assert file.resource_type == "AWS::CloudTrail::Trail"
    assert file.gzipped
    assert file.start == file.end == datetime(2016, 9, 27, 19, 58, 18, tzinfo=UTC)


def test_aws_snapshot_key_parses_with_prefix():
    file = layout.parse_key("configtrail/" + AWS_SNAPSHOT_KEY)
    assert (file.kind, file.resource_type, file.account) == (layout.SNAPSHOT, None, "000000000000")
    assert file.start == datetime(2016, 2, 24, 18, 23, 19, tzinfo=UTC)


def test_key_builders_match_aws_naming():
    when = datetime(2016, 9, 27, 19, 58, 18, tzinfo=UTC)
    built = layout.history_key(
        "", "123456789012", "us-east-2", "AWS::CloudTrail::Trail", when, when
    )
    assert built == AWS_HISTORY_KEY
    snapshot = layout.snapshot_key(
        "",
        "000000000000",
        "us-east-1",
        datetime(2016, 2, 24, 18, 23, 19, tzinfo=UTC),
        "00000000-0000-0000-0000-000000000000",
    )
    assert snapshot == AWS_SNAPSHOT_KEY


def test_plain_json_is_accepted():
    assert not layout.parse_key(AWS_HISTORY_KEY.removesuffix(".gz")).gzipped


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("configtrail/exports/file.json.gz", "not under <prefix>/AWSLogs"),
        (AWS_HISTORY_KEY.replace("/9/27/", "/2/30/"), "2016/2/30 is not a calendar date"),
        (AWS_HISTORY_KEY.rsplit("/", 1)[0] + "/notes.txt", "a ConfigHistory file must be named"),
        (
            AWS_SNAPSHOT_KEY.replace("ConfigSnapshot_2016", "Snapshot_2016"),
            "a ConfigSnapshot file must be named",
        ),
        (
            AWS_HISTORY_KEY.replace(
                "Config_us-east-2_ConfigHistory", "Config_eu-west-1_ConfigHistory"
            ),
            "the name says account 123456789012 region eu-west-1 but the folder says",
        ),
    ],
)
def test_keys_outside_the_layout_are_explained(key, message):
    with pytest.raises(layout.LayoutError, match=message.replace("(", r"\(")):
        layout.parse_key(key)


def test_writability_check_file_is_recognised():
    assert layout.is_writability_check("p/AWSLogs/123456789012/Config/ConfigWritabilityCheckFile")
    assert not layout.is_writability_check(AWS_HISTORY_KEY)


def test_may_hold_uses_the_delivery_period():
    file = layout.parse_key(AWS_HISTORY_KEY)
    before = datetime(2016, 9, 27, tzinfo=UTC)
    after = datetime(2016, 9, 28, tzinfo=UTC)
    assert file.may_hold(before, after)
    assert not file.may_hold(after, None)  # period ended before the window starts
    assert not file.may_hold(None, before)  # period starts after the window ends
    assert file.may_hold(None, None)
