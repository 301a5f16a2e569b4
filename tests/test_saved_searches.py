"""Saved searches in the database on both engines: save, apply, relative ranges, rename, overwrite, delete."""
from datetime import date

import pytest

from data_access import saved_searches as saved
from data_access.filters import MoFilters, MtFilters
from data_access.report import count
from tests.factories import at, insert, mt_row

HOSTILE = "=HYPERLINK(\"x\")'; DROP TABLE saved_search; -- <b>ação</b> 🎯"


@pytest.mark.parametrize(
    "kind, today, expected",
    [
        ("last_7_days", date(2026, 11, 25), (date(2026, 11, 19), date(2026, 11, 25))),
        ("last_30_days", date(2026, 11, 25), (date(2026, 10, 27), date(2026, 11, 25))),
        ("today", date(2026, 11, 25), (date(2026, 11, 25), date(2026, 11, 25))),
        ("yesterday", date(2026, 3, 1), (date(2026, 2, 28), date(2026, 2, 28))),
        ("this_month", date(2026, 11, 25), (date(2026, 11, 1), date(2026, 11, 25))),
        ("last_month", date(2026, 1, 15), (date(2025, 12, 1), date(2025, 12, 31))),
        ("last_month", date(2024, 3, 31), (date(2024, 2, 1), date(2024, 2, 29))),
    ],
)
def test_relative_ranges(kind, today, expected):
    assert saved.resolve_range(kind, today) == expected


def test_save_then_apply_gives_the_same_total(engine):
    insert(engine, [mt_row(sent_at=at(10), status="read"), mt_row(sent_at=at(10), status="sent"),
                    mt_row(sent_at=at(12), status="read", campaign="Natal")])
    search = MtFilters(date_from=date(2026, 11, 10), date_to=date(2026, 11, 12), status=("read",))
    saved.save(engine, "Só lidas", search, lang="en")
    applied = saved.get(engine, "Só lidas")
    assert applied.view == "mt" and applied.lang == "en" and applied.range_kind == "fixed"
    assert applied.filters() == search
    with engine.connect() as conn:
        assert count(conn, applied.filters()) == count(conn, search) == 2


def test_relative_range_moves_with_the_calendar(engine):
    search = MoFilters(date_from=date(2026, 11, 1), date_to=date(2026, 11, 7), tz="UTC", button=("Sim",))
    saved.save(engine, "Cliques da semana", search, lang="pt-BR", range_kind="last_7_days")
    stored = saved.get(engine, "Cliques da semana")
    assert stored.filters(today=date(2026, 11, 25)) == search.replace(date_from=date(2026, 11, 19), date_to=date(2026, 11, 25))
    assert stored.filters(today=date(2027, 1, 3)) == search.replace(date_from=date(2026, 12, 28), date_to=date(2027, 1, 3))


def test_names_are_unique_and_overwrite_replaces(engine):
    first = MtFilters(date_from=date(2026, 11, 1), date_to=date(2026, 11, 2))
    second = first.replace(status=("opt_out",))
    saved.save(engine, "x", first, lang="pt-BR")
    with pytest.raises(saved.SavedSearchError, match="exists already"):
        saved.save(engine, " x ", second, lang="pt-BR")
    saved.save(engine, "x", second, lang="es", overwrite=True)
    assert [s.name for s in saved.list_searches(engine)] == ["x"]
    assert saved.get(engine, "x").filters() == second
    assert saved.get(engine, "x").lang == "es"


def test_rename_and_delete(engine):
    search = MtFilters(date_from=date(2026, 11, 1), date_to=date(2026, 11, 2))
    saved.save(engine, "a", search, lang="pt-BR")
    saved.save(engine, "b", search, lang="pt-BR")
    with pytest.raises(saved.SavedSearchError, match="'b' exists already"):
        saved.rename(engine, "a", "b")
    saved.rename(engine, "a", "c")
    assert [s.name for s in saved.list_searches(engine)] == ["b", "c"]
    saved.delete(engine, "b")
    assert [s.name for s in saved.list_searches(engine)] == ["c"]
    with pytest.raises(saved.SavedSearchError, match=r"unknown saved search 'b': available are 'c'"):
        saved.get(engine, "b")


@pytest.mark.parametrize("name", ["", "   ", "x" * 81])
def test_bad_names(engine, name):
    with pytest.raises(saved.SavedSearchError, match="1 to 80 characters"):
        saved.save(engine, name, MtFilters(date_from=date(2026, 1, 1), date_to=date(2026, 1, 1)), lang="en")


def test_hostile_and_long_names_stay_text(engine):
    search = MtFilters(date_from=date(2026, 1, 1), date_to=date(2026, 1, 1), campaign=(HOSTILE,))
    name = HOSTILE[:80]
    saved.save(engine, name, search, lang="en")
    assert saved.get(engine, name).filters().campaign == (HOSTILE,)
    assert [s.name for s in saved.list_searches(engine, view="mt")] == [name]
    assert saved.list_searches(engine, view="mo") == []


def test_owners_are_separate(engine):
    search = MtFilters(date_from=date(2026, 1, 1), date_to=date(2026, 1, 1))
    saved.save(engine, "x", search, lang="en", owner="ana")
    saved.save(engine, "x", search, lang="en", owner="bia")
    assert [s.owner for s in saved.list_searches(engine, owner="ana")] == ["ana"]
    with pytest.raises(saved.SavedSearchError, match="none saved yet"):
        saved.get(engine, "x")
