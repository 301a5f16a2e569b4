"""The hourly counts (migration 0011, `data_access.hourly`) give every figure the rows give, and the
monthly partitions keep every row.

The property tests run on PostgreSQL, the engine the hourly counts and partitions exist on; the
migration tests run on both engines (on DuckDB migration 0011 changes nothing).
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from data_access import report
from data_access.catalog import STATUSES
from data_access.engine import make_engine, open_database
from data_access.filters import CONVERSATION_TYPES, MO_CONTENT_TYPES, MT_CONTENT_TYPES, MoFilters, MtFilters
from data_access.ingest import synthetic
from data_access.migrations import current_revision, downgrade, upgrade
from data_access.partitions import default_partition, ensure_months, partition_name
from data_access.schema import business_number, mo_hourly, mo_message, mt_hourly, mt_hourly_status, mt_message
from data_access.scope import Scope
from tests import factories
from tests.conftest import NO_SERVER
from tests.postgres import new_postgres_database
from tests.test_ingest_support import load, write_lines

# Zones whose offset is whole hours (the hourly counts answer) and two on half hours (the rows do).
HOURLY_ZONES = ("America/Sao_Paulo", "UTC", "Asia/Tokyo", "America/Noronha", "Europe/Lisbon")
ROW_ZONES = ("Asia/Kolkata", "Australia/Adelaide")
UTC = timezone.utc
# Traffic over the turn of November (a month boundary, so rows move between partitions) and 3 days later.
STARTS = (datetime(2026, 11, 30, 22, 40, tzinfo=UTC), datetime(2026, 12, 3, 9, 5, tzinfo=UTC))
FIRST_DAY, LAST_DAY = date(2026, 11, 28), date(2026, 12, 5)


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    """A migrated, empty PostgreSQL database."""
    try:
        url, drop = new_postgres_database()
    except RuntimeError:
        pytest.fail(NO_SERVER)
    engine = open_database(url)
    try:
        yield engine
    finally:
        engine.dispose()
        drop()


def _values(engine: Engine, column: sa.Column) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(column).where(column.is_not(None)).distinct().order_by(column)).scalars())


def _some(values) -> st.SearchStrategy[tuple[str, ...]]:
    if not values:
        return st.just(())
    return st.lists(st.sampled_from(list(values)), max_size=3, unique=True).map(tuple)


def _period(data) -> dict:
    start = data.draw(st.dates(FIRST_DAY, LAST_DAY))
    days = data.draw(st.integers(0, 4))
    tz = data.draw(st.sampled_from(HOURLY_ZONES + ROW_ZONES))
    return {"date_from": start, "date_to": start + timedelta(days=days), "tz": tz}


def _scope(data, subaccounts: list[str]) -> Scope:
    if data.draw(st.booleans()):
        return Scope.ALL
    return Scope(subaccounts=data.draw(_some(subaccounts)))


def _check_random_searches(engine: Engine, examples: int) -> int:
    """Draws MT and MO searches; every figure summed from the hourly counts equals the rows' (and the
    hourly counts are used exactly when the search allows). Returns how many searches used them."""
    subaccounts = _values(engine, mt_message.c.subaccount) + ["Nenhuma"]
    users = _values(engine, mt_message.c.user_name)
    campaigns = _values(engine, mt_message.c.campaign)
    buttons = _values(engine, mo_message.c.button_text)
    phones = _values(engine, mt_message.c.phone)
    used = []

    @settings(max_examples=examples, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.data())
    def check(data) -> None:
        period = _period(data)
        broad = data.draw(st.booleans())  # by subaccount and status only
        mt = MtFilters(
            **period,
            subaccount=data.draw(_some(subaccounts)),
            status=data.draw(_some(STATUSES)),
            scope=_scope(data, subaccounts),
        )
        if not broad:
            mt = mt.replace(
                user=data.draw(_some(users)),
                campaign=data.draw(_some(campaigns)),
                content_type=data.draw(_some(MT_CONTENT_TYPES)),
                session=data.draw(st.sampled_from((None, "open", "closed"))),
                conversation_type=data.draw(st.sampled_from((None, *CONVERSATION_TYPES))),
                phone=data.draw(st.sampled_from((None, None, None, phones[0][:6]))),
            )
        mo = MoFilters(
            **period,
            subaccount=data.draw(_some(subaccounts)),
            user=data.draw(_some(users)),
            campaign=data.draw(_some(campaigns)),
            content_type=data.draw(_some(MO_CONTENT_TYPES)),
            button=data.draw(_some(buttons)),
            scope=_scope(data, subaccounts),
        )
        answers = period["tz"] in HOURLY_ZONES
        narrow = (mt.user, mt.campaign, mt.content_type, mt.session, mt.conversation_type) != ((), (), (), None, None)
        expected = mt_message if not answers or mt.phone else mt_hourly if narrow else mt_hourly_status
        with engine.connect() as conn:
            assert report.counted_from(conn, mt) is expected
            assert report.counted_from(conn, mo) is (mo_hourly if answers else mo_message)
            if expected is mt_hourly_status:  # the larger table answers too
                assert report.mt_report(conn, mt, mt_hourly) == report.mt_report(conn, mt, mt_message)
            # Each call picks its table and gets the figures of the rows.
            assert report.mt_report(conn, mt) == report.mt_report(conn, mt, mt_message)
            assert report.mt_totals(conn, mt) == report.mt_totals(conn, mt, mt_message)
            assert report.mo_report(conn, mo) == report.mo_report(conn, mo, mo_message)
            for f in (mt, mo):
                assert report.count(conn, f) == report.count(conn, f, f.table)
        used.append(expected is not mt_message)

    check()
    return sum(used)


def _traffic() -> list[synthetic.Traffic]:
    return [synthetic.generate(150, seed=n, start=start) for n, start in enumerate(STARTS)]


def _status_lines(traffic: synthetic.Traffic, seed: int) -> list[str]:
    return synthetic.webhook_lines(traffic, seed, with_send_logs=False, duplicate_share=0.2)


def _hourly_groups(engine: Engine, hourly: sa.Table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(hourly)).scalar_one()


def _all_figures(engine: Engine, first: date, last: date) -> tuple:
    """Figures of broad searches, counted from the rows."""
    mt = MtFilters(date_from=first, date_to=last, tz="UTC")
    mo = MoFilters(date_from=first, date_to=last, tz="UTC")
    with engine.connect() as conn:
        return report.mt_report(conn, mt, mt_message), report.mo_report(conn, mo, mo_message)


def test_hourly_counts_equal_the_rows_through_out_of_order_duplicated_ingest(pg_engine, tmp_path: Path) -> None:
    engine = pg_engine
    traffic = _traffic()
    with engine.begin() as conn:
        conn.execute(business_number.insert(), [{"number": synthetic.BUSINESS_NUMBER, "subaccount": "Atendimento"}])
    # 1. Statuses and MOs first, no send log: provisional rows (sent_at = the earliest status).
    for n, part in enumerate(traffic):
        load(engine, write_lines(tmp_path / f"status-{n}.jsonl", *_status_lines(part, n)))
    assert _check_random_searches(engine, 25) > 0
    # 2. The send logs arrive (sent_at moves back, across the month's end for some), statuses again.
    for n, part in enumerate(traffic):
        lines = synthetic.webhook_lines(part, seed=10 + n, duplicate_share=0.3, grouped_share=0.3)
        load(engine, write_lines(tmp_path / f"all-{n}.jsonl", *lines))
    # 3. Rows written by hand: the columns the synthetic traffic leaves alone, and MOs owned only
    # through their business number.
    mts = [
        factories.mt_row(sent_at=datetime(2026, 12, 1, h, 30, tzinfo=UTC), status=status, error_code=code,
                         error_title=title, conversation_type=kind, sent_with_session=h % 2 == 0,
                         content_type=content, subaccount=None if h == 5 else "Cobrança")
        for h, (status, code, title, kind, content) in enumerate([
            ("failed", "131026", "Message undeliverable", "marketing", "template"),
            ("failed", "131026", "Undeliverable", "marketing", "template"),
            ("undelivered", None, None, "utility", "text"),
            ("read", None, None, "service", "image"),
            ("opt_out", "131050", "User stopped marketing messages", None, "template"),
            ("sent", None, None, "authentication", "template"),
        ])
    ]
    mos = [
        factories.mo_row(received_at=datetime(2026, 12, 1, 7, m, tzinfo=UTC), business_number=synthetic.BUSINESS_NUMBER,
                         in_reply_to=mts[m % 3]["message_id"], button_payload="p" if m % 2 else None,
                         button_text="Sim" if m % 2 else None, content_type="button" if m % 2 else "text")
        for m in range(6)
    ]
    factories.insert(engine, mts, mos)
    assert _check_random_searches(engine, 50) > 0
    # The hourly groups are as many as the distinct groups of the rows (none left at zero).
    with engine.connect() as conn:
        hours = sa.func.date_trunc("hour", mt_message.c.sent_at, "UTC")
        keys = [hours, *(mt_message.c[c.name] for c in mt_hourly.columns if c.name not in ("sent_at", "messages", "replied"))]
        groups = conn.execute(sa.select(sa.func.count()).select_from(sa.select(*keys).distinct().subquery())).scalar_one()
    assert _hourly_groups(engine, mt_hourly) == groups
    with engine.connect() as conn:
        keys = [hours, *(mt_message.c[name] for name in ("subaccount", "status", "error_code", "error_title"))]
        groups = conn.execute(sa.select(sa.func.count()).select_from(sa.select(*keys).distinct().subquery())).scalar_one()
    assert _hourly_groups(engine, mt_hourly_status) == groups
    # 4. Everything deleted: nothing left counted.
    with engine.begin() as conn:
        conn.execute(mo_message.delete())
        conn.execute(mt_message.delete().where(mt_message.c.sent_at < datetime(2026, 12, 2, tzinfo=UTC)))
    assert _check_random_searches(engine, 15) > 0
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE mt_message"))
    assert [_hourly_groups(engine, t) for t in (mt_hourly, mt_hourly_status, mo_hourly)] == [0, 0, 0]


def test_rows_of_a_month_with_no_partition_move_into_the_one_made_for_it(pg_engine, tmp_path: Path) -> None:
    engine = pg_engine
    month = date(2031, 5, 1)  # beyond the months the migration made: the default partition holds it
    mts = [factories.mt_row(sent_at=datetime(2031, 5, d, 10, tzinfo=UTC), status="read") for d in (1, 31)]
    mts.append(factories.mt_row(sent_at=datetime(2031, 6, 1, 0, 0, tzinfo=UTC)))
    factories.insert(engine, mts)

    def where_rows() -> dict[str, str]:
        with engine.connect() as conn:
            return dict(conn.execute(sa.text("SELECT message_id, tableoid::regclass::text FROM mt_message")).all())

    assert set(where_rows().values()) == {default_partition("mt_message")}

    def figures() -> tuple:
        return _all_figures(engine, date(2031, 4, 30), date(2031, 6, 2))

    before = figures(), _hourly_groups(engine, mt_hourly)
    with engine.begin() as conn:
        made = ensure_months(conn, month, month)
    assert made == [partition_name("mt_message", month), partition_name("mo_message", month)]
    assert where_rows() == {
        mts[0]["message_id"]: "mt_message_2031_05",
        mts[1]["message_id"]: "mt_message_2031_05",
        mts[2]["message_id"]: "mt_message_default",
    }
    assert (figures(), _hourly_groups(engine, mt_hourly)) == before
    search = MtFilters(date_from=date(2031, 5, 1), date_to=date(2031, 5, 31), tz="UTC")
    with engine.connect() as conn:
        assert report.mt_totals(conn, search).total == 2
        assert report.mt_totals(conn, search, mt_message).total == 2
    with engine.begin() as conn:
        assert ensure_months(conn, month, month) == []  # made once


def _rows(engine: Engine) -> tuple[list, list]:
    with engine.connect() as conn:
        mts = conn.execute(sa.select(mt_message).order_by(mt_message.c.message_id)).all()
        mos = conn.execute(sa.select(mo_message).order_by(mo_message.c.message_id)).all()
    return [tuple(r) for r in mts], [tuple(r) for r in mos]


def _tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def _partitions(engine: Engine, table: str) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.text(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = to_regclass(:t)"), {"t": table}
        ).scalars())


def test_without_the_hourly_counts_the_report_reads_the_messages(pg_engine) -> None:
    """As under Citus, whose distributed tables run no statement triggers: the hourly tables dropped,
    every search is counted from the messages, with the same figures."""
    mts = [factories.mt_row(sent_at=datetime(2026, 11, d, 12, tzinfo=UTC), status=s)
           for d, s in ((10, "read"), (10, "undelivered"), (11, "delivered"))]
    factories.insert(pg_engine, mts, [])
    search = MtFilters(date_from=date(2026, 11, 10), date_to=date(2026, 11, 11), tz="UTC")
    with pg_engine.connect() as conn:
        assert report.counted_from(conn, search) is mt_hourly_status
        counted = report.mt_totals(conn, search)
    with pg_engine.begin() as conn:
        for hourly, table in (("mt_hourly", "mt_message"), ("mt_hourly_status", "mt_message"), ("mo_hourly", "mo_message")):
            for event in ("insert", "update", "delete", "truncate"):
                conn.execute(sa.text(f"DROP TRIGGER {hourly}_{event} ON {table}"))
            conn.execute(sa.text(f"DROP TABLE {hourly}"))
    with pg_engine.connect() as conn:
        assert report.counted_from(conn, search) is mt_message
        assert report.mt_totals(conn, search) == counted
    assert (counted.total, counted.read, counted.failed) == (3, 1, 1)


def test_migration_0011_carries_the_rows_up_and_down(db_url) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0010")
    mts = [factories.mt_row(sent_at=datetime(2026, m, 3, 4, tzinfo=UTC), status=s)
           for m, s in ((8, "read"), (9, "failed"), (11, "delivered"), (11, "read"))]
    # Stray times (a provider's clock, an old backfill) stay in the default partition: one row of 2099
    # does not make the nine hundred monthly partitions up to it.
    mts += [factories.mt_row(sent_at=datetime(year, 6, 1, tzinfo=UTC), status="sent") for year in (2010, 2099)]
    mos = [factories.mo_row(received_at=datetime(2026, 9, 3, 5, tzinfo=UTC), in_reply_to=mts[1]["message_id"],
                            button_payload="p", button_text="Sim", content_type="button")]
    factories.insert(engine, mts, mos)
    before = _rows(engine)
    upgrade(engine, "0011")
    assert current_revision(engine) == "0011"
    assert _rows(engine) == before
    postgres = engine.dialect.name == "postgresql"
    hourly = {"mt_hourly", "mt_hourly_status", "mo_hourly"}
    assert hourly <= _tables(engine) if postgres else not hourly & _tables(engine)
    if postgres:
        with engine.connect() as conn:
            partitions = dict(conn.execute(sa.text(
                "SELECT message_id, tableoid::regclass::text FROM mt_message")).all())
            counted = conn.execute(sa.select(mt_hourly.c.sent_at, mt_hourly.c.status, mt_hourly.c.messages,
                                             mt_hourly.c.replied).order_by(mt_hourly.c.sent_at)).all()
        assert partitions == {
            mts[0]["message_id"]: "mt_message_2026_08", mts[1]["message_id"]: "mt_message_2026_09",
            mts[2]["message_id"]: "mt_message_2026_11", mts[3]["message_id"]: "mt_message_2026_11",
            mts[4]["message_id"]: "mt_message_default", mts[5]["message_id"]: "mt_message_default",
        }
        now = datetime.now(UTC).date().replace(day=1)
        ahead = {(now.year + (now.month + i - 1) // 12, (now.month + i - 1) % 12 + 1) for i in range(4)}
        expected = {f"mt_message_{y:04d}_{m:02d}" for y, m in {(2026, 8), (2026, 9), (2026, 11)} | ahead}
        assert _partitions(engine, "mt_message") == expected | {"mt_message_default"}
        assert [tuple(r) for r in counted] == [
            (datetime(2010, 6, 1, tzinfo=UTC), "sent", 1, 0),
            (datetime(2026, 8, 3, 4, tzinfo=UTC), "read", 1, 0),
            (datetime(2026, 9, 3, 4, tzinfo=UTC), "failed", 1, 1),
            (datetime(2026, 11, 3, 4, tzinfo=UTC), "delivered", 1, 0),
            (datetime(2026, 11, 3, 4, tzinfo=UTC), "read", 1, 0),
            (datetime(2099, 6, 1, tzinfo=UTC), "sent", 1, 0),
        ]
    # An id keeps one row: the writers replace a row by deleting its id first (a second insert of
    # the same id and time is refused by the key).
    with pytest.raises(sa.exc.IntegrityError):
        with engine.begin() as conn:
            conn.execute(mt_message.insert(), [mts[0]])
    downgrade(engine, "0010")
    assert current_revision(engine) == "0010"
    assert _rows(engine) == before
    assert not hourly & _tables(engine)
    with pytest.raises(sa.exc.IntegrityError):  # the key is the id alone again
        with engine.begin() as conn:
            conn.execute(mt_message.insert(), [{**mts[0], "sent_at": datetime(2026, 8, 4, tzinfo=UTC)}])
    upgrade(engine)
    assert _rows(engine) == before
    engine.dispose()
