"""The public provider payloads, verbatim, each loaded alone into an empty database and ending in
the row it must give (every column checked), on DuckDB and PostgreSQL."""
import hashlib
import json

import pytest

from tests.test_ingest_support import (
    MO_NONE,
    MT_NONE,
    PUBLIC,
    PUBLIC_SHA256,
    load,
    load_records,
    mo_row,
    mt_row,
    payload_bodies,
    rejects,
    utc,
)

META_SENT_ID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="
META_FAILED_ID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2MjA4NEYyRkExNjMyREUA"
META_CONTEXT_ID = "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA="
LATAM_MT_ID = "8995c40f-1c3a-48d0-98ee-bbc603622a91"
LATAM_MO_ID = "ce425ffe-bc62-421f-9261-e6819a5eab43"
LEGACY_ID = "01DPNXZ0WCF9XD19MH84XD0P62"
LEGACY_CONTEXT_ID = "01E7Q9AVTRB5A30JD7D9ZN0HTE"
LATAM_AT = utc(2017, 12, 18, 17, 9, 31, 891000)  # "2017-12-18T17:09:31.891Z"
LATAM_MO_AT = utc(2017, 12, 18, 17, 9, 31, 473000)  # "2017-12-18T17:09:31.473Z"

MT_EXPECTED = {
    "meta_status_sent_marketing.json": {
        **MT_NONE,
        "message_id": META_SENT_ID,
        "sent_at": utc(2025, 6, 15, 23, 27, 53),  # 1750030073
        "status": "sent",
        "status_raw": "sent",
        "status_at": utc(2025, 6, 15, 23, 27, 53),
        "phone": "+16505551234",
        "wa_user_id": "16505551234",
        "content_type": "other",
        "conversation_id": "72b14d6bd5407799e66f64d1b338e567",
        "conversation_type": "business_initiated",
        "conversation_type_raw": "marketing",
        "conversation_expires_at": utc(2025, 6, 16, 23, 28, 0),  # 1750116480
        "pricing_category": "marketing",
        "pricing_type": "regular",
        "source": "meta",
        "has_send_log": False,
    },
    "meta_status_failed_131049.json": {
        **MT_NONE,
        "message_id": META_FAILED_ID,
        "sent_at": utc(2025, 6, 28, 20, 34, 48),  # 1751142888
        "status": "undelivered",  # 131049 in catalog.META_ERROR_STATUS
        "status_raw": "failed",
        "status_at": utc(2025, 6, 28, 20, 34, 48),
        "failed_at": utc(2025, 6, 28, 20, 34, 48),
        "error_code": "131049",
        "error_title": "This message was not delivered to maintain healthy ecosystem engagement.",
        "error_detail": "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
        "phone": "+16505551234",
        "wa_user_id": "16505551234",
        "content_type": "other",
        "source": "meta",
        "has_send_log": False,
    },
    "sinch_messaging_wa_status_callback.json": {
        **MT_NONE,
        "message_id": LATAM_MT_ID,
        "sent_at": LATAM_AT,
        "status": "read",
        "status_raw": "READ_SUCCESS",
        "status_at": LATAM_AT,
        "delivered_at": LATAM_AT,
        "read_at": LATAM_AT,
        "phone": "+5411900000000",
        "wa_user_id": "5411900000000",
        "subaccount": "1291",
        "user_name": "1",
        "campaign": "...",
        "correlation_id": "...",
        "content_type": "other",
        "source": "sinch_latam",
        "has_send_log": False,
    },
    "sinch_wa_api_dr_delivered.json": {
        **MT_NONE,
        "message_id": LEGACY_ID,
        "sent_at": utc(2020, 5, 2, 18, 40, 42),
        "status": "delivered",
        "status_raw": "delivered",
        "status_at": utc(2020, 5, 2, 18, 40, 42),
        "delivered_at": utc(2020, 5, 2, 18, 40, 42),
        "phone": "+46732001122",
        "wa_user_id": "46732001122",
        "content_type": "other",
        "source": "sinch_legacy",
        "has_send_log": False,
    },
    "sinch_wa_api_dr_sent_with_conversation.json": {
        **MT_NONE,
        "message_id": LEGACY_ID,
        "sent_at": utc(2022, 1, 2, 18, 40, 42),
        "status": "sent",
        "status_raw": "sent",
        "status_at": utc(2022, 1, 2, 18, 40, 42),
        "phone": "+46732001122",
        "wa_user_id": "46732001122",
        "content_type": "other",
        "conversation_id": "06209994d9d7f3b595f05891dfd66cad",
        "conversation_type": "user_initiated",
        "conversation_type_raw": "user_initiated",
        "conversation_expires_at": utc(2022, 1, 22, 13, 35, 0),  # 1642858500
        "pricing_category": "user_initiated",
        "source": "sinch_legacy",
        "has_send_log": False,
    },
}

MO_EXPECTED = {
    "meta_button_quick_reply.json": {
        **MO_NONE,
        "message_id": META_SENT_ID,
        "received_at": utc(2025, 6, 16, 16, 24, 5),  # 1750091045
        "phone": "+16505551234",
        "wa_user_id": "16505551234",
        "profile_name": "Sheena Nelson",
        "in_reply_to": META_CONTEXT_ID,
        "context_id": META_CONTEXT_ID,
        "attribution": "context",
        "content_type": "button",
        "message": "Unsubscribe",
        "button_payload": "Unsubscribe",
        "button_text": "Unsubscribe",
        "source": "meta",
        "business_number": "15550783881",  # metadata.display_phone_number
    },
    "sinch_messaging_wa_mo_text.json": {
        **MO_NONE,
        "message_id": LATAM_MO_ID,
        "received_at": LATAM_MO_AT,
        "phone": "+5519900000000",
        "wa_user_id": "5519900000000",
        "profile_name": "nome do usuário",
        "content_type": "text",
        "message": "Olá, essa é uma mensagem do usuário.",
        "source": "sinch_latam",
    },
    "sinch_messaging_wa_mo_image.json": {
        **MO_NONE,
        "message_id": LATAM_MO_ID,
        "received_at": LATAM_MO_AT,
        "phone": "+5519900000000",
        "wa_user_id": "5519900000000",
        "profile_name": "username",
        "content_type": "image",
        "message": "...",
        "source": "sinch_latam",
    },
    "sinch_messaging_wa_mo_location.json": {
        **MO_NONE,
        "message_id": LATAM_MO_ID,
        "received_at": LATAM_MO_AT,
        "phone": "+5519900000000",
        "wa_user_id": "5519900000000",
        "profile_name": "username",
        "content_type": "location",
        "message": "Wavy, Av. Cel. Silva Telles (-22.894180,-47.047960)",
        "source": "sinch_latam",
    },
    "sinch_messaging_wa_mo_contacts.json": {
        **MO_NONE,
        "message_id": LATAM_MO_ID,
        "received_at": LATAM_MO_AT,
        "phone": "+5519900000000",
        "wa_user_id": "5519900000000",
        "profile_name": "username",
        "content_type": "contacts",
        "message": "John Smith",
        "source": "sinch_latam",
    },
    "sinch_wa_api_button_reply.json": {
        **MO_NONE,
        "message_id": LEGACY_ID,
        "received_at": utc(2020, 5, 7, 10, 2, 10),
        "wa_user_id": "0732001122",  # not E.164: no phone, matched by WhatsApp id
        "in_reply_to": LEGACY_CONTEXT_ID,
        "context_id": LEGACY_CONTEXT_ID,
        "attribution": "context",
        "content_type": "button",
        "message": "Option 3",
        "button_payload": "some_payload",
        "button_text": "Option 3",
        "source": "sinch_legacy",
        "business_number": "sinchbot",  # the notification's "to"
    },
    "sinch_wa_api_mo_text.json": {
        **MO_NONE,
        "message_id": LEGACY_ID,
        "received_at": utc(2020, 5, 2, 19, 48, 42),
        "wa_user_id": "0732001122",
        "profile_name": "John Smith",
        "content_type": "text",
        "message": "Hello bot I want to know something!",
        "source": "sinch_legacy",
        "business_number": "sinchbot",
    },
}

BROKEN = {
    # the published example has unquoted placeholders: the first is line 12, column 39
    "meta_interactive_button_reply.VERBATIM.txt": "broken JSON: Expecting value (line 12, column 39)",
    # the published example has a // comment on line 5
    "meta_template_analytics_response.VERBATIM.txt": (
        "broken JSON: Expecting property name enclosed in double quotes (line 5, column 36)"
    ),
}


def test_embedded_copies_are_the_published_files() -> None:
    assert set(PUBLIC) == set(MT_EXPECTED) | set(MO_EXPECTED) | set(BROKEN)
    for name, text in PUBLIC.items():
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == PUBLIC_SHA256[name], name


@pytest.mark.parametrize("name", sorted(MT_EXPECTED))
def test_status_payload_gives_its_mt_row(engine, tmp_path, name) -> None:
    path = tmp_path / name
    path.write_text(PUBLIC[name], encoding="utf-8")
    summary = load(engine, path)
    expected = MT_EXPECTED[name]
    assert mt_row(engine, expected["message_id"]) == expected
    assert (summary.total.accepted, summary.total.rejected, summary.exit_code) == (1, 0, 0)
    body = PUBLIC[name].strip()  # the document as read, without the file's final newline
    assert payload_bodies(engine) == [(hashlib.sha256(body.encode()).hexdigest(), body)]


@pytest.mark.parametrize("name", sorted(MO_EXPECTED))
def test_inbound_payload_gives_its_mo_row(engine, tmp_path, name) -> None:
    path = tmp_path / name
    path.write_text(PUBLIC[name], encoding="utf-8")
    summary = load(engine, path)
    expected = MO_EXPECTED[name]
    assert mo_row(engine, expected["message_id"]) == expected
    assert (summary.total.accepted, summary.total.events, summary.exit_code) == (1, 1, 0)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_published_invalid_json_is_rejected_with_its_position(engine, tmp_path, name) -> None:
    path = tmp_path / name
    path.write_text(PUBLIC[name], encoding="utf-8")
    summary = load(engine, path)
    assert rejects(engine) == [(name, 1, BROKEN[name])]
    assert (summary.total.accepted, summary.total.rejected, summary.exit_code) == (0, 1, 1)
    assert payload_bodies(engine) == []


def test_interactive_button_reply_with_its_placeholders_filled_in(engine, tmp_path) -> None:
    text = (
        PUBLIC["meta_interactive_button_reply.VERBATIM.txt"]
        .replace('"phone_number_id": PHONE_NUMBER_ID,', '"phone_number_id": "106540352242922"')
        .replace('"from": PHONE_NUMBER_ID,', '"from": "5511987654321",')
        .replace('"timestamp": TIMESTAMP,', '"timestamp": "1750091045",')
        .replace('"title": "button-text",', '"title": "button-text"')
    )
    path = tmp_path / "interactive.json"
    path.write_text(text, encoding="utf-8")
    assert load(engine, path).exit_code == 0
    assert mo_row(engine, "wamid.ID") == {
        **MO_NONE,
        "message_id": "wamid.ID",
        "received_at": utc(2025, 6, 16, 16, 24, 5),
        "phone": "+5511987654321",
        "wa_user_id": "PHONE_NUMBER_ID",  # the contact's wa_id, as published
        "profile_name": "NAME",
        "content_type": "interactive",
        "message": "button-text",
        "button_payload": "unique-button-identifier-here",
        "button_text": "button-text",
        "source": "meta",
        "business_number": "PHONE_NUMBER",  # metadata.display_phone_number, as published
    }


def test_analytics_response_without_its_comment_is_an_unrecognised_payload(engine, tmp_path) -> None:
    text = PUBLIC["meta_template_analytics_response.VERBATIM.txt"].replace(
        " // Only available to businesses in the Marketing Messages API for WhatsApp alpha", ""
    )
    path = tmp_path / "analytics.json"
    path.write_text(text, encoding="utf-8")
    load(engine, path)
    [(file, line, reason)] = rejects(engine)
    assert (file, line) == ("analytics.json", 1)
    assert reason.startswith("unrecognised payload: expected a Meta webhook")


@pytest.mark.parametrize("delivered_first", [True, False])
def test_the_two_legacy_reports_of_one_message_in_either_order(engine, tmp_path, delivered_first) -> None:
    delivered = json.loads(PUBLIC["sinch_wa_api_dr_delivered.json"])
    sent = json.loads(PUBLIC["sinch_wa_api_dr_sent_with_conversation.json"])
    for payload in (delivered, sent) if delivered_first else (sent, delivered):
        load_records(engine, tmp_path, payload)
    # The conversation of the "sent" report stays: the "delivered" one has none to replace it with.
    assert mt_row(engine, LEGACY_ID) == {
        **MT_EXPECTED["sinch_wa_api_dr_sent_with_conversation.json"],
        "sent_at": utc(2020, 5, 2, 18, 40, 42),  # the earliest event time, as no send log came
        "status": "delivered",
        "status_raw": "delivered",
        "status_at": utc(2020, 5, 2, 18, 40, 42),
        "delivered_at": utc(2020, 5, 2, 18, 40, 42),
    }


def test_reply_loaded_before_the_mt_it_answers_is_attributed_when_the_send_log_comes(engine, tmp_path) -> None:
    path = tmp_path / "click.json"
    path.write_text(PUBLIC["meta_button_quick_reply.json"], encoding="utf-8")
    load(engine, path)
    load_records(
        engine,
        tmp_path,
        {
            "message_id": META_CONTEXT_ID,
            "sent_at": "2025-06-16T12:00:00Z",
            "phone": "+16505551234",
            "subaccount": "Varejo",
            "user": "ana",
            "campaign": "Junho",
            "content_type": "template",
            "template_name": "promo_junho",
        },
    )
    assert mo_row(engine, META_SENT_ID) == {
        **MO_EXPECTED["meta_button_quick_reply.json"],
        "subaccount": "Varejo",
        "user_name": "ana",
        "campaign": "Junho",
        "template_name": "promo_junho",
    }
