"""The insights of a report page: distinct contacts and median time to read as cards, the
time-to-read distribution and the weekday x hour heatmap as charts with their tables, inside one
expander per page, collapsed by default: distinct counts and exact medians cannot be pre-aggregated
for any search, so at millions of rows they are computed only when the person opens it (and for the
session's next searches while it stays open, in any language and after other pages: its state is
kept). Data comes from `data_access.insights`, cached like the report (database URL, data version,
search); the figures are built once for every session, like the report's (`pages.shared_charts`):
keyed by the same and the language, shared as they are, never changed."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from sqlalchemy.engine import Engine

from data_access.filters import MoFilters, MtFilters
from data_access.i18n import format_int, t
from data_access.insights import MoInsights, MtInsights, ReadDelay, mo_insights, mt_insights
from data_access.report import with_connection
from exports.insight_charts import format_average, format_duration, mo_insight_figures, mt_insight_figures
from pages.data import CACHE_ENTRIES, CACHE_TTL_S, Db, guarded
from pages.chart_data import chart_with_data, data_table
from pages.widgets import METRIC_HEIGHT_PX


# The session-state keys of the pages' insight expanders: True while open.
MT_OPEN_KEY = "mt.insights_open"
MO_OPEN_KEY = "mo.insights_open"

# Each insight chart with its numbers as rows, shared by every session: read them, never change them.
Figures = dict[str, tuple[go.Figure, pd.DataFrame]]


@st.cache_data(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _mt_insights(_engine: Engine, url: str, version: int, filters: MtFilters) -> MtInsights:
    return with_connection(_engine, mt_insights, filters)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _mo_insights(_engine: Engine, url: str, version: int, filters: MoFilters) -> MoInsights:
    return with_connection(_engine, mo_insights, filters)


# `url`, `version`, `filters` and `lang` are the key; the insights (not hashed) are the ones they name.
@st.cache_resource(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _mt_figures(url: str, version: int, filters: MtFilters, lang: str, _insights: MtInsights) -> Figures:
    return {name: (figure, data_table(rows)) for name, (figure, rows) in mt_insight_figures(_insights, lang).items()}


@st.cache_resource(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _mo_figures(url: str, version: int, filters: MoFilters, lang: str, _insights: MoInsights) -> Figures:
    return {name: (figure, data_table(rows)) for name, (figure, rows) in mo_insight_figures(_insights, lang).items()}


def mt_insights_of(db: Db | None, filters: MtFilters, lang: str) -> MtInsights | None:
    """The Sent page's insights, or None (with a message) when the database fails."""
    return None if db is None else guarded(lang, _mt_insights, db.engine, db.url, db.version, filters)


def mo_insights_of(db: Db | None, filters: MoFilters, lang: str) -> MoInsights | None:
    """The Received page's insights, or None (with a message) when the database fails."""
    return None if db is None else guarded(lang, _mo_insights, db.engine, db.url, db.version, filters)


def contacts_card(label_key: str, help_key: str, contacts: int, messages: int, lang: str) -> None:
    """Distinct people, and how many messages each had on average."""
    with st.container(border=True, height="stretch"):
        st.metric(t(label_key, lang), format_int(contacts, lang), help=t(help_key, lang), height=METRIC_HEIGHT_PX)
        if contacts:
            st.caption(t("kpi.per_contact", lang, n=format_average(messages / contacts, lang)))


def delay_card(label_key: str, help_key: str, delay: ReadDelay, lang: str) -> None:
    """A median wait, and how many read messages it was measured on."""
    with st.container(border=True, height="stretch"):
        st.metric(t(label_key, lang), format_duration(delay.median_s, lang), help=t(help_key, lang),
                  height=METRIC_HEIGHT_PX)
        st.caption(t("kpi.read_measured", lang, n=format_int(delay.measured, lang)))


def mt_cards(insights: MtInsights, total: int, lang: str) -> None:
    """Unique recipients and the two median times to read, in a row of cards."""
    cards = st.columns(3)
    with cards[0]:
        contacts_card("metric.recipients", "kpi.recipients_help", insights.recipients, total, lang)
    with cards[1]:
        delay_card("insight.median_delivered_read", "kpi.median_delivered_read_help", insights.delivered_to_read, lang)
    with cards[2]:
        delay_card("insight.median_sent_read", "kpi.median_sent_read_help", insights.sent_to_read, lang)


def mt_charts(db: Db, filters: MtFilters, insights: MtInsights, lang: str) -> None:
    """The time-to-read distribution beside the weekday x hour of reads (a line instead when no read
    message of the search has a read time); `insights` are those of `filters` at the data version of `db`."""
    if not insights.sent_to_read.measured:
        st.caption(t("insight.no_reads", lang))
        return
    figures = _mt_figures(db.url, db.version, filters, lang, insights)
    left, right = st.columns(2)
    with left:
        chart_with_data(*figures["read_delay"], lang, key="mt.read_delay")
    with right:
        chart_with_data(*figures["reads_by_hour"], lang, key="mt.reads_by_hour")
        st.caption(t("insight.in_zone", lang, tz=filters.tz))


def mo_card(insights: MoInsights, total: int, lang: str) -> None:
    contacts_card("metric.senders", "kpi.senders_help", insights.senders, total, lang)


def mo_charts(db: Db, filters: MoFilters, insights: MoInsights, lang: str) -> None:
    """The weekday x hour of replies; `insights` are those of `filters` at the data version of `db`."""
    figures = _mo_figures(db.url, db.version, filters, lang, insights)
    chart_with_data(*figures["replies_by_hour"], lang, key="mo.replies_by_hour")
    st.caption(t("insight.in_zone", lang, tz=filters.tz))


def _opened(label: str, key: str):
    """The insights' expander (closed until asked for), or None while it is closed: nothing in it runs.

    Streamlit tells an expander from another by its label as well as its key, so a new language would
    make it a new, closed one, and it forgets a widget's state after a run that leaves it out (another
    page). Whether it is open is therefore kept under a key of the session's own too, and handed to the
    widget's key before it is drawn."""
    state = st.session_state
    kept = f"{key}.kept"
    state[kept] = bool(state[key]) if key in state else state.get(kept, False)
    state[key] = state[kept]
    panel = st.expander(label, key=key, on_change="rerun")
    return panel if panel.open else None


def mt_section(db: Db | None, filters: MtFilters, total: int, lang: str) -> None:
    """The Sent page's insights in an expander: queried and drawn only while it is open."""
    panel = _opened(t("insight.open_mt", lang), MT_OPEN_KEY)
    if panel is None:
        return
    with panel:
        insights = mt_insights_of(db, filters, lang)
        if insights is not None:
            mt_cards(insights, total, lang)
            mt_charts(db, filters, insights, lang)


def mo_section(db: Db | None, filters: MoFilters, total: int, lang: str) -> None:
    """The Received page's insights in an expander: queried and drawn only while it is open."""
    panel = _opened(t("insight.open_mo", lang), MO_OPEN_KEY)
    if panel is None:
        return
    with panel:
        insights = mo_insights_of(db, filters, lang)
        if insights is not None:
            cards = st.columns(3)
            with cards[0]:
                mo_card(insights, total, lang)
            mo_charts(db, filters, insights, lang)
