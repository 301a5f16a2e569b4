"""Report figures on both engines against counts computed by hand from the rows the test made."""
from datetime import date

import pytest

from data_access.columns import MO_COLUMNS, MT_COLUMNS
from data_access.filters import MoFilters, MtFilters
from data_access.detail import newest_page as detail_page
from data_access.report import count, filter_options, mo_report, mt_report
from tests.factories import at, insert, mo_row, mt_row

# 2026-11-10 in America/Sao_Paulo (UTC-3) runs from 03:00 UTC on the 10th to 03:00 UTC on the 11th.
NOV10 = MtFilters(date_from=date(2026, 11, 10), date_to=date(2026, 11, 10))


@pytest.fixture
def dataset(engine):
    mts = [
        mt_row(message_id="m1", sent_at=at(10, 3, 0), status="read"),  # first minute of the local day
        mt_row(message_id="m2", sent_at=at(10, 12), status="delivered"),
        mt_row(message_id="m3", sent_at=at(10, 13), status="sent"),
        mt_row(message_id="m4", sent_at=at(10, 14), status="undelivered", error_code="131049",
               error_title="This message was not delivered to maintain healthy ecosystem engagement."),
        mt_row(message_id="m5", sent_at=at(10, 15), status="undelivered", error_code="131026", error_title="Undeliverable",
               campaign="Natal", subaccount="Atacado"),
        mt_row(message_id="m6", sent_at=at(11, 2, 59), status="opt_out", error_code="131050", error_title="Opted out"),
        mt_row(message_id="m7", sent_at=at(11, 3, 0), status="read"),  # already the 11th locally
        mt_row(message_id="m8", sent_at=at(10, 2, 59), status="read"),  # still the 9th locally
    ]
    mos = [
        mo_row(message_id="r1", in_reply_to="m1", content_type="button", button_payload="SIM",
               button_text="Sim, quero", campaign="Black Friday", template_name="promo_bf", received_at=at(10, 4)),
        mo_row(message_id="r2", in_reply_to="m1", content_type="text", received_at=at(10, 5)),
        mo_row(message_id="r3", in_reply_to="m2", content_type="button", button_payload="NAO",
               button_text="Não, obrigado", campaign="Black Friday", template_name="promo_bf", received_at=at(10, 20)),
        mo_row(message_id="r4", in_reply_to="m7", content_type="button", button_payload="SIM",
               button_text="Sim, quero", campaign="Black Friday", template_name="promo_bf", received_at=at(11, 4)),
        mo_row(message_id="r5", content_type="image", message="foto", received_at=at(10, 21)),
    ]
    insert(engine, mts, mos)
    return engine


def test_mt_totals_and_rates(dataset):
    with dataset.connect() as conn:
        report = mt_report(conn, NOV10)
    totals = report.totals
    # m1..m6 fall on the local 10th.
    assert (totals.total, totals.pending, totals.delivered, totals.read, totals.failed) == (6, 1, 2, 1, 3)
    assert totals.replied == 2  # m1 (twice) and m2
    assert totals.delivery_rate == pytest.approx(2 / 6)
    assert totals.read_rate == pytest.approx(1 / 2)
    assert totals.failure_rate == pytest.approx(3 / 6)
    assert totals.reply_rate == pytest.approx(2 / 2)
    assert dict(report.status_counts) == {"read": 1, "delivered": 1, "sent": 1, "undelivered": 2, "opt_out": 1}
    assert report.status_counts[0] == ("undelivered", 2)
    reasons = {(r.status, r.error_code): r.count for r in report.failure_reasons}
    assert reasons == {("undelivered", "131049"): 1, ("undelivered", "131026"): 1, ("opt_out", "131050"): 1}
    assert [(d.day, d.total, d.delivered) for d in report.daily] == [(date(2026, 11, 10), 6, 2)]


def test_daily_series_follows_the_time_zone(dataset):
    wide = NOV10.replace(date_from=date(2026, 11, 9), date_to=date(2026, 11, 11))
    with dataset.connect() as conn:
        local = [(d.day.day, d.total) for d in mt_report(conn, wide).daily]
        utc = [(d.day.day, d.total) for d in mt_report(conn, wide.replace(tz="UTC")).daily]
    assert local == [(9, 1), (10, 6), (11, 1)]
    assert utc == [(10, 6), (11, 2)]


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({}, 6),
        ({"status": ("undelivered",)}, 2),
        ({"status": ("read", "opt_out")}, 2),
        ({"campaign": ("Natal",)}, 1),
        ({"subaccount": ("Varejo",)}, 5),
        ({"phone": "+551"}, 6),
        ({"content_type": ("text",)}, 0),
        ({"session": "closed"}, 6),
        ({"session": "open"}, 0),
    ],
)
def test_each_filter_changes_the_count(dataset, changes, expected):
    with dataset.connect() as conn:
        assert count(conn, NOV10.replace(**changes)) == expected


def test_detail_page_is_newest_first_and_paged(dataset):
    with dataset.connect() as conn:
        first = detail_page(conn, NOV10, MT_COLUMNS, page=1, page_size=4)
        second = detail_page(conn, NOV10, MT_COLUMNS, page=2, page_size=4)
    assert [r["message_id"] for r in first] == ["m6", "m5", "m4", "m3"]
    assert [r["message_id"] for r in second] == ["m2", "m1"]
    assert first[0]["error"] == "131050: Opted out"
    assert second[0]["error"] is None


def test_mo_report(dataset):
    filters = MoFilters(date_from=date(2026, 11, 10), date_to=date(2026, 11, 10))
    with dataset.connect() as conn:
        report = mo_report(conn, filters)
        clicked = count(conn, filters.replace(button=("Sim, quero",)))
    # r1, r2, r3, r5 on the local 10th; r4 at 01:00 local on the 11th.
    assert (report.total, report.quick_reply_clicks) == (4, 2)
    assert [(q.button_text, q.campaign, q.template_name, q.clicks) for q in report.quick_replies] == [
        ("Não, obrigado", "Black Friday", "promo_bf", 1),
        ("Sim, quero", "Black Friday", "promo_bf", 1),
    ]
    assert dict(report.content_mix) == {"button": 2, "text": 1, "image": 1}
    assert report.daily == ((date(2026, 11, 10), 4),)
    assert clicked == 1


def test_filter_options_narrow_by_subaccount(dataset):
    with dataset.connect() as conn:
        every = filter_options(conn, MtFilters)
        narrowed = filter_options(conn, MtFilters, ("Atacado",))
        mo = filter_options(conn, MoFilters)
    assert every.subaccounts == ("Atacado", "Varejo")
    assert every.campaigns == ("Black Friday", "Natal")
    assert narrowed.campaigns == ("Natal",)
    assert mo.buttons == ("Não, obrigado", "Sim, quero")


def test_empty_database_gives_zero_and_no_rate(engine):
    with engine.connect() as conn:
        report = mt_report(conn, NOV10)
    assert report.totals.total == 0
    assert report.totals.delivery_rate is None
    assert report.status_counts == () and report.daily == ()


def test_daily_series_across_a_daylight_saving_change(engine):
    # New York leaves daylight saving time at 06:00 UTC on 2026-11-01 (UTC-4 before, UTC-5 after).
    insert(engine, [
        mt_row(sent_at=at(1, 3, 30), status="read"),  # Oct 31, 23:30 EDT
        mt_row(sent_at=at(1, 4, 30), status="sent"),  # Nov 1, 00:30 EDT
        mt_row(sent_at=at(2, 4, 30), status="delivered"),  # Nov 1, 23:30 EST (Nov 2 at the old offset)
        mt_row(sent_at=at(2, 5, 30), status="read"),  # Nov 2, 00:30 EST
    ])
    filters = MtFilters(date_from=date(2026, 10, 31), date_to=date(2026, 11, 2), tz="America/New_York")
    with engine.connect() as conn:
        daily = [(d.day, d.total, d.delivered) for d in mt_report(conn, filters).daily]
    assert daily == [(date(2026, 10, 31), 1, 1), (date(2026, 11, 1), 2, 1), (date(2026, 11, 2), 1, 1)]


def test_failure_reason_title_and_ranking(engine):
    insert(engine, [
        mt_row(sent_at=at(10, 12), status="undelivered", error_code="131026", error_title="B"),
        mt_row(sent_at=at(11, 12), status="undelivered", error_code="131026", error_title="A"),
        mt_row(sent_at=at(11, 13), status="undelivered", error_code="131026", error_title=None),
        mt_row(sent_at=at(11, 14), status="opt_out", error_code=None, error_title=None),
    ])
    filters = MtFilters(date_from=date(2026, 11, 10), date_to=date(2026, 11, 11))
    with engine.connect() as conn:
        reasons = mt_report(conn, filters).failure_reasons
    assert [(r.status, r.error_code, r.error_title, r.count) for r in reasons] == [
        ("undelivered", "131026", "A", 3), ("opt_out", None, None, 1)]


@pytest.mark.parametrize("total", [None, 40, 400])
def test_detail_pages_are_the_same_whatever_window_finds_them(engine, total):
    # 40 rows: 30 in the last local day of the search, 10 spread over the six days before.
    rows = [mt_row(message_id=f"late{n:02d}", sent_at=at(16, 3 + n // 2, n % 60)) for n in range(30)]
    rows += [mt_row(message_id=f"early{n:02d}", sent_at=at(10 + n % 6, 12, n)) for n in range(10)]
    insert(engine, rows)
    filters = MtFilters(date_from=date(2026, 11, 10), date_to=date(2026, 11, 16))
    expected = sorted(rows, key=lambda r: (r["sent_at"], r["message_id"]), reverse=True)
    with engine.connect() as conn:
        pages = [detail_page(conn, filters, MT_COLUMNS, page, 8, total=total) for page in range(1, 7)]
    assert [[r["message_id"] for r in p] for p in pages] == [
        [r["message_id"] for r in expected[i:i + 8]] for i in range(0, 48, 8)
    ]


# An MO answers an MT (`in_reply_to`); the Received view filters by that MT's correlation ID,
# conversation ID and conversation type, whatever day the MT was sent.
ANSWERED = [
    mt_row(message_id="c1", sent_at=at(9, 12), correlation_id="pedido-1", conversation_id="conv-A",
           conversation_type="business_initiated"),
    mt_row(message_id="c2", sent_at=at(10, 12), correlation_id="pedido-2", conversation_id="conv-A",
           conversation_type="business_initiated"),
    mt_row(message_id="c3", sent_at=at(10, 13), correlation_id="pedido-1", conversation_id="conv-B",
           conversation_type="user_initiated"),
    mt_row(message_id="c4", sent_at=at(10, 14)),  # no conversation fields
]
ANSWERS = [
    mo_row(message_id="a1", in_reply_to="c1", received_at=at(10, 9)),  # answers an MT of the day before
    mo_row(message_id="a2", in_reply_to="c2", received_at=at(10, 15)),
    mo_row(message_id="a3", in_reply_to="c3", received_at=at(10, 16)),
    mo_row(message_id="a4", in_reply_to="c3", received_at=at(10, 17)),
    mo_row(message_id="a5", in_reply_to="c4", received_at=at(10, 18)),
    mo_row(message_id="a6", received_at=at(10, 19)),  # answers nothing
    mo_row(message_id="a7", in_reply_to="c2", received_at=at(12, 12)),  # outside the period
    mo_row(message_id="a8", in_reply_to="wamid.unknown", received_at=at(10, 20)),  # its MT never came
]


@pytest.mark.parametrize(
    "field, value",
    [("correlation_id", "pedido-1"), ("correlation_id", "pedido-2"), ("correlation_id", "pedido-9"),
     ("conversation_id", "conv-A"), ("conversation_id", "conv-B"),
     ("conversation_type", "business_initiated"), ("conversation_type", "user_initiated")],
)
def test_received_filters_by_the_answered_mts_conversation_fields(engine, field, value):
    insert(engine, ANSWERED, ANSWERS)
    mt_of = {mt["message_id"]: mt for mt in ANSWERED}
    expected = [mo["message_id"] for mo in ANSWERS
                if mo["received_at"].date() == date(2026, 11, 10) and mt_of.get(mo["in_reply_to"], {}).get(field) == value]
    filters = MoFilters(date_from=date(2026, 11, 10), date_to=date(2026, 11, 10), tz="UTC", **{field: value})
    with engine.connect() as conn:
        report = mo_report(conn, filters)
        rows = detail_page(conn, filters, MO_COLUMNS, 1, 25)
        counted = count(conn, filters)
    assert report.total == counted == len(expected)
    assert sorted(r["message_id"] for r in rows) == sorted(expected)
    assert len(expected) == {("correlation_id", "pedido-1"): 3, ("correlation_id", "pedido-2"): 1,
                             ("correlation_id", "pedido-9"): 0, ("conversation_id", "conv-A"): 2,
                             ("conversation_id", "conv-B"): 2, ("conversation_type", "business_initiated"): 2,
                             ("conversation_type", "user_initiated"): 2}[(field, value)]
