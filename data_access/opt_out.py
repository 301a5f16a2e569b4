"""Opt-out: the contacts who asked to receive nothing more, the seed's "Relatório de Opt-out".

A contact opted out when, in the period:
- an MT to it failed with the status `opt_out` (Meta 131050, Sinch 204 DESTINATION_BLOCKED_BY_OPTOUT,
  legacy no_opt_in: the provider blocked the send); the instant is the MT's `sent_at`, so these are
  exactly the Sent report's rows with status `opt_out` for the same period; or
- an MO from it says only a stop word ("SAIR", "PARAR", "STOP" by default): the whole message, compared
  without case, accents or whitespace ("  Sair ", "SAÍR" and "s a i r" all match; "Sair já" does not).

One row per phone: its first opt-out in the period (and how), how many opt-out events it had there,
and the campaign it opted out after: the last MT sent to that phone before that first instant, on any
date. Everything obeys the viewer's `Scope`, as every other query does.

Stop words come from `OPT_OUT_STOP_WORDS`: the environment (comma-separated), else the root key of
`.streamlit/secrets.toml` (a comma-separated text, or a TOML list for words that hold a comma); see
`stop_words`.
"""
from __future__ import annotations

import dataclasses
import os
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import String, func, literal, select
from sqlalchemy.engine import Connection

from data_access.config import DEFAULT_TZ, SettingError, check_tz
from data_access.filters import FilterError, check_period, default_range, scope_condition
from data_access.i18n import date_format, t
from data_access.schema import mo_message, mt_message
from data_access.scope import Scope

STOP_WORDS_SETTING = "OPT_OUT_STOP_WORDS"
DEFAULT_STOP_WORDS = ("SAIR", "PARAR", "STOP")
KINDS = ("failure", "stop_word")  # how a contact opted out

# Whitespace, removed; then accents (combining marks), removed; then lower case. DuckDB strips every
# accent natively (`strip_accents`, far faster than `translate` or a regular expression over each
# message); PostgreSQL has no such function without the `unaccent` extension, so it maps the accented
# letters of Portuguese and Spanish (and other Latin-1 ones) with one `translate`.
_WHITESPACE = " \t\n\r\f\v\u00a0\u2007\u202f\u200b\u3000"
_COMBINING = "".join(map(chr, range(0x300, 0x370)))
_ACCENTED = "ÀÁÂÃÄÅàáâãäåÈÉÊËèéêëÌÍÎÏìíîïÒÓÔÕÖòóôõöÙÚÛÜùúûüÇçÑñÝýÿ"
_PLAIN = "AAAAAAaaaaaaEEEEeeeeIIIIiiiiOOOOOoooooUUUUuuuuCcNnYyy"


def stop_word_key(text: str) -> str:
    """`text` as stop words are compared: no whitespace, no accents, lower case ("  Saír\\n" -> "sair")."""
    kept = (ch for ch in unicodedata.normalize("NFD", text) if ch not in _WHITESPACE and not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", "".join(kept)).lower()


def _stop_word_key_sql(column: sa.ColumnElement, dialect: str, longest: int) -> sa.ColumnElement:
    """`stop_word_key` in SQL, every constant bound; NULL for a message too long to be a stop word of
    `longest` characters (more than three characters a letter once its whitespace is gone: room for
    two combining accents on each), so that only short messages pay for the accents."""
    for space in _WHITESPACE:
        column = func.replace(column, literal(space), literal(""))
    if dialect == "postgresql":
        key = func.lower(func.translate(column, literal(_ACCENTED + _COMBINING), literal(_PLAIN)))
    else:
        key = func.lower(func.strip_accents(column))
    return sa.case((func.length(column) <= 3 * longest, key))


def stop_words(setting: str | Sequence[str] | None = None) -> tuple[str, ...]:
    """The stop words: `setting` (a comma-separated text or a list), else the `OPT_OUT_STOP_WORDS`
    environment variable, else SAIR, PARAR, STOP. Blank entries are dropped; words equal once
    compared (`stop_word_key`) are kept once. A setting of only blanks means none: only failures count."""
    raw = setting if setting is not None else os.environ.get(STOP_WORDS_SETTING)
    if raw is None:
        return DEFAULT_STOP_WORDS
    items = raw.split(",") if isinstance(raw, str) else [str(item) for item in raw]
    kept: dict[str, str] = {}
    for item in items:
        word = " ".join(item.split())
        if stop_word_key(word):
            kept.setdefault(stop_word_key(word), word)
    return tuple(kept.values())


@dataclass(frozen=True)
class OptOutFilters:
    """A search of the Opt-out report: the period (calendar days in `tz`), the stop words and who looks."""

    date_from: date
    date_to: date
    tz: str = DEFAULT_TZ
    stop_words: tuple[str, ...] = DEFAULT_STOP_WORDS
    scope: Scope = Scope.ALL

    view: ClassVar[str] = "opt_out"

    def __post_init__(self) -> None:
        check_period(self.date_from, self.date_to, self.tz)
        object.__setattr__(self, "stop_words", stop_words(tuple(self.stop_words)))

    @classmethod
    def default(cls, tz: str = DEFAULT_TZ, today: date | None = None, **values: Any) -> OptOutFilters:
        """The last 7 days, as the other reports open."""
        start, end = default_range(tz, today)
        return cls(date_from=start, date_to=end, tz=tz, **values)

    @classmethod
    def from_params(cls, params: Mapping[str, str | Sequence[str]], today: date | None = None,
                    **values: Any) -> OptOutFilters:
        """From the URL's `from`, `to` and `tz` (missing dates: the last 7 days)."""

        def first(name: str) -> str | None:
            raw = params.get(name)
            items = [raw] if isinstance(raw, str) else list(raw or ())
            return next((item.strip() for item in items if item and item.strip()), None)

        tz = first("tz") or DEFAULT_TZ
        try:
            check_tz(tz)
        except SettingError as exc:
            raise FilterError(str(exc), "tz", tz) from None
        start, end = default_range(tz, today)
        date_from, date_to = (_parse_date(name, first(name)) for name in ("from", "to"))
        if date_from is None and date_to is not None:
            date_from = min(start, date_to)
        return cls(date_from=date_from or start, date_to=date_to or max(end, date_from or end), tz=tz, **values)

    def replace(self, **changes: Any) -> OptOutFilters:
        return dataclasses.replace(self, **changes)

    def to_params(self) -> dict[str, list[str]]:
        return {"from": [self.date_from.isoformat()], "to": [self.date_to.isoformat()], "tz": [self.tz]}

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in UTC of the calendar days `date_from`..`date_to` in the report's zone."""
        zone = ZoneInfo(self.tz)
        start = datetime.combine(self.date_from, time.min, tzinfo=zone)
        end = datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=zone)
        return start.astimezone(timezone.utc), end.astimezone(timezone.utc)

    def describe(self, lang: str) -> list[tuple[str, str]]:
        """(label, value) pairs: the period, the stop words, the time zone."""
        fmt = date_format(lang)
        return [
            (t("export.period", lang), f"{self.date_from.strftime(fmt)} – {self.date_to.strftime(fmt)}"),
            (t("opt_out.stop_words", lang), ", ".join(self.stop_words) or "–"),
            (t("export.tz", lang), self.tz),
        ]


def _parse_date(param: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FilterError(f"bad date {param}={text!r}: use YYYY-MM-DD, e.g. 2026-11-25", param, text) from None


@dataclass(frozen=True)
class OptOutContact:
    """One row of the report."""

    phone: str
    opted_out_at: datetime  # the first opt-out in the period (UTC)
    kind: str  # how that first opt-out happened: failure | stop_word
    detail: str | None  # failure: the provider's error code; stop word: the message as received
    events: int  # opt-out events of this phone in the period (blocked sends and stop-word messages)
    last_event_at: datetime
    subaccount: str | None  # of the first opt-out event
    campaign: str | None  # of the last MT sent to the phone before `opted_out_at` (any date)
    template_name: str | None
    last_sent_at: datetime | None  # when that MT was sent
    last_message_id: str | None


COLUMNS = tuple(field.name for field in dataclasses.fields(OptOutContact))


@dataclass(frozen=True)
class OptOutSummary:
    contacts: int  # phones that opted out in the period
    by_failure: int  # ... whose first opt-out was a blocked send
    by_stop_word: int  # ... whose first opt-out was a stop-word message
    blocked_sends: int  # MTs failed with `opt_out` in the period (the Sent report's figure)
    stop_messages: int  # MOs saying a stop word in the period


def _events(filters: OptOutFilters, dialect: str) -> sa.Subquery:
    """Every opt-out event of the period the scope may see: (phone, at, kind, detail, message_id, subaccount)."""
    mt, mo = mt_message, mo_message
    start, end = filters.utc_bounds()
    failures = select(
        mt.c.phone,
        mt.c.sent_at.label("at"),
        literal("failure", String).label("kind"),
        mt.c.error_code.label("detail"),
        mt.c.message_id,
        mt.c.subaccount,
    ).where(
        mt.c.status == "opt_out", mt.c.phone.is_not(None), mt.c.sent_at >= start, mt.c.sent_at < end,
        scope_condition(filters.scope, mt),
    )
    keys = sorted({stop_word_key(word) for word in filters.stop_words})
    messages = select(
        mo.c.phone, mo.c.received_at, literal("stop_word", String), mo.c.message, mo.c.message_id, mo.c.subaccount
    ).where(
        _stop_word_key_sql(mo.c.message, dialect, max(map(len, keys), default=0)).in_(keys), mo.c.phone.is_not(None),
        mo.c.received_at >= start, mo.c.received_at < end, scope_condition(filters.scope, mo),
    )
    return sa.union_all(failures, messages).subquery("event")


def _ranked_events(filters: OptOutFilters, dialect: str) -> sa.Subquery:
    """The period's events, each with its rank in its phone's events (1: the first), the phone's count
    of events and the time of its last one."""
    events = _events(filters, dialect)
    per_phone = {"partition_by": events.c.phone}
    return select(
        events,
        func.row_number().over(**per_phone, order_by=(events.c.at, events.c.kind, events.c.message_id)).label("rank"),
        func.count().over(**per_phone).label("events"),
        func.max(events.c.at).over(**per_phone).label("last_event_at"),
    ).subquery("ranked")


def _first_events(filters: OptOutFilters, dialect: str) -> sa.Subquery:
    """One row per phone: its first event of the period, with its count of events and the last one's time."""
    ranked = _ranked_events(filters, dialect)
    return select(ranked).where(ranked.c.rank == 1).subquery("first_event")


def contacts_select(filters: OptOutFilters, dialect: str, limit: int | None = None, offset: int = 0) -> sa.Select:
    """The report's rows (`limit` of them from `offset`, else all), latest opt-out first (ties by phone),
    in SQL of `dialect` (duckdb, postgresql). The contacts are ordered and cut first, and only theirs
    are looked up for the last MT sent before: a page costs the period's events plus 50 look-ups."""
    first = _first_events(filters, dialect)
    order = (first.c.at.desc(), first.c.phone)
    if limit is not None:
        first = select(first).order_by(*order).limit(limit).offset(offset).cte("first_of_page")
    mt = mt_message
    before = select(
        mt.c.phone,
        mt.c.campaign,
        mt.c.template_name,
        mt.c.sent_at,
        mt.c.message_id,
        func.row_number().over(partition_by=mt.c.phone, order_by=(mt.c.sent_at.desc(), mt.c.message_id.desc()))
        .label("rank"),
    ).join_from(mt, first, sa.and_(mt.c.phone == first.c.phone, mt.c.sent_at < first.c.at)).where(
        scope_condition(filters.scope, mt)
    ).subquery("sent_before")
    return (
        select(
            first.c.phone,
            first.c.at.label("opted_out_at"),
            first.c.kind,
            first.c.detail,
            first.c.events,
            first.c.last_event_at,
            first.c.subaccount,
            before.c.campaign,
            before.c.template_name,
            before.c.sent_at.label("last_sent_at"),
            before.c.message_id.label("last_message_id"),
        )
        .select_from(first)
        .outerjoin(before, sa.and_(before.c.phone == first.c.phone, before.c.rank == 1))
        .order_by(first.c.at.desc(), first.c.phone)
    )


def opt_out_page(conn: Connection, filters: OptOutFilters, page: int, page_size: int) -> tuple[OptOutContact, ...]:
    """Rows `page` (1-based) of the report, paged by the database."""
    query = contacts_select(filters, conn.dialect.name, page_size, max(page - 1, 0) * page_size)
    return tuple(OptOutContact(**row) for row in conn.execute(query).mappings())


def iter_opt_outs(conn: Connection, filters: OptOutFilters, batch_rows: int = 5_000) -> Iterator[OptOutContact]:
    """Every row of the report, streamed `batch_rows` at a time (exports)."""
    result = conn.execution_options(yield_per=batch_rows).execute(contacts_select(filters, conn.dialect.name))
    for row in result.mappings():
        yield OptOutContact(**row)


def opt_out_summary(conn: Connection, filters: OptOutFilters) -> OptOutSummary:
    """The report's figures, from one aggregate over the period's ranked events."""
    ranked = _ranked_events(filters, conn.dialect.name)
    first, kind = ranked.c.rank == 1, ranked.c.kind
    row = conn.execute(
        select(
            func.count().filter(first),
            func.count().filter(first, kind == "failure"),
            func.count().filter(first, kind == "stop_word"),
            func.count().filter(kind == "failure"),
            func.count().filter(kind == "stop_word"),
        )
    ).one()
    return OptOutSummary(*(int(n) for n in row))
