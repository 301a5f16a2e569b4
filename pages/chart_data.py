"""A chart with its numbers underneath: the figure, then a closed "Ver dados: <chart title>" expander holding the
same numbers as a plain table (the chart's text alternative for screen readers and for copying)."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from data_access.i18n import t
from pages.widgets import chart


def chart_with_data(figure: go.Figure, rows: list[dict[str, str]], lang: str, key: str) -> None:
    """The figure, then its rows (already written in the language) in an expander."""
    chart(figure, lang, key=key)
    with st.expander(t("chart.show_data", lang, title=figure.layout.title.text)):
        frame = pd.DataFrame(rows)
        st.table(frame.set_index(frame.columns[0]))
