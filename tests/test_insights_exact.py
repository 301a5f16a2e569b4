"""The insights (data_access/insights.py) equal their definition for random searches on both engines:
distinct contacts (the phone, else the raw WhatsApp id), the median of each read delay and its buckets,
and the weekday x hour of reads and replies in the report's zone, each computed here in Python from the
rows the search selects (`statistics.median`, zoneinfo). On PostgreSQL the replies' heatmap of a
search the hourly counts answer is summed from them, and equals the one counted from the rows.
"""
from __future__ import annotations

import random
import statistics
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from data_access import report
from data_access.engine import make_engine
from data_access.ingest import synthetic
from data_access.migrations import downgrade, upgrade
from data_access.catalog import STATUSES
from data_access.filters import MoFilters, MtFilters
from data_access.insights import READ_BUCKET_BOUNDS_S, mo_insights, mt_insights, mt_read_hourly, read_counts_from
from data_access.schema import business_number, mo_hourly, mo_message, mt_message
from data_access.scope import Scope
from tests.factories import insert, mo_row, mt_row
from tests.test_ingest_support import load, write_lines
from tests.test_pre_aggregation import pg_engine  # noqa: F401 (fixture)

UTC = timezone.utc
# Whole-hour offsets (the hourly counts answer), a zone changing offset in the period (New York, on
# 1 November 2026) and a half-hour offset.
ZONES = ("America/Sao_Paulo", "UTC", "Asia/Tokyo", "America/New_York", "Asia/Kolkata")
FIRST_DAY, LAST_DAY = date(2026, 10, 28), date(2026, 11, 5)
SUBACCOUNTS = ("Varejo", "Cobrança", None)
CAMPAIGNS = ("Black Friday", "Natal", None)
MT_STATUSES = ("sent", "delivered", "read", "undelivered")


def _instant(rng: random.Random) -> datetime:
    """A UTC instant in or just around the searched days, to the millisecond."""
    start = datetime(2026, 10, 27, 12, tzinfo=UTC)
    return start + timedelta(milliseconds=rng.randrange(11 * 86400 * 1000))


def _delay(rng: random.Random) -> timedelta:
    """A wait spread over every bucket, often on a bucket's bound, sometimes to the millisecond."""
    kind = rng.random()
    if kind < 0.3:
        return timedelta(seconds=rng.choice((0, *READ_BUCKET_BOUNDS_S)))
    if kind < 0.5:
        return timedelta(seconds=rng.choice((30, 240, 3600)))  # repeated values: ties at the median
    return timedelta(milliseconds=rng.randrange(2 * 86400 * 1000))


def _contact(rng: random.Random) -> dict:
    """A person from a small pool (so contacts repeat): a phone, or only the raw WhatsApp id."""
    n = rng.randrange(40)
    if n % 7 == 0:
        return {"phone": None, "wa_user_id": f"0732{n:06d}"}
    return {"phone": f"+55119{n:08d}", "wa_user_id": f"55119{n:08d}"}


def _mt(rng: random.Random) -> dict:
    sent = _instant(rng)
    status = rng.choice(MT_STATUSES)
    delivered = sent + _delay(rng) if status in ("delivered", "read") and rng.random() < 0.9 else None
    read = None
    if status == "read":
        # Sometimes stamped before its delivery (the providers' clocks differ): counted as immediate.
        read = (delivered or sent) + (_delay(rng) if rng.random() < 0.85 else -timedelta(seconds=rng.randrange(1, 90)))
        read = max(read, sent)
    return mt_row(sent_at=sent, status=status, delivered_at=delivered, read_at=read,
                  subaccount=rng.choice(SUBACCOUNTS), campaign=rng.choice(CAMPAIGNS), **_contact(rng))


def _mo(rng: random.Random) -> dict:
    return mo_row(received_at=_instant(rng), subaccount=rng.choice(SUBACCOUNTS), campaign=rng.choice(CAMPAIGNS),
                  **_contact(rng))


@pytest.fixture
def traffic(engine: Engine) -> Iterator[Engine]:
    rng = random.Random(16)
    insert(engine, [_mt(rng) for _ in range(500)], [_mo(rng) for _ in range(300)])
    yield engine


def _bucket(seconds: float) -> int:
    return next((i for i, bound in enumerate(READ_BUCKET_BOUNDS_S) if seconds < bound), len(READ_BUCKET_BOUNDS_S))


def _grid(instants, tz: str) -> tuple[tuple[int, ...], ...]:
    cells = [[0] * 24 for _ in range(7)]
    for when in instants:
        local = when.astimezone(ZoneInfo(tz))
        cells[local.weekday()][local.hour] += 1
    return tuple(tuple(row) for row in cells)


def _selected(conn, filters, *columns) -> list:
    """The rows the search selects: the columns asked for, nothing aggregated."""
    return conn.execute(sa.select(*columns).where(filters.where())).all()


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _expected_mt(conn, filters: MtFilters) -> dict:
    t = mt_message.c
    rows = [[_utc(v) if isinstance(v, datetime) else v for v in row]
            for row in _selected(conn, filters, t.phone, t.wa_user_id, t.sent_at, t.delivered_at, t.read_at)]
    read = [r for r in rows if r[4] is not None]
    delivered_read = [max((r[4] - r[3]).total_seconds(), 0.0) for r in read if r[3] is not None]
    sent_read = [max((r[4] - r[2]).total_seconds(), 0.0) for r in read]
    return {
        "recipients": len({phone or wa_id for phone, wa_id, *_ in rows}),
        "delays": [
            (len(delays), statistics.median(delays) if delays else None,
             tuple(sum(1 for d in delays if _bucket(d) == i) for i in range(len(READ_BUCKET_BOUNDS_S) + 1)))
            for delays in (delivered_read, sent_read)
        ],
        "reads_by_hour": _grid([r[4] for r in read], filters.tz),
    }


def _some(values) -> st.SearchStrategy[tuple]:
    return st.lists(st.sampled_from(values), max_size=2, unique=True).map(tuple)


def _search(data) -> dict:
    start = data.draw(st.dates(FIRST_DAY, LAST_DAY))
    period = {"date_from": start, "date_to": start + timedelta(days=data.draw(st.integers(0, 5))),
              "tz": data.draw(st.sampled_from(ZONES))}
    named = [s for s in SUBACCOUNTS if s]
    scope = Scope.ALL if data.draw(st.booleans()) else Scope(subaccounts=data.draw(_some(named)))
    return {**period, "subaccount": data.draw(_some(named)), "campaign": data.draw(_some([c for c in CAMPAIGNS if c])),
            "scope": scope}


SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@SETTINGS
@given(data=st.data())
def test_mt_insights_equal_their_definition(traffic: Engine, data) -> None:
    filters = MtFilters(**_search(data), status=data.draw(_some(list(MT_STATUSES) + [STATUSES[-1]])))
    with traffic.connect() as conn:
        got, expected = mt_insights(conn, filters), _expected_mt(conn, filters)
        from_rows = mt_insights(conn, filters, mt_message)
        summed = read_counts_from(conn, filters) is mt_read_hourly
    assert summed is (_one_whole_hour_offset(filters) and traffic.dialect.name == "postgresql")
    assert got == from_rows
    assert got.recipients == expected["recipients"]
    for delay, (measured, median_s, buckets) in zip((got.delivered_to_read, got.sent_to_read), expected["delays"]):
        assert (delay.measured, delay.buckets) == (measured, buckets)
        assert delay.median_s == (None if median_s is None else pytest.approx(median_s, abs=1e-6))
    assert got.reads_by_hour == expected["reads_by_hour"]


@SETTINGS
@given(data=st.data())
def test_mo_insights_equal_their_definition(traffic: Engine, data) -> None:
    filters = MoFilters(**_search(data))
    t = mo_message.c
    with traffic.connect() as conn:
        got = mo_insights(conn, filters)
        rows = _selected(conn, filters, t.phone, t.wa_user_id, t.received_at)
        from_rows = mo_insights(conn, filters, mo_message)
        summed = report.counted_from(conn, filters) is mo_hourly
    assert got.senders == len({phone or wa_id for phone, wa_id, _ in rows})
    assert got.replies_by_hour == _grid([_utc(r[2]) for r in rows], filters.tz) == from_rows.replies_by_hour
    assert summed is _one_whole_hour_offset(filters)  # both engines keep the hourly counts


def _one_whole_hour_offset(filters: MtFilters | MoFilters) -> bool:
    """Whether the zone keeps one offset, a whole number of hours, from the first day's midnight to
    the noon of the day after the last (the report looks at that day too)."""
    zone = ZoneInfo(filters.tz)
    first = datetime.combine(filters.date_from, time.min, tzinfo=zone).astimezone(UTC)
    last = datetime.combine(filters.date_to + timedelta(days=1), time(12), tzinfo=zone).astimezone(UTC)
    hours = int((last - first).total_seconds() // 3600)
    offsets = {(first + timedelta(hours=h)).astimezone(zone).utcoffset() for h in range(hours + 1)}
    return len(offsets) == 1 and offsets.pop().total_seconds() % 3600 == 0


# -- mt_read_hourly kept by the triggers (PostgreSQL, migration 0013) -----------------------------


def _read_groups_of_rows(conn) -> set[tuple]:
    """mt_read_hourly's groups as counted here from the rows (hours in UTC, buckets of the waits)."""
    t = mt_message.c
    keys = [c.name for c in mt_read_hourly.c if c.name not in ("sent_at", "read_at", "delivered_to_read",
                                                                "sent_to_read", "messages")]
    counted: dict[tuple, int] = {}
    for row in conn.execute(sa.select(t.sent_at, t.delivered_at, t.read_at, *(t[k] for k in keys))
                            .where(t.read_at.is_not(None))).all():
        sent, delivered, read = (_utc(v) for v in row[:3])
        group = (sent.replace(minute=0, second=0, microsecond=0), read.replace(minute=0, second=0, microsecond=0),
                 None if delivered is None else _bucket(max((read - delivered).total_seconds(), 0.0)),
                 _bucket(max((read - sent).total_seconds(), 0.0)), *row[3:])
        counted[group] = counted.get(group, 0) + 1
    return {(*group, n) for group, n in counted.items()}


def _stored_read_groups(conn) -> set[tuple]:
    rows = conn.execute(sa.select(mt_read_hourly)).all()
    return {(_utc(r[0]), _utc(r[1]), *r[2:]) for r in rows}


def test_read_counts_follow_every_write(pg_engine: Engine, tmp_path: Path) -> None:
    """Statuses before their send logs (provisional rows replaced), duplicates, an UPDATE of read times,
    a DELETE and a TRUNCATE: the stored groups stay those of the rows, and the insights equal the rows'."""
    engine = pg_engine
    traffic = [synthetic.generate(150, seed=n, start=start) for n, start in enumerate(
        (datetime(2026, 11, 30, 22, 40, tzinfo=UTC), datetime(2026, 12, 3, 9, 5, tzinfo=UTC)))]
    with engine.begin() as conn:
        conn.execute(business_number.insert(), [{"number": synthetic.BUSINESS_NUMBER, "subaccount": "Atendimento"}])

    def check() -> None:
        with engine.connect() as conn:
            assert _stored_read_groups(conn) == _read_groups_of_rows(conn)
            assert conn.execute(sa.select(sa.func.count()).where(mt_read_hourly.c.messages <= 0)).scalar_one() == 0
            for tz in ("America/Sao_Paulo", "UTC"):
                filters = MtFilters(date_from=date(2026, 11, 28), date_to=date(2026, 12, 6), tz=tz)
                assert read_counts_from(conn, filters) is mt_read_hourly
                assert mt_insights(conn, filters) == mt_insights(conn, filters, mt_message)

    for n, part in enumerate(traffic):
        lines = synthetic.webhook_lines(part, n, with_send_logs=False, duplicate_share=0.2)
        load(engine, write_lines(tmp_path / f"status-{n}.jsonl", *lines))
    check()
    for n, part in enumerate(traffic):
        lines = synthetic.webhook_lines(part, seed=10 + n, duplicate_share=0.3, grouped_share=0.3)
        load(engine, write_lines(tmp_path / f"all-{n}.jsonl", *lines))
    with engine.connect() as conn:
        read = conn.execute(sa.select(sa.func.count()).where(mt_message.c.read_at.is_not(None))).scalar_one()
    assert read > 0
    check()
    with engine.begin() as conn:  # reads moved an hour and a day later, some read times removed
        conn.execute(sa.text("UPDATE mt_message SET read_at = read_at + interval '61 minutes' "
                             "WHERE read_at IS NOT NULL AND right(message_id, 1) IN ('1', '2', '3')"))
        conn.execute(sa.text("UPDATE mt_message SET read_at = read_at + interval '1 day' "
                             "WHERE read_at IS NOT NULL AND right(message_id, 1) IN ('4', '5')"))
        conn.execute(sa.text("UPDATE mt_message SET read_at = NULL WHERE right(message_id, 1) = '6'"))
        conn.execute(sa.text("UPDATE mt_message SET read_at = sent_at + interval '90 seconds' "
                             "WHERE read_at IS NULL AND right(message_id, 1) = '7'"))
    check()
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM mt_message WHERE right(message_id, 1) IN ('8', '9')"))
    check()
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE mt_message"))
    with engine.connect() as conn:
        assert _stored_read_groups(conn) == set()


def test_migration_0013_read_hourly_counts_the_rows_present_and_goes_down(db_url) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0011")
    sent = datetime(2026, 11, 3, 4, 10, tzinfo=UTC)
    mts = [
        mt_row(sent_at=sent, delivered_at=sent + timedelta(seconds=5), read_at=sent + timedelta(seconds=65),
               status="read"),  # 60 s after delivery: the 1-5 min bucket; 65 s after sending: the same
        mt_row(sent_at=sent, delivered_at=sent + timedelta(seconds=5), read_at=sent + timedelta(seconds=64),
               status="read"),  # 59 s after delivery: under a minute
        mt_row(sent_at=sent, delivered_at=None, read_at=sent + timedelta(hours=30), status="read"),
        mt_row(sent_at=sent, delivered_at=sent + timedelta(seconds=5), status="delivered"),  # not read
    ]
    insert(engine, mts)
    upgrade(engine)
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        stored = _stored_read_groups(conn) if postgres else set()
    assert ("mt_read_hourly" in tables) is postgres
    if postgres:
        hour = sent.replace(minute=0)
        common = ("Varejo", "ana.souza", "Black Friday", "template", False, "read", None, None, None)
        assert stored == {
            (hour, hour, 1, 1, *common, 1),
            (hour, hour, 0, 1, *common, 1),
            (hour, hour.replace(day=4, hour=10), None, 6, *common, 1),
        }
    downgrade(engine, "0011")
    with engine.connect() as conn:
        assert "mt_read_hourly" not in set(sa.inspect(conn).get_table_names())
    engine.dispose()
