"""The Opt-out report as CSV and XLSX (LGPD requests start here): every contact of the search, streamed.

Same rules as the detailed report's files (SPEC section 4): headers in the chosen language, timestamps
in the report's zone (ISO 8601 with the offset in CSV, date cells in XLSX), how a contact opted out as
words; in CSV, outside text that starts like a formula gets a leading `'`, and XLSX cells are strings.
The XLSX also carries the search (period, stop words, time zone), the generation time and the figures.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import IO, Any
from zoneinfo import ZoneInfo

import xlsxwriter
from sqlalchemy.engine import Engine

from data_access.engine import export_memory
from data_access.i18n import excel_datetime_format, format_datetime, label, t
from data_access.opt_out import COLUMNS, OptOutContact, OptOutFilters, iter_opt_outs, opt_out_summary
from exports.csv_export import FORMULA_START
from exports.xlsx_export import inert_text

FORMATS = ("csv", "xlsx")
MIME_TYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_TIMES = ("opted_out_at", "last_event_at", "last_sent_at")
_FORMULA = re.compile(FORMULA_START)


def headers(lang: str) -> list[str]:
    return [t(f"column.opt_out.{name}", lang) for name in COLUMNS]


def file_name(filters: OptOutFilters, fmt: str, lang: str) -> str:
    """`relatorio-opt-out_2026-11-10_2026-11-15.csv`."""
    return f"{t('opt_out.file', lang)}_{filters.date_from.isoformat()}_{filters.date_to.isoformat()}.{fmt}"


def display_row(contact: OptOutContact, lang: str, tz: str) -> dict[str, Any]:
    """A contact as people read it: times in the zone, how as words, counts as numbers (keyed by column)."""
    values: dict[str, Any] = {name: getattr(contact, name) for name in COLUMNS}
    for name in _TIMES:
        values[name] = format_datetime(values[name], lang, tz)
    values["kind"] = label("opt_out_kind", contact.kind, lang)
    return {name: "" if value is None else value for name, value in values.items()}


def _rows(engine: Engine, filters: OptOutFilters) -> Iterator[OptOutContact]:
    with engine.connect() as conn:
        yield from iter_opt_outs(conn, filters)


def write_csv(engine: Engine, filters: OptOutFilters, lang: str, out: IO[bytes]) -> int:
    """Writes the header and every contact to `out` (UTF-8); returns the rows written."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(headers(lang))
    zone, rows = ZoneInfo(filters.tz), 0
    for contact in _rows(engine, filters):
        cells = []
        for name in COLUMNS:
            value = getattr(contact, name)
            if value is None:
                cells.append("")
            elif name in _TIMES:
                cells.append(value.astimezone(zone).isoformat(timespec="seconds"))
            elif name == "kind":
                cells.append(label("opt_out_kind", value, lang))
            elif isinstance(value, str) and name != "phone" and _FORMULA.match(value):
                cells.append("'" + value)
            else:
                cells.append(value)
        writer.writerow(cells)
        rows += 1
    text.detach()
    return rows


def write_xlsx(engine: Engine, filters: OptOutFilters, lang: str, out: IO[bytes]) -> int:
    """Writes the contacts sheet and the search sheet to `out`; returns the rows written."""
    generated_at = datetime.now(timezone.utc)
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "remove_timezone": True})
    bold = workbook.add_format({"bold": True})
    header = workbook.add_format({"bold": True, "bg_color": "#E6ECEA", "bottom": 1})
    when = workbook.add_format({"num_format": excel_datetime_format(lang)})
    sheet = workbook.add_worksheet(t("page.opt_out", lang)[:31])
    for col, text in enumerate(headers(lang)):
        sheet.set_column(col, col, 22 if COLUMNS[col] != "detail" else 40)
        sheet.write_string(0, col, text, header)
    sheet.freeze_panes(1, 0)
    zone, rows = ZoneInfo(filters.tz), 0
    for contact in _rows(engine, filters):
        rows += 1
        for col, name in enumerate(COLUMNS):
            value = getattr(contact, name)
            if value is None:
                continue
            if name in _TIMES:
                sheet.write_datetime(rows, col, value.astimezone(zone).replace(tzinfo=None), when)
            elif name == "events":
                sheet.write_number(rows, col, value)
            elif name == "kind":
                sheet.write_string(rows, col, label("opt_out_kind", value, lang))
            else:
                sheet.write_string(rows, col, inert_text(value))
    sheet.autofilter(0, 0, max(rows, 1), len(COLUMNS) - 1)
    with engine.connect() as conn:
        summary = opt_out_summary(conn, filters)
    search = workbook.add_worksheet(t("export.sheet_filters", lang))
    search.set_column(0, 0, 28)
    search.set_column(1, 1, 60)
    search.write_string(0, 0, t("export.filter", lang), header)
    search.write_string(0, 1, t("export.value", lang), header)
    lines: list[tuple[str, str | int]] = [
        *filters.describe(lang),
        (t("export.generated_at", lang), format_datetime(generated_at, lang, filters.tz)),
        (t("export.rows_exported", lang), rows),
        (t("opt_out.contacts", lang), summary.contacts),
        (t("opt_out.by_failure", lang), summary.by_failure),
        (t("opt_out.by_stop_word", lang), summary.by_stop_word),
        (t("opt_out.blocked_sends", lang), summary.blocked_sends),
        (t("opt_out.stop_messages", lang), summary.stop_messages),
    ]
    for row, (name, value) in enumerate(lines, start=1):
        search.write_string(row, 0, inert_text(name), bold)
        if isinstance(value, int):
            search.write_number(row, 1, value)
        else:
            search.write_string(row, 1, inert_text(value))
    workbook.close()
    return rows


def export(engine: Engine, filters: OptOutFilters, fmt: str, lang: str, out: IO[bytes]) -> int:
    """The file of `fmt` (csv | xlsx) for the search; returns the rows written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: accepted are {', '.join(FORMATS)}")
    with export_memory(engine):  # the embedded database's memory: EXPORT_MEMORY_LIMIT, whatever the rows
        return (write_csv if fmt == "csv" else write_xlsx)(engine, filters, lang, out)
