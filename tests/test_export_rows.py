"""The export row stream on both engines, and the data every export test shares.

The search `NOV10_11` (10 and 11 November 2026 in America/Sao_Paulo, UTC-3) holds m1..m4; m5 and m6
fall just outside it locally (m6 is inside it in UTC). Texts carry accents, emoji and hostile values
(formulas, markup, SQL) that every format must keep inert and intact.
"""
from datetime import date, datetime, timezone

import pyarrow as pa
import pytest

from data_access.columns import MO_COLUMNS, MT_COLUMNS
from data_access.filters import MoFilters, MtFilters
from data_access.views import view, view_of
from exports.rows import detail_schema, fetch_batches, localise
from tests.factories import insert, mo_row, mt_row

UTC = timezone.utc
NOV10_11 = MtFilters(date_from=date(2026, 11, 10), date_to=date(2026, 11, 11))
MO_NOV10_11 = MoFilters(date_from=date(2026, 11, 10), date_to=date(2026, 11, 11))

SQL_TEXT = "'; DROP TABLE mt_message; --"
HYPERLINK = '=HYPERLINK("http://evil.example","clique")'
RICH_XML = "<r><t>rich</t></r>"

M1 = mt_row(
    message_id="wamid.A1", sent_at=datetime(2026, 11, 10, 3, 0, 0, tzinfo=UTC),  # 00:00:00 local, 10th
    status="read", phone="+5511900000001", wa_user_id="5511900000001", campaign="Black Friday",
    user_name="ana.souza", message="Olá João! Ofertas de até 70% 🎉", sent_with_session=True,
    conversation_id="conv-1", conversation_type="business_initiated",
    conversation_expires_at=datetime(2026, 11, 11, 3, 0, 0, tzinfo=UTC), subaccount="Varejo",
    correlation_id=HYPERLINK,
)
M2 = mt_row(
    message_id="wamid.A2", sent_at=datetime(2026, 11, 10, 15, 30, 45, tzinfo=UTC),  # 12:30:45 local
    status="undelivered", error_code="131049", error_title="Not delivered", phone="+5511900000002",
    wa_user_id="5511900000002", campaign="-10% off", user_name="@admin", message="+SUM(1,2)",
    subaccount="Atacado", correlation_id="\tTAB",
)
M3 = mt_row(
    message_id="wamid.A3", sent_at=datetime(2026, 11, 12, 2, 59, 59, tzinfo=UTC),  # 23:59:59 local, 11th
    status="sent", phone="+5511900000003", wa_user_id="5511900000003", campaign=SQL_TEXT,
    user_name="maria.conceição", content_type="text", message="<script>alert('x')</script>",
)
M4 = mt_row(
    message_id="wamid.A4", sent_at=datetime(2026, 11, 11, 10, 0, 0, tzinfo=UTC),  # 07:00:00 local, 11th
    status="delivered", phone="+5511900000004", wa_user_id="5511900000004", campaign="Natal",
    message=RICH_XML, correlation_id="",
)
M5 = mt_row(message_id="wamid.A5", sent_at=datetime(2026, 11, 12, 3, 0, 0, tzinfo=UTC))  # 00:00 local, 12th
M6 = mt_row(message_id="wamid.A6", sent_at=datetime(2026, 11, 10, 2, 59, 59, tzinfo=UTC))  # 23:59 local, 9th
MTS = [M1, M2, M3, M4, M5, M6]
NEWEST_FIRST = ["wamid.A3", "wamid.A4", "wamid.A2", "wamid.A1"]

R1 = mo_row(
    message_id="wamid.R1", received_at=datetime(2026, 11, 10, 4, 0, 0, tzinfo=UTC), phone="+5511900000001",
    wa_user_id="5511900000001", profile_name="=cmd|' /C calc'!A0", in_reply_to="wamid.A1",
    content_type="button", message="Sim, quero 👍", button_payload="SIM", button_text="Sim, quero 👍",
    campaign="Black Friday", subaccount="Varejo", user_name="ana.souza",
)
R2 = mo_row(
    message_id="wamid.R2", received_at=datetime(2026, 11, 11, 20, 15, 0, tzinfo=UTC), phone="+5511900000009",
    wa_user_id="5511900000009", profile_name="Conceição", message="Quero saber mais 😀\nAinda hoje?",
)
R3 = mo_row(message_id="wamid.R3", received_at=datetime(2026, 11, 13, 12, 0, 0, tzinfo=UTC))
MOS = [R1, R2, R3]


@pytest.fixture
def data(engine):
    """The engine holding MTS and MOS."""
    insert(engine, MTS, MOS)
    return engine


def fetched(engine, filters, limit=None, page_rows=None) -> pa.Table:
    with engine.connect() as conn:
        batches = list(fetch_batches(conn, filters, limit, page_rows))
    return pa.Table.from_batches(batches, schema=detail_schema(view_of(filters)))


def test_fetch_gives_every_column_newest_first_in_utc(data):
    table = fetched(data, NOV10_11)
    assert table.schema == detail_schema(view("mt"))
    assert table.column_names == [c.key for c in MT_COLUMNS]
    assert table.column("message_id").to_pylist() == NEWEST_FIRST
    rows = {r["message_id"]: r for r in table.to_pylist()}
    assert rows["wamid.A2"]["sent_at"] == M2["sent_at"]
    assert rows["wamid.A2"]["error"] == "131049: Not delivered"
    assert rows["wamid.A1"]["conversation_expires_at"] == M1["conversation_expires_at"]
    assert rows["wamid.A1"]["sent_with_session"] is True
    assert rows["wamid.A1"]["correlation_id"] == HYPERLINK
    assert rows["wamid.A4"]["correlation_id"] == ""  # an empty text is not NULL
    assert rows["wamid.A3"]["correlation_id"] is None
    assert rows["wamid.A3"]["campaign"] == SQL_TEXT


def test_fetch_keeps_quotes_commas_backslashes_and_line_breaks(engine):
    text = 'a "quoted", back\\slash\nnew line\r\nand 😀'
    insert(engine, [mt_row(message_id="q", sent_at=M1["sent_at"], message=text, user_name="x,y")])
    row = fetched(engine, NOV10_11).to_pylist()[0]
    assert (row["message"], row["user_name"]) == (text, "x,y")


def test_fetch_limit_and_filter_values_are_bound(data):
    assert fetched(data, NOV10_11, limit=2).column("message_id").to_pylist() == NEWEST_FIRST[:2]
    hostile = fetched(data, NOV10_11.replace(campaign=(SQL_TEXT, "Natal")))
    assert sorted(hostile.column("message_id").to_pylist()) == ["wamid.A3", "wamid.A4"]
    assert fetched(data, NOV10_11.replace(phone="+5511900000002")).column("message_id").to_pylist() == ["wamid.A2"]
    assert fetched(data, NOV10_11).num_rows == 4  # the table is still there


@pytest.mark.parametrize("page_rows, limit", [(1, None), (2, None), (3, None), (7, None), (2, 5), (4, 3), (None, 6)])
def test_paged_fetch_gives_the_same_rows_in_the_same_order(engine, page_rows, limit):
    ties = [mt_row(message_id=f"wamid.T{i}", sent_at=M2["sent_at"]) for i in range(3)]  # same instant as A2
    insert(engine, MTS + ties)
    newest_first = ["wamid.A3", "wamid.A4", "wamid.T2", "wamid.T1", "wamid.T0", "wamid.A2", "wamid.A1"]
    sent = {row["message_id"]: row["sent_at"] for row in MTS + ties}
    table = fetched(engine, NOV10_11, limit, page_rows)
    assert table.column("message_id").to_pylist() == newest_first[:limit]
    assert table.column("sent_at").to_pylist() == [sent[i] for i in newest_first[:limit]]


def test_fetch_of_an_empty_search_gives_no_batch(data):
    with data.connect() as conn:
        assert list(fetch_batches(conn, NOV10_11.replace(status=("tier_limit",)))) == []


def test_localise_labels_codes_and_moves_timestamps_to_the_zone(data):
    table = fetched(data, NOV10_11)
    local = localise(table.to_batches()[0], view("mt"), "es", "America/Sao_Paulo").to_pylist()
    by_id = {r["message_id"]: r for r in local}
    assert [by_id[i]["status"] for i in NEWEST_FIRST] == ["Enviado", "Entregado", "No entregado", "Leído"]
    assert by_id["wamid.A3"]["content_type"] == "Texto"
    assert by_id["wamid.A1"]["conversation_type"] == "Business Initiated"
    assert [by_id[i]["sent_with_session"] for i in ("wamid.A1", "wamid.A2")] == ["Sí", "No"]
    sent = by_id["wamid.A2"]["sent_at"]
    assert (sent.isoformat(), str(sent.tzinfo)) == ("2026-11-10T12:30:45-03:00", "America/Sao_Paulo")


def test_mo_fetch(data):
    table = fetched(data, MO_NOV10_11)
    assert table.column_names == [c.key for c in MO_COLUMNS]
    assert table.column("message_id").to_pylist() == ["wamid.R2", "wamid.R1"]
    assert table.to_pylist()[1]["button_payload"] == "SIM"
