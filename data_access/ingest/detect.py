"""Which format a payload is, recognised per payload (a file may mix them), and its events.

Meta webhooks say `"object": "whatsapp_business_account"`; Sinch LATAM callbacks have a `data`
list with `total` or `clientInfo`; legacy Sinch callbacks say `"type": "whatsapp"`; any other
object with `message_id`, `sent_at` or `phone` is a send-log record.
"""
from collections.abc import Iterator, Mapping
from types import ModuleType
from typing import Any

from data_access.ingest import meta, send_log, sinch_latam, sinch_legacy
from data_access.ingest.events import META, SEND_LOG, SINCH_LATAM, SINCH_LEGACY, Event, Rejection

PARSERS: tuple[tuple[str, ModuleType], ...] = (
    (META, meta),
    (SINCH_LATAM, sinch_latam),
    (SINCH_LEGACY, sinch_legacy),
    (SEND_LOG, send_log),
)
UNRECOGNISED = (
    "unrecognised payload: expected a Meta webhook (object whatsapp_business_account), a Sinch callback "
    "(total/data or type whatsapp) or a send-log record (message_id, sent_at, phone)"
)


def parse_payload(payload: Mapping[str, Any]) -> tuple[str | None, Iterator[Event | Rejection]]:
    """(format, its events and rejections); an unrecognised payload is one rejection."""
    for name, module in PARSERS:
        if module.looks_like(payload):
            return name, module.parse(payload)
    return None, iter((Rejection(UNRECOGNISED),))
