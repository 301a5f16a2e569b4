"""The live interface served for real (`streamlit run app.py`): real HTTP to 127.0.0.1, a real
database on each engine, the rows checked after the server is stopped or killed."""
import base64
import hashlib
import hmac
import http.client
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench.webhooks import spooled_bytes, waiting
from data_access.engine import open_database
from data_access.schema import mo_message, mt_event, mt_message, mt_send_log, raw_payload, rejected_record
from server.headers import SECURITY_HEADERS
from tests.app_server import ROOT, AppProcess
from tests.postgres import new_postgres_database
from tests.test_ingest_support import PUBLIC, at, meta_status, send_log, table_rows
from tests.webhook_client import (
    SECRETS,
    body_of,
    meta_signature,
    post_meta,
    post_send_log,
    post_sinch,
    request,
    wait_until,
)

FOLD_WITHIN_S = 5.0  # SPEC 8: the events reach the report's figures within 5 s
FOLD_WAIT_S = 60.0  # how long a test waits for a fold whose time it does not judge (a busy machine)


@pytest.fixture
def app(db_url, tmp_path) -> Iterator[AppProcess]:
    """The app server with every secret of SECRETS set, started."""
    process = AppProcess(db_url, tmp_path / "app.log", SECRETS)
    process.start()
    try:
        yield process
    finally:
        process.stop()


def spool_of(db_url: str) -> Path | None:
    """The embedded database's spool folder (beside its file); None on PostgreSQL."""
    return Path(db_url.removeprefix("duckdb:///")).with_suffix(".spool") if db_url.startswith("duckdb") else None


def nothing_waiting(db_url: str) -> bool:
    """No body waits to be folded: the spool's segments are empty, or the inbox table is."""
    return waiting(db_url) == 0


def folded_then_killed(app: AppProcess) -> float:
    """Waits until the background fold has taken every body, then kills the server (SIGKILL: no
    shutdown work) so that what the database holds is the fold's doing; the seconds it took."""
    # A claim's segment (or inbox rows) is dropped only after the fold's transaction committed.
    took = wait_until(lambda: nothing_waiting(app.db_url), FOLD_WAIT_S, "the bodies are folded")
    app.kill()
    return took


def opened(db_url: str) -> Engine:
    return open_database(db_url)


def rows(db_url: str, table: sa.Table, *columns: str) -> list[tuple]:
    engine = opened(db_url)
    try:
        with engine.connect() as conn:
            selected = [table.c[name] for name in columns] if columns else list(table.columns)
            return [tuple(r) for r in conn.execute(sa.select(*selected).order_by(*selected))]
    finally:
        engine.dispose()


def payload_ids(db_url: str) -> set[str]:
    return {payload_id for (payload_id,) in rows(db_url, raw_payload, "payload_id")}


def sha(body: bytes) -> str:
    return hashlib.sha256(body.decode().strip().encode()).hexdigest()


# -- secrets not set -------------------------------------------------------------------------------

def test_every_endpoint_without_its_secret_answers_404_and_stores_nothing(db_url, tmp_path) -> None:
    app = AppProcess(db_url, tmp_path / "app.log")  # no secret at all
    base = app.start()
    body = body_of(meta_status("m1", "sent", 0))
    try:
        answers = [
            request(base, "GET", "/webhooks/meta?hub.mode=subscribe&hub.verify_token=&hub.challenge=1")[0],
            request(base, "POST", "/webhooks/meta", body, {"X-Hub-Signature-256": meta_signature(body, "")})[0],
            request(base, "POST", "/webhooks/sinch/anything", body)[0],
            request(base, "POST", "/api/send-log", body, {"Content-Type": "application/json"})[0],
        ]
        health = request(base, "GET", "/healthz")
        spooled_nothing = nothing_waiting(db_url)  # so no fold round can store anything later
    finally:
        app.kill()
    assert answers == [404, 404, 404, 404]
    assert health == (200, b'{"status":"ok"}')
    assert spooled_nothing
    assert payload_ids(db_url) == set()
    assert rows(db_url, rejected_record) == []


# -- Meta: handshake and signatures ----------------------------------------------------------------

@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444", (200, b"1158201444")),
        ("hub.mode=subscribe&hub.verify_token=verify-mE&hub.challenge=1158201444", (403, b"forbidden")),
        ("hub.mode=subscribe&hub.challenge=1158201444", (403, b"forbidden")),
        ("hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=1158201444", (403, b"forbidden")),
    ],
)
def test_meta_verification_handshake(tmp_path, query, expected) -> None:
    app = AppProcess(f"duckdb:///{tmp_path / 'report.duckdb'}", tmp_path / "app.log", SECRETS)
    base = app.start()
    try:
        assert request(base, "GET", f"/webhooks/meta?{query}") == expected
    finally:
        app.stop()


def test_only_rightly_signed_bodies_are_stored(app) -> None:
    base = app.base
    good = body_of(meta_status("wamid.good", "delivered", 5))
    changed = bytearray(good)
    changed[good.index(b"delivered")] = ord("D")  # one byte differs from what was signed
    other = body_of(meta_status("wamid.other", "read", 9))
    answers = {
        "right": post_meta(base, good),
        "wrong secret": post_meta(base, other, secret="not-the-app-secret"),
        "missing": request(base, "POST", "/webhooks/meta", other)[0],
        "not sha256=": request(base, "POST", "/webhooks/meta", other,
                               {"X-Hub-Signature-256": meta_signature(other).removeprefix("sha256=")})[0],
        "one byte changed": request(base, "POST", "/webhooks/meta", bytes(changed),
                                    {"X-Hub-Signature-256": meta_signature(good)})[0],
        "empty signature": request(base, "POST", "/webhooks/meta", other, {"X-Hub-Signature-256": ""})[0],
    }
    folded_then_killed(app)
    assert answers == {"right": 200, "wrong secret": 401, "missing": 401, "not sha256=": 401,
                       "one byte changed": 401, "empty signature": 401}
    assert payload_ids(app.db_url) == {sha(good)}
    assert rows(app.db_url, mt_message, "message_id", "status") == [("wamid.good", "delivered")]


def test_sinch_token_and_legacy_signature(db_url, tmp_path) -> None:
    secret = "legacy-callback-secret"
    app = AppProcess(db_url, tmp_path / "app.log", {**SECRETS, "SINCH_CALLBACK_SECRET": secret})
    base = app.start()
    latam = PUBLIC["sinch_messaging_wa_status_callback.json"].encode()
    legacy = PUBLIC["sinch_wa_api_dr_delivered.json"].encode()
    legacy_mo = PUBLIC["sinch_wa_api_mo_text.json"].encode()
    nonce = "01FA6TE1KRWVE42N8DVBQXPFGX"

    def line(name: str) -> bytes:
        return json.dumps(json.loads(PUBLIC[name]), ensure_ascii=False).encode()

    button, sent = line("sinch_wa_api_button_reply.json"), line("sinch_wa_api_dr_sent_with_conversation.json")
    latam_items = [line("sinch_messaging_wa_mo_text.json"), line("sinch_messaging_wa_mo_image.json")]
    latam_array = b"[" + b",".join(latam_items) + b"]"
    latam_lines = line("sinch_messaging_wa_mo_location.json") + b"\n" + line("sinch_messaging_wa_mo_contacts.json")
    legacy_array = b"[" + button + b"]"

    def signed(body: bytes, key: str = secret, encode=lambda d: base64.b64encode(d).decode()) -> dict:
        digest = hmac.new(key.encode(), body + b"." + nonce.encode(), hashlib.sha256).digest()
        return {"sinch-whatsapp-callback-signature": encode(digest),
                "sinch-whatsapp-callback-signature-algorithm": "HMAC_SHA_256",
                "sinch-whatsapp-callback-signature-nonce": nonce}

    try:
        answers = {
            "wrong token": request(base, "POST", "/webhooks/sinch/sinch-path-tokeN", latam)[0],
            "latam, unsigned as Sinch LATAM sends it": post_sinch(base, latam),
            "legacy, signed (base64)": post_sinch(base, legacy, signed(legacy)),
            "legacy, signed (hex)": post_sinch(base, legacy_mo, signed(legacy_mo, encode=bytes.hex)),
            "legacy, unsigned": post_sinch(base, PUBLIC["sinch_wa_api_button_reply.json"].encode()),
            "legacy, wrong key": post_sinch(base, PUBLIC["sinch_wa_api_button_reply.json"].encode(),
                                            signed(legacy, key="other")),
            "legacy, signature of another body": post_sinch(
                base, PUBLIC["sinch_wa_api_dr_sent_with_conversation.json"].encode(), signed(legacy)),
            "legacy in a JSON array, unsigned": post_sinch(base, legacy_array),
            "legacy in JSON Lines after a latam line, unsigned": post_sinch(base, latam_items[0] + b"\n" + sent),
            "legacy in a JSON array beside latam, unsigned": post_sinch(
                base, b"[" + latam_items[0] + b"," + sent + b"]"),
            "a send-log record, unsigned": post_sinch(base, b'{"message_id": "m1", "sent_at": "2026-01-01T00:00:00Z"}'),
            "not JSON, unsigned": post_sinch(base, b"hello"),
            "latam in a JSON array, unsigned": post_sinch(base, latam_array),
            "latam in JSON Lines, unsigned": post_sinch(base, latam_lines),
            "legacy in a JSON array, signed": post_sinch(base, legacy_array, signed(legacy_array)),
            "empty, unsigned": post_sinch(base, b""),
        }
        folded_then_killed(app)
    finally:
        app.kill()
    assert answers == {"wrong token": 404, "latam, unsigned as Sinch LATAM sends it": 200,
                       "legacy, signed (base64)": 200, "legacy, signed (hex)": 200, "legacy, unsigned": 401,
                       "legacy, wrong key": 401, "legacy, signature of another body": 401,
                       "legacy in a JSON array, unsigned": 401,
                       "legacy in JSON Lines after a latam line, unsigned": 401,
                       "legacy in a JSON array beside latam, unsigned": 401, "a send-log record, unsigned": 401,
                       "not JSON, unsigned": 401, "latam in a JSON array, unsigned": 200,
                       "latam in JSON Lines, unsigned": 200, "legacy in a JSON array, signed": 200,
                       "empty, unsigned": 401}
    assert payload_ids(db_url) == {sha(latam), sha(legacy), sha(legacy_mo), sha(button)} | {
        sha(body) for body in [*latam_items, *latam_lines.split(b"\n")]}


def test_an_authentic_empty_body_is_answered_200_and_kept_as_rejected(app) -> None:
    """SPEC 8: authentic but unusable is 200 and a rejected_record row with its reason, committed
    before the answer; an empty body that is not authentic is refused as any other."""
    base = app.base
    answers = {
        "meta, empty, unsigned": request(base, "POST", "/webhooks/meta", b"")[0],
        "meta, empty, signed": post_meta(base, b""),
        "meta, blank lines, signed": post_meta(base, b" \r\n\n"),
        "sinch, empty, wrong token": request(base, "POST", "/webhooks/sinch/not-the-token", b"")[0],
        "sinch, empty": post_sinch(base, b""),
        "sinch, empty again": post_sinch(base, b""),
    }
    app.kill()  # no shutdown work: the rows were committed before the 200
    assert answers == {"meta, empty, unsigned": 401, "meta, empty, signed": 200, "meta, blank lines, signed": 200,
                       "sinch, empty, wrong token": 404, "sinch, empty": 200, "sinch, empty again": 200}
    reason = "an empty body: no payload"
    assert rows(app.db_url, rejected_record, "file", "line", "reason", "body") == [
        ("webhook:meta", None, reason, ""), ("webhook:meta", None, reason, " \r\n\n"),
        ("webhook:sinch", None, reason, ""),
    ]
    assert rows(app.db_url, raw_payload) == []


def test_bodies_over_5_mb_get_413_and_store_nothing(app) -> None:
    big = b'{"object": "whatsapp_business_account", "pad": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    declared = post_meta(app.base, big)
    # Without Content-Length (chunked): refused while reading.
    parts = urlsplit(app.base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest("POST", f"/webhooks/sinch/{SECRETS['SINCH_WEBHOOK_TOKEN']}")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        try:
            for start in range(0, len(big), 256 * 1024):
                chunk = big[start : start + 256 * 1024]
                conn.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            conn.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before the whole body is sent
        chunked = conn.getresponse().status
    finally:
        conn.close()
    # Declared over 5 MB (the head alone): the same answer from the webhooks and the send log.
    over = {"Content-Length": str(5 * 1024 * 1024 + 1), "Content-Type": "application/json"}
    refused = [request(app.base, "POST", path, None, {**over, **headers}) for path, headers in (
        ("/webhooks/meta", {}), (f"/webhooks/sinch/{SECRETS['SINCH_WEBHOOK_TOKEN']}", {}),
        ("/api/send-log", {"Authorization": f"Bearer {SECRETS['INGEST_TOKEN']}"}))]
    just_under = body_of(meta_status("wamid.small", "sent", 1))
    small = post_meta(app.base, just_under)
    folded_then_killed(app)
    assert (declared, chunked, small) == (413, 413, 200)
    assert refused == [(413, b"body over 5 MB")] * 3
    assert payload_ids(app.db_url) == {sha(just_under)}


# -- what the fold makes of the bodies ----------------------------------------------------------------

def cli_ingest(db_url: str, paths: list[Path]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "data_access.ingest", "--db", db_url, *map(str, paths)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture
def second_db(db_url, tmp_path) -> Iterator[str]:
    """Another empty database on the same engine, for the `ingest` command's rows."""
    if db_url.startswith("duckdb"):
        yield f"duckdb:///{tmp_path / 'cli.duckdb'}"
        return
    url, drop = new_postgres_database()
    try:
        yield url
    finally:
        drop()


def comparable(db_url: str) -> dict[str, list]:
    """Every row ingest writes, without what names the input (file) or the time it was loaded."""
    engine = opened(db_url)
    try:
        result = {t.name: table_rows(engine, t) for t in (mt_message, mo_message, mt_event, mt_send_log)}
        with engine.connect() as conn:
            result["raw_payload"] = [tuple(r) for r in conn.execute(
                sa.select(raw_payload.c.payload_id, raw_payload.c.format, raw_payload.c.line, raw_payload.c.body)
                .order_by(raw_payload.c.payload_id))]
            result["rejected_record"] = [tuple(r) for r in conn.execute(
                sa.select(rejected_record.c.line, rejected_record.c.reason, rejected_record.c.body)
                .order_by(rejected_record.c.reason, rejected_record.c.body))]
    finally:
        engine.dispose()
    return result


def test_public_fixtures_over_http_give_the_rows_of_the_ingest_command(app, second_db, tmp_path) -> None:
    answers = {}
    for name, text in PUBLIC.items():
        body = text.encode("utf-8")
        answers[name] = post_meta(app.base, body) if name.startswith("meta_") else post_sinch(app.base, body)
    took = folded_then_killed(app)
    files = []
    for name, text in PUBLIC.items():
        files.append(tmp_path / name)
        files[-1].write_text(text, encoding="utf-8")
    done = cli_ingest(second_db, files)
    assert done.returncode == 1, done.stderr  # the two VERBATIM files are not JSON: rejected
    assert answers == dict.fromkeys(PUBLIC, 200)  # authentic, even when unusable
    assert took <= FOLD_WITHIN_S
    over_http, by_command = comparable(app.db_url), comparable(second_db)
    assert over_http == by_command
    assert len(over_http["raw_payload"]) == 12 and len(over_http["rejected_record"]) == 2
    assert {file for (file,) in rows(app.db_url, rejected_record, "file")} == {"webhook:meta"}


def test_duplicates_and_out_of_order_deliveries(app, second_db, tmp_path) -> None:
    in_order = [meta_status("wamid.A", "sent", 0), meta_status("wamid.A", "delivered", 3),
                meta_status("wamid.A", "read", 8), meta_status("wamid.B", "sent", 1),
                meta_status("wamid.B", "failed", 4, errors=[{"code": 131026, "title": "Undeliverable"}])]
    delivered = [in_order[2], in_order[4], in_order[1], in_order[2], in_order[0], in_order[3], in_order[1]]
    answers = [post_meta(app.base, body_of(value)) for value in delivered]
    log = send_log("wamid.A", -2, campaign="black-friday")
    sent = post_send_log(app.base, json.dumps(log).encode(), "application/json")
    again = post_send_log(app.base, json.dumps(log).encode(), "application/json")
    folded_then_killed(app)
    path = tmp_path / "in-order.jsonl"
    path.write_text("".join(json.dumps(v, separators=(",", ":")) + "\n" for v in [log, *in_order]), encoding="utf-8")
    assert cli_ingest(second_db, [path]).returncode == 0
    assert answers == [200] * 7
    assert sent == (200, {"read": 1, "accepted": 1, "duplicate": 0, "rejected": 0, "rejected_parts": 0, "events": 1})
    assert again == (200, {"read": 1, "accepted": 0, "duplicate": 1, "rejected": 0, "rejected_parts": 0, "events": 0})
    assert rows(app.db_url, mt_message, "message_id", "status", "sent_at", "campaign", "error_code") == [
        ("wamid.A", "read", at(-2), "black-friday", None),
        ("wamid.B", "undelivered", at(1), None, "131026"),
    ]
    assert len(payload_ids(app.db_url)) == 6  # five distinct status bodies and the send log
    over_http, by_command = comparable(app.db_url), comparable(second_db)
    for table in ("mt_message", "mt_event", "mt_send_log", "mo_message"):
        assert over_http[table] == by_command[table], table


# -- the send log --------------------------------------------------------------------------------

def test_send_log_in_each_content_type(app) -> None:
    one = send_log("sl-1", 0, campaign="c1")
    array = [send_log("sl-2", 1), send_log("sl-3", 2)]
    lines = "".join(json.dumps(r) + "\n" for r in [send_log("sl-4", 3), {"message_id": "sl-bad", "phone": "+5511"}])
    csv_text = "message_id,sent_at,phone,campaign\r\nsl-5,2025-06-15T15:06:45+00:00,+5511987654321,c5\r\n" \
               "sl-6,2025-06-15T15:06:46+00:00,+5511987654321,c5\r\n"
    answers = {
        "object": post_send_log(app.base, json.dumps(one).encode(), "application/json"),
        "array": post_send_log(app.base, json.dumps(array).encode(), "application/json; charset=utf-8"),
        "lines": post_send_log(app.base, lines.encode(), "application/x-ndjson"),
        "csv": post_send_log(app.base, csv_text.encode(), "text/csv"),
        "csv again": post_send_log(app.base, csv_text.encode(), "text/csv"),
        "no token": request(app.base, "POST", "/api/send-log", b"{}", {"Content-Type": "application/json"})[0],
        "wrong token": post_send_log(app.base, b"{}", "application/json", token="ingest-tokeN")[0],
        "basic auth": request(app.base, "POST", "/api/send-log", b"{}", {
            "Content-Type": "application/json", "Authorization": "Basic aW5nZXN0LXRva2Vu"})[0],
        "xml": post_send_log(app.base, b"<x/>", "application/xml")[0],
    }
    app.kill()  # the send log is answered after its commit: nothing to wait for
    assert answers == {
        "object": (200, {"read": 1, "accepted": 1, "duplicate": 0, "rejected": 0, "rejected_parts": 0, "events": 1}),
        "array": (200, {"read": 2, "accepted": 2, "duplicate": 0, "rejected": 0, "rejected_parts": 0, "events": 2}),
        "lines": (200, {"read": 2, "accepted": 1, "duplicate": 0, "rejected": 1, "rejected_parts": 0, "events": 1}),
        "csv": (200, {"read": 2, "accepted": 2, "duplicate": 0, "rejected": 0, "rejected_parts": 0, "events": 2}),
        "csv again": (200, {"read": 2, "accepted": 0, "duplicate": 2, "rejected": 0, "rejected_parts": 0, "events": 0}),
        "no token": 401, "wrong token": 401, "basic auth": 401, "xml": 415,
    }
    assert rows(app.db_url, mt_send_log, "message_id", "campaign") == [
        ("sl-1", "c1"), ("sl-2", None), ("sl-3", None), ("sl-4", None), ("sl-5", "c5"), ("sl-6", "c5")]
    assert rows(app.db_url, rejected_record, "file", "line", "reason") == [("api:send-log", 2, "missing sent_at")]


def test_healthz_says_503_when_the_database_does_not_answer(tmp_path) -> None:
    app = AppProcess("postgresql+psycopg://nobody:x@127.0.0.1:1/none", tmp_path / "app.log", SECRETS)
    base = app.start()
    try:
        health = request(base, "GET", "/healthz")
        webhook = post_meta(base, body_of(meta_status("m", "sent", 0)))
        sent = post_send_log(base, json.dumps(send_log("m", 0)).encode(), "application/json")[0]
        page = request(base, "GET", "/")[0]
    finally:
        app.stop()
    assert health == (503, b'{"status":"unavailable"}')
    assert (webhook, sent, page) == (503, 503, 200)  # the provider retries; the page says why itself


def test_secrets_from_secrets_toml_and_the_environment_first(tmp_path) -> None:
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text('META_VERIFY_TOKEN = "token-from-file"\nMETA_APP_SECRET = "secret-from-file"\n'
                            'SINCH_WEBHOOK_TOKEN = ""\n', encoding="utf-8")
    app = AppProcess(f"duckdb:///{tmp_path / 'report.duckdb'}", tmp_path / "app.log",
                     {"STREAMLIT_SECRETS_FILES": str(secrets_file), "META_APP_SECRET": "secret-from-env"})
    base = app.start()
    body = body_of(meta_status("m", "sent", 0))
    try:
        handshake = request(base, "GET", "/webhooks/meta?hub.mode=subscribe&hub.verify_token=token-from-file"
                                         "&hub.challenge=42")
        signed_with_env = post_meta(base, body, secret="secret-from-env")
        signed_with_file = post_meta(base, body, secret="secret-from-file")
        empty_token = post_sinch(base, body)
    finally:
        app.stop()
    assert handshake == (200, b"42")
    assert (signed_with_env, signed_with_file) == (200, 401)
    assert empty_token == 404  # an empty value is not a secret


def test_a_body_the_ingest_code_cannot_take_holds_back_nothing(db_url, tmp_path) -> None:
    """JSON nested 100,000 deep (the parser's recursion limit): answered 200 as authentic; it is kept
    (rejected with its reason, or also set aside in the spool folder's unfoldable/ with the error logged)
    and the bodies after it are folded."""
    spool = tmp_path / "spool"
    app = AppProcess(db_url, tmp_path / "app.log", {**SECRETS, "WEBHOOK_SPOOL_DIR": str(spool)})
    base = app.start()
    deep = b"[" * 100_000 + b"]" * 100_000
    after = body_of(meta_status("wamid.after", "read", 3))
    try:
        answers = [post_meta(base, deep), post_meta(base, after)]
        wait_until(lambda: spooled_bytes(spool) == 0 and (db_url.startswith("duckdb") or nothing_waiting(db_url)),
                   FOLD_WAIT_S, "folded")
        health = request(base, "GET", "/healthz")[0]
    finally:
        app.kill()
    assert answers == [200, 200] and health == 200
    assert rows(db_url, mt_message, "message_id", "status") == [("wamid.after", "read")]
    set_aside = [p.read_bytes() for p in (spool / "unfoldable").glob("*.body")]
    rejected = rows(db_url, rejected_record, "body")
    assert (set_aside, len(rejected)) in (([deep], 1), ([], 1))


def test_webhooks_served_ahead_of_the_dashboard_keep_the_security_headers_and_405(app) -> None:
    """The webhook routes are answered straight from the outermost middleware (server/direct.py) and
    write their answers themselves: every answer, refusals included, still carries the security
    headers once, and a method they do not take still gets 405 (from the usual stack)."""
    body = body_of(meta_status("wamid.direct", "sent", 1))
    parts = urlsplit(app.base)
    sinch = f"/webhooks/sinch/{SECRETS['SINCH_WEBHOOK_TOKEN']}"
    verify = "/webhooks/meta?hub.mode=subscribe&hub.challenge=4711&hub.verify_token="
    cases = {
        "signed": ("POST", "/webhooks/meta", body, {"X-Hub-Signature-256": meta_signature(body)}),
        "unsigned": ("POST", "/webhooks/meta", body, {}),
        "wrong method": ("PUT", "/webhooks/meta", body, {}),
        "sinch by DELETE": ("DELETE", sinch, body, {}),
        "sinch wrong token": ("POST", "/webhooks/sinch/not-the-token", body, {}),
        "declared over 5 MB": ("POST", "/webhooks/meta", None, {"Content-Length": str(5 * 1024 * 1024 + 1)}),
        "verified": ("GET", verify + SECRETS["META_VERIFY_TOKEN"], None, {}),
        "not verified": ("GET", verify + "wrong", None, {}),
    }
    answers = {}
    for name, (method, path, content, headers) in cases.items():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            conn.request(method, path, body=content, headers=headers)
            answer = conn.getresponse()
            answers[name] = (answer.status, answer.read())
            for header, value in SECURITY_HEADERS:
                assert answer.msg.get_all(header) == [value], (name, header)
        finally:
            conn.close()
    assert answers == {"signed": (200, b""), "unsigned": (401, b"missing or wrong signature"),
                       "wrong method": (405, b"Method Not Allowed"), "sinch by DELETE": (405, b"Method Not Allowed"),
                       "sinch wrong token": (404, b"not found"), "declared over 5 MB": (413, b"body over 5 MB"),
                       "verified": (200, b"4711"), "not verified": (403, b"forbidden")}
    folded_then_killed(app)
    assert payload_ids(app.db_url) == {sha(body)}
