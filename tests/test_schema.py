"""Schema, migrations and engine selection on both engines."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from data_access import config, data_version
from data_access.engine import DatabaseError, make_engine, open_database
from data_access.migrations import HERE, current_revision, upgrade
from data_access.schema import mo_message, mt_message, raw_payload, rejected_record, saved_search
from tests.factories import mo_row, mt_row

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
HOSTILE = "=HYPERLINK(\"http://x\")'; DROP TABLE mt_message; -- <script>alert(1)</script> 🇧🇷 ação"


def _revisions() -> list[str]:
    """Revision ids from the first to the newest."""
    script = ScriptDirectory(str(HERE))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def test_every_mt_field_round_trips(engine):
    full = mt_row(
        message_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=",
        sent_at=datetime(2026, 11, 24, 21, 30, 15, 123000, tzinfo=SAO_PAULO),
        status="read", status_raw="read", status_at=datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc),
        delivered_at=datetime(2026, 11, 25, 0, 31, tzinfo=timezone.utc), read_at=datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc),
        failed_at=None, error_code="131049", error_title="Título com acentuação", error_detail="x" * 10_000,
        phone="+5511987654321", wa_user_id="5511987654321", subaccount="Subconta São João", user_name="josé.ñ",
        campaign=HOSTILE, content_type="template", template_name="promo_natal", message="Olá, Conceição! 🎁🎄 " + HOSTILE,
        sent_with_session=True, correlation_id="pedido-ç-1", conversation_id="72b14d6bd5407799e66f64d1b338e567",
        conversation_type="business_initiated", conversation_type_raw="marketing_lite",
        conversation_expires_at=datetime(2026, 11, 26, 0, 31, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        pricing_category="marketing", pricing_type="regular", source="meta", has_send_log=False, replied=True,
    )
    sparse = mt_row(message_id="sparse", phone=None, wa_user_id="0732001122", campaign=None, message=None,
                    sent_with_session=None, subaccount=None, user_name=None, template_name=None)
    with engine.begin() as conn:
        conn.execute(mt_message.insert(), [full, sparse])
    with engine.connect() as conn:
        rows = {r["message_id"]: dict(r) for r in conn.execute(sa.select(mt_message)).mappings()}
    assert rows[full["message_id"]] == full  # aware datetimes compare as instants
    assert rows["sparse"] == sparse
    assert rows[full["message_id"]]["sent_at"].utcoffset() == timedelta(0)  # stored and returned in UTC


def test_every_mo_field_and_side_tables_round_trip(engine):
    mo = mo_row(message_id="mo-1", in_reply_to="wamid.x", content_type="button", button_payload="=SUM(1,2)",
                button_text="Sim 👍", referral='{"source_url": "https://fb.me/x"}', profile_name=HOSTILE,
                subaccount="A", user_name="u", campaign="c", template_name="t")
    now = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
    with engine.begin() as conn:
        conn.execute(mo_message.insert(), [mo])
        conn.execute(raw_payload.insert(), [{"payload_id": "a" * 64, "format": "meta", "file": "x.json", "line": 3,
                                             "body": '{"ação": "😀"}', "ingested_at": now}])
        conn.execute(rejected_record.insert(), [{"reject_id": "b" * 64, "file": "-", "line": 1, "reason": "broken JSON",
                                                 "body": HOSTILE, "rejected_at": now}])
        conn.execute(saved_search.insert(), [{"search_id": "00000000-0000-0000-0000-000000000001", "owner": "default",
                                              "name": "Só lidas 📖", "view": "mt", "params": "{}", "created_at": now,
                                              "updated_at": now}])
    with engine.connect() as conn:
        assert dict(conn.execute(sa.select(mo_message)).mappings().one()) == mo
        assert conn.execute(sa.select(raw_payload.c.body)).scalar_one() == '{"ação": "😀"}'
        assert conn.execute(sa.select(rejected_record.c.body)).scalar_one() == HOSTILE
        assert conn.execute(sa.select(saved_search.c.name)).scalar_one() == "Só lidas 📖"


def test_saved_search_names_are_unique_per_owner(engine):
    now = datetime(2026, 11, 25, tzinfo=timezone.utc)
    row = {"owner": "default", "name": "x", "view": "mt", "params": "{}", "created_at": now, "updated_at": now}
    with engine.begin() as conn:
        conn.execute(saved_search.insert(), [{**row, "search_id": "1"}, {**row, "search_id": "2", "owner": "other"}])
    with pytest.raises(sa.exc.IntegrityError):
        with engine.begin() as conn:
            conn.execute(saved_search.insert(), [{**row, "search_id": "3"}])


def test_migrations_from_empty_reach_the_newest_revision(db_url):
    engine = open_database(db_url)
    assert current_revision(engine) == _revisions()[-1]
    open_database(db_url)  # a second open upgrades nothing and fails nothing
    with engine.connect() as conn:
        assert data_version.current(conn) == 0


@pytest.mark.parametrize("start", ["first", "previous"])
def test_upgrade_keeps_existing_data(db_url, start):
    revisions = _revisions()
    base = revisions[0] if start == "first" else revisions[-2]
    engine = make_engine(db_url)
    upgrade(engine, base)
    assert current_revision(engine) == base
    # Only columns of the first revision, written with plain SQL as an old version would have.
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO mt_message (message_id, sent_at, status, content_type, source, has_send_log, message) "
            "VALUES ('old-1', '2025-01-02 03:04:05+00', 'read', 'template', 'send_log', true, 'antiga ação 😀')"
        ))
        conn.execute(sa.text(
            "INSERT INTO mo_message (message_id, received_at, content_type, source, in_reply_to) "
            "VALUES ('old-mo', '2025-01-02 04:00:00+00', 'text', 'meta', 'old-1')"
        ))
    upgrade(engine)
    assert current_revision(engine) == revisions[-1]
    with engine.connect() as conn:
        assert conn.execute(sa.select(mt_message.c.message, mt_message.c.sent_at)).one() == (
            "antiga ação 😀", datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
        assert conn.execute(sa.select(mo_message.c.in_reply_to)).scalar_one() == "old-1"
    engine.dispose()


def test_upgrade_marks_the_mts_that_stored_mos_answer(db_url):
    engine = make_engine(db_url)
    upgrade(engine, "0004")
    with engine.begin() as conn:
        for message_id in ("answered", "unanswered"):
            conn.execute(sa.text(
                "INSERT INTO mt_message (message_id, sent_at, status, content_type, source, has_send_log) "
                f"VALUES ('{message_id}', '2025-01-02 03:04:05+00', 'read', 'template', 'send_log', true)"
            ))
        conn.execute(sa.text(
            "INSERT INTO mo_message (message_id, received_at, content_type, source, in_reply_to) VALUES "
            "('mo-1', '2025-01-02 04:00:00+00', 'text', 'meta', 'answered'), "
            "('mo-2', '2025-01-02 05:00:00+00', 'text', 'meta', 'answered'), "
            "('mo-3', '2025-01-02 05:00:00+00', 'text', 'meta', NULL)"
        ))
    upgrade(engine)
    with engine.connect() as conn:
        flags = dict(conn.execute(sa.select(mt_message.c.message_id, mt_message.c.replied)).all())
    assert flags == {"answered": True, "unanswered": False}
    engine.dispose()


def test_data_version_bumps(engine):
    with engine.begin() as conn:
        data_version.bump(conn)
        data_version.bump(conn)
    with engine.connect() as conn:
        assert data_version.current(conn) == 2


@pytest.mark.parametrize(
    "cli, env, expected",
    [
        ("duckdb:///cli.duckdb", "duckdb:///env.duckdb", "duckdb:///cli.duckdb"),
        (None, "duckdb:///env.duckdb", "duckdb:///env.duckdb"),
        (None, None, "duckdb:///data/report.duckdb"),
        ("", None, "duckdb:///data/report.duckdb"),
    ],
)
def test_engine_precedence(monkeypatch, cli, env, expected):
    if env is None:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("DATABASE_URL", env)
    assert config.database_url(cli) == expected


@pytest.mark.parametrize(
    "url, message",
    [
        ("nonsense", "malformed database URL 'nonsense': use duckdb:///"),
        ("mysql://a@b/c", "unsupported database 'mysql://a@b/c': use duckdb:///"),
        ("duckdb://", "the DuckDB URL needs a file"),
        ("postgresql+psycopg://me:s3cret@127.0.0.1:1/report", "cannot open database postgresql+psycopg://me:***@127.0.0.1:1/report"),
        ("duckdb:////proc/no-such-folder/x.duckdb", "cannot create the folder /proc/no-such-folder"),
    ],
)
def test_bad_database_urls_give_one_line(url, message):
    with pytest.raises(DatabaseError) as error:
        open_database(url)
    text = str(error.value)
    assert message in text
    assert "\n" not in text and "s3cret" not in text


def _other_process_can_open(path) -> bool:
    import subprocess
    import sys

    code = f"import duckdb\ntry:\n    duckdb.connect({str(path)!r}).close(); print('yes')\nexcept duckdb.IOException:\n    print('no')"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "yes"


def test_duckdb_file_is_released_after_the_last_connection_unless_held(tmp_path):
    path = tmp_path / "held.duckdb"
    engine = open_database(f"duckdb:///{path}")
    with engine.connect() as conn:
        assert data_version.current(conn) == 0
        assert not _other_process_can_open(path)  # open while a connection is in use
    assert _other_process_can_open(path)  # released with the last connection, no timer
    owner = open_database(f"duckdb:///{path}", hold=True)  # the app server's engine
    with engine.connect() as conn:
        assert data_version.current(conn) == 0
    assert not _other_process_can_open(path)  # held while the owner lives
    owner.dispose()
    assert _other_process_can_open(path)
    engine.dispose()


def test_busy_duckdb_file_gives_a_bounded_wait_and_one_line(tmp_path):
    import subprocess
    import sys
    import time

    from data_access.engine import DatabaseBusy

    path = tmp_path / "busy.duckdb"
    open_database(f"duckdb:///{path}").dispose()
    code = f"import duckdb, sys\nc = duckdb.connect({str(path)!r})\nprint('holding', flush=True)\nsys.stdin.read()"
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        waiting = make_engine(f"duckdb:///{path}", busy_timeout_s=0.5)
        started = time.monotonic()
        with pytest.raises(DatabaseBusy) as error:
            waiting.connect()
        assert 0.5 <= time.monotonic() - started < 10  # bounded: retries stop soon after the timeout
    finally:
        holder.communicate("", timeout=30)  # the holder lets go
    assert "in use by another process" in str(error.value) and "\n" not in str(error.value)
    with waiting.connect() as conn:  # free again once the holder lets go
        assert data_version.current(conn) == 0
