"""One owner of the embedded file (SPEC section 7): one DuckDB instance per process shared by its
threads, the app server as the only process that opens the file while it runs, the commands going
through it, the page's freshness caption, and the one-line messages for a bad port or a missing file.

The server tests run `streamlit run app.py` for real and the commands as separate processes.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from data_access import data_version
from data_access.engine import DatabaseError, open_database
from data_access.filters import MtFilters
from data_access.ingest import synthetic
from data_access.report import mt_report, with_connection
from data_access.schema import data_version as data_version_table
from data_access.server_link import PING_ROUTE, TOKEN_HEADER, Presence, find_server, presence_path
from pages.freshness import ago
from tests.app_server import ROOT, serve_app
from tests.factories import at, insert, mt_row

BAD_PORT_URL = "postgresql+psycopg://report:s3cret@db.example:54x2/report"
BAD_PORT_LINE = (
    "the port of the database URL 'postgresql+psycopg://report:***@db.example:54x2/report' is not a number: "
    "use duckdb:///PATH/TO/FILE.duckdb or postgresql+psycopg://user:password@host:5432/dbname"
)
ALL_TIME = ["--from", "2020-01-01", "--to", "2099-12-31"]


def command(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | (env or {})
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=environment, input=stdin,
                          capture_output=True, text=True, timeout=300)


def other_process_can_open(path: Path) -> bool:
    code = f"import duckdb\ntry:\n    duckdb.connect({str(path)!r}).close(); print('yes')\nexcept duckdb.IOException:\n    print('no')"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "yes"


def traffic_file(path: Path, messages: int, seed: int) -> tuple[Path, set[str]]:
    """Seeded send logs and webhooks; returns the file and the MT ids it holds."""
    traffic = synthetic.generate(messages, seed=seed)
    synthetic.write_jsonl(path, synthetic.webhook_lines(traffic, seed=seed))
    return path, {log["message_id"] for log in traffic.send_logs}


def table_rows(url: str, query: str) -> list[tuple]:
    engine = open_database(url)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql(query).all()
    finally:
        engine.dispose()


# -- URLs and files the commands and the page refuse in one line --------------------------------------


def test_a_non_numeric_port_is_one_line_for_the_engine():
    with pytest.raises(DatabaseError) as error:
        open_database(BAD_PORT_URL)
    assert str(error.value) == BAD_PORT_LINE


@pytest.mark.parametrize(
    "args",
    [
        ("data_access.ingest", "--db", BAD_PORT_URL, "README.md"),
        ("exports", "--view", "mt", "--format", "csv", "-o", "out.csv", "--db", BAD_PORT_URL),
    ],
)
def test_a_non_numeric_port_exits_2_with_one_line(args, tmp_path):
    args = tuple(str(tmp_path / a) if a == "out.csv" else a for a in args)
    done = command(*args)
    prefix = "ingest" if args[0] == "data_access.ingest" else "exports"
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"{prefix}: {BAD_PORT_LINE}\n")


def test_an_export_of_a_missing_file_exits_2_naming_it_and_creates_nothing(tmp_path):
    missing = tmp_path / "typo.duckdb"
    done = command("exports", "--view", "mt", "--format", "csv", "-o", str(tmp_path / "out.csv"),
                   "--db", f"duckdb:///{missing}", *ALL_TIME)
    assert done.returncode == 2
    assert done.stderr == (
        f"exports: no database file at {missing}: check --db or DATABASE_URL "
        "(python -m data_access.demo or python -m data_access.ingest create it)\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_ingest_still_creates_the_file(tmp_path):
    path = tmp_path / "new" / "report.duckdb"
    source = tmp_path / "log.jsonl"
    source.write_text(json.dumps({"message_id": "m1", "sent_at": "2026-11-10T12:00:00Z", "phone": "+5511987654321",
                                  "content_type": "text", "message": "oi"}) + "\n")
    done = command("data_access.ingest", "--db", f"duckdb:///{path}", str(source))
    assert done.returncode == 0, done.stderr
    assert table_rows(f"duckdb:///{path}", "SELECT message_id, status FROM mt_message") == [("m1", "sent")]


def _open_page(monkeypatch, url: str, lang: str = "pt-BR") -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    app = AppTest.from_file(str(ROOT / "router" / "dashboard.py"), default_timeout=60)
    app.query_params.update({"from": "2026-11-01", "to": "2026-11-30", "lang": lang})
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def test_the_page_says_the_file_is_missing_and_creates_nothing(tmp_path, monkeypatch):
    missing = tmp_path / "typo.duckdb"
    app = _open_page(monkeypatch, f"duckdb:///{missing}", "en")
    assert [e.value for e in app.error] == [
        f"There is no database at `{missing}`: check the database address the server is configured with "
        "(DATABASE_URL) or import data to create it."
    ]
    assert len(app.main.header) == 0
    assert not missing.exists()


def test_the_page_says_a_bad_port_in_one_line(monkeypatch):
    app = _open_page(monkeypatch, BAD_PORT_URL)
    assert [e.value for e in app.error] == [f"Não foi possível consultar o banco de dados: `{BAD_PORT_LINE}`"]


# -- the page's freshness -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "pt", "en", "es"),
    [
        (0, "há 0 s", "0 s ago", "hace 0 s"),
        (3, "há 3 s", "3 s ago", "hace 3 s"),
        (59, "há 59 s", "59 s ago", "hace 59 s"),
        (60, "há 1 min", "1 min ago", "hace 1 min"),
        (3599, "há 59 min", "59 min ago", "hace 59 min"),
        (7200, "há 2 h", "2 h ago", "hace 2 h"),
        (3 * 86400 + 5, "há 3 d", "3 d ago", "hace 3 d"),
        (-4, "há 0 s", "0 s ago", "hace 0 s"),  # a clock a little ahead of this one
    ],
)
def test_ago(seconds, pt, en, es):
    assert (ago(seconds, "pt-BR"), ago(seconds, "en"), ago(seconds, "es")) == (pt, en, es)


@pytest.mark.parametrize(
    ("lang", "caption"),
    [("pt-BR", "dados atualizados há 3 h"), ("en", "data updated 3 h ago"), ("es", "datos actualizados hace 3 h")],
)
def test_the_page_says_when_its_data_was_updated(engine, lang, caption, monkeypatch):
    insert(engine, [mt_row(message_id="m1", sent_at=at(10), status="read")])
    changed = datetime.now(timezone.utc) - timedelta(hours=3, minutes=10)
    with engine.begin() as conn:
        conn.execute(data_version_table.update().values(changed_at=changed))
    app = _open_page(monkeypatch, engine.url.render_as_string(hide_password=False), lang)
    assert [c.value for c in app.sidebar.caption][0] == f":material/update: {caption}"
    assert app.toggle(key="refresh.auto").value is False
    app.toggle(key="refresh.auto").set_value(True).run()
    [every] = app.get("select_slider")
    assert (every.key, every.value) == ("refresh.every", 5)
    before = time.monotonic()
    insert(engine, [mt_row(message_id="m2", sent_at=at(11), status="sent")])  # bumps the version: changed now
    app.run()
    waited = math.ceil(time.monotonic() - before)
    assert app.main.header[0].value.startswith("2 ")
    assert [c.value for c in app.sidebar.caption][0] in {
        f":material/update: {caption.replace('3 h', f'{n} s')}" for n in range(waited + 1)}


# -- one instance per process: threads never race to open the file -----------------------------------


def test_threads_read_while_a_writer_writes_without_conflicts(db_url):
    """Eight reader threads, each with its own engine as the page's sessions have, and one writer:
    no "Unique file handle conflict", every count seen is one the writer committed, and the last is all."""
    owner = open_database(db_url)
    batches, per_batch = 30, 50
    seen: list[int] = []
    finals: list[int] = []  # each reader's read after the writer ended
    errors: list[BaseException] = []
    done = threading.Event()
    filters = MtFilters.default("UTC").replace(date_from=at(1).date(), date_to=at(30).date())

    def write() -> None:
        try:
            for b in range(batches):
                insert(owner, [mt_row(message_id=f"m{b:03d}-{i:03d}", sent_at=at(1 + (i % 28)), status="sent")
                               for i in range(per_batch)])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            done.set()

    def read() -> None:
        engine = open_database(db_url, busy_timeout_s=30)
        try:
            while not done.is_set():
                seen.append(with_connection(engine, mt_report, filters).totals.total)
            finals.append(with_connection(engine, mt_report, filters).totals.total)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=read) for _ in range(8)] + [threading.Thread(target=write)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    owner.dispose()
    assert errors == []
    assert set(seen) <= {b * per_batch for b in range(batches + 1)}
    assert finals == [batches * per_batch] * 8


def test_two_writers_of_one_process_take_turns(tmp_path):
    """Two writer engines updating the same rows at once: DuckDB would refuse one transaction
    (a write-write conflict); with the write turn both commit."""
    url = f"duckdb:///{tmp_path / 'turns.duckdb'}"
    open_database(url).dispose()
    insert_engine = open_database(url)
    insert(insert_engine, [mt_row(message_id="m1", sent_at=at(10), status="sent")])
    insert_engine.dispose()
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def bump(times: int) -> None:
        engine = open_database(url, writer=True)
        try:
            start.wait()
            for _ in range(times):
                with engine.begin() as conn:
                    data_version.bump(conn)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=bump, args=(40,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert table_rows(url, "SELECT version FROM data_version") == [(1 + 80,)]


# -- the app server owns the file; the commands go through it -----------------------------------------


@pytest.fixture
def two_files(tmp_path) -> tuple[str, str]:
    """Two identical embedded databases holding the same first traffic."""
    first, _ = traffic_file(tmp_path / "first.jsonl", 300, seed=3)
    a = f"duckdb:///{tmp_path / 'a.duckdb'}"
    assert command("data_access.ingest", "--db", a, str(first)).returncode == 0
    shutil.copy(tmp_path / "a.duckdb", tmp_path / "b.duckdb")
    return a, f"duckdb:///{tmp_path / 'b.duckdb'}"


def _summary_lines(stdout: str) -> list[str]:
    """The summary without its timing line."""
    return [line for line in stdout.splitlines() if " events in " not in line]


def _summary_row(stdout: str, name: str) -> dict[str, str]:
    """One row of the summary table (`unknown`, `total`...), by column name."""
    lines = _summary_lines(stdout)
    header = lines[0].split()
    [row] = [line.split() for line in lines[1:] if line.split()[:1] == [name]]
    return dict(zip(header, row))


def owner_of(url: str, timeout_s: float = 30) -> Presence | None:
    """The server owning `url`'s file, waited for: a server answers its health check before it has
    taken the file (it takes it in the background, as soon as it can)."""
    deadline = time.monotonic() + timeout_s
    while (presence := find_server(url)) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    return presence


def test_commands_go_through_the_server_and_give_what_they_give_alone(two_files, tmp_path):
    alone, served = two_files
    served_file = Path(served.removeprefix("duckdb:///"))
    source, ids = traffic_file(tmp_path / "second.jsonl", 2_000, seed=11)
    with source.open("a") as file:
        file.write('{"not": "a payload"}\n')
    direct = command("data_access.ingest", "--db", alone, str(source))
    with serve_app(served, tmp_path / "server.log") as base:
        presence = owner_of(served)
        assert presence is not None and presence.url == base
        assert stat.S_IMODE(presence_path(served_file).stat().st_mode) == 0o600
        assert not other_process_can_open(served_file)  # the server is the one owner
        through = command("data_access.ingest", "--db", served, str(source))
        via_stdin = command("data_access.ingest", "--db", served, "-", stdin=source.read_text())
        exported = command("exports", "--view", "mt", "--format", "csv", "-o", str(tmp_path / "through.csv"),
                           "--db", served, "--lang", "en", *ALL_TIME)
        exported_xlsx = command("exports", "--view", "mo", "--format", "xlsx", "-o", str(tmp_path / "through.xlsx"),
                                "--db", served, *ALL_TIME)
        missing_saved = command("exports", "--view", "mt", "--format", "csv", "-o", str(tmp_path / "x.csv"),
                                "--db", served, "--saved", "nope")
        grouped = command("exports", "--view", "mc", "--format", "csv", "-o", str(tmp_path / "through-mc.csv"),
                          "--db", served, "--lang", "en", "--group-by", "content_type", *ALL_TIME)
        wrong_token = urllib.request.Request(base + PING_ROUTE, data=b"", headers={TOKEN_HEADER: "guess"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(wrong_token, timeout=10)
        assert refused.value.code == 404
    assert not presence_path(served_file).exists()  # removed at shutdown

    assert (through.returncode, through.stderr) == (direct.returncode, direct.stderr) == (1, "")
    assert _summary_lines(through.stdout) == _summary_lines(direct.stdout)
    assert _summary_row(through.stdout, "unknown") == {
        "format": "unknown", "read": "1", "accepted": "0", "duplicates": "0", "rejected": "1", "rejected_parts": "0",
        "events": "0"}
    assert via_stdin.returncode == 1
    assert _summary_row(via_stdin.stdout, "total")["accepted"] == "0"  # all duplicates now
    rows = "SELECT message_id, status, delivered_at, read_at, failed_at, campaign, replied FROM mt_message ORDER BY 1"
    assert table_rows(served, rows) == table_rows(alone, rows)
    assert ids <= {r[0] for r in table_rows(served, "SELECT message_id FROM mt_message")}
    assert table_rows(served, "SELECT file, line FROM rejected_record ORDER BY 1, 2") == [
        (str(source), len(source.read_text().splitlines())), ("<stdin>", len(source.read_text().splitlines()))]

    assert exported.returncode == 0, exported.stderr
    assert exported.stderr.splitlines()[-1].startswith(f"exports: wrote {len(table_rows(served, 'SELECT 1 FROM mt_message')):,} rows")
    alone_export = command("exports", "--view", "mt", "--format", "csv", "-o", str(tmp_path / "alone.csv"),
                           "--db", served, "--lang", "en", *ALL_TIME)
    assert alone_export.returncode == 0
    assert (tmp_path / "through.csv").read_bytes() == (tmp_path / "alone.csv").read_bytes()
    assert exported_xlsx.returncode == 0, exported_xlsx.stderr
    assert command("exports", "--view", "mo", "--format", "xlsx", "-o", str(tmp_path / "alone.xlsx"),
                   "--db", served, *ALL_TIME).returncode == 0
    through_book, alone_book = (openpyxl.load_workbook(tmp_path / f"{n}.xlsx") for n in ("through", "alone"))
    assert through_book.sheetnames == alone_book.sheetnames == ["Dados", "Filtros"]
    received = [list(row) for row in alone_book["Dados"].iter_rows(values_only=True)]
    assert len(received) == 1 + len(table_rows(served, "SELECT 1 FROM mo_message"))
    assert [list(row) for row in through_book["Dados"].iter_rows(values_only=True)] == received
    assert grouped.returncode == 0, grouped.stderr
    assert command("exports", "--view", "mc", "--format", "csv", "-o", str(tmp_path / "alone-mc.csv"), "--db", served,
                   "--lang", "en", "--group-by", "content_type", *ALL_TIME).returncode == 0
    by_type = (tmp_path / "through-mc.csv").read_bytes()
    assert by_type == (tmp_path / "alone-mc.csv").read_bytes()  # the grouping travelled to the server
    assert by_type.startswith(b"Content type,Sent,")
    assert (missing_saved.returncode, missing_saved.stdout) == (2, "")
    assert missing_saved.stderr.startswith("exports: ") and "nope" in missing_saved.stderr


def _presence(db_file: Path, pid: int, mode: int = 0o600, url: str = "http://127.0.0.1:9") -> None:
    path = presence_path(db_file)
    path.write_text(json.dumps({"url": url, "token": "t", "pid": pid}))
    path.chmod(mode)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize(
    ("case", "pid", "mode", "url"),
    [
        ("left by a server that died", None, 0o600, "http://127.0.0.1:9"),
        ("readable by others", "self", 0o644, "http://127.0.0.1:9"),
        ("not on this machine", "self", 0o600, "http://192.0.2.7:8501"),
        ("a live process that does not answer", "self", 0o600, "http://127.0.0.1:9"),
    ],
)
def test_a_presence_file_that_cannot_be_trusted_is_passed_over(tmp_path, case, pid, mode, url):
    """The command then opens the file itself, as with no server."""
    db_file = tmp_path / "report.duckdb"
    open_database(f"duckdb:///{db_file}").dispose()
    _presence(db_file, os.getpid() if pid == "self" else _dead_pid(), mode, url)
    assert find_server(f"duckdb:///{db_file}") is None
    done = command("exports", "--view", "mt", "--format", "csv", "-o", str(tmp_path / "out.csv"),
                   "--db", f"duckdb:///{db_file}", *ALL_TIME)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").count("\n") == 1  # the header of an empty search
