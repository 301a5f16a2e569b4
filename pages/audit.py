"""The "Registro de auditoria" page (admins only, SPEC section 9): sign-ins, exports and account and
token changes, newest first, a page at a time, and the whole log as a CSV file."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import streamlit as st
from sqlalchemy.engine import Engine

from data_access import accounts
from data_access.accounts import AuditEntry
from data_access.i18n import format_datetime, format_int, t
from pages import common, session

PAGE_SIZE = 50
_EXPORT_BATCH = 1000


def _columns(lang: str) -> list[str]:
    return [t(f"audit.{name}", lang) for name in ("at", "actor", "action", "detail", "address")]


def _cells(entry: AuditEntry, lang: str, tz: str) -> list[str]:
    detail = json.dumps(entry.detail, ensure_ascii=False, sort_keys=True)
    return [format_datetime(entry.at, lang, tz), entry.actor, entry.action, detail, entry.address or ""]


def csv_chunks(engine: Engine, lang: str, tz: str) -> Iterator[str]:
    """The whole log as CSV text, newest first, read from the database a batch at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_columns(lang))
    offset = 0
    while True:
        batch = accounts.audit_entries(engine, limit=_EXPORT_BATCH, offset=offset)
        for entry in batch:
            writer.writerow(_cells(entry, lang, tz))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(batch) < _EXPORT_BATCH:
            return
        offset += _EXPORT_BATCH


def _csv(engine: Engine, lang: str, tz: str) -> bytes:
    return "".join(csv_chunks(engine, lang, tz)).encode("utf-8-sig")


run = common.current_run()
if session.is_admin(run.account):
    lang = run.lang
    db = common.database(lang)
    if db is not None:
        st.header(t("page.audit", lang), anchor=False)
        total = accounts.audit_count(db.engine)
        st.caption(t("audit.total", lang, n=format_int(total, lang)))
        st.download_button(
            t("audit.export", lang), data=lambda: _csv(db.engine, lang, run.tz), file_name="audit_log.csv",
            mime="text/csv", on_click="ignore", icon=":material/download:",
        )
        page = st.pagination(common.page_count(total, PAGE_SIZE), key="audit.page") if total else 1
        entries = accounts.audit_entries(db.engine, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        st.dataframe([dict(zip(_columns(lang), _cells(e, lang, run.tz))) for e in entries], hide_index=True,
                     width="stretch")
