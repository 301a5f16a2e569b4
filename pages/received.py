"""Received (MO): every message customers sent back, quick-reply clicks first (SPEC sections 3 and 4)."""
import streamlit as st

from data_access.i18n import t
from exports.charts import mo_chart_tables, mo_figures
from pages import common
from pages import insights_view
from pages.chart_data import chart_with_data
from pages.chart_filter import button_bar_points, clickable_chart
from pages.export_panel import render_export_panel

run = common.current_run()
lang = run.lang
db = common.database(lang)
filters = common.mo_sidebar(db, run)
report = common.mo_report_of(db, filters, lang)

if report is not None:
    common.results_header(report.total, filters, lang)
    if report.total == 0:
        common.empty_state(lang)
    else:
        insights = insights_view.mo_insights_of(db, filters, lang)  # insights: unique senders, replies by hour
        cards = st.columns(3 if insights is None else 4)
        if insights is not None:
            with cards[3]:
                insights_view.mo_card(insights, report.total, lang)
        with cards[0]:
            common.count_card(t("metric.replies", lang), report.total, lang)
        with cards[1]:
            common.count_card(t("metric.clicks", lang), report.quick_reply_clicks, lang, t("kpi.clicks_help", lang))
        with cards[2]:
            common.kpi(t("metric.click_share", lang), report.quick_reply_clicks / report.total,
                       report.quick_reply_clicks, report.total, t("kpi.click_share_help", lang), lang)

        figures, tables = mo_figures(report, lang), mo_chart_tables(report, lang)
        if report.quick_replies:
            left, right = st.columns(2)
            with left:
                clickable_chart(button_bar_points(figures["quick_replies"], report), tables["quick_replies"], lang,
                                "mo.quick_replies", "mo", "button")  # click to filter by button
            with right:
                common.section_title(t("chart.quick_replies_table", lang))
                common.small_table(
                    [
                        {
                            t("chart.button", lang): q.button_text or "",
                            t("filter.campaign", lang): q.campaign or "",
                            t("chart.template", lang): q.template_name or "",
                            t("metric.clicks", lang): q.clicks,
                        }
                        for q in report.quick_replies
                    ],
                    lang,
                )
        else:
            st.caption(t("chart.no_clicks", lang))
        left, right = st.columns(2)
        with left:
            chart_with_data(figures["replies_per_day"], tables["replies_per_day"], lang, key="mo.daily")
        with right:
            chart_with_data(figures["content_mix"], tables["content_mix"], lang, key="mo.content_mix")
        if insights is not None:  # insights: weekday x hour of replies
            insights_view.mo_charts(insights, filters.tz, lang)

        common.detail_table(db, filters, report.total, lang)
        render_export_panel(db.engine, filters, lang, total=report.total, account=run.account)
