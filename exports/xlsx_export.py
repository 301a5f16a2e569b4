"""XLSX of a whole search: data sheets, then a sheet with the search (filters, time zone, generation
time) and its KPI summary.

Rows stream through xlsxwriter's constant_memory mode, so memory stays flat in the row count. An Excel
sheet holds at most 1,048,576 rows (header included): the data continues on "Dados (2)", "Dados (3)"...
and the filters sheet lists the data sheets, so nothing is cut. Every text cell is written as a string,
never as a formula (SPEC section 4); timestamps are real date cells in the report's zone.
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from typing import IO

import pyarrow as pa
import pyarrow.compute as pc
import xlsxwriter
from sqlalchemy.engine import Engine
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from data_access.filters import Filters
from data_access.i18n import t
from exports.rows import PAGE_ROWS, detail_schema, fetch_batches, localise, spool, unspool
from data_access.views import View, view_of
from exports.summary import Kpi, search_block

SHEET_ROWS = 1_048_576  # Excel's rows per sheet, header row included
PROGRESS_ROWS = 8_192  # rows between two progress reports (about half a second)
_DATE_FORMATS = {"pt-BR": "dd/mm/yyyy hh:mm:ss", "en": "yyyy-mm-dd hh:mm:ss", "es": "dd/mm/yyyy hh:mm:ss"}
_EXCEL_EPOCH_DAYS = 25_569.0  # 1970-01-01 as an Excel serial day (1900 date system)
_MICROS_PER_DAY = 86_400_000_000.0
_MIN_WIDTH, _MAX_WIDTH, _DATE_WIDTH = 8, 60, 20


def write_xlsx(
    engine: Engine,
    filters: Filters,
    lang: str,
    out: IO[bytes],
    progress: Callable[[int, int], None],
    sheet_rows: int = SHEET_ROWS,
) -> int:
    """Writes every row of the search to `out`, `sheet_rows` rows a sheet (header included).

    The rows are fetched first into a compressed temporary file, so the database is held only for
    the fetch (seconds), not for the writing (about a minute a million rows).
    """
    if sheet_rows < 2:
        raise ValueError("sheet_rows must leave room for the header row and one data row")
    generated_at = datetime.now(timezone.utc)
    view = view_of(filters)
    with tempfile.TemporaryFile(prefix="export-", suffix=".arrows") as spooled:
        with engine.connect() as conn:
            kpis = view.kpis(view.summary(conn, filters), lang)
            total = spool(fetch_batches(conn, filters, page_rows=PAGE_ROWS), detail_schema(view), spooled)
        progress(0, total)
        workbook = xlsxwriter.Workbook(out, {"constant_memory": True})
        data = _DataSheets(workbook, view, lang, sheet_rows)
        for batch in unspool(spooled):
            localised = localise(batch, view, lang, filters.tz)
            for start in range(0, localised.num_rows, PROGRESS_ROWS):
                data.write(localised.slice(start, PROGRESS_ROWS))
                progress(data.rows, total)
        data.finish()
        _filters_sheet(workbook, lang, search_block(view.title(lang), filters, lang, generated_at), data, kpis)
        workbook.close()
    return data.rows


class _DataSheets:
    """Data rows across as many sheets as they need, each with the header, widths, frozen header
    row and autofilter."""

    def __init__(self, workbook: Workbook, view: View, lang: str, sheet_rows: int) -> None:
        self.workbook = workbook
        self.columns = view.columns
        self.headers = view.headers(lang)
        self.sheet_rows = sheet_rows
        self.base_name = t("export.sheet_data", lang)
        self.header_format = workbook.add_format({"bold": True, "bg_color": "#E6ECEA", "bottom": 1})
        self.date_format = workbook.add_format({"num_format": _DATE_FORMATS.get(lang, _DATE_FORMATS["en"])})
        self.sheets: list[Worksheet] = []
        self.widths: list[float] | None = None
        self.rows = 0
        self._sheet: Worksheet | None = None
        self._row = 0

    def write(self, batch: pa.RecordBatch) -> None:
        """Appends a localised batch, opening a new sheet whenever one is full."""
        if self.widths is None:
            self.widths = _widths(batch, self.columns, self.headers)
        cells = [_cells(array, column.kind) for column, array in zip(self.columns, batch.columns)]
        dates = {i for i, column in enumerate(self.columns) if column.kind == "datetime"}
        date_format = self.date_format
        for values in zip(*cells):
            if self._sheet is None or self._row == self.sheet_rows:
                self._new_sheet()
            sheet, row = self._sheet, self._row
            for col, value in enumerate(values):
                if value is None:
                    continue
                if col in dates:
                    sheet.write_number(row, col, value, date_format)
                else:
                    sheet.write_string(row, col, value)
            self._row += 1
        self.rows += batch.num_rows

    def finish(self) -> None:
        """Closes the last sheet (a search with no rows still gets one, with its header)."""
        if self._sheet is None:
            self._new_sheet()
        self._close_sheet()

    @property
    def names(self) -> list[str]:
        return [sheet.name for sheet in self.sheets]

    def _new_sheet(self) -> None:
        if self._sheet is not None:
            self._close_sheet()
        n = len(self.sheets) + 1
        sheet = self.workbook.add_worksheet(self.base_name if n == 1 else f"{self.base_name} ({n})")
        for col, header in enumerate(self.headers):
            width = self.widths[col] if self.widths else len(header) + 2
            sheet.set_column(col, col, width)
            sheet.write_string(0, col, header, self.header_format)
        sheet.freeze_panes(1, 0)
        self.sheets.append(sheet)
        self._sheet, self._row = sheet, 1

    def _close_sheet(self) -> None:
        self._sheet.autofilter(0, 0, max(self._row - 1, 0), len(self.headers) - 1)


def _cells(array: pa.Array, kind: str) -> list:
    """One column of a localised batch as cell values: Excel serial days for timestamps, else text."""
    if kind == "datetime":
        micros = pc.cast(pc.local_timestamp(array), pa.int64())
        return pc.add(pc.divide(pc.cast(micros, pa.float64()), _MICROS_PER_DAY), _EXCEL_EPOCH_DAYS).to_pylist()
    return inert_texts(array).to_pylist()


def inert_texts(texts: pa.Array) -> pa.Array:
    """Texts that xlsxwriter writes exactly as they are.

    xlsxwriter copies a string that starts with `<r>` and ends with `</r>` into the sheet XML as
    ready-made rich text, unescaped: such a value could break the file or inject markup. It is
    written instead as a rich text of one escaped run, which Excel shows as the original text.
    """
    rich = pc.match_substring_regex(texts, r"(?s)^<r>.*</r>$")
    if not pc.any(rich).as_py():
        return texts
    escaped = pc.filter(texts, rich)
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        escaped = pc.replace_substring(escaped, char, entity)
    wrapped = pc.binary_join_element_wise('<r><t xml:space="preserve">', escaped, "</t></r>", "")
    return pc.replace_with_mask(texts, rich, wrapped)


def inert_text(text: str) -> str:
    """`inert_texts()` for one value."""
    return inert_texts(pa.array([text], pa.string()))[0].as_py()


def _widths(batch: pa.RecordBatch, columns, header_texts: list[str]) -> list[float]:
    """Column widths (in characters) from the header and the longest values of the first batch."""
    widths = []
    for column, array, header in zip(columns, batch.columns, header_texts):
        if column.kind == "datetime":
            longest = _DATE_WIDTH
        else:
            longest = pc.max(pc.utf8_length(array)).as_py() or 0
        widths.append(min(max(longest + 2, len(header) + 2, _MIN_WIDTH), _MAX_WIDTH))
    return widths


def _filters_sheet(
    workbook: Workbook, lang: str, block: list[tuple[str, str]], data: _DataSheets, kpis: list[Kpi]
) -> None:
    sheet = workbook.add_worksheet(t("export.sheet_filters", lang))
    bold = workbook.add_format({"bold": True})
    header = data.header_format
    count_format = workbook.add_format({"num_format": "#,##0", "align": "left"})
    rate_format = workbook.add_format({"num_format": "0.0%", "align": "left"})
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 60)
    sheet.write_string(0, 0, t("export.filter", lang), header)
    sheet.write_string(0, 1, t("export.value", lang), header)
    rows: list[tuple[str, str | int]] = [*block, (t("export.rows_exported", lang), data.rows)]
    if len(data.sheets) > 1:
        rows.append((t("export.data_sheets", lang), ", ".join(data.names)))
    row = 1
    for name, value in rows:
        sheet.write_string(row, 0, inert_text(name), bold)
        if isinstance(value, int):
            sheet.write_number(row, 1, value, count_format)
        else:
            sheet.write_string(row, 1, inert_text(value))
        row += 1
    row += 1
    sheet.write_string(row, 0, t("export.summary", lang), header)
    sheet.write_string(row, 1, "", header)
    for kpi in kpis:
        row += 1
        sheet.write_string(row, 0, kpi.label, bold)
        if kpi.value is None:
            sheet.write_string(row, 1, kpi.text(lang))
        else:
            sheet.write_number(row, 1, kpi.value, rate_format if kpi.rate else count_format)
    sheet.freeze_panes(1, 0)
