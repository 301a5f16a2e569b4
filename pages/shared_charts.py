"""The charts of a search, built once for every session that asks for it.

Building the Plotly figures took most of a filter change's time in the server: with 8 sessions
changing searches, 56% of the script threads' time holding the interpreter lock went to
`mt_figures` (py-spy, BENCHMARKS.md), for figures that are a pure function of the search's report
and the language. So a view's figures and the numbers under them are built once per (database URL,
data version, view, filter value — its account scope included —, language) and every session gets
the same objects (`st.cache_resource`: no copy per session), the tables under them already as the
Arrow tables Streamlit sends (building them took as long as drawing them, and converting a DataFrame
cost each run again), the view's small tables (failure reasons, quick replies) too. Nothing changes a
figure once it is here: `exports.charts` writes them in the language, and `widgets.chart` draws a
figure without touching it. A new data version is a new key, so new events show on the next
interaction, as for the report itself.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go
import pyarrow as pa
import streamlit as st

from data_access.filters import Filters
from data_access.views import View, view
from pages.chart_data import arrow_table
from pages.data import CACHE_ENTRIES, CACHE_TTL_S, Db, search_key
from pages.widgets import small_frame


@dataclass(frozen=True)
class Charts:
    """One search's charts in one language, shared by every session: read them, never change them."""

    figures: Mapping[str, go.Figure]  # in page order
    tables: Mapping[str, pa.Table]  # each chart's numbers as the table under it (`arrow_table`), in the language
    # the view's tables of the report (`View.tables`: failure reasons, quick replies) as drawn
    # (`widgets.small_frame`), by title key; None for one without rows
    lists: Mapping[str, pa.Table | None] = field(default_factory=dict)
    titles: Mapping[str, str] = field(default_factory=dict)  # each figure's title (plotly's lookup: ~0.1 ms)


def build(shown: View, report: Any, lang: str) -> Charts:
    """The view's charts of a report (what the cache keeps): `exports.charts` writes their day ticks,
    separators and numbers in the language, so the page draws them as they are."""
    lists = {}
    for table in shown.tables:
        rows = table.rows(report, lang)
        lists[table.title_key] = small_frame(rows, lang) if rows else None
    figures = shown.figures(report, lang)
    return Charts(figures, {name: arrow_table(rows) for name, rows in shown.chart_tables(report, lang).items()},
                  lists, {name: figure.layout.title.text for name, figure in figures.items()})


# `url`, `version`, `code`, `search` (the filter value's `search_key`) and `lang` are the key; the
# report (not hashed) is the one they name.
@st.cache_resource(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _charts(url: str, version: int, code: str, search: str, lang: str, _report: Any) -> Charts:
    return build(view(code), _report, lang)


def charts_of(db: Db, shown: View, filters: Filters, report: Any, lang: str) -> Charts:
    """The charts of `report`, which is the view's report of `filters` at the data version of `db`."""
    return _charts(url=db.url, version=db.version, code=shown.code, search=search_key(filters), lang=lang,
                   _report=report)
