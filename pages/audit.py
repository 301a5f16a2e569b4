"""The "Registro de auditoria" page (admins only, SPEC section 9): sign-ins, exports and account and
token changes, newest first, a page at a time, and the whole log as a CSV file (exports/audit_csv.py)."""
from __future__ import annotations

import streamlit as st

from data_access import accounts
from data_access.i18n import format_int, t
from exports import audit_csv
from data_access.report import page_count
from pages import session
from pages.data import database
from pages.run import current_run

PAGE_SIZE = 50


run = current_run()
if session.is_admin(run.account):
    lang = run.lang
    db = database(lang)
    if db is not None:
        st.header(t("page.audit", lang), anchor=False)
        total = accounts.audit_count(db.engine)
        st.caption(t("audit.total", lang, n=format_int(total, lang)))
        st.download_button(
            t("audit.export", lang), data=lambda: audit_csv.csv_bytes(db.engine, lang, run.tz),
            file_name="audit_log.csv", mime="text/csv", on_click="ignore", icon=":material/download:",
        )
        page = st.pagination(page_count(total, PAGE_SIZE), key="audit.page") if total else 1
        entries = accounts.audit_entries(db.engine, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        columns = audit_csv.columns(lang)
        st.dataframe([dict(zip(columns, audit_csv.cells(e, lang, run.tz))) for e in entries], hide_index=True,
                     width="stretch")
