"""Received (MO): every message customers sent back, quick-reply clicks first (SPEC sections 3 and 4)."""
import streamlit as st

from data_access.i18n import t
from pages import insights_view, turns, widgets
from pages.chart_data import chart_with_data
from pages.chart_filter import clickable_chart
from pages.data import database, report_of
from pages.export_panel import render_export_panel
from pages.run import current_run
from pages.shared_charts import charts_of
from pages.sidebar import filter_panel, saved_searches, sidebar

run = current_run()
view, lang = run.view, run.lang
db = database(lang)
filters = sidebar(db, run, view)
report = report_of(db, view, filters, lang)

if report is not None:
    widgets.results_header(report.total, filters, lang)
filter_panel(db, run, view)  # after the total: a change's run sends its new total first
if report is not None:
    if report.total == 0:
        widgets.empty_state(lang)
    else:
        cards = st.columns(3)
        with cards[0]:
            widgets.count_card(t("metric.replies", lang), report.total, lang)
        with cards[1]:
            widgets.count_card(t("metric.clicks", lang), report.quick_reply_clicks, lang, t("kpi.clicks_help", lang))
        with cards[2]:
            widgets.kpi(t("metric.click_share", lang), report.quick_reply_clicks / report.total,
                       report.quick_reply_clicks, report.total, t("kpi.click_share_help", lang), lang, "kpi.of_replies")

        # the total and its cards are drawn: the rest waits for a turn (two pages at once: pages/turns.py)
        with turns.page_turn():
            charts = charts_of(db, view, filters, report, lang)  # built once for every session
            figures, tables, titles = charts.figures, charts.tables, charts.titles
            if report.quick_replies:
                left, right = st.columns(2)
                with left:
                    clickable_chart(figures["quick_replies"], tables["quick_replies"], lang,
                                    "mo.quick_replies", "mo", "button", titles["quick_replies"])  # filters by button
                with right:
                    widgets.section_title(t("chart.quick_replies_table", lang))
                    widgets.small_table(charts.lists["chart.quick_replies"])  # quick_reply_rows, drawn once
            else:
                st.caption(t("chart.no_clicks", lang))
            left, right = st.columns(2)
            with left:
                chart_with_data(figures["replies_per_day"], tables["replies_per_day"], lang, key="mo.daily",
                                title=titles["replies_per_day"])
            with right:
                chart_with_data(figures["content_mix"], tables["content_mix"], lang, key="mo.content_mix",
                                title=titles["content_mix"])
            # insights (unique senders, weekday x hour of replies): only when opened
            insights_view.mo_section(db, filters, report.total, lang)

            widgets.detail_table(db, filters, report.total, lang)
            render_export_panel(db.engine, filters, lang, total=report.total, account=run.account)
saved_searches(db, filters, run)
