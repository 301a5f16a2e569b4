"""Any view's sidebar, built from its filter class's `FIELDS`: the search its widgets make (`sidebar`,
first), then, once the page has drawn its total, the widgets (`filter_panel`: freshness, the period,
one widget per field in `FIELDS` order, the apply and clear buttons), and once the page has drawn its
results, the saved searches (`saved_searches`)."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from data_access.filters import FIRST_DAY, LAST_DAY, Field, FilterError, Filters
from data_access.i18n import label, picker_date_format, t
from data_access.report import FilterOptions
from data_access.views import View
from pages import freshness, notices, saved, search_state, widgets
from pages.data import Db, options_of
from pages.run import Run
from pages.search_state import widget_key


def sidebar(db: Db | None, run: Run, shown: View, page_params: dict[str, list[str]] | None = None) -> Filters:
    """The search the view's filters make (SPEC section 4), written to the URL: the link's when it
    changed, else the widgets' values (a change is in the session before its run starts). Nothing is
    drawn but a bad link's notices: the page draws the widgets with `filter_panel` once its total is
    out. `page_params`: the page's own URL parameters, kept in the address bar with the search's."""
    search_state.prepare(shown.filters, run)
    return search_state.publish(shown.filters, run, page_params)


def filter_panel(db: Db | None, run: Run, shown: View) -> None:
    """The view's filters in the sidebar: freshness, the period, one widget per field, the apply and
    clear buttons. The page draws them after its total (the sidebar is a place of its own: when it is
    drawn moves nothing), so a change's run sends the new total before the sidebar's forty-odd
    messages; it calls `saved_searches` at its end."""
    cls, lang = shown.filters, run.lang
    chosen_subaccounts = tuple(sorted(st.session_state.get(widget_key(cls.view, "subaccount")) or ()))
    options = options_of(db, shown, chosen_subaccounts, run.scope)
    with st.sidebar:
        if db is not None:
            freshness.section(db.engine, db.version, db.changed_at, lang)
        widgets.sidebar_title(t("filter.header", lang))
        _date_range(cls.view, lang)
        for name, field in cls.FIELDS.items():
            WIDGETS[field.widget](cls, name, field, _offered(field, options), lang)
        # Each change runs the search (a period is run once both its days are picked); the button runs
        # it again, e.g. with a text typed and not yet confirmed, as the seed's "Aplicar" does.
        st.button(t("filter.apply", lang), type="primary", icon=":material/filter_alt:", width="stretch",
                  key=widget_key(cls.view, "apply"), help=t("filter.apply_help", lang))
        st.button(t("filter.clear", lang), on_click=search_state.clear, args=(cls, run.tz),
                  icon=":material/filter_alt_off:", width="stretch", key=widget_key(cls.view, "clear"))


def saved_searches(db: Db | None, search: Filters, run: Run) -> None:
    """The saved searches at the foot of the sidebar, drawn at the end of the page's run: where they
    show does not depend on when they are drawn, and their query and widgets then come after the
    results' total instead of before it (a filter change is timed to the new total)."""
    saved.section(db, search, run)


def _offered(field: Field, options: FilterOptions) -> Sequence[str]:
    """A field's values to pick from: the catalogue's codes (only those in the data, in catalogue order,
    when the data lists them), else the values the data has."""
    found = getattr(options, field.options) if field.options else None
    if field.choices is None:
        return found or ()
    return field.choices if found is None else tuple(code for code in field.choices if code in found)


def _date_range(code: str, lang: str) -> None:
    chosen = search_state.chosen_dates(code)
    st.date_input(t("filter.date", lang), value=chosen, min_value=FIRST_DAY, max_value=LAST_DAY,
                  format=picker_date_format(lang), key=search_state.dates_key(code))
    if len(chosen) == 1:
        st.caption(t("filter.date_pick_end", lang))


def _multiselect(cls: type[Filters], name: str, field: Field, offered: Sequence[str], lang: str) -> None:
    """Values chosen earlier (or from a link) stay offered even when the data lacks them."""
    key = widget_key(cls.view, name)
    chosen = [v for v in st.session_state.get(key) or () if v not in offered]
    kind = field.label_kind
    st.multiselect(
        t(field.label_key, lang),
        [*offered, *chosen],
        key=key,
        format_func=(lambda code: label(kind, code, lang)) if kind else str,
        placeholder=t("filter.any", lang),
        select_all=False,  # else Enter on a typed word picks the first row, "Select N matches"
    )


def _one_of(horizontal: bool) -> Callable[..., None]:
    """A radio (`horizontal`) or a select box: one of the catalogue's values, or any ("")."""

    def draw(cls: type[Filters], name: str, field: Field, offered: Sequence[str], lang: str) -> None:
        any_text = t(field.any_key, lang)
        options = ["", *field.choices]
        format_func = lambda code: label(field.label_kind, code, lang) if code else any_text  # noqa: E731
        key = widget_key(cls.view, name)
        if horizontal:
            st.radio(t(field.label_key, lang), options, key=key, format_func=format_func, horizontal=True,)
        else:
            st.selectbox(t(field.label_key, lang), options, key=key, format_func=format_func)

    return draw


def _text(cls: type[Filters], name: str, field: Field, offered: Sequence[str], lang: str) -> None:
    st.text_input(t(field.label_key, lang), key=widget_key(cls.view, name))


def _phone(cls: type[Filters], name: str, field: Field, offered: Sequence[str], lang: str) -> None:
    """A text box for a number or its beginning; text that is no number is said, and ignored."""
    key = widget_key(cls.view, name)
    st.text_input(t(field.label_key, lang), key=key, help=t("filter.phone_help", lang))
    typed = (st.session_state.get(key) or "").strip()
    if typed and field.normalise is not None:
        try:
            field.normalise(typed)
        except FilterError as exc:  # the search ignores it: say so, as for a bad link value
            st.warning(notices.filter_notice(exc, cls, lang), icon=":material/phone_disabled:")


WIDGETS: dict[str, Callable[[type[Filters], str, Field, Sequence[str], str], None]] = {
    "multiselect": _multiselect,
    "radio": _one_of(horizontal=True),
    "select": _one_of(horizontal=False),
    "text": _text,
    "phone": _phone,
}
