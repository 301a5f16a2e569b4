"""The report pages declared beside the views (Chat MT + MO, Opt-out): paths, titles, clashes."""
import pytest

from data_access import views
from data_access.views import CHAT, OPT_OUT, PAGES, VIEWS, ReportPage, register_page


def test_the_report_pages_in_navigation_order():
    assert [(p.code, p.path, p.page) for p in PAGES.values()] == [
        ("chat", "chat", "pages/chat.py"), ("opt_out", "opt-out", "pages/opt_out.py"),
    ]
    assert [CHAT.title(lang) for lang in ("pt-BR", "en", "es")] == ["Chat (MT + MO)"] * 3
    assert [OPT_OUT.title(lang) for lang in ("pt-BR", "en", "es")] == [
        "Relatório de Opt-out", "Opt-out report", "Informe de opt-out",
    ]
    assert not {"chat", "opt_out"} & set(VIEWS)  # not views: the exports command and saved searches do not offer them


@pytest.mark.parametrize(
    ("code", "path"),
    [("mt", "elsewhere"), ("new", "sent"), ("chat", "new"), ("new", "opt-out")],
)
def test_register_page_refuses_a_clash(monkeypatch, code, path):
    monkeypatch.setattr(views, "PAGES", dict(PAGES))
    with pytest.raises(ValueError, match=f"a view or page with code '{code}' or path /{path} is already registered"):
        register_page(ReportPage(code, path, "page.chat", ":material/forum:", "pages/chat.py"))
    assert list(views.PAGES) == ["chat", "opt_out"]


def test_a_new_report_page_is_a_declaration(monkeypatch):
    monkeypatch.setattr(views, "PAGES", dict(PAGES))
    added = views.register_page(ReportPage("new", "new", "page.chat", ":material/forum:", "pages/chat.py"))
    assert list(views.PAGES) == ["chat", "opt_out", "new"] and views.PAGES["new"] is added
