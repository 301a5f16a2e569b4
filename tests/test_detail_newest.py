"""The detail table's default page (newest first) looked for in a window of time ending where the
search ends (`data_access.detail.newest_page`), on both engines: for random searches, pages and page
sizes, the same rows in the same order as a Python sort of the test's own rows and as one query over
the whole search, with the search's count given, not given, or given wrong (a count from an older
version of the data)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.engine import Engine

from data_access.columns import MO_COLUMNS, MT_COLUMNS, detail_select
from data_access.detail import TableOrder, newest_page, sorted_page
from data_access.filters import MoFilters, MtFilters
from tests.factories import at, insert, mo_row, mt_row

UTC = timezone.utc
STATUSES = ("read", "delivered", "sent", "undelivered")
CAMPAIGNS = ("Natal", "Carnaval", None)
ZONES = ("America/Sao_Paulo", "UTC", "Asia/Kolkata")


def spread_instants() -> list[datetime]:
    """Uneven time: a dense burst on Nov 3 (ties of the same second included), a few rows a day to
    Nov 20, a lone row at the very end of Nov 20 and one late on Nov 30: windows of an hour miss, grow
    and catch rows at different widths."""
    burst = [at(3, 9) + timedelta(seconds=7 * i // 3) for i in range(120)]  # pairs share a second
    daily = [at(day, hour) for day in range(4, 21) for hour in (8, 13, 21)]
    return [*burst, *daily, datetime(2026, 11, 20, 23, 59, 59, tzinfo=UTC), at(30, 22), at(1, 0)]


def mt_rows() -> list[dict]:
    return [mt_row(message_id=f"wamid.n{(i * 37) % 1000:04d}", sent_at=when, status=STATUSES[i % 4],
                   campaign=CAMPAIGNS[(i // 4) % 3]) for i, when in enumerate(spread_instants())]


def mo_rows() -> list[dict]:
    return [mo_row(message_id=f"wamid.m{(i * 37) % 1000:04d}", received_at=when, campaign=CAMPAIGNS[i % 3])
            for i, when in enumerate(spread_instants())]


def expected_ids(rows: list[dict], time_key: str, date_from: date, date_to: date, tz: str,
                 statuses: tuple[str, ...], campaigns: tuple[str, ...], offset: int, size: int) -> list[str]:
    """The page by a Python sort: rows of the period in the zone, of the chosen values, newest first,
    ties by message id descending."""
    zone = ZoneInfo(tz)
    start = datetime.combine(date_from, datetime.min.time(), zone)
    end = datetime.combine(date_to + timedelta(days=1), datetime.min.time(), zone)
    kept = [r for r in rows if start <= r[time_key] < end
            and (not statuses or r.get("status") in statuses)
            and (not campaigns or r["campaign"] in campaigns)]
    kept.sort(key=lambda r: (r[time_key], r["message_id"]), reverse=True)
    return [r["message_id"] for r in kept[offset:offset + size]]


def count_of(rows: list[dict], time_key: str, date_from: date, date_to: date, tz: str, statuses, campaigns) -> int:
    return len(expected_ids(rows, time_key, date_from, date_to, tz, statuses, campaigns, 0, len(rows)))


def check_random_pages(engine: Engine, view: str) -> None:
    rows = mt_rows() if view == "mt" else mo_rows()
    insert(engine, **({"mts": rows} if view == "mt" else {"mos": rows}))
    time_key, columns = ("sent_at", MT_COLUMNS) if view == "mt" else ("received_at", MO_COLUMNS)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(data=st.data())
    def check(data) -> None:
        date_from = data.draw(st.dates(date(2026, 10, 30), date(2026, 11, 21)))
        date_to = date_from + timedelta(days=data.draw(st.integers(0, 31)))
        tz = data.draw(st.sampled_from(ZONES))
        campaigns = tuple(data.draw(st.lists(st.sampled_from(["Natal", "Carnaval"]), max_size=2, unique=True)))
        statuses = tuple(data.draw(st.lists(st.sampled_from(STATUSES), max_size=3, unique=True))) if view == "mt" else ()
        page, size = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 40))
        fields = {"date_from": date_from, "date_to": date_to, "tz": tz, "campaign": campaigns}
        filters = MtFilters(**fields, status=statuses) if view == "mt" else MoFilters(**fields)
        total = count_of(rows, time_key, date_from, date_to, tz, statuses, campaigns)
        given_total = data.draw(st.sampled_from([total, None, 0, total * 3 + 1, max(total // 5, 1)]))
        expected = expected_ids(rows, time_key, date_from, date_to, tz, statuses, campaigns, (page - 1) * size, size)
        with engine.connect() as conn:
            windowed = newest_page(conn, filters, columns, page, size, given_total)
            plain = [dict(r) for r in conn.execute(
                detail_select(filters, columns).limit(size).offset((page - 1) * size)).mappings()]
            default_order = sorted_page(conn, filters, columns, TableOrder(), page, size, "en", given_total)
        assert [r["message_id"] for r in windowed] == expected
        assert windowed == plain  # every column, same values
        assert default_order == plain

    check()


@pytest.mark.parametrize("view", ["mt", "mo"])
def test_newest_page_equals_the_whole_search_query(engine, view):
    check_random_pages(engine, view)


def statements_of(engine: Engine, work) -> tuple[object, list[str]]:
    """What `work(conn)` returns, and the statements it sent."""
    statements: list[str] = []

    def seen(_conn, _cursor, statement, _params, _context, _many) -> None:
        statements.append(statement)

    with engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", seen)
        result = work(conn)
    return result, statements


def test_a_page_within_the_last_hour_takes_one_query_and_a_sparse_end_takes_more(engine):
    """Rows every 2 minutes up to the end of the search. Page 1 of 25: the window the count asks for
    (20 days x 4 x 25 / 300 rows: 6.7 days) holds it, one query. Page 3 with a count 1,000 times the
    rows: the window starts at one hour (30 rows, fewer than the 75 needed), then 8 hours hold them."""
    end = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)  # Nov 20 ends here in São Paulo
    rows = [mt_row(message_id=f"wamid.h{i:03d}", sent_at=end - timedelta(minutes=2 * i + 1)) for i in range(300)]
    insert(engine, rows)
    filters = MtFilters(date_from=date(2026, 11, 1), date_to=date(2026, 11, 20))
    first, statements = statements_of(engine, lambda conn: newest_page(conn, filters, MT_COLUMNS, 1, 25, total=300))
    assert [r["message_id"] for r in first] == [f"wamid.h{i:03d}" for i in range(25)]
    assert len(statements) == 1
    third, statements = statements_of(engine, lambda conn: newest_page(conn, filters, MT_COLUMNS, 3, 25, total=300_000))
    assert [r["message_id"] for r in third] == [f"wamid.h{i:03d}" for i in range(50, 75)]
    assert len(statements) == 2
    assert all(" >= " in s for s in statements)  # windows, never the whole search
