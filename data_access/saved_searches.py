"""Saved searches ("salvar busca como modelo"): a named, serialised filter value in the database.

A saved search keeps its view, filters, language and time zone, and a date range that is either
fixed (the dates as saved) or relative ("last 7 days", "this month", ...), resolved against today
in the search's own time zone each time it is applied. Names are unique per owner, 1 to 80
characters, any language; until login exists every search belongs to one default owner.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data_access.filters import FILTERS_OF_VIEW, Filters, today_in
from data_access.schema import saved_search

DEFAULT_OWNER = "default"
MAX_NAME_LENGTH = 80
FIXED = "fixed"
RELATIVE_RANGES = ("last_7_days", "last_30_days", "today", "yesterday", "this_month", "last_month")
RANGE_KINDS = (FIXED, *RELATIVE_RANGES)


class SavedSearchError(ValueError):
    """A name or operation the saved searches cannot take; the message says why."""


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
    raise SavedSearchError(f"unknown date range {kind!r}: accepted are {', '.join(RANGE_KINDS)}")


def check_name(name: str) -> str:
    """The name without surrounding blanks, if it has 1 to 80 characters."""
    cleaned = (name or "").strip()
    if not 1 <= len(cleaned) <= MAX_NAME_LENGTH:
        raise SavedSearchError(f"a search name has 1 to {MAX_NAME_LENGTH} characters (got {len(cleaned)})")
    return cleaned


@dataclass(frozen=True)
class SavedSearch:
    search_id: str
    owner: str
    name: str
    view: str  # mt | mo
    range_kind: str  # fixed | one of RELATIVE_RANGES
    params: dict  # the filter's URL parameters as saved (from/to, tz included)
    lang: str
    created_at: datetime
    updated_at: datetime

    def filters(self, today: date | None = None) -> Filters:
        """The filter value to apply now: a relative range moves with the calendar."""
        filters = FILTERS_OF_VIEW[self.view].from_params(self.params)
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
    )


def _serialise(filters: Filters, range_kind: str, lang: str) -> str:
    if range_kind not in RANGE_KINDS:
        raise SavedSearchError(f"unknown date range {range_kind!r}: accepted are {', '.join(RANGE_KINDS)}")
    return json.dumps({"filters": filters.to_params(), "range": range_kind, "lang": lang}, ensure_ascii=False)


def list_searches(engine: Engine, owner: str = DEFAULT_OWNER, view: str | None = None) -> list[SavedSearch]:
    """The owner's searches (of one view, when given), by name."""
    query = sa.select(saved_search).where(saved_search.c.owner == owner)
    if view:
        query = query.where(saved_search.c.view == view)
    with engine.connect() as conn:
        return [_from_row(r) for r in conn.execute(query.order_by(saved_search.c.name))]


def get(engine: Engine, name: str, owner: str = DEFAULT_OWNER) -> SavedSearch:
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(saved_search).where(saved_search.c.owner == owner, saved_search.c.name == name.strip())
        ).first()
    if row is None:
        names = [s.name for s in list_searches(engine, owner)]
        available = ", ".join(repr(n) for n in names) if names else "none saved yet"
        raise SavedSearchError(f"unknown saved search {name!r}: available are {available}")
    return _from_row(row)


def save(
    engine: Engine,
    name: str,
    filters: Filters,
    lang: str,
    range_kind: str = FIXED,
    owner: str = DEFAULT_OWNER,
    overwrite: bool = False,
) -> SavedSearch:
    """Stores the search under `name`; an existing name is replaced only with `overwrite`."""
    name = check_name(name)
    params = _serialise(filters, range_kind, lang)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        existing = conn.execute(
            sa.select(saved_search.c.search_id).where(saved_search.c.owner == owner, saved_search.c.name == name)
        ).scalar()
        if existing and not overwrite:
            raise SavedSearchError(f"a search named {name!r} exists already: overwrite it or choose another name")
        if existing:
            conn.execute(
                saved_search.update()
                .where(saved_search.c.search_id == existing)
                .values(view=filters.view, params=params, updated_at=now)
            )
        else:
            conn.execute(
                saved_search.insert().values(
                    search_id=str(uuid.uuid4()), owner=owner, name=name, view=filters.view,
                    params=params, created_at=now, updated_at=now,
                )
            )
    return get(engine, name, owner)


def rename(engine: Engine, name: str, new_name: str, owner: str = DEFAULT_OWNER) -> SavedSearch:
    current = get(engine, name, owner)
    new_name = check_name(new_name)
    if new_name != current.name and any(s.name == new_name for s in list_searches(engine, owner)):
        raise SavedSearchError(f"a search named {new_name!r} exists already: choose another name")
    with engine.begin() as conn:
        conn.execute(
            saved_search.update()
            .where(saved_search.c.search_id == current.search_id)
            .values(name=new_name, updated_at=datetime.now(timezone.utc))
        )
    return get(engine, new_name, owner)


def delete(engine: Engine, name: str, owner: str = DEFAULT_OWNER) -> None:
    current = get(engine, name, owner)
    with engine.begin() as conn:
        conn.execute(saved_search.delete().where(saved_search.c.search_id == current.search_id))
