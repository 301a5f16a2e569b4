"""Sent (MT): what happened to every message the business sent (SPEC sections 3 and 4)."""
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
    widgets.results_header(report.totals.total, filters, lang)
filter_panel(db, run, view)  # after the total: a change's run sends its new total first
if report is not None:
    totals = report.totals
    if totals.total == 0:
        widgets.empty_state(lang)
    else:
        cards = st.columns(4)
        with cards[0]:
            widgets.kpi(t("metric.delivery_rate", lang), totals.delivery_rate, totals.delivered, totals.total,
                       t("kpi.delivery_help", lang), lang, "kpi.of_sent")
        with cards[1]:
            widgets.kpi(t("metric.read_rate", lang), totals.read_rate, totals.read, totals.delivered,
                       t("kpi.read_help", lang), lang, "kpi.of_delivered")
        with cards[2]:
            widgets.kpi(t("metric.failure_rate", lang), totals.failure_rate, totals.failed, totals.total,
                       t("kpi.failure_help", lang), lang, "kpi.of_sent")
        with cards[3]:
            widgets.kpi(t("metric.reply_rate", lang), totals.reply_rate, totals.replied, totals.delivered,
                       t("kpi.reply_help", lang), lang, "kpi.of_delivered")

        # the total and its cards are drawn: the rest waits for a turn (two pages at once: pages/turns.py)
        with turns.page_turn():
            charts = charts_of(db, view, filters, report, lang)  # built once for every session
            figures, tables, titles = charts.figures, charts.tables, charts.titles
            left, right = st.columns(2)
            with left:  # click to filter: a funnel stage or a status bar filters the page by status
                clickable_chart(figures["funnel"], tables["funnel"], lang, "mt.funnel", "mt", "status",
                                titles["funnel"])
            with right:
                clickable_chart(figures["status_breakdown"], tables["status_breakdown"],
                                lang, "mt.status_breakdown", "mt", "status", titles["status_breakdown"])
            chart_with_data(figures["daily_delivery_rate"], tables["daily_delivery_rate"], lang, key="mt.daily",
                            title=titles["daily_delivery_rate"])
            # insights (unique recipients, times to read, weekday x hour of reads): only when opened
            insights_view.mt_section(db, filters, totals.total, lang)
            widgets.section_title(t("chart.failure_reasons", lang))
            reasons = charts.lists["chart.failure_reasons"]  # failure_reason_rows, drawn once for every session
            if reasons is not None:
                widgets.small_table(reasons, wrap_last=True)
            else:
                st.caption(t("chart.no_failures", lang))

            widgets.detail_table(db, filters, totals.total, lang)
            render_export_panel(db.engine, filters, lang, total=totals.total, account=run.account)
saved_searches(db, filters, run)
