"""The detail table on the page (AppTest, both engines): sorting by a column orders every row of the
search (page 2 continues page 1), the search box keeps only messages holding the text (wildcards and
Markdown typed in it are plain text), and the pager and the row count follow."""
from data_access.i18n import label
from tests.factories import at, insert, mt_row
from tests.test_pages import NOVEMBER, _clean_settings, open_app  # noqa: F401 (fixture)

STATUSES = ["read", "delivered", "opt_out", "sent", "undelivered", "invalid_number", "tier_limit", "internal_error"]


def rows() -> list[dict]:
    return [
        mt_row(message_id=f"wamid.t{i:02d}", sent_at=at(3 + i % 20, 12, i), status=STATUSES[i % len(STATUSES)],
               phone=f"+5511{(37 * i) % 100:09d}", campaign=f"Campanha {(i * 7) % 30:02d}",
               message=["Oferta 100% grátis", "oferta_relâmpago", "Olá **negrito**", "nada"][i % 4])
        for i in range(30)
    ]


def table(app):
    return app.main.dataframe[-1].value


def test_sorting_covers_every_row_and_the_search_narrows_them(engine, db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    made = rows()
    insert(engine, made)
    app = open_app({**NOVEMBER, "lang": "en"})
    assert app.selectbox(key="mt.sort").value is None  # newest first until a column is chosen

    app.selectbox(key="mt.sort").set_value("phone").run()
    by_phone = sorted(r["phone"] for r in made)
    assert list(table(app)["Phone"]) == by_phone[:25]
    app.get("pagination")[0].set_value(2).run()
    assert list(table(app)["Phone"]) == by_phone[25:]

    app.toggle(key="mt.sort_desc").set_value(True).run()
    assert list(table(app)["Phone"]) == sorted(by_phone, reverse=True)[:25]  # a new order starts at page 1

    app.selectbox(key="mt.sort").set_value("status").run()
    words = sorted((label("status", r["status"], "en") for r in made), reverse=True)
    assert list(table(app)["Status"]) == words[:25]

    app.text_input(key="mt.search").input("100%").run()
    matching = [r for r in made if "100%" in r["message"]]
    assert len(matching) == 8
    shown = table(app)
    assert list(shown["Message sent"]) == [r["message"] for r in matching]
    assert sorted(shown["Status"], reverse=True) == list(shown["Status"])
    captions = [c.value for c in app.main.caption]
    assert "8 rows with `100%` in the message" in captions
    assert "Rows 1–8 of 8" in captions

    app.text_input(key="mt.search").input("_rel").run()
    assert list(table(app)["Message sent"]) == [r["message"] for r in made if "_rel" in r["message"]]
    app.text_input(key="mt.search").input("**negrito**").run()
    bold = sum("**negrito**" in r["message"] for r in made)
    assert bold == 7 and f"{bold} rows with `**negrito**` in the message" in [c.value for c in app.main.caption]
    app.text_input(key="mt.search").input("%_%").run()
    assert len(table(app)) == 0
    assert "0 rows with `%_%` in the message" in [c.value for c in app.main.caption]


def test_two_sessions_on_one_search_share_one_drawn_page_of_the_newest_rows(engine, db_url, monkeypatch):
    """The detail table's page is turned into display text once per search page, for every session:
    a second session showing the same search draws the same table without building it again."""
    from pages import widgets

    monkeypatch.setenv("DATABASE_URL", db_url)
    made = rows()
    insert(engine, made)
    built = []
    real = widgets.drawn_page
    monkeypatch.setattr(widgets, "drawn_page", lambda *args: built.append(args[2:]) or real(*args))
    first, second = open_app({**NOVEMBER, "lang": "en"}), open_app({**NOVEMBER, "lang": "en"})
    newest = sorted(made, key=lambda r: (r["sent_at"], r["message_id"]), reverse=True)[:25]
    for app in (first, second):
        shown = table(app)
        assert list(shown["Phone"]) == [r["phone"] for r in newest]
        assert list(shown["Status"]) == [label("status", r["status"], "en") for r in newest]
        assert list(shown["Message sent"]) == [r["message"] for r in newest]
        assert list(shown[shown.columns[0]]) == [  # the chat links, first
            "chat?phone=%2B" + r["phone"][1:] + "&lang=en&tz=America%2FSao_Paulo" for r in newest]
    assert built == [("en", "America/Sao_Paulo", False)]  # once, for both sessions
