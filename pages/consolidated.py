"""Consolidado: the Sent search grouped by campaign, template, day... with each group's rates and
their change from the previous period of the same length (the seed's "Relatório Consolidado")."""
import streamlit as st

from data_access.i18n import t
from pages import consolidated_view, widgets
from pages.data import database
from pages.run import current_run
from pages.sidebar import filter_panel, saved_searches, sidebar

run = current_run()
view, lang = run.view, run.lang
db = database(lang)
# The grouping is in the URL beside the search (`group_by`, `sort`, `order`, `compare`).
filters = sidebar(db, run, view, consolidated_view.starting_layout(run).to_params())
st.subheader(t("consolidated.title", lang), anchor=False)
layout = consolidated_view.layout_widgets(lang)
report = consolidated_view.report_of(db, filters, layout.dimension, lang)

if report is not None:
    widgets.results_header(report.totals.current.total, filters, lang)
filter_panel(db, run, view)  # after the total: a change's run sends its new total first
if report is not None:
    if report.totals.current.total == 0:
        widgets.empty_state(lang)
    else:
        consolidated_view.render(report, layout, lang)
        consolidated_view.export_buttons(db.engine, report, filters, layout, lang, run.account)
saved_searches(db, filters, run)
