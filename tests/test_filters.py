"""The filter value's three faces, table-driven over pure functions (no database needed)."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy.dialects import postgresql

from data_access.filters import FilterError, MoFilters, MtFilters, normalise_phone

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, {"date_from": date(2026, 11, 19), "date_to": TODAY}),
        ({"from": "2026-11-01", "to": "2026-11-03"}, {"date_from": date(2026, 11, 1), "date_to": date(2026, 11, 3)}),
        ({"from": "2026-11-24"}, {"date_from": date(2026, 11, 24), "date_to": TODAY}),
        ({"to": "2026-10-01"}, {"date_from": date(2026, 10, 1), "date_to": date(2026, 10, 1)}),
        ({"status": ["read", "sent", "read"]}, {"status": ("read", "sent")}),
        ({"status": "opt_out"}, {"status": ("opt_out",)}),
        ({"campaign": ["Black Friday", "  ", ""]}, {"campaign": ("Black Friday",)}),
        ({"phone": "+55 (11) 98765-4321"}, {"phone": "+5511987654321"}),
        ({"session": "closed"}, {"session": "closed"}),
        ({"conversation_type": "free_entry_point"}, {"conversation_type": "free_entry_point"}),
        ({"tz": "UTC"}, {"tz": "UTC"}),
    ],
)
def test_from_params(params, expected):
    filters = MtFilters.from_params(params, today=TODAY)
    for name, value in expected.items():
        assert getattr(filters, name) == value


@pytest.mark.parametrize(
    "params, message",
    [
        ({"status": "lida"}, "unknown status 'lida': accepted are sent, delivered, read"),
        ({"from": "25/11/2026"}, "bad date from='25/11/2026': use YYYY-MM-DD"),
        ({"from": "2026-11-05", "to": "2026-11-01"}, "--to 2026-11-01 is before --from 2026-11-05"),
        ({"session": "maybe"}, "unknown session 'maybe': accepted are open, closed"),
        ({"conversation_type": "marketing"}, "unknown conversation_type 'marketing'"),
        ({"content_type": "button"}, "unknown content_type 'button'"),
        ({"tz": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"phone": "abc"}, "phone 'abc' has no digits"),
    ],
)
def test_bad_values_name_the_value_and_what_is_accepted(params, message):
    with pytest.raises(FilterError) as error:
        MtFilters.from_params(params, today=TODAY)
    assert message in str(error.value)


def test_url_round_trip_reproduces_the_search():
    filters = MtFilters.from_params(
        {"from": "2026-11-01", "to": "2026-11-07", "status": ["read", "opt_out"], "campaign": ["Natal 🎄"],
         "phone": "+5511", "session": "open", "tz": "America/Manaus", "correlation_id": "pedido-1"},
        today=TODAY,
    )
    again = MtFilters.from_params(filters.to_params(), today=date(2030, 1, 1))
    assert again == filters
    assert hash(again) == hash(filters)  # usable as a cache key


def test_mo_filters_accept_buttons_and_mo_content_types():
    filters = MoFilters.from_params({"button": ["Sim, quero", "Não"], "content_type": "button"}, today=TODAY)
    assert filters.button == ("Sim, quero", "Não")
    assert filters.to_params()["button"] == ["Sim, quero", "Não"]


def test_utc_bounds_cover_local_calendar_days():
    filters = MtFilters(date_from=date(2026, 11, 1), date_to=date(2026, 11, 2), tz="America/Sao_Paulo")
    assert filters.utc_bounds() == (
        datetime(2026, 11, 1, 3, tzinfo=timezone.utc),
        datetime(2026, 11, 3, 3, tzinfo=timezone.utc),
    )


def test_where_binds_every_value():
    hostile = "x'); DROP TABLE mt_message; --"
    filters = MtFilters(date_from=TODAY, date_to=TODAY, campaign=(hostile,), correlation_id=hostile)
    compiled = filters.where().compile(dialect=postgresql.dialect())
    assert "DROP TABLE" not in str(compiled)
    assert hostile in compiled.params.values()


@pytest.mark.parametrize(
    "lang, expected",
    [
        ("pt-BR", [("Período", "01/11/2026 – 07/11/2026"), ("Status", "Lida, Não entregue por opt-out"),
                   ("Enviado com sessão", "Aberta"), ("Fuso horário", "America/Sao_Paulo")]),
        ("en", [("Period", "2026-11-01 – 2026-11-07"), ("Status", "Read, Not delivered (opt-out)"),
                ("Sent with session", "Open"), ("Time zone", "America/Sao_Paulo")]),
        ("es", [("Período", "01/11/2026 – 07/11/2026"), ("Estado", "Leído, No entregado por opt-out"),
                ("Enviado con sesión", "Abierta"), ("Zona horaria", "America/Sao_Paulo")]),
    ],
)
def test_describe_in_each_language(lang, expected):
    filters = MtFilters(date_from=date(2026, 11, 1), date_to=date(2026, 11, 7), status=("read", "opt_out"), session="open")
    assert sorted(filters.describe(lang)) == sorted(expected)


@pytest.mark.parametrize("text, expected", [("+5511987654321", "+5511987654321"), ("55 11", "+5511"), ("+1-650", "+1650")])
def test_normalise_phone(text, expected):
    assert normalise_phone(text) == expected
