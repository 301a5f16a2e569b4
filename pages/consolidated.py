"""Consolidado: the Sent search grouped by campaign, template, day... with each group's rates and
their change from the previous period of the same length (the seed's "Relatório Consolidado")."""
import streamlit as st

from data_access.i18n import t
from pages import common, consolidated_view

run = common.current_run()
lang = run.lang
db = common.database(lang)
filters = common.mt_sidebar(db, run)
st.subheader(t("consolidated.title", lang), anchor=False)
layout = consolidated_view.layout_widgets(lang)
report = consolidated_view.report_of(db, filters, layout.dimension, lang)

if report is not None:
    common.results_header(report.totals.current.total, filters, lang)
    if report.totals.current.total == 0:
        common.empty_state(lang)
    else:
        consolidated_view.render(report, layout, lang)
        consolidated_view.export_buttons(db.engine, report, filters, layout, lang, run.account)
