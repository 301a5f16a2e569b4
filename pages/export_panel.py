"""The export panel at the bottom of the Sent and Received pages: what each format will hold, then
CSV, XLSX and PDF links to the app server's download route (server/download.py); the Opt-out page
draws its CSV and XLSX links with `render_download_links` too.

Each link carries a signed ticket for its file (who asks, the search, the format, the language), made
when the panel is drawn; the browser downloads the file from the route and shows its progress, and
the route writes, audits and streams it, so the file is never held in the page's memory. Tickets
expire: the links are drawn again every `LINKS_EVERY_S`, well within a ticket's life, and only they.
"""
from __future__ import annotations

import streamlit as st
from sqlalchemy.engine import Engine

from data_access.accounts import SYSTEM_ACTOR, Account
from data_access.filters import Filters
from data_access.opt_out import OptOutFilters
from data_access.i18n import format_int, t
from data_access.report import count, with_connection
from exports.export import FORMATS
from exports.pdf_export import PDF_ROWS
from exports.xlsx_export import SHEET_ROWS
from server.download import PATH, TICKET_TTL_S, download_path, make_ticket, ticket_credential

LINKS_EVERY_S = TICKET_TTL_S // 3


def rows_caption(total: int, lang: str) -> str:
    """What each format will hold: every row in CSV and XLSX (in several sheets past Excel's limit),
    at most PDF_ROWS in the PDF."""
    if total <= PDF_ROWS:
        return t("export.rows", lang, n=format_int(total, lang))
    sheets = -(-total // (SHEET_ROWS - 1))  # each sheet keeps a row for its header
    values = {"n": format_int(total, lang), "shown": format_int(PDF_ROWS, lang), "sheets": format_int(sheets, lang)}
    return t("export.rows_each_sheets" if sheets > 1 else "export.rows_each", lang, **values)


def render_export_panel(
    engine: Engine, filters: Filters, lang: str, total: int | None = None, account: Account | None = None
) -> None:
    """The row counts and the three download links of the search; `total` saves a count query when
    the page already has it; `account` is who is signed in (None while no account exists)."""
    if total is None:
        total = with_connection(engine, count, filters)
    st.subheader(t("export.header", lang))
    st.caption(rows_caption(total, lang))
    render_download_links(filters, lang, account, FORMATS)


def render_download_links(filters: Filters | OptOutFilters, lang: str, account: Account | None,
                          formats: tuple[str, ...]) -> None:
    """A link a format to the route's file of the search, drawn again every `LINKS_EVERY_S`; `account`
    is who is signed in (None while no account exists)."""
    st.fragment(_links, run_every=LINKS_EVERY_S)(filters, lang, account, formats)


def _links(filters: Filters | OptOutFilters, lang: str, account: Account | None, formats: tuple[str, ...]) -> None:
    """One link a format, each with a fresh ticket signed with the browser's credential."""
    actor = account.email if account is not None else SYSTEM_ACTOR
    credential = ticket_credential(st.context.cookies, accounts_exist=account is not None)
    for column, fmt in zip(st.columns(len(formats)), formats):
        with column:
            # No credential: a script run without a browser's cookie, which the route would refuse.
            path = download_path(make_ticket(credential, actor, filters, fmt, lang), lang) if credential else PATH
            st.link_button(t(f"export.{fmt}", lang), path, icon=":material/download:", width="stretch",
                           disabled=not credential)


def client_address() -> str | None:
    """The browser's address as the server saw it, when known (a script run without a browser has none)."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else None
