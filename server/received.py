"""What the live interface stores before it answers: a body and which route it came by."""
from typing import NamedTuple

# The names stored as the payloads' `file` in raw_payload and rejected_record.
META = "webhook:meta"
SINCH = "webhook:sinch"
SEND_LOG = "api:send-log"


class Received(NamedTuple):
    source: str
    body: bytes
