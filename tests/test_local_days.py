"""The report's local days over searches of a century: exact on both engines (fixed-offset zones and
zones with daylight saving time), and cheap to plan (the zone is not looked up for every day)."""
from collections import Counter
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from data_access import report
from data_access.filters import MoFilters, MtFilters
from data_access.report import _fixed_offset_s, mo_report, mt_report
from tests.factories import insert, mo_row, mt_row

CENTURY = {"date_from": date(2000, 1, 1), "date_to": date(2100, 12, 30)}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


INSTANTS = [
    utc(2000, 1, 1, 2, 30),  # São Paulo in summer time (-02): 00:30 on the 1st; Tokyo: 11:30
    utc(2000, 1, 1, 1, 30),  # São Paulo: 23:30 on 1999-12-31, outside the search there
    utc(2018, 11, 4, 2, 30),  # São Paulo's last start of summer time (00:00 -> 01:00 on 4 Nov 2018)
    utc(2018, 11, 4, 3, 30),
    utc(2026, 3, 28, 23, 30),  # Berlin: 00:30 CET on 29 Mar 2026, the day clocks go forward
    utc(2026, 3, 29, 22, 30),  # Berlin: 00:30 CEST on the 30th
    utc(2026, 10, 24, 22, 30),  # Berlin: 00:30 CEST on the 25th, the day clocks go back
    utc(2026, 10, 25, 23, 30),  # Berlin: 00:30 CET on the 26th
    utc(2026, 11, 10, 12),
    utc(2100, 12, 30, 14, 59),  # Tokyo: 23:59 on the 30th
    utc(2100, 12, 30, 15, 0),  # Tokyo: the 31st, outside the search there
    utc(2100, 12, 31, 2, 59),  # São Paulo: 23:59 on the 30th
]


@pytest.fixture
def century(engine):
    insert(engine, [mt_row(sent_at=when, status="delivered") for when in INSTANTS],
           [mo_row(received_at=when) for when in INSTANTS])
    return engine


def local_days(tz: str) -> list[tuple[date, int]]:
    """Rows per local day inside the search, counted here with zoneinfo."""
    days = Counter(when.astimezone(ZoneInfo(tz)).date() for when in INSTANTS)
    return sorted((day, n) for day, n in days.items() if CENTURY["date_from"] <= day <= CENTURY["date_to"])


@pytest.mark.parametrize("tz, fixed", [("Asia/Tokyo", 9 * 3600), ("UTC", 0), ("America/Sao_Paulo", None),
                                        ("Europe/Berlin", None)])
def test_a_century_is_counted_by_local_day_on_both_engines(century, tz, fixed):
    mt_search, mo_search = MtFilters(**CENTURY, tz=tz), MoFilters(**CENTURY, tz=tz)
    assert _fixed_offset_s(mt_search) == fixed
    expected = local_days(tz)
    with century.connect() as conn:
        mt, mo = mt_report(conn, mt_search), mo_report(conn, mo_search)
    assert [(d.day, d.total) for d in mt.daily] == expected
    assert list(mo.daily) == expected
    assert mt.totals.total == mo.total == sum(n for _, n in expected)


@pytest.mark.parametrize(
    "tz, date_from, date_to, fixed",
    [
        ("Europe/Berlin", date(2026, 4, 1), date(2026, 10, 23), 7200),  # summer time only
        ("Europe/Berlin", date(2026, 4, 1), date(2026, 10, 24), None),  # the search ends in the night it ends
        ("Europe/Berlin", date(2025, 10, 27), date(2026, 3, 27), 3600),  # a winter
        ("America/Sao_Paulo", date(2019, 4, 8), date(2100, 12, 31), -3 * 3600),  # no summer time since 2019
        ("America/Sao_Paulo", date(2019, 2, 15), date(2019, 2, 20), None),  # its last summer time ended on the 17th
    ],
)
def test_the_fixed_offset_is_seen_exactly(tz, date_from, date_to, fixed):
    assert _fixed_offset_s(MtFilters(date_from=date_from, date_to=date_to, tz=tz)) == fixed


def test_planning_a_century_looks_each_zone_up_once_a_day_per_process(monkeypatch):
    """The zone's offset is looked up for each day of a year once per process (whole years come from
    the cache after), not for each day of every search: counted, not timed."""
    searches = [MtFilters(**CENTURY, tz=tz) for tz in ("UTC", "Asia/Tokyo", "America/Manaus")] * 10
    looked_up = Counter()
    real_offset_s = report._offset_s

    def counted(moment: datetime) -> int:
        looked_up[str(moment.tzinfo)] += 1
        return real_offset_s(moment)

    monkeypatch.setattr(report, "_offset_s", counted)
    report._noon_offsets_of_year.cache_clear()
    offsets = [_fixed_offset_s(search) for search in searches]
    assert offsets == [0, 9 * 3600, -4 * 3600] * 10
    # 2000-2100: 101 years, 25 of them leap years (2100 is not); every search ends on the last day of
    # 2100 (the day after date_to), so every year is a whole one
    days = 101 * 365 + 25
    # the first search in a zone: its first midnight and every noon of the century; the other nine: their
    # first midnight (day by day, each search would look up all 36,890 noons again)
    assert looked_up == {zone: 1 + days + 9 for zone in ("UTC", "Asia/Tokyo", "America/Manaus")}
