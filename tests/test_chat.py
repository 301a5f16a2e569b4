"""Chat (MT + MO): one contact's timeline, on both engines.

The contact's messages span two years, two subaccounts, an MO known only through the business number
it was sent to, and hostile text. The expected timeline is the test's own rows sorted by time.
"""
import pytest
import sqlalchemy as sa

from data_access.accounts import set_business_number
from data_access.chat import chat_page, chat_summary, contact_phone
from data_access.filters import FilterError
from data_access.schema import mo_message, mt_message
from data_access.scope import Scope
from tests.factories import at, insert, mo_row, mt_row

PHONE = "+5511987650001"
HOSTILE = "'); DROP TABLE mt_message; -- <script>alert(1)</script> <b>negrito</b> 🎉 =HYPERLINK(\"http://x\",\"y\")"
MAPPED_NUMBER = "5511400000000"

MTS = [
    mt_row(message_id="wamid.C1", phone=PHONE, sent_at=at(3, 12, month=12).replace(year=2025), subaccount="Varejo",
           campaign="Natal 2025", status="read"),
    mt_row(message_id="wamid.C2", phone=PHONE, sent_at=at(10, 12), subaccount="Atacado", campaign="Atacadao",
           status="delivered", message=HOSTILE),
    mt_row(message_id="wamid.C3", phone=PHONE, sent_at=at(20, 9), subaccount="Varejo", campaign="Black Friday",
           status="invalid_session", error_code="131047", error_title="Re-engagement message"),
    # Not the contact: a longer number that starts with the contact's, and another number.
    mt_row(message_id="wamid.X1", phone=PHONE + "9", sent_at=at(10, 12)),
    mt_row(message_id="wamid.X2", phone="+5511987650002", sent_at=at(10, 12)),
]
MOS = [
    mo_row(message_id="wamid.R1", phone=PHONE, received_at=at(3, 13, month=12).replace(year=2025),
           subaccount="Varejo", campaign="Natal 2025", in_reply_to="wamid.C1", content_type="button",
           button_payload="sim", button_text="Sim 👍", message="Sim 👍"),
    # The same instant as wamid.C2: the MT comes first.
    mo_row(message_id="wamid.R0", phone=PHONE, received_at=at(10, 12), business_number=MAPPED_NUMBER,
           message=HOSTILE),
    mo_row(message_id="wamid.R2", phone=PHONE, received_at=at(20, 10), business_number="5599000000000",
           message="quem é?"),
    mo_row(message_id="wamid.X3", phone="+5511987650002", received_at=at(10, 13)),
]
# The whole timeline, oldest first.
ORDER = ["wamid.C1", "wamid.R1", "wamid.C2", "wamid.R0", "wamid.C3", "wamid.R2"]


@pytest.fixture
def chat_engine(engine):
    insert(engine, MTS, MOS)
    set_business_number(engine, MAPPED_NUMBER, "Atacado")
    return engine


def _ids(engine, scope=Scope.ALL, page=1, size=50) -> list[str]:
    with engine.connect() as conn:
        return [m.message_id for m in chat_page(conn, PHONE, page, size, scope)]


def test_the_timeline_interleaves_mts_and_mos_across_all_dates(chat_engine):
    with chat_engine.connect() as conn:
        summary = chat_summary(conn, PHONE)
        messages = chat_page(conn, PHONE, 1, 50)
    assert (summary.sent, summary.received, summary.total) == (3, 3, 6)
    assert summary.first_at == at(3, 12, month=12).replace(year=2025)
    assert summary.last_at == at(20, 10)
    assert [m.message_id for m in messages] == ORDER
    assert [m.direction for m in messages] == ["mt", "mo", "mt", "mo", "mt", "mo"]
    first, reply, hostile_mt, hostile_mo, failed, last = messages
    assert (first.status, first.campaign, first.subaccount) == ("read", "Natal 2025", "Varejo")
    assert (reply.button_text, reply.in_reply_to, reply.status) == ("Sim 👍", "wamid.C1", None)
    assert hostile_mt.message == HOSTILE and hostile_mo.message == HOSTILE
    assert (failed.status, failed.error) == ("invalid_session", "131047: Re-engagement message")
    assert (last.message, last.subaccount, last.content_type) == ("quem é?", None, "text")
    # The hostile text stayed text: every table and row is still there.
    with chat_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(mt_message)).scalar_one() == len(MTS)
        assert conn.execute(sa.select(sa.func.count()).select_from(mo_message)).scalar_one() == len(MOS)


def test_pages_come_from_the_database_in_order(chat_engine):
    pages = [_ids(chat_engine, page=n, size=4) for n in (1, 2, 3)]
    assert pages == [ORDER[:4], ORDER[4:], []]
    assert [_ids(chat_engine, page=n, size=2) for n in (1, 2, 3)] == [ORDER[0:2], ORDER[2:4], ORDER[4:6]]


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (Scope(subaccounts=("Varejo",)), ["wamid.C1", "wamid.R1", "wamid.C3"]),
        # The unattributed MO sent to the number Atacado owns belongs to Atacado.
        (Scope(subaccounts=("Atacado",)), ["wamid.C2", "wamid.R0"]),
        (Scope(subaccounts=("Varejo", "Atacado")), ["wamid.C1", "wamid.R1", "wamid.C2", "wamid.R0", "wamid.C3"]),
        (Scope(subaccounts=("Outra",)), []),
        (Scope(), []),
    ],
)
def test_a_scoped_account_sees_only_its_subaccounts_messages(chat_engine, scope, expected):
    assert _ids(chat_engine, scope) == expected
    with chat_engine.connect() as conn:
        summary = chat_summary(conn, PHONE, scope)
    assert (summary.sent, summary.received) == (
        sum(i.startswith("wamid.C") for i in expected), sum(i.startswith("wamid.R") for i in expected)
    )


def test_a_contact_with_no_messages_has_an_empty_chat(chat_engine):
    with chat_engine.connect() as conn:
        summary = chat_summary(conn, "+5511900000000")
        assert chat_page(conn, "+5511900000000", 1) == ()
        # Hostile text as the phone is a bound value: no row, no error.
        assert chat_page(conn, HOSTILE, 1) == ()
    assert (summary.total, summary.first_at, summary.last_at) == (0, None, None)


@pytest.mark.parametrize(
    ("text", "phone"),
    [("+5511987650001", PHONE), ("55 (11) 98765-0001", PHONE), (" +1 202 555 0123 ", "+12025550123")],
)
def test_contact_phone_normalises_a_whole_number(text, phone):
    assert contact_phone(text) == phone


@pytest.mark.parametrize("text", ["", "abc", "+5511", "1234567", "+1234567890123456", "<script>"])
def test_contact_phone_refuses_what_is_not_a_whole_number(text):
    with pytest.raises(FilterError) as caught:
        contact_phone(text)
    assert (caught.value.param, caught.value.value) == ("phone", text)
