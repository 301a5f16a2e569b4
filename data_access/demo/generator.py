"""Synthetic WhatsApp traffic as Arrow tables, one chunk of MT rows (with their MOs) at a time.

Everything derives from the seed: a `Plan` fixes the period, the contacts and how many messages each
(day, hour) holds; chunk k then draws its rows from a generator seeded with (seed, k), so the data do
not depend on how chunks are loaded. MT rows come out in `sent_at` order (DuckDB prunes date filters
by zone maps); the MOs of a chunk come out sorted by `received_at`, and `MoOrderer` merges chunks so
the whole MO table is in time order too.

Ids are unique by construction: each message has an integer key (MT row number and reply kind) that
goes through a bijective hash before it becomes the random-looking part of a wamid or uuid. Sinch ids
are version-7 uuids, which sort by time, so DuckDB's primary-key index takes them cheaply.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data_access.catalog import CONVERSATION_TYPE_OF, FAILURE_STATUSES, STATUSES
from data_access.demo import vocabulary as v
from data_access.demo.textops import (
    base64_rows,
    categorical,
    dec_digits,
    fill,
    hex_digits,
    mix64,
    money_brl,
    scatter,
    split_placeholders,
    strings,
    take_strings,
)

HOME_TZ = ZoneInfo("America/Sao_Paulo")  # the demo customer's traffic follows Brazilian hours
CHUNK_ROWS = 1_000_000  # MT rows per chunk; part of the data's identity (same seed, same chunks)
CONTACTS_PER_ROWS = 6  # about six messages per audience contact over the period
META_SHARE = 0.08  # traffic sent straight through the WhatsApp Cloud API; the rest goes through Sinch

SECOND_US = 1_000_000
HOUR_US = 3600 * SECOND_US
DAY_US = 24 * HOUR_US
OPENER_MAX_LEAD_US = 2 * HOUR_US  # a customer's first message precedes the agent's answer by at most this
REPLY_MAX_US = 23 * HOUR_US + 50 * 60 * SECOND_US  # replies come within the 24 h window

TS = pa.timestamp("us", tz="UTC")

# ---- vocabularies as index tables -------------------------------------------------------------

STATUS_INDEX = {s: i for i, s in enumerate(STATUSES)}
FAILURE_MASK = np.array([s in FAILURE_STATUSES for s in STATUSES])
DELIVERED, READ = STATUS_INDEX["delivered"], STATUS_INDEX["read"]
TTL_EXPIRED, INVALID_SESSION = STATUS_INDEX["ttl_expired"], STATUS_INDEX["invalid_session"]

TEMPLATE_NAMES = tuple(v.TEMPLATES)
SUBACCOUNTS = tuple(dict.fromkeys(s.subaccount for s in v.STREAMS))
CAMPAIGNS = tuple(dict.fromkeys(s.campaign for s in v.STREAMS if s.campaign))
USERS = tuple(dict.fromkeys(u for s in v.STREAMS for u in s.users))
SESSION_STREAM = next(i for i, s in enumerate(v.STREAMS) if s.template is None)

STREAM_SUBACCOUNT = np.array([SUBACCOUNTS.index(s.subaccount) for s in v.STREAMS])
STREAM_CAMPAIGN = np.array([CAMPAIGNS.index(s.campaign) if s.campaign else -1 for s in v.STREAMS])
STREAM_TEMPLATE = np.array([TEMPLATE_NAMES.index(s.template) if s.template else -1 for s in v.STREAMS])
STREAM_USERS = [np.array([USERS.index(u) for u in s.users]) for s in v.STREAMS]

CATEGORIES = ("marketing", "utility", "authentication", "authentication_international", "service",
              "referral_conversion")
SERVICE, REFERRAL = CATEGORIES.index("service"), CATEGORIES.index("referral_conversion")
AUTH, AUTH_INTL = CATEGORIES.index("authentication"), CATEGORIES.index("authentication_international")
TEMPLATE_CATEGORY = np.array([CATEGORIES.index(v.TEMPLATES[t].category) for t in TEMPLATE_NAMES])
# Conversation origin as each provider words it: Meta's categories; Sinch's older model names.
CONVERSATION_RAW = CATEGORIES + ("business_initiated", "user_initiated")
SINCH_RAW = np.array([CONVERSATION_RAW.index(x) for x in (
    "business_initiated", "business_initiated", "business_initiated", "business_initiated",
    "user_initiated", "referral_conversion")])
CONVERSATION_TYPES = tuple(CONVERSATION_TYPE_OF[raw] for raw in CONVERSATION_RAW)
PRICING_TYPES = ("regular", "free_customer_service", "free_entry_point")
CATEGORY_PRICING_TYPE = np.array([0, 0, 0, 0, 1, 2])

ERRORS = tuple((status, e) for status in STATUSES for e in v.ERRORS.get(status, ()))
ERROR_META = np.array([e.route == v.META for _, e in ERRORS])


def _error_options(status: str, route: str) -> tuple[np.ndarray, np.ndarray]:
    """The errors a route reports for a failure status (the other route's when it has none)."""
    for wanted in (route, v.SINCH if route == v.META else v.META):
        index = [i for i, (s, e) in enumerate(ERRORS) if s == status and e.route == wanted]
        if index:
            weights = np.array([ERRORS[i][1].weight for i in index])
            return np.array(index), weights / weights.sum()
    raise ValueError(f"no provider error for failure status {status}")


ERROR_OPTIONS = {(STATUS_INDEX[s], meta): _error_options(s, v.META if meta else v.SINCH)
                 for s in FAILURE_STATUSES for meta in (False, True)}
# status_raw: Meta's words for Meta rows, Sinch's status names (or the error's name) for Sinch rows.
RAW_STATUSES = ("sent", "delivered", "read", "failed") + tuple(v.SINCH_STATUS_NAME.values()) + tuple(
    dict.fromkeys(e.title for _, e in ERRORS if e.route == v.SINCH))
META_RAW = np.array([RAW_STATUSES.index(s if s in ("sent", "delivered", "read") else "failed") for s in STATUSES])
SINCH_RAW_STATUS = np.array([RAW_STATUSES.index(v.SINCH_STATUS_NAME.get(s, "failed")) for s in STATUSES])
ERROR_SINCH_RAW = np.array([RAW_STATUSES.index(e.title) if e.route == v.SINCH else -1 for _, e in ERRORS])


def _weights(mapping: dict[str, float]) -> np.ndarray:
    w = np.array([mapping.get(s, 0.0) for s in STATUSES])
    return w / w.sum()


TEMPLATE_STATUS_P = _weights(v.TEMPLATE_STATUS_WEIGHTS)
SESSION_STATUS_P = _weights(v.SESSION_STATUS_WEIGHTS)

# MT texts: one variant per template body, then the agents' messages of each content type.
MT_CONTENT_TYPES = ("template",) + tuple(v.SESSION_CONTENT_WEIGHTS)
MT_TEXTS: list[list[str] | None] = [split_placeholders(v.TEMPLATES[t].body) for t in TEMPLATE_NAMES]
SESSION_VARIANTS: list[tuple[int, int, float]] = []  # (content type, text variant, joint probability)
for _ct, _ct_weight in v.SESSION_CONTENT_WEIGHTS.items():
    _variants = v.SESSION_MESSAGES[_ct]
    _total = sum(w for _, w in _variants)
    for _text, _w in _variants:
        SESSION_VARIANTS.append((MT_CONTENT_TYPES.index(_ct), len(MT_TEXTS), _ct_weight * _w / _total))
        MT_TEXTS.append(split_placeholders(_text) if _text is not None else None)
SESSION_P = np.array([p for _, _, p in SESSION_VARIANTS]) / sum(p for _, _, p in SESSION_VARIANTS)
SESSION_CT = np.array([ct for ct, _, _ in SESSION_VARIANTS])
SESSION_TEXT = np.array([t for _, t, _ in SESSION_VARIANTS])
INTERACTIVE = MT_CONTENT_TYPES.index("interactive")
TEXT_LIKE = np.array([ct in ("text", "document", "image", "video", "other") for ct in MT_CONTENT_TYPES])

# Quick-reply buttons (templates) and reply buttons (the agents' menu), and what customers write.
BUTTONS = tuple(dict.fromkeys(b for t in TEMPLATE_NAMES for b in v.TEMPLATES[t].buttons)) + v.MENU_BUTTONS
TEMPLATE_BUTTONS = [np.array([BUTTONS.index(b) for b in v.TEMPLATES[t].buttons]) for t in TEMPLATE_NAMES]
MENU = np.array([BUTTONS.index(b) for b in v.MENU_BUTTONS])
MO_CONTENT_TYPES = ("button", "interactive", "text") + tuple(c for c in v.REPLY_CONTENT_WEIGHTS if c != "text")
MO_TEXTS = tuple(dict.fromkeys(
    [text for _, text in BUTTONS]
    + [t for variants in v.REPLIES.values() for t, _ in variants if t is not None]
    + [t for t, _ in v.OPENERS] + [t for t, _ in v.AD_OPENERS]
))
REPLY_VARIANTS: list[tuple[int, int, float]] = []  # (content type, text or -1, joint probability)
for _ct, _ct_weight in v.REPLY_CONTENT_WEIGHTS.items():
    _total = sum(w for _, w in v.REPLIES[_ct])
    for _text, _w in v.REPLIES[_ct]:
        REPLY_VARIANTS.append((MO_CONTENT_TYPES.index(_ct), MO_TEXTS.index(_text) if _text else -1,
                               _ct_weight * _w / _total))
REPLY_P = np.array([p for _, _, p in REPLY_VARIANTS]) / sum(p for _, _, p in REPLY_VARIANTS)
REPLY_CT = np.array([ct for ct, _, _ in REPLY_VARIANTS])
REPLY_TEXT = np.array([t for _, t, _ in REPLY_VARIANTS])
OPENER_TEXT = np.array([MO_TEXTS.index(t) for t, _ in v.OPENERS])
OPENER_P = np.array([w for _, w in v.OPENERS]) / sum(w for _, w in v.OPENERS)
AD_TEXT = np.array([MO_TEXTS.index(t) for t, _ in v.AD_OPENERS])
REFERRALS = tuple(r for _, r in v.AD_OPENERS)
BUTTON_TEXT = np.array([MO_TEXTS.index(text) for _, text in BUTTONS])
HAS_BUTTONS = np.array([len(b) > 0 for b in TEMPLATE_BUTTONS] + [False])  # last: no template (-1)
MO_BUTTON, MO_INTERACTIVE, MO_TEXT = (MO_CONTENT_TYPES.index(c) for c in ("button", "interactive", "text"))
SUBACCOUNT_PREFIX = tuple(v.CORRELATION_PREFIXES[s] for s in SUBACCOUNTS)

# Reply kinds: the last 3 bits of a message's key (MT row number * 8 + kind).
KEY_MT, KEY_CLICK, KEY_TEXT, KEY_OPENER, KEY_STRANGER = range(5)


@dataclass(frozen=True)
class Contacts:
    """The people messages go to: [0, audience) receive campaigns, the rest write to the business first."""

    audience: int
    phone: np.ndarray  # (P, 14) uint8: '+' and digits
    phone_len: np.ndarray
    first_name: np.ndarray  # index into FIRST_NAMES
    profile: pa.Array  # WhatsApp profile name (null when the person has none)
    abroad: np.ndarray  # bool: not a Brazilian number
    phase_us: np.ndarray  # where this contact's conversation windows start, within a day


@dataclass(frozen=True)
class Plan:
    rows: int
    seed: int
    chunk_rows: int
    first_day: date
    last_day: date
    dates: np.ndarray  # datetime64[D], local calendar days
    day_start_us: np.ndarray  # UTC microseconds of each local midnight
    cell_end: np.ndarray  # cumulative MT count at the end of each (day, hour) cell
    stream_cum: np.ndarray  # per cell: cell number + cumulative probability of each stream
    contacts: Contacts
    key: np.uint64

    @property
    def chunks(self) -> int:
        return -(-self.rows // self.chunk_rows)


def make_plan(rows: int, days: int, seed: int, end: date) -> Plan:
    """Fix everything shared by the chunks: days, per-hour volumes, stream mix, contacts."""
    rng = np.random.default_rng([seed, 0])
    first = end - timedelta(days=days - 1)
    local_days = [first + timedelta(days=d) for d in range(days)]
    day_start_us = np.array(
        [int(datetime.combine(d, time(), HOME_TZ).timestamp()) * SECOND_US for d in local_days], dtype=np.int64)
    weekday = np.array([d.weekday() for d in local_days])
    position = np.arange(days)

    daily = np.zeros((days, len(v.STREAMS)))
    for s, stream in enumerate(v.STREAMS):
        active = np.ones(days, dtype=bool)
        if stream.burst:
            start = int(stream.burst[0] * days)
            active = (position >= start) & (position < start + stream.burst[1])
        if stream.weekday is not None:
            active &= weekday == stream.weekday
        daily[:, s] = stream.weight * np.array(v.WEEK_PROFILES[stream.week])[weekday] * active
    daily *= (0.9 + 0.2 * position / max(days - 1, 1))[:, None]  # the business grows a little
    hours = np.array([v.HOUR_PROFILES[s.hours] for s in v.STREAMS]).T  # (24, streams)
    hours /= hours.sum(axis=0)
    cells = (daily[:, None, :] * hours[None, :, :]).reshape(days * 24, len(v.STREAMS))
    totals = cells.sum(axis=1)
    counts = rng.multinomial(rows, totals / totals.sum())
    cum = np.cumsum(cells / np.where(totals > 0, totals, 1)[:, None], axis=1)
    cum[:, -1] = 1.0
    stream_cum = (np.arange(len(cells))[:, None] + cum).ravel()

    return Plan(
        rows=rows, seed=seed, chunk_rows=CHUNK_ROWS, first_day=first, last_day=end,
        dates=np.array(local_days, dtype="datetime64[D]"), day_start_us=day_start_us,
        cell_end=np.cumsum(counts), stream_cum=stream_cum,
        contacts=_contacts(rng, max(100, rows // CONTACTS_PER_ROWS)),
        key=mix64(np.array([seed], dtype=np.uint64))[0],
    )


def _contacts(rng: np.random.Generator, audience: int) -> Contacts:
    total = audience + max(50, audience // 4)
    prefixes, weights = [], []
    for code, areas, share in v.COUNTRIES:
        area_total = sum(w for _, w in areas)
        for area, w in areas:
            prefixes.append(f"+{code}{area}" + ("9" if code == "55" else ""))
            weights.append(share * w / area_total)
    choice = rng.choice(len(prefixes), size=total, p=np.array(weights) / sum(weights))
    prefix_len = np.array([len(p) for p in prefixes])[choice]
    prefix_mat = np.zeros((len(prefixes), 6), dtype=np.uint8)
    for i, p in enumerate(prefixes):
        prefix_mat[i, : len(p)] = np.frombuffer(p.encode(), dtype=np.uint8)
    # Eight subscriber digits, unique per contact: a leading 6-9 and a bijective scramble of the rest.
    index = np.arange(total)
    offset = int(rng.integers(10**7))
    subscriber = (6 + index % 4) * 10**7 + (index // 4 * 7_654_321 + offset) % 10**7
    phone = np.zeros((total, 14), dtype=np.uint8)
    phone[:, :6] = prefix_mat[choice]
    digits = dec_digits(subscriber, 8)
    for length in np.unique(prefix_len):
        rows = prefix_len == length
        phone[rows, length:length + 8] = digits[rows]

    first = rng.integers(len(v.FIRST_NAMES), size=total)
    # WhatsApp profile names: full name, first name only, first name and an emoji, or none at all.
    second = np.where(rng.random(total) < 0.8, rng.integers(len(v.LAST_NAMES), size=total),
                      len(v.LAST_NAMES) + rng.integers(len(v.PROFILE_EMOJI), size=total))
    style = rng.choice(3, size=total, p=[0.7, 0.25, 0.05])
    first_text = take_strings(v.FIRST_NAMES, first)
    full = pc.binary_join_element_wise(first_text, take_strings(v.LAST_NAMES + v.PROFILE_EMOJI, second), " ")
    profile = pc.if_else(pa.array(style == 0), full,
                         pc.if_else(pa.array(style == 1), first_text, pa.scalar(None, pa.string())))
    return Contacts(
        audience=audience,
        phone=phone,
        phone_len=prefix_len + 8,
        first_name=first,
        profile=profile,
        abroad=np.array([not p.startswith("+55") for p in prefixes])[choice],
        phase_us=rng.integers(0, DAY_US // SECOND_US, size=total) * SECOND_US,
    )


# ---- one chunk ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    mt: pa.Table  # in sent_at order
    mo: pa.Table  # in received_at order
    mt_last_sent_us: int


def make_chunk(plan: Plan, k: int) -> Chunk:
    """MT rows [k * chunk_rows, ...) of the plan and the MOs that answer them or open sessions."""
    rng = np.random.default_rng([plan.seed, 1, k])
    first_row = k * plan.chunk_rows
    row = np.arange(first_row, min(plan.rows, first_row + plan.chunk_rows), dtype=np.int64)
    n = len(row)
    contacts = plan.contacts

    cell = np.searchsorted(plan.cell_end, row, side="right")
    day = cell // 24
    # Row i of an hour's n rows falls in [i/n, (i+1)/n) of it: time order holds across chunks too.
    count = np.diff(plan.cell_end, prepend=0)[cell]
    position = row - (plan.cell_end[cell] - count) + rng.random(n)
    sent = plan.day_start_us[day] + (cell % 24) * HOUR_US + (position * 3_600_000 / count).astype(np.int64) * 1000
    streams = len(v.STREAMS)
    stream = np.searchsorted(plan.stream_cum, cell + rng.random(n), side="right") - cell * streams
    session = stream == SESSION_STREAM
    template = STREAM_TEMPLATE[stream]
    contact = np.where(session, rng.integers(contacts.audience, len(contacts.phone_len), n),
                       rng.integers(0, contacts.audience, n))
    user = np.empty(n, dtype=np.int64)
    for s in range(streams):
        rows = stream == s
        user[rows] = STREAM_USERS[s][rng.integers(len(STREAM_USERS[s]), size=int(rows.sum()))]

    # Status, provider route and error.
    status = np.where(session, rng.choice(len(STATUSES), n, p=SESSION_STATUS_P),
                      rng.choice(len(STATUSES), n, p=TEMPLATE_STATUS_P))
    failed = FAILURE_MASK[status]
    meta = rng.random(n) < META_SHARE
    # Agents often write twice: a session message within the hour after another answers the same
    # customer, in the same window, on the same number.
    session_rows = np.flatnonzero(session)
    leader, follower = session_rows[0:-1:2], session_rows[1::2]  # disjoint pairs of neighbours
    pair = ((sent[follower] - sent[leader] < HOUR_US) & (status[leader] != INVALID_SESSION)
            & (status[follower] != INVALID_SESSION))
    leader, follower = leader[pair], follower[pair]
    contact[follower], meta[follower] = contact[leader], meta[leader]
    follow_up = np.zeros(n, dtype=bool)
    follow_up[follower] = True
    error = np.full(n, -1)
    for (s, route), (options, p) in ERROR_OPTIONS.items():
        rows = np.flatnonzero((status == s) & (meta == route))
        error[rows] = options[rng.choice(len(options), len(rows), p=p)]
    meta = np.where(failed, ERROR_META[error], meta)  # a status only one provider reports moves there

    # Status times: delivery in seconds (sometimes hours: phone off), reading in minutes to days.
    delivered = (status == DELIVERED) | (status == READ)
    delivery_ms = rng.lognormal(np.log(2500), 1.0, n) + (rng.random(n) < 0.03) * rng.exponential(2 * 3_600_000, n)
    delivered_at = sent + np.maximum(delivery_ms, 200).astype(np.int64) * 1000
    read_ms = np.minimum(rng.lognormal(np.log(20 * 60_000), 1.6, n), 3 * 86_400_000)
    read_at = delivered_at + read_ms.astype(np.int64) * 1000
    fail_ms = rng.lognormal(np.log(1500), 0.8, n) + (status == TTL_EXPIRED) * 86_400_000
    failed_at = sent + fail_ms.astype(np.int64) * 1000
    status_at = np.where(status == READ, read_at, np.where(delivered, delivered_at, np.where(failed, failed_at, sent)))

    # Content and session.
    variant = np.where(session, 0, template)
    content = np.zeros(n, dtype=np.int64)
    pick = rng.choice(len(SESSION_P), len(session_rows), p=SESSION_P)
    content[session_rows], variant[session_rows] = SESSION_CT[pick], SESSION_TEXT[pick]
    with_session = session & (status != INVALID_SESSION)

    # Conversations: per contact and category, fixed windows (72 h for free entry points).
    category = np.where(session, np.where(rng.random(n) < 0.2, REFERRAL, SERVICE), TEMPLATE_CATEGORY[template])
    category[follower] = category[leader]
    category = np.where((category == AUTH) & contacts.abroad[contact], AUTH_INTL, category)
    referral = category == REFERRAL
    window = np.where(referral, 3 * DAY_US, DAY_US)
    phase = contacts.phase_us[contact]
    bucket = (sent - phase) // window
    expires = phase + (bucket + 1) * window
    has_conversation = ~failed & (referral | (rng.random(n) < np.where(meta, 0.75, 0.95)))
    conversation_raw = np.where(meta, category, SINCH_RAW[category])
    # A provider is a separate business number, hence a separate conversation.
    conversation_key = mix64((contact.astype(np.uint64) * np.uint64(16) + category.astype(np.uint64) * np.uint64(2)
                              + meta.astype(np.uint64)) ^ plan.key)
    conversation_id = strings(np.hstack([
        hex_digits(conversation_key, 16),
        hex_digits(mix64(conversation_key ^ mix64(bucket.astype(np.uint64) + np.uint64(1))), 16),
    ]))
    has_pricing = meta & ~failed

    # Texts.
    params = _params(rng, plan, contacts, contact, day, row)
    message = _texts(variant, params, n)
    corr_digits = strings(dec_digits(mix64(row.astype(np.uint64) ^ ~plan.key) % np.uint64(10**8), 8))
    corr_prefix = take_strings(SUBACCOUNT_PREFIX, STREAM_SUBACCOUNT[stream])
    has_correlation = ~session & (rng.random(n) < 0.7)

    key = row.astype(np.uint64) * np.uint64(8) + np.uint64(KEY_MT)
    message_id = _ids(plan, key, meta, sent, contacts.phone[contact], contacts.phone_len[contact], mo=False)
    phone = strings(contacts.phone[contact], contacts.phone_len[contact])

    mo_rows = _mo_rows(
        rng, row, n, sent, status, delivered_at, read_at, template, content, referral, with_session & ~follow_up,
        meta, contact, contacts.audience, len(contacts.phone_len),
    )
    replied = np.zeros(n, dtype=bool)
    replied[mo_rows["anchor"][mo_rows["attributed"]]] = True
    clicked = mo_rows["attributed"] & (mo_rows["button"] >= 0)  # quick-reply clicks answering an MT
    clicks = np.bincount(mo_rows["anchor"][clicked], minlength=n)

    mt = pa.table({
        "message_id": message_id,
        "sent_at": _ts(sent),
        "status": categorical(STATUSES, status),
        "status_raw": categorical(RAW_STATUSES, np.where(
            meta, META_RAW[status], np.where(failed, ERROR_SINCH_RAW[error], SINCH_RAW_STATUS[status]))),
        "status_at": _ts(status_at),
        "delivered_at": _ts(delivered_at, delivered),
        "read_at": _ts(read_at, status == READ),
        "failed_at": _ts(failed_at, failed),
        "error_code": categorical([e.code for _, e in ERRORS], error),
        "error_title": categorical([e.title for _, e in ERRORS], error),
        "error_detail": categorical([e.detail for _, e in ERRORS], error),
        "phone": phone,
        "wa_user_id": pc.utf8_slice_codeunits(phone, 1),
        "subaccount": categorical(SUBACCOUNTS, STREAM_SUBACCOUNT[stream]),
        "user_name": categorical(USERS, user),
        "campaign": categorical(CAMPAIGNS, STREAM_CAMPAIGN[stream]),
        "content_type": categorical(MT_CONTENT_TYPES, content),
        "template_name": categorical(TEMPLATE_NAMES, template),
        "message": message,
        "sent_with_session": pa.array(with_session),
        "correlation_id": pc.if_else(pa.array(has_correlation),
                                     pc.binary_join_element_wise(corr_prefix, corr_digits, ""),
                                     pa.scalar(None, pa.string())),
        "conversation_id": pc.if_else(pa.array(has_conversation), conversation_id, pa.scalar(None, pa.string())),
        "conversation_type": categorical(CONVERSATION_TYPES, np.where(has_conversation, conversation_raw, -1)),
        "conversation_type_raw": categorical(CONVERSATION_RAW, np.where(has_conversation, conversation_raw, -1)),
        "conversation_expires_at": _ts(expires, has_conversation),
        "pricing_category": categorical(CATEGORIES, np.where(has_pricing, category, -1)),
        "pricing_type": categorical(PRICING_TYPES, np.where(has_pricing, CATEGORY_PRICING_TYPE[category], -1)),
        "source": categorical(("demo",), np.zeros(n, dtype=np.int64)),
        "has_send_log": pa.array(np.ones(n, dtype=bool)),
        "replied": pa.array(replied),
        "clicks": pa.array(clicks, type=pa.int32()),
    })

    mo = _mo_table(plan, mo_rows, message_id, stream, user, template)
    return Chunk(mt=mt, mo=mo, mt_last_sent_us=int(sent[-1]))


def _ts(values: np.ndarray, present: np.ndarray | None = None) -> pa.Array:
    mask = None if present is None else ~present
    return pa.array(values, type=pa.int64(), mask=mask).cast(TS)


def _params(rng, plan: Plan, contacts: Contacts, contact, day, row) -> dict[str, np.ndarray]:
    """Per-row values for the placeholders; turned into text only for the rows that use them."""
    n = len(row)
    reais = np.clip(np.rint(rng.lognormal(np.log(160), 0.9, n)), 9, 4999).astype(np.int64)
    return {
        "nome": contacts.first_name[contact],
        "valor": reais * 100 + rng.choice([0, 90, 99, 50], n, p=[0.3, 0.4, 0.2, 0.1]),
        "data": plan.dates[day] + rng.integers(1, 11, n).astype("timedelta64[D]"),
        "pedido": 1_000_000 + (mix64(row.astype(np.uint64) ^ plan.key) % np.uint64(9_000_000)).astype(np.int64),
        "codigo": rng.integers(0, 1_000_000, n),
        "hora": rng.integers(8, 18, n) * 100 + rng.choice([0, 15, 30, 45], n),
    }


def _param_text(name: str, values: np.ndarray) -> pa.Array:
    if name == "nome":
        return take_strings(v.FIRST_NAMES, values)
    if name == "valor":
        return money_brl(values)
    if name == "data":  # dd/mm
        month = values.astype("datetime64[M]")
        day_of_month = (values - month).astype(np.int64) + 1
        slash = np.full((len(values), 1), ord("/"), dtype=np.uint8)
        return strings(np.hstack([dec_digits(day_of_month, 2), slash, dec_digits(month.astype(np.int64) % 12 + 1, 2)]))
    if name == "hora":  # HH:MM
        colon = np.full((len(values), 1), ord(":"), dtype=np.uint8)
        return strings(np.hstack([dec_digits(values // 100, 2), colon, dec_digits(values % 100, 2)]))
    digits = {"pedido": 7, "codigo": 6}[name]
    return strings(dec_digits(values, digits))


def _texts(variant: np.ndarray, params: dict[str, np.ndarray], n: int) -> pa.Array:
    order = np.argsort(variant, kind="stable")
    bounds = np.searchsorted(variant[order], np.arange(len(MT_TEXTS) + 1))
    groups = []
    for text_index, parts in enumerate(MT_TEXTS):
        rows = order[bounds[text_index]:bounds[text_index + 1]]
        if not len(rows):
            continue
        if parts is None:
            groups.append((rows, pa.nulls(len(rows), pa.string())))
        elif len(parts) == 1:
            groups.append((rows, categorical(parts, np.zeros(len(rows), dtype=np.int64))))
        else:
            values = {name: _param_text(name, params[name][rows]) for name in parts[1::2]}
            groups.append((rows, fill(parts, values)))
    return scatter(groups, n)


def _ids(plan: Plan, key: np.ndarray, meta: np.ndarray, at_us: np.ndarray, phone: np.ndarray,
         phone_len: np.ndarray, mo: bool) -> pa.Array:
    """wamid ids for Meta rows (they embed the customer's number), version-7 uuids for Sinch rows."""
    unique = mix64(key ^ plan.key)
    extra = mix64(unique)
    groups = []
    for length in np.unique(phone_len[meta]):
        rows = np.flatnonzero(meta & (phone_len == length))
        groups.append((rows, _wamids(unique[rows], extra[rows], phone[rows, 1:length], mo)))
    rows = np.flatnonzero(~meta)
    if len(rows):
        groups.append((rows, _uuid7(unique[rows], extra[rows], at_us[rows])))
    return scatter(groups, len(key))


_WAMID_PREFIX = np.frombuffer(b"wamid.", dtype=np.uint8)
# Meta's layout: Thrift-encoded (phone digits, hex id) in base64. MT ids carry 18 hex digits, MO ids
# 20 starting with "3A", as in Meta's published examples.
_WAMID_MIDDLE = {False: np.frombuffer(b"\x15\x02\x00\x11\x18\x12", dtype=np.uint8),
                 True: np.frombuffer(b"\x15\x02\x00\x12\x18\x143A", dtype=np.uint8)}


def _wamids(unique: np.ndarray, extra: np.ndarray, digits: np.ndarray, mo: bool) -> pa.Array:
    n, length = digits.shape
    middle = _WAMID_MIDDLE[mo]
    raw = np.empty((n, 3 + length + len(middle) + 19), dtype=np.uint8)
    raw[:, :3] = (0x1C, 0x18, length)
    raw[:, 3:3 + length] = digits
    at = 3 + length + len(middle)
    raw[:, 3 + length:at] = middle
    raw[:, at:at + 2] = hex_digits(extra, 2, upper=True)
    raw[:, at + 2:at + 18] = hex_digits(unique, 16, upper=True)
    raw[:, at + 18] = 0
    encoded = base64_rows(raw)
    text = np.empty((n, len(_WAMID_PREFIX) + encoded.shape[1]), dtype=np.uint8)
    text[:, :len(_WAMID_PREFIX)] = _WAMID_PREFIX
    text[:, len(_WAMID_PREFIX):] = encoded
    return strings(text)


def _uuid7(unique: np.ndarray, extra: np.ndarray, at_us: np.ndarray) -> pa.Array:
    """Version-7 uuids: the millisecond timestamp first, so ids sort by time (cheap for the PK index)."""
    ms = hex_digits((at_us // 1000).astype(np.uint64), 12)
    random = hex_digits(unique, 16)
    text = np.full((len(unique), 36), ord("-"), dtype=np.uint8)
    text[:, 0:8], text[:, 9:13] = ms[:, :8], ms[:, 8:]
    text[:, 14] = ord("7")
    text[:, 15:18] = random[:, :3]
    text[:, 19] = np.frombuffer(b"89ab", dtype=np.uint8)[(extra & np.uint64(3)).astype(np.intp)]
    text[:, 20:23] = random[:, 3:6]
    text[:, 24:26], text[:, 26:36] = hex_digits(extra >> np.uint64(8), 2), random[:, 6:]
    return strings(text)


# ---- MOs ----------------------------------------------------------------------------------------


def _mo_rows(rng, row, n, sent, status, delivered_at, read_at, template, content, referral, opened,
             meta, contact, audience, total_contacts) -> dict[str, np.ndarray]:
    """The chunk's MOs as index arrays: quick-reply clicks, free-text replies, session openers, strangers."""
    is_read = status == READ
    reached = is_read | (status == DELIVERED)
    seen_at = np.where(is_read, read_at, delivered_at)
    parts = []

    # Clicks on a template's quick replies and on the agents' interactive menu.
    has_buttons = HAS_BUTTONS[template]
    menu = content == INTERACTIVE
    p_click = np.where(has_buttons, np.where(is_read, 0.16, 0.05), np.where(menu, np.where(is_read, 0.45, 0.2), 0))
    clicks = np.flatnonzero(reached & (rng.random(n) < p_click))
    button = np.empty(len(clicks), dtype=np.int64)
    for t in np.unique(template[clicks]):
        rows = template[clicks] == t
        options = MENU if t < 0 else TEMPLATE_BUTTONS[t]
        p = 0.55 ** np.arange(len(options))
        button[rows] = options[rng.choice(len(options), int(rows.sum()), p=p / p.sum())]
    delay = np.minimum(rng.lognormal(np.log(90_000), 1.3, len(clicks)), 20 * 3_600_000).astype(np.int64) * 1000
    parts.append(dict(
        anchor=clicks, kind=np.full(len(clicks), KEY_CLICK), attributed=np.ones(len(clicks), dtype=bool),
        at=seen_at[clicks] + delay, content=np.where(menu[clicks], MO_INTERACTIVE, MO_BUTTON),
        text=BUTTON_TEXT[button],
        button=button, referral=np.full(len(clicks), -1), meta=meta[clicks], contact=contact[clicks],
    ))

    # Free-text (and media) replies within the 24 h window, to messages seen inside it. (Clicks keep
    # their context whenever they come, so they need no window.)
    answerable = ((template >= 0) | TEXT_LIKE[content]) & (seen_at < sent + REPLY_MAX_US)
    p_text = np.where(template >= 0, 0.045, 0.2)
    texts = np.flatnonzero(reached & answerable & (rng.random(n) < p_text))
    delay = rng.lognormal(np.log(25 * 60_000), 1.6, len(texts)).astype(np.int64) * 1000
    at = np.minimum(seen_at[texts] + delay, sent[texts] + REPLY_MAX_US)
    pick = rng.choice(len(REPLY_P), len(texts), p=REPLY_P)
    parts.append(dict(
        anchor=texts, kind=np.full(len(texts), KEY_TEXT), attributed=np.ones(len(texts), dtype=bool),
        at=at, content=REPLY_CT[pick], text=REPLY_TEXT[pick], button=np.full(len(texts), -1),
        referral=np.full(len(texts), -1), meta=meta[texts], contact=contact[texts],
    ))

    # The customer's message that opened the window each `opened` session MT answers (an ad click for
    # free entry points); nothing was sent to them before, so nothing is attributed.
    openers = np.flatnonzero(opened)
    lead = np.clip(rng.lognormal(np.log(180_000), 1.0, len(openers)), 5_000, OPENER_MAX_LEAD_US // 1000)
    ad = rng.integers(len(AD_TEXT), size=len(openers))
    from_ad = referral[openers]
    parts.append(dict(
        anchor=openers, kind=np.full(len(openers), KEY_OPENER), attributed=np.zeros(len(openers), dtype=bool),
        at=sent[openers] - lead.astype(np.int64) * 1000, content=np.full(len(openers), MO_TEXT),
        text=np.where(from_ad, AD_TEXT[ad], OPENER_TEXT[rng.choice(len(OPENER_P), len(openers), p=OPENER_P)]),
        button=np.full(len(openers), -1), referral=np.where(from_ad, ad, -1), meta=meta[openers],
        contact=contact[openers],
    ))

    # People who wrote and got no answer (yet).
    strangers = np.sort(rng.choice(n, size=max(1, n // 250), replace=False))
    count = len(strangers)
    parts.append(dict(
        anchor=strangers, kind=np.full(count, KEY_STRANGER), attributed=np.zeros(count, dtype=bool),
        at=rng.integers(sent[0], sent[-1] + 1, count) // 1000 * 1000, content=np.full(count, MO_TEXT),
        text=OPENER_TEXT[rng.choice(len(OPENER_P), count, p=OPENER_P)], button=np.full(count, -1),
        referral=np.full(count, -1), meta=rng.random(count) < META_SHARE,
        contact=rng.integers(audience, total_contacts, count),
    ))

    merged = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    merged["key"] = row[merged["anchor"]].astype(np.uint64) * np.uint64(8) + merged["kind"].astype(np.uint64)
    order = np.argsort(merged["at"], kind="stable")
    return {name: values[order] for name, values in merged.items()}


def _mo_table(plan: Plan, mo: dict[str, np.ndarray], mt_ids: pa.Array, stream, user, template) -> pa.Table:
    contacts = plan.contacts
    c = mo["contact"]
    anchor = mo["anchor"]
    attributed = mo["attributed"]
    phone = strings(contacts.phone[c], contacts.phone_len[c])
    mt_stream = stream[anchor]
    in_reply_to = pc.if_else(pa.array(attributed), mt_ids.take(pa.array(anchor)), pa.scalar(None, pa.string()))
    return pa.table({
        "message_id": _ids(plan, mo["key"], mo["meta"], mo["at"], contacts.phone[c], contacts.phone_len[c], mo=True),
        "received_at": _ts(mo["at"]),
        "phone": phone,
        "wa_user_id": pc.utf8_slice_codeunits(phone, 1),
        "profile_name": contacts.profile.take(pa.array(c)),
        "subaccount": categorical(SUBACCOUNTS, np.where(attributed, STREAM_SUBACCOUNT[mt_stream], -1)),
        "user_name": categorical(USERS, np.where(attributed, user[anchor], -1)),
        "campaign": categorical(CAMPAIGNS, np.where(attributed, STREAM_CAMPAIGN[mt_stream], -1)),
        "template_name": categorical(TEMPLATE_NAMES, np.where(attributed, template[anchor], -1)),
        "in_reply_to": in_reply_to,
        "content_type": categorical(MO_CONTENT_TYPES, mo["content"]),
        "message": categorical(MO_TEXTS, mo["text"]),
        "button_payload": categorical([p for p, _ in BUTTONS], mo["button"]),
        "button_text": categorical([t for _, t in BUTTONS], mo["button"]),
        "referral": categorical(REFERRALS, mo["referral"]),
        "source": categorical(("demo",), np.zeros(len(c), dtype=np.int64)),
        # Every demo reply quotes the MT it answers (WhatsApp's context), so that is its attribution.
        "context_id": in_reply_to,
        "attribution": categorical(("context",), np.where(attributed, 0, -1)),
    })


class MoOrderer:
    """Releases MO rows in received_at order across chunks: a chunk's late replies wait for the next."""

    def __init__(self) -> None:
        self._pending: pa.Table | None = None

    def push(self, chunk: Chunk) -> pa.Table:
        """The MOs that no later chunk can precede (later chunks' openers start OPENER_MAX_LEAD_US early)."""
        table = chunk.mo if self._pending is None else _merge(self._pending, chunk.mo)
        cut = int(np.searchsorted(_micros(table), chunk.mt_last_sent_us - OPENER_MAX_LEAD_US, side="left"))
        self._pending = table.slice(cut)
        return table.slice(0, cut)

    def flush(self) -> pa.Table | None:
        rest, self._pending = self._pending, None
        return rest


def _micros(table: pa.Table) -> np.ndarray:
    return table.column("received_at").cast(pa.int64()).to_numpy()


def _merge(older: pa.Table, newer: pa.Table) -> pa.Table:
    both = pa.concat_tables([older, newer.cast(older.schema)])
    return both.take(pa.array(np.argsort(_micros(both), kind="stable")))
