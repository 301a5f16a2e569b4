"""Opt-out: the contacts who asked to receive nothing more, when, how and after which campaign."""
import streamlit as st

from data_access.i18n import t
from pages import opt_out_view, widgets
from pages.data import database
from pages.run import current_run

run = current_run()
lang = run.lang
db = database(lang)
search = opt_out_view.sidebar(run)
summary = None if db is None else opt_out_view.summary_of(db, search, lang)

if summary is not None:
    opt_out_view.figures(summary, search, lang)
    if summary.contacts == 0:
        widgets.empty_state(lang)
    else:
        st.subheader(t("opt_out.contacts", lang), anchor=False)
        opt_out_view.contacts_table(db, search, summary.contacts, lang)
        opt_out_view.downloads(search, lang, run)
