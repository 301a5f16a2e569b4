"""Status precedence, the provider code tables and MO attribution (SPEC section 2), on both engines.

Where order matters, every arrival order of the same payloads is loaded into emptied tables and
must give the one expected row.
"""
from itertools import permutations

import pytest

from tests.test_ingest_support import (
    MO_NONE,
    MT_NONE,
    PHONE,
    WA_ID,
    at,
    load_records,
    meta_failed,
    meta_status,
    meta_text,
    meta_webhook,
    mo_row,
    mt_row,
    rows_by_order,
    send_log,
    unanswered_flags,
    utc,
)

MT = "wamid.MT1"
META_ROW = {
    **MT_NONE, "message_id": MT, "phone": PHONE, "wa_user_id": WA_ID, "content_type": "other", "source": "meta",
    "has_send_log": False,
}


def every_order(engine, tmp_path, *payloads) -> list[dict]:
    orders = [list(order) for order in permutations(payloads)]
    return rows_by_order(engine, tmp_path, orders, lambda: mt_row(engine, MT))


# -- precedence ---------------------------------------------------------------------------------


def test_read_before_delivered_in_any_order(engine, tmp_path) -> None:
    rows = every_order(
        engine, tmp_path, meta_status(MT, "sent", 1), meta_status(MT, "delivered", 10), meta_status(MT, "read", 20)
    )
    expected = {
        **META_ROW,
        "sent_at": at(1),  # provisional: the earliest event, no send log yet
        "status": "read",
        "status_raw": "read",
        "status_at": at(20),
        "delivered_at": at(10),
        "read_at": at(20),
    }
    assert rows == [expected] * 6


def test_read_without_delivered_counts_as_delivered(engine, tmp_path) -> None:
    rows = every_order(engine, tmp_path, meta_status(MT, "sent", 1), meta_status(MT, "read", 20))
    expected = {
        **META_ROW, "sent_at": at(1), "status": "read", "status_raw": "read", "status_at": at(20),
        "delivered_at": at(20), "read_at": at(20),
    }
    assert rows == [expected] * 2


def test_played_voice_message_counts_as_read(engine, tmp_path) -> None:
    [row] = every_order(engine, tmp_path, meta_status(MT, "played", 30))
    assert (row["status"], row["status_raw"], row["read_at"], row["delivered_at"]) == ("read", "played", at(30), at(30))


def test_failure_after_sent(engine, tmp_path) -> None:
    rows = every_order(
        engine, tmp_path, meta_status(MT, "sent", 1), meta_failed(MT, 5, 131047, "Re-engagement message", "24 h passed")
    )
    expected = {
        **META_ROW,
        "sent_at": at(1),
        "status": "invalid_session",
        "status_raw": "failed",
        "status_at": at(5),
        "failed_at": at(5),
        "error_code": "131047",
        "error_title": "Re-engagement message",
        "error_detail": "24 h passed",
    }
    assert rows == [expected] * 2


def test_failure_beats_an_earlier_delivered(engine, tmp_path) -> None:
    rows = every_order(engine, tmp_path, meta_status(MT, "delivered", 10), meta_failed(MT, 30, 131026))
    expected = {
        **META_ROW,
        "sent_at": at(10),
        "status": "undelivered",
        "status_raw": "failed",
        "status_at": at(30),
        "delivered_at": at(10),
        "failed_at": at(30),
        "error_code": "131026",
        "error_title": "Failure",
        "error_detail": "Details",
    }
    assert rows == [expected] * 2


def test_read_beats_a_failure_and_the_failure_data_is_kept(engine, tmp_path) -> None:
    rows = every_order(engine, tmp_path, meta_failed(MT, 5, 131050), meta_status(MT, "read", 20))
    expected = {
        **META_ROW,
        "sent_at": at(5),
        "status": "read",
        "status_raw": "read",
        "status_at": at(20),
        "delivered_at": at(20),
        "read_at": at(20),
        "failed_at": at(5),
        "error_code": "131050",
        "error_title": "Failure",
        "error_detail": "Details",
    }
    assert rows == [expected] * 2


def test_two_failures_the_earlier_provider_timestamp_wins(engine, tmp_path) -> None:
    rows = every_order(engine, tmp_path, meta_failed(MT, 30, 131047, "Later"), meta_failed(MT, 5, 131026, "Earlier"))
    assert {(r["status"], r["status_at"], r["failed_at"], r["error_code"], r["error_title"]) for r in rows} == {
        ("undelivered", at(5), at(5), "131026", "Earlier")
    }


@pytest.mark.parametrize(
    ("codes", "status", "code"),
    [
        ((131047, 131026), "undelivered", "131026"),
        ((131000, 99999), "undelivered", "99999"),  # numeric order: 99999 < 131000 (not as text)
        ((132012, 131008), "invalid_parameter", "131008"),
    ],
)
def test_two_failures_at_the_same_time_the_lower_code_wins(engine, tmp_path, codes, status, code) -> None:
    rows = every_order(engine, tmp_path, *(meta_failed(MT, 5, c, f"title {c}") for c in codes))
    assert {(r["status"], r["error_code"], r["error_title"]) for r in rows} == {(status, code, f"title {code}")}


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (131047, "invalid_session"),
        (131050, "opt_out"),
        (131026, "undelivered"),
        (131049, "undelivered"),
        (130472, "undelivered"),
        (132000, "invalid_content"),
        (132016, "invalid_content"),
        (131008, "invalid_parameter"),
        (131009, "invalid_parameter"),
        (131000, "internal_error"),
        (131016, "internal_error"),
        (135000, "undelivered"),  # not in the table: undelivered, raw code kept
    ],
)
def test_meta_error_codes_map_through_the_catalogue(engine, tmp_path, code, status) -> None:
    load_records(engine, tmp_path, meta_failed(MT, 5, code))
    row = mt_row(engine, MT)
    assert (row["status"], row["error_code"]) == (status, str(code))


def test_a_failure_without_errors_is_undelivered(engine, tmp_path) -> None:
    load_records(engine, tmp_path, meta_status(MT, "failed", 5))
    row = mt_row(engine, MT)
    assert (row["status"], row["error_code"], row["failed_at"]) == ("undelivered", None, at(5))


# -- send log and provisional rows -------------------------------------------------------------

LOG = send_log(
    MT,
    -400,
    wa_user_id=None,
    subaccount="Varejo SP",
    user="ana.souza",
    campaign="Black Friday",
    content_type="template",
    template_name="promo_bf",
    message="Olá! Ofertas 🛍️",
    sent_with_session=False,
    correlation_id="pedido-1",
)


def test_status_before_its_send_log_creates_a_provisional_row(engine, tmp_path) -> None:
    load_records(engine, tmp_path, meta_status(MT, "delivered", 10))
    assert mt_row(engine, MT) == {
        **META_ROW, "sent_at": at(10), "status": "delivered", "status_raw": "delivered", "status_at": at(10),
        "delivered_at": at(10),
    }


def test_the_send_log_fills_the_row_whatever_came_first(engine, tmp_path) -> None:
    rows = every_order(engine, tmp_path, LOG, meta_status(MT, "delivered", 10), meta_status(MT, "sent", 2))
    expected = {
        **MT_NONE,
        "message_id": MT,
        "sent_at": at(-400),
        "status": "delivered",
        "status_raw": "delivered",
        "status_at": at(10),
        "delivered_at": at(10),
        "phone": PHONE,
        "wa_user_id": WA_ID,  # from the status: the send log had none
        "subaccount": "Varejo SP",
        "user_name": "ana.souza",
        "campaign": "Black Friday",
        "content_type": "template",
        "template_name": "promo_bf",
        "message": "Olá! Ofertas 🛍️",
        "sent_with_session": False,
        "correlation_id": "pedido-1",
        "source": "send_log",
        "has_send_log": True,
    }
    assert rows == [expected] * 6


@pytest.mark.parametrize("status", ["tier_limit", "warmup_blocked"])
def test_platform_side_failures_come_from_the_send_log(engine, tmp_path, status) -> None:
    load_records(
        engine,
        tmp_path,
        send_log(MT, 0, status=status, status_at="2025-06-15T15:06:41Z", error_code="P-1", error_title="held"),
    )
    row = mt_row(engine, MT)
    assert (row["status"], row["status_at"], row["failed_at"], row["error_code"], row["error_title"]) == (
        status, at(1), at(1), "P-1", "held"
    )


def test_send_log_with_its_own_delivery_and_read_times(engine, tmp_path) -> None:
    load_records(
        engine,
        tmp_path,
        send_log(MT, 0, status="read", delivered_at="2025-06-15T15:07:00Z", read_at="2025-06-15T15:08:00Z"),
    )
    row = mt_row(engine, MT)
    assert (row["status"], row["status_at"], row["delivered_at"], row["read_at"]) == ("read", at(80), at(20), at(80))


# -- conversation and pricing --------------------------------------------------------------------

CONVERSATION = {"id": "conv-1", "expiration_timestamp": "1750086400", "origin": {"type": "marketing"}}
PRICING = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}


def test_conversation_and_pricing_are_never_replaced_by_missing_values(engine, tmp_path) -> None:
    rows = every_order(
        engine,
        tmp_path,
        meta_status(MT, "sent", 1, conversation=CONVERSATION, pricing=PRICING),
        meta_status(MT, "delivered", 10),
        meta_status(MT, "read", 20, pricing=PRICING),
    )
    assert {
        (r["conversation_id"], r["conversation_type"], r["conversation_type_raw"], r["conversation_expires_at"],
         r["pricing_category"], r["pricing_type"])
        for r in rows
    } == {("conv-1", "business_initiated", "marketing", utc(2025, 6, 16, 15, 6, 40), "marketing", "regular")}


@pytest.mark.parametrize(
    ("origin", "conversation_type"),
    [
        ("marketing", "business_initiated"),
        ("marketing_lite", "business_initiated"),
        ("utility", "business_initiated"),
        ("authentication", "business_initiated"),
        ("authentication_international", "business_initiated"),
        ("business_initiated", "business_initiated"),
        ("service", "user_initiated"),
        ("user_initiated", "user_initiated"),
        ("referral_conversion", "free_entry_point"),
        ("free_entry_point", "free_entry_point"),
        ("something_new", None),
    ],
)
def test_conversation_origin_maps_to_the_three_types_keeping_the_raw_value(
    engine, tmp_path, origin, conversation_type
) -> None:
    load_records(engine, tmp_path, meta_status(MT, "sent", 1, conversation={"id": "c", "origin": {"type": origin}}))
    row = mt_row(engine, MT)
    assert (row["conversation_type"], row["conversation_type_raw"]) == (conversation_type, origin)


# -- Sinch code tables -------------------------------------------------------------------------


def latam(**item) -> dict:
    return {"total": 1, "data": [{"id": MT, "destination": WA_ID, "correlationId": "c-1", **item}],
            "clientInfo": {"customerId": 42, "subAccountId": 7, "userId": 9}}


@pytest.mark.parametrize(
    ("item", "status", "status_raw", "error_code", "error_title"),
    [
        (dict(sent=True, sentStatusCode=2, sentStatus="SENT_SUCCESS", delivered=False, deliveredStatusCode=104,
              deliveredStatus="NOT_DELIVERED"), "undelivered", "NOT_DELIVERED", "104", "NOT_DELIVERED"),
        (dict(sent=True, sentStatusCode=2, deliveredStatusCode=101), "ttl_expired", "EXPIRED", "101", "EXPIRED"),
        (dict(sent=False, sentStatusCode=102, sentStatus="CARRIER_COMMUNICATION_ERROR"), "carrier_failure",
         "CARRIER_COMMUNICATION_ERROR", "102", "CARRIER_COMMUNICATION_ERROR"),
        (dict(sent=False, sentStatusCode=103), "carrier_rejected", "REJECTED_BY_CARRIER", "103", "REJECTED_BY_CARRIER"),
        (dict(sent=False, sentStatusCode=202), "invalid_number", "INVALID_DESTINATION_NUMBER", "202",
         "INVALID_DESTINATION_NUMBER"),
        (dict(sent=False, sentStatus="DESTINATION_BLOCKED_BY_OPTOUT"), "opt_out", "DESTINATION_BLOCKED_BY_OPTOUT",
         "204", "DESTINATION_BLOCKED_BY_OPTOUT"),
        (dict(sent=False, sentStatusCode=209), "invalid_content", "INVALID_CONTENT", "209", "INVALID_CONTENT"),
        (dict(sent=False, sentStatusCode=210), "invalid_session", "INVALID_SESSION", "210", "INVALID_SESSION"),
        (dict(sent=False, sentStatusCode=211), "invalid_parameter", "DESTINATION_BLOCKED_BY_OPTIN", "211",
         "DESTINATION_BLOCKED_BY_OPTIN"),
        (dict(sent=False, sentStatusCode=201), "tier_limit", "NO_CREDIT", "201", "NO_CREDIT"),
        (dict(sent=False, sentStatusCode=311), "internal_error", "INTERNAL_ERROR", "311", "INTERNAL_ERROR"),
        (dict(sent=True, sentStatusCode=2, deliveredStatusCode=999, deliveredStatus="SOMETHING_NEW"), "undelivered",
         "SOMETHING_NEW", "999", "SOMETHING_NEW"),
        (dict(sent=True, sentStatusCode=2, deliveredStatusCode=4), "delivered", "DELIVERED_SUCCESS", None, None),
        (dict(sent=True, sentStatusCode=2, deliveredStatusCode=5), "read", "READ_SUCCESS", None, None),
        (dict(sent=True, sentStatusCode=2, sentStatus="SENT_SUCCESS"), "sent", "SENT_SUCCESS", None, None),
    ],
)
def test_sinch_latam_codes(engine, tmp_path, item, status, status_raw, error_code, error_title) -> None:
    dates = {"sentDate": "2025-06-15T15:06:41Z", "deliveredDate": "2025-06-15T15:06:50Z"}
    load_records(engine, tmp_path, latam(**dates, **item))
    row = mt_row(engine, MT)
    assert (row["status"], row["status_raw"], row["error_code"], row["error_title"]) == (
        status, status_raw, error_code, error_title
    )
    assert (row["subaccount"], row["user_name"], row["correlation_id"]) == ("7", "9", "c-1")


@pytest.mark.parametrize(
    ("state", "status", "error_detail"),
    [
        ("queued", "sent", None),
        ("dispatched", "sent", None),
        ("sent", "sent", None),
        ("delivered", "delivered", None),
        ("read", "read", None),
        ("deleted", "delivered", None),
        ("failed", "undelivered", "Message has failed"),
        ("no_opt_in", "opt_out", "Message has failed"),
        ("no_capability", "invalid_number", "Message has failed"),
    ],
)
def test_legacy_sinch_states(engine, tmp_path, state, status, error_detail) -> None:
    report = {"status": "success", "state": state, "message_id": MT, "recipient": PHONE,
              "timestamp": "2020-05-02T18:40:42Z", "details": "Message has failed"}
    load_records(engine, tmp_path, {"type": "whatsapp", "statuses": [report]})
    row = mt_row(engine, MT)
    assert (row["status"], row["status_raw"], row["status_at"], row["error_detail"]) == (
        status, state, utc(2020, 5, 2, 18, 40, 42), error_detail
    )


# -- MO attribution ----------------------------------------------------------------------------

MO = "wamid.MO1"


def campaign_log(message_id: str, seconds: int, campaign: str, phone: str = PHONE) -> dict:
    return send_log(message_id, seconds, phone=phone, subaccount="Sub", user="ana", campaign=campaign,
                    content_type="template", template_name=f"tpl_{campaign}")


def attribution(engine, mo_id: str = MO) -> tuple:
    row = mo_row(engine, mo_id)
    return row["in_reply_to"], row["attribution"], row["campaign"], row["template_name"]


def test_window_attribution_copies_the_mt_fields(engine, tmp_path) -> None:
    load_records(engine, tmp_path, campaign_log(MT, 0, "junho"), meta_text(MO, 3600, "Quero saber mais"))
    assert mo_row(engine, MO) == {
        **MO_NONE,
        "message_id": MO,
        "received_at": at(3600),
        "phone": PHONE,
        "wa_user_id": WA_ID,
        "profile_name": "Cliente",
        "subaccount": "Sub",
        "user_name": "ana",
        "campaign": "junho",
        "template_name": "tpl_junho",
        "in_reply_to": MT,
        "attribution": "window",
        "content_type": "text",
        "message": "Quero saber mais",
        "source": "meta",
    }


@pytest.mark.parametrize(
    ("after_seconds", "answered"),
    [
        (0, True),  # the MO at the same instant as the MT: inside
        (24 * 3600 - 1, True),
        (24 * 3600, False),  # exactly 24 h after the MT: the window has closed
        (24 * 3600 + 1, False),
        (-1, False),  # before the MT
    ],
)
def test_the_24_hour_window_boundary(engine, tmp_path, after_seconds, answered) -> None:
    load_records(engine, tmp_path, campaign_log(MT, 0, "junho"), meta_text(MO, after_seconds, "oi"))
    expected = (MT, "window", "junho", "tpl_junho") if answered else (None, None, None, None)
    assert attribution(engine) == expected


def test_the_latest_mt_in_the_window_wins_and_ties_go_to_the_higher_id(engine, tmp_path) -> None:
    load_records(
        engine,
        tmp_path,
        campaign_log("wamid.A", 0, "first"),
        campaign_log("wamid.B", 7200, "second"),
        campaign_log("wamid.C", 7200, "third"),
        campaign_log("wamid.D", 9000, "other phone", phone="+5511900000000"),
        meta_text(MO, 10800, "oi"),
    )
    assert attribution(engine) == ("wamid.C", "window", "third", "tpl_third")


def test_a_failed_mt_still_attributes_its_replies(engine, tmp_path) -> None:
    load_records(engine, tmp_path, campaign_log(MT, 0, "junho"), meta_failed(MT, 5, 131049), meta_text(MO, 60, "?"))
    assert attribution(engine) == (MT, "window", "junho", "tpl_junho")


def test_context_beats_the_window(engine, tmp_path) -> None:
    load_records(
        engine,
        tmp_path,
        campaign_log("wamid.OLD", 0, "old"),
        campaign_log("wamid.NEW", 600, "new"),
        meta_text(MO, 900, "Sim", context_id="wamid.OLD"),
    )
    assert attribution(engine) == ("wamid.OLD", "context", "old", "tpl_old")


@pytest.mark.parametrize("context", [None, MT])
def test_mo_before_its_mt_is_attributed_when_the_mt_arrives(engine, tmp_path, context) -> None:
    load_records(engine, tmp_path, meta_text(MO, 3600, "oi", context_id=context))
    before = (MT, "context", None, None) if context else (None, None, None, None)
    assert attribution(engine) == before
    load_records(engine, tmp_path, campaign_log(MT, 0, "junho"))
    assert attribution(engine) == (MT, "context" if context else "window", "junho", "tpl_junho")


def test_attribution_follows_the_mt_when_its_send_log_moves_sent_at(engine, tmp_path) -> None:
    # The status makes a provisional MT at T0; the MO 23 h later falls in its window ...
    load_records(engine, tmp_path, meta_status(MT, "sent", 0), meta_text(MO, 23 * 3600, "oi"))
    assert attribution(engine) == (MT, "window", None, None)
    assert mt_row(engine, MT)["replied"] is True
    # ... until the send log says the MT went out 2 h earlier, 25 h before the MO.
    load_records(engine, tmp_path, campaign_log(MT, -7200, "junho"))
    assert attribution(engine) == (None, None, None, None)
    assert mt_row(engine, MT)["replied"] is False


def test_the_replied_flag_moves_with_the_attribution(engine, tmp_path) -> None:
    # The MO answers A by the window; B, sent later to the same phone, takes the reply over; C is
    # answered by context before it is known, and gets its flag when it comes.
    load_records(engine, tmp_path, campaign_log("wamid.A", 0, "a"), meta_text(MO, 3600, "oi"),
                 meta_text("wamid.MO2", 7200, "sim", context_id="wamid.C"))
    assert (mt_row(engine, "wamid.A")["replied"], mt_row(engine, "wamid.C")) == (True, None)
    load_records(engine, tmp_path, campaign_log("wamid.B", 1800, "b"), campaign_log("wamid.C", 60, "c"))
    flags = {m: mt_row(engine, m)["replied"] for m in ("wamid.A", "wamid.B", "wamid.C")}
    assert flags == {"wamid.A": False, "wamid.B": True, "wamid.C": True}
    assert unanswered_flags(engine) == []


def test_non_e164_numbers_are_matched_by_whatsapp_id(engine, tmp_path) -> None:
    report = {"status": "success", "state": "delivered", "message_id": MT, "recipient": "0732001122",
              "timestamp": "2020-05-02T18:40:42Z"}
    inbound = {"from": "0732001122", "to": "sinchbot", "message_id": MO, "timestamp": "2020-05-02T19:48:42Z",
               "message": {"type": "text", "body": "oi"}}
    load_records(
        engine, tmp_path, {"type": "whatsapp", "notifications": [inbound]}, {"type": "whatsapp", "statuses": [report]}
    )
    mt = mt_row(engine, MT)
    assert (mt["phone"], mt["wa_user_id"]) == (None, "0732001122")
    assert attribution(engine) == (MT, "window", None, None)


@pytest.mark.parametrize(
    ("message", "content_type", "text", "payload", "button"),
    [
        ({"type": "button", "button": {"payload": "YES", "text": "Sim, quero"}},
         "button", "Sim, quero", "YES", "Sim, quero"),
        ({"type": "interactive",
          "interactive": {"type": "button_reply", "button_reply": {"id": "b1", "title": "Confirmar"}}},
         "interactive", "Confirmar", "b1", "Confirmar"),
        ({"type": "interactive",
          "interactive": {"type": "list_reply", "list_reply": {"id": "r1", "title": "Plano B", "description": "d"}}},
         "interactive", "Plano B", None, None),
        ({"type": "image", "image": {"caption": "Comprovante 📎", "mime_type": "image/jpeg", "id": "1"}},
         "image", "Comprovante 📎", None, None),
        ({"type": "document", "document": {"caption": "Contrato", "filename": "c.pdf", "id": "2"}},
         "document", "Contrato", None, None),
        ({"type": "audio", "audio": {"id": "3", "voice": True}}, "audio", None, None, None),
        ({"type": "sticker", "sticker": {"id": "4"}}, "sticker", None, None, None),
        ({"type": "location",
          "location": {"latitude": -23.5613, "longitude": -46.6565, "name": "Loja", "address": "Av. Paulista, 1000"}},
         "location", "Loja, Av. Paulista, 1000 (-23.5613,-46.6565)", None, None),
        ({"type": "contacts",
          "contacts": [{"name": {"formatted_name": "Maria Silva"}}, {"name": {"first_name": "João"}}]},
         "contacts", "Maria Silva, João", None, None),
        ({"type": "unsupported", "errors": [{"code": 131051}]}, "other", None, None, None),
    ],
)
def test_meta_message_types(engine, tmp_path, message, content_type, text, payload, button) -> None:
    item = {"from": WA_ID, "id": MO, "timestamp": str(1_750_000_000), **message}
    load_records(engine, tmp_path, meta_webhook(messages=[item]))
    row = mo_row(engine, MO)
    assert (row["content_type"], row["message"], row["button_payload"], row["button_text"]) == (
        content_type, text, payload, button
    )


def test_click_to_whatsapp_referral_is_kept(engine, tmp_path) -> None:
    referral = {"source_url": "https://fb.me/x", "source_type": "ad", "source_id": "120", "headline": "Promoção"}
    item = {"from": WA_ID, "id": MO, "timestamp": "1750000000", "type": "text", "text": {"body": "oi"},
            "referral": referral}
    load_records(engine, tmp_path, meta_webhook(messages=[item]))
    assert mo_row(engine, MO)["referral"] == (
        '{"source_url": "https://fb.me/x", "source_type": "ad", "source_id": "120", "headline": "Promoção"}'
    )
