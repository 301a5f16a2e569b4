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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import ClassVar
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


@dataclass(frozen=True)
class _Field:
    """How one filter field maps to its URL parameter, its column and its allowed values."""

    param: str  # URL query parameter and CLI option name (CLI spells `_` as `-`)
    column: str | None  # table column it filters, None for the date range
    multi: bool = False
    choices: tuple[str, ...] | None = None
    label_kind: str | None = None  # i18n kind of its values (status, content_type, ...)
    label_key: str = ""


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


@dataclass(frozen=True)
class _Filters:
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
    FIELDS: ClassVar[dict[str, _Field]]

    def __post_init__(self) -> None:
        try:
            check_tz(self.tz)
        except SettingError as exc:
            raise FilterError(str(exc), "tz", self.tz) from None
        for param, day in (("from", self.date_from), ("to", self.date_to)):
            if not FIRST_DAY <= day <= LAST_DAY:
                raise FilterError(
                    f"--{param} {day.isoformat()} is outside the days the report covers: "
                    f"use a day from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}",
                    param, day.isoformat(), "range",
                )
        if self.date_to < self.date_from:
            raise FilterError(
                f"--to {self.date_to.isoformat()} is before --from {self.date_from.isoformat()}: "
                "the end date must be on or after the start date",
                "to", self.date_to.isoformat(), "order",
            )
        for name, spec in self.FIELDS.items():
            value = getattr(self, name)
            values = value if spec.multi else (() if value is None else (value,))
            if spec.choices is not None:
                for v in values:
                    if v not in spec.choices:
                        raise FilterError(
                            f"unknown {spec.param} {v!r}: accepted are {', '.join(spec.choices)}", spec.param, v
                        )
        if self.phone is not None:
            object.__setattr__(self, "phone", normalise_phone(self.phone))

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
            if spec.column is None or value in (None, ()):
                continue
            column = table.c[spec.column]
            if name == "phone":
                conditions.append(column.startswith(value, autoescape=True))
            elif name == "subaccount":
                conditions.append(owned_by(table, value))
            elif name == "session":
                conditions.append(column.is_(value == "open"))
            elif spec.multi:
                conditions.append(column.in_(value))
            else:
                conditions.append(column == value)
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
    "subaccount": _Field("subaccount", "subaccount", multi=True, label_key="filter.subaccount"),
    "user": _Field("user", "user_name", multi=True, label_key="filter.user"),
    "campaign": _Field("campaign", "campaign", multi=True, label_key="filter.campaign"),
}


@dataclass(frozen=True)
class MtFilters(_Filters):
    """A search of the Sent (MT) view."""

    session: str | None = None  # open | closed
    correlation_id: str | None = None
    status: tuple[str, ...] = ()
    conversation_id: str | None = None
    conversation_type: str | None = None

    table: ClassVar[Table] = mt_message
    time_column: ClassVar[str] = "sent_at"
    view: ClassVar[str] = "mt"
    FIELDS: ClassVar[dict[str, _Field]] = {
        **_COMMON_FIELDS,
        "content_type": _Field(
            "content_type", "content_type", multi=True, choices=MT_CONTENT_TYPES,
            label_kind="content_type", label_key="filter.content_type",
        ),
        "session": _Field("session", "sent_with_session", choices=SESSIONS, label_kind="session",
                          label_key="filter.session"),
        "correlation_id": _Field("correlation_id", "correlation_id", label_key="filter.correlation_id"),
        "status": _Field("status", "status", multi=True, choices=STATUSES, label_kind="status",
                         label_key="filter.status"),
        "phone": _Field("phone", "phone", label_key="filter.phone"),
        "conversation_id": _Field("conversation_id", "conversation_id", label_key="filter.conversation_id"),
        "conversation_type": _Field(
            "conversation_type", "conversation_type", choices=CONVERSATION_TYPES,
            label_kind="conversation_type", label_key="filter.conversation_type",
        ),
    }


@dataclass(frozen=True)
class MoFilters(_Filters):
    """A search of the Received (MO) view."""

    button: tuple[str, ...] = ()  # the clicked quick-reply button's text

    table: ClassVar[Table] = mo_message
    time_column: ClassVar[str] = "received_at"
    view: ClassVar[str] = "mo"
    FIELDS: ClassVar[dict[str, _Field]] = {
        **_COMMON_FIELDS,
        "content_type": _Field(
            "content_type", "content_type", multi=True, choices=MO_CONTENT_TYPES,
            label_kind="content_type", label_key="filter.content_type",
        ),
        "phone": _Field("phone", "phone", label_key="filter.phone"),
        "button": _Field("button", "button_text", multi=True, label_key="filter.button"),
    }


Filters = MtFilters | MoFilters
FILTERS_OF_VIEW: dict[str, type[_Filters]] = {"mt": MtFilters, "mo": MoFilters}
