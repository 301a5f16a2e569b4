"""PDF of a search: title, the search (filters, time zone, generation time), totals, KPI table, the
page's charts and the first 10,000 rows, saying plainly when the search has more (CSV and XLSX carry
them all).

Fonts are Debian's DejaVu Sans (fonts-dejavu-core) with a Noto Color Emoji fallback
(fonts-noto-color-emoji), so accents and emoji survive. The detail rows are drawn with `FPDF.text()`
in fixed columns (`cell()` costs ~0.6 ms a cell, `table()` six times that), each text shortened with
"…" to its column; only texts with a character DejaVu lacks (emoji) go through `cell()` and the
fallback font.
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.compute as pc
from fpdf import FPDF
from fpdf.fonts import FontFace, TTFFont
from sqlalchemy.engine import Engine

from data_access.columns import DetailColumn
from data_access.filters import Filters
from data_access.i18n import format_datetime, format_int, results_text, t
from data_access.views import View, view_of
from exports.chart_images import png, warm_up
from exports.rows import fetch_batches, localise
from exports.summary import Kpi, search_block

PDF_ROWS = 10_000
FONT_DIR = Path("/usr/share/fonts/truetype")
FONT_FILES = {
    ("DejaVu", ""): "dejavu/DejaVuSans.ttf",
    ("DejaVu", "B"): "dejavu/DejaVuSans-Bold.ttf",
    ("DejaVuCond", ""): "dejavu/DejaVuSansCondensed.ttf",
    ("DejaVuCond", "B"): "dejavu/DejaVuSansCondensed-Bold.ttf",
    ("NotoEmoji", ""): "noto/NotoColorEmoji.ttf",
}
CHART_WIDTH_PX = 700
CHART_GAP = 4.0  # mm between the two charts of a row
TABLE_FONT_PT = 6.0
ROW_HEIGHT = 3.3  # mm
CELL_PAD = 0.6  # mm each side of a detail cell
MAX_COLUMN = {"message": 70.0, "error": 45.0}  # mm; other columns at most DEFAULT_MAX_COLUMN
DEFAULT_MAX_COLUMN = 38.0
WHOLE_KINDS = ("datetime", "phone", "bool", "content_type", "conversation_type")  # never shortened
BOTTOM_MARGIN = 12.0  # mm kept for the footer
ELLIPSIS = "…"
ZEBRA, HEADER_FILL = (243, 246, 245), (222, 230, 227)


def write_pdf(
    engine: Engine,
    filters: Filters,
    lang: str,
    out: IO[bytes],
    progress: Callable[[int, int], None],
    max_rows: int = PDF_ROWS,
) -> int:
    """Writes the PDF of the search to `out`; returns the number of detail rows it shows."""
    warm_up()  # the browser starts while the database answers
    generated_at = datetime.now(timezone.utc)
    view = view_of(filters)
    with engine.connect() as conn:
        report = view.report(conn, filters)
        batches = list(fetch_batches(conn, filters, limit=max_rows))
    shown = sum(batch.num_rows for batch in batches)
    progress(0, shown)
    doc = _Document(lang)
    doc.front(view, filters, report, generated_at)
    figures = view.figures(report, lang)
    doc.charts([(png(fig, CHART_WIDTH_PX, _height_px(fig)), _height_px(fig)) for fig in figures.values()])
    columns = _cell_texts(batches, view, filters, lang)
    doc.detail_rows(view, view.headers(lang), columns, view.total(view.summary_of(report)), shown)
    out.write(doc.output())
    progress(shown, shown)
    return shown


def _height_px(figure) -> int:
    return int(figure.layout.height or 320)


def _cell_texts(batches: list[pa.RecordBatch], view: View, filters: Filters, lang: str) -> list[list[str]]:
    """The shown rows as one list of one-line texts per column, in the language and the zone."""
    localised = [localise(batch, view, lang, filters.tz) for batch in batches]
    columns = []
    for i, column in enumerate(view.columns):
        texts: list[str] = []
        for batch in localised:
            array = batch.column(i)
            if column.kind == "datetime":
                texts.extend(format_datetime(value, lang) for value in array.to_pylist())
            else:
                one_line = pc.replace_substring_regex(array, r"[\r\n\t]+", " ")
                texts.extend(pc.fill_null(one_line, "").to_pylist())
        columns.append(texts)
    return columns


class _Document(FPDF):
    """An A4 landscape report in DejaVu Sans with emoji, page numbers in the footer."""

    def __init__(self, lang: str) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.lang = lang
        for (family, style), path in FONT_FILES.items():
            self.add_font(family, style, str(FONT_DIR / path))
        self.emoji_fonts = ["NotoEmoji"]
        self.set_fallback_fonts(self.emoji_fonts, exact_match=False)  # bold text falls back to the one emoji face
        # No "{nb}" alias: a message that contains "{nb}" must print as typed.
        self.alias_nb_pages("")
        self.set_margins(10, 10, 10)
        self.set_auto_page_break(True, margin=BOTTOM_MARGIN)
        self.set_creator("WhatsApp Detailed Report")

    def footer(self) -> None:
        self.set_y(-9)
        self.set_font("DejaVu", "", 7)
        self.set_text_color(110)
        self.cell(0, 4, t("export.page", self.lang, page=self.page_no()), align="R")
        self.set_text_color(0)

    # -- front page -------------------------------------------------------------------------------

    def front(self, view: View, filters: Filters, report: object, generated_at: datetime) -> None:
        lang = self.lang
        title = f"{t('app.title', lang)} – {view.title(lang)}"
        self.set_title(title)
        self.add_page()
        self.set_font("DejaVu", "B", 16)
        self.cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
        summary = view.summary_of(report)
        self.set_font("DejaVu", "", 11)
        self.cell(0, 7, results_text(view.total(summary), lang), new_x="LMARGIN", new_y="NEXT")
        self._section(t("export.filters", lang))
        self._pairs(search_block(view.title(lang), filters, lang, generated_at))
        self._section(t("export.summary", lang))
        self._kpi_grid(view.kpis(summary, lang))
        for table in view.tables:
            rows = table.rows(report, lang)
            if rows:
                body = [[format_int(v, lang) if isinstance(v, int) else str(v) for v in row.values()] for row in rows]
                self._section(t(table.title_key, lang))
                self._table(list(rows[0]), body, table.widths)

    def _section(self, title: str) -> None:
        self.ln(3)
        self.set_font("DejaVu", "B", 11)
        self.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
        self.set_font("DejaVu", "", 9)

    def _pairs(self, pairs: list[tuple[str, str]]) -> None:
        self._table([], [[name, value] for name, value in pairs], (1, 3), width=self.epw * 0.75)

    def _kpi_grid(self, kpis: list[Kpi]) -> None:
        """The KPIs in one row, then what each rate is a share of (its denominator)."""
        self._table([k.label for k in kpis], [[k.text(self.lang) for k in kpis]], [1] * len(kpis), align="CENTER")
        self.set_font("DejaVu", "", 8)
        for kpi in kpis:
            if kpi.basis:
                self.multi_cell(0, 4, f"{kpi.label}: {kpi.basis}", new_x="LMARGIN", new_y="NEXT")
        self.set_font("DejaVu", "", 9)

    def _table(
        self,
        head: list[str],
        body: list[list[str]],
        col_widths: Sequence[float],
        width: float | None = None,
        align: str = "LEFT",
    ) -> None:
        self.set_font("DejaVu", "", 9)
        with self.table(
            col_widths=tuple(col_widths),
            width=width or self.epw,
            align="LEFT",
            text_align=align,
            first_row_as_headings=bool(head),
            line_height=5,
            headings_style=FontFace(emphasis="BOLD", fill_color=HEADER_FILL),
        ) as table:
            for values in ([head] if head else []) + body:
                row = table.row()
                for value in values:
                    row.cell(value)

    # -- charts -----------------------------------------------------------------------------------

    def charts(self, images: list[tuple[bytes, int]]) -> None:
        """The page's charts, two a row, each as wide as half the page."""
        width = (self.epw - CHART_GAP) / 2
        bottom = self.h - self.b_margin
        first_row = max(width * height_px / CHART_WIDTH_PX for _, height_px in images[:2])
        if self.get_y() + 10 + first_row > bottom:  # keep the heading with its charts
            self.add_page()
        self._section(t("export.charts", self.lang))
        row_top = row_bottom = self.get_y()
        for i, (image, height_px) in enumerate(images):
            height = width * height_px / CHART_WIDTH_PX
            if i % 2 == 0:
                row_top = row_bottom if i else self.get_y()
                if row_top + height > bottom:
                    self.add_page()
                    row_top = self.t_margin
                row_bottom = row_top
            x = self.l_margin + (i % 2) * (width + CHART_GAP)
            self.image(io.BytesIO(image), x=x, y=row_top, w=width, h=height)
            row_bottom = max(row_bottom, row_top + height + 2)
        self.set_y(row_bottom)

    # -- detail rows ------------------------------------------------------------------------------

    def detail_rows(
        self, view: View, header_texts: list[str], columns: list[list[str]], total: int, shown: int
    ) -> None:
        """The first rows of the search in fixed columns, the header repeated on every page."""
        lang = self.lang
        self.add_page()
        self._section(t("table.details", lang))
        if total > shown:
            self.set_font("DejaVu", "B", 9)
            self.multi_cell(0, 5, t("export.truncated", lang, total=format_int(total, lang),
                                    shown=format_int(shown, lang)), new_x="LMARGIN", new_y="NEXT")
            self.set_font("DejaVu", "", 9)
        self.multi_cell(0, 5, t("export.shortened", lang), new_x="LMARGIN", new_y="NEXT")
        self.ln(2)
        grid = _Grid(self, view.columns, header_texts, columns)
        self.set_auto_page_break(False)
        self.set_fallback_fonts([])  # switched on only for the cells that need it (it parses per character)
        margin, self.c_margin = self.c_margin, CELL_PAD
        y = grid.draw_header(self.get_y())
        bottom = self.h - BOTTOM_MARGIN
        for r in range(shown):
            if y + ROW_HEIGHT > bottom:
                self.add_page()
                y = grid.draw_header(self.t_margin)
            grid.draw_row(r, y)
            y += ROW_HEIGHT
        self.c_margin = margin
        self.set_fallback_fonts(self.emoji_fonts, exact_match=False)
        self.set_auto_page_break(True, margin=BOTTOM_MARGIN)


class _Advances(dict):
    """Width in mm of each character in a font at a size; characters the font lacks are measured in
    the emoji font that will draw them."""

    def __init__(self, font: TTFFont, fallback: TTFFont, size_pt: float, k: float) -> None:
        super().__init__()
        self.font, self.fallback, self.scale = font, fallback, size_pt * 0.001 / k

    def __missing__(self, char: str) -> float:
        code = ord(char)
        units = self.fallback.cw[code] if code not in self.font.cmap and code in self.fallback.cmap else self.font.cw[code]
        self[char] = width = units * self.scale
        return width

    def of(self, text: str) -> float:
        return sum(map(self.__getitem__, text))


class _Grid:
    """Column widths, header lines and the shortened texts of the detail table, and how to draw them."""

    def __init__(
        self, doc: _Document, kinds: Sequence[DetailColumn], header_texts: list[str], columns: list[list[str]]
    ) -> None:
        self.doc = doc
        doc.set_font("DejaVuCond", "B", TABLE_FONT_PT)
        bold = _Advances(doc.current_font, doc.fonts["notoemoji"], TABLE_FONT_PT, doc.k)
        doc.set_font("DejaVuCond", "", TABLE_FONT_PT)
        regular = _Advances(doc.current_font, doc.fonts["notoemoji"], TABLE_FONT_PT, doc.k)
        self.font_size = doc.font_size
        self.needs_fallback = _missing_glyphs(doc.current_font)
        measured = [{text: regular.of(text) for text in set(texts)} for texts in columns]
        self.widths = _column_widths(
            doc.epw,
            [max(m.values(), default=0.0) for m in measured],
            [max((bold.of(word) for word in header.split()), default=0.0) for header in header_texts],
            [MAX_COLUMN.get(c.key, DEFAULT_MAX_COLUMN) for c in kinds],
            [c.kind not in WHOLE_KINDS for c in kinds],
        )
        self.header_lines = [_wrap(h, w - 2 * CELL_PAD, bold) for h, w in zip(header_texts, self.widths)]
        ellipsis = regular.of(ELLIPSIS)
        self.cells = [
            _shortened(texts, m, w - 2 * CELL_PAD, regular, ellipsis)
            for texts, m, w in zip(columns, measured, self.widths)
        ]

    def draw_header(self, y: float) -> float:
        """Draws the header row at `y`; returns where the first data row goes."""
        doc = self.doc
        lines = max(len(h) for h in self.header_lines)
        height = lines * ROW_HEIGHT + 0.6
        doc.set_fill_color(*HEADER_FILL)
        doc.rect(doc.l_margin, y, sum(self.widths), height, style="F")
        doc.set_font("DejaVuCond", "B", TABLE_FONT_PT)
        x = doc.l_margin
        for width, header in zip(self.widths, self.header_lines):
            for n, line in enumerate(header):
                doc.text(x + CELL_PAD, y + 0.3 + n * ROW_HEIGHT + self._baseline(), line)
            x += width
        doc.set_font("DejaVuCond", "", TABLE_FONT_PT)
        doc.set_fill_color(*ZEBRA)
        return y + height

    def draw_row(self, r: int, y: float) -> None:
        doc = self.doc
        if r % 2:
            doc.rect(doc.l_margin, y, sum(self.widths), ROW_HEIGHT, style="F")
        x = doc.l_margin
        baseline = y + self._baseline()
        for width, texts in zip(self.widths, self.cells):
            text = texts[r]
            if text:
                if self.needs_fallback(text):
                    doc.set_fallback_fonts(doc.emoji_fonts, exact_match=False)
                    doc.set_xy(x, y)
                    doc.cell(width, ROW_HEIGHT, text)
                    doc.set_fallback_fonts([])
                else:
                    doc.text(x + CELL_PAD, baseline, text)
            x += width

    def _baseline(self) -> float:
        return 0.5 * ROW_HEIGHT + 0.3 * self.font_size


def _missing_glyphs(font: TTFFont) -> Callable[[str], object]:
    """A test for texts with a character the font cannot draw (a compiled regex's `search`)."""
    codes = sorted(font.cmap)
    runs: list[tuple[int, int]] = []
    start = previous = codes[0]
    for code in codes[1:]:
        if code != previous + 1:
            runs.append((start, previous))
            start = code
        previous = code
    runs.append((start, previous))
    drawable = "".join(re.escape(chr(a)) + (f"-{re.escape(chr(b))}" if b > a else "") for a, b in runs)
    return re.compile(f"[^{drawable}]").search


def _column_widths(
    room: float, natural: list[float], words: list[float], caps: list[float], flexible: list[bool]
) -> list[float]:
    """Each column as wide as its widest text (within its cap) and its widest header word. When that
    overflows the page, the widest flexible columns are brought down to one common width, so short
    columns (ids, names) stay whole and long texts give way (dates, phones and labels never shrink)."""
    pad = 2 * CELL_PAD
    least = [w + pad for w in words]
    wanted = [max(min(n + pad, cap), low) for n, cap, low in zip(natural, caps, least)]
    if sum(wanted) <= room:
        return wanted

    def capped(limit: float) -> list[float]:
        return [min(w, max(limit, low)) if flex else w for w, low, flex in zip(wanted, least, flexible)]

    if sum(capped(0.0)) > room:  # even so the page is too narrow: shrink everything alike
        return [w * room / sum(wanted) for w in wanted]
    low, high = 0.0, max(wanted)
    for _ in range(40):  # bisection on the common width
        middle = (low + high) / 2
        low, high = (middle, high) if sum(capped(middle)) <= room else (low, middle)
    return capped(low)


def _wrap(text: str, room: float, advances: _Advances) -> list[str]:
    """A header split into lines of whole words that fit `room` (a word longer than it stays whole)."""
    lines: list[str] = []
    for word in text.split():
        if lines and advances.of(lines[-1] + " " + word) <= room:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _shortened(
    texts: list[str], measured: dict[str, float], room: float, advances: _Advances, ellipsis: float
) -> list[str]:
    """Each text, or its beginning and "…" when it is wider than `room`."""
    fitted: dict[str, str] = {}
    for text, width in measured.items():
        if width <= room:
            fitted[text] = text
            continue
        used, cut = 0.0, 0
        for cut, char in enumerate(text):
            used += advances[char]
            if used > room - ellipsis:
                break
        fitted[text] = text[:cut].rstrip() + ELLIPSIS
    return [fitted[text] for text in texts]
