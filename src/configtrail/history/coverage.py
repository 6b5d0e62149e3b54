"""Was recording continuous? Delivered days and gaps per account and region.

AWS Config writes each delivery into the day folder of its account and region
(`AWSLogs/<account>/Config/<region>/<yyyy>/<m>/<d>/`), and a delivery channel with snapshot
delivery (ConfigTrail's stacks always set one) delivers at least one snapshot a day while the
recorder runs. So a day of the window with no delivery at all for an (account, region) the estate
records is a gap: the recorder was stopped, the channel broken or the bucket unreachable. Pairs
that deliver but are not expected are listed too: an account writing into the archive that the
estate does not know.

Pure functions over (account, region, day) facts, so the same answer comes from a file listing,
Athena, or a test.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True)
class Gap:
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def __str__(self) -> str:
        if self.first == self.last:
            return self.first.isoformat()
        return f"{self.first.isoformat()} to {self.last.isoformat()} ({self.days} days)"


@dataclass(frozen=True)
class Coverage:
    """One account and region over the window."""

    account: str
    region: str
    expected: bool  # named by the estate / --expect (or, with neither, seen in the archive)
    window_days: int
    delivered: tuple[date, ...]  # days of the window with at least one delivery
    gaps: tuple[Gap, ...] = field(default=())

    @property
    def continuous(self) -> bool:
        return self.expected and not self.gaps

    @property
    def status(self) -> str:
        if not self.expected:
            return "not expected"
        if not self.delivered:
            return "no delivery"
        return "continuous" if not self.gaps else "gaps"

    def as_dict(self) -> dict:
        return {
            "account": self.account,
            "region": self.region,
            "expected": self.expected,
            "status": self.status,
            "windowDays": self.window_days,
            "deliveredDays": len(self.delivered),
            "firstDelivered": self.delivered[0].isoformat() if self.delivered else None,
            "lastDelivered": self.delivered[-1].isoformat() if self.delivered else None,
            "gaps": [
                {"first": g.first.isoformat(), "last": g.last.isoformat(), "days": g.days}
                for g in self.gaps
            ],
        }


def _gaps(days: set[date], first: date, last: date) -> tuple[Gap, ...]:
    gaps: list[Gap] = []
    start: date | None = None
    day = first
    while day <= last:
        if day in days:
            if start is not None:
                gaps.append(Gap(start, day - timedelta(days=1)))
                start = None
        elif start is None:
            start = day
        day += timedelta(days=1)
    if start is not None:
        gaps.append(Gap(start, last))
    return tuple(gaps)


def coverage(
    delivered: Iterable[tuple[str, str, date]],
    first: date,
    last: date,
    expected: Iterable[tuple[str, str]] | None = None,
) -> list[Coverage]:
    """Coverage of [first, last] (inclusive days) for every expected (account, region), plus the
    pairs that delivered without being expected. `expected` None: the pairs seen delivering."""
    days: dict[tuple[str, str], set[date]] = {}
    for account, region, day in delivered:
        days.setdefault((account, region), set()).add(day)
    wanted = set(days) if expected is None else set(expected)
    window_days = max((last - first).days + 1, 0)
    result = []
    for account, region in sorted(wanted | set(days)):
        seen = {d for d in days.get((account, region), ()) if first <= d <= last}
        is_expected = (account, region) in wanted
        if not is_expected and not seen:
            continue
        result.append(
            Coverage(
                account=account,
                region=region,
                expected=is_expected,
                window_days=window_days,
                delivered=tuple(sorted(seen)),
                gaps=_gaps(seen, first, last) if is_expected else (),
            )
        )
    return result
