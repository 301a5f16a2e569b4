"""The Consolidado report: the Sent (MT) search's figures grouped by one dimension (campaign,
template, day...), each group beside the same group in the previous period of the same length.

The figures are the detailed report's (SPEC section 3, `data_access.report.MtTotals`): a group's
counts add up to the detailed report's totals for the same search, and its rates divide the same
counts. Quick-reply clicks are counted on the MT they answer: MOs with a button payload whose
`in_reply_to` is one of the group's MTs (so a click lands in the group, and the period, of the message
that carried the button); writers keep that count on the MT (`mt_message.clicks`, migration 0010).

One statement scans both periods (the previous period and the search are adjacent, so the scan is one
time range) and groups by (period, dimension, status): a few hundred groups, folded here into each
figure (several times faster in DuckDB than one filtered count per figure); the totals row is the
sum of the groups.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from data_access.catalog import DELIVERED_STATUSES, FAILURE_STATUSES
from data_access.filters import FIRST_DAY, MtFilters
from data_access.report import MtTotals, _local_day
from data_access.schema import mt_message

# The dimensions a search may be grouped by, in the order the page offers them, and the MT column
# each reads (the day is the local calendar day of `sent_at` in the report's zone).
DIMENSION_COLUMNS: dict[str, str | None] = {
    "campaign": "campaign",
    "template": "template_name",
    "day": None,
    "subaccount": "subaccount",
    "user": "user_name",
    "content_type": "content_type",
    "conversation_type": "conversation_type",
    "pricing_category": "pricing_category",
}
DIMENSIONS: tuple[str, ...] = tuple(DIMENSION_COLUMNS)
DEFAULT_DIMENSION = "campaign"

COUNTS: tuple[str, ...] = ("total", "delivered", "read", "failed", "replied", "clicks")
RATES: tuple[str, ...] = ("delivery_rate", "read_rate", "failure_rate", "reply_rate")
# Every figure of a row, in the table's column order.
METRICS: tuple[str, ...] = (*COUNTS, *RATES)
# Each rate's (numerator, denominator): the same as the detailed report's cards.
RATE_PARTS: dict[str, tuple[str, str]] = {
    "delivery_rate": ("delivered", "total"),
    "read_rate": ("read", "delivered"),
    "failure_rate": ("failed", "total"),
    "reply_rate": ("replied", "delivered"),
}


@dataclass(frozen=True)
class ConsolidatedFilters(MtFilters):
    """A search of the Consolidado view: the Sent search's fields and SQL, under its own view code
    ("mc", MT consolidated) so its widgets, URL and saved searches are its own."""

    view: ClassVar[str] = "mc"


@dataclass(frozen=True)
class GroupFigures(MtTotals):
    """The detailed report's totals of one group, plus the quick-reply clicks on its MTs."""

    clicks: int = 0

    def metric(self, name: str) -> int | float | None:
        """A count or a rate by its name in METRICS."""
        return getattr(self, name)

    def __add__(self, other: GroupFigures) -> GroupFigures:
        return GroupFigures(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


NO_ROWS = GroupFigures(total=0, pending=0, delivered=0, read=0, failed=0, replied=0, clicks=0)


def delta(current: GroupFigures, previous: GroupFigures, metric: str) -> int | float | None:
    """Change of a metric from the previous period: a difference of counts, or of rates (in points:
    0.05 is five percentage points); None when either rate has no denominator."""
    now, before = current.metric(metric), previous.metric(metric)
    if now is None or before is None:
        return None
    return now - before


@dataclass(frozen=True)
class Group:
    """One row of the table: the group's value and its figures in the search and in the previous period.

    `key` is the column's value (None: not set, e.g. MTs with no campaign) or, for "day", the date."""

    key: date | str | None
    current: GroupFigures
    previous: GroupFigures  # NO_ROWS when the group had no MT then

    def delta(self, metric: str) -> int | float | None:
        return delta(self.current, self.previous, metric)


@dataclass(frozen=True)
class Consolidated:
    dimension: str
    groups: tuple[Group, ...]  # the search's groups, most MTs first (days in calendar order)
    totals: Group  # the whole search against the whole previous period
    previous_from: date | None  # the previous period (None when it would start before FIRST_DAY)
    previous_to: date | None


def previous_period(filters: MtFilters) -> tuple[date, date] | None:
    """The period of the same length that ends the day before the search starts; None before FIRST_DAY."""
    length = filters.date_to - filters.date_from + timedelta(days=1)
    start = filters.date_from - length
    if start < FIRST_DAY:
        return None
    return start, filters.date_from - timedelta(days=1)


def _group_key(dimension: str, filters: MtFilters, dialect: str) -> tuple[sa.ColumnElement, Callable[[Any], Any]]:
    column = DIMENSION_COLUMNS.get(dimension, "")
    if column is None:
        return _local_day(mt_message.c.sent_at, filters, dialect)
    if not column:
        raise ValueError(f"unknown dimension {dimension!r}: accepted are {', '.join(DIMENSIONS)}")
    return mt_message.c[column], lambda value: value


def consolidated(conn: Connection, filters: MtFilters, dimension: str = DEFAULT_DIMENSION) -> Consolidated:
    """The search's figures grouped by `dimension`, with the previous period's for the same groups.

    The search's scope applies (its `where()`): a group of a subaccount the account may not see
    never appears, nor counts in the totals. For "day", a day is compared with the day as many days
    earlier as the search is long (the first day of the search with the first of the previous period).
    """
    period = previous_period(filters)
    span = filters if period is None else filters.replace(date_from=period[0])
    key, to_key = _group_key(dimension, span, conn.dialect.name)
    search_start, _ = filters.utc_bounds()
    status = mt_message.c.status
    in_search = (mt_message.c.sent_at >= search_start).label("in_search")
    query = (
        select(in_search, key.label("group_key"), status, func.count(), func.count().filter(mt_message.c.replied),
               func.sum(mt_message.c.clicks))
        .where(span.where())
        .group_by(in_search, key, status)
    )
    counts: dict[tuple[bool, Any], list[int]] = {}
    for is_current, raw_key, row_status, n, replied, clicks in conn.execute(query):
        figures = counts.setdefault((bool(is_current), to_key(raw_key)), [0] * 7)
        n = int(n)
        figures[0] += n
        figures[1] += n if row_status == "sent" else 0
        figures[2] += n if row_status in DELIVERED_STATUSES else 0
        figures[3] += n if row_status == "read" else 0
        figures[4] += n if row_status in FAILURE_STATUSES else 0
        figures[5] += int(replied)
        figures[6] += int(clicks)
    current = {k: GroupFigures(*figures) for (is_current, k), figures in counts.items() if is_current}
    previous = {k: GroupFigures(*figures) for (is_current, k), figures in counts.items() if not is_current}
    if dimension == "day" and period is not None:  # a previous day stands beside the day it precedes by one period
        shift = filters.date_from - period[0]
        previous = {day + shift: figures for day, figures in previous.items()}
    groups = tuple(Group(k, figures, previous.get(k, NO_ROWS)) for k, figures in current.items())
    return Consolidated(
        dimension=dimension,
        groups=tuple(sorted(groups, key=_default_order(dimension))),
        totals=Group(None, _sum(current.values()), _sum(previous.values())),
        previous_from=None if period is None else period[0],
        previous_to=None if period is None else period[1],
    )


def _sum(figures: Iterable[GroupFigures]) -> GroupFigures:
    total = NO_ROWS
    for each in figures:
        total = total + each
    return total


def _default_order(dimension: str) -> Callable[[Group], tuple]:
    if dimension == "day":
        return lambda group: (group.key,)
    return lambda group: (-group.current.total, group.key is None, group.key or "")


def sorted_groups(groups: Iterable[Group], metric: str, descending: bool = True) -> list[Group]:
    """The groups ordered by one of METRICS (or "group": by the group's value); groups whose rate has
    no denominator come last either way, ties keep their order."""
    groups = list(groups)
    if metric == "group":
        present = sorted((g for g in groups if g.key is not None), key=lambda g: g.key, reverse=descending)
        return [*present, *(g for g in groups if g.key is None)]
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}: accepted are group, {', '.join(METRICS)}")
    present = [g for g in groups if g.current.metric(metric) is not None]
    present.sort(key=lambda g: g.current.metric(metric), reverse=descending)
    return [*present, *(g for g in groups if g.current.metric(metric) is None)]
