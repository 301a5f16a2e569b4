"""Distinct contacts, read delays and the weekday x hour heatmaps (data_access/insights.py) on both
engines. Expected values are computed here from the rows each test made: medians with `statistics`,
buckets from the bounds written out by hand, local weekday and hour with zoneinfo."""
import statistics
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from data_access.filters import MoFilters, MtFilters
from data_access.insights import READ_BUCKETS, mo_insights, mt_insights
from tests.factories import at, insert, mo_row, mt_row

NOVEMBER = {"date_from": date(2026, 11, 1), "date_to": date(2026, 11, 30)}
BOUNDS_S = [60, 300, 900, 3600, 21600, 86400]  # < 1 min, 1-5 min, 5-15 min, 15-60 min, 1-6 h, 6-24 h, > 24 h


def bucket_of(seconds: float) -> int:
    return next((i for i, bound in enumerate(BOUNDS_S) if seconds < bound), len(BOUNDS_S))


def buckets(durations: list[float]) -> tuple[int, ...]:
    counts = [0] * 7
    for d in durations:
        counts[bucket_of(d)] += 1
    return tuple(counts)


def grid(instants: list[datetime], tz: str) -> tuple[tuple[int, ...], ...]:
    cells = [[0] * 24 for _ in range(7)]
    for when in instants:
        local = when.astimezone(ZoneInfo(tz))
        cells[local.weekday()][local.hour] += 1
    return tuple(tuple(row) for row in cells)


def read_mt(sent: datetime, delivered_after: timedelta | None, read_after: timedelta | None, **fields) -> dict:
    delivered = None if delivered_after is None else sent + delivered_after
    read = None if read_after is None else sent + read_after
    status = "read" if read else ("delivered" if delivered else "sent")
    return mt_row(sent_at=sent, delivered_at=delivered, read_at=read, status=status, **fields)


def test_read_delays_medians_and_buckets(engine):
    s = timedelta(seconds=1)
    rows = [
        read_mt(at(3, 9), 5 * s, 35 * s),  # 30 s after delivery
        read_mt(at(3, 10), 10 * s, 250 * s),  # 4 min
        read_mt(at(4, 11), 60 * s, 61 * s),  # 1 s
        read_mt(at(5, 12), 2 * s, 3602 * s),  # exactly 1 h: the 1-6 h bucket
        read_mt(at(6, 13), 30 * s, 30 * s + timedelta(hours=30)),  # 30 h
        read_mt(at(7, 14), 20 * s, 15 * s),  # read stamped 5 s before delivery: immediate
        read_mt(at(8, 15), None, 900 * s),  # read with no delivery time: only sent -> read
        read_mt(at(8, 16), 4 * s, None),  # delivered, not read: no delay
        read_mt(at(9, 17), None, None),  # sent only
        read_mt(at(9, 18), 3 * s, 7200 * s, campaign="Outra"),  # outside the campaign filter below
        read_mt(at(2, 12, month=12), 3 * s, 100 * s),  # outside the period
    ]
    insert(engine, rows)
    filters = MtFilters(**NOVEMBER, campaign=("Black Friday",))
    kept = [r for r in rows if r["campaign"] == "Black Friday" and r["sent_at"].month == 11 and r["read_at"]]
    delivered_read = [max((r["read_at"] - r["delivered_at"]).total_seconds(), 0) for r in kept if r["delivered_at"]]
    sent_read = [(r["read_at"] - r["sent_at"]).total_seconds() for r in kept]
    assert delivered_read == [30, 240, 1, 3600, 108000, 0]
    with engine.connect() as conn:
        got = mt_insights(conn, filters)
    assert got.delivered_to_read.measured == 6
    assert got.delivered_to_read.median_s == pytest.approx(statistics.median(delivered_read)) == 135
    assert got.delivered_to_read.buckets == buckets(delivered_read) == (3, 1, 0, 0, 1, 0, 1)
    assert got.sent_to_read.measured == 7
    assert got.sent_to_read.median_s == pytest.approx(statistics.median(sent_read)) == 250
    assert got.sent_to_read.buckets == buckets(sent_read)
    assert len(READ_BUCKETS) == 7


def test_nothing_read_has_no_median(engine):
    insert(engine, [read_mt(at(3, 9), timedelta(seconds=5), None), read_mt(at(3, 10), None, None)])
    with engine.connect() as conn:
        got = mt_insights(conn, MtFilters(**NOVEMBER))
    assert (got.delivered_to_read.measured, got.delivered_to_read.median_s, got.delivered_to_read.buckets) == (
        0, None, (0,) * 7)
    assert (got.sent_to_read.measured, got.sent_to_read.median_s) == (0, None)
    assert got.reads_by_hour == tuple((0,) * 24 for _ in range(7))


def test_distinct_recipients_and_senders(engine):
    mts = [
        mt_row(sent_at=at(3, 9), phone="+5511900000001"),
        mt_row(sent_at=at(3, 10), phone="+5511900000001"),  # same person twice
        mt_row(sent_at=at(4, 9), phone="+5511900000002"),
        mt_row(sent_at=at(4, 10), phone=None, wa_user_id="0732001122"),  # no E.164 number: its raw id
        mt_row(sent_at=at(4, 11), phone=None, wa_user_id="0732001122"),
        mt_row(sent_at=at(4, 12), phone="+5511900000003", subaccount="Outra"),  # filtered out
        mt_row(sent_at=at(3, 12, month=12), phone="+5511900000004"),  # outside the period
    ]
    mos = [
        mo_row(received_at=at(5, 9), phone="+5511900000001"),
        mo_row(received_at=at(5, 10), phone="+5511900000001"),
        mo_row(received_at=at(5, 11), phone="+5521900000009"),
        mo_row(received_at=at(5, 12), phone=None, wa_user_id="0732001122"),
        mo_row(received_at=at(5, 13, month=10), phone="+5521900000008"),  # outside the period
    ]
    insert(engine, mts, mos)
    kept = [r for r in mts if r["subaccount"] == "Varejo" and r["sent_at"].month == 11]
    expected_mt = {r["phone"] or r["wa_user_id"] for r in kept}
    expected_mo = {r["phone"] or r["wa_user_id"] for r in mos if r["received_at"].month == 11}
    with engine.connect() as conn:
        assert mt_insights(conn, MtFilters(**NOVEMBER, subaccount=("Varejo",))).recipients == len(expected_mt) == 3
        assert mo_insights(conn, MoFilters(**NOVEMBER)).senders == len(expected_mo) == 3


@pytest.mark.parametrize("tz", ["America/Sao_Paulo", "America/New_York", "Asia/Kolkata"])
def test_weekday_hour_heatmaps_in_the_report_zone(engine, tz):
    """São Paulo has one offset all November (arithmetic path), New York changes offset on 1 November
    2026 (zone database path), Kolkata is a half-hour offset."""
    sent = [at(1, 3, 10), at(2, 2, 50), at(6, 23, 59), at(7, 0, 1), at(14, 12), at(21, 4, 40), at(28, 18)]
    delays = [timedelta(minutes=m) for m in (5, 20, 1, 600, 0, 45, 30)]
    mts = [read_mt(s, timedelta(seconds=1), d + timedelta(seconds=1)) for s, d in zip(sent, delays)]
    mts.append(read_mt(at(10, 10), timedelta(seconds=1), None))  # not read: not in the heatmap
    replies = [at(1, 4, 30), at(1, 4, 31), at(3, 23, 30), at(9, 0, 15), at(15, 13), at(29, 21)]
    mos = [mo_row(received_at=r) for r in replies]
    insert(engine, mts, mos)
    mt_filters = MtFilters(date_from=date(2026, 10, 31), date_to=date(2026, 11, 29), tz=tz)
    mo_filters = MoFilters(date_from=date(2026, 10, 31), date_to=date(2026, 11, 29), tz=tz)
    start, end = mt_filters.utc_bounds()
    with engine.connect() as conn:
        mt_got, mo_got = mt_insights(conn, mt_filters), mo_insights(conn, mo_filters)
    reads = [r["read_at"] for r in mts if r["read_at"] and start <= r["sent_at"] < end]
    assert mt_got.reads_by_hour == grid(reads, tz)
    assert sum(map(sum, mt_got.reads_by_hour)) == len(reads)
    assert mo_got.replies_by_hour == grid([r for r in replies if start <= r < end], tz)

