"""The dashboard's data: the database of the run, the cached report calls of any view, and database
failures shown as one clear message.

Data comes only from `data_access` (no SQL here); every cached result is keyed by the database URL,
the data version and the frozen filter value, so new data shows on the next interaction after an ingest.
"""
from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import streamlit as st
from sqlalchemy.engine import Engine

from data_access import data_version
from data_access.config import database_url
from data_access.detail import newest_page
from data_access.engine import DATABASE_ERRORS, DatabaseBusy, DatabaseError, DatabaseMissing, first_line, open_database
from data_access.filters import Filters
from data_access.i18n import t
from data_access.report import FilterOptions, filter_options, with_connection
from data_access.scope import Scope
from data_access.views import View, view
from pages.notices import code_span

T = TypeVar("T")

# The dashboard waits this long for an ingest that holds the embedded file (Streamlit's running indicator
# shows meanwhile; the other pages' calls also under a spinner: `guarded`), then says so.
BUSY_TIMEOUT_S = 10.0
CACHE_TTL_S = 600
CACHE_ENTRIES = 256
NO_OPTIONS = FilterOptions()


@dataclass(frozen=True)
class Db:
    """An open database and the version of its data at the start of this run."""

    engine: Engine
    url: str
    version: int
    changed_at: datetime | None = None  # when the data last changed (UTC)


def _cli_db() -> str | None:
    """`streamlit run app.py -- --db URL`."""
    return _db_argument(tuple(sys.argv[1:]))


@functools.lru_cache(maxsize=4)
def _db_argument(argv: tuple[str, ...]) -> str | None:
    """The `--db` of a command line (parsed once per command line, not once per run)."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--db")
    known, _ = parser.parse_known_args(argv)
    return known.db


@st.cache_resource(show_spinner=False)
def _engine(url: str, busy_timeout_s: float) -> Engine:
    return open_database(url, busy_timeout_s, create=False)  # a misspelt file is said, not created


def database_engine() -> Engine:
    """The engine of this run's database, opened once per URL (raises what opening it raises)."""
    return _engine(url=database_url(_cli_db()), busy_timeout_s=BUSY_TIMEOUT_S)


def database(lang: str) -> Db | None:
    """The database of this run, or None after showing why it cannot be used."""
    url = database_url(_cli_db())

    def open_and_check() -> Db:
        engine = database_engine()
        return Db(engine, url, *with_connection(engine, data_version.state))

    return caught(lang, open_and_check)


def guarded(lang: str, work: Callable[..., T], *args: Any) -> T | None:
    """`work(*args)` under a spinner; a database failure becomes a message on the page and None."""
    def spun() -> T:
        with st.spinner(t("loading", lang)):
            return work(*args)

    return caught(lang, spun)


def caught(lang: str, work: Callable[..., T], /, **kwargs: Any) -> T | None:
    """`work(**kwargs)`, a database failure becoming a message on the page and None: `guarded` without the
    spinner, for the calls every run of a report page makes (the database's version, the report, the
    table's rows), mostly answered at once from the shared caches. A spinner costs each run a thread
    (started while twenty other runs may want the interpreter lock) and a message, even when it never
    shows (it shows after half a second); Streamlit's running indicator shows during a run anyway.
    Keyword arguments: Streamlit looks a cached function's signature up again for each positional one."""
    try:
        return work(**kwargs)
    except DATABASE_ERRORS as exc:
        show_database_error(exc, lang)
        return None


def search_key(value: Any) -> str:
    """The cache key of a frozen filter value (or a table order): its `repr`, which names the class and
    every field with its value, the account's scope included. Streamlit hashes a dataclass argument
    field by field (about 1.4 ms for a search, paid by each cached call of each run); a string costs it
    microseconds."""
    return repr(value)


def show_database_error(exc: BaseException, lang: str) -> None:
    """One clear line, the driver's detail shown literally (never as Markdown or HTML)."""
    if isinstance(exc, DatabaseBusy):
        st.warning(t("error.busy", lang), icon=":material/hourglass_top:")
        return
    if isinstance(exc, DatabaseMissing):
        st.error(t("error.no_database", lang, path=code_span(exc.path)), icon=":material/database_off:")
        return
    detail = str(exc) if isinstance(exc, DatabaseError) else first_line(exc)
    st.error(t("error.database", lang, detail=code_span(detail)), icon=":material/database_off:")


# -- cached report calls ----------------------------------------------------------------------
# `url`, `version`, the view's `code` and `search` (the filter value's `search_key`) are not used inside
# but for the cache key. The engine and the filter value (`_engine`, `_filters`: not hashed) are the
# ones `url` and `search` name. Called with keyword arguments: Streamlit inspects the function's
# signature again for each positional argument of each call (about 25 us each).


@st.cache_data(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _report(_engine: Engine, url: str, version: int, code: str, search: str, _filters: Filters) -> Any:
    return with_connection(_engine, view(code).report, _filters)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _detail_page(
    _engine: Engine, url: str, version: int, code: str, search: str, _filters: Filters, page: int, size: int,
    total: int,
) -> list[dict[str, Any]]:
    return with_connection(_engine, newest_page, _filters, view(code).columns, page, size, total)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=CACHE_ENTRIES, show_spinner=False)
def _options(
    _engine: Engine, url: str, version: int, code: str, subaccounts: tuple[str, ...], seen_by: str, _scope: Scope
) -> FilterOptions:
    return with_connection(_engine, filter_options, view(code).filters, subaccounts, _scope)


def report_of(db: Db | None, shown: View, filters: Filters, lang: str) -> Any:
    """The view's report of the search (`shown.report`), or None (with a message) when the database fails."""
    if db is None:
        return None
    return caught(lang, _report, _engine=db.engine, url=db.url, version=db.version, code=shown.code,
                  search=search_key(filters), _filters=filters)


def detail_rows(db: Db, shown: View, filters: Filters, page: int, size: int, total: int, lang: str) -> list[dict] | None:
    """One page of the view's detail rows, or None (with a message) when the database fails."""
    return caught(lang, _detail_page, _engine=db.engine, url=db.url, version=db.version, code=shown.code,
                  search=search_key(filters), _filters=filters, page=page, size=size, total=total)


def options_of(db: Db | None, shown: View, subaccounts: tuple[str, ...], scope: Scope) -> FilterOptions:
    """The sidebar's option lists of the view (none when the database fails: the page's own call says why)."""
    if db is None:
        return NO_OPTIONS
    try:
        return _options(_engine=db.engine, url=db.url, version=db.version, code=shown.code, subaccounts=subaccounts,
                        seen_by=search_key(scope), _scope=scope)
    except DATABASE_ERRORS:
        return NO_OPTIONS
