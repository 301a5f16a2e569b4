"""Sinch Messaging LATAM (formerly Wavy) callbacks: `{"total": n, "data": [...], "clientInfo": {...}}`.

A `data` item is a status callback (`sent` / `delivered` / `read` flags with their dates and
`sentStatusCode` / `deliveredStatusCode`) or an MO (`message`, `receivedDate`). A status callback
gives one event per step it reports, so every timestamp is kept: `sent: true` (or code 2) -> sent,
`delivered: true` (or code 4) -> delivered, `read: true` (or code 5) -> read; when it reports neither
delivered nor read, a failure code (the delivery code when present, else the sent code; the status
name when the code is missing) maps through `catalog.SINCH_LATAM_CODE_STATUS`, unknown codes to
`undelivered` with the raw code and name kept. Codes 0 and 1 are the documentation's placeholders.
The sender's `clientInfo.subAccountId` / `userId` become the MT's subaccount and user.
"""
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from data_access.catalog import SINCH_LATAM_CODE_STATUS, SINCH_LATAM_NAME_CODE, UNKNOWN_CODE_STATUS
from data_access.ingest.events import (
    SINCH_LATAM,
    InboundMessage,
    Rejection,
    StatusEvent,
    Unusable,
    as_dict,
    contacts_text,
    location_text,
    optional_timestamp,
    referral_json,
    required_id,
    text,
    timestamp,
    webhook_number,
)

SENT, DELIVERED, READ = 2, 4, 5
PLACEHOLDER_CODES = frozenset({0, 1})
CODE_NAME: dict[int, str] = {code: name for name, code in SINCH_LATAM_NAME_CODE.items()}
STATUS_KEYS = frozenset({"sent", "delivered", "read", "sentStatusCode", "deliveredStatusCode", "sentStatus"})
MEDIA_TYPES: dict[str, str] = {
    "IMAGE": "image", "VIDEO": "video", "AUDIO": "audio", "VOICE": "audio", "DOCUMENT": "document",
    "STICKER": "sticker",
}


def looks_like(payload: Mapping[str, Any]) -> bool:
    return isinstance(payload.get("data"), list) and ("total" in payload or "clientInfo" in payload)


def parse(payload: Mapping[str, Any]) -> Iterator[StatusEvent | InboundMessage | Rejection]:
    """Every status step and MO of the callback; a bad item is rejected alone."""
    client = as_dict(payload.get("clientInfo"))
    subaccount, user_name = text(client.get("subAccountId")), text(client.get("userId"))
    items = payload["data"]
    if not items:
        yield Rejection("Sinch callback with no data items")
    for i, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise Unusable("not a JSON object")
            if "message" in item or "receivedDate" in item or "receivedAt" in item:
                yield _inbound(item)
            elif STATUS_KEYS & item.keys():
                yield from _statuses(item, subaccount, user_name)
            else:
                raise Unusable("neither a status callback nor an MO")
        except Unusable as exc:
            yield Rejection(f"data[{i}]: {exc}")


def _moment(item: dict, date_key: str, epoch_key: str) -> datetime | None:
    """The ISO date when present, else the epoch milliseconds."""
    if item.get(date_key) not in (None, ""):
        return timestamp(item[date_key], date_key)
    return optional_timestamp(item.get(epoch_key), epoch_key)


def _code(item: dict, code_key: str, name_key: str) -> tuple[int | None, str | None]:
    """(code, name) of one step: the numeric code (a known name gives its code), and the name.

    A name without a usable code stays as a name only; placeholder codes give (None, None).
    """
    name = text(item.get(name_key))
    raw = item.get(code_key)
    if raw not in (None, "") and not isinstance(raw, bool):
        try:
            code = int(raw)
        except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite float
            return None, name or text(raw)
        return (None, None) if code in PLACEHOLDER_CODES else (code, name)
    return SINCH_LATAM_NAME_CODE.get(name or ""), name


def _is_failure(code: int | None, name: str | None) -> bool:
    return code not in (None, SENT, DELIVERED, READ) or (code is None and name is not None)


def _statuses(item: dict, subaccount: str | None, user_name: str | None) -> list[StatusEvent]:
    message_id = required_id(item.get("id"), "id")
    phone, wa_user_id = webhook_number(item.get("destination"))
    sent_code, sent_name = _code(item, "sentStatusCode", "sentStatus")
    delivery_code, delivery_name = _code(item, "deliveredStatusCode", "deliveredStatus")
    sent_at = _moment(item, "sentDate", "sentAt")
    delivered_at = _moment(item, "deliveredDate", "deliveredAt")
    read_at = _moment(item, "readDate", "readAt")
    updated_at = _moment(item, "updatedDate", "updatedAt")

    def event(status: str, at: datetime | None, raw: str | None, **error) -> StatusEvent:
        if at is None:
            raise Unusable(f"missing date for the {status} status (sentDate, deliveredDate, readDate or updatedDate)")
        return StatusEvent(
            message_id=message_id,
            source=SINCH_LATAM,
            status=status,
            status_raw=raw,
            event_at=at,
            phone=phone,
            wa_user_id=wa_user_id,
            subaccount=subaccount,
            user_name=user_name,
            campaign=text(item.get("campaignAlias")),
            correlation_id=text(item.get("correlationId")),
            conversation_id=text(item.get("conversationID", item.get("ConversationID"))),
            **error,
        )

    events = []
    if item.get("sent") is True or sent_code == SENT:
        events.append(event("sent", sent_at or updated_at, CODE_NAME[SENT]))
    delivered = item.get("delivered") is True or delivery_code == DELIVERED
    read = item.get("read") is True or delivery_code == READ
    if delivered:
        events.append(event("delivered", delivered_at or updated_at, CODE_NAME[DELIVERED]))
    if read:
        events.append(event("read", read_at or delivered_at or updated_at, CODE_NAME[READ]))
    if not (delivered or read):
        if _is_failure(delivery_code, delivery_name):
            code, name, at = delivery_code, delivery_name, delivered_at
        else:
            code, name, at = sent_code, sent_name, sent_at
        if _is_failure(code, name):
            title = name or CODE_NAME.get(code)
            events.append(
                event(
                    SINCH_LATAM_CODE_STATUS.get(code, UNKNOWN_CODE_STATUS),
                    at or updated_at,
                    title or text(code),
                    error_code=text(code),
                    error_title=title,
                )
            )
    if not events:
        raise Unusable("no sent, delivered, read or failure status in the callback")
    return events


def _inbound(item: dict) -> InboundMessage:
    message_id = required_id(item.get("id"), "id")
    received_at = _moment(item, "receivedDate", "receivedAt")
    if received_at is None:
        raise Unusable("missing receivedDate")
    sender = required_id(item.get("source"), "source")
    phone, wa_user_id = webhook_number(sender)
    profile = as_dict(item.get("userProfile"))
    body = as_dict(item.get("message"))
    kind = (text(body.get("type")) or _kind_by_keys(body)).upper()
    content_type, message, button_payload, button_text = "other", None, None, None
    if kind == "TEXT":
        content_type, message = "text", text(body.get("messageText"))
    elif kind in MEDIA_TYPES:
        content_type, message = MEDIA_TYPES[kind], text(body.get("caption"))
    elif kind == "LOCATION":
        place = as_dict(body.get("location"))
        content_type = "location"
        message = location_text(place.get("name"), place.get("address"), text(place.get("geoPoint")))
    elif kind == "CONTACTS":
        content_type, message = "contacts", contacts_text(body.get("contacts"))
    elif kind == "INTERACTIVE":
        interactive = as_dict(body.get("interactive"))
        content_type = "interactive"
        if (text(interactive.get("type")) or "").upper() == "BUTTON_REPLY":
            reply = as_dict(interactive.get("buttonReply"))
            message = text(reply.get("title"))
            button_payload, button_text = text(reply.get("payload")), message
        else:
            message = text(as_dict(interactive.get("listReply")).get("rowTitle"))
    else:
        message = text(body.get("messageText")) or text(body.get("caption"))
    referral = item.get("referral")
    return InboundMessage(
        message_id=message_id,
        source=SINCH_LATAM,
        received_at=received_at,
        phone=phone,
        wa_user_id=text(profile.get("whatsAppId")) or wa_user_id,
        content_type=content_type,
        message=message,
        profile_name=text(profile.get("name")),
        button_payload=button_payload,
        button_text=button_text,
        referral=referral_json(referral),
    )


def _kind_by_keys(body: dict) -> str:
    """The published location and contacts examples carry no `type`: tell them by their keys."""
    for key in ("location", "contacts", "interactive"):
        if key in body:
            return key
    return "TEXT" if "messageText" in body else "OTHER"
