"""The charts of a search, built once for every session that asks for it.

Building the Plotly figures took most of a filter change's time in the server: with 8 sessions
changing searches, 56% of the script threads' time holding the interpreter lock went to
`mt_figures` (py-spy, BENCHMARKS.md), for figures that are a pure function of the search's report
and the language. So the figures, the numbers under them and the failure reasons are built once per
(database URL, data version, filter value — its account scope included —, language) and every
session gets the same objects (`st.cache_resource`: no copy per session). Nothing changes a figure
once it is here: the page styling is applied while building, and `show` draws a figure without
touching it. A new data version is a new key, so new events show on the next interaction, as for the
report itself.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from data_access.filters import MoFilters, MtFilters
from data_access.i18n import date_format, format_int, format_pct
from data_access.report import MoReport, MtReport
from exports.charts import failure_reason_rows, mo_chart_tables, mo_figures, mt_chart_tables, mt_figures

CACHE_TTL_S = 600
CACHE_ENTRIES = 256
PLOTLY_CONFIG = {"displayModeBar": False}


@dataclass(frozen=True)
class Charts:
    """One search's charts in one language, shared by every session: read them, never change them."""

    figures: Mapping[str, go.Figure]
    tables: Mapping[str, list[dict[str, str]]]  # each chart's numbers as rows, written in the language
    reasons: list[dict[str, object]]  # the failure reasons table (Sent only)


def styled(figure: go.Figure, lang: str) -> go.Figure:
    """The page's look on a figure (changed in place and returned): the language's number and date
    formats and room for long labels such as "Não entregue por opt-out"."""
    thousands, decimal = format_int(1000, lang)[1], format_pct(0.015, lang)[1]  # "1.000", "1,5%"
    figure.update_layout(separators=decimal + thousands)
    figure.update_xaxes(automargin=True)
    figure.update_yaxes(automargin=True)
    if any(_is_dates(getattr(trace, "x", None)) for trace in figure.data):
        day = "%d/%m" if date_format(lang).startswith("%d") else "%m-%d"
        figure.update_xaxes(tickformat=day, hoverformat=date_format(lang))
    return figure


def _is_dates(values: Any) -> bool:
    return values is not None and len(values) > 0 and hasattr(values[0], "isoformat")


def show(figure: go.Figure, key: str) -> None:
    """Draws a figure of `Charts` (already styled) without changing it."""
    st.plotly_chart(figure, theme=None, config=PLOTLY_CONFIG, key=key)


# `url`, `version`, `filters` and `lang` are the key; the report (not hashed) is the one they name.


@st.cache_resource(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _mt_charts(url: str, version: int, filters: MtFilters, lang: str, _report: MtReport) -> Charts:
    figures = {name: styled(figure, lang) for name, figure in mt_figures(_report, lang).items()}
    return Charts(figures, mt_chart_tables(_report, lang), failure_reason_rows(_report, lang))


@st.cache_resource(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _mo_charts(url: str, version: int, filters: MoFilters, lang: str, _report: MoReport) -> Charts:
    figures = {name: styled(figure, lang) for name, figure in mo_figures(_report, lang).items()}
    return Charts(figures, mo_chart_tables(_report, lang), [])


def mt_charts(url: str, version: int, filters: MtFilters, report: MtReport, lang: str) -> Charts:
    """The Sent page's charts of `report`, which is the report of `filters` at data `version` of `url`."""
    return _mt_charts(url, version, filters, lang, report)


def mo_charts(url: str, version: int, filters: MoFilters, report: MoReport, lang: str) -> Charts:
    """The Received page's charts of `report`, which is the report of `filters` at data `version` of `url`."""
    return _mo_charts(url, version, filters, lang, report)
