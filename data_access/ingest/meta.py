"""WhatsApp Cloud API (Meta) webhooks: `{"object": "whatsapp_business_account", "entry": [...]}`.

Each `entry[].changes[].value` may carry `statuses` (sent, delivered, read, played, failed with
`errors[]`, plus `conversation` and `pricing` when Meta sends them) and `messages` (MOs, with the
senders' profiles in `contacts`). `played` (a voice message listened to) counts as read; a failure's
status comes from its error code through `catalog.META_ERROR_STATUS`.
"""
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from data_access.catalog import meta_error_status
from data_access.ingest.events import (
    META,
    InboundMessage,
    Rejection,
    StatusEvent,
    Unusable,
    as_dict,
    as_list,
    contacts_text,
    conversation_type,
    lat_long,
    location_text,
    optional_timestamp,
    referral_json,
    required_id,
    sender_contact,
    text,
    timestamp,
    webhook_number,
)
from data_access.scope import business_number_key

PROGRESS_STATUS: dict[str, str] = {"sent": "sent", "delivered": "delivered", "read": "read", "played": "read"}
MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})
# Every change of a webhook names its business number, and a deployment has a few: each is cleaned once.
_business_number = lru_cache(maxsize=1024)(business_number_key)


def looks_like(payload: Mapping[str, Any]) -> bool:
    return payload.get("object") == "whatsapp_business_account"


def parse(payload: Mapping[str, Any]) -> Iterator[StatusEvent | InboundMessage | Rejection]:
    """Every status and message of the webhook; a bad one is rejected alone."""
    found = False
    fields = set()
    for e, entry in enumerate(as_list(payload.get("entry"))):
        for c, change in enumerate(as_list(as_dict(entry).get("changes"))):
            change = as_dict(change)
            fields.add(text(change.get("field")) or "?")
            value = as_dict(change.get("value"))
            for i, item in enumerate(as_list(value.get("statuses"))):
                found = True
                try:
                    yield _status(as_dict(item))
                except Unusable as exc:
                    yield Rejection(f"entry[{e}].changes[{c}].statuses[{i}]: {exc}")
            messages = as_list(value.get("messages"))
            contacts = [as_dict(contact) for contact in as_list(value.get("contacts"))] if messages else []
            business = _business_number(text(as_dict(value.get("metadata")).get("display_phone_number")))
            for i, item in enumerate(messages):
                found = True
                try:
                    yield _message(as_dict(item), contacts)._replace(business_number=business)
                except Unusable as exc:
                    yield Rejection(f"entry[{e}].changes[{c}].messages[{i}]: {exc}")
    if not found:
        yield Rejection(f"Meta webhook without statuses or messages (fields: {', '.join(sorted(fields)) or 'none'})")


def _status(item: dict) -> StatusEvent:
    message_id = required_id(item.get("id"), "id")
    raw = text(item.get("status"))
    event_at = timestamp(item.get("timestamp"), "timestamp")
    error_code = error_title = error_detail = None
    if raw in PROGRESS_STATUS:
        status = PROGRESS_STATUS[raw]
    elif raw == "failed":
        error = next((as_dict(err) for err in as_list(item.get("errors"))), {})
        status = meta_error_status(error.get("code"))
        error_code = text(error.get("code"))
        error_title = text(error.get("title"))
        error_detail = text(as_dict(error.get("error_data")).get("details")) or text(error.get("message"))
    else:
        raise Unusable(f"unknown status {raw!r}: accepted are sent, delivered, read, played, failed")
    phone, wa_user_id = webhook_number(item.get("recipient_id"))
    conversation = as_dict(item.get("conversation"))
    conv_type, conv_raw = conversation_type(as_dict(conversation.get("origin")).get("type"))
    pricing = as_dict(item.get("pricing"))
    return StatusEvent(
        message_id=message_id,
        source=META,
        status=status,
        status_raw=raw,
        event_at=event_at,
        error_code=error_code,
        error_title=error_title,
        error_detail=error_detail,
        phone=phone,
        wa_user_id=wa_user_id,
        conversation_id=text(conversation.get("id")),
        conversation_type=conv_type,
        conversation_type_raw=conv_raw,
        conversation_expires_at=optional_timestamp(
            conversation.get("expiration_timestamp"), "conversation.expiration_timestamp"
        ),
        pricing_category=text(pricing.get("category")),
        pricing_type=text(pricing.get("type")),
    )


def _message(item: dict, contacts: list[dict]) -> InboundMessage:
    message_id = required_id(item.get("id"), "id")
    received_at = timestamp(item.get("timestamp"), "timestamp")
    sender = required_id(item.get("from"), "from")
    phone, wa_user_id = webhook_number(sender)
    contact = sender_contact(contacts, sender)
    kind = text(item.get("type")) or "unknown"
    body = as_dict(item.get(kind))
    context_id = text(as_dict(item.get("context")).get("id"))
    content_type, message, button_payload, button_text = "other", None, None, None
    if kind == "text":
        content_type, message = "text", text(body.get("body"))
    elif kind in MEDIA_TYPES:
        content_type, message = kind, text(body.get("caption"))
    elif kind == "button":  # template quick-reply button
        content_type, message = "button", text(body.get("text"))
        button_payload, button_text = text(body.get("payload")), message
    elif kind == "interactive":
        content_type = "interactive"
        reply = as_dict(body.get(text(body.get("type")) or ""))
        message = text(reply.get("title"))
        if body.get("type") == "button_reply":
            button_payload, button_text = text(reply.get("id")), message
    elif kind == "location":
        content_type = "location"
        point = lat_long(body.get("latitude"), body.get("longitude"))
        message = location_text(body.get("name"), body.get("address"), point)
    elif kind == "contacts":
        content_type, message = "contacts", contacts_text(item.get("contacts"))
    elif kind == "reaction":  # an emoji on one of our messages: kept as an answer to it
        message = text(body.get("emoji"))
        context_id = context_id or text(body.get("message_id"))
    referral = item.get("referral")
    return InboundMessage(
        message_id=message_id,
        source=META,
        received_at=received_at,
        phone=phone,
        wa_user_id=text(contact.get("wa_id")) or wa_user_id,
        content_type=content_type,
        message=message,
        profile_name=text(as_dict(contact.get("profile")).get("name")),
        context_id=context_id,
        button_payload=button_payload,
        button_text=button_text,
        referral=referral_json(referral),
    )
