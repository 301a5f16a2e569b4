"""The Chat (MT + MO) page's parts: the contact's phone (from the link or typed), the cached
conversation calls, and the timeline's bubbles. Message text is shown literally (`st.text`): no
Markdown, HTML or links from what a contact typed."""
from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st
from sqlalchemy.engine import Engine

from data_access.chat import CHAT_PAGE_SIZE, ChatMessage, ChatSummary, chat_page, chat_summary, contact_phone
from data_access.filters import FilterError
from data_access.i18n import format_datetime, format_int, label, t
from data_access.report import page_count, with_connection
from data_access.scope import Scope
from pages.data import CACHE_ENTRIES, CACHE_TTL_S, Db, guarded
from pages.notices import code_span
from pages.run import Run

PHONE_KEY = "chat.phone"
# How a status reads at a glance, as in WhatsApp: one tick sent, two delivered, two blue read.
_TICKS = {"sent": "✓", "delivered": "✓✓", "read": ":blue[✓✓]"}


def link(phone: str | None, lang: str, tz: str) -> str | None:
    """The relative URL of the chat with `phone` (None when there is no phone), carrying language and zone."""
    if not phone:
        return None
    return "chat?" + urlencode({"phone": phone, "lang": lang, "tz": tz})


def contact(run: Run) -> str | None:
    """The phone the page is about: the link's `phone` when the link changed, else the one typed.
    Writes it back to the URL; a text that is not a whole number is said and gives None."""
    state = st.session_state
    if run.url_changed or PHONE_KEY not in state:
        state[PHONE_KEY] = (run.url.get("phone") or [""])[-1].strip()
    typed = st.text_input(t("chat.phone", run.lang), key=PHONE_KEY, placeholder="+5511987654321").strip()
    phone = None
    if typed:
        try:
            phone = contact_phone(typed)
        except FilterError:
            st.warning(t("chat.bad_phone", run.lang, phone=code_span(typed)), icon=":material/phone_disabled:")
    params = {"lang": [run.lang], "tz": [run.tz], **({"phone": [phone]} if phone else {})}
    if params != run.url:
        st.query_params.from_dict(params)
    state["_url"] = params
    return phone


@st.cache_data(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _summary(_engine: Engine, url: str, version: int, phone: str, scope: Scope) -> ChatSummary:
    return with_connection(_engine, chat_summary, phone, scope)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _page(_engine: Engine, url: str, version: int, phone: str, scope: Scope, page: int) -> tuple[ChatMessage, ...]:
    return with_connection(_engine, chat_page, phone, page, CHAT_PAGE_SIZE, scope)


def summary_of(db: Db, phone: str, scope: Scope, lang: str) -> ChatSummary | None:
    return guarded(lang, _summary, db.engine, db.url, db.version, phone, scope)


def conversation(db: Db, phone: str, summary: ChatSummary, run: Run) -> None:
    """The header, one page of the timeline (the newest page first) and the pager."""
    lang, tz = run.lang, run.tz
    st.header(t("chat.title", lang, phone=phone), anchor=False)
    if summary.total == 0:
        st.info(t("chat.empty", lang), icon=":material/forum:")
        return
    st.caption(t("chat.counts", lang, sent=format_int(summary.sent, lang), received=format_int(summary.received, lang)))
    st.caption(t("chat.all_dates", lang, first=format_datetime(summary.first_at, lang, tz),
                 last=format_datetime(summary.last_at, lang, tz)))
    pages = page_count(summary.total, CHAT_PAGE_SIZE)
    timeline = st.container()
    shown_col, pager_col = st.columns([3, 2], vertical_alignment="center")
    with pager_col.container(horizontal_alignment="right"):
        page = st.pagination(pages, default=pages, key=f"chat.page.{phone}.{summary.total}")
    messages = guarded(lang, _page, db.engine, db.url, db.version, phone, run.scope, page)
    if messages is None:
        return
    first = (page - 1) * CHAT_PAGE_SIZE + 1
    shown_col.caption(t("table.rows_shown", lang, first=format_int(first, lang),
                        last=format_int(first + len(messages) - 1, lang), total=format_int(summary.total, lang)))
    with timeline:
        for message in messages:
            bubble(message, lang, tz)


def bubble(message: ChatMessage, lang: str, tz: str) -> None:
    """One message: who, when, its status (MT) or the button clicked (MO), then its text as typed."""
    sent = message.direction == "mt"
    who = t("chat.you" if sent else "chat.contact", lang)
    with st.chat_message("assistant" if sent else "user",
                         avatar=":material/storefront:" if sent else ":material/person:"):
        parts = [f"**{who}**", format_datetime(message.at, lang, tz), label("content_type", message.content_type, lang)]
        if sent:
            ticks = _TICKS.get(message.status, ":red[✗]")
            parts.append(f"{ticks} {label('status', message.status, lang)}")
            if message.campaign:
                parts.append(code_span(message.campaign))
        elif message.button_text:
            parts.append(t("chat.button", lang, text=code_span(message.button_text)))
        st.caption(" · ".join(parts))
        if message.message:
            st.text(message.message)
        if message.error:
            st.caption(code_span(message.error))
