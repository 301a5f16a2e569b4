"""Legacy Sinch WhatsApp API callbacks (retired 2023): `{"type": "whatsapp", "statuses" | "notifications"}`.

`statuses[]` are delivery reports whose `state` maps through `catalog.SINCH_LEGACY_STATE_STATUS`
(the raw state is kept; a failure keeps `errors[0].code` / `title` and `details`); a `conversation`
object gives the conversation id, expiry and category. `notifications[]` are MOs; `replying_to`
names the MT answered; the top-level `contacts` carry the senders' profile names.
"""
from collections.abc import Iterator, Mapping
from typing import Any

from data_access.catalog import FAILURE_STATUSES, SINCH_LEGACY_STATE_STATUS
from data_access.ingest.events import (
    SINCH_LEGACY,
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
    required_id,
    sender_contact,
    text,
    timestamp,
    webhook_number,
)
from data_access.scope import business_number_key

MEDIA_TYPES: dict[str, str] = {
    "image": "image", "video": "video", "audio": "audio", "voice": "audio", "document": "document",
    "sticker": "sticker",
}


def looks_like(payload: Mapping[str, Any]) -> bool:
    return payload.get("type") == "whatsapp" and ("statuses" in payload or "notifications" in payload)


def parse(payload: Mapping[str, Any]) -> Iterator[StatusEvent | InboundMessage | Rejection]:
    """Every delivery report and inbound message of the callback; a bad one is rejected alone."""
    contacts = [as_dict(contact) for contact in as_list(payload.get("contacts"))]
    found = False
    for kind, read in (("statuses", _status), ("notifications", lambda item: _inbound(item, contacts))):
        for i, item in enumerate(as_list(payload.get(kind))):
            found = True
            try:
                yield read(as_dict(item))
            except Unusable as exc:
                yield Rejection(f"{kind}[{i}]: {exc}")
    if not found:
        yield Rejection("Sinch WhatsApp callback with no statuses or notifications")


def _status(item: dict) -> StatusEvent:
    message_id = required_id(item.get("message_id"), "message_id")
    state = text(item.get("state"))
    status = SINCH_LEGACY_STATE_STATUS.get((state or "").lower())
    if status is None:
        raise Unusable(f"unknown status {state!r}: accepted are {', '.join(SINCH_LEGACY_STATE_STATUS)}")
    event_at = timestamp(item.get("timestamp"), "timestamp")
    phone, wa_user_id = webhook_number(item.get("recipient"))
    conversation = as_dict(item.get("conversation"))
    conv_type, conv_raw = conversation_type(conversation.get("pricing_category"))
    error = next((as_dict(err) for err in as_list(item.get("errors"))), {})
    failed = status in FAILURE_STATUSES
    return StatusEvent(
        message_id=message_id,
        source=SINCH_LEGACY,
        status=status,
        status_raw=state,
        event_at=event_at,
        error_code=text(error.get("code")) if failed else None,
        error_title=text(error.get("title")) if failed else None,
        error_detail=text(item.get("details")) if failed else None,
        phone=phone,
        wa_user_id=wa_user_id,
        conversation_id=text(conversation.get("conversation_id")),
        conversation_type=conv_type,
        conversation_type_raw=conv_raw,
        conversation_expires_at=optional_timestamp(
            conversation.get("expiration_timestamp"), "conversation.expiration_timestamp"
        ),
        pricing_category=text(conversation.get("pricing_category")),
    )


def _inbound(item: dict, contacts: list[dict]) -> InboundMessage:
    message_id = required_id(item.get("message_id"), "message_id")
    received_at = timestamp(item.get("timestamp"), "timestamp")
    sender = required_id(item.get("from"), "from")
    phone, wa_user_id = webhook_number(sender)
    contact = sender_contact(contacts, sender)
    body = as_dict(item.get("message"))
    kind = (text(body.get("type")) or "").lower()
    content_type, message, button_payload, button_text = "other", None, None, None
    if kind == "text":
        content_type, message = "text", text(body.get("body"))
    elif kind in MEDIA_TYPES:
        content_type, message = MEDIA_TYPES[kind], text(body.get("caption"))
    elif kind == "location":
        point = lat_long(body.get("lat", body.get("latitude")), body.get("lng", body.get("longitude")))
        content_type, message = "location", location_text(body.get("name"), body.get("address"), point)
    elif kind == "contacts":
        content_type, message = "contacts", contacts_text(body.get("contacts"))
    elif kind == "button":  # template quick-reply button
        content_type, message = "button", text(body.get("text"))
        button_payload, button_text = text(body.get("payload")), message
    return InboundMessage(
        message_id=message_id,
        source=SINCH_LEGACY,
        received_at=received_at,
        phone=phone,
        wa_user_id=wa_user_id,
        content_type=content_type,
        message=message,
        profile_name=text(as_dict(contact.get("profile")).get("name")),
        context_id=text(as_dict(item.get("replying_to")).get("message_id")),
        button_payload=button_payload,
        button_text=button_text,
        business_number=business_number_key(text(item.get("to"))),
    )
