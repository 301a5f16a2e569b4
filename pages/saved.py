"""The "Buscas salvas" section at the foot of each page's sidebar ("salvar busca como modelo", SPEC
section 4): save the search on screen under a name, with its view, filters, language, time zone and a
fixed or relative period; apply, rename, overwrite or delete one of the view's saved searches.

When things happen. Save, overwrite, rename and delete are requested by their buttons' callbacks and
carried out here, after the sidebar filters are read: they store exactly the search on screen, and
the list drawn below already shows the result. Apply runs in its callback, before any widget is
drawn, so the filter widgets, the language and the time zone take the saved values, then the URL.

The clock. A relative period ("last 7 days", "this month", ...) is resolved on applying, against
`data_access.filters.today_in` in the search's own zone: the function the default period uses too,
so a test fixes the date for the whole app by replacing that one function.

Names. A name is shown as a selectbox option (plain text) or as a code span in messages (which
render Markdown), so no name ever becomes markup.

Owners. With a signed-in account, the list holds the account's own searches and those its managers
shared with its subaccounts (an own search hides a shared one of the same name); only the owner
renames, overwrites, deletes or shares a search (managers share with their subaccounts); a search is
applied with the account's scope, so a shared search naming another subaccount shows nothing of it.
While no account exists (the demo), every search belongs to `DEFAULT_OWNER`.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from sqlalchemy.engine import Engine

from data_access import filters as clock
from data_access import saved_searches
from data_access.filters import FilterError, Filters
from data_access.i18n import date_format, label, t
from data_access.saved_searches import DEFAULT_OWNER, FIXED, MAX_NAME_LENGTH, RANGE_KINDS, SavedSearch, SavedSearchError
from data_access.scope import Scope
from data_access.engine import DATABASE_ERRORS
from data_access.views import view as view_named
from pages import notices, search_state, widgets
from pages.data import Db, show_database_error
from pages.notices import code_span
from pages.run import Run

# What a saved-search action cannot do, said in the message (nothing is changed).
REFUSALS = (SavedSearchError, FilterError)
# The outcome shown at the top of the section: (message key, name) or the error that stopped it.
Outcome = tuple[str, str] | Exception


@dataclass(frozen=True)
class Viewer:
    """Whose searches the section shows, and with which scope they are applied."""

    owner: str
    scope: Scope
    shares: bool  # a manager: may share its searches with its subaccounts

    @classmethod
    def of(cls, run: Run) -> Viewer:
        if run.account is None:
            return cls(DEFAULT_OWNER, run.scope, False)
        return cls(run.account.email, run.scope, run.account.role == "manager")


def section(db: Db | None, search: Filters, run: Run) -> None:
    """The sidebar section of `search`'s view (nothing when the database cannot be used)."""
    if db is None:
        return
    view, lang, viewer = search.view, run.lang, Viewer.of(run)
    with st.sidebar:
        st.divider()
        widgets.sidebar_title(t("saved.header", lang))
        _carry_out(db.engine, search, lang, viewer)
        with st.container():  # always there, so the widgets below keep their place (an open expander stays open)
            _show_outcome(view, lang)
        try:
            searches = _visible(saved_searches.list_searches(db.engine, viewer.owner, view))
        except DATABASE_ERRORS as exc:
            show_database_error(exc, lang)
            return
        _list(db.engine, view, searches, lang, viewer)
        _save_form(search, lang, viewer)


def resolved(search: SavedSearch, scope: Scope = Scope.ALL) -> Filters:
    """The filter value `search` applies today, seen with `scope`: a relative period moves with the calendar."""
    return search.filters(clock.today_in(search.filters().tz), scope)


def _visible(searches: list[SavedSearch]) -> list[SavedSearch]:
    """One search per name: the viewer's own (listed first) over a shared one of the same name."""
    kept: dict[str, SavedSearch] = {}
    for search in searches:
        kept.setdefault(search.name, search)
    return list(kept.values())


def _key(view: str, name: str) -> str:
    return f"{view}.saved.{name}"


# -- actions ------------------------------------------------------------------------------------


def _request(view: str, action: str) -> None:
    """Button callback: `action` is carried out in this run, once the filters are read."""
    st.session_state[_key(view, "request")] = action


def _carry_out(engine: Engine, search: Filters, lang: str, viewer: Viewer) -> None:
    """The requested save, overwrite, rename or delete, with the search the widgets make now."""
    state = st.session_state
    view = search.view
    action = state.pop(_key(view, "request"), None)
    if action is None:
        return
    picked = state.get(_key(view, "pick")) or ""
    try:
        if action == "save":
            stored = saved_searches.save(
                engine, state.get(_key(view, "name")) or "", search, lang, state.get(_key(view, "range"), FIXED),
                owner=viewer.owner, shared=bool(state.get(_key(view, "shared"))) if viewer.shares else None,
            )
            state[_key(view, "name")] = ""
            done = ("saved.saved", stored.name)
        elif action == "overwrite":
            current = saved_searches.get(engine, picked, viewer.owner)
            stored = saved_searches.save(engine, current.name, search, lang, current.range_kind, owner=viewer.owner,
                                         overwrite=True)
            done = ("saved.overwritten", stored.name)
        elif action == "rename":
            stored = saved_searches.rename(engine, picked, state.get(_key(view, "new_name")) or "", viewer.owner)
            state[_key(view, "new_name")] = ""
            done = ("saved.renamed", stored.name)
        else:  # delete, confirmed
            name = state.pop(_key(view, "confirm"), None) or ""
            saved_searches.delete(engine, name, viewer.owner)
            stored, done = None, ("saved.deleted", name)
    except (*REFUSALS, *DATABASE_ERRORS) as exc:
        state[_key(view, "outcome")] = exc
        return
    if stored is None:
        state.pop(_key(view, "pick"), None)
    else:
        state[_key(view, "pick")] = stored.name
    state[_key(view, "outcome")] = done


def _apply(engine: Engine, view: str, viewer: Viewer) -> None:
    """Button callback: the picked search, seen with the viewer's scope, into the filter widgets, the
    language and the time zone."""
    state = st.session_state
    name = state.get(_key(view, "pick")) or ""
    try:
        stored = saved_searches.get(engine, name, viewer.owner)
        search = resolved(stored, viewer.scope)
    except (*REFUSALS, *DATABASE_ERRORS) as exc:
        state[_key(view, "outcome")] = exc
        return
    state["lang"], state["tz"] = stored.lang, search.tz
    search_state.seed(search)
    state[_key(view, "outcome")] = ("saved.applied", stored.name)


def _share(engine: Engine, view: str, name: str, viewer: Viewer, key: str) -> None:
    """Checkbox callback: the owner (a manager) shares its search with its subaccounts, or stops."""
    state = st.session_state
    shared = bool(state.get(key))
    try:
        stored = saved_searches.set_shared(engine, name, shared, viewer.owner)
    except (*REFUSALS, *DATABASE_ERRORS) as exc:
        state[_key(view, "outcome")] = exc
        return
    state[_key(view, "outcome")] = ("saved.shared_on" if shared else "saved.shared_off", stored.name)


def _ask_delete(view: str) -> None:
    st.session_state[_key(view, "confirm")] = st.session_state.get(_key(view, "pick"))


def _cancel_delete(view: str) -> None:
    st.session_state.pop(_key(view, "confirm"), None)


def _show_outcome(view: str, lang: str) -> None:
    """The last action's result, once; names and details shown literally."""
    outcome: Outcome | None = st.session_state.pop(_key(view, "outcome"), None)
    if outcome is None:
        return
    if isinstance(outcome, REFUSALS):
        st.error(t("saved.failed", lang, detail=_refusal(outcome, view, lang)), icon=":material/error:")
    elif isinstance(outcome, Exception):
        show_database_error(outcome, lang)
    else:
        text_key, name = outcome
        st.success(t(text_key, lang, name=code_span(name)), icon=":material/check_circle:")


# -- widgets ------------------------------------------------------------------------------------


def _list(engine: Engine, view: str, searches: list[SavedSearch], lang: str, viewer: Viewer) -> None:
    """The view's saved searches: pick one, apply it, or (its owner) rename, overwrite, share or delete it."""
    state = st.session_state
    if not searches:
        st.caption(t("saved.none", lang))
        return
    names = [s.name for s in searches]
    if state.get(_key(view, "pick")) not in names:
        state.pop(_key(view, "pick"), None)
    picked = st.selectbox(t("saved.header", lang), names, key=_key(view, "pick"), label_visibility="collapsed")
    current = searches[names.index(picked)]
    st.caption(_summary(current, lang))
    st.button(t("saved.apply", lang), key=_key(view, "apply"), on_click=_apply, args=(engine, view, viewer),
              type="primary", icon=":material/manage_search:", width="stretch")
    if current.owner != viewer.owner:
        st.caption(t("saved.shared_by", lang, owner=code_span(current.owner)))
        return
    with st.expander(t("saved.manage", lang)):
        st.text_input(t("saved.new_name", lang), key=_key(view, "new_name"), max_chars=MAX_NAME_LENGTH)
        st.button(t("saved.rename", lang), key=_key(view, "rename"), on_click=_request, args=(view, "rename"),
                  icon=":material/edit:", width="stretch")
        st.button(t("saved.overwrite", lang), key=_key(view, "overwrite"), on_click=_request,
                  args=(view, "overwrite"), icon=":material/save_as:", width="stretch")
        if viewer.shares:
            share_key = _key(view, f"share.{current.search_id}")
            st.session_state[share_key] = current.shared
            st.checkbox(t("saved.share", lang), key=share_key, on_change=_share,
                        args=(engine, view, current.name, viewer, share_key))
        if state.get(_key(view, "confirm")) == picked:
            st.warning(t("saved.confirm_delete", lang, name=code_span(picked)), icon=":material/warning:")
            yes, no = st.columns(2)
            yes.button(t("saved.delete", lang), key=_key(view, "confirm_delete"), on_click=_request,
                       args=(view, "delete"), type="primary", width="stretch")
            no.button(t("saved.cancel", lang), key=_key(view, "cancel_delete"), on_click=_cancel_delete,
                      args=(view,), width="stretch")
        else:
            st.button(t("saved.delete", lang), key=_key(view, "delete"), on_click=_ask_delete, args=(view,),
                      icon=":material/delete:", width="stretch")


def _save_form(search: Filters, lang: str, viewer: Viewer) -> None:
    """A name, the kind of period, (managers) whether to share it, then "Salvar busca como modelo"."""
    view = search.view
    st.text_input(t("saved.name", lang), key=_key(view, "name"), max_chars=MAX_NAME_LENGTH)
    st.selectbox(t("saved.range", lang), RANGE_KINDS, key=_key(view, "range"),
                 format_func=lambda kind: _range_text(kind, search, lang))
    if viewer.shares:
        st.checkbox(t("saved.share", lang), key=_key(view, "shared"))
    st.button(t("saved.save", lang), key=_key(view, "save"), on_click=_request, args=(view, "save"),
              icon=":material/bookmark_add:", width="stretch")


def _period(search: Filters, lang: str) -> str:
    fmt = date_format(lang)
    return f"{search.date_from.strftime(fmt)} – {search.date_to.strftime(fmt)}"


def _range_text(kind: str, search: Filters, lang: str) -> str:
    """"Período fixo: 10/11/2026 – 12/11/2026" or "Últimos 7 dias"."""
    return f"{t('saved.range_fixed', lang)}: {_period(search, lang)}" if kind == FIXED else t(f"range.{kind}", lang)


def _refusal(exc: Exception, code: str, lang: str) -> str:
    """Why a saved search was refused: a filter value named by its field's label in `lang` (not by the
    command's flag, nor by its stored code), else the message (Markdown-safe)."""
    if isinstance(exc, FilterError):
        field = notices.field_label(view_named(code).filters, exc.param, lang)
        return t("saved.bad_value", lang, field=field, value=code_span(exc.value or ""))
    if isinstance(exc, SavedSearchError):
        shown = {name: code_span(value) if isinstance(value, str) else value for name, value in exc.details.items()}
        return t(f"saved.refused.{exc.problem}", lang, **shown)
    return code_span(str(exc))


def _summary(stored: SavedSearch, lang: str) -> str:
    """What applying `stored` sets besides the filters: the period, the language, the time zone."""
    try:
        as_saved = stored.filters()
    except REFUSALS as exc:
        return _refusal(exc, stored.view, lang)
    if stored.range_kind == FIXED:
        period = f"{t('saved.range_fixed', lang)}: {_period(as_saved, lang)}"
    else:
        period = f"{t('saved.range_relative', lang)}: {t(f'range.{stored.range_kind}', lang)}"
    return f"{period} · {label('lang', stored.lang, stored.lang)} · {code_span(as_saved.tz)}"
