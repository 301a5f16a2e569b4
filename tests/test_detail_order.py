"""The detail table sorted by any column and searched by message text, in SQL over the whole search
(data_access/detail.py), on both engines. Expected orders are Python sorts of the test's own rows;
hostile search texts (wildcards, the escape character, quotes, SQL) match only themselves."""
from datetime import date

import pytest
from sqlalchemy import func, select

from data_access.columns import MO_COLUMNS, MT_COLUMNS
from data_access.detail import TableOrder, count_rows, sorted_page
from data_access.filters import MoFilters, MtFilters
from data_access.i18n import label
from data_access.schema import mt_message
from tests.factories import at, insert, mo_row, mt_row

NOVEMBER = {"date_from": date(2026, 11, 1), "date_to": date(2026, 11, 30)}
HOSTILE = ["100% off", "100 off", "a_b", "axb", "c/d", "e\\f", "e\\\\f", "O'Brien'; DROP TABLE mt_message; --",
           "Oferta GRANDE", "oferta pequena", "sem nada", "%_%", None]


def rows_for_sorting() -> list[dict]:
    statuses = ["read", "opt_out", "delivered", "sent", "undelivered", "invalid_number", "read", "delivered"]
    campaigns = ["Natal", None, "Aniversario", "Boas vindas", None, "Carnaval", "Natal", "Zeta"]
    return [
        mt_row(message_id=f"wamid.s{i:02d}", sent_at=at(3 + i, 10 + i), status=s, campaign=c,
               phone=f"+55119{(7 * i) % 10:08d}", sent_with_session=[True, False, None][i % 3],
               error_code=["131049", None, "131026"][i % 3] if s in ("opt_out", "undelivered", "invalid_number")
               else None,
               error_title="Erro" if i % 2 else None)
        for i, (s, c) in enumerate(zip(statuses, campaigns))
    ]


def python_order(rows: list[dict], key, descending: bool) -> list[str]:
    """Empty values last either way, ties newest first (as the product promises)."""
    present = [r for r in rows if key(r) is not None]
    empty = [r for r in rows if key(r) is None]
    newest = lambda r: (r["sent_at"], r["message_id"])  # noqa: E731
    present.sort(key=newest, reverse=True)
    present.sort(key=key, reverse=descending)
    empty.sort(key=newest, reverse=True)
    return [r["message_id"] for r in present + empty]


def error_text(row: dict) -> str | None:
    code, title = row["error_code"], row["error_title"]
    return title if code is None else code if title is None else f"{code}: {title}"


CASES = [
    ("phone", lambda r, lang: r["phone"]),
    ("campaign", lambda r, lang: r["campaign"]),
    ("status", lambda r, lang: label("status", r["status"], lang)),
    ("sent_at", lambda r, lang: r["sent_at"]),
    ("error", lambda r, lang: error_text(r)),
    ("sent_with_session", lambda r, lang: r["sent_with_session"]),
]


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize(("column", "key"), CASES, ids=[c[0] for c in CASES])
def test_sort_by_any_column_across_pages(engine, column, key, descending):
    rows = rows_for_sorting()
    insert(engine, rows)
    filters = MtFilters(**NOVEMBER)
    order = TableOrder(sort=column, descending=descending)
    for lang in ("pt-BR", "en"):
        expected = python_order(rows, lambda r: key(r, lang), descending)
        with engine.connect() as conn:
            pages = [sorted_page(conn, filters, MT_COLUMNS, order, page, 3, lang) for page in (1, 2, 3)]
        assert [[r["message_id"] for r in page] for page in pages] == [expected[0:3], expected[3:6], expected[6:8]]


def test_status_sorts_by_its_words_in_the_language(engine):
    rows = [mt_row(sent_at=at(3, 10), status="read"), mt_row(sent_at=at(3, 11), status="delivered"),
            mt_row(sent_at=at(3, 12), status="opt_out")]
    insert(engine, rows)
    with engine.connect() as conn:
        pt = sorted_page(conn, MtFilters(**NOVEMBER), MT_COLUMNS, TableOrder("status", False), 1, 10, "pt-BR")
        en = sorted_page(conn, MtFilters(**NOVEMBER), MT_COLUMNS, TableOrder("status", False), 1, 10, "en")
    # Entregue < Lida < Não entregue por opt-out; Delivered < Not delivered (opt-out) < Read
    assert [r["status"] for r in pt] == ["delivered", "read", "opt_out"]
    assert [r["status"] for r in en] == ["delivered", "opt_out", "read"]


@pytest.mark.parametrize(("text", "matches"), [
    ("%", ["100% off", "%_%"]),
    ("_", ["a_b", "%_%", "O'Brien'; DROP TABLE mt_message; --"]),
    ("%_%", ["%_%"]),
    ("/", ["c/d"]),
    ("\\", ["e\\f", "e\\\\f"]),
    ("\\\\", ["e\\\\f"]),
    ("'", ["O'Brien'; DROP TABLE mt_message; --"]),
    ("'; DROP TABLE mt_message; --", ["O'Brien'; DROP TABLE mt_message; --"]),
    ("oferta", ["Oferta GRANDE", "oferta pequena"]),
    ("  GRANDE ", ["Oferta GRANDE"]),
    ("100 o", ["100 off"]),  # a space inside the text is kept
    ("nada que exista", []),
])
def test_search_matches_only_the_text_itself(engine, text, matches):
    rows = [mt_row(sent_at=at(3, 10, i), message=m) for i, m in enumerate(HOSTILE)]
    insert(engine, rows)
    order = TableOrder(text=text)
    needle = text.strip().lower()
    expected = [m for m in HOSTILE if m is not None and needle in m.lower()]
    assert sorted(expected) == sorted(matches)
    with engine.connect() as conn:
        assert count_rows(conn, MtFilters(**NOVEMBER), order) == len(matches)
        got = sorted_page(conn, MtFilters(**NOVEMBER), MT_COLUMNS, order, 1, 50, "pt-BR")
        assert sorted(r["message"] for r in got) == sorted(matches)
        assert [r["sent_at"] for r in got] == sorted((r["sent_at"] for r in got), reverse=True)  # newest first
        assert conn.execute(select(func.count()).select_from(mt_message)).scalar_one() == len(HOSTILE)


def test_search_and_sort_together_on_received_messages(engine):
    mos = [mo_row(received_at=at(5, 10 + i), message=m, phone=f"+55219{9 - i:08d}")
           for i, m in enumerate(["Quero SIM", "sim, quero", "não", "Simone aqui", None])]
    insert(engine, mos=mos)
    filters, order = MoFilters(**NOVEMBER), TableOrder(sort="phone", descending=False, text="sim")
    expected = sorted((r for r in mos if r["message"] and "sim" in r["message"].lower()), key=lambda r: r["phone"])
    with engine.connect() as conn:
        assert count_rows(conn, filters, order) == len(expected) == 3
        got = [row for page in (1, 2) for row in sorted_page(conn, filters, MO_COLUMNS, order, page, 2, "en")]
    assert [r["message_id"] for r in got] == [r["message_id"] for r in expected]


def test_default_order_is_newest_first_and_unknown_columns_are_refused(engine):
    rows = [mt_row(sent_at=at(3 + i, 10)) for i in range(4)]
    insert(engine, rows)
    with engine.connect() as conn:
        got = sorted_page(conn, MtFilters(**NOVEMBER), MT_COLUMNS, TableOrder(), 1, 10, "en")
        assert [r["message_id"] for r in got] == [r["message_id"] for r in reversed(rows)]
        with pytest.raises(ValueError, match="unknown column 'message_id; DROP'"):
            sorted_page(conn, MtFilters(**NOVEMBER), MT_COLUMNS, TableOrder(sort="message_id; DROP"), 1, 10, "en")
