"""What ingest accepts and refuses: every reject reason (the rest of the file still loads), the
file shapes (JSON Lines, JSON documents, CSV), hostile text kept verbatim, and idempotence."""
import json

import pytest
import sqlalchemy as sa

from data_access import data_version
from data_access.schema import mo_message, mt_event, mt_message, mt_send_log, raw_payload, rejected_record
from tests.test_ingest_support import (
    PHONE,
    WA_ID,
    at,
    load,
    load_records,
    meta_status,
    meta_text,
    meta_webhook,
    mo_row,
    mt_row,
    rejects,
    rows_by_order,
    send_log,
    table_rows,
    write_lines,
)

GOOD = meta_status("wamid.GOOD", "delivered", 10)

META_NO_ID = meta_webhook(statuses=[{"status": "sent", "timestamp": "1750000000", "recipient_id": WA_ID}])
META_MESSAGE_NO_FROM = meta_webhook(messages=[{"id": "wamid.X", "timestamp": "1750000000", "type": "text"}])
LATAM_NEITHER = {"total": 1, "data": [{"id": "x", "destination": WA_ID}]}
LATAM_NO_DATE = {"total": 1, "data": [{"id": "x", "destination": WA_ID, "sent": True, "sentStatusCode": 2}]}
LEGACY_UNKNOWN = {
    "type": "whatsapp", "statuses": [{"state": "warning", "message_id": "m", "timestamp": "2022-02-28T15:34:45Z"}]
}

# (record as written on line 2 of a file whose line 1 is GOOD, expected reason)
REJECTED_LINES = [
    ('{"object": "whatsapp_business_account", "entry": [', "broken JSON: Expecting value (line 2, column 51)"),
    ('{"id": 1, "status": }', "broken JSON: Expecting value (line 2, column 21)"),
    ("42", "not a JSON object"),
    ('[{"message_id": "m", "sent_at": "2025-06-01T00:00:00Z", "phone": "+5511987654321"}, 7]',
     "item 1: not a JSON object"),
    ('{"hello": "world"}', None),  # unrecognised payload: reason checked by prefix below
    (META_NO_ID, "entry[0].changes[0].statuses[0]: missing id"),
    (META_MESSAGE_NO_FROM, "entry[0].changes[0].messages[0]: missing from"),
    (meta_status("wamid.X", "sent", 0) | {"entry": []}, "Meta webhook without statuses or messages (fields: none)"),
    (meta_webhook(statuses=[{"id": "wamid.X", "status": "sent", "timestamp": "yesterday"}]),
     "entry[0].changes[0].statuses[0]: unparseable date in timestamp: 'yesterday'"),
    (meta_webhook(statuses=[{"id": "wamid.X", "status": "sent", "timestamp": "0"}]),
     "entry[0].changes[0].statuses[0]: unparseable date in timestamp: '0' is outside 2000-2100"),
    (meta_status("wamid.X", "warning", 0),
     "entry[0].changes[0].statuses[0]: unknown status 'warning': accepted are sent, delivered, read, played, failed"),
    (LATAM_NEITHER, "data[0]: neither a status callback nor an MO"),
    (LATAM_NO_DATE, "data[0]: missing date for the sent status (sentDate, deliveredDate, readDate or updatedDate)"),
    ({"total": 0, "data": []}, "Sinch callback with no data items"),
    (LEGACY_UNKNOWN, "statuses[0]: unknown status 'warning': accepted are queued, dispatched, sent, delivered, "
                     "read, deleted, failed, no_opt_in, no_capability"),
    ({"type": "whatsapp", "statuses": []}, "Sinch WhatsApp callback with no statuses or notifications"),
    (send_log("", 0), "missing message_id"),
    ({"sent_at": "2025-06-01T00:00:00Z", "phone": PHONE}, "missing message_id"),
    (send_log("m", 0) | {"sent_at": "01/06/2025"}, "unparseable date in sent_at: '01/06/2025'"),
    (send_log("m", 0) | {"read_at": "soon"}, "unparseable date in read_at: 'soon'"),
    (send_log("m", 0, phone="5511987654321"),
     "phone '5511987654321' is not E.164 (+ and 8 to 15 digits, e.g. +5511987654321)"),
    (send_log("m", 0, phone="+55 11 98765-4321"),
     "phone '+55 11 98765-4321' is not E.164 (+ and 8 to 15 digits, e.g. +5511987654321)"),
    (send_log("m", 0, phone="+0551198765432"),
     "phone '+0551198765432' is not E.164 (+ and 8 to 15 digits, e.g. +5511987654321)"),
    (send_log("m", 0, phone=None), "missing phone"),
    (send_log("m", 0, status="lida"), "unknown status 'lida': accepted are sent, delivered, read, ttl_expired, "
     "carrier_failure, carrier_rejected, undelivered, invalid_number, opt_out, invalid_session, internal_error, "
     "invalid_content, warmup_blocked, tier_limit, invalid_parameter"),
    (send_log("m", 0, content_type="carousel"), "unknown content_type 'carousel': accepted are template, text, "
     "image, audio, video, document, interactive, location, sticker, other"),
    (send_log("m", 0, sent_with_session="maybe"), "sent_with_session 'maybe' is not true or false"),
    ('{"message_id": "m", "sent_at": "2025-06-01T00:00:00Z", "phone": "+5511987654321", "message": "a\\u0000b"}',
     "contains a NUL character, which cannot be stored"),
    ('{"message_id": "m", "sent_at": "2025-06-01T00:00:00Z", "phone": "+5511987654321", "message": "\\ud800"}',
     "contains a lone UTF-16 surrogate (\\ud800-\\udfff), which is not valid Unicode"),
]


@pytest.mark.parametrize(("record", "reason"), REJECTED_LINES)
def test_each_reject_reason_keeps_file_and_line_and_the_rest_loads(engine, tmp_path, record, reason) -> None:
    path = write_lines(tmp_path / "mixed.jsonl", GOOD, record, meta_status("wamid.LAST", "read", 20))
    summary = load(engine, path)
    [(file, line, stored_reason)] = rejects(engine)
    assert (file, line) == ("mixed.jsonl", 2)
    if reason is None:
        assert stored_reason.startswith("unrecognised payload: expected a Meta webhook")
    else:
        assert stored_reason == reason
    assert mt_row(engine, "wamid.GOOD")["status"] == "delivered"
    assert mt_row(engine, "wamid.LAST")["status"] == "read"
    assert (summary.total.rejected, summary.exit_code) == (1, 1)


def test_an_undecodable_line_is_rejected_as_not_utf8(engine, tmp_path) -> None:
    path = tmp_path / "bytes.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b"\n" + b'{"message": "caf\xe9"}\n')
    load(engine, path)
    assert rejects(engine) == [("bytes.jsonl", 2, "not UTF-8")]
    assert mt_row(engine, "wamid.GOOD") is not None


def test_one_bad_status_in_a_webhook_does_not_lose_the_others(engine, tmp_path) -> None:
    webhook = meta_webhook(statuses=[
        {"id": "wamid.A", "status": "sent", "timestamp": "1750000000", "recipient_id": WA_ID},
        {"status": "sent", "timestamp": "1750000000"},
    ])
    summary = load_records(engine, tmp_path, webhook)
    assert rejects(engine) == [("input-0.jsonl", 1, "entry[0].changes[0].statuses[1]: missing id")]
    assert mt_row(engine, "wamid.A")["status"] == "sent"
    total = summary.total
    assert (total.read, total.accepted, total.rejected, total.rejected_parts, summary.exit_code) == (1, 1, 0, 1, 1)


# -- CSV ------------------------------------------------------------------------------------------


def test_csv_send_log_with_quoted_newlines_and_semicolons(engine, tmp_path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "message_id;sent_at;phone;campaign;content_type;message;sent_with_session;user\n"
        'm1;2025-06-15T15:06:40Z;+5511987654321;Junho;template;"Olá;\nlinha 2 ""citada""";true;ana\n'
        "m2;2025-06-15T15:06:40Z;5511987654321;Junho;text;oi;;\n"
        "m3;2025-06-15T15:06:40Z;+5511987654322;Junho\n"
        "m4;2025-06-15T15:06:40+00:00;+5511987654323;;;;false;\n",
        encoding="utf-8",
    )
    summary = load(engine, path)
    row = mt_row(engine, "m1")
    assert (row["message"], row["sent_with_session"], row["user_name"], row["content_type"], row["source"]) == (
        'Olá;\nlinha 2 "citada"', True, "ana", "template", "send_log"
    )
    assert (mt_row(engine, "m4")["content_type"], mt_row(engine, "m4")["sent_with_session"]) == ("other", False)
    assert rejects(engine) == [
        ("log.csv", 4, "phone '5511987654321' is not E.164 (+ and 8 to 15 digits, e.g. +5511987654321)"),
        ("log.csv", 5, "CSV row has 4 fields, the header has 8"),
    ]
    send_logs, unreadable = summary.of("send_log"), summary.of("unknown")
    assert (send_logs.accepted, send_logs.rejected, unreadable.rejected) == (2, 1, 1)


def test_csv_without_the_required_columns_rejects_every_line(engine, tmp_path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("id,when,to\n1,2,3\n", encoding="utf-8")
    summary = load(engine, path)
    assert rejects(engine) == [
        ("wrong.csv", 1, "CSV header lacks message_id, sent_at, phone: a send log needs message_id, sent_at, phone"),
        ("wrong.csv", 2, "broken JSON: Extra data (line 2, column 2)"),
    ]
    assert (summary.total.read, summary.total.rejected) == (2, 2)


def test_csv_header_lacking_a_required_column_rejects_each_row(engine, tmp_path) -> None:
    path = tmp_path / "partial.csv"
    path.write_text("message_id;phone\nm1;+5511987654321\nm2;+5511987654322\n", encoding="utf-8")
    summary = load(engine, path)
    assert rejects(engine) == [
        ("partial.csv", 1, "CSV header lacks sent_at: a send log needs message_id, sent_at, phone"),
        ("partial.csv", 2, "the CSV header (line 1) lacks sent_at"),
        ("partial.csv", 3, "the CSV header (line 1) lacks sent_at"),
    ]
    assert (summary.total.read, summary.total.rejected) == (3, 3)


# -- JSON shapes --------------------------------------------------------------------------------


def test_json_shapes_pretty_documents_arrays_crlf_bom_and_blank_lines(engine, tmp_path) -> None:
    pretty = json.dumps(meta_status("wamid.P", "sent", 1), indent=2)
    array = json.dumps([send_log("wamid.Q", 0), meta_status("wamid.Q", "delivered", 5)], indent=1)
    path = tmp_path / "shapes.json"
    text = "\ufeff" + pretty + "\n\n" + array + "\n" + json.dumps(meta_status("wamid.R", "read", 9)) + "\n"
    path.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    summary = load(engine, path)
    assert (summary.total.accepted, summary.total.rejected) == (4, 0)
    assert [mt_row(engine, m)["status"] for m in ("wamid.P", "wamid.Q", "wamid.R")] == ["sent", "delivered", "read"]
    assert mt_row(engine, "wamid.Q")["has_send_log"] is True


def test_a_broken_document_is_one_reject_and_the_next_record_loads(engine, tmp_path) -> None:
    path = tmp_path / "docs.json"
    path.write_text('{\n  "object": "whatsapp_business_account",\n  "entry": [,]\n}\n' + json.dumps(GOOD) + "\n")
    load(engine, path)
    assert rejects(engine) == [("docs.json", 1, "broken JSON: Expecting value (line 3, column 13)")]
    assert mt_row(engine, "wamid.GOOD")["status"] == "delivered"


# -- hostile text ---------------------------------------------------------------------------------

HOSTILE = {
    "subaccount": "Robert'); DROP TABLE mt_message;--",
    "user": '=HYPERLINK("http://evil.example","clique")',
    "campaign": "<script>alert('x')</script><b>Promo</b>",
    "correlation_id": "+SUM(1,1)\t\r@evil",
    "message": "🎉👍🏽 Ação ñ ü 中文 " + "x" * 10_000,
    "template_name": "\u202eevil\u200b",
}


def test_hostile_text_is_stored_verbatim_from_json(engine, tmp_path) -> None:
    load_records(
        engine,
        tmp_path,
        send_log("m1", 0, content_type="template", **HOSTILE),
        meta_text("mo1", 60, HOSTILE["message"] + HOSTILE["subaccount"]),
    )
    row = mt_row(engine, "m1")
    assert (row["subaccount"], row["user_name"], row["campaign"], row["correlation_id"], row["message"],
            row["template_name"]) == tuple(HOSTILE.values())
    assert mo_row(engine, "mo1")["message"] == HOSTILE["message"] + HOSTILE["subaccount"]
    assert mo_row(engine, "mo1")["campaign"] == HOSTILE["campaign"]  # attributed from the MT
    assert len(table_rows(engine, mt_message)) == 1


def test_hostile_text_is_stored_verbatim_from_csv(engine, tmp_path) -> None:
    path = tmp_path / "hostile.csv"
    header = ["message_id", "sent_at", "phone", *HOSTILE]
    values = ["m1", "2025-06-15T15:06:40Z", PHONE, *HOSTILE.values()]
    quoted = ",".join('"' + v.replace('"', '""') + '"' for v in values)
    path.write_text(",".join(header) + "\n" + quoted + "\n", encoding="utf-8")
    assert load(engine, path).exit_code == 0
    row = mt_row(engine, "m1")
    assert (row["subaccount"], row["user_name"], row["campaign"], row["correlation_id"], row["message"],
            row["template_name"]) == tuple(HOSTILE.values())


# -- idempotence -------------------------------------------------------------------------------


def snapshot(engine) -> dict:
    tables = (mt_message, mo_message, mt_event, mt_send_log)
    with engine.connect() as conn:
        bodies = sorted(conn.execute(sa.select(raw_payload.c.payload_id, raw_payload.c.body)).all())
        reasons = sorted(conn.execute(sa.select(rejected_record.c.reject_id, rejected_record.c.reason)).all())
        version = data_version.current(conn)
    return {"rows": {t.name: table_rows(engine, t) for t in tables}, "raw": bodies, "rejects": reasons,
            "version": version}


def test_loading_the_same_file_again_changes_nothing(engine, tmp_path) -> None:
    path = write_lines(
        tmp_path / "day.jsonl",
        send_log("wamid.A", 0, campaign="junho", content_type="template"),
        meta_status("wamid.A", "sent", 1),
        meta_status("wamid.A", "read", 30),
        meta_text("wamid.MO", 60, "Obrigado 🙏"),
        '{"broken": ',
        meta_status("wamid.A", "sent", 1),  # the same webhook delivered twice
    )
    first = load(engine, path)
    before = snapshot(engine)
    second = load(engine, path)
    assert snapshot(engine) == before
    assert (first.total.accepted, first.total.duplicates, first.total.rejected, first.total.events) == (4, 1, 1, 4)
    assert (second.total.accepted, second.total.duplicates, second.total.rejected, second.total.events) == (0, 5, 1, 0)
    assert first.exit_code == second.exit_code == 1


def test_the_same_status_inside_different_webhooks_is_stored_once(engine, tmp_path) -> None:
    status = {"id": "wamid.A", "status": "delivered", "timestamp": "1750000010", "recipient_id": WA_ID}
    other = {"id": "wamid.B", "status": "sent", "timestamp": "1750000000", "recipient_id": WA_ID}
    load_records(engine, tmp_path, meta_webhook(statuses=[status]))
    load_records(engine, tmp_path, meta_webhook(statuses=[status, other]))
    assert sorted((r["message_id"], r["status"]) for r in table_rows(engine, mt_event)) == [
        ("wamid.A", "delivered"), ("wamid.B", "sent")
    ]
    assert mt_row(engine, "wamid.A")["status_at"] == at(10)


def test_two_different_send_logs_for_one_message_give_the_same_row_in_either_order(engine, tmp_path) -> None:
    one = send_log("wamid.A", 0, campaign="first")
    two = send_log("wamid.A", 0, campaign="second")
    forward, backward = rows_by_order(engine, tmp_path, [[one, two], [two, one]], lambda: mt_row(engine, "wamid.A"))
    assert forward == backward
    assert forward["campaign"] in ("first", "second")
