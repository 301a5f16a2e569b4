"""Hostile records mixed into files of good ones: each is one rejected record (file, line, reason,
body kept), the good records around it are stored, and every file satisfies the accounting
identity read = accepted + duplicates + rejected. Also: a batch the database refuses is split until
the record at fault is alone, and a run stopped by something outside the data names where it was,
keeps what it wrote visible and is completed by the next run."""
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from data_access.engine import open_database
from data_access.ingest import IngestFailed, IngestSummary
from data_access.ingest.events import FIELD_LIMITS
from data_access.schema import ingest_pending, mo_message, mt_message, raw_payload, rejected_record
from tests.test_ingest_support import (
    WA_ID,
    load,
    meta_failed,
    meta_status,
    meta_text,
    meta_webhook,
    mt_row,
    send_log,
    table_rows,
)
from tests.postgres import NO_SERVER, new_postgres_database

ROOT = Path(__file__).resolve().parent.parent

GOOD_LINES = 7  # records of `hostile_jsonl` that load whole (one of them with a part rejected)


def line(record: dict | str | bytes) -> bytes:
    if isinstance(record, bytes):
        return record
    text = record if isinstance(record, str) else json.dumps(record, ensure_ascii=False)
    return text.encode("utf-8")


def write_bytes(path: Path, records: list[dict | str | bytes]) -> Path:
    path.write_bytes(b"".join(line(record) + b"\n" for record in records))
    return path


def incompressible(length: int) -> str:
    """Hex text that no compression shortens (PostgreSQL compresses long index entries)."""
    chunks, seed = [], b"hostile"
    while sum(map(len, chunks)) < length:
        seed = hashlib.sha256(seed).digest()
        chunks.append(seed.hex())
    return "".join(chunks)[:length]


def wide(length: int) -> str:
    """Characters of 4 bytes in UTF-8 (CJK extension B), varied enough that nothing compresses them."""
    digest = incompressible(length * 4)
    return "".join(chr(0x20000 + int(digest[i:i + 4], 16) % 0xA6E0) for i in range(0, length * 4, 4))


def replace_value(record: dict, old: str, raw: str) -> str:
    """The record as JSON with the quoted value `old` replaced by the raw JSON text `raw`."""
    text = json.dumps(record)
    assert text.count(json.dumps(old)) == 1
    return text.replace(json.dumps(old), raw)


def reject_rows(engine) -> list[tuple[int, str, str]]:
    """(line, reason, body) of every rejected record, by line then reason."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(rejected_record.c.line, rejected_record.c.reason, rejected_record.c.body).order_by(
                rejected_record.c.line, rejected_record.c.reason
            )
        ).all()
    return [tuple(row) for row in rows]


def statuses(engine) -> dict[str, str]:
    return {row["message_id"]: row["status"] for row in table_rows(engine, mt_message)}


def pending_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(ingest_pending)).scalar_one()


def assert_identity(summary: IngestSummary, read: int, rejected_rows: int, engine) -> None:
    """Every record read ended as one outcome, and the rejected_record table holds each reason."""
    total = summary.total
    assert total.read == read
    assert total.accepted + total.duplicates + total.rejected == read
    for counts in summary.counts.values():
        assert counts.accepted + counts.duplicates + counts.rejected == counts.read
    assert total.rejected + total.rejected_parts == rejected_rows == len(reject_rows(engine))


LONG_ID = incompressible(3_000)
TEN_KB = incompressible(10_000)
LATAM_STATUS = {
    "id": "latam.1", "destination": WA_ID, "sent": True, "sentStatusCode": 2, "sentDate": "2025-06-15T15:07:00Z",
}


def hostile_jsonl() -> list[tuple[dict | str | bytes, str | None]]:
    """(record, what its line's reject reason says, or None for a record that loads whole)."""
    deep = "[" * 10_000 + "]" * 10_000
    deep_object = '{"a": ' * 10_000 + "1" + "}" * 10_000
    return [
        (b"\xff\xfe garbage that is not UTF-8 \x80", "not UTF-8"),  # the first line
        (send_log("m1", 0, campaign="junho"), None),
        (replace_value(meta_status("m1", "read", 9), str(1_750_000_009), "9" * 5_000), "an integer of more than 4,300 digits"),
        (meta_status("m1", "delivered", 5), None),
        (deep, "nested too deeply"),
        (deep_object, "nested too deeply"),
        (json.dumps(meta_failed("m1", 7, 131047)).replace('"code": 131047', '"code": Infinity'), "Infinity"),
        (replace_value({"total": 1, "data": [LATAM_STATUS | {"sentStatusCode": "X"}]}, "X", "1e999"), "1e999"),
        (replace_value(meta_status("m1", "read", 9), str(1_750_000_009), "NaN"), "NaN"),
        (meta_text("mo1", 60, "Obrigado 🙏"), None),
        (send_log(LONG_ID, 0), "message_id has 3,000 characters; at most 256"),
        (send_log("m9", 0, campaign=TEN_KB), "campaign has 10,000 characters; at most 256"),
        ({"total": 1, "data": [LATAM_STATUS | {"correlationId": TEN_KB}]}, "correlation_id has 10,000 characters"),
        (send_log("m2", 0, message=TEN_KB), None),  # a 10 kB text is within the text limit
        (b'{"message_id": "m\x00", "sent_at": "2025-06-15T15:06:40Z", "phone": "+5511987654321"}',
         "Invalid control character"),
        (replace_value(send_log("m9", 0), "m9", '"m\\u0000"'), "NUL character"),
        (b'{"message_id": "caf\xe9", "sent_at": "2025-06-15T15:06:40Z", "phone": "+5511987654321"}', "not UTF-8"),
        (send_log("m9", 0) | {"sent_at": "2101-01-01T00:00:00Z"}, "outside 2000-2100"),
        (send_log("m9", 0) | {"sent_at": "1999-12-31T23:59:59Z"}, "outside 2000-2100"),
        (send_log("m9", 0) | {"sent_at": "9" * 4_000}, "unparseable date in sent_at"),
        (meta_webhook(statuses=[
            {"id": "m3", "status": "read", "timestamp": "1750000020", "recipient_id": WA_ID},
            {"id": LONG_ID, "status": "read", "timestamp": "1750000020", "recipient_id": WA_ID},
        ]), "message_id has 3,000 characters"),  # the first status loads, the second is a rejected part
        ([], "an empty JSON array"),
        (send_log("m4", 0), None),
        # the longest accepted texts, of 4-byte characters, in the widest PostgreSQL index: stored
        (send_log("m5", 0, campaign=wide(256), status="undelivered", error_code=wide(64), error_title=wide(256)),
         None),
        (send_log("m6", 0, campaign="c" * 257), "campaign has 257 characters; at most 256 are accepted"),
    ]


def test_hostile_records_among_good_ones_are_rejected_one_by_one(engine, tmp_path) -> None:
    records = hostile_jsonl()
    path = write_bytes(tmp_path / "hostile.jsonl", [record for record, _ in records])
    summary = load(engine, path)

    assert statuses(engine) == {
        "m1": "delivered", "m2": "sent", "m3": "read", "m4": "sent", "m5": "undelivered"
    }
    assert len(mt_row(engine, "m5")["campaign"].encode("utf-8")) == 1_024
    assert mt_row(engine, "m2")["message"] == TEN_KB
    assert [row["message_id"] for row in table_rows(engine, mo_message)] == ["mo1"]
    stored = reject_rows(engine)
    expected = [(number, reason) for number, (_, reason) in enumerate(records, start=1) if reason]
    assert [number for number, _, _ in stored] == [number for number, _ in expected]
    for (number, reason, body), (_, words) in zip(stored, expected):
        assert words in reason, (number, reason[:200])
    bodies = {number: body for number, _, body in stored}
    reasons = {number: reason for number, reason, _ in stored}
    assert bodies[1] == "\\xff\\xfe garbage that is not UTF-8 \\x80"  # the bytes, kept as escapes
    assert bodies[17].startswith('{"message_id": "caf\\xe9"')
    assert len(bodies[3]) > 5_000 and len(reasons[3]) < 600  # the body whole, the reason short
    rejected_whole = len(expected) - 1  # the webhook with one bad status of two loaded its good one
    assert (summary.total.accepted, summary.total.rejected, summary.total.rejected_parts) == (
        GOOD_LINES, rejected_whole, 1
    )
    assert_identity(summary, len(records), len(expected), engine)
    assert summary.exit_code == 1
    assert pending_count(engine) == 0

    again = load(engine, path)  # nothing new: the good records are duplicates, the rejects again rejects
    assert (again.total.accepted, again.total.duplicates, again.total.rejected) == (0, GOOD_LINES, rejected_whole)
    assert_identity(again, len(records), len(expected), engine)


def test_a_garbage_first_line_does_not_make_a_json_file_csv(engine, tmp_path) -> None:
    path = write_bytes(tmp_path / "garbage.jsonl", [
        b"message;garbage,,,", meta_status("a1", "sent", 0), meta_status("a2", "read", 1), b"\xc3\x28",
    ])
    summary = load(engine, path)
    assert statuses(engine) == {"a1": "sent", "a2": "read"}
    assert [(n, r) for n, r, _ in reject_rows(engine)] == [
        (1, "CSV header lacks message_id, sent_at, phone: a send log needs message_id, sent_at, phone"),
        (4, "not UTF-8"),
    ]
    assert_identity(summary, 4, 2, engine)


def test_hostile_csv_rows_among_good_ones(engine, tmp_path) -> None:
    header = b"message_id,sent_at,phone,campaign,message"
    rows = [
        (b"c1,2025-06-15T15:06:40Z,+5511987654321,junho,oi", None),
        (b"c2," + b"9" * 5_000 + b",+5511987654321,junho,oi", "unparseable date in sent_at"),
        (b"c3,2025-06-15T15:06:40Z,+5511987654321,junho,a\x00b", "NUL character"),
        (b"c4,2025-06-15T15:06:40Z,+5511987654321,jun\xe9o,oi", "not UTF-8"),
        (line(f"{LONG_ID},2025-06-15T15:06:40Z,+5511987654321,junho,oi"), "message_id has 3,000 characters"),
        (line(f"c5,2025-06-15T15:06:40Z,+5511987654321,{TEN_KB},oi"), "campaign has 10,000 characters"),
        (b"c6,Infinity,+5511987654321,junho,oi", "unparseable date in sent_at: 'Infinity'"),
        (line(f"c7,2025-06-15T15:06:40Z,+5511987654321,junho,{TEN_KB}"), None),
    ]
    path = write_bytes(tmp_path / "hostile.csv", [header, *(row for row, _ in rows)])
    summary = load(engine, path)
    assert statuses(engine) == {"c1": "sent", "c7": "sent"}
    stored = reject_rows(engine)
    expected = [(number, words) for number, (_, words) in enumerate(rows, start=2) if words]
    assert [number for number, _, _ in stored] == [number for number, _ in expected]
    for (number, reason, _), (_, words) in zip(stored, expected):
        assert words in reason, (number, reason[:200])
    assert_identity(summary, len(rows), len(expected), engine)


@pytest.mark.parametrize("writer", ["thread", "process"])
def test_a_batch_the_database_refuses_is_split_until_the_record_at_fault_is_alone(
    engine, tmp_path, monkeypatch, writer
) -> None:
    """With the message id limit raised past what PostgreSQL indexes (btree entries of at most
    ~2,700 bytes), a 3,000-character id reaches the database: PostgreSQL refuses the batch, which is
    then written in halves until that record is rejected alone with the database's reason. DuckDB
    has no such limit and stores it."""
    monkeypatch.setitem(FIELD_LIMITS, "message_id", 10_000)
    good = [meta_status(f"g{i:04}", "delivered", i) for i in range(2_000)]
    records = [*good[:1_234], send_log(LONG_ID, 0), *good[1_234:]]
    path = write_bytes(tmp_path / "refused.jsonl", records)
    summary = load(engine, path, writer=writer)

    stored = statuses(engine)
    delivered = {f"g{i:04}": "delivered" for i in range(2_000)}
    if engine.dialect.name == "postgresql":
        assert stored == delivered
        [(number, reason, body)] = reject_rows(engine)
        assert (number, body) == (1_235, json.dumps(send_log(LONG_ID, 0)))
        assert reason.startswith("refused by the database: index row size ")
        assert "maximum 2704" in reason and "\n" not in reason
        assert (summary.total.accepted, summary.total.rejected) == (2_000, 1)
        assert_identity(summary, 2_001, 1, engine)
    else:
        assert stored == delivered | {LONG_ID: "sent"}
        assert reject_rows(engine) == []
        assert (summary.total.accepted, summary.total.rejected) == (2_001, 0)
        assert_identity(summary, 2_001, 0, engine)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(raw_payload)).scalar_one() == (
            summary.total.accepted
        )
    assert pending_count(engine) == 0


def test_a_run_stopped_midway_names_its_place_keeps_what_it_wrote_visible_and_is_completed(
    engine, tmp_path
) -> None:
    """The first input is a pipe; while it is read, the second input disappears, so the run stops
    when it comes to it (a cause outside the data). The rows of the batches written before are
    recomputed on the way out; the next run loads the rest."""
    first = [meta_status(f"p{i:03}", "read", i) for i in range(300)]
    second = [meta_status(f"q{i:03}", "delivered", i) for i in range(50)]
    pipe = tmp_path / "first.pipe"
    os.mkfifo(pipe)
    later = write_bytes(tmp_path / "second.jsonl", second)
    moved = tmp_path / "second.moved"

    def feed() -> None:
        with open(pipe, "wb") as stream:
            for record in first:
                stream.write(line(record) + b"\n")
            later.rename(moved)  # gone before the run opens it

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        with pytest.raises(IngestFailed) as failed:
            load(engine, pipe, later, batch_events=50)
    finally:
        feeder.join(timeout=60)
    message = str(failed.value)
    assert message.startswith(f"stopped at {pipe}, line 300: ")
    assert "No such file or directory" in message and message.endswith("running again is safe")
    assert statuses(engine) == {f"p{i:03}": "read" for i in range(300)}  # visible: folded on the way out
    assert pending_count(engine) == 0
    assert failed.value.summary.total.accepted == 300

    moved.rename(later)
    started = time.monotonic()
    again = load(engine, later)
    assert time.monotonic() - started < 60
    assert statuses(engine) == {f"p{i:03}": "read" for i in range(300)} | {f"q{i:03}": "delivered" for i in range(50)}
    assert_identity(again, 50, 0, engine)


def test_postgresql_gone_midway_exit_1_with_the_place_then_a_rerun_completes(tmp_path) -> None:
    """PostgreSQL stops taking connections while a run reads standard input: the command says
    where it stopped and exits 1; once the database is back, loading the whole input again gives
    every row, folded."""
    try:
        url, drop = new_postgres_database()
    except RuntimeError:
        pytest.fail(NO_SERVER)
    name = make_url(url).database
    admin = sa.create_engine(os.environ["TEST_POSTGRES_URL"], isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    engine = open_database(url)
    records = [meta_status(f"s{i:05}", "read", i) for i in range(12_500)]
    text = b"".join(line(record) + b"\n" for record in records)
    first_part = sum(len(line(record)) + 1 for record in records[:10_500])
    run = None
    try:
        run = subprocess.Popen(
            [sys.executable, "-m", "data_access.ingest", "--db", url, "-"],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        run.stdin.write(text[:first_part])
        run.stdin.flush()
        deadline = time.monotonic() + 120
        while payload_count(engine) < 10_000:  # the first batch (10,000 events) is written
            assert time.monotonic() < deadline and run.poll() is None
            time.sleep(0.2)
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                         {"name": name})
        out, err = run.communicate(text[first_part:], timeout=120)
        assert run.returncode == 1
        assert err.decode().startswith("ingest: stopped at <stdin>, line 12,500: ")
        assert "not currently accepting connections" in err.decode()
        assert out.decode().splitlines()[0].split() == [
            "format", "read", "accepted", "duplicates", "rejected", "rejected_parts", "events"
        ]

        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        path = write_bytes(tmp_path / "all.jsonl", records)
        again = subprocess.run([sys.executable, "-m", "data_access.ingest", "--db", url, str(path)],
                               cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert (again.returncode, again.stderr) == (0, "")
        totals = again.stdout.splitlines()[
            next(i for i, row in enumerate(again.stdout.splitlines()) if row.startswith("total"))
        ].split()
        assert totals == ["total", "12,500", "2,500", "10,000", "0", "0", "2,500"]
        assert statuses(engine) == {f"s{i:05}": "read" for i in range(12_500)}
        assert pending_count(engine) == 0
    finally:
        if run is not None and run.poll() is None:
            run.kill()
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
        drop()


def payload_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(raw_payload)).scalar_one()
