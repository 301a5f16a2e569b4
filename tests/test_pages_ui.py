"""The report pages' cards, detail table and period with AppTest, on the rows of tests/test_pages.py:
each rate card names what its fraction counts, the detail table's columns fit their text with the time
and the status pinned, and a half-picked period runs nothing new.
Expected figures are counted here from the rows (never by the product's queries)."""
import json
from datetime import date

from data_access.catalog import FAILURE_STATUSES
from data_access.i18n import label, t
from tests.test_pages import (  # noqa: F401
    MOS,
    MTS,
    NOVEMBER,
    _clean_settings,
    dataset,
    duck,
    expected,
    open_app,
    results,
    total_line,
)

# A lower bound of the table font's width of a character (its widest text, digits, is 7 px or more).
MIN_CHAR_PX = 6


def captions(app) -> list[str]:
    return [c.value for c in app.main.caption]


def test_each_rate_card_names_what_its_whole_counts(dataset):
    app = open_app(NOVEMBER)
    in_month = [r for r in MTS if expected([r], "sent_at")]
    sent = len(in_month)
    delivered = sum(1 for r in in_month if r["status"] in ("delivered", "read"))
    read = sum(1 for r in in_month if r["status"] == "read")
    failed = sum(1 for r in in_month if r["status"] in FAILURE_STATUSES)
    answered = {r["in_reply_to"] for r in MOS}
    replied = sum(1 for r in in_month if r["message_id"] in answered and r["status"] in ("delivered", "read"))
    assert (sent, delivered, read, failed, replied) == (9, 5, 3, 3, 4)
    assert [c for c in captions(app) if " de " in c and c[0].isdigit()] == [
        f"{delivered} de {sent} enviadas", f"{read} de {delivered} entregues", f"{failed} de {sent} enviadas",
        f"{replied} de {delivered} entregues",
    ]

    received = open_app(NOVEMBER, page="../pages/received.py")
    total = expected(MOS, "received_at")
    assert [c for c in captions(received) if c.endswith(" respostas")] == [
        f"{received.main.metric[1].value} de {total} respostas"]


def test_the_detail_table_fits_its_text_and_pins_the_time_and_the_status(dataset):
    app = open_app({**NOVEMBER, "lang": "pt-BR"})
    table = app.main.dataframe[-1]
    frame = table.value
    config = json.loads(table.proto.columns)
    chat = t("chat.open", "pt-BR")  # the link to the phone's conversation, drawn as an icon
    assert config[chat]["width"] == "small"
    widths = {name: config[name]["width"] for name in frame.columns if name != chat}
    for name in widths:
        longest = max(len(name), *(len(str(cell)) for cell in frame[name]))
        if name != "Mensagem enviada":
            assert widths[name] >= MIN_CHAR_PX * longest, (name, widths[name], longest)
    statuses = {label("status", r["status"], "pt-BR") for r in MTS}
    assert set(frame["Status"]) == statuses
    assert widths["Status"] >= MIN_CHAR_PX * max(len(s) for s in statuses)
    assert sorted(name for name in frame.columns if config[name].get("pinned")) == sorted(["Enviado", "Status", chat])
    # the message last: the seed's session, conversation and expiry columns come before it
    assert list(table.proto.column_order)[-5:] == [
        "Enviado com sessão", "ID da conversa", "Tipo de conversa", "Data de expiração da conversa",
        "Mensagem enviada"]


def test_a_half_picked_period_keeps_the_search_until_the_end_is_picked(dataset):
    app = open_app(NOVEMBER)
    everything = results(expected(MTS, "sent_at"))
    assert total_line(app) == everything
    app.sidebar.date_input[0].set_value((date(2026, 11, 12),)).run()
    assert total_line(app) == everything  # no one-day report from the first click
    assert app.query_params["from"] == "2026-11-01" and app.query_params["to"] == "2026-11-30"
    assert "Escolha também a data final." in [c.value for c in app.sidebar.caption]
    app.sidebar.date_input[0].set_value((date(2026, 11, 12), date(2026, 11, 20))).run()
    day_12_to_20 = expected(MTS, "sent_at", start=date(2026, 11, 12), end=date(2026, 11, 20))
    assert total_line(app) == results(day_12_to_20)
