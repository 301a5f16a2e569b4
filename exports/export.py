"""The one way to turn a search into a file, used by the command line, the pages' download buttons
and the benchmark: `export(engine, filters, fmt, lang, out, progress)`."""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

from sqlalchemy.engine import Engine

from data_access.config import check_lang
from data_access.engine import DATABASE_ERRORS, DatabaseError, export_memory, first_line
from data_access.filters import Filters
from data_access.views import view_of
from exports.csv_export import write_csv
from exports.pdf_export import PDF_ROWS, write_pdf
from exports.xlsx_export import SHEET_ROWS, write_xlsx

FORMATS = ("csv", "xlsx", "pdf")
MIME_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}

Progress = Callable[[int, int], None]  # (rows written so far, rows the file will hold)


def export(
    engine: Engine,
    filters: Filters,
    fmt: str,
    lang: str,
    out: IO[bytes] | str | os.PathLike[str],
    progress: Progress | None = None,
    *,
    sheet_rows: int = SHEET_ROWS,
    pdf_rows: int = PDF_ROWS,
    layout: Mapping[str, Sequence[str]] | None = None,
) -> int:
    """Writes the search as `fmt` (csv, xlsx, pdf) in `lang` to `out`, a path or a binary file.

    Returns the number of detail rows written: every row of the search for CSV and XLSX, the first
    `pdf_rows` for PDF. `layout` lays out the file of a view that writes its own (the Consolidado's
    `group_by`, `sort`, `order`, `compare`, as in its URL). A path is written through a temporary file beside it, so a failed export never
    leaves a file that looks complete. Raises `DatabaseError` when the database cannot be read and
    `exports.chart_images.ChartError` when the PDF's charts cannot be drawn.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: accepted are {', '.join(FORMATS)}")
    check_lang(lang)
    progress = progress or (lambda done, total: None)
    layout = layout or {}
    if isinstance(out, (str, os.PathLike)):
        return _to_path(Path(out), engine, filters, fmt, lang, progress, sheet_rows, pdf_rows, layout)
    return _write(engine, filters, fmt, lang, out, progress, sheet_rows, pdf_rows, layout)


def file_name(filters: Filters, fmt: str, lang: str) -> str:
    """`relatorio-enviadas-2026-11-01_2026-11-07.csv`: the view and the period, in the language."""
    period = f"{filters.date_from.isoformat()}_{filters.date_to.isoformat()}"
    return f"{view_of(filters).file_stem(lang)}-{period}.{fmt}"


def _to_path(path: Path, engine, filters, fmt, lang, progress, sheet_rows, pdf_rows, layout) -> int:
    partial = path.with_name(f".{path.name}.partial")
    try:
        with open(partial, "wb") as file:
            rows = _write(engine, filters, fmt, lang, file, progress, sheet_rows, pdf_rows, layout)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return rows


def _write(engine, filters, fmt, lang, out, progress, sheet_rows, pdf_rows, layout) -> int:
    own = view_of(filters).export
    try:
        with export_memory(engine):  # the embedded database's memory: EXPORT_MEMORY_LIMIT, whatever the rows
            if own is not None:  # a view that writes its own files
                progress(0, 0)
                rows = own(engine, filters, fmt, lang, out, layout)
                progress(rows, rows)
                return rows
            if fmt == "csv":
                with engine.connect() as conn:
                    return write_csv(conn, filters, lang, out, progress)
            if fmt == "xlsx":
                return write_xlsx(engine, filters, lang, out, progress, sheet_rows)
            return write_pdf(engine, filters, lang, out, progress, pdf_rows)
    except (DatabaseError, OSError):  # already said; OSError: the file being written
        raise
    except DATABASE_ERRORS as exc:
        raise DatabaseError(f"the database could not be read: {first_line(exc)}") from exc
