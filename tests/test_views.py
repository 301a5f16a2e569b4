"""The view registry: declarations, lookups, and what the machinery derives from them (the `exports`
command's options, a third view added by a declaration only)."""
from dataclasses import dataclass, replace
from datetime import date
from typing import ClassVar

import pytest

from data_access import views
from data_access.columns import MO_COLUMNS
from data_access.filters import Field, MoFilters, MtFilters
from data_access.views import RECEIVED, SENT, VIEWS, register, view, view_of
from exports.__main__ import build_parser


def test_the_views_in_navigation_order():
    assert [(v.code, v.path, v.title("en"), v.page) for v in VIEWS.values()] == [
        ("mt", "sent", "Sent (MT)", "pages/sent.py"),
        ("mo", "received", "Received (MO)", "pages/received.py"),
        ("mc", "consolidated", "Consolidated", "pages/consolidated.py"),
    ]
    assert view("mt") is SENT and view_of(MoFilters.default("UTC")) is RECEIVED and view_of(MtFilters) is SENT
    assert SENT.table.name == "mt_message" and RECEIVED.table.name == "mo_message"
    assert RECEIVED.headers("en", include_extra=False) == [
        "Replied", "Origin", "WhatsApp user ID", "Campaign", "User", "Content type", "Message received",
    ]
    assert RECEIVED.file_stem("pt-BR") == "relatorio-recebidas"


def test_an_unknown_code_names_the_views():
    with pytest.raises(KeyError, match="no view 'chat': the views are mt, mo, mc"):
        view("chat")


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"code": "mt", "path": "elsewhere"}, "a view with code 'mt' or path /elsewhere is already registered"),
        ({"code": "new", "path": "sent"}, "a view with code 'new' or path /sent is already registered"),
        ({"code": "new", "path": "new"}, "MoFilters.view is 'mo', not 'new'"),
    ],
)
def test_register_refuses_a_clash(changes, message):
    with pytest.raises(ValueError, match=message):
        register(replace(RECEIVED, **changes))
    assert list(VIEWS) == ["mt", "mo", "mc"]


def test_the_commands_filter_options_are_the_fields_of_every_view():
    parser = build_parser()
    options = {o for action in parser._actions for o in action.option_strings}
    fields = {f"--{f.param.replace('_', '-')}" for v in VIEWS.values() for f in v.filters.FIELDS.values()}
    assert fields <= options
    assert options - fields == {"-h", "--help", "--view", "--format", "-o", "--output", "--db", "--lang", "--tz",
                                "--from", "--to", "--saved", "--as", "--group-by"}
    repeated = {a.option_strings[0] for a in parser._actions if a.option_strings and a.nargs is None
                and type(a).__name__ == "_AppendAction"}
    assert repeated == {"--subaccount", "--user", "--campaign", "--content-type", "--status", "--button"}


@dataclass(frozen=True)
class StopWordFilters(MoFilters):
    """A third view's search: received messages, one more field."""

    word: str | None = None

    view: ClassVar[str] = "optout"
    FIELDS: ClassVar[dict[str, Field]] = {
        **MoFilters.FIELDS,
        "word": Field("word", "message", "eq", "text", "filter.phone"),
    }


def test_a_third_view_is_a_declaration(monkeypatch, tmp_path):
    monkeypatch.setattr(views, "VIEWS", dict(VIEWS))
    monkeypatch.setattr("exports.__main__.VIEWS", views.VIEWS)
    third = views.register(replace(RECEIVED, code="optout", path="opt-out", filters=StopWordFilters, columns=MO_COLUMNS))
    search = StopWordFilters(date_from=date(2026, 11, 1), date_to=date(2026, 11, 1), word="SAIR")
    assert views.view_of(search) is third
    args = build_parser().parse_args(["--view", "optout", "--format", "csv", "-o", str(tmp_path / "x.csv"), "--word", "SAIR"])
    assert (args.view, args.word) == ("optout", "SAIR")
    assert "--view optout only" in next(a.help for a in build_parser()._actions if "--word" in a.option_strings)
