"""The Consolidado table as people read it: one labelled row per group, in the chosen order, then the
totals row; each figure followed by its change from the previous period when the comparison is on.

The page and the three file formats read the same `Table`, so a header, a group's name and a
figure's text are made in one place. Numbers are written through Babel in the language's way
(`format_int`, `format_pct`); a rate's change is a difference in percentage points.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel.core import Locale
from babel.numbers import format_decimal

from data_access.consolidated import METRICS, RATES, Consolidated, Group, sorted_groups
from data_access.i18n import date_format, format_int, format_pct, label, t

# The header of each metric (the Sent page's words: "Enviadas" is every MT of the group).
METRIC_KEYS: dict[str, str] = {
    "total": "metric.sent",
    "delivered": "metric.delivered",
    "read": "metric.read",
    "failed": "metric.failed",
    "replied": "metric.replied",
    "clicks": "metric.clicks",
    "delivery_rate": "metric.delivery_rate",
    "read_rate": "metric.read_rate",
    "failure_rate": "metric.failure_rate",
    "reply_rate": "metric.reply_rate",
}
# What each rate divides, in the words of the Sent page's cards.
RATE_HELP_KEYS: dict[str, str] = {
    "delivery_rate": "kpi.delivery_help",
    "read_rate": "kpi.read_help",
    "failure_rate": "kpi.failure_help",
    "reply_rate": "kpi.reply_help",
}
# Dimensions whose values are codes shown as words (`label(kind, code)`).
LABELLED_DIMENSIONS = ("content_type", "conversation_type", "pricing_category")
SORT_KEYS: tuple[str, ...] = ("group", *METRICS)


@dataclass(frozen=True)
class Column:
    metric: str
    is_delta: bool = False

    @property
    def is_rate(self) -> bool:
        return self.metric in RATES


@dataclass(frozen=True)
class Row:
    group: str  # the group's name in the language ("Total" for the totals row)
    values: tuple[int | float | None, ...]  # one per column of the table, in its order
    is_total: bool = False


@dataclass(frozen=True)
class Table:
    dimension: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]  # the groups in the chosen order, then the totals row

    def headers(self, lang: str) -> list[str]:
        return [t(f"dimension.{self.dimension}", lang), *(column_header(c, lang) for c in self.columns)]

    def texts(self, lang: str) -> list[list[str]]:
        """Every row as the texts shown on screen and in the PDF."""
        return [[row.group, *(cell_text(c, v, lang) for c, v in zip(self.columns, row.values))] for row in self.rows]


def columns(compare: bool) -> tuple[Column, ...]:
    """Each metric in METRICS order, followed by its change when `compare`."""
    return tuple(c for m in METRICS for c in ((Column(m), Column(m, True)) if compare else (Column(m),)))


def build_table(report: Consolidated, lang: str, sort: str = "group", descending: bool = False,
                compare: bool = True) -> Table:
    """The report's table in `lang`, its groups ordered by `sort` (a metric of METRICS, or "group")."""
    groups = sorted_groups(report.groups, sort, descending)
    cols = columns(compare)
    rows = [Row(group_label(g.key, report.dimension, lang), _values(g, cols)) for g in groups]
    rows.append(Row(t("consolidated.totals", lang), _values(report.totals, cols), is_total=True))
    return Table(report.dimension, cols, tuple(rows))


def _values(group: Group, cols: tuple[Column, ...]) -> tuple[int | float | None, ...]:
    return tuple(group.delta(c.metric) if c.is_delta else group.current.metric(c.metric) for c in cols)


def group_label(key: date | str | None, dimension: str, lang: str) -> str:
    """A group's value as people read it: a day in the language's format, a code as its word, the
    text as it is; "(não informado)" for MTs with no value."""
    if key is None:
        return t("consolidated.not_set", lang)
    if isinstance(key, date):
        return key.strftime(date_format(lang))
    if dimension in LABELLED_DIMENSIONS:
        return label(dimension, key, lang)
    return key


def column_header(column: Column, lang: str) -> str:
    name = t(METRIC_KEYS[column.metric], lang)
    return t("consolidated.delta", lang, metric=name) if column.is_delta else name


def cell_text(column: Column, value: int | float | None, lang: str) -> str:
    """"2.400", "75,3%", "+12", "−5,0 p.p."; "–" when a rate has no denominator."""
    if value is None:
        return "–"
    if not column.is_delta:
        return format_pct(value, lang) if column.is_rate else format_int(value, lang)
    if column.is_rate:
        points = round(value * 100, 1)
        return f"{_signed(points, '#,##0.0', lang)}\u00a0{t('consolidated.points', lang)}"  # never split
    return _signed(value, "#,##0", lang)


def _signed(number: int | float, pattern: str, lang: str) -> str:
    """A change with its sign (no sign for none): "+1.234", "-5,0", "0"."""
    locale = Locale.parse(lang, sep="-")
    if number == 0:
        return format_decimal(0, format=pattern, locale=locale)
    return format_decimal(number, format=f"+{pattern};-{pattern}", locale=locale)


def rate_definitions(lang: str) -> list[tuple[str, str]]:
    """(rate, what it divides) for each rate, and what the clicks and the changes are."""
    rows = [(t(METRIC_KEYS[r], lang), t(RATE_HELP_KEYS[r], lang)) for r in RATES]
    return [*rows, (t("metric.clicks", lang), t("consolidated.clicks_help", lang)),
            (t("consolidated.delta", lang, metric="").strip(), t("consolidated.delta_help", lang))]

