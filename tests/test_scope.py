"""Who sees what (SPEC 9): every role and scope against every query path, on both engines.

One database per engine holds MTs and MOs of two subaccounts, MTs with none, MOs attributed to a
subaccount, MOs sent to a business number a subaccount owns, to an unmapped number and to none. The
expected rows of each account are computed here from the rows' own fields, apart from the product.
"""
import csv
import io
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data_access import accounts, saved_searches
from data_access.columns import MO_COLUMNS, MT_COLUMNS
from data_access.engine import open_database
from data_access.filters import MoFilters, MtFilters
from data_access.detail import newest_page as detail_page
from data_access.report import count, filter_options, mo_report, mt_report
from data_access.schema import audit_log
from data_access.scope import Scope
from exports.__main__ import main as export_main
from tests.conftest import ENGINES
from tests.factories import at, insert, mo_row, mt_row
from tests.postgres import NO_SERVER, new_postgres_database
from tests.test_ingest_support import PUBLIC, load
from tests.test_export_pdf import text_lines

MAPPED_NUMBER, UNMAPPED_NUMBER = "5511400000000", "5511999999999"
MAPPING = {MAPPED_NUMBER: "Atacado"}

MTS = [
    mt_row(message_id="wamid.TV1", subaccount="Varejo", user_name="ana", campaign="Black Friday", status="read",
           sent_at=at(10, 12)),
    mt_row(message_id="wamid.TV2", subaccount="Varejo", user_name="ana", campaign="Natal", status="undelivered",
           error_code="131049", error_title="Not delivered", sent_at=at(10, 13)),
    mt_row(message_id="wamid.TA1", subaccount="Atacado", user_name="bruno", campaign="Atacadao", status="delivered",
           sent_at=at(10, 14)),
    mt_row(message_id="wamid.TN1", subaccount=None, user_name="sistema", campaign="Sem conta", status="sent",
           sent_at=at(10, 15)),
]
MOS = [
    mo_row(message_id="wamid.RV1", subaccount="Varejo", user_name="ana", campaign="Black Friday",
           content_type="button", button_payload="sim", button_text="Sim", received_at=at(10, 16)),
    mo_row(message_id="wamid.RA1", subaccount="Atacado", user_name="bruno", campaign="Atacadao",
           content_type="button", button_payload="nao", button_text="Nao", received_at=at(10, 17)),
    mo_row(message_id="wamid.RM1", business_number=MAPPED_NUMBER, content_type="button", button_payload="talvez",
           button_text="Talvez", received_at=at(10, 18)),
    mo_row(message_id="wamid.RU1", business_number=UNMAPPED_NUMBER, content_type="button", button_payload="parar",
           button_text="Parar", received_at=at(10, 19)),
    mo_row(message_id="wamid.RX1", received_at=at(10, 20)),
]

# email: (role, subaccounts)
ACCOUNTS = {
    "admin@example.com": ("admin", ()),
    "gerente@example.com": ("manager", ("Varejo",)),
    "varejo@example.com": ("analyst", ("Varejo",)),
    "atacado@example.com": ("analyst", ("Atacado",)),
    "ambos@example.com": ("analyst", ("Atacado", "Varejo")),
    "nenhuma@example.com": ("analyst", ()),
}
EMAILS = tuple(ACCOUNTS)
PERIOD = {"date_from": date(2026, 11, 9), "date_to": date(2026, 11, 11), "tz": "UTC"}
PERIOD_ARGS = ["--from", "2026-11-09", "--to", "2026-11-11", "--tz", "UTC", "--lang", "en"]
# Saved by the manager of Varejo: (name, subaccounts named by the search, shared)
SAVED = (("Todas", (), True), ("So Atacado", ("Atacado",), True), ("Privada", (), False))


def owner(row: dict) -> str | None:
    """The subaccount a row belongs to: its own, else (MOs) the owner of the number it was sent to."""
    return row["subaccount"] if row["subaccount"] is not None else MAPPING.get(row.get("business_number"))


def sees(email: str, row: dict) -> bool:
    """The rule of SPEC 9, written apart from the product: admins see everything; others see the
    rows their subaccounts own."""
    role, subaccounts = ACCOUNTS[email]
    return role == "admin" or owner(row) in subaccounts


def visible_mts(email: str) -> list[dict]:
    return [r for r in MTS if sees(email, r)]


def visible_mos(email: str) -> list[dict]:
    return [r for r in MOS if sees(email, r)]


def newest_first(rows: list[dict], when: str) -> list[str]:
    return [r["message_id"] for r in sorted(rows, key=lambda r: (r[when], r["message_id"]), reverse=True)]


def values(rows: list[dict], column: str) -> tuple[str, ...]:
    return tuple(sorted({r[column] for r in rows if r[column] is not None}))


@pytest.fixture(scope="module", params=ENGINES)
def scoped(request, tmp_path_factory) -> Iterator[tuple[Engine, str]]:
    """One database per engine with the rows, accounts, mapping and saved searches above."""
    drop = None
    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path_factory.mktemp('scope') / 'report.duckdb'}"
    else:
        try:
            url, drop = new_postgres_database()
        except RuntimeError:
            pytest.fail(NO_SERVER)
    engine = open_database(url)
    try:
        insert(engine, MTS, MOS)
        for email, (role, subaccounts) in ACCOUNTS.items():
            accounts.add_account(engine, email, role, subaccounts=subaccounts)
        accounts.set_business_number(engine, MAPPED_NUMBER, "Atacado")
        for name, subaccounts, shared in SAVED:
            filters = MoFilters(**PERIOD, subaccount=subaccounts)
            saved_searches.save(engine, name, filters, "en", owner="gerente@example.com", shared=shared)
        yield engine, url
    finally:
        engine.dispose()
        if drop:
            drop()


def scope_of(engine: Engine, email: str) -> Scope:
    return accounts.get_account(engine, email).scope


@pytest.mark.parametrize("email", EMAILS)
def test_figures(scoped, email):
    engine, _ = scoped
    scope = scope_of(engine, email)
    mts, mos = visible_mts(email), visible_mos(email)
    with engine.connect() as conn:
        sent = mt_report(conn, MtFilters(**PERIOD, scope=scope))
        received = mo_report(conn, MoFilters(**PERIOD, scope=scope))
        assert count(conn, MtFilters(**PERIOD, scope=scope)) == len(mts)
        assert count(conn, MoFilters(**PERIOD, scope=scope)) == len(mos)
    expected_status = sorted({s: sum(r["status"] == s for r in mts) for s in {r["status"] for r in mts}}.items())
    assert sorted(sent.status_counts) == expected_status
    assert sent.totals.total == len(mts)
    assert sent.totals.failed == sum(r["status"] == "undelivered" for r in mts)
    assert [(f.error_code, f.count) for f in sent.failure_reasons] == (
        [("131049", 1)] if any(r["message_id"] == "wamid.TV2" for r in mts) else []
    )
    assert received.total == len(mos)
    assert sorted(q.button_text for q in received.quick_replies) == sorted(
        r["button_text"] for r in mos if r["button_payload"]
    )


@pytest.mark.parametrize("email", EMAILS)
def test_option_lists(scoped, email):
    engine, _ = scoped
    scope = scope_of(engine, email)
    mts, mos = visible_mts(email), visible_mos(email)
    with engine.connect() as conn:
        sent = filter_options(conn, MtFilters, scope=scope)
        received = filter_options(conn, MoFilters, scope=scope)
        # Narrowing by a subaccount of another scope offers nothing of it.
        narrowed = filter_options(conn, MtFilters, ("Atacado",), scope=scope)
        narrowed_mo = filter_options(conn, MoFilters, ("Atacado",), scope=scope)
    assert (sent.subaccounts, sent.users, sent.campaigns) == (
        values(mts, "subaccount"), values(mts, "user_name"), values(mts, "campaign")
    )
    owners = tuple(sorted({owner(r) for r in mos if owner(r) is not None}))
    assert (received.subaccounts, received.buttons) == (owners, values(mos, "button_text"))
    atacado = [r for r in mts if r["subaccount"] == "Atacado"]
    assert (narrowed.users, narrowed.campaigns) == (values(atacado, "user_name"), values(atacado, "campaign"))
    assert narrowed_mo.buttons == values([r for r in mos if owner(r) == "Atacado"], "button_text")


@pytest.mark.parametrize("email", EMAILS)
def test_detail_rows(scoped, email):
    engine, _ = scoped
    scope = scope_of(engine, email)
    with engine.connect() as conn:
        sent = detail_page(conn, MtFilters(**PERIOD, scope=scope), MT_COLUMNS, 1, 25)
        received = detail_page(conn, MoFilters(**PERIOD, scope=scope), MO_COLUMNS, 1, 25)
    assert [r["message_id"] for r in sent] == newest_first(visible_mts(email), "sent_at")
    assert [r["message_id"] for r in received] == newest_first(visible_mos(email), "received_at")


@pytest.mark.parametrize("email", EMAILS)
@pytest.mark.parametrize("subaccount", ["Varejo", "Atacado"])
def test_url_naming_a_subaccount_shows_only_what_the_scope_allows(scoped, email, subaccount):
    """A URL (or CLI flag) naming a subaccount outside the scope shows nothing of it."""
    engine, _ = scoped
    scope = scope_of(engine, email)
    filters = MtFilters.from_params({"from": "2026-11-09", "to": "2026-11-11", "tz": "UTC",
                                     "subaccount": subaccount}).replace(scope=scope)
    assert "scope" not in filters.to_params()
    expected = [r for r in visible_mts(email) if r["subaccount"] == subaccount]
    received = MoFilters.from_params({"from": "2026-11-09", "to": "2026-11-11", "tz": "UTC",
                                      "subaccount": [subaccount]}).replace(scope=scope)
    expected_mos = [r for r in visible_mos(email) if owner(r) == subaccount]
    with engine.connect() as conn:
        assert [r["message_id"] for r in detail_page(conn, filters, MT_COLUMNS, 1, 25)] == newest_first(expected, "sent_at")
        assert mt_report(conn, filters).totals.total == len(expected)
        assert [r["message_id"] for r in detail_page(conn, received, MO_COLUMNS, 1, 25)] == newest_first(expected_mos, "received_at")
        assert mo_report(conn, received).total == len(expected_mos)


def _export(url: str, email: str, view: str, fmt: str, out: Path, capsys, *extra: str) -> int:
    code = export_main(["--view", view, "--format", fmt, "-o", str(out), "--db", url, "--as", email,
                        *PERIOD_ARGS, *extra])
    capsys.readouterr()
    return code


def _exported_ids(fmt: str, path: Path) -> list[str]:
    if fmt == "csv":
        _, *rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
        return [row[-1] for row in rows]
    if fmt == "xlsx":
        rows = list(openpyxl.load_workbook(path)["Data"].iter_rows(values_only=True))
        return [row[-1] for row in rows[1:]]
    return re.findall(r"wamid\.[A-Z0-9]+", " ".join(text_lines(path.read_bytes())))


@pytest.mark.parametrize("email", EMAILS)
@pytest.mark.parametrize("view", ["mt", "mo"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_command_line_export_as_an_account(scoped, email, view, fmt, tmp_path, capsys):
    engine, url = scoped
    out = tmp_path / f"export.{fmt}"
    assert _export(url, email, view, fmt, out, capsys) == 0
    expected = newest_first(visible_mts(email), "sent_at") if view == "mt" else newest_first(
        visible_mos(email), "received_at")
    assert _exported_ids(fmt, out) == expected
    with engine.connect() as conn:
        entry = conn.execute(
            sa.select(audit_log).where(audit_log.c.action == "export").order_by(audit_log.c.logged_at.desc()).limit(1)
        ).one()
    assert entry.actor == email
    assert entry.detail == (
        '{"filters": {"from": ["2026-11-09"], "to": ["2026-11-11"], "tz": ["UTC"]}, '
        f'"format": "{fmt}", "rows": {len(expected)}, "via": "cli", "view": "{view}"}}'
    )


@pytest.mark.parametrize("email", EMAILS)
def test_command_line_export_naming_another_subaccount(scoped, email, tmp_path, capsys):
    _, url = scoped
    out = tmp_path / "export.csv"
    assert _export(url, email, "mo", "csv", out, capsys, "--subaccount", "Atacado") == 0
    expected = [r for r in visible_mos(email) if owner(r) == "Atacado"]
    assert _exported_ids("csv", out) == newest_first(expected, "received_at")


def _sees_search(email: str, name: str) -> bool:
    """Own searches, and the manager's shared ones for accounts with a subaccount in common (admins: all)."""
    owner = "gerente@example.com"
    shared = next(s for n, _, s in SAVED if n == name)
    role, subaccounts = ACCOUNTS[email]
    return email == owner or (shared and (role == "admin" or bool(set(subaccounts) & set(ACCOUNTS[owner][1]))))


@pytest.mark.parametrize("email", EMAILS)
def test_saved_searches_listed_and_applied_with_the_viewers_scope(scoped, email):
    engine, _ = scoped
    scope = scope_of(engine, email)
    listed = saved_searches.list_searches(engine, email)
    assert sorted(s.name for s in listed) == sorted(n for n, _, _ in SAVED if _sees_search(email, n))
    for search in listed:
        named = next(subs for n, subs, _ in SAVED if n == search.name)
        expected = [r for r in visible_mos(email) if not named or owner(r) in named]
        with engine.connect() as conn:
            rows = detail_page(conn, search.filters(scope=scope), MO_COLUMNS, 1, 25)
        assert [r["message_id"] for r in rows] == newest_first(expected, "received_at")


@pytest.mark.parametrize("email", EMAILS)
def test_saved_search_export_from_the_command_line(scoped, email, tmp_path, capsys):
    _, url = scoped
    out = tmp_path / "saved.csv"
    code = export_main(["--view", "mo", "--format", "csv", "-o", str(out), "--db", url, "--as", email,
                        "--saved", "So Atacado"])
    err = capsys.readouterr().err
    if not _sees_search(email, "So Atacado"):
        assert code == 2 and err.startswith("exports: unknown saved search 'So Atacado'")
        return
    assert code == 0
    expected = [r for r in visible_mos(email) if owner(r) == "Atacado"]
    assert _exported_ids("csv", out) == newest_first(expected, "received_at")


@pytest.mark.parametrize("email", [e for e in EMAILS if e != "gerente@example.com"])
def test_nobody_changes_or_deletes_another_accounts_search(scoped, email):
    engine, _ = scoped
    filters = MoFilters(**PERIOD)
    for change in (
        lambda: saved_searches.delete(engine, "Todas", email),
        lambda: saved_searches.rename(engine, "Todas", "Minha", email),
        lambda: saved_searches.set_shared(engine, "Todas", False, email),
    ):
        with pytest.raises(saved_searches.SavedSearchError):
            change()
    if _sees_search(email, "Todas"):  # a search of the same name is the viewer's own, apart
        mine = saved_searches.save(engine, "Todas", filters, "en", owner=email)
        assert (mine.owner, saved_searches.get(engine, "Todas", email).owner) == (email, email)
        saved_searches.delete(engine, "Todas", email)
    assert saved_searches.get(engine, "Todas", "gerente@example.com").shared is True


def test_only_managers_share(scoped):
    engine, _ = scoped
    filters = MoFilters(**PERIOD)
    for email in ("admin@example.com", "varejo@example.com"):
        with pytest.raises(saved_searches.SavedSearchError, match="only a manager shares"):
            saved_searches.save(engine, "Compartilhada", filters, "en", owner=email, shared=True)
        assert [s.name for s in saved_searches.list_searches(engine, email) if s.owner == email] == []


def test_export_needs_an_active_account_once_accounts_exist(scoped, tmp_path, capsys):
    _, url = scoped
    out = tmp_path / "x.csv"
    base = ["--view", "mt", "--format", "csv", "-o", str(out), "--db", url, *PERIOD_ARGS]
    assert export_main(base) == 2
    assert capsys.readouterr().err == "exports: accounts exist: give --as EMAIL to export with that account's scope\n"
    assert export_main([*base, "--as", "ninguem@example.com"]) == 2
    assert capsys.readouterr().err == (
        "exports: --as 'ninguem@example.com' is not an active account: see python -m data_access.users list\n"
    )
    assert not out.exists()


def test_an_ingested_mo_with_no_attributed_subaccount_follows_its_business_number(engine, tmp_path):
    """Meta's payload names the business number (metadata.display_phone_number); the MT it answers is
    unknown, so the MO has no subaccount: admins only, until the number is mapped."""
    path = tmp_path / "meta.json"
    path.write_text(PUBLIC["meta_button_quick_reply.json"], encoding="utf-8")
    assert load(engine, path).exit_code == 0
    accounts.add_account(engine, "admin@example.com", "admin")
    accounts.add_account(engine, "atacado@example.com", "analyst", subaccounts=["Atacado"])
    accounts.add_account(engine, "varejo@example.com", "analyst", subaccounts=["Varejo"])
    search = MoFilters(date_from=date(2025, 6, 16), date_to=date(2025, 6, 16), tz="UTC")

    def counts() -> dict[str, int]:
        with engine.connect() as conn:
            return {email: count(conn, search.replace(scope=scope_of(engine, email)))
                    for email in ("admin@example.com", "atacado@example.com", "varejo@example.com")}

    assert counts() == {"admin@example.com": 1, "atacado@example.com": 0, "varejo@example.com": 0}
    accounts.set_business_number(engine, "+1 555 078 3881", "Atacado")
    assert counts() == {"admin@example.com": 1, "atacado@example.com": 1, "varejo@example.com": 0}


def test_sharing_survives_an_overwrite_and_unsharing_hides_it(engine):
    accounts.add_account(engine, "gerente@example.com", "manager", subaccounts=["Varejo"])
    accounts.add_account(engine, "colega@example.com", "analyst", subaccounts=["Varejo"])
    filters = MtFilters(**PERIOD)
    saved_searches.save(engine, "Semana", filters, "en", owner="gerente@example.com", shared=True)
    assert [(s.name, s.owner, s.shared) for s in saved_searches.list_searches(engine, "colega@example.com")] == [
        ("Semana", "gerente@example.com", True)
    ]
    saved_searches.save(engine, "Semana", filters.replace(status=("read",)), "en", owner="gerente@example.com",
                        overwrite=True)
    shared = saved_searches.get(engine, "Semana", "colega@example.com")
    assert (shared.shared, shared.params["status"]) == (True, ["read"])
    saved_searches.set_shared(engine, "Semana", False, "gerente@example.com")
    assert saved_searches.list_searches(engine, "colega@example.com") == []
    accounts.set_role(engine, "gerente@example.com", "analyst")  # a shared search needs a manager owner
    saved_searches.save(engine, "Outra", filters, "en", owner="colega@example.com")
    with pytest.raises(saved_searches.SavedSearchError, match="only a manager shares"):
        saved_searches.set_shared(engine, "Semana", True, "gerente@example.com")
    assert [s.name for s in saved_searches.list_searches(engine, "gerente@example.com")] == ["Semana"]


def test_a_disabled_account_cannot_export(engine, db_url, tmp_path, capsys):
    insert(engine, MTS)
    accounts.add_account(engine, "saiu@example.com", "analyst", subaccounts=["Varejo"])
    out = tmp_path / "x.csv"
    assert _export(db_url, "saiu@example.com", "mt", "csv", out, capsys) == 0
    assert _exported_ids("csv", out) == ["wamid.TV2", "wamid.TV1"]
    accounts.disable(engine, "saiu@example.com")
    out.unlink()
    assert export_main(["--view", "mt", "--format", "csv", "-o", str(out), "--db", db_url, "--as", "SAIU@example.com",
                        *PERIOD_ARGS]) == 2
    assert capsys.readouterr().err == (
        "exports: --as 'SAIU@example.com' is not an active account: see python -m data_access.users list\n"
    )
    assert not out.exists()
    assert [e.action for e in accounts.audit_entries(engine, 2)] == ["account.disable", "export"]
