"""The report views, declared once: what differs between the Sent and the Received report (and any
report added beside them) is a `View`, and the machinery reads the declarations.

The router builds the navigation from `VIEWS` (in order; the first is the home page); a page finds
its view in the run (`pages.run.current_run().view`); exports, saved searches, the `exports` command
and the bench find a search's view with `view_of(filters)` or `view(code)`.

A new report is a filter class (`data_access.filters.Filters` subclass with its own `view` code,
table and `FIELDS`), its report function and page script in its own modules, and one `register(View(...))`
below. The registry sits above the report queries and the exports' figure builders it names.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, Generic, TypeVar

import plotly.graph_objects as go
from sqlalchemy import Table
from sqlalchemy.engine import Connection, Engine

from data_access.columns import MO_COLUMNS, MT_COLUMNS, DetailColumn
from data_access.consolidated import DEFAULT_DIMENSION, ConsolidatedFilters, consolidated
from data_access.filters import Filters, MoFilters, MtFilters
from data_access.i18n import t
from data_access.report import mo_report, mt_report, mt_totals
from exports.charts import failure_reason_rows, mo_chart_tables, mo_figures, mt_chart_tables, mt_figures, quick_reply_rows
from exports.summary import Kpi, mo_kpis, mt_kpis

F = TypeVar("F", bound=Filters)
R = TypeVar("R")  # the report: every figure of the page
S = TypeVar("S")  # the summary: what the KPIs and the total read


@dataclass(frozen=True)
class ReportTable(Generic[R]):
    """A table of a report shown after the KPIs (the PDF's front page): labelled rows, relative widths."""

    title_key: str
    rows: Callable[[R, str], list[dict[str, object]]]  # (report, lang) -> rows, ints are counts
    widths: tuple[float, ...]


@dataclass(frozen=True)
class View(Generic[F, R, S]):
    """One report view.

    Keys of the catalogue derived from `code`: `column.{code}.{key}` (detail headers) and
    `export.file.{code}` (the export's file name)."""

    code: str  # "mt": the filter class's `view`, saved searches' view, the CLI's --view
    path: str  # URL path without the slash: "sent" is served at /sent
    title_key: str  # catalogue key of the page title ("page.sent")
    icon: str  # navigation icon (":material/send:")
    page: str  # the page script ("pages/sent.py")
    filters: type[F]
    columns: tuple[DetailColumn, ...]  # the detail table's columns, in order
    report: Callable[[Connection, F], R]  # every figure of the page, from SQL aggregates
    summary: Callable[[Connection, F], S]  # the cheapest query giving what `kpis` and `total` read
    summary_of: Callable[[R], S]  # the same, from a report already made
    total: Callable[[S], int]  # rows the search finds
    kpis: Callable[[S, str], list[Kpi]]  # (summary, lang) -> KPI cards of exports
    figures: Callable[[R, str], dict[str, go.Figure]]  # (report, lang) -> the charts, in page order
    chart_tables: Callable[[R, str], dict[str, list[dict[str, str]]]]  # each chart's data as a table
    tables: tuple[ReportTable[R], ...] = ()
    # (engine, search, fmt, lang, binary file, layout) -> rows written: a view whose files are not its
    # detail rows (the Consolidado's grouped table) writes them itself, laid out by the URL parameters
    # `layout` (its group_by, sort, order, compare); None: the detail rows' CSV, XLSX, PDF.
    export: Callable[[Engine, F, str, str, IO[bytes], Mapping[str, Sequence[str]]], int] | None = None

    @property
    def table(self) -> Table:
        return self.filters.table

    def title(self, lang: str) -> str:
        return t(self.title_key, lang)

    def headers(self, lang: str, include_extra: bool = True) -> list[str]:
        """The detail columns' headers in `lang` (the extra ones too, unless told)."""
        return [t(f"column.{self.code}.{c.key}", lang) for c in self.shown_columns(include_extra)]

    def shown_columns(self, include_extra: bool = True) -> tuple[DetailColumn, ...]:
        return tuple(c for c in self.columns if include_extra or not c.extra)

    def file_stem(self, lang: str) -> str:
        """`relatorio-enviadas`: the export file name's first part."""
        return t(f"export.file.{self.code}", lang)


VIEWS: dict[str, View[Any, Any, Any]] = {}


def register(declared: View[F, R, S]) -> View[F, R, S]:
    """Adds a view (after those registered before it in the navigation); codes and paths are unique,
    and the filter class names the view's code."""
    if declared.code in VIEWS or any(v.path == declared.path for v in VIEWS.values()):
        raise ValueError(f"a view with code {declared.code!r} or path /{declared.path} is already registered")
    if declared.filters.view != declared.code:
        raise ValueError(f"{declared.filters.__name__}.view is {declared.filters.view!r}, not {declared.code!r}")
    VIEWS[declared.code] = declared
    return declared


def view(code: str) -> View[Any, Any, Any]:
    """The view of `code` ("mt", "mo"); KeyError names the codes there are."""
    try:
        return VIEWS[code]
    except KeyError:
        raise KeyError(f"no view {code!r}: the views are {', '.join(VIEWS)}") from None


def view_of(filters: Filters | type[Filters]) -> View[Any, Any, Any]:
    """The view a search (or a filter class) belongs to."""
    return view(filters.view)


SENT = register(View(
    code="mt",
    path="sent",
    title_key="page.sent",
    icon=":material/send:",
    page="pages/sent.py",
    filters=MtFilters,
    columns=MT_COLUMNS,
    report=mt_report,
    summary=mt_totals,
    summary_of=lambda report: report.totals,
    total=lambda totals: totals.total,
    kpis=mt_kpis,
    figures=mt_figures,
    chart_tables=mt_chart_tables,
    tables=(ReportTable("chart.failure_reasons", failure_reason_rows, (3, 1.4, 9, 1.6)),),
))

RECEIVED = register(View(
    code="mo",
    path="received",
    title_key="page.received",
    icon=":material/move_to_inbox:",
    page="pages/received.py",
    filters=MoFilters,
    columns=MO_COLUMNS,
    report=mo_report,
    summary=mo_report,
    summary_of=lambda report: report,
    total=lambda report: report.total,
    kpis=mo_kpis,
    figures=mo_figures,
    chart_tables=mo_chart_tables,
    tables=(ReportTable("chart.quick_replies", quick_reply_rows, (4, 4, 3, 1.2)),),
))

# The Sent search grouped by a dimension beside the previous period (pages/consolidated.py chooses the
# dimension; `report` is the default one's). Its exports are the grouped table
# (exports/consolidated_export.py); its detail rows, where a generic path asks, are the Sent rows.
CONSOLIDATED = register(View(
    code=ConsolidatedFilters.view,
    path="consolidated",
    title_key="page.consolidated",
    icon=":material/table_chart:",
    page="pages/consolidated.py",
    filters=ConsolidatedFilters,
    columns=MT_COLUMNS,
    report=lambda conn, filters: consolidated(conn, filters, DEFAULT_DIMENSION),
    summary=mt_totals,
    summary_of=lambda report: report.totals.current,
    total=lambda totals: totals.total,
    kpis=mt_kpis,
    figures=lambda report, lang: {},
    chart_tables=lambda report, lang: {},
    export=lambda engine, filters, fmt, lang, out, layout: _consolidated_file(engine, filters, fmt, lang, out, layout),
))


def _consolidated_file(engine: Engine, filters: ConsolidatedFilters, fmt: str, lang: str, out: IO[bytes],
                       layout: Mapping[str, Sequence[str]]) -> int:
    """The Consolidado's file laid out as `layout` says (default: grouped by the default dimension).
    Imported when called: the exports' writers read this registry."""
    from exports.consolidated_export import Layout, export_consolidated

    return export_consolidated(engine, filters, Layout.from_params(layout), fmt, lang, out)

# -- report pages beside the views ---------------------------------------------------------------


@dataclass(frozen=True)
class ReportPage:
    """A report that is not a search of one message table, with its own queries, page and files (the
    Chat (MT + MO) of one contact, the Opt-out contacts): the router shows it after the views, at its
    path; the `exports` command and saved searches, which read `VIEWS`, do not offer it."""

    code: str
    path: str  # URL path without the slash: "opt-out" is served at /opt-out
    title_key: str
    icon: str
    page: str  # the page script, thin: its queries live in `data_access.{code}`

    def title(self, lang: str) -> str:
        return t(self.title_key, lang)


PAGES: dict[str, ReportPage] = {}


def register_page(declared: ReportPage) -> ReportPage:
    """Adds a report page (after those registered before it); codes and paths are unique among the
    views and the pages."""
    taken = [*VIEWS.values(), *PAGES.values()]
    if any(declared.code == other.code or declared.path == other.path for other in taken):
        raise ValueError(f"a view or page with code {declared.code!r} or path /{declared.path} is already registered")
    PAGES[declared.code] = declared
    return declared


CHAT = register_page(ReportPage("chat", "chat", "page.chat", ":material/forum:", "pages/chat.py"))
OPT_OUT = register_page(ReportPage("opt_out", "opt-out", "page.opt_out", ":material/block:", "pages/opt_out.py"))
