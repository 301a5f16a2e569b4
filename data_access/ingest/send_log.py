"""Send logs: one MT per record (JSON object or CSV row) with the keys of SPEC section 1.

Required: `message_id`, `sent_at`, `phone` (E.164). Optional: `status` (a code of SPEC section 2) with
`status_at`, `delivered_at`, `read_at`, `failed_at`, `error_code`, `error_title`, `error_detail`;
`wa_user_id`, `subaccount`, `user` (or `user_name`), `campaign`, `content_type` (default `other`),
`template_name`, `message`, `sent_with_session`, `correlation_id`, `conversation_id`,
`conversation_type` (ours or the provider's value), `conversation_expires_at`, `pricing_category`,
`pricing_type`. Other keys are ignored (the raw record is kept). Empty values count as missing.

Besides the `SendLog`, a record yields status events: `sent` at `sent_at`, and whatever its status
and timestamps say (a platform-side failure such as `tier_limit` or `warmup_blocked` only ever
appears here), so its statuses follow the same precedence as the providers'.
"""
from collections.abc import Iterator, Mapping
from typing import Any

from data_access.catalog import FAILURE_STATUSES, MT_CONTENT_TYPES, STATUSES
from data_access.ingest.events import (
    SEND_LOG,
    Rejection,
    SendLog,
    StatusEvent,
    Unusable,
    conversation_type,
    e164,
    optional_timestamp,
    required_id,
    text,
    timestamp,
)

REQUIRED_KEYS: tuple[str, ...] = ("message_id", "sent_at", "phone")
TRUE_WORDS = frozenset({"true", "1", "yes"})
FALSE_WORDS = frozenset({"false", "0", "no"})


def looks_like(payload: Mapping[str, Any]) -> bool:
    """A JSON object is read as a send log when it has any of the required keys."""
    return any(key in payload for key in REQUIRED_KEYS)


def parse(payload: Mapping[str, Any]) -> Iterator[SendLog | StatusEvent | Rejection]:
    """The send log and its status events, or one rejection saying what is wrong."""
    record = {key: (None if value == "" else value) for key, value in payload.items()}
    try:
        log, events = _read(record)
    except Unusable as exc:
        yield Rejection(str(exc))
        return
    yield log
    yield from events


def _read(record: dict[str, Any]) -> tuple[SendLog, list[StatusEvent]]:
    message_id = required_id(record.get("message_id"), "message_id")
    sent_at = timestamp(record.get("sent_at"), "sent_at")
    phone = e164(record.get("phone"))
    content_type = text(record.get("content_type")) or "other"
    if content_type not in MT_CONTENT_TYPES:
        raise Unusable(f"unknown content_type {content_type!r}: accepted are {', '.join(MT_CONTENT_TYPES)}")
    status = text(record.get("status"))
    if status is not None and status not in STATUSES:
        raise Unusable(f"unknown status {status!r}: accepted are {', '.join(STATUSES)}")
    status_at = optional_timestamp(record.get("status_at"), "status_at")
    delivered_at = optional_timestamp(record.get("delivered_at"), "delivered_at")
    read_at = optional_timestamp(record.get("read_at"), "read_at")
    failed_at = optional_timestamp(record.get("failed_at"), "failed_at")
    conv_type, conv_raw = conversation_type(record.get("conversation_type"))
    log = SendLog(
        message_id=message_id,
        sent_at=sent_at,
        phone=phone,
        wa_user_id=text(record.get("wa_user_id")),
        subaccount=text(record.get("subaccount")),
        user_name=text(record.get("user", record.get("user_name"))),
        campaign=text(record.get("campaign")),
        content_type=content_type,
        template_name=text(record.get("template_name")),
        message=text(record.get("message")),
        sent_with_session=_boolean(record.get("sent_with_session")),
        correlation_id=text(record.get("correlation_id")),
        conversation_id=text(record.get("conversation_id")),
        conversation_type=conv_type,
        conversation_type_raw=conv_raw,
        conversation_expires_at=optional_timestamp(record.get("conversation_expires_at"), "conversation_expires_at"),
        pricing_category=text(record.get("pricing_category")),
        pricing_type=text(record.get("pricing_type")),
    )

    def event(code: str, at, **error) -> StatusEvent:
        return StatusEvent(message_id=message_id, source=SEND_LOG, status=code, status_raw=code, event_at=at, **error)

    events = [event("sent", sent_at)]
    if delivered_at is not None or status == "delivered":
        events.append(event("delivered", delivered_at or status_at or sent_at))
    if read_at is not None or status == "read":
        events.append(event("read", read_at or status_at or sent_at))
    if status in FAILURE_STATUSES:
        events.append(
            event(
                status,
                failed_at or status_at or sent_at,
                error_code=text(record.get("error_code")),
                error_title=text(record.get("error_title")),
                error_detail=text(record.get("error_detail")),
            )
        )
    return log, events


def _boolean(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    word = text(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise Unusable(f"sent_with_session {text(value)!r} is not true or false")
