"""The Chat (MT + MO) page driven with AppTest against a real database: the timeline of the test's
own rows in three languages, hostile text shown literally, paging, a scoped account, a typed phone."""

import pytest
from streamlit.testing.v1 import AppTest

from data_access import accounts
from tests.factories import at, insert, mo_row, mt_row
from tests.test_chat import HOSTILE, MAPPED_NUMBER, MOS, MTS, PHONE
from tests.test_pages import APP, _clean_settings  # noqa: F401 (autouse fixture: no REPORT_* settings, caches emptied)
from tests.test_pages_saved_accounts import signed_in_on

CHAT = "../pages/chat.py"
WORDS = {
    "pt-BR": {"title": "Chat com", "counts": "3 enviadas · 3 recebidas", "you": "Empresa", "contact": "Contato",
              "template": "Template", "text": "Texto", "button": "Botão (resposta rápida)", "clicked": "Botão",
              "read": "Lida", "delivered": "Entregue", "invalid_session": "Sessão inválida",
              "span": "A conversa inteira, de 03/12/2025 09:00:00 a 20/11/2026 07:00:00, em todas as datas: "
                      "o período dos relatórios não se aplica.",
              "rows": "Linhas 1–6 de 6", "dates": ("03/12/2025 09:00:00", "03/12/2025 10:00:00", "10/11/2026 09:00:00",
                                                   "20/11/2026 06:00:00", "20/11/2026 07:00:00")},
    "en": {"title": "Chat with", "counts": "3 sent · 3 received", "you": "Business", "contact": "Contact",
           "template": "Template", "text": "Text", "button": "Button (quick reply)", "clicked": "Button",
           "read": "Read", "delivered": "Delivered", "invalid_session": "Invalid session",
           "span": "The whole conversation, from 2025-12-03 09:00:00 to 2026-11-20 07:00:00, on every date: "
                   "the reports' period does not apply.",
           "rows": "Rows 1–6 of 6", "dates": ("2025-12-03 09:00:00", "2025-12-03 10:00:00", "2026-11-10 09:00:00",
                                              "2026-11-20 06:00:00", "2026-11-20 07:00:00")},
    "es": {"title": "Chat con", "counts": "3 enviados · 3 recibidos", "you": "Empresa", "contact": "Contacto",
           "template": "Plantilla", "text": "Texto", "button": "Botón (respuesta rápida)", "clicked": "Botón",
           "read": "Leído", "delivered": "Entregado", "invalid_session": "Sesión inválida",
           "span": "La conversación entera, de 03/12/2025 09:00:00 a 20/11/2026 07:00:00, en todas las fechas: "
                   "el período de los informes no se aplica.",
           "rows": "Filas 1–6 de 6", "dates": ("03/12/2025 09:00:00", "03/12/2025 10:00:00", "10/11/2026 09:00:00",
                                               "20/11/2026 06:00:00", "20/11/2026 07:00:00")},
}


@pytest.fixture
def chat_db(engine, db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    insert(engine, MTS, MOS)
    accounts.set_business_number(engine, MAPPED_NUMBER, "Atacado")
    return engine


def open_chat(params: dict[str, str]) -> AppTest:
    """The router's first run (the Sent page), then the Chat page with the link's parameters."""
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update({"lang": params["lang"]})
    app.run()
    app.switch_page(CHAT)
    app.query_params.clear()
    app.query_params.update(params)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def captions(app: AppTest) -> list[str]:
    return [c.value for c in app.main.caption]


@pytest.mark.parametrize("lang", ["pt-BR", "en", "es"])
def test_the_timeline_in_three_languages(chat_db, lang):
    w = WORDS[lang]
    app = open_chat({"phone": PHONE, "lang": lang})
    d = w["dates"]
    assert [h.value for h in app.main.header] == [f"{w['title']} {PHONE}"]
    assert captions(app)[1:] == [
        w["counts"],
        w["span"],
        f"**{w['you']}** · {d[0]} · {w['template']} · :blue[✓✓] {w['read']} · `Natal 2025`",
        f"**{w['contact']}** · {d[1]} · {w['button']} · {w['clicked']}: `Sim 👍`",
        f"**{w['you']}** · {d[2]} · {w['template']} · ✓✓ {w['delivered']} · `Atacadao`",
        f"**{w['contact']}** · {d[2]} · {w['text']}",
        f"**{w['you']}** · {d[3]} · {w['template']} · :red[✗] {w['invalid_session']} · `Black Friday`",
        "`131047: Re-engagement message`",
        f"**{w['contact']}** · {d[4]} · {w['text']}",
        w["rows"],
    ]
    # Message text as typed: the hostile one is plain text, not Markdown or HTML.
    assert [x.value for x in app.main.text] == [
        MTS[0]["message"], "Sim 👍", HOSTILE, HOSTILE, MTS[2]["message"], "quem é?"
    ]
    assert [m.name for m in app.get("chat_message")] == ["assistant", "user"] * 3
    assert app.query_params == {"lang": lang, "tz": "America/Sao_Paulo", "phone": PHONE}


def test_a_scoped_account_sees_only_its_subaccounts_messages(chat_db):
    accounts.add_account(chat_db, "bia@example.com", "analyst", subaccounts=("Atacado",), password="a long password")
    app = signed_in_on(CHAT, "chat", "bia@example.com", {"phone": PHONE, "lang": "en"})
    assert captions(app)[0] == "1 sent · 1 received"
    assert [x.value for x in app.main.text] == [HOSTILE, HOSTILE]  # wamid.C2 and the MO to Atacado's number


def test_typing_a_phone_opens_its_chat_and_a_bad_one_is_said(chat_db):
    app = open_chat({"lang": "en"})
    assert [i.value for i in app.main.info] == [
        "Type a phone number, or click a phone in the Sent and Received tables, to see the conversation."
    ]
    app.text_input(key="chat.phone").input("+55 (11) 98765-0001").run()
    assert [h.value for h in app.main.header] == [f"Chat with {PHONE}"]
    assert app.query_params["phone"] == PHONE
    app.text_input(key="chat.phone").input("12345").run()
    assert [w.value for w in app.main.warning] == [
        "Invalid phone: `12345`. Use 8 to 15 digits, for example +5511987654321."
    ]
    assert "phone" not in app.query_params and not app.main.header
    app.text_input(key="chat.phone").input("+5511900000000").run()
    assert [i.value for i in app.main.info] == ["No messages with this phone."]


def test_a_long_conversation_opens_on_its_newest_page(chat_db):
    phone = "+5511955550000"
    mts = [mt_row(message_id=f"wamid.L{i:03d}", phone=phone, sent_at=at(1 + i // 24, i % 24), message=f"MT {i}")
           for i in range(70)]
    mos = [mo_row(message_id=f"wamid.M{i:03d}", phone=phone, received_at=at(1 + i // 24, i % 24, 30),
                  message=f"MO {i}") for i in range(50)]
    insert(chat_db, mts, mos)
    # Oldest first: MT i then MO i (at :30) for i < 50, then MT 50..69.
    order = [text for i in range(50) for text in (f"MT {i}", f"MO {i}")] + [f"MT {i}" for i in range(50, 70)]
    app = open_chat({"phone": phone, "lang": "en"})
    assert captions(app)[1] == "70 sent · 50 received"
    assert [x.value for x in app.main.text] == order[100:]
    assert captions(app)[-1] == "Rows 101–120 of 120"
    pager = app.get("pagination")[0]
    assert (pager.num_pages, pager.value) == (3, 3)
    pager.set_value(1).run()
    assert [x.value for x in app.main.text] == order[:50]
    assert captions(app)[-1] == "Rows 1–50 of 120"
