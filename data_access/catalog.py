"""The domain's fixed vocabularies and the provider-code tables that map onto them (SPEC section 2).

Codes here are stable identifiers stored in the database; their words in each language live in
`data_access.i18n`. Keep one mapping per provider, documented where it comes from.
"""

# MT statuses in display order: progress first, then the seed's failure statuses.
STATUSES: tuple[str, ...] = (
    "sent",
    "delivered",
    "read",
    "ttl_expired",
    "carrier_failure",
    "carrier_rejected",
    "undelivered",
    "invalid_number",
    "opt_out",
    "invalid_session",
    "internal_error",
    "invalid_content",
    "warmup_blocked",
    "tier_limit",
    "invalid_parameter",
)
FAILURE_STATUSES: tuple[str, ...] = STATUSES[3:]
DELIVERED_STATUSES: tuple[str, ...] = ("delivered", "read")

# Higher wins. `read` proves delivery and beats a failure; a failure is final against delivered/sent.
# Between two failures the earlier provider timestamp wins, then the lower code (see ingest).
STATUS_RANK: dict[str, int] = {"sent": 0, "delivered": 1, **{s: 2 for s in FAILURE_STATUSES}, "read": 3}

MT_CONTENT_TYPES: tuple[str, ...] = (
    "template", "text", "image", "audio", "video", "document", "interactive", "location", "sticker", "other",
)
MO_CONTENT_TYPES: tuple[str, ...] = (
    "text", "image", "audio", "video", "document", "location", "sticker", "contacts", "button", "interactive", "other",
)

CONVERSATION_TYPES: tuple[str, ...] = ("business_initiated", "user_initiated", "free_entry_point")

# Provider conversation origin / pricing values -> the seed's three conversation types.
CONVERSATION_TYPE_OF: dict[str, str] = {
    "marketing": "business_initiated",
    "marketing_lite": "business_initiated",
    "utility": "business_initiated",
    "authentication": "business_initiated",
    "authentication_international": "business_initiated",
    "business_initiated": "business_initiated",
    "service": "user_initiated",
    "user_initiated": "user_initiated",
    "referral_conversion": "free_entry_point",
    "free_entry_point": "free_entry_point",
}

# WhatsApp Cloud API (Meta) error codes -> status. Source: Meta's "Error codes" reference; the codes
# met most in practice are listed in fixtures/public/SOURCES.md. Anything else -> UNKNOWN_CODE_STATUS.
META_ERROR_STATUS: dict[int, str] = {
    131047: "invalid_session",  # more than 24 hours since the customer last replied
    131050: "opt_out",  # the user stopped marketing messages
    131026: "undelivered",  # message undeliverable
    131049: "undelivered",  # not delivered to keep a healthy ecosystem
    130472: "undelivered",  # the user's number is part of an experiment
    131008: "invalid_parameter",  # required parameter missing
    131009: "invalid_parameter",  # parameter value not valid
    131000: "internal_error",  # something went wrong
    131016: "internal_error",  # service unavailable
    130429: "tier_limit",  # rate limit hit
    131048: "tier_limit",  # spam rate limit hit
    131056: "tier_limit",  # pair rate limit hit
    131053: "carrier_failure",  # media upload error
    **{code: "invalid_content" for code in range(132000, 132017)},  # template errors
}

# Sinch Messaging LATAM status codes (fixtures/public/SINCH_STATUS_CODES.md) -> status.
SINCH_LATAM_CODE_STATUS: dict[int, str] = {
    2: "sent",  # SENT_SUCCESS
    4: "delivered",  # DELIVERED_SUCCESS
    5: "read",  # READ_SUCCESS
    101: "ttl_expired",  # EXPIRED
    102: "carrier_failure",  # CARRIER_COMMUNICATION_ERROR
    103: "carrier_rejected",  # REJECTED_BY_CARRIER
    104: "undelivered",  # NOT_DELIVERED
    201: "tier_limit",  # NO_CREDIT (SMS table)
    202: "invalid_number",  # INVALID_DESTINATION_NUMBER
    203: "opt_out",  # BLACKLISTED (SMS table)
    204: "opt_out",  # DESTINATION_BLOCKED_BY_OPTOUT
    205: "tier_limit",  # DESTINATION_MESSAGE_LIMIT_REACHED (SMS table)
    206: "invalid_content",  # INVALID_MESSAGE_LENGTH
    207: "invalid_parameter",  # INVALID_MESSAGE_TEXT
    209: "invalid_content",  # INVALID_CONTENT
    210: "invalid_session",  # INVALID_SESSION
    211: "invalid_parameter",  # DESTINATION_BLOCKED_BY_OPTIN
    212: "invalid_parameter",  # DESTINATION_BLOCKED_BY_WHITELIST
    301: "internal_error",  # INTERNAL_ERROR (SMS table)
    311: "internal_error",  # INTERNAL_ERROR
}
SINCH_LATAM_NAME_CODE: dict[str, int] = {
    "SENT_SUCCESS": 2,
    "DELIVERED_SUCCESS": 4,
    "READ_SUCCESS": 5,
    "EXPIRED": 101,
    "CARRIER_COMMUNICATION_ERROR": 102,
    "REJECTED_BY_CARRIER": 103,
    "NOT_DELIVERED": 104,
    "NO_CREDIT": 201,
    "INVALID_DESTINATION_NUMBER": 202,
    "BLACKLISTED": 203,
    "DESTINATION_BLOCKED_BY_OPTOUT": 204,
    "DESTINATION_MESSAGE_LIMIT_REACHED": 205,
    "INVALID_MESSAGE_LENGTH": 206,
    "INVALID_MESSAGE_TEXT": 207,
    "INVALID_CONTENT": 209,
    "INVALID_SESSION": 210,
    "DESTINATION_BLOCKED_BY_OPTIN": 211,
    "DESTINATION_BLOCKED_BY_WHITELIST": 212,
    "INTERNAL_ERROR": 311,
}

# Legacy Sinch WhatsApp API `state` -> status (the raw state is kept in status_raw).
SINCH_LEGACY_STATE_STATUS: dict[str, str] = {
    "queued": "sent",
    "dispatched": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "deleted": "delivered",  # the user deleted it after delivery
    "failed": "undelivered",
    "no_opt_in": "opt_out",
    "no_capability": "invalid_number",
}

# A failure code nobody documented: shown as "not delivered", the raw code kept.
UNKNOWN_CODE_STATUS = "undelivered"


def meta_error_status(code: int | str | None) -> str:
    """The status of a Meta error code; anything not a known code (including NaN, infinities and
    over-long digit strings) is UNKNOWN_CODE_STATUS."""
    try:
        return META_ERROR_STATUS.get(int(code), UNKNOWN_CODE_STATUS)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return UNKNOWN_CODE_STATUS
