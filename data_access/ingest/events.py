"""What every input format is turned into: immutable, normalised events, and the checks they share.

A provider module reads one payload and yields `SendLog`, `StatusEvent`, `InboundMessage` or
`Rejection` values. Each event knows its own content hash (`event_id` / `record_id`), which is what
makes loading the same data twice a no-op. Timestamps are timezone-aware UTC `datetime`s.

Events are NamedTuples rather than frozen dataclasses: as immutable, a third of the cost to build
(there are hundreds of thousands per run), and their fields are already the tuple that is hashed
and turned into Arrow columns.
"""
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, NamedTuple

from data_access.catalog import CONVERSATION_TYPE_OF

SEND_LOG = "send_log"
META = "meta"
SINCH_LATAM = "sinch_latam"
SINCH_LEGACY = "sinch_legacy"
FORMATS: tuple[str, ...] = (SEND_LOG, META, SINCH_LATAM, SINCH_LEGACY)

E164 = re.compile(r"\+[1-9][0-9]{7,14}")
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100

# Longest accepted values, in characters, checked before anything reaches the database (a longer
# value rejects its event, with the reason). PostgreSQL refuses an index entry over ~2,700 bytes;
# UTF-8 takes at most 4 bytes a character, so the widest index (mt_message: campaign, sent_at,
# status, then error_code and error_title included) holds at most 4 x (256 + 64 + 256) = 2,304 bytes
# of these texts, an identifier or a name alone at most 1,024, a long name alone 2,048.
ID_LIMIT = 256  # message ids, context ids, WhatsApp user ids, conversation and correlation ids
NAME_LIMIT = 256  # subaccount, user, campaign, error title, profile, button text, provider words
LONG_NAME_LIMIT = 512  # template names (Meta allows 512) and button payloads
CODE_LIMIT = 64  # error codes
TEXT_LIMIT = 65_536  # message texts, error details, ad referral data (not indexed)
FIELD_LIMITS: dict[str, int] = {
    **dict.fromkeys(("message_id", "context_id", "wa_user_id", "conversation_id", "correlation_id"), ID_LIMIT),
    **dict.fromkeys(
        ("subaccount", "user_name", "campaign", "error_title", "profile_name", "button_text", "status_raw",
         "conversation_type_raw", "pricing_category", "pricing_type"),
        NAME_LIMIT,
    ),
    **dict.fromkeys(("template_name", "button_payload"), LONG_NAME_LIMIT),
    "error_code": CODE_LIMIT,
    **dict.fromkeys(("message", "error_detail", "referral"), TEXT_LIMIT),
}


class Unusable(ValueError):
    """A record, or one event inside it, cannot be used; the message is the reject reason."""


def _fingerprint(values: tuple) -> str:
    return hashlib.sha256(repr(tuple(values)).encode("utf-8", "surrogatepass")).hexdigest()


class SendLog(NamedTuple):
    """One MT as the platform dispatched it (SPEC section 1)."""

    message_id: str
    sent_at: datetime
    phone: str
    wa_user_id: str | None = None
    subaccount: str | None = None
    user_name: str | None = None
    campaign: str | None = None
    content_type: str = "other"
    template_name: str | None = None
    message: str | None = None
    sent_with_session: bool | None = None
    correlation_id: str | None = None
    conversation_id: str | None = None
    conversation_type: str | None = None
    conversation_type_raw: str | None = None
    conversation_expires_at: datetime | None = None
    pricing_category: str | None = None
    pricing_type: str | None = None

    @property
    def record_id(self) -> str:
        return _fingerprint(self)


class StatusEvent(NamedTuple):
    """One status an MT reached, as a provider (or the send log) reported it."""

    message_id: str
    source: str
    status: str
    status_raw: str | None
    event_at: datetime
    error_code: str | None = None
    error_title: str | None = None
    error_detail: str | None = None
    phone: str | None = None
    wa_user_id: str | None = None
    subaccount: str | None = None
    user_name: str | None = None
    campaign: str | None = None
    correlation_id: str | None = None
    conversation_id: str | None = None
    conversation_type: str | None = None
    conversation_type_raw: str | None = None
    conversation_expires_at: datetime | None = None
    pricing_category: str | None = None
    pricing_type: str | None = None

    @property
    def event_id(self) -> str:
        return _fingerprint(self)


class InboundMessage(NamedTuple):
    """One MO; attribution to an MT (campaign, user, in_reply_to) is computed in the database."""

    message_id: str
    source: str
    received_at: datetime
    phone: str | None
    wa_user_id: str | None
    content_type: str
    message: str | None = None
    profile_name: str | None = None
    context_id: str | None = None
    button_payload: str | None = None
    button_text: str | None = None
    referral: str | None = None
    business_number: str | None = None  # the number it was sent to (`scope.business_number_key`)

    @property
    def record_id(self) -> str:
        return _fingerprint(self)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A part of a payload that cannot be used (the rest of the payload still loads)."""

    reason: str


Event = SendLog | StatusEvent | InboundMessage


def _checked_fields(kind: type) -> tuple[tuple[int, str], ...]:
    return tuple((index, name) for index, name in enumerate(kind._fields) if name in FIELD_LIMITS)


_CHECKED = {kind: _checked_fields(kind) for kind in (SendLog, StatusEvent, InboundMessage)}


def too_long(event: Event) -> str | None:
    """Why an event cannot be stored because a text is longer than `FIELD_LIMITS` allows, or None."""
    for index, name in _CHECKED[type(event)]:
        value = event[index]
        if value is not None and len(value) > FIELD_LIMITS[name]:
            return f"{name} has {len(value):,} characters; at most {FIELD_LIMITS[name]:,} are accepted"
    return None


# -- shared checks ------------------------------------------------------------------------------


def text(value: Any) -> str | None:
    """A field as text: strings verbatim, numbers and booleans as written, objects as JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def required_id(value: Any, field: str) -> str:
    """A non-empty identifier, or `Unusable("missing <field>")`."""
    ident = None if isinstance(value, (bool, dict, list)) else text(value)
    if ident is None or not ident.strip():
        raise Unusable(f"missing {field}")
    return ident.strip()


def timestamp(value: Any, field: str) -> datetime:
    """Epoch seconds or milliseconds (number or digits) or ISO 8601; naive times are taken as UTC.

    Anything else, or a year outside 2000-2100 (placeholders such as 0), is `Unusable`.
    """
    if value is None or value == "":
        raise Unusable(f"missing {field}")
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
            seconds = float(value)
            if abs(seconds) >= 1e11:  # milliseconds
                seconds /= 1000
            moment = datetime.fromtimestamp(seconds, timezone.utc)
        elif isinstance(value, str):
            moment = datetime.fromisoformat(value.strip())
            moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
        else:
            raise ValueError
    except (ValueError, OverflowError, OSError):
        raise Unusable(f"unparseable date in {field}: {text(value)!r}") from None
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise Unusable(f"unparseable date in {field}: {text(value)!r} is outside {EARLIEST_YEAR}-{LATEST_YEAR}")
    return moment


def optional_timestamp(value: Any, field: str) -> datetime | None:
    return None if value is None or value == "" else timestamp(value, field)


def e164(value: Any, field: str = "phone") -> str:
    """A send log's phone: exactly `+` and 8 to 15 digits, not starting with 0."""
    if value is None or value == "":
        raise Unusable(f"missing {field}")
    phone = text(value)
    if not E164.fullmatch(phone):
        raise Unusable(f"{field} {phone!r} is not E.164 (+ and 8 to 15 digits, e.g. +5511987654321)")
    return phone


def webhook_number(value: Any) -> tuple[str | None, str | None]:
    """(phone, wa_user_id) of a number in a webhook.

    8 to 15 digits (an optional leading `+`) not starting with 0 give `+digits` and the digits;
    anything else (`0732001122`) gives no phone and the raw value as the WhatsApp id.
    """
    raw = text(value)
    if raw is None or raw.strip() == "":
        return None, None
    raw = raw.strip()
    digits = raw[1:] if raw.startswith("+") else raw
    if digits.isascii() and digits.isdigit() and 8 <= len(digits) <= 15 and digits[0] != "0":
        return "+" + digits, digits
    return None, raw


def conversation_type(raw: Any) -> tuple[str | None, str | None]:
    """(one of the three conversation types or None, the provider's raw value)."""
    value = text(raw)
    if value is None or value == "":
        return None, None
    return CONVERSATION_TYPE_OF.get(value.strip().lower()), value


def location_text(name: Any, address: Any, point: str | None) -> str | None:
    """A shared location as one line: 'Name, Address (latitude,longitude)'."""
    label = ", ".join(part for part in (text(name), text(address)) if part)
    return " ".join(part for part in (label, f"({point})" if point else "") if part) or None


def lat_long(latitude: Any, longitude: Any) -> str | None:
    """'latitude,longitude' as the provider wrote the numbers, or None when one is missing."""
    if latitude is None or longitude is None:
        return None
    return f"{text(latitude)},{text(longitude)}"


def contacts_text(contacts: Any) -> str | None:
    """The names on shared contact cards, comma separated."""
    if not isinstance(contacts, list):
        return None
    names = []
    for card in contacts:
        name = card.get("name") if isinstance(card, dict) else None
        if isinstance(name, dict):
            full = name.get("formatted_name") or " ".join(
                part for part in (text(name.get("first_name")), text(name.get("last_name"))) if part
            )
            if full:
                names.append(text(full))
    return ", ".join(names) or None


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def sender_contact(contacts: list[dict], sender: str) -> dict:
    """The sender's profile: the contact with the same wa_id, else the only contact of the payload."""
    return next((c for c in contacts if text(c.get("wa_id")) == sender), contacts[0] if len(contacts) == 1 else {})


def referral_json(referral: Any) -> str | None:
    """A click-to-WhatsApp ad's data as stored: JSON text, or None when the message has none."""
    return None if referral is None else json.dumps(referral, ensure_ascii=False)
