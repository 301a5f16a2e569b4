"""The hourly counts (migrations 0011 and 0012, `data_access.hourly`) give every figure the rows give,
and the monthly partitions keep every row.

The property tests of the hourly counts run on both engines (PostgreSQL's triggers keep them, DuckDB's
writers); the partitions exist on PostgreSQL only; the migration tests run on both engines (on DuckDB
migration 0011 changes nothing, on PostgreSQL migration 0012 changes nothing).
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

from data_access import hourly, report
from data_access.catalog import STATUSES
from data_access.engine import make_engine, open_database
from data_access.filters import CONVERSATION_TYPES, MO_CONTENT_TYPES, MT_CONTENT_TYPES, MoFilters, MtFilters
from data_access.ingest import synthetic
from data_access.migrations import current_revision, downgrade, upgrade
from data_access.partitions import default_partition, ensure_months, partition_name
from data_access.replies import refresh_replied
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


def _hourly_groups(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def _utc_hour(engine: Engine, column: sa.Column) -> sa.ColumnElement:
    """The UTC hour of a time column (DuckDB's sessions are in UTC)."""
    if engine.dialect.name == "postgresql":
        return sa.func.date_trunc("hour", column, "UTC")
    return sa.func.date_trunc("hour", column)


def _groups_of_rows(engine: Engine, table: sa.Table, hourly_table: sa.Table) -> int:
    """How many distinct groups of `hourly_table`'s columns the rows of `table` make."""
    time_column = hourly.TIME_COLUMN[table.name]
    keys = [_utc_hour(engine, table.c[time_column])]
    keys += [table.c.button_payload.is_not(None) if c.name == "clicked" else table.c[c.name]
             for c in hourly_table.columns if c.name not in (time_column, "messages", "replied")]
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(sa.select(*keys).distinct().subquery())).scalar_one()


def _assert_no_group_left_at_zero(engine: Engine) -> None:
    """The hourly groups are as many as the distinct groups of the rows, none counting nothing."""
    for table, hourly_table in ((mt_message, mt_hourly), (mt_message, mt_hourly_status), (mo_message, mo_hourly)):
        assert _hourly_groups(engine, hourly_table) == _groups_of_rows(engine, table, hourly_table)
        with engine.connect() as conn:
            fewest = conn.execute(sa.select(sa.func.min(hourly_table.c.messages))).scalar()
        assert fewest is None or fewest > 0


def _all_figures(engine: Engine, first: date, last: date) -> tuple:
    """Figures of broad searches, counted from the rows."""
    mt = MtFilters(date_from=first, date_to=last, tz="UTC")
    mo = MoFilters(date_from=first, date_to=last, tz="UTC")
    with engine.connect() as conn:
        return report.mt_report(conn, mt, mt_message), report.mo_report(conn, mo, mo_message)


def test_hourly_counts_equal_the_rows_through_out_of_order_duplicated_ingest(engine, tmp_path: Path) -> None:
    traffic = _traffic()
    with engine.begin() as conn:
        conn.execute(business_number.insert(), [{"number": synthetic.BUSINESS_NUMBER, "subaccount": "Atendimento"}])
    # 1. Statuses and MOs first, no send log: provisional rows (sent_at = the earliest status), in
    # small batches (MOs written before the fold that attributes them).
    for n, part in enumerate(traffic):
        load(engine, write_lines(tmp_path / f"status-{n}.jsonl", *_status_lines(part, n)), batch_events=40)
    assert _check_random_searches(engine, 25) > 0
    _assert_no_group_left_at_zero(engine)
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
    _assert_no_group_left_at_zero(engine)
    # 4. Some deleted (the MOs, and the MTs of the first days): the replies they made go with them.
    with engine.begin() as conn:
        hourly.delete(conn, mo_message, sa.true())
        hourly.delete(conn, mt_message, mt_message.c.sent_at < datetime(2026, 12, 2, tzinfo=UTC))
        refresh_replied(conn)
        hourly.settle(conn)
    assert _check_random_searches(engine, 15) > 0
    _assert_no_group_left_at_zero(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.sum(mt_hourly.c.replied))).scalar() == 0
    # 5. Everything deleted: nothing left counted.
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("TRUNCATE mt_message"))
        else:  # DuckDB's writers delete
            hourly.delete(conn, mt_message, sa.true())
            hourly.settle(conn)
    assert [_hourly_groups(engine, t) for t in (mt_hourly, mt_hourly_status, mo_hourly)] == [0, 0, 0]


def test_a_write_rolled_back_leaves_the_counts_as_they_were(engine, tmp_path: Path) -> None:
    """The counts noted by a writer whose transaction fails are rolled back with its rows; the next
    write on DuckDB counts only its own rows."""
    mts = [factories.mt_row(sent_at=datetime(2026, 11, 10, 12, m, tzinfo=UTC), status="read") for m in range(3)]
    factories.insert(engine, mts)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        hourly.delete(conn, mt_message, mt_message.c.message_id == mts[0]["message_id"])
        hourly.settle(conn)
        raise RuntimeError("the writer fails before its commit")
    late = factories.mt_row(sent_at=datetime(2026, 11, 10, 12, 59, tzinfo=UTC), status="undelivered")
    factories.insert(engine, [late])
    search = MtFilters(date_from=date(2026, 11, 10), date_to=date(2026, 11, 10), tz="UTC")
    with engine.connect() as conn:
        assert report.counted_from(conn, search) is mt_hourly_status
        totals = report.mt_totals(conn, search)
        assert totals == report.mt_totals(conn, search, mt_message)
        groups = conn.execute(sa.select(mt_hourly_status.c.status, mt_hourly_status.c.messages)
                              .order_by(mt_hourly_status.c.status)).all()
    assert (totals.total, totals.read, totals.failed) == (4, 3, 1)
    assert [tuple(g) for g in groups] == [("read", 3), ("undelivered", 1)]


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


def test_without_the_hourly_counts_the_report_reads_the_messages(engine, tmp_path: Path) -> None:
    """As under Citus, whose distributed tables run no statement triggers: the hourly tables dropped,
    every search is counted from the messages, with the same figures, and the writers still write."""
    mts = [factories.mt_row(sent_at=datetime(2026, 11, d, 12, tzinfo=UTC), status=s)
           for d, s in ((10, "read"), (10, "undelivered"), (11, "delivered"))]
    factories.insert(engine, mts, [])
    search = MtFilters(date_from=date(2026, 11, 10), date_to=date(2026, 11, 11), tz="UTC")
    with engine.connect() as conn:
        assert report.counted_from(conn, search) is mt_hourly_status
        counted = report.mt_totals(conn, search)
    with engine.begin() as conn:
        for hourly_table, table in (("mt_hourly", "mt_message"), ("mt_hourly_status", "mt_message"),
                                    ("mo_hourly", "mo_message")):
            if engine.dialect.name == "postgresql":
                for event in ("insert", "update", "delete", "truncate"):
                    conn.execute(sa.text(f"DROP TRIGGER {hourly_table}_{event} ON {table}"))
            conn.execute(sa.text(f"DROP TABLE {hourly_table}"))
    with engine.connect() as conn:
        assert report.counted_from(conn, search) is mt_message
        assert report.mt_totals(conn, search) == counted
    assert (counted.total, counted.read, counted.failed) == (3, 1, 1)
    # The ingest and the hand-made rows write without them.
    traffic = synthetic.generate(20, seed=3, start=datetime(2026, 11, 10, 13, tzinfo=UTC))
    summary = load(engine, write_lines(tmp_path / "more.jsonl", *synthetic.webhook_lines(traffic, seed=3)))
    factories.insert(engine, [factories.mt_row(sent_at=datetime(2026, 11, 11, 3, tzinfo=UTC), status="failed")])
    with engine.connect() as conn:
        totals = report.mt_totals(conn, search)
        stored = conn.execute(sa.select(sa.func.count()).select_from(mt_message)).scalar_one()
    assert summary.total.rejected == 0
    assert totals.total == stored == 3 + 20 + 1


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


def _expected_counts(mts: list[dict], mos: list[dict]) -> dict[str, list[tuple]]:
    """The hourly groups of the rows, counted here in Python (keys of mt_hourly_status and mo_hourly)."""
    def hour(when: datetime) -> datetime:
        return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)

    replied = {mo["in_reply_to"] for mo in mos}
    status: dict[tuple, list[int]] = {}
    for mt in mts:
        key = (hour(mt["sent_at"]), mt["subaccount"], mt["status"], mt["error_code"], mt["error_title"])
        counts = status.setdefault(key, [0, 0])
        counts[0] += 1
        counts[1] += mt["message_id"] in replied
    inbound: dict[tuple, int] = {}
    for mo in mos:
        key = (hour(mo["received_at"]), mo["content_type"], mo["button_text"], mo["button_payload"] is not None)
        inbound[key] = inbound.get(key, 0) + 1
    return {
        "mt_hourly_status": sorted((*key, *counts) for key, counts in status.items()),
        "mo_hourly": sorted((*key, n) for key, n in inbound.items()),
    }


def _stored_counts(engine: Engine) -> dict[str, list[tuple]]:
    s, m = mt_hourly_status, mo_hourly
    with engine.connect() as conn:
        status = conn.execute(sa.select(s.c.sent_at, s.c.subaccount, s.c.status, s.c.error_code, s.c.error_title,
                                        s.c.messages, s.c.replied)).all()
        inbound = conn.execute(sa.select(m.c.received_at, m.c.content_type, m.c.button_text, m.c.clicked,
                                         m.c.messages)).all()
    return {"mt_hourly_status": sorted(tuple(r) for r in status), "mo_hourly": sorted(tuple(r) for r in inbound)}


def test_migration_0012_counts_the_rows_on_duckdb_up_and_down(db_url) -> None:
    """DuckDB gets the hourly tables filled from the rows present (PostgreSQL has them from 0011:
    0012 changes nothing there); down, they are gone and the rows kept."""
    engine = make_engine(db_url)
    upgrade(engine, "0011")
    mts = [factories.mt_row(sent_at=datetime(2026, 11, d, h, m, tzinfo=UTC), status=s, subaccount=sub,
                            error_code=code, error_title=code and "Message undeliverable")
           for d, h, m, s, sub, code in ((3, 4, 0, "read", "Cobrança", None), (3, 4, 59, "read", "Cobrança", None),
                                         (3, 5, 0, "failed", None, "131026"), (3, 5, 10, "failed", None, "131026"),
                                         (20, 23, 30, "delivered", "Vendas", None))]
    mos = [factories.mo_row(received_at=datetime(2026, 11, 3, 6, m, tzinfo=UTC), in_reply_to=mts[m % 2]["message_id"],
                            button_payload="p" if m else None, button_text="Sim" if m else None,
                            content_type="button" if m else "text")
           for m in range(3)]
    factories.insert(engine, mts, mos)
    before = _rows(engine)
    postgres = engine.dialect.name == "postgresql"
    hourly_names = {"mt_hourly", "mt_hourly_status", "mo_hourly"}
    assert hourly_names <= _tables(engine) if postgres else not hourly_names & _tables(engine)
    upgrade(engine)
    assert current_revision(engine) not in ("0011", None)
    assert _rows(engine) == before
    expected = _expected_counts(mts, mos)
    assert expected["mt_hourly_status"][0] == (datetime(2026, 11, 3, 4, tzinfo=UTC), "Cobrança", "read", None, None, 2, 2)
    assert _stored_counts(engine) == expected
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.sum(mt_hourly.c.messages), sa.func.sum(mt_hourly.c.replied))).one() == (5, 2)
    downgrade(engine, "0011")
    assert current_revision(engine) == "0011"
    assert _rows(engine) == before
    assert hourly_names <= _tables(engine) if postgres else not hourly_names & _tables(engine)
    upgrade(engine)
    assert _stored_counts(engine) == expected
    engine.dispose()
