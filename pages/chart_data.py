"""A chart with its numbers underneath: the figure, then a closed "Ver dados: <chart title>" expander holding the
same numbers as a plain table (the chart's text alternative for screen readers and for copying)."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import streamlit as st

from data_access.i18n import t
from pages.widgets import chart


def data_table(rows: list[dict[str, str]]) -> pd.DataFrame:
    """A chart's rows (already written in the language) as the table under it, indexed by its first
    column (no rows: an empty table; the page draws no chart then). Built once with the chart, for every
    session (`pages.shared_charts`): read it, never change it."""
    frame = pd.DataFrame(rows)
    return frame.set_index(frame.columns[0]) if rows else frame


def arrow_table(rows: list[dict[str, str]]) -> pa.Table:
    """`data_table(rows)` as the Arrow table Streamlit sends for it (the index a column, named in the
    table's pandas metadata): converted once with the chart, not by every run drawing it. Built from
    the columns (a frame from a list of dicts, then its index set, took twice as long)."""
    if not rows:
        return pa.Table.from_pandas(data_table(rows))
    first, *rest = rows[0]
    index = pd.Index([row[first] for row in rows], name=first)
    return pa.Table.from_pandas(pd.DataFrame({name: [row[name] for row in rows] for name in rest}, index=index))


def data_expander(figure: go.Figure, table: pd.DataFrame | pa.Table, lang: str, title: str | None = None) -> None:
    """The chart's numbers, a `data_table` or its `arrow_table` (whose first column, the index,
    Streamlit shows as it shows a DataFrame's index), in a closed expander named after the figure's
    `title` (read from the figure when not given)."""
    with st.expander(t("chart.show_data", lang, title=figure.layout.title.text if title is None else title)):
        st.table(table, hide_index=False if isinstance(table, pa.Table) else None)


def chart_with_data(figure: go.Figure, table: pd.DataFrame | pa.Table, lang: str, key: str,
                    title: str | None = None) -> None:
    """The figure, then its numbers (`data_expander`)."""
    chart(figure, key=key)
    data_expander(figure, table, lang, title)
