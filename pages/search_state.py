"""The search of a view as widget state, and the URL as its shareable face.

Each run reads the filter value from the widgets (or, when the URL changed outside them — a new link,
the back button, a page switch — from the URL) and writes the value's `to_params()` back to the address
bar. Widget keys are `{view code}.{field name}`; the date picker's key changes whenever a search is
written into the widgets, so its first value is the new period.

Public API: `prepare` (before the widgets), `publish` (after them, with the page's own parameters),
`seed` (write a search into the widgets, e.g. a saved search), `clear` (every filter back to "all"),
`opening_query` (the URL a view opens with from another page), `published_query`, `widget_key`,
`dates_key`, `chosen_dates`, `last_search`.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from data_access.filters import FilterError, Filters, default_range
from pages import notices
from pages.run import Run


def widget_key(code: str, name: str) -> str:
    """The session-state key of a view's widget (`mt.status`)."""
    return f"{code}.{name}"


def last_search(code: str) -> Filters | None:
    """The search a view's widgets made last in this session."""
    return st.session_state.get(f"_search.{code}")


def prepare(cls: type[Filters], run: Run) -> None:
    """Sets the widgets from the URL (or the last search) when the URL changed outside them."""
    if run.url_changed or widget_key(cls.view, "dates_gen") not in st.session_state:
        seed(_starting_search(cls, run))


def _starting_search(cls: type[Filters], run: Run) -> Filters:
    """The link's search; else this view's last search; else the default, keeping the period and the
    fields it shares with the search made last in another view."""
    url = run.url
    if any(name in url for name in ("from", "to", *(spec.param for spec in cls.FIELDS.values()))):
        search, refused = cls.from_link({**url, "tz": [run.tz]})
        for exc in refused:  # each bad value costs only itself
            st.warning(notices.filter_notice(exc, cls, run.lang), icon=":material/link_off:")
        return search
    return _remembered_search(cls, run)


def _remembered_search(cls: type[Filters], run: Run) -> Filters:
    """This view's last search; else the default, keeping the period and the fields it shares with
    the search made last in another view."""
    last = last_search(cls.view)
    if last is not None:
        return last.replace(tz=run.tz)
    search = cls.default(run.tz)
    other = st.session_state.get("_search.latest")
    if other is not None:
        shared = {name: getattr(other, name) for name, spec in cls.FIELDS.items() if other.FIELDS.get(name) == spec}
        search = search.replace(date_from=other.date_from, date_to=other.date_to, **shared)
    return search


def opening_query(cls: type[Filters], run: Run) -> dict[str, list[str]]:
    """The URL query a view opens with from another page: what `publish` will write there, so the
    switch adds one history entry and Back returns to the page left."""
    return {**_remembered_search(cls, run).to_params(), "lang": [run.lang]}


def published_query() -> dict[str, list[str]] | None:
    """The URL query `publish` wrote last in this session."""
    return st.session_state.get("_url")


def seed(search: Filters) -> None:
    """Writes a search into its view's widgets (before they are drawn). The date picker gets a fresh
    key instead, whose first value is the search's period."""
    state = st.session_state
    code = search.view
    state[widget_key(code, "dates_seed")] = (search.date_from, search.date_to)
    state[widget_key(code, "dates_gen")] = state.get(widget_key(code, "dates_gen"), 0) + 1
    for name, spec in search.FIELDS.items():
        value = getattr(search, name)
        # A list for several values; else one of the choices or free text, "" being "any".
        state[widget_key(code, name)] = list(value) if spec.multi else value or ""


def publish(cls: type[Filters], run: Run, page_params: dict[str, list[str]] | None = None) -> Filters:
    """The search the widgets make; written to the URL and remembered for this view. `page_params`
    are a page's own URL parameters besides the search (the Consolidado's grouping), written with it."""
    state = st.session_state
    code = cls.view
    dates = chosen_dates(code)
    if len(dates) == 1:  # the end is still to be picked: the search keeps its period until it is
        last = last_search(code)
        dates = (last.date_from, last.date_to) if last is not None else state[widget_key(code, "dates_seed")]
    start, end = (dates[0], dates[-1]) if dates else default_range(run.tz)
    values: dict[str, Any] = {"date_from": start, "date_to": end, "tz": run.tz}
    for name, spec in cls.FIELDS.items():
        value = state.get(widget_key(code, name))
        if spec.multi:
            values[name] = tuple(value or ())
        elif spec.choices is not None:
            values[name] = value if value in spec.choices else None
        else:
            values[name] = usable_text(spec.normalise, value)
    search = cls(**values, scope=run.scope)
    params = {**search.to_params(), **(page_params or {}), "lang": [run.lang]}
    if params != run.url:
        st.query_params.from_dict(params)
    state["_url"] = params
    state[f"_search.{code}"] = search
    state["_search.latest"] = search
    return search


def usable_text(normalise, typed: str | None) -> str | None:
    """Typed text as the search takes it: None when empty or refused by the field's `normalise`
    (the sidebar says why)."""
    text = (typed or "").strip() or None
    if text is not None and normalise is not None:
        try:
            normalise(text)
        except FilterError:
            return None
    return text


def dates_key(code: str) -> str:
    return f"{code}.dates.{st.session_state[widget_key(code, 'dates_gen')]}"


def chosen_dates(code: str) -> tuple[date, ...]:
    """The picker's period: (start, end), (start,) while the end is being picked, else the seed."""
    return tuple(st.session_state.get(dates_key(code)) or st.session_state[widget_key(code, "dates_seed")])


def clear(cls: type[Filters], tz: str) -> None:
    """Every filter back to "all", keeping the period (a button callback)."""
    dates = chosen_dates(cls.view)
    seed(cls.default(tz).replace(date_from=dates[0], date_to=dates[-1]))
