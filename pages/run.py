"""The run: what one script run of the dashboard knows before drawing anything (language, time zone,
the URL as sent, the signed-in account and its scope, the view being shown), and the settings row.

The router (`router/dashboard.py`) starts the run, signs it in and routes it to a view; the page it runs
reads it with `current_run()`.
"""
from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, replace
from zoneinfo import available_timezones

import streamlit as st

from data_access.accounts import Account
from data_access.config import DEFAULT_LANG, DEFAULT_TZ, LANGUAGES, SettingError, check_lang, check_tz, report_lang, report_tz
from data_access.i18n import label, t
from data_access.scope import Scope
from data_access.views import View
from pages.notices import code_span

_BUILT_IN = {"lang": DEFAULT_LANG, "tz": DEFAULT_TZ}
# The administrators' pages beside the report views: (script, title key, icon, URL path).
ADMIN_PAGES = (
    ("pages/users.py", "page.users", ":material/group:", "users"),
    ("pages/audit.py", "page.audit", ":material/history:", "audit"),
)
_SELECTOR_LABELS = {"lang": "settings.language", "tz": "settings.tz"}
# The run the router started, handed to the page it routes to (same script thread, same run).
_router = threading.local()


@dataclass(frozen=True)
class Run:
    """What every part of one script run needs to know before drawing anything."""

    lang: str
    tz: str
    url: dict[str, list[str]]  # query parameters as the browser sent them
    url_changed: bool  # differs from what the app wrote last: a new link, the back button, a page switch
    notices: tuple[str, ...]  # Markdown-safe warnings about the link or the settings
    account: Account | None = None  # who is signed in; None while no account exists (the loopback demo)
    scope: Scope = Scope.ALL  # what the run may show (pages/session.py decides)
    view: View | None = None  # the report view routed to (None on the other pages)


def url_params() -> dict[str, list[str]]:
    """The current query parameters, repeated keys as lists."""
    return {key: st.query_params.get_all(key) for key in st.query_params}


def start_run() -> Run:
    """Resolves language and time zone (link over the selectors over REPORT_LANG / REPORT_TZ) at the
    top of the router, before any widget exists, and keeps the result for the page."""
    state = st.session_state
    url = url_params()
    url_changed = url != state.get("_url")
    notices: list[str] = []
    for key, check, fallback in (("lang", check_lang, report_lang), ("tz", check_tz, report_tz)):
        if url_changed and url.get(key):
            try:
                state[key] = check(url[key][-1])
            except SettingError:  # said in the page's words, with the selector's name (not the command's)
                lang = state.get("lang", DEFAULT_LANG)
                notices.append(t("notice.value_ignored", lang, field=t(_SELECTOR_LABELS[key], lang),
                                 value=code_span(url[key][-1])))
        if key not in state:
            try:
                state[key] = fallback()
            except SettingError as exc:  # a bad REPORT_LANG / REPORT_TZ: say so, use the built-in one
                notices.append(code_span(str(exc)))
                state[key] = _BUILT_IN[key]
    return _keep(Run(state["lang"], state["tz"], url, url_changed, tuple(notices)))


def signed_in(run: Run, account: Account | None, scope: Scope) -> Run:
    """The run with its signed-in account and scope (the router, after the sign-in check)."""
    return _keep(replace(run, account=account, scope=scope))


def routed(run: Run, view: View | None) -> Run:
    """The run with the report view the router is about to run (None for the other pages)."""
    return _keep(replace(run, view=view))


def _keep(run: Run) -> Run:
    _router.run = run
    return run


def current_run() -> Run:
    """The run the router started (pages call this first)."""
    run = getattr(_router, "run", None)
    if run is None:
        raise RuntimeError("a page runs through the router (router/dashboard.py), which starts its run")
    _router.run = None
    return run


def header(run: Run) -> None:
    """Title row with the language and time-zone selectors (shared by every page)."""
    title, lang_col, tz_col = st.columns([5, 1.6, 1.8], vertical_alignment="bottom")
    with title:  # the view's name too: which view is open, at any width
        name = t("app.title", run.lang)
        st.title(t("app.view_title", run.lang, view=run.view.title(run.lang), app=name) if run.view else name,
                 anchor=False)
        st.caption(t("app.subtitle", run.lang))
    lang_col.selectbox(
        t("settings.language", run.lang), LANGUAGES, key="lang", format_func=lambda code: label("lang", code, code)
    )
    tz_col.selectbox(t("settings.tz", run.lang), _zones(run.tz), key="tz")
    for notice in run.notices:
        st.warning(notice, icon=":material/link_off:")


@functools.lru_cache(maxsize=64)
def _zones(current: str) -> tuple[str, ...]:
    """The zones offered, sorted (once per zone shown, not per run: about 400 names)."""
    return tuple(sorted({*_named_zones(), "UTC", current}))


@functools.cache
def _named_zones() -> frozenset[str]:
    """IANA region/city zones (the tz database is read once per process)."""
    return frozenset(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
