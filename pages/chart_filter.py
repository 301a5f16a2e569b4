"""Click a bar or a funnel stage to filter the page by it: the status bars and the funnel filter the
Sent page by status, the quick-reply bars the Received page by button. The click sets the sidebar
filter's own widget (before the next run draws it), so the URL, the cache key and every figure follow
as for any other filter change.

Each clickable point carries what it filters by as its `customdata`, written by `exports.charts` when
the figure is built (the figure is shared by every session: nothing here changes it): a status code
list joined by commas (codes have none; "" is every status: the funnel's first stage), or a button's
text as is.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import streamlit as st

from data_access.i18n import t
from pages.chart_data import data_expander
from pages.search_state import widget_key


def picked(field: str, points: Sequence[dict]) -> tuple[str, ...] | None:
    """The filter values a selection picks (the first point clicked), or None when it picks nothing."""
    if not points:
        return None
    data = points[0].get("customdata")
    if isinstance(data, list):  # plotly hands per-point arrays back as lists
        data = data[0] if data else None
    if not isinstance(data, str):
        return None
    if field == "status":
        return tuple(code for code in data.split(",") if code)
    return (data,)


def _apply(chart_key: str, view: str, field: str) -> None:
    """The chart's on_select callback: sets the filter widget before the page runs again."""
    event = st.session_state.get(chart_key)
    values = picked(field, event.selection.points if event else [])
    if values is not None:
        st.session_state[widget_key(view, field)] = list(values)


def clickable_chart(figure: go.Figure, table: pd.DataFrame | pa.Table, lang: str, key: str, view: str,
                    field: str, title: str | None = None) -> None:
    """The figure, clickable to filter the page by `field`; then its numbers (`chart_data.data_expander`)."""
    st.plotly_chart(
        figure,
        theme=None,
        config={"displayModeBar": False},
        key=key,
        on_select=lambda: _apply(key, view, field),
        selection_mode="points",
    )
    st.caption(t("chart.click_to_filter", lang))
    data_expander(figure, table, lang, title)
