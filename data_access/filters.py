"""One frozen filter value per view (`MtFilters`, `MoFilters`), built from widgets, URL query
parameters, command-line flags or a saved search, and read by every query, cache key and export.

Three faces of the same value (see datasette's `Filters`):
- `where()` -> bound SQLAlchemy conditions (no value is ever pasted into SQL);
- `to_params()` / `from_params()` -> the URL query parameters of SPEC section 4 (also the CLI names);
- `describe(lang)` -> (label, value) pairs for the export filters block and the summary line.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Table, and_, false, or_, select, true

from data_access.catalog import CONVERSATION_TYPES, MO_CONTENT_TYPES, MT_CONTENT_TYPES, STATUSES
from data_access.config import DEFAULT_TZ, SettingError, check_tz
from data_access.i18n import date_format, label, t
from data_access.schema import business_number, mo_message, mt_message
from data_access.scope import Scope

SESSIONS = ("open", "closed")
DEFAULT_RANGE_DAYS = 7
# The days a search may cover (the ingest keeps timestamps of these years only).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


class FilterError(ValueError):
    """A filter value the report cannot use.

    The message is the command line's (flag names, English); `param` (the field's URL parameter:
    from, to, tz, status, phone...), `value` (the refused text) and `problem` (`value`: not accepted;
    `range`: a day outside FIRST_DAY..LAST_DAY; `order`: the end before the start) let the page say
    the same in its own words.
    """

    def __init__(self, message: str, param: str | None = None, value: str | None = None,
                 problem: str = "value") -> None:
        super().__init__(message)
        self.param, self.value, self.problem = param, value, problem


Op = Literal["in", "eq", "prefix", "flag", "owner"]
Widget = Literal["multiselect", "select", "radio", "text", "phone"]


@dataclass(frozen=True)
class Field:
    """One filter field: its URL parameter, the column it filters, how (`op`) and which widget shows it.

    Ops: `in` one of the chosen values; `eq` the one value; `prefix` the value's beginning (escaped);
    `flag` a boolean column, true for the value `flag_true`; `owner` rows a chosen subaccount owns
    (`owned_by`). `in` and `owner` take several values (repeated URL keys and CLI flags)."""

    param: str  # URL query parameter and CLI option name (CLI spells `_` as `-`)
    column: str
    op: Op
    widget: Widget
    label_key: str
    choices: tuple[str, ...] | None = None  # the accepted values, when the catalogue fixes them
    label_kind: str | None = None  # i18n kind of its values (status, content_type, ...)
    options: str | None = None  # the `FilterOptions` list that offers values found in the data
    via: Via | None = None  # the column is on another table's row that this row names
    flag_true: str | None = None  # `flag`: the value that means the column is true
    normalise: Callable[[str], str] | None = None  # typed text -> the value searched (raises FilterError)
    any_key: str = "filter.any"  # the words for "no filter" in a select or radio

    @property
    def multi(self) -> bool:
        return self.op in ("in", "owner")

    def condition(self, table: Table, value: Any) -> ColumnElement[bool]:
        """The bound SQL condition of `value` (set, not empty) over `table`."""
        if self.via is None:
            return _WHERE[self.op](self, table, value)
        other = self.via.table
        named = select(other.c[self.via.key]).where(_WHERE[self.op](self, other, value))
        return table.c[self.via.column].in_(named)


@dataclass(frozen=True)
class Via:
    """A link to another table's row: this table's `column` holds that row's `key`."""

    column: str
    table: Table
    key: str


_WHERE: dict[str, Callable[[Field, Table, Any], ColumnElement[bool]]] = {
    "in": lambda field, table, values: table.c[field.column].in_(values),
    "eq": lambda field, table, value: table.c[field.column] == value,
    "prefix": lambda field, table, value: table.c[field.column].startswith(value, autoescape=True),
    "flag": lambda field, table, value: table.c[field.column].is_(value == field.flag_true),
    "owner": lambda field, table, values: owned_by(table, values),
}


def today_in(tz: str) -> date:
    return datetime.now(ZoneInfo(tz)).date()


def default_range(tz: str, today: date | None = None) -> tuple[date, date]:
    """The last 7 calendar days in `tz`, today included."""
    end = today or today_in(tz)
    return end - timedelta(days=DEFAULT_RANGE_DAYS - 1), end


def normalise_phone(text: str) -> str:
    """'+55 (11) 98765-4321' -> '+5511987654321'; a prefix such as '5511' -> '+5511'."""
    digits = re.sub(r"\D", "", text)
    if not digits:
        raise FilterError(
            f"phone {text!r} has no digits: give a number or its beginning, e.g. +5511", "phone", text
        )
    return "+" + digits


def check_period(date_from: date, date_to: date, tz: str) -> None:
    """Raises FilterError (naming the parameter) for a time zone that does not exist, a day outside
    FIRST_DAY..LAST_DAY or an end before the start: the period rules of every report's search."""
    try:
        check_tz(tz)
    except SettingError as exc:
        raise FilterError(str(exc), "tz", tz) from None
    for param, day in (("from", date_from), ("to", date_to)):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise FilterError(
                f"--{param} {day.isoformat()} is outside the days the report covers: "
                f"use a day from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}",
                param, day.isoformat(), "range",
            )
    if date_to < date_from:
        raise FilterError(
            f"--to {date_to.isoformat()} is before --from {date_from.isoformat()}: "
            "the end date must be on or after the start date",
            "to", date_to.isoformat(), "order",
        )


@dataclass(frozen=True)
class Filters:
    """A search of one view: the period, its time zone and the view's `FIELDS`; one frozen subclass a view."""

    date_from: date
    date_to: date
    tz: str = DEFAULT_TZ
    subaccount: tuple[str, ...] = ()
    user: tuple[str, ...] = ()
    campaign: tuple[str, ...] = ()
    content_type: tuple[str, ...] = ()
    phone: str | None = None
    # Who is looking (SPEC 9): applied by `where()` under every query; not a URL parameter.
    scope: Scope = Scope.ALL

    table: ClassVar[Table]
    time_column: ClassVar[str]
    view: ClassVar[str]
    FIELDS: ClassVar[dict[str, Field]]

    def __post_init__(self) -> None:
        check_period(self.date_from, self.date_to, self.tz)
        for name, spec in self.FIELDS.items():
            value = getattr(self, name)
            values = value if spec.multi else (() if value is None else (value,))
            if spec.choices is not None:
                for v in values:
                    if v not in spec.choices:
                        raise FilterError(
                            f"unknown {spec.param} {v!r}: accepted are {', '.join(spec.choices)}", spec.param, v
                        )
            if spec.normalise is not None and value is not None:
                object.__setattr__(self, name, spec.normalise(value))

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def default(cls, tz: str = DEFAULT_TZ, today: date | None = None):
        """The search a page opens with: the last 7 days, nothing else."""
        start, end = default_range(tz, today)
        return cls(date_from=start, date_to=end, tz=tz)

    @classmethod
    def from_params(cls, params: Mapping[str, str | Sequence[str]], today: date | None = None):
        """From URL query parameters (repeated keys as lists) or the same names from the CLI.

        Missing dates take the default range; empty strings count as absent.
        """

        def values(name: str) -> tuple[str, ...]:
            raw = params.get(name)
            if raw is None:
                return ()
            items = [raw] if isinstance(raw, str) else list(raw)
            return tuple(dict.fromkeys(v.strip() for v in items if v and v.strip()))

        tz = (values("tz") or (DEFAULT_TZ,))[0]
        try:
            check_tz(tz)
        except SettingError as exc:
            raise FilterError(str(exc), "tz", tz) from None
        start, end = default_range(tz, today)
        from_text, to_text = values("from"), values("to")
        date_from = _parse_date("from", from_text[0]) if from_text else None
        date_to = _parse_date("to", to_text[0]) if to_text else None
        if date_from is None and date_to is not None:
            date_from = min(start, date_to)
        kwargs: dict[str, object] = {
            "date_from": date_from or start,
            "date_to": date_to or max(end, date_from or end),
            "tz": tz,
        }
        for name, spec in cls.FIELDS.items():
            got = values(spec.param)
            kwargs[name] = got if spec.multi else (got[0] if got else None)
        return cls(**kwargs)

    @classmethod
    def from_link(cls, params: Mapping[str, str | Sequence[str]], today: date | None = None):
        """Like `from_params`, but a refused value costs only itself: it is dropped and the rest of
        the link kept. Returns (the search, the refusals in the order met)."""
        kept = {name: [raw] if isinstance(raw, str) else list(raw) for name, raw in params.items()}
        refused: list[FilterError] = []
        while True:
            try:
                return cls.from_params(kept, today), tuple(refused)
            except FilterError as exc:
                if exc.param not in kept:  # not a value of the link: nothing to drop
                    raise
                refused.append(exc)
                rest = [v for v in kept[exc.param] if v.strip() != exc.value]
                if len(rest) == len(kept[exc.param]):  # the value was spelt differently: drop the parameter
                    rest = []
                kept[exc.param] = rest

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    # -- faces ----------------------------------------------------------------------------------

    def to_params(self) -> dict[str, list[str]]:
        """The URL query parameters of this search (only what is set), `from`/`to`/`tz` always."""
        params: dict[str, list[str]] = {
            "from": [self.date_from.isoformat()],
            "to": [self.date_to.isoformat()],
            "tz": [self.tz],
        }
        for name, spec in self.FIELDS.items():
            value = getattr(self, name)
            if spec.multi and value:
                params[spec.param] = list(value)
            elif not spec.multi and value is not None:
                params[spec.param] = [value]
        return params

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in UTC of the calendar days `date_from`..`date_to` in the report's zone."""
        zone = ZoneInfo(self.tz)
        start = datetime.combine(self.date_from, time.min, tzinfo=zone)
        end = datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=zone)
        return start.astimezone(timezone.utc), end.astimezone(timezone.utc)

    def where(self, table: Table | None = None) -> ColumnElement[bool]:
        """The search as one bound SQL condition over `table` (default: the view's table)."""
        table = self.table if table is None else table
        start, end = self.utc_bounds()
        when = table.c[self.time_column]
        conditions: list[ColumnElement[bool]] = [when >= start, when < end]
        for name, spec in self.FIELDS.items():
            value = getattr(self, name)
            if value not in (None, ()):
                conditions.append(spec.condition(table, value))
        if not self.scope.all:
            conditions.append(scope_condition(self.scope, table))
        return and_(true(), *conditions)

    def describe(self, lang: str) -> list[tuple[str, str]]:
        """(label, value) pairs of what is set, in the report's language, period first."""
        fmt = date_format(lang)
        rows = [(t("export.period", lang), f"{self.date_from.strftime(fmt)} – {self.date_to.strftime(fmt)}")]
        for name, spec in self.FIELDS.items():
            value = getattr(self, name)
            if value in (None, ()):
                continue
            items = value if spec.multi else (value,)
            words = [label(spec.label_kind, v, lang) if spec.label_kind else v for v in items]
            rows.append((t(spec.label_key, lang), ", ".join(words)))
        rows.append((t("export.tz", lang), self.tz))
        return rows


def owned_by(table: Table, subaccounts: tuple[str, ...]) -> ColumnElement[bool]:
    """Rows of `table` that belong to one of `subaccounts`: attributed to it or, for MOs with no
    attributed subaccount, sent to a business number it owns (the `business_number` mapping)."""
    own = table.c.subaccount.in_(subaccounts)
    if "business_number" not in table.c:
        return own
    numbers = select(business_number.c.number).where(business_number.c.subaccount.in_(subaccounts))
    return or_(own, and_(table.c.subaccount.is_(None), table.c.business_number.in_(numbers)))


def scope_condition(scope: Scope, table: Table) -> ColumnElement[bool]:
    """The rows of `table` that `scope` may see: those its subaccounts own (`owned_by`); rows that no
    subaccount owns are seen by admins only."""
    if scope.all:
        return true()
    if not scope.subaccounts:
        return false()
    return owned_by(table, scope.subaccounts)


def _parse_date(param: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FilterError(f"bad date {param}={text!r}: use YYYY-MM-DD, e.g. 2026-11-25", param, text) from None


_COMMON_FIELDS = {
    "subaccount": Field("subaccount", "subaccount", "owner", "multiselect", "filter.subaccount", options="subaccounts"),
    "user": Field("user", "user_name", "in", "multiselect", "filter.user", options="users"),
    "campaign": Field("campaign", "campaign", "in", "multiselect", "filter.campaign", options="campaigns"),
}
_PHONE = Field("phone", "phone", "prefix", "phone", "filter.phone", normalise=normalise_phone)
# An MO carries the conversation fields of the MT it answers (`in_reply_to`, set by the ingest).
_ANSWERED_MT = Via("in_reply_to", mt_message, "message_id")
_CORRELATION_ID = Field("correlation_id", "correlation_id", "eq", "text", "filter.correlation_id")
_CONVERSATION_ID = Field("conversation_id", "conversation_id", "eq", "text", "filter.conversation_id")
_CONVERSATION_TYPE = Field("conversation_type", "conversation_type", "eq", "select", "filter.conversation_type",
                           choices=CONVERSATION_TYPES, label_kind="conversation_type")


def _content_type(choices: tuple[str, ...]) -> Field:
    return Field("content_type", "content_type", "in", "multiselect", "filter.content_type", choices=choices,
                 label_kind="content_type", options="content_types")


@dataclass(frozen=True)
class MtFilters(Filters):
    """A search of the Sent (MT) view."""

    session: str | None = None  # open | closed
    correlation_id: str | None = None
    status: tuple[str, ...] = ()
    conversation_id: str | None = None
    conversation_type: str | None = None

    table: ClassVar[Table] = mt_message
    time_column: ClassVar[str] = "sent_at"
    view: ClassVar[str] = "mt"
    # In the sidebar's order (SPEC section 4).
    FIELDS: ClassVar[dict[str, Field]] = {
        **_COMMON_FIELDS,
        "content_type": _content_type(MT_CONTENT_TYPES),
        "session": Field("session", "sent_with_session", "flag", "radio", "filter.session", choices=SESSIONS,
                         label_kind="session", flag_true="open", any_key="session.any"),
        "correlation_id": _CORRELATION_ID,
        "status": Field("status", "status", "in", "multiselect", "filter.status", choices=STATUSES,
                        label_kind="status"),
        "phone": _PHONE,
        "conversation_id": _CONVERSATION_ID,
        "conversation_type": _CONVERSATION_TYPE,
    }


@dataclass(frozen=True)
class MoFilters(Filters):
    """A search of the Received (MO) view."""

    correlation_id: str | None = None  # these three: of the MT the MO answers
    conversation_id: str | None = None
    conversation_type: str | None = None
    button: tuple[str, ...] = ()  # the clicked quick-reply button's text

    table: ClassVar[Table] = mo_message
    time_column: ClassVar[str] = "received_at"
    view: ClassVar[str] = "mo"
    FIELDS: ClassVar[dict[str, Field]] = {
        **_COMMON_FIELDS,
        "content_type": _content_type(MO_CONTENT_TYPES),
        "correlation_id": replace(_CORRELATION_ID, via=_ANSWERED_MT),
        "phone": _PHONE,
        "conversation_id": replace(_CONVERSATION_ID, via=_ANSWERED_MT),
        "conversation_type": replace(_CONVERSATION_TYPE, via=_ANSWERED_MT),
        "button": Field("button", "button_text", "in", "multiselect", "filter.button", options="buttons"),
    }


