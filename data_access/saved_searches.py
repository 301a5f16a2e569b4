"""Saved searches ("salvar busca como modelo"): a named, serialised filter value in the database.

A saved search keeps its view, filters, language and time zone, and a date range that is either
fixed (the dates as saved) or relative ("last 7 days", "this month", ...), resolved against today
in the search's own time zone each time it is applied. Names are unique per owner, 1 to 80
characters, any language. The owner is the signed-in account's email (one default owner while no
account exists). A search is private, or shared by a manager with the accounts of its subaccounts
(SPEC 9); they see it in their list and may apply it, but only its owner changes or deletes it.
Applying a search never widens what the viewer sees: its filters take the viewer's scope.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data_access.filters import Filters, today_in
from data_access.schema import account, account_subaccount, saved_search
from data_access.scope import Scope
from data_access.views import view

DEFAULT_OWNER = "default"
MAX_NAME_LENGTH = 80
FIXED = "fixed"
RELATIVE_RANGES = ("last_7_days", "last_30_days", "today", "yesterday", "this_month", "last_month")
RANGE_KINDS = (FIXED, *RELATIVE_RANGES)


class SavedSearchError(ValueError):
    """A name or operation the saved searches cannot take.

    The message is the command line's (English); `problem` (one of REFUSAL_PROBLEMS) and `details`
    (the names and numbers it mentions) let a page say the same in its own language.
    """

    def __init__(self, message: str, problem: str, **details: object) -> None:
        super().__init__(message)
        self.problem, self.details = problem, details


# Why a saved-search action was refused: SavedSearchError.problem.
REFUSAL_PROBLEMS = ("unknown_range", "name_length", "unknown_search", "not_owner", "share_manager", "exists",
                    "exists_overwrite")


def resolve_range(kind: str, today: date) -> tuple[date, date]:
    """The calendar days a relative range covers on `today`."""
    if kind == "last_7_days":
        return today - timedelta(days=6), today
    if kind == "last_30_days":
        return today - timedelta(days=29), today
    if kind == "today":
        return today, today
    if kind == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1)
    if kind == "this_month":
        return today.replace(day=1), today
    if kind == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    raise _unknown_range(kind)


def _unknown_range(kind: str) -> SavedSearchError:
    accepted = ", ".join(RANGE_KINDS)
    return SavedSearchError(f"unknown date range {kind!r}: accepted are {accepted}", "unknown_range",
                            range=kind, accepted=accepted)


def check_name(name: str) -> str:
    """The name without surrounding blanks, if it has 1 to 80 characters."""
    cleaned = (name or "").strip()
    if not 1 <= len(cleaned) <= MAX_NAME_LENGTH:
        raise SavedSearchError(f"a search name has 1 to {MAX_NAME_LENGTH} characters (got {len(cleaned)})",
                               "name_length", max=MAX_NAME_LENGTH, length=len(cleaned))
    return cleaned


@dataclass(frozen=True)
class SavedSearch:
    search_id: str
    owner: str
    name: str
    view: str  # a registered view's code (mt, mo)
    range_kind: str  # fixed | one of RELATIVE_RANGES
    params: dict  # the filter's URL parameters as saved (from/to, tz included)
    lang: str
    created_at: datetime
    updated_at: datetime
    shared: bool = False  # shared by its (manager) owner with the accounts of its subaccounts

    def filters(self, today: date | None = None, scope: Scope = Scope.ALL) -> Filters:
        """The filter value to apply now, seen with the viewer's `scope`: a relative range moves
        with the calendar; a subaccount outside the scope named by the search shows nothing."""
        filters = view(self.view).filters.from_params(self.params).replace(scope=scope)
        if self.range_kind == FIXED:
            return filters
        start, end = resolve_range(self.range_kind, today or today_in(filters.tz))
        return filters.replace(date_from=start, date_to=end)


def _from_row(row) -> SavedSearch:
    stored = json.loads(row.params)
    return SavedSearch(
        search_id=row.search_id,
        owner=row.owner,
        name=row.name,
        view=row.view,
        range_kind=stored["range"],
        params=stored["filters"],
        lang=stored["lang"],
        created_at=row.created_at,
        updated_at=row.updated_at,
        shared=bool(row.shared),
    )


def _serialise(filters: Filters, range_kind: str, lang: str) -> str:
    if range_kind not in RANGE_KINDS:
        raise _unknown_range(range_kind)
    return json.dumps({"filters": filters.to_params(), "range": range_kind, "lang": lang}, ensure_ascii=False)


def _shared_with(viewer: str) -> sa.ColumnElement[bool]:
    """Searches of other owners shared with `viewer`: by an active manager who has a subaccount in
    common with the viewer (an admin, who sees every subaccount, sees every shared search)."""
    managers = sa.select(account.c.email).where(account.c.role == "manager", account.c.active)
    viewer_is_admin = sa.select(account.c.email).where(
        account.c.email == viewer, account.c.role == "admin", account.c.active
    ).exists()
    viewer_subaccounts = sa.select(account_subaccount.c.subaccount).where(account_subaccount.c.email == viewer)
    colleagues = sa.select(account_subaccount.c.email).where(account_subaccount.c.subaccount.in_(viewer_subaccounts))
    return sa.and_(
        saved_search.c.shared,
        saved_search.c.owner != viewer,
        saved_search.c.owner.in_(managers),
        sa.or_(viewer_is_admin, saved_search.c.owner.in_(colleagues)),
    )


def list_searches(engine: Engine, owner: str = DEFAULT_OWNER, view: str | None = None) -> list[SavedSearch]:
    """The searches `owner` sees (of one view, when given): its own, then those shared with it,
    each by name."""
    visible = sa.or_(saved_search.c.owner == owner, _shared_with(owner))
    query = sa.select(saved_search).where(visible)
    if view:
        query = query.where(saved_search.c.view == view)
    mine_first = sa.case((saved_search.c.owner == owner, 0), else_=1)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(mine_first, saved_search.c.name, saved_search.c.owner))
        return [_from_row(r) for r in rows]


def get(engine: Engine, name: str, owner: str = DEFAULT_OWNER) -> SavedSearch:
    """The search named `name` that `owner` sees: its own, else one shared with it."""
    for search in list_searches(engine, owner):
        if search.name == name.strip():
            return search
    names = [s.name for s in list_searches(engine, owner)]
    available = ", ".join(repr(n) for n in names) if names else "none saved yet"
    raise SavedSearchError(f"unknown saved search {name!r}: available are {available}", "unknown_search",
                           name=name)


def _own(engine: Engine, name: str, owner: str) -> SavedSearch:
    """The search named `name` if `owner` owns it: nobody changes or deletes another's search."""
    search = get(engine, name, owner)
    if search.owner != owner:
        raise SavedSearchError(f"the search {search.name!r} belongs to {search.owner}: only its owner can change it",
                               "not_owner", name=search.name, owner=search.owner)
    return search


def _check_share(engine: Engine, owner: str) -> None:
    with engine.connect() as conn:
        role = conn.execute(sa.select(account.c.role).where(account.c.email == owner, account.c.active)).scalar()
    if role != "manager":
        raise SavedSearchError("only a manager shares a search with the accounts of its subaccounts", "share_manager")


def save(
    engine: Engine,
    name: str,
    filters: Filters,
    lang: str,
    range_kind: str = FIXED,
    owner: str = DEFAULT_OWNER,
    overwrite: bool = False,
    shared: bool | None = None,
) -> SavedSearch:
    """Stores the search under `name`; an existing name is replaced only with `overwrite`.
    `shared` (managers only) shows it to the accounts of the owner's subaccounts; None keeps what
    an overwritten search had (private for a new one)."""
    name = check_name(name)
    params = _serialise(filters, range_kind, lang)
    if shared:
        _check_share(engine, owner)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        existing = conn.execute(
            sa.select(saved_search.c.search_id).where(saved_search.c.owner == owner, saved_search.c.name == name)
        ).scalar()
        if existing and not overwrite:
            raise SavedSearchError(f"a search named {name!r} exists already: overwrite it or choose another name",
                                   "exists_overwrite", name=name)
        if existing:
            conn.execute(
                saved_search.update()
                .where(saved_search.c.search_id == existing)
                .values(view=filters.view, params=params, updated_at=now,
                        **({} if shared is None else {"shared": shared}))
            )
        else:
            conn.execute(
                saved_search.insert().values(
                    search_id=str(uuid.uuid4()), owner=owner, name=name, view=filters.view,
                    params=params, created_at=now, updated_at=now, shared=bool(shared),
                )
            )
    return _own(engine, name, owner)


def set_shared(engine: Engine, name: str, shared: bool, owner: str = DEFAULT_OWNER) -> SavedSearch:
    """Shares the owner's search with the accounts of its subaccounts (managers only), or unshares it."""
    current = _own(engine, name, owner)
    if shared:
        _check_share(engine, owner)
    with engine.begin() as conn:
        conn.execute(
            saved_search.update()
            .where(saved_search.c.search_id == current.search_id)
            .values(shared=shared, updated_at=datetime.now(timezone.utc))
        )
    return _own(engine, name, owner)


def rename(engine: Engine, name: str, new_name: str, owner: str = DEFAULT_OWNER) -> SavedSearch:
    current = _own(engine, name, owner)
    new_name = check_name(new_name)
    mine = [s.name for s in list_searches(engine, owner) if s.owner == owner]
    if new_name != current.name and new_name in mine:
        raise SavedSearchError(f"a search named {new_name!r} exists already: choose another name", "exists",
                               name=new_name)
    with engine.begin() as conn:
        conn.execute(
            saved_search.update()
            .where(saved_search.c.search_id == current.search_id)
            .values(name=new_name, updated_at=datetime.now(timezone.utc))
        )
    return _own(engine, new_name, owner)


def delete(engine: Engine, name: str, owner: str = DEFAULT_OWNER) -> None:
    current = _own(engine, name, owner)
    with engine.begin() as conn:
        conn.execute(saved_search.delete().where(saved_search.c.search_id == current.search_id))
