"""Demo data generator (SPEC 5.1): reproducible, realistic, loaded through each engine's bulk path.

Most checks run against one generated data set per engine (`demo`, 20,000 MT rows in 4,096-row
chunks so chunk hand-over and MO ordering across chunks are exercised). Expectations come from the
catalogue, the spec and Python's own parsers, not from the generator's internals.
"""
import base64
import re
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from data_access import data_version
from data_access.catalog import (
    CONVERSATION_TYPE_OF,
    CONVERSATION_TYPES,
    DELIVERED_STATUSES,
    FAILURE_STATUSES,
    SINCH_LATAM_CODE_STATUS,
    STATUSES,
    meta_error_status,
)
from data_access.demo import DemoSummary, generate, generator
from data_access.demo import vocabulary as vocab
from data_access.demo.__main__ import main
from data_access.engine import is_duckdb, open_database
from data_access.schema import mo_message as mo
from data_access.schema import mt_message as mt
from tests.conftest import ENGINES, new_postgres_database

ROWS = 20_000
DAYS = 30
SEED = 7
END = date(2025, 11, 24)
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
E164 = re.compile(r"^\+[1-9]\d{7,14}$")
ACCENTED = set("áàâãéêíóôõúçÁÂÃÉÍÓÔÚÇ")


def _is_emoji(char: str) -> bool:
    return ord(char) >= 0x1F000 or 0x2600 <= ord(char) <= 0x27BF


@pytest.fixture(scope="module", params=ENGINES)
def demo(request, tmp_path_factory):
    """(engine, summary) of one generated data set, once per engine, in several chunks."""
    if request.param == "duckdb":
        url, drop = f"duckdb:///{tmp_path_factory.mktemp('demo') / 'report.duckdb'}", None
    else:
        url, drop = new_postgres_database()
    engine = open_database(url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(generator, "CHUNK_ROWS", 4_096)
        summary = generate(engine, ROWS, DAYS, SEED, END)
    try:
        yield engine, summary
    finally:
        engine.dispose()
        if drop:
            drop()


def _rows(engine, query):
    with engine.connect() as conn:
        return conn.execute(query).all()


def _scalar(engine, query):
    with engine.connect() as conn:
        return conn.execute(query).scalar_one()


def _fingerprint(engine) -> tuple[str, str]:
    """md5 over every column of every MT and MO row, in message_id order, computed by the database."""
    row_text = "CAST(t AS VARCHAR)" if is_duckdb(engine) else "t::text"
    with engine.connect() as conn:
        return tuple(
            conn.execute(sa.text(f"SELECT md5(string_agg({row_text}, '|' ORDER BY message_id)) FROM {table} t")).scalar_one()
            for table in ("mt_message", "mo_message")
        )


# ---- reproducibility -----------------------------------------------------------------------------


def test_same_seed_and_end_give_identical_rows_and_another_seed_does_not(engine):
    first = generate(engine, 3_000, 10, 11, END)
    fingerprint = _fingerprint(engine)
    again = generate(engine, 3_000, 10, 11, END)  # replaces the demo rows it made before

    assert (first.mt_rows, first.mo_rows) == (again.mt_rows, again.mo_rows)
    assert _fingerprint(engine) == fingerprint
    assert _scalar(engine, sa.select(sa.func.count()).select_from(mt)) == 3_000
    generate(engine, 3_000, 10, 12, END)
    assert _fingerprint(engine)[0] != fingerprint[0]
    assert _fingerprint(engine)[1] != fingerprint[1]
    generate(engine, 3_000, 10, 11, END + timedelta(days=1))
    assert _fingerprint(engine)[0] != fingerprint[0]


def test_both_engines_store_the_same_rows(tmp_path):
    """The Arrow path (DuckDB) and the CSV/COPY path (PostgreSQL) load exactly the same values."""
    duck = open_database(f"duckdb:///{tmp_path / 'report.duckdb'}")
    pg_url, drop = new_postgres_database()
    pg = open_database(pg_url)
    try:
        tables = {}
        for name, engine in (("duckdb", duck), ("postgresql", pg)):
            generate(engine, 2_000, 5, 3, END)
            tables[name] = [
                [tuple(v.astimezone(ZoneInfo("UTC")).isoformat() if isinstance(v, datetime) else v for v in row)
                 for row in _rows(engine, sa.select(table).order_by(table.c.message_id))]
                for table in (mt, mo)
            ]
        assert len(tables["duckdb"][0]) == 2_000
        assert tables["duckdb"] == tables["postgresql"]
    finally:
        duck.dispose()
        pg.dispose()
        drop()


def test_rows_from_other_sources_are_kept_and_the_data_version_moves(engine):
    other = {"message_id": "wamid.OTHER", "sent_at": datetime(2025, 11, 1, 12, tzinfo=ZoneInfo("UTC")),
             "status": "sent", "content_type": "text", "source": "send_log", "has_send_log": True}
    with engine.begin() as conn:
        conn.execute(mt.insert().values(**other))
        before = data_version.current(conn)
    calls = []
    summary = generate(engine, 2_500, 7, 1, END, progress=lambda done, total: calls.append((done, total)))

    assert isinstance(summary, DemoSummary) and summary.mt_rows == 2_500 and summary.seconds > 0
    assert (summary.first_day, summary.last_day) == (date(2025, 11, 18), END)
    assert calls[0] == (0, 2_500) and calls[-1] == (2_500, 2_500)
    assert _rows(engine, sa.select(mt.c.source, sa.func.count()).group_by(mt.c.source).order_by(mt.c.source)) == [
        ("demo", 2_500), ("send_log", 1)]
    with engine.connect() as conn:
        assert data_version.current(conn) == before + 1


# ---- what the data look like ---------------------------------------------------------------------


def test_row_counts_match_the_summary(demo):
    engine, summary = demo
    assert summary.mt_rows == ROWS
    assert _scalar(engine, sa.select(sa.func.count()).select_from(mt)) == ROWS
    assert _scalar(engine, sa.select(sa.func.count()).select_from(mo)) == summary.mo_rows
    assert _scalar(engine, sa.select(sa.func.count(sa.distinct(mt.c.message_id)))) == ROWS
    assert _rows(engine, sa.select(mt.c.source, mt.c.has_send_log).distinct()) == [("demo", True)]
    assert _rows(engine, sa.select(mo.c.source).distinct()) == [("demo",)]


def test_statuses_every_one_present_and_three_quarters_delivered(demo):
    engine, _ = demo
    counts = dict(_rows(engine, sa.select(mt.c.status, sa.func.count()).group_by(mt.c.status)))
    assert set(counts) == set(STATUSES)
    delivered = sum(counts[s] for s in DELIVERED_STATUSES)
    assert 0.70 <= delivered / ROWS <= 0.80
    assert 0.10 <= sum(counts[s] for s in FAILURE_STATUSES) / ROWS <= 0.25


def test_failures_carry_provider_codes_that_map_to_their_status(demo):
    engine, _ = demo
    assert _scalar(engine, sa.select(sa.func.count()).where(
        mt.c.status.in_(FAILURE_STATUSES),
        sa.or_(mt.c.error_code.is_(None), mt.c.error_title.is_(None), mt.c.error_detail.is_(None),
               mt.c.failed_at.is_(None)))) == 0
    assert _scalar(engine, sa.select(sa.func.count()).where(
        mt.c.status.not_in(FAILURE_STATUSES),
        sa.or_(mt.c.error_code.is_not(None), mt.c.failed_at.is_not(None)))) == 0
    combos = _rows(engine, sa.select(mt.c.status, mt.c.error_code, mt.c.message_id.startswith("wamid."))
                   .where(mt.c.error_code.is_not(None)).distinct())
    routes = set()
    for status, code, is_meta in combos:
        if not code.isdigit():
            assert (status, code) == ("warmup_blocked", "WARMUP")  # a platform block: no provider code
        elif is_meta:
            assert meta_error_status(code) == status, (status, code)
        else:
            assert SINCH_LATAM_CODE_STATUS[int(code)] == status, (status, code)
        routes.add(is_meta)
    assert routes == {True, False}
    assert {"131047", "131049", "131050", "132012"} <= {code for _, code, _ in combos}


def test_status_times_are_consistent(demo):
    engine, _ = demo
    later = sa.func.coalesce(mt.c.read_at, mt.c.failed_at, mt.c.delivered_at, mt.c.sent_at)
    broken = sa.or_(
        mt.c.delivered_at < mt.c.sent_at,
        mt.c.read_at < mt.c.delivered_at,
        mt.c.failed_at < mt.c.sent_at,
        mt.c.status_at != later,
        sa.and_(mt.c.status.in_(DELIVERED_STATUSES), mt.c.delivered_at.is_(None)),
        sa.and_(mt.c.status == "read", mt.c.read_at.is_(None)),
        sa.and_(mt.c.status.not_in(("read",)), mt.c.read_at.is_not(None)),
        sa.and_(mt.c.status.in_(("sent", *FAILURE_STATUSES)), mt.c.delivered_at.is_not(None)),
    )
    assert _scalar(engine, sa.select(sa.func.count()).where(broken)) == 0


def test_traffic_covers_the_period_in_brazilian_hours(demo):
    engine, summary = demo
    first, last = _rows(engine, sa.select(sa.func.min(mt.c.sent_at), sa.func.max(mt.c.sent_at)))[0]
    assert datetime.combine(END - timedelta(days=DAYS - 1), time(), SAO_PAULO) <= first
    assert last < datetime.combine(END + timedelta(days=1), time(), SAO_PAULO)
    assert (summary.first_day, summary.last_day) == (END - timedelta(days=DAYS - 1), END)
    hours = [t.astimezone(SAO_PAULO).hour for (t,) in _rows(engine, sa.select(mt.c.sent_at))]
    days = {t.astimezone(SAO_PAULO).date() for (t,) in _rows(engine, sa.select(mt.c.sent_at))}
    assert len(days) == DAYS
    night = sum(1 for h in hours if h < 6)
    morning = sum(1 for h in hours if 9 <= h < 12)
    assert night < morning / 5


def test_phones_are_e164_and_whatsapp_ids_are_the_digits(demo):
    engine, _ = demo
    for table in (mt, mo):
        pairs = _rows(engine, sa.select(table.c.phone, table.c.wa_user_id).distinct())
        assert all(E164.match(phone) and wa == phone[1:] for phone, wa in pairs)
        prefixes = {phone[:3] for phone, _ in pairs}
        assert prefixes == {"+55", "+54", "+52"}
    brazil = _rows(engine, sa.select(sa.func.count()).where(mt.c.phone.startswith("+55")))[0][0]
    assert brazil / ROWS > 0.9
    assert all(re.match(r"^\+55\d{2}9\d{8}$", p) for (p,) in _rows(
        engine, sa.select(mt.c.phone).where(mt.c.phone.startswith("+55")).distinct()))


def test_wamids_embed_the_recipient_and_sinch_ids_are_uuid7(demo):
    engine, _ = demo
    ids = _rows(engine, sa.select(mt.c.message_id, mt.c.wa_user_id, mt.c.sent_at))
    meta = [(i, wa) for i, wa, _ in ids if i.startswith("wamid.")]
    assert 0.05 < len(meta) / ROWS < 0.5
    for message_id, wa_user_id in meta:
        raw = base64.b64decode(message_id[6:], validate=True)
        assert raw[3:3 + raw[2]].decode() == wa_user_id
    for message_id, _, sent_at in ids:
        if not message_id.startswith("wamid."):
            assert re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", message_id)
            assert int(message_id[:8] + message_id[9:13], 16) == int(sent_at.timestamp() * 1000)


def test_conversations_of_the_three_types(demo):
    engine, _ = demo
    pairs = _rows(engine, sa.select(mt.c.conversation_type, mt.c.conversation_type_raw)
                  .where(mt.c.conversation_id.is_not(None)).distinct())
    assert {t for t, _ in pairs} == set(CONVERSATION_TYPES)
    assert all(CONVERSATION_TYPE_OF[raw] == kind for kind, raw in pairs)
    assert _scalar(engine, sa.select(sa.func.count()).where(
        mt.c.conversation_id.is_not(None),
        sa.or_(mt.c.conversation_expires_at <= mt.c.sent_at,
               mt.c.conversation_expires_at > mt.c.sent_at + timedelta(hours=72),
               mt.c.conversation_type.is_(None)))) == 0
    with_id = sa.select(mt.c.conversation_id).where(mt.c.conversation_id.is_not(None)).group_by(mt.c.conversation_id)
    shared = with_id.having(sa.or_(
        sa.func.count(sa.distinct(mt.c.phone)) > 1,
        sa.func.count(sa.distinct(mt.c.conversation_expires_at)) > 1,
        sa.func.count(sa.distinct(mt.c.conversation_type_raw)) > 1,
    ))
    assert _rows(engine, shared) == []
    several = with_id.having(sa.func.count() > 1)
    assert len(_rows(engine, several)) > 0
    assert {p for (p,) in _rows(engine, sa.select(mt.c.pricing_type).distinct())} == {
        None, "regular", "free_customer_service", "free_entry_point"}


def test_session_messages_follow_a_customer_message_within_24_hours(demo):
    engine, _ = demo
    assert _rows(engine, sa.select(mt.c.content_type).where(mt.c.sent_with_session).distinct()) != []
    assert _scalar(engine, sa.select(sa.func.count()).where(
        mt.c.sent_with_session, mt.c.content_type == "template")) == 0
    opener = sa.select(mo.c.message_id).where(
        mo.c.phone == mt.c.phone, mo.c.received_at < mt.c.sent_at,
        mo.c.received_at > mt.c.sent_at - timedelta(hours=24))
    assert _scalar(engine, sa.select(sa.func.count()).where(mt.c.sent_with_session, ~opener.exists())) == 0
    assert _scalar(engine, sa.select(sa.func.count()).where(mt.c.sent_with_session)) > ROWS * 0.05
    content_types = {c for (c,) in _rows(engine, sa.select(mt.c.content_type).distinct())}
    assert {"template", "text", "image", "audio", "document", "interactive"} <= content_types


def test_replies_point_to_delivered_mts_and_copy_their_attribution(demo):
    engine, _ = demo
    joined = sa.select(sa.func.count()).select_from(mo.join(mt, mo.c.in_reply_to == mt.c.message_id))
    replies = _scalar(engine, sa.select(sa.func.count()).where(mo.c.in_reply_to.is_not(None)))
    assert replies > 0
    assert _scalar(engine, joined) == replies  # every in_reply_to exists
    free_text = mo.c.button_payload.is_(None)
    assert _scalar(engine, joined.where(sa.or_(
        mt.c.status.not_in(DELIVERED_STATUSES),
        mo.c.received_at <= mt.c.delivered_at,
        mo.c.received_at < mt.c.read_at,
        sa.and_(free_text, mo.c.received_at >= mt.c.sent_at + timedelta(hours=24)),
        mo.c.phone != mt.c.phone,
        *(mo.c[c].is_distinct_from(mt.c[c]) for c in ("subaccount", "user_name", "campaign", "template_name")),
        mo.c.context_id != mo.c.in_reply_to,
        mo.c.attribution != "context",
    ))) == 0
    delivered = _scalar(engine, sa.select(sa.func.count()).where(mt.c.status.in_(DELIVERED_STATUSES)))
    answered = _scalar(engine, sa.select(sa.func.count(sa.distinct(mo.c.in_reply_to))))
    assert 0.05 < answered / delivered < 0.4
    # The flag the report counts marks exactly the MTs some MO answers.
    assert _scalar(engine, sa.select(sa.func.count()).where(mt.c.replied)) == answered
    assert _scalar(engine, sa.select(sa.func.count()).where(
        mt.c.replied, mt.c.message_id.not_in(sa.select(mo.c.in_reply_to).where(mo.c.in_reply_to.is_not(None))))) == 0


def test_strangers_write_without_any_attribution(demo):
    engine, _ = demo
    strangers = sa.select(sa.func.count()).where(mo.c.in_reply_to.is_(None))
    assert _scalar(engine, strangers) > 0
    assert _scalar(engine, strangers.where(sa.or_(
        mo.c.subaccount.is_not(None), mo.c.user_name.is_not(None), mo.c.campaign.is_not(None),
        mo.c.template_name.is_not(None), mo.c.context_id.is_not(None), mo.c.attribution.is_not(None)))) == 0
    assert _scalar(engine, strangers.where(mo.c.referral.is_not(None))) > 0  # click-to-WhatsApp ads


def test_quick_reply_clicks_carry_the_templates_buttons(demo):
    engine, _ = demo
    clicks = _rows(engine, sa.select(mo.c.content_type, mo.c.template_name, mo.c.button_payload, mo.c.button_text,
                                     mo.c.message).where(mo.c.button_payload.is_not(None)))
    assert len(clicks) > 50
    assert {c for c, *_ in clicks} == {"button", "interactive"}
    for content_type, template, payload, text, message in clicks:
        assert message == text
        buttons = vocab.TEMPLATES[template].buttons if content_type == "button" else vocab.MENU_BUTTONS
        assert (payload, text) in buttons
    assert _scalar(engine, sa.select(sa.func.count()).where(
        mo.c.button_payload.is_(None), mo.c.content_type.in_(("button", "interactive")))) == 0
    interactive_parents = sa.select(mt.c.content_type).distinct().select_from(
        mo.join(mt, mo.c.in_reply_to == mt.c.message_id)).where(mo.c.content_type == "interactive")
    assert _rows(engine, interactive_parents) == [("interactive",)]


def test_texts_are_portuguese_with_accents_and_emoji_and_filled_parameters(demo):
    engine, _ = demo
    sent = [m for (m,) in _rows(engine, sa.select(mt.c.message).where(mt.c.message.is_not(None)))]
    received = [m for (m,) in _rows(engine, sa.select(mo.c.message).where(mo.c.message.is_not(None)))]
    for texts in (sent, received):
        assert any(ACCENTED & set(t) for t in texts)
        assert any(any(_is_emoji(c) for c in t) for t in texts)
    assert not any("{" in t or "}" in t for t in sent)
    assert any(t.startswith("João, ") for t in sent) and any("Olá, Conceição!" in t for t in sent)
    assert any(re.search(r"R\$ \d{1,3}(\.\d{3})?,\d{2}", t) for t in sent)
    assert any(re.search(r"\b\d{2}/\d{2}\b", t) for t in sent)
    profiles = {p for (p,) in _rows(engine, sa.select(mo.c.profile_name).distinct()) if p}
    assert any(ACCENTED & set(p) for p in profiles)
    correlation = _rows(engine, sa.select(sa.func.count(mt.c.correlation_id)))[0][0]
    assert 0.3 < correlation / ROWS < 0.9


def test_subaccounts_users_and_campaigns_vary(demo):
    engine, _ = demo
    for column, at_least in ((mt.c.subaccount, 4), (mt.c.user_name, 8), (mt.c.campaign, 10),
                             (mt.c.template_name, 10)):
        assert len(_rows(engine, sa.select(column).where(column.is_not(None)).distinct())) >= at_least
    assert _scalar(engine, sa.select(sa.func.count()).where(mt.c.campaign.is_(None))) > 0


def test_rows_are_stored_in_time_order_on_duckdb(tmp_path):
    """Zone maps prune date filters only when the rows sit in time order."""
    engine = open_database(f"duckdb:///{tmp_path / 'report.duckdb'}")
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(generator, "CHUNK_ROWS", 1_500)
            generate(engine, 6_000, 10, 5, END)
        for table, column in (("mt_message", "sent_at"), ("mo_message", "received_at")):
            out_of_order = sa.text(
                f"SELECT count(*) FROM (SELECT {column} < lag({column}) OVER (ORDER BY rowid) AS back "
                f"FROM {table}) WHERE back")
            assert _scalar(engine, out_of_order) == 0
    finally:
        engine.dispose()


# ---- command line --------------------------------------------------------------------------------


def test_if_empty_fills_an_empty_database_and_leaves_a_filled_one_alone(db_url, capsys):
    args = ["--db", db_url, "--rows", "3000", "--days", "10", "--end", "2025-11-24", "--if-empty"]
    assert main(args) == 0
    assert "3,000 MT" in capsys.readouterr().out
    engine = open_database(db_url)
    try:
        before = _fingerprint(engine)
        with engine.connect() as conn:
            version = data_version.current(conn)
        assert main([*args, "--seed", "99", "--rows", "5000"]) == 0
        assert "nothing to do" in capsys.readouterr().err
        assert _fingerprint(engine) == before
        with engine.connect() as conn:
            assert data_version.current(conn) == version
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--db", "not a database url"], "malformed database URL"),
        (["--db", "mysql://user@host/db"], "unsupported database"),
        (["--db", "postgresql+psycopg://report@127.0.0.1:1/nothing"], "cannot open database"),
        (["--rows", "0"], "--rows: expected a whole number from 1"),
        (["--end", "24/11/2025"], "--end: expected a date as YYYY-MM-DD"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, says):
    done = subprocess.run([sys.executable, "-m", "data_access.demo", *args], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and says in lines[0] and "Traceback" not in done.stderr
