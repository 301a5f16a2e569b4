"""SQLAlchemy Core tables (SPEC section 1).

The tables here are what queries are written against. The DDL that creates them, and the indexes
each engine needs, live in the migrations (`data_access/migrations/versions`), the one source of truth
for what a database holds.

Keys are natural (`message_id`) or made in Python (hashes, uuids): DuckDB's SQLAlchemy dialect cannot
create autoincrement keys on duckdb 2.x, and natural keys are what makes ingest idempotent anyway.
"""
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    false,
)

metadata = MetaData()

Timestamp = DateTime(timezone=True)

# On PostgreSQL (migration 0011) the message tables are partitioned by month and their key is
# (message_id, time): an id has one row because every writer replaces a row by deleting its id and
# inserting it again under the ingest's lock; `ON CONFLICT (message_id)` does not apply there.
mt_message = Table(
    "mt_message",
    metadata,
    Column("message_id", String, primary_key=True),
    Column("sent_at", Timestamp, nullable=False),
    Column("status", String(24), nullable=False),
    Column("status_raw", String),
    Column("status_at", Timestamp),
    Column("delivered_at", Timestamp),
    Column("read_at", Timestamp),
    Column("failed_at", Timestamp),
    Column("error_code", String),
    Column("error_title", Text),
    Column("error_detail", Text),
    Column("phone", String(16)),
    Column("wa_user_id", String),
    Column("subaccount", String),
    Column("user_name", String),
    Column("campaign", String),
    Column("content_type", String(16), nullable=False),
    Column("template_name", String),
    Column("message", Text),
    Column("sent_with_session", Boolean),
    Column("correlation_id", String),
    Column("conversation_id", String),
    Column("conversation_type", String(24)),
    Column("conversation_type_raw", String),
    Column("conversation_expires_at", Timestamp),
    Column("pricing_category", String),
    Column("pricing_type", String),
    Column("source", String(16), nullable=False),
    # False while the row holds only what status events told (sent_at is then provisional).
    Column("has_send_log", Boolean, nullable=False),
    # Migration 0005: some MO answers this MT (an mo_message.in_reply_to names it). Kept exact by every
    # writer as `data_access.replies.refresh_replied` defines it (the ingest fold computes the same for
    # the MTs it touches), so the reply count is a sum of the report's one scan instead of a semi-join.
    Column("replied", Boolean, nullable=False, server_default=false()),
    # Migration 0010: the quick-reply clicks on this MT (MOs with a button payload whose in_reply_to
    # names it), kept with `replied`: the Consolidado's clicks are a sum of its scan.
    Column("clicks", Integer, nullable=False, server_default="0"),
)

mo_message = Table(
    "mo_message",
    metadata,
    Column("message_id", String, primary_key=True),
    Column("received_at", Timestamp, nullable=False),
    Column("phone", String(16)),
    Column("wa_user_id", String),
    Column("profile_name", String),
    Column("subaccount", String),
    Column("user_name", String),
    Column("campaign", String),
    Column("template_name", String),
    Column("in_reply_to", String),
    Column("content_type", String(16), nullable=False),
    Column("message", Text),
    Column("button_payload", String),
    Column("button_text", String),
    Column("referral", Text),
    Column("source", String(16), nullable=False),
    # Added by ingest (migration 0003): the MT id the MO says it answers (context.id / replying_to),
    # how in_reply_to was found (context | window) and the hash of the record the row came from.
    Column("context_id", String),
    Column("attribution", String(8)),
    Column("record_id", String(64)),
    # Migration 0008: the business number the MO was sent to (Meta's metadata.display_phone_number,
    # Sinch's "to"), for the business-number -> subaccount mapping of MOs with no attributed subaccount.
    Column("business_number", String),
)

# PostgreSQL (migration 0011): messages counted per UTC hour and per value of every column a search
# can filter the figures by, kept by triggers on the message tables (see `data_access.hourly`).
mt_hourly = Table(
    "mt_hourly",
    metadata,
    Column("sent_at", Timestamp, nullable=False),  # the hour's start
    Column("subaccount", String),
    Column("user_name", String),
    Column("campaign", String),
    Column("content_type", String(16)),
    Column("sent_with_session", Boolean),
    Column("status", String(24)),
    Column("error_code", String),
    Column("error_title", Text),
    Column("conversation_type", String(24)),
    Column("messages", BigInteger, nullable=False),
    Column("replied", BigInteger, nullable=False),
)

# The same by fewer columns, for the broad searches (a month of them is a few thousand groups).
mt_hourly_status = Table(
    "mt_hourly_status",
    metadata,
    Column("sent_at", Timestamp, nullable=False),
    Column("subaccount", String),
    Column("status", String(24)),
    Column("error_code", String),
    Column("error_title", Text),
    Column("messages", BigInteger, nullable=False),
    Column("replied", BigInteger, nullable=False),
)

mo_hourly = Table(
    "mo_hourly",
    metadata,
    Column("received_at", Timestamp, nullable=False),  # the hour's start
    Column("subaccount", String),
    Column("business_number", String),
    Column("user_name", String),
    Column("campaign", String),
    Column("template_name", String),
    Column("content_type", String(16)),
    Column("button_text", String),
    Column("clicked", Boolean),  # has a button payload
    Column("messages", BigInteger, nullable=False),
)

# PostgreSQL (migration 0013): the read MTs counted per hour sent, hour read, time-to-read buckets
# (`data_access.insights.READ_BUCKETS` indexes) and every column `mt_hourly` counts by, kept by triggers
# on `mt_message`: the Sent insights' buckets and weekday x hour of reads are summed from it.
mt_read_hourly = Table(
    "mt_read_hourly",
    metadata,
    Column("sent_at", Timestamp, nullable=False),  # the hour's start
    Column("read_at", Timestamp, nullable=False),  # the hour's start
    Column("delivered_to_read", SmallInteger),  # NULL: no delivery time
    Column("sent_to_read", SmallInteger, nullable=False),
    *(Column(c.name, c.type) for c in mt_hourly.c if c.name not in ("sent_at", "messages", "replied")),
    Column("messages", BigInteger, nullable=False),
)

raw_payload = Table(
    "raw_payload",
    metadata,
    Column("payload_id", String(64), primary_key=True),  # sha256 of the body: a payload is kept once
    Column("format", String(16), nullable=False),
    Column("file", String),
    Column("line", Integer),
    Column("body", Text, nullable=False),
    Column("ingested_at", Timestamp, nullable=False),
)

rejected_record = Table(
    "rejected_record",
    metadata,
    Column("reject_id", String(64), primary_key=True),  # sha256 of file, line, reason and body
    Column("file", String),
    Column("line", Integer),
    Column("reason", Text, nullable=False),
    Column("body", Text),
    Column("rejected_at", Timestamp, nullable=False),
)

saved_search = Table(
    "saved_search",
    metadata,
    Column("search_id", String(36), primary_key=True),  # uuid4
    Column("owner", String, nullable=False),
    Column("name", String(80), nullable=False),
    Column("view", String(2), nullable=False),  # mt | mo
    Column("params", Text, nullable=False),  # JSON: the serialised filter value, range kind, lang, tz
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    # Migration 0008: a manager's search shared with the accounts of its subaccounts.
    Column("shared", Boolean, nullable=False, server_default=false()),
)

# One row; bumped by every write (demo, ingest) so readers can tell cheaply that data changed.
data_version = Table(
    "data_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
    Column("changed_at", Timestamp, nullable=False),
)

# Ingest (migration 0003): every normalised status event, kept once (event_id = hash of its content).
# mt_message rows are recomputed from these and the send log, so arrival order does not matter.
mt_event = Table(
    "mt_event",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("message_id", String, nullable=False),
    Column("source", String(16), nullable=False),
    Column("status", String(24), nullable=False),
    Column("status_raw", String),
    Column("event_at", Timestamp, nullable=False),
    Column("error_code", String),
    Column("error_title", Text),
    Column("error_detail", Text),
    Column("phone", String(16)),
    Column("wa_user_id", String),
    Column("subaccount", String),
    Column("user_name", String),
    Column("campaign", String),
    Column("correlation_id", String),
    Column("conversation_id", String),
    Column("conversation_type", String(24)),
    Column("conversation_type_raw", String),
    Column("conversation_expires_at", Timestamp),
    Column("pricing_category", String),
    Column("pricing_type", String),
)

# Ingest (migration 0003): the send-log record of each MT (the lowest record_id wins when two differ).
mt_send_log = Table(
    "mt_send_log",
    metadata,
    Column("message_id", String, primary_key=True),
    Column("record_id", String(64), nullable=False),
    Column("sent_at", Timestamp, nullable=False),
    Column("phone", String(16), nullable=False),
    Column("wa_user_id", String),
    Column("subaccount", String),
    Column("user_name", String),
    Column("campaign", String),
    Column("content_type", String(16), nullable=False),
    Column("template_name", String),
    Column("message", Text),
    Column("sent_with_session", Boolean),
    Column("correlation_id", String),
    Column("conversation_id", String),
    Column("conversation_type", String(24)),
    Column("conversation_type_raw", String),
    Column("conversation_expires_at", Timestamp),
    Column("pricing_category", String),
    Column("pricing_type", String),
)

# Ingest (migration 0004): MT and MO ids whose rows wait to be recomputed from their events.
ingest_pending = Table(
    "ingest_pending",
    metadata,
    Column("kind", String(2), primary_key=True),  # mt | mo
    Column("message_id", String, primary_key=True),
)


# -- Accounts (migration 0008, SPEC section 9) ---------------------------------------------------

account = Table(
    "account",
    metadata,
    Column("email", String, primary_key=True),  # lower-case
    Column("name", String, nullable=False),
    Column("role", String(8), nullable=False),  # admin | manager | analyst
    Column("active", Boolean, nullable=False),
    Column("password_hash", String),  # argon2id; None: single sign-on only
    Column("totp_secret", String),  # base32; None: two-step verification off
    Column("totp_last_step", BigInteger),  # time step of the last code accepted: older or equal ones are refused
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

account_subaccount = Table(
    "account_subaccount",
    metadata,
    Column("email", String, primary_key=True),
    Column("subaccount", String, primary_key=True),
)

account_ip_allow = Table(
    "account_ip_allow",
    metadata,
    Column("email", String, primary_key=True),
    Column("cidr", String(64), primary_key=True),
)

api_token = Table(
    "api_token",
    metadata,
    Column("name", String, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the token
    Column("created_at", Timestamp, nullable=False),
    Column("revoked_at", Timestamp),
)

api_token_subaccount = Table(
    "api_token_subaccount",
    metadata,
    Column("name", String, primary_key=True),
    Column("subaccount", String, primary_key=True),
)

web_session = Table(
    "web_session",
    metadata,
    Column("session_hash", String(64), primary_key=True),  # sha256 of the cookie's token
    Column("email", String, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("last_seen_at", Timestamp, nullable=False),
    Column("ended_at", Timestamp),
)

sign_in_attempt = Table(
    "sign_in_attempt",
    metadata,
    Column("attempt_id", String(36), primary_key=True),  # uuid4
    Column("email", String, nullable=False),
    Column("address", String(64)),
    Column("ok", Boolean, nullable=False),
    Column("attempted_at", Timestamp, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("entry_id", String(36), primary_key=True),  # uuid4
    Column("logged_at", Timestamp, nullable=False),
    Column("actor", String, nullable=False),
    Column("action", String(32), nullable=False),
    Column("detail", Text, nullable=False),  # JSON object
    Column("address", String(64)),
)

# The subaccount that owns a business number: MOs with no attributed subaccount belong to it.
business_number = Table(
    "business_number",
    metadata,
    Column("number", String, primary_key=True),
    Column("subaccount", String, nullable=False),
)

# Live interface (migration 0007): raw bodies accepted over HTTP on PostgreSQL, committed before the
# 200 and deleted in the transaction that claimed them (FOR UPDATE SKIP LOCKED) once folded, so
# several app server processes share them. The embedded database uses a spool file instead.
webhook_inbox = Table(
    "webhook_inbox",
    metadata,
    Column("inbox_id", String(32), primary_key=True),
    Column("source", String(32), nullable=False),
    Column("received_at", Timestamp, nullable=False),
    Column("body", LargeBinary, nullable=False),
)
