"""Streamlit helpers shared by the report pages: the run's settings and URL, the cached engine and
report calls, the sidebar filters of each view, and the rendering of figures and the detail table.

The URL is the search's shareable face: each run reads the filter value from the widgets (or, when the
URL changed outside them — a new link, the back button, a page switch — from the URL), and writes the
value's `to_params()` back to the address bar. Data comes only from `data_access` (no SQL here); every
cached result is keyed by the database URL, the data version and the frozen filter value, so new data
shows on the next interaction after an ingest.
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import json
import re
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, TypeVar
from zoneinfo import available_timezones

import duckdb
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from streamlit.runtime.pages_manager import PagesManager

from data_access import data_version
from data_access.accounts import Account
from data_access.columns import COLUMNS_OF_VIEW, DetailColumn, headers
from data_access.config import (
    DEFAULT_LANG,
    DEFAULT_TZ,
    LANGUAGES,
    SettingError,
    check_lang,
    check_tz,
    database_url,
    report_lang,
    report_tz,
)
from data_access.engine import DASHBOARD_HOLD_S, DatabaseBusy, DatabaseError, first_line, open_database
from data_access.filters import (
    FIRST_DAY,
    LAST_DAY,
    FilterError,
    Filters,
    MoFilters,
    MtFilters,
    default_range,
    normalise_phone,
)
from data_access.i18n import date_format, format_datetime, format_int, format_pct, label, results_text, t
from data_access.report import (
    PAGE_SIZES,
    FilterOptions,
    MoReport,
    MtReport,
    detail_page,
    filter_options,
    mo_report,
    mt_report,
    page_count,
    with_connection,
)
from data_access.scope import Scope
from pages import notices, saved  # they call back into this module: import cycle by design

T = TypeVar("T")

# The dashboard waits this long for an ingest that holds the embedded file, under a spinner, then says so.
BUSY_TIMEOUT_S = 10.0
CACHE_TTL_S = 600
CACHE_ENTRIES = 256
DB_ERRORS = (DatabaseError, SQLAlchemyError, duckdb.Error, OSError)
_NO_OPTIONS = FilterOptions(subaccounts=(), users=(), campaigns=())
# Filters a search keeps when the other view is opened for the first time in a session.
_SHARED_FIELDS = ("subaccount", "user", "campaign", "phone")
_BUILT_IN = {"lang": DEFAULT_LANG, "tz": DEFAULT_TZ}
# The run `app.py` started, handed to the page it routes to (same script thread, same run).
_router = threading.local()


# -- the run: language, time zone, URL ----------------------------------------------------------


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


def url_params() -> dict[str, list[str]]:
    """The current query parameters, repeated keys as lists."""
    return {key: st.query_params.get_all(key) for key in st.query_params}


def start_run() -> Run:
    """Resolves language and time zone (link over the selectors over REPORT_LANG / REPORT_TZ) at the
    top of `app.py`, before any widget exists, and keeps the result for the page."""
    state = st.session_state
    url = url_params()
    url_changed = url != state.get("_url")
    notices: list[str] = []
    for key, check, fallback in (("lang", check_lang, report_lang), ("tz", check_tz, report_tz)):
        if url_changed and url.get(key):
            try:
                state[key] = check(url[key][-1])
            except SettingError as exc:
                notices.append(t("notice.bad_link", state.get("lang", DEFAULT_LANG), detail=code_span(str(exc))))
        if key not in state:
            try:
                state[key] = fallback()
            except SettingError as exc:  # a bad REPORT_LANG / REPORT_TZ: say so, use the built-in one
                notices.append(code_span(str(exc)))
                state[key] = _BUILT_IN[key]
    run = Run(state["lang"], state["tz"], url, url_changed, tuple(notices))
    _router.run = run
    return run


def signed_in(run: Run, account: Account | None, scope: Scope) -> Run:
    """The run with its signed-in account and scope, kept for the page (the router, after the sign-in check)."""
    run = replace(run, account=account, scope=scope)
    _router.run = run
    return run


def current_run() -> Run:
    """The run `app.py` started (pages call this first).

    A process's first request for /sent or /received runs the page file alone: Streamlit keeps its
    legacy `pages/` folder mode until `st.navigation` is first called (PagesManager, Streamlit 1.67).
    The page then leaves that mode and runs again, through `app.py`.
    """
    run = getattr(_router, "run", None)
    _router.run = None
    if run is None:
        PagesManager.uses_pages_directory = False
        st.rerun()
    return run


def header(run: Run) -> None:
    """Title row with the language and time-zone selectors (shared by both pages)."""
    title, lang_col, tz_col = st.columns([5, 1.6, 1.8], vertical_alignment="bottom")
    with title:
        st.title(t("app.title", run.lang), anchor=False)
        st.caption(t("app.subtitle", run.lang))
    lang_col.selectbox(
        t("settings.language", run.lang), LANGUAGES, key="lang", format_func=lambda code: label("lang", code, code)
    )
    tz_col.selectbox(t("settings.tz", run.lang), _zones(run.tz), key="tz")
    for notice in run.notices:
        st.warning(notice, icon=":material/link_off:")


def _zones(current: str) -> list[str]:
    return sorted({*_named_zones(), "UTC", current})


@functools.cache
def _named_zones() -> frozenset[str]:
    """IANA region/city zones (the tz database is read once per process)."""
    return frozenset(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))


# -- database -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Db:
    """An open database and the version of its data at the start of this run."""

    engine: Engine
    url: str
    version: int


def _cli_db() -> str | None:
    """`streamlit run app.py -- --db URL`."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--db")
    known, _ = parser.parse_known_args(sys.argv[1:])
    return known.db


@st.cache_resource(show_spinner=False)
def _engine(url: str, busy_timeout_s: float) -> Engine:
    return open_database(url, busy_timeout_s, hold_s=DASHBOARD_HOLD_S)


def database_engine() -> Engine:
    """The engine of this run's database, opened once per URL (raises what opening it raises)."""
    return _engine(database_url(_cli_db()), BUSY_TIMEOUT_S)


def database(lang: str) -> Db | None:
    """The database of this run, or None after showing why it cannot be used."""
    url = database_url(_cli_db())

    def open_and_check() -> Db:
        engine = database_engine()
        return Db(engine, url, with_connection(engine, data_version.current))

    return guarded(lang, open_and_check)


def guarded(lang: str, work: Callable[..., T], *args: Any) -> T | None:
    """`work(*args)` under a spinner; a database failure becomes a message on the page and None."""
    try:
        with st.spinner(t("loading", lang)):
            return work(*args)
    except DB_ERRORS as exc:
        show_database_error(exc, lang)
        return None


def show_database_error(exc: BaseException, lang: str) -> None:
    """One clear line, the driver's detail shown literally (never as Markdown or HTML)."""
    if isinstance(exc, DatabaseBusy):
        st.warning(t("error.busy", lang), icon=":material/hourglass_top:")
        return
    detail = str(exc) if isinstance(exc, DatabaseError) else first_line(exc)
    st.error(t("error.database", lang, detail=code_span(detail)), icon=":material/database_off:")


def code_span(text: str) -> str:
    """`text` as a Markdown code span, which Streamlit shows literally: no Markdown, HTML, emoji or
    directives inside. The fence is longer than any run of backticks in the text."""
    text = " ".join(str(text).split())
    if not text:
        return ""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text[0] == "`" or text[-1] == "`" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# -- cached report calls ----------------------------------------------------------------------
# `url`, `version` (and `view`) are not used inside: they are the cache key, with the filter value.
# The engine (`_engine`, not hashed) is the one `url` opened.


@st.cache_data(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _mt_report(_engine: Engine, url: str, version: int, filters: MtFilters) -> MtReport:
    return with_connection(_engine, mt_report, filters)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _mo_report(_engine: Engine, url: str, version: int, filters: MoFilters) -> MoReport:
    return with_connection(_engine, mo_report, filters)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _detail_page(
    _engine: Engine, url: str, version: int, view: str, filters: Filters, page: int, size: int, total: int
) -> list[dict[str, Any]]:
    return with_connection(_engine, detail_page, filters, page, size, total)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _options(
    _engine: Engine, url: str, version: int, view: str, subaccounts: tuple[str, ...], scope: Scope
) -> FilterOptions:
    return with_connection(_engine, filter_options, view, subaccounts, scope)


def mt_report_of(db: Db | None, filters: MtFilters, lang: str) -> MtReport | None:
    """The Sent page's figures, or None (with a message) when the database fails."""
    return None if db is None else guarded(lang, _mt_report, db.engine, db.url, db.version, filters)


def mo_report_of(db: Db | None, filters: MoFilters, lang: str) -> MoReport | None:
    """The Received page's figures, or None (with a message) when the database fails."""
    return None if db is None else guarded(lang, _mo_report, db.engine, db.url, db.version, filters)


# -- sidebar filters ----------------------------------------------------------------------------


def mt_sidebar(db: Db | None, run: Run) -> MtFilters:
    """The Sent view's filters, in the seed's order (SPEC section 4), then its saved searches; returns the
    search the filters make."""
    lang, view = run.lang, "mt"
    _prepare(MtFilters, run)
    options = _options_for(db, view, run.scope)
    with st.sidebar:
        st.header(t("filter.header", lang), anchor=False)
        _date_range(view, lang)
        _multi(MtFilters, "subaccount", options.subaccounts, lang)
        _multi(MtFilters, "user", options.users, lang)
        _multi(MtFilters, "campaign", options.campaigns, lang)
        _multi(MtFilters, "content_type", _present(MtFilters, "content_type", options), lang)
        _choice(MtFilters, "session", lang, horizontal=True)
        _text(MtFilters, "correlation_id", lang)
        _multi(MtFilters, "status", MtFilters.FIELDS["status"].choices, lang)
        _phone(MtFilters, lang)
        _text(MtFilters, "conversation_id", lang)
        _choice(MtFilters, "conversation_type", lang)
        _clear_button(MtFilters, run)
    search = _publish(MtFilters, run)
    saved.section(db, search, run)
    return search


def mo_sidebar(db: Db | None, run: Run) -> MoFilters:
    """The Received view's filters (SPEC section 4), then its saved searches; returns the search the filters make."""
    lang, view = run.lang, "mo"
    _prepare(MoFilters, run)
    options = _options_for(db, view, run.scope)
    with st.sidebar:
        st.header(t("filter.header", lang), anchor=False)
        _date_range(view, lang)
        _multi(MoFilters, "subaccount", options.subaccounts, lang)
        _multi(MoFilters, "user", options.users, lang)
        _multi(MoFilters, "campaign", options.campaigns, lang)
        _multi(MoFilters, "content_type", _present(MoFilters, "content_type", options), lang)
        _phone(MoFilters, lang)
        _multi(MoFilters, "button", options.buttons, lang)
        _clear_button(MoFilters, run)
    search = _publish(MoFilters, run)
    saved.section(db, search, run)
    return search


def _key(view: str, name: str) -> str:
    return f"{view}.{name}"


def _prepare(cls: type[Filters], run: Run) -> None:
    """Sets the widgets from the URL (or the last search) when the URL changed outside them."""
    if run.url_changed or _key(cls.view, "dates_gen") not in st.session_state:
        _seed(_starting_search(cls, run))


def _starting_search(cls: type[Filters], run: Run) -> Filters:
    """The link's search; else this view's last search; else the default, keeping the period and
    the shared filters of the other view's last search."""
    state = st.session_state
    url = run.url
    if any(name in url for name in ("from", "to", *(spec.param for spec in cls.FIELDS.values()))):
        search, refused = cls.from_link({**url, "tz": [run.tz]})
        for exc in refused:  # each bad value costs only itself
            st.warning(notices.filter_notice(exc, cls, run.lang), icon=":material/link_off:")
        return search
    last = state.get(f"_search.{cls.view}")
    if last is not None:
        return last.replace(tz=run.tz)
    search = cls.default(run.tz)
    other = state.get(f"_search.{'mo' if cls.view == 'mt' else 'mt'}")
    if other is not None:
        shared = {name: getattr(other, name) for name in _SHARED_FIELDS}
        search = search.replace(date_from=other.date_from, date_to=other.date_to, **shared)
    return search


def _seed(search: Filters) -> None:
    """Writes a search into the widgets' session state (before the widgets are drawn). The date
    picker gets a fresh key instead, whose first value is the search's period."""
    state = st.session_state
    view = search.view
    state[_key(view, "dates_seed")] = (search.date_from, search.date_to)
    state[_key(view, "dates_gen")] = state.get(_key(view, "dates_gen"), 0) + 1
    for name, spec in search.FIELDS.items():
        value = getattr(search, name)
        if spec.multi:
            state[_key(view, name)] = list(value)
        else:  # one of the choices, or free text; "" is "any"
            state[_key(view, name)] = value or ""


def _publish(cls: type[Filters], run: Run) -> Filters:
    """The search the widgets make; written to the URL and remembered for this view."""
    state = st.session_state
    view = cls.view
    dates = _chosen_dates(view)
    start, end = (dates[0], dates[-1]) if dates else default_range(run.tz)
    values: dict[str, Any] = {"date_from": start, "date_to": end, "tz": run.tz}
    for name, spec in cls.FIELDS.items():
        value = state.get(_key(view, name))
        if spec.multi:
            values[name] = tuple(value or ())
        elif spec.choices is not None:
            values[name] = value if value in spec.choices else None
        else:
            values[name] = (value or "").strip() or None
    if values["phone"] is not None and not _valid_phone(values["phone"]):
        values["phone"] = None
    search = cls(**values, scope=run.scope)
    params = {**search.to_params(), "lang": [run.lang]}
    if params != run.url:
        st.query_params.from_dict(params)
    state["_url"] = params
    state[f"_search.{view}"] = search
    return search


def _options_for(db: Db | None, view: str, scope: Scope) -> FilterOptions:
    """Option lists from the data; the chosen subaccounts narrow users, campaigns and buttons."""
    if db is None:
        return _NO_OPTIONS
    subaccounts = tuple(sorted(st.session_state.get(_key(view, "subaccount")) or ()))
    try:
        return _options(db.engine, db.url, db.version, view, subaccounts, scope)
    except DB_ERRORS:  # the page's own data call shows the message
        return _NO_OPTIONS


def _present(cls: type[Filters], name: str, options: FilterOptions) -> tuple[str, ...]:
    """The catalogue's codes that occur in the data, in catalogue order."""
    return tuple(code for code in cls.FIELDS[name].choices if code in options.content_types)


def _label_of(cls: type[Filters], name: str, lang: str) -> str:
    return t(cls.FIELDS[name].label_key, lang)


def _dates_key(view: str) -> str:
    return f"{view}.dates.{st.session_state[_key(view, 'dates_gen')]}"


def _chosen_dates(view: str) -> tuple[date, ...]:
    """The picker's period: (start, end), (start,) while the end is being picked, else the seed."""
    return tuple(st.session_state.get(_dates_key(view)) or st.session_state[_key(view, "dates_seed")])


def _date_range(view: str, lang: str) -> None:
    picker_format = date_format(lang).replace("%d", "DD").replace("%m", "MM").replace("%Y", "YYYY")
    chosen = _chosen_dates(view)
    st.date_input(t("filter.date", lang), value=chosen, min_value=FIRST_DAY, max_value=LAST_DAY,
                  format=picker_format, key=_dates_key(view))
    if len(chosen) == 1:
        st.caption(t("filter.date_pick_end", lang))


def _multi(cls: type[Filters], name: str, options: Sequence[str], lang: str) -> None:
    """A multiselect; values chosen earlier (or from a link) stay offered even when the data lacks them."""
    key = _key(cls.view, name)
    chosen = [v for v in st.session_state.get(key) or () if v not in options]
    kind = cls.FIELDS[name].label_kind
    st.multiselect(
        _label_of(cls, name, lang),
        [*options, *chosen],
        key=key,
        format_func=(lambda code: label(kind, code, lang)) if kind else str,
        placeholder=t("filter.any", lang),
    )


def _choice(cls: type[Filters], name: str, lang: str, horizontal: bool = False) -> None:
    """One of the catalogue's values, or any ("")."""
    spec = cls.FIELDS[name]
    any_text = t("session.any" if name == "session" else "filter.any", lang)
    options = ["", *spec.choices]
    format_func = lambda code: label(spec.label_kind, code, lang) if code else any_text  # noqa: E731
    if horizontal:
        st.radio(_label_of(cls, name, lang), options, key=_key(cls.view, name), format_func=format_func, horizontal=True)
    else:
        st.selectbox(_label_of(cls, name, lang), options, key=_key(cls.view, name), format_func=format_func)


def _text(cls: type[Filters], name: str, lang: str, help_text: str | None = None) -> None:
    st.text_input(_label_of(cls, name, lang), key=_key(cls.view, name), help=help_text)


def _phone(cls: type[Filters], lang: str) -> None:
    _text(cls, "phone", lang, help_text=t("filter.phone_help", lang))
    typed = (st.session_state.get(_key(cls.view, "phone")) or "").strip()
    if typed:
        try:
            normalise_phone(typed)
        except FilterError as exc:  # the search ignores it: say so, as for a bad link value
            st.warning(notices.filter_notice(exc, cls, lang), icon=":material/phone_disabled:")


def _valid_phone(text: str) -> bool:
    try:
        normalise_phone(text)
    except FilterError:
        return False
    return True


def _clear_button(cls: type[Filters], run: Run) -> None:
    st.button(
        t("filter.clear", run.lang),
        on_click=_clear_filters,
        args=(cls, run.tz),
        icon=":material/filter_alt_off:",
        width="stretch",
        key=_key(cls.view, "clear"),
    )


def _clear_filters(cls: type[Filters], tz: str) -> None:
    """Every filter back to "all", keeping the period."""
    search = cls.default(tz)
    dates = _chosen_dates(cls.view)
    search = search.replace(date_from=dates[0], date_to=dates[-1])
    _seed(search)


# -- rendering ----------------------------------------------------------------------------------


def results_header(total: int, filters: Filters, lang: str) -> None:
    """"2.400 resultados" and the search it answers, each filter value shown literally."""
    st.header(results_text(total, lang), anchor=False)
    st.caption(" · ".join(f"{name}: {code_span(value)}" for name, value in filters.describe(lang)))


def empty_state(lang: str) -> None:
    st.info(f"**{t('empty.title', lang)}**  \n{t('empty.hint', lang)}", icon=":material/search_off:")


def kpi(label_text: str, ratio: float | None, part: int, whole: int, help_text: str, lang: str) -> None:
    """A rate card: the percentage, its fraction underneath, the definition as help."""
    with st.container(border=True, height="stretch"):
        st.metric(label_text, format_pct(ratio, lang), help=help_text)
        st.caption(t("kpi.of", lang, part=format_int(part, lang), whole=format_int(whole, lang)))


def count_card(label_text: str, n: int, lang: str, help_text: str | None = None) -> None:
    """A count card, the same height as the rate cards beside it."""
    with st.container(border=True, height="stretch"):
        st.metric(label_text, format_int(n, lang), help=help_text)


def section_title(text: str) -> None:
    """A plain title, like the charts' own, above a table."""
    st.markdown(text)


def chart(figure: go.Figure, lang: str, key: str) -> None:
    """A Plotly figure with the language's number and date formats."""
    thousands, decimal = format_int(1000, lang)[1], format_pct(0.015, lang)[1]  # "1.000", "1,5%"
    figure.update_layout(separators=decimal + thousands)
    figure.update_xaxes(automargin=True)
    figure.update_yaxes(automargin=True)  # room for long labels such as "Não entregue por opt-out"
    if any(_is_dates(getattr(trace, "x", None)) for trace in figure.data):
        day = "%d/%m" if date_format(lang).startswith("%d") else "%m-%d"
        figure.update_xaxes(tickformat=day, hoverformat=date_format(lang))
    st.plotly_chart(figure, theme=None, config={"displayModeBar": False}, key=key)


def _is_dates(values: Any) -> bool:
    return values is not None and len(values) > 0 and hasattr(values[0], "isoformat")


def small_table(rows: list[dict[str, Any]], lang: str, wrap_last: bool = False) -> None:
    """A short table of already-labelled rows, read as "what, how many, details": the first column,
    then the counts (in the language's format), then the rest. `wrap_last` makes rows tall enough for
    long text in the last column to wrap (Streamlit wraps text in rows taller than 4rem)."""
    names = list(rows[0])
    counts = [name for name in names[1:] if isinstance(rows[0][name], int)]
    order = [names[0], *counts, *(name for name in names[1:] if name not in counts)]
    frame = pd.DataFrame(
        [{k: format_int(row[k], lang) if k in counts else row[k] for k in order} for row in rows], columns=order
    )
    st.dataframe(frame, hide_index=True, width="stretch", row_height=72 if wrap_last else None)


def detail_table(db: Db, filters: Filters, total: int, lang: str) -> None:
    """One page of the detail table, paged by the database, newest first."""
    view = filters.view
    st.subheader(t("table.details", lang), anchor=False)
    extra_col, size_col = st.columns([4, 1], vertical_alignment="bottom")
    show_extra = extra_col.toggle(t("table.show_extra", lang), key=_key(view, "extra"))
    size = size_col.selectbox(t("table.page_size", lang), PAGE_SIZES, key=_key(view, "page_size"))
    table_area = st.container()
    shown_col, pager_col = st.columns([3, 2], vertical_alignment="center")
    with pager_col.container(horizontal_alignment="right"):
        page = st.pagination(page_count(total, size), key=_page_key(filters, size))
    rows = guarded(lang, _detail_page, db.engine, db.url, db.version, view, filters, page, size, total)
    if rows is None:
        return
    first = (page - 1) * size + 1
    shown_col.caption(
        t("table.rows_shown", lang, first=format_int(first, lang),
          last=format_int(first + len(rows) - 1, lang), total=format_int(total, lang))
    )
    with table_area:
        frame = table_frame(rows, view, lang, filters.tz, show_extra)
        st.dataframe(
            frame,
            hide_index=True,
            width="stretch",
            height=35 * (min(len(rows), 25) + 1) + 3,
            column_config={t(f"column.{view}.message", lang): st.column_config.TextColumn(width="large")},
        )


def _page_key(filters: Filters, size: int) -> str:
    """A new key (so page 1) whenever the search or the page size changes."""
    digest = hashlib.sha1(json.dumps([filters.to_params(), size], sort_keys=True).encode()).hexdigest()[:12]
    return f"{filters.view}.page.{digest}"


def table_frame(rows: list[dict[str, Any]], view: str, lang: str, tz: str, include_extra: bool) -> pd.DataFrame:
    """One page of rows as display text: timestamps in the zone, codes as words, booleans as Sim/Não."""
    columns = [c for c in COLUMNS_OF_VIEW[view] if include_extra or not c.extra]
    names = headers(view, lang, include_extra)
    return pd.DataFrame(
        {name: [display_value(c, row[c.key], lang, tz) for row in rows] for name, c in zip(names, columns)},
        columns=names,
    )


def display_value(column: DetailColumn, value: Any, lang: str, tz: str) -> str:
    """A detail cell as people read it in `lang`."""
    if value is None:
        return ""
    if column.kind == "datetime":
        return format_datetime(value, lang, tz)
    if column.kind in ("status", "content_type", "conversation_type"):
        return label(column.kind, value, lang)
    if column.kind == "bool":
        return t("bool.true" if value else "bool.false", lang)
    return str(value)
