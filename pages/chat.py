"""Chat (MT + MO): one contact's conversation, every date, MTs with their status and MOs in time order."""
import streamlit as st

from data_access.i18n import t
from pages import chat_view
from pages.data import database
from pages.run import current_run

run = current_run()
lang = run.lang
db = database(lang)
phone = chat_view.contact(run)

if phone is None:
    st.info(t("chat.pick", lang), icon=":material/forum:")
elif db is not None:
    summary = chat_view.summary_of(db, phone, run.scope, lang)
    if summary is not None:
        chat_view.conversation(db, phone, summary, run)
