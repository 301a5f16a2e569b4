"""The Consolidado table as a file: CSV, XLSX or PDF of the grouped figures (one row per group, then
the totals row), from one call of `data_access.consolidated`.

- CSV: header row in the language, then the rows. Counts are whole numbers and rates (and their
  changes) fractions with a dot (0.753 is 75.3%), so any spreadsheet reads them as numbers; a group's
  name that starts like a formula (= + - @ tab, carriage return) gets a leading `'` (SPEC section 4).
- XLSX: the table with typed cells (counts, percentages, changes in percentage points), every text a
  string cell; a second sheet with the search (filters, grouping, previous period, time zone,
  generation time) and what each rate divides.
- PDF: the same search block and definitions, then the table with the language's number formats.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO

import xlsxwriter
from fpdf import FPDF
from fpdf.fonts import FontFace
from sqlalchemy.engine import Engine

from data_access.consolidated import DEFAULT_DIMENSION, DIMENSIONS, Consolidated, consolidated
from data_access.filters import MtFilters
from data_access.i18n import date_format, format_datetime, t
from exports.consolidated_table import SORT_KEYS, Table, build_table, rate_definitions
from exports.csv_export import FORMULA_START
from exports.export import FORMATS
from exports.pdf_export import FONT_DIR, FONT_FILES, HEADER_FILL, ZEBRA
from exports.xlsx_export import inert_text

PDF_GROUPS = 2_000  # groups the PDF lists (a search of years grouped by day has more; CSV and XLSX carry all)
_PDF_WIDTHS = {(False, False): 2.0, (True, False): 0.9, (False, True): 1.5, (True, True): 1.9}  # shares of the page
_DELTA_COUNT = '+#,##0;-#,##0;0'
_DELTA_POINTS = '+0.0" {unit}";-0.0" {unit}";0.0" {unit}"'


@dataclass(frozen=True)
class Layout:
    """How the table is laid out: the grouping, the order of the groups and the comparison columns.
    In the page's URL as `group_by`, `sort`, `order` (asc, desc) and `compare` (on, off)."""

    dimension: str = DEFAULT_DIMENSION
    sort: str = "total"
    descending: bool = True
    compare: bool = True

    @classmethod
    def from_params(cls, params: Mapping[str, Sequence[str]]) -> Layout:
        """From URL query parameters; a missing or unknown value keeps its default."""
        def one(name: str, accepted: Sequence[str]) -> str | None:
            values = params.get(name) or ()
            return values[-1] if values and values[-1] in accepted else None

        default = cls()
        order, compare = one("order", ("asc", "desc")), one("compare", ("on", "off"))
        return cls(
            dimension=one("group_by", DIMENSIONS) or default.dimension,
            sort=one("sort", SORT_KEYS) or default.sort,
            descending=default.descending if order is None else order == "desc",
            compare=default.compare if compare is None else compare == "on",
        )

    def to_params(self) -> dict[str, list[str]]:
        return {"group_by": [self.dimension], "sort": [self.sort], "order": ["desc" if self.descending else "asc"],
                "compare": ["on" if self.compare else "off"]}


def file_name(filters: MtFilters, layout: Layout, fmt: str, lang: str) -> str:
    """`relatorio-consolidado-campanha-2026-11-01_2026-11-07.xlsx`."""
    period = f"{filters.date_from.isoformat()}_{filters.date_to.isoformat()}"
    return f"{t('consolidated.file', lang)}-{layout.dimension}-{period}.{fmt}"


def export_consolidated(engine: Engine, filters: MtFilters, layout: Layout, fmt: str, lang: str, out: IO[bytes]) -> int:
    """Writes the Consolidado of the search as `fmt` to `out`; returns the number of groups written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: accepted are {', '.join(FORMATS)}")
    with engine.connect() as conn:
        report = consolidated(conn, filters, layout.dimension)
    return write(report, filters, layout, fmt, lang, out)


def write(report: Consolidated, filters: MtFilters, layout: Layout, fmt: str, lang: str, out: IO[bytes]) -> int:
    """Writes an already computed report (the page's cached one); returns the number of groups written."""
    table = build_table(report, lang, layout.sort, layout.descending, layout.compare)
    generated_at = datetime.now(timezone.utc)
    if fmt == "csv":
        return _csv(table, lang, out)
    if fmt == "xlsx":
        return _xlsx(table, report, filters, lang, out, generated_at)
    return _pdf(table, report, filters, lang, out, generated_at)


def search_pairs(report: Consolidated, filters: MtFilters, lang: str, generated_at: datetime) -> list[tuple[str, str]]:
    """(label, value) rows naming the table: the report, its grouping, the search, the previous period."""
    fmt = date_format(lang)
    if report.previous_from is None:
        previous = t("consolidated.no_previous", lang)
    else:
        previous = f"{report.previous_from.strftime(fmt)} – {report.previous_to.strftime(fmt)}"
    return [
        (t("export.view", lang), t("consolidated.title", lang)),
        (t("consolidated.group_by", lang), t(f"dimension.{report.dimension}", lang)),
        *filters.describe(lang),
        (t("consolidated.previous_period", lang), previous),
        (t("export.generated_at", lang), format_datetime(generated_at, lang, filters.tz)),
    ]


def _defused(text: str) -> str:
    return "'" + text if re.match(FORMULA_START, text) else text


def _csv(table: Table, lang: str, out: IO[bytes]) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(table.headers(lang))
    for row in table.rows:
        writer.writerow([_defused(row.group), *("" if v is None else _number(v) for v in row.values)])
    text.detach()
    return len(table.rows) - 1


def _number(value: int | float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.6f}".rstrip("0").rstrip(".")


def _xlsx(table: Table, report: Consolidated, filters: MtFilters, lang: str, out: IO[bytes],
          generated_at: datetime) -> int:
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    header = workbook.add_format({"bold": True, "bg_color": "#E6ECEA", "bottom": 1, "text_wrap": True})
    bold = workbook.add_format({"bold": True})
    unit = t("consolidated.points", lang)
    formats = {
        (False, False): "#,##0", (False, True): "0.0%", (True, False): _DELTA_COUNT,
        (True, True): _DELTA_POINTS.format(unit=unit),
    }
    plain = {key: workbook.add_format({"num_format": f}) for key, f in formats.items()}
    strong = {key: workbook.add_format({"num_format": f, "bold": True, "top": 1}) for key, f in formats.items()}
    sheet = workbook.add_worksheet(t("consolidated.sheet", lang))
    headers = table.headers(lang)
    for col, text in enumerate(headers):
        sheet.write_string(0, col, text, header)
    widest = max((len(row.group) for row in table.rows), default=0)
    sheet.set_column(0, 0, min(max(widest, len(headers[0])) + 2, 60))
    sheet.set_column(1, len(headers) - 1, 13)
    for r, row in enumerate(table.rows, start=1):
        sheet.write_string(r, 0, inert_text(row.group), bold if row.is_total else None)
        for col, (column, value) in enumerate(zip(table.columns, row.values), start=1):
            if value is None:
                sheet.write_string(r, col, "–")
                continue
            if column.is_delta and column.is_rate:
                value = round(value * 100, 10)
            fmt = (strong if row.is_total else plain)[(column.is_delta, column.is_rate)]
            sheet.write_number(r, col, value, fmt)
    sheet.freeze_panes(1, 1)
    sheet.autofilter(0, 0, max(len(table.rows) - 1, 0), len(headers) - 1)  # the totals row stays out of it
    about = workbook.add_worksheet(t("export.sheet_filters", lang))
    about.set_column(0, 0, 30)
    about.set_column(1, 1, 90)
    about.write_string(0, 0, t("export.filter", lang), header)
    about.write_string(0, 1, t("export.value", lang), header)
    pairs = [*search_pairs(report, filters, lang, generated_at), *rate_definitions(lang)]
    for r, (name, value) in enumerate(pairs, start=1):
        about.write_string(r, 0, inert_text(name), bold)
        about.write_string(r, 1, inert_text(value))
    workbook.close()
    return len(table.rows) - 1


def _pdf(table: Table, report: Consolidated, filters: MtFilters, lang: str, out: IO[bytes],
         generated_at: datetime) -> int:
    doc = FPDF(orientation="L", unit="mm", format="A4")
    for (family, style), path in FONT_FILES.items():
        doc.add_font(family, style, str(FONT_DIR / path))
    doc.set_fallback_fonts(["NotoEmoji"], exact_match=False)
    doc.alias_nb_pages("")  # a group named "{nb}" prints as it is
    doc.set_margins(8, 10, 8)
    doc.set_auto_page_break(True, margin=12)
    doc.set_creator("WhatsApp Detailed Report")
    title = t("consolidated.title", lang)
    doc.set_title(title)
    doc.add_page()
    doc.set_font("DejaVu", "B", 16)
    doc.cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    doc.set_font("DejaVu", "", 9)
    _pairs(doc, search_pairs(report, filters, lang, generated_at))
    doc.ln(3)
    groups = table.rows[:-1]
    shown = [*groups[:PDF_GROUPS], table.rows[-1]]
    if len(groups) > PDF_GROUPS:
        doc.multi_cell(0, 5, t("export.truncated", lang, total=len(groups), shown=PDF_GROUPS),
                       new_x="LMARGIN", new_y="NEXT")
    texts = Table(table.dimension, table.columns, tuple(shown)).texts(lang)
    compare = table.columns[-1].is_delta
    doc.set_font("DejaVuCond", "", 6 if compare else 8)
    widths = (4.5, *(_PDF_WIDTHS[(c.is_delta, c.is_rate)] for c in table.columns))
    with doc.table(col_widths=widths, width=doc.epw, text_align=("LEFT", *("RIGHT" for _ in table.columns)),
                   line_height=4, cell_fill_color=ZEBRA, cell_fill_mode="ROWS",
                   headings_style=FontFace(emphasis="BOLD", fill_color=HEADER_FILL)) as grid:
        # A change's header is "Δ" alone: it stands right after the figure it changes.
        head = [name if not c.is_delta else "Δ" for name, c in zip(table.headers(lang)[1:], table.columns)]
        for values in [[table.headers(lang)[0], *head], *texts[:-1]]:
            grid.row(values)
        grid.row(texts[-1], style=FontFace(emphasis="BOLD"))
    doc.ln(3)
    doc.set_font("DejaVu", "", 8)
    for name, value in rate_definitions(lang):
        doc.multi_cell(0, 4, f"{name}: {value}", new_x="LMARGIN", new_y="NEXT")
    out.write(doc.output())
    return len(shown) - 1


def _pairs(doc: FPDF, pairs: list[tuple[str, str]]) -> None:
    with doc.table(col_widths=(1, 2.5), width=doc.epw * 0.75, align="LEFT", first_row_as_headings=False,
                   line_height=5) as grid:
        for name, value in pairs:
            grid.row((name, value))
