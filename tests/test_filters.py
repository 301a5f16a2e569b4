"""The filter value's three faces, table-driven over pure functions; each field's SQL on both engines."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql

from data_access.filters import FilterError, MoFilters, MtFilters, normalise_phone
from data_access.views import VIEWS

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


# -- refusals carry their field; one bad value costs only itself ---------------------------------


@pytest.mark.parametrize(
    "params, field, message",
    [
        ({"to": "9999-12-31"}, ("to", "9999-12-31", "range"),
         "--to 9999-12-31 is outside the days the report covers: use a day from 2000-01-01 to 2100-12-31"),
        ({"from": "0001-01-01", "tz": "Asia/Tokyo"}, ("from", "0001-01-01", "range"),
         "--from 0001-01-01 is outside the days the report covers: use a day from 2000-01-01 to 2100-12-31"),
        ({"from": "1999-12-31", "to": "2000-01-01"}, ("from", "1999-12-31", "range"), "--from 1999-12-31 is outside"),
        ({"from": "2101-01-01"}, ("from", "2101-01-01", "range"), "--from 2101-01-01 is outside"),
        ({"from": "2026-11-05", "to": "2026-11-01"}, ("to", "2026-11-01", "order"), "--to 2026-11-01 is before"),
        ({"status": ["read", "lida"]}, ("status", "lida", "value"), "unknown status 'lida'"),
        ({"from": "25/11/2026"}, ("from", "25/11/2026", "value"), "bad date from='25/11/2026'"),
        ({"phone": "abc"}, ("phone", "abc", "value"), "phone 'abc' has no digits"),
        ({"tz": "Mars/Olympus"}, ("tz", "Mars/Olympus", "value"), "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_a_refusal_names_its_field_value_and_problem(params, field, message):
    with pytest.raises(FilterError) as error:
        MtFilters.from_params(params, today=TODAY)
    assert (error.value.param, error.value.value, error.value.problem) == field
    assert str(error.value).startswith(message)


@pytest.mark.parametrize(
    "tz, start, end",
    [
        ("Asia/Tokyo", datetime(1999, 12, 31, 15), datetime(2100, 12, 31, 15)),  # +09:00
        ("Pacific/Kiritimati", datetime(1999, 12, 31, 10), datetime(2100, 12, 31, 10)),  # +14:00
        ("Etc/GMT+12", datetime(2000, 1, 1, 12), datetime(2101, 1, 1, 12)),  # -12:00
        ("America/Sao_Paulo", datetime(2000, 1, 1, 2), datetime(2101, 1, 1, 3)),  # summer time in 2000
    ],
)
def test_the_first_and_last_days_are_accepted_in_any_zone(tz, start, end):
    filters = MtFilters.from_params({"from": "2000-01-01", "to": "2100-12-31", "tz": tz}, today=TODAY)
    assert filters.utc_bounds() == (start.replace(tzinfo=timezone.utc), end.replace(tzinfo=timezone.utc))


def test_a_link_keeps_every_valid_value_and_drops_only_the_bad_ones():
    search, refused = MtFilters.from_link(
        {"from": "2026-11-01", "to": "2026-11-10", "campaign": "Boas-vindas", "status": ["bogus", "read", "lida"],
         "session": "maybe", "phone": "+55 11"},
        today=TODAY,
    )
    assert search == MtFilters(date_from=date(2026, 11, 1), date_to=date(2026, 11, 10), campaign=("Boas-vindas",),
                               status=("read",), phone="+5511")
    assert [(e.param, e.value, e.problem) for e in refused] == [
        ("session", "maybe", "value"), ("status", "bogus", "value"), ("status", "lida", "value")]


@pytest.mark.parametrize(
    "params, expected, refused",
    [
        ({"from": "2026-11-01", "to": "9999-12-31"}, (date(2026, 11, 1), TODAY), [("to", "range")]),
        ({"from": "0001-01-01", "to": "2026-11-10"}, (date(2026, 11, 10), date(2026, 11, 10)), [("from", "range")]),
        ({"from": "2026-11-05", "to": "2026-11-01"}, (date(2026, 11, 5), TODAY), [("to", "order")]),
        ({"from": "20261101", "to": "2026-10-01"}, (date(2026, 11, 1), TODAY), [("to", "order")]),
        ({"from": "nope", "to": "2026-11-03"}, (date(2026, 11, 3), date(2026, 11, 3)), [("from", "value")]),
    ],
)
def test_a_link_with_a_bad_date_keeps_the_other(params, expected, refused):
    search, errors = MtFilters.from_link(params, today=TODAY)
    assert (search.date_from, search.date_to) == expected
    assert [(e.param, e.problem) for e in errors] == refused


# -- each field's way of filtering, as SQL (datasette's test_build_where) ------------------------
# (filter class, field, value, SQL with {c} where PostgreSQL casts a bound text, bound parameters)
OWNED_MO = ("mo_message.subaccount IN (:subaccount_1_1{c}, :subaccount_1_2{c}) OR mo_message.subaccount IS NULL "
            "AND mo_message.business_number IN (SELECT business_number.number \nFROM business_number \n"
            "WHERE business_number.subaccount IN (:subaccount_2_1{c}, :subaccount_2_2{c}))")
WHERE_CASES = [
    (MtFilters, "subaccount", ("Atacado",), "mt_message.subaccount IN (:subaccount_1_1{c})",
     {"subaccount_1_1": "Atacado"}),
    (MoFilters, "subaccount", ("Atacado", "Varejo"), OWNED_MO,
     {"subaccount_1_1": "Atacado", "subaccount_1_2": "Varejo", "subaccount_2_1": "Atacado", "subaccount_2_2": "Varejo"}),
    (MtFilters, "user", ("ana", "bia"), "mt_message.user_name IN (:user_name_1_1{c}, :user_name_1_2{c})",
     {"user_name_1_1": "ana", "user_name_1_2": "bia"}),
    (MoFilters, "user", ("ana",), "mo_message.user_name IN (:user_name_1_1{c})", {"user_name_1_1": "ana"}),
    (MtFilters, "campaign", ("Natal",), "mt_message.campaign IN (:campaign_1_1{c})", {"campaign_1_1": "Natal"}),
    (MoFilters, "campaign", ("Natal",), "mo_message.campaign IN (:campaign_1_1{c})", {"campaign_1_1": "Natal"}),
    (MtFilters, "content_type", ("template",), "mt_message.content_type IN (:content_type_1_1{c})",
     {"content_type_1_1": "template"}),
    (MoFilters, "content_type", ("button", "text"),
     "mo_message.content_type IN (:content_type_1_1{c}, :content_type_1_2{c})",
     {"content_type_1_1": "button", "content_type_1_2": "text"}),
    (MtFilters, "session", "open", "mt_message.sent_with_session IS true", {}),
    (MtFilters, "session", "closed", "mt_message.sent_with_session IS false", {}),
    (MtFilters, "correlation_id", "c-1", "mt_message.correlation_id = :correlation_id_1{c}",
     {"correlation_id_1": "c-1"}),
    (MtFilters, "status", ("read", "sent"), "mt_message.status IN (:status_1_1{c}, :status_1_2{c})",
     {"status_1_1": "read", "status_1_2": "sent"}),
    (MtFilters, "phone", "+551", "mt_message.phone LIKE :phone_1{c} || '%' ESCAPE '/'", {"phone_1": "+551"}),
    (MoFilters, "phone", "+5511", "mo_message.phone LIKE :phone_1{c} || '%' ESCAPE '/'", {"phone_1": "+5511"}),
    (MtFilters, "conversation_id", "conv-9", "mt_message.conversation_id = :conversation_id_1{c}",
     {"conversation_id_1": "conv-9"}),
    (MtFilters, "conversation_type", "user_initiated", "mt_message.conversation_type = :conversation_type_1{c}",
     {"conversation_type_1": "user_initiated"}),
    (MoFilters, "button", ("Sim", "Não"), "mo_message.button_text IN (:button_text_1_1{c}, :button_text_1_2{c})",
     {"button_text_1_1": "Sim", "button_text_1_2": "Não"}),
]


def _compiled(condition, dialect) -> tuple[str, dict]:
    """SQL text (the engine's dialect, parameters shown by name) and its bound parameters."""
    named = type(dialect)(paramstyle="named")
    compiled = condition.compile(dialect=named, compile_kwargs={"render_postcompile": True})
    return str(compiled), compiled.params


@pytest.mark.parametrize("cls, name, value, sql, params", WHERE_CASES,
                         ids=[f"{c.view}-{n}-{v}" for c, n, v, _, _ in WHERE_CASES])
def test_build_where(engine, cls, name, value, sql, params):
    postgres = engine.dialect.name == "postgresql"
    cast, zoned = ("::VARCHAR", "::TIMESTAMP WITH TIME ZONE") if postgres else ("", "")
    field = cls.FIELDS[name]
    assert _compiled(field.condition(cls.table, value), engine.dialect) == (sql.format(c=cast), params)
    # The search's where() is the period, then exactly this condition; and the database takes it.
    search = cls(date_from=date(2026, 11, 1), date_to=date(2026, 11, 1), tz="UTC", **{name: value})
    where_sql, where_params = _compiled(search.where(), engine.dialect)
    when = f"{cls.table.name}.{cls.time_column}"
    period = f"{when} >= :{cls.time_column}_1{zoned} AND {when} < :{cls.time_column}_2{zoned} AND "
    assert where_sql in (period + sql.format(c=cast), f"{period}({sql.format(c=cast)})")
    assert where_params == {f"{cls.time_column}_1": datetime(2026, 11, 1, tzinfo=timezone.utc),
                            f"{cls.time_column}_2": datetime(2026, 11, 2, tzinfo=timezone.utc), **params}
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cls.table).where(search.where())).scalar_one() == 0


def test_a_prefix_escapes_the_values_own_wildcards():
    field = MtFilters.FIELDS["phone"]
    assert _compiled(field.condition(MtFilters.table, "+55_1%"), postgresql.psycopg.dialect()) == (
        "mt_message.phone LIKE :phone_1::VARCHAR || '%' ESCAPE '/'", {"phone_1": "+55/_1/%"}
    )


def test_every_field_of_every_view_is_in_the_where_table():
    covered = {(cls.view, name) for cls, name, *_ in WHERE_CASES}
    declared = {(v.code, name) for v in VIEWS.values() for name in v.filters.FIELDS}
    assert covered == declared
