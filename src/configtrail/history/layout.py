"""Where AWS Config puts what it delivers, and what the object keys say.

AWS Config writes to `<prefix>/AWSLogs/<account>/Config/<region>/<yyyy>/<m>/<d>/<kind>/<name>`,
where month and day are not zero-padded and `<kind>` is `ConfigHistory` or `ConfigSnapshot`:

- history: `<account>_Config_<region>_ConfigHistory_<resource type>_<start>_<end>_<n>.json.gz`,
  one file per resource type and delivery period, holding the items captured in [start, end];
- snapshot: `<account>_Config_<region>_ConfigSnapshot_<time>_<snapshot id>.json.gz`, the state of
  every recorded resource at <time>;
- oversized change notification: `OversizedChangeNotification/<resource type>/<resource id>/
  <account>_Config_<region>_ChangeNotification_<resource type>_<resource id>_<time>_<n>.json.gz`,
  written when a configuration item change notification is too large for SNS (AWS's "Example
  Oversized Configuration Item Change Notification" names this key in `s3BucketLocation`). It
  holds the whole notification, whose `configurationItem` is the item captured at <time>.

(Key shapes from AWS's delivery notifications, e.g. `AWSLogs/123456789012/Config/us-east-2/
2016/9/27/ConfigHistory/123456789012_Config_us-east-2_ConfigHistory_AWS::CloudTrail::Trail_
20160927T195818Z_20160927T195818Z_1.json.gz`.) Plain `.json` is accepted as well as `.json.gz`,
for archives that were downloaded and unpacked. Parsing a key is pure, so the reader can decide
what to fetch from the key alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

HISTORY = "ConfigHistory"
SNAPSHOT = "ConfigSnapshot"
OVERSIZED = "OversizedChangeNotification"
# Written by AWS Config when a delivery channel is created, to prove it can write; holds no items.
WRITABILITY_CHECK = "ConfigWritabilityCheckFile"

_DIRECTORY = re.compile(
    r"(?:^|/)AWSLogs/(?P<account>\d{12})/Config/(?P<region>[a-z0-9-]+)/"
    r"(?P<year>\d{4})/(?P<month>\d{1,2})/(?P<day>\d{1,2})/"
    r"(?:(?P<kind>ConfigHistory|ConfigSnapshot)/(?P<name>[^/]+)|"
    r"OversizedChangeNotification/(?P<notification>.+))$"
)
_STAMP = r"\d{8}T\d{6}Z"
_HISTORY_NAME = re.compile(
    rf"^(?P<account>\d{{12}})_Config_(?P<region>[a-z0-9-]+)_ConfigHistory_"
    rf"(?P<type>[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+)_(?P<start>{_STAMP})_(?P<end>{_STAMP})_"
    rf"(?P<seq>\d+)\.json(?P<gz>\.gz)?$"
)
_SNAPSHOT_NAME = re.compile(
    rf"^(?P<account>\d{{12}})_Config_(?P<region>[a-z0-9-]+)_ConfigSnapshot_(?P<time>{_STAMP})_"
    rf"(?P<id>[A-Za-z0-9-]+)\.json(?P<gz>\.gz)?$"
)


# <type>/<resource id>/<name>; a resource id may contain "/" (AWS::Config::ResourceCompliance).
_OVERSIZED_NAME = re.compile(
    rf"^(?P<type>[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+)/.+/"
    rf"(?P<account>\d{{12}})_Config_(?P<region>[a-z0-9-]+)_ChangeNotification_"
    rf"(?P=type)_.+_(?P<time>{_STAMP})_(?P<seq>\d+)\.json(?P<gz>\.gz)?$"
)


class LayoutError(ValueError):
    """A key that is not where, or not named as, AWS Config delivers."""


@dataclass(frozen=True)
class DeliveredFile:
    """One delivered object, described by its key alone."""

    key: str
    account: str
    region: str
    day: date
    kind: str  # HISTORY, SNAPSHOT or OVERSIZED
    gzipped: bool
    resource_type: str | None  # history and oversized files hold one type; snapshots hold all
    start: datetime  # history: first capture time covered; snapshot: the snapshot time;
    # oversized notification: the capture time of its item
    end: datetime

    def may_hold(self, since: datetime | None, until: datetime | None) -> bool:
        """False only when no item in this file can have a capture time in [since, until).

        Items are captured before they are delivered, so nothing in a file covering a period
        that ended before `since` is new; a history file whose period starts at or after `until`
        holds only later changes. A snapshot repeats states that history files already carry, so
        one taken at or after `until` adds nothing to the window either.
        """
        if since is not None and self.end < since:
            return False
        return not (until is not None and self.start >= until)


def _stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def is_writability_check(key: str) -> bool:
    return key.rsplit("/", 1)[-1] == WRITABILITY_CHECK


def parse_key(key: str) -> DeliveredFile:
    """Describe a delivered object from its key; LayoutError says what does not fit."""
    where = _DIRECTORY.search(key)
    if where is None:
        raise LayoutError(
            "not under <prefix>/AWSLogs/<account>/Config/<region>/<yyyy>/<m>/<d>/"
            "ConfigHistory|ConfigSnapshot|OversizedChangeNotification/"
        )
    try:
        day = date(int(where["year"]), int(where["month"]), int(where["day"]))
    except ValueError:
        raise LayoutError(
            f"{where['year']}/{where['month']}/{where['day']} is not a calendar date"
        ) from None
    name = where["name"]
    kind = where["kind"] or OVERSIZED
    if kind == OVERSIZED:
        found = _OVERSIZED_NAME.match(where["notification"])
        if found is None:
            raise LayoutError(
                "an OversizedChangeNotification file must be named <resource type>/<resource id>/"
                "<account>_Config_<region>_ChangeNotification_<resource type>_<resource id>_"
                "<time>_<n>.json[.gz]"
            )
        resource_type = found["type"]
        start = end = _stamp(found["time"])
    elif kind == HISTORY:
        found = _HISTORY_NAME.match(name)
        if found is None:
            raise LayoutError(
                "a ConfigHistory file must be named <account>_Config_<region>_ConfigHistory_"
                "<resource type>_<start>_<end>_<n>.json[.gz]"
            )
        resource_type = found["type"]
        start, end = _stamp(found["start"]), _stamp(found["end"])
    else:
        found = _SNAPSHOT_NAME.match(name)
        if found is None:
            raise LayoutError(
                "a ConfigSnapshot file must be named <account>_Config_<region>_ConfigSnapshot_"
                "<time>_<snapshot id>.json[.gz]"
            )
        resource_type = None
        start = end = _stamp(found["time"])
    if found["account"] != where["account"] or found["region"] != where["region"]:
        raise LayoutError(
            f"the name says account {found['account']} region {found['region']} but the folder "
            f"says account {where['account']} region {where['region']}"
        )
    return DeliveredFile(
        key=key,
        account=where["account"],
        region=where["region"],
        day=day,
        kind=kind,
        gzipped=found["gz"] is not None,
        resource_type=resource_type,
        start=start,
        end=end,
    )


def history_key(
    prefix: str,
    account: str,
    region: str,
    resource_type: str,
    start: datetime,
    end: datetime,
    sequence: int = 1,
    gzipped: bool = True,
) -> str:
    """The key AWS Config gives a history file (used by tests and the benchmark to seed)."""
    name = (
        f"{account}_Config_{region}_ConfigHistory_{resource_type}_"
        f"{start:%Y%m%dT%H%M%SZ}_{end:%Y%m%dT%H%M%SZ}_{sequence}.json" + (".gz" if gzipped else "")
    )
    return _join(prefix, account, region, end, HISTORY, name)


def snapshot_key(
    prefix: str,
    account: str,
    region: str,
    time: datetime,
    snapshot_id: str,
    gzipped: bool = True,
) -> str:
    """The key AWS Config gives a snapshot file."""
    name = f"{account}_Config_{region}_ConfigSnapshot_{time:%Y%m%dT%H%M%SZ}_{snapshot_id}.json" + (
        ".gz" if gzipped else ""
    )
    return _join(prefix, account, region, time, SNAPSHOT, name)


def oversized_key(
    prefix: str,
    account: str,
    region: str,
    resource_type: str,
    resource_id: str,
    time: datetime,
    sequence: int = 0,
) -> str:
    """The key AWS Config gives an oversized change notification."""
    name = (
        f"{resource_type}/{resource_id}/{account}_Config_{region}_ChangeNotification_"
        f"{resource_type}_{resource_id}_{time:%Y%m%dT%H%M%SZ}_{sequence}.json.gz"
    )
    return _join(prefix, account, region, time, OVERSIZED, name)


def _join(prefix: str, account: str, region: str, when: datetime, kind: str, name: str) -> str:
    head = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    return (
        f"{head}AWSLogs/{account}/Config/{region}/{when.year}/{when.month}/{when.day}/{kind}/{name}"
    )
