"""The Consolidado report's SQL on both engines, against figures computed here from the test's own rows.

The rows are drawn from a seeded generator over two adjacent periods (and days outside both, which
must never count); `_expected` recounts them in plain Python from the rows' fields, apart from the
product's SQL. A few figures are also written out by hand, and the totals row is checked against the
detailed report's own totals for the same search.
"""
import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from data_access.consolidated import (
    DIMENSIONS,
    NO_ROWS,
    GroupFigures,
    consolidated,
    delta,
    previous_period,
    sorted_groups,
)
from data_access.engine import make_engine
from data_access.filters import FIRST_DAY, MtFilters
from data_access.migrations import upgrade
from data_access.report import mt_totals
from data_access.schema import mt_message
from data_access.scope import Scope
from tests.factories import UTC, at, insert, later, mo_row, mt_row
from tests.test_ingest_rules import campaign_log
from tests.test_ingest_support import T0, WA_ID, load_records, meta_text, meta_webhook
from tests.test_ingest_support import mt_row as ingested_mt

TZ = "America/Sao_Paulo"
# The search: 10-12 Nov (local); its previous period: 7-9 Nov.
SEARCH = MtFilters(date_from=date(2026, 11, 10), date_to=date(2026, 11, 12), tz=TZ)
FAILURES = ("undelivered", "opt_out", "invalid_session", "ttl_expired")
FIELD_OF = {
    "campaign": "campaign", "template": "template_name", "subaccount": "subaccount", "user": "user_name",
    "content_type": "content_type", "conversation_type": "conversation_type", "pricing_category": "pricing_category",
}


def _draw(seed: int = 7) -> tuple[list[dict], list[dict]]:
    """MTs from 6 to 13 Nov local (so some fall outside both periods), and MOs answering some of them."""
    rng = random.Random(seed)
    mts, mos = [], []
    start = datetime(2026, 11, 6, 3, 0, tzinfo=UTC)  # local midnight of the 6th
    for n in range(260):
        sent_at = start + timedelta(minutes=rng.randrange(0, 8 * 24 * 60))
        content = rng.choice(["template", "template", "text", "image"])
        mts.append(mt_row(
            message_id=f"wamid.C{n:04d}",
            sent_at=sent_at,
            status=rng.choice(["sent", "delivered", "delivered", "read", "read", "read", *FAILURES]),
            subaccount=rng.choice(["Varejo", "Varejo", "Atacado", None]),
            user_name=rng.choice(["ana.souza", "bruno.lima", None]),
            campaign=rng.choice(["Black Friday", "Natal", "Cashback ⚡", None]),
            content_type=content,
            template_name=rng.choice(["promo_bf", "lembrete"]) if content == "template" else None,
            conversation_type=rng.choice(["business_initiated", "user_initiated", "free_entry_point", None]),
            pricing_category=rng.choice(["marketing", "utility", "service", None]),
        ))
    for n, mt in enumerate(mts):
        kind = rng.random()
        if kind < 0.25:  # a quick-reply click, sometimes two on the same MT
            for k in range(rng.choice([1, 1, 2])):
                mos.append(mo_row(message_id=f"wamid.R{n:04d}{k}", in_reply_to=mt["message_id"], content_type="button",
                                  button_payload="SIM", button_text="Sim", received_at=later(mt["sent_at"], minutes=5 + k)))
        elif kind < 0.40:  # a written answer: replied, no click
            mos.append(mo_row(message_id=f"wamid.R{n:04d}t", in_reply_to=mt["message_id"],
                              received_at=later(mt["sent_at"], hours=1)))
    # A click on an MT that does not exist, and a click-like MO answering nothing: never counted.
    mos.append(mo_row(message_id="wamid.Rx1", in_reply_to="wamid.gone", content_type="button", button_payload="SIM",
                      button_text="Sim", received_at=at(11, 12)))
    mos.append(mo_row(message_id="wamid.Rx2", content_type="button", button_payload="SIM", button_text="Sim",
                      received_at=at(11, 12)))
    return mts, mos


MTS, MOS = _draw()


@pytest.fixture
def dataset(engine):
    insert(engine, MTS, MOS)
    return engine


def _local_day(when: datetime) -> date:
    return when.astimezone(ZoneInfo(TZ)).date()


def _matches(mt: dict, search: MtFilters, first: date, last: date) -> bool:
    if not first <= _local_day(mt["sent_at"]) <= last:
        return False
    for name, field in (("campaign", "campaign"), ("status", "status"), ("subaccount", "subaccount"),
                        ("content_type", "content_type")):
        if getattr(search, name) and mt[field] not in getattr(search, name):
            return False
    if search.session is not None and mt["sent_with_session"] != (search.session == "open"):
        return False
    if not search.scope.all and mt["subaccount"] not in search.scope.subaccounts:
        return False
    return True


def _figures(rows: list[dict]) -> dict[str, int]:
    replied = {mo["in_reply_to"] for mo in MOS}
    clicks = defaultdict(int)
    for mo in MOS:
        if mo["button_payload"] is not None:
            clicks[mo["in_reply_to"]] += 1
    return {
        "total": len(rows),
        "pending": sum(r["status"] == "sent" for r in rows),
        "delivered": sum(r["status"] in ("delivered", "read") for r in rows),
        "read": sum(r["status"] == "read" for r in rows),
        "failed": sum(r["status"] in FAILURES for r in rows),
        "replied": sum(r["message_id"] in replied for r in rows),
        "clicks": sum(clicks[r["message_id"]] for r in rows),
    }


def _key(mt: dict, dimension: str):
    return _local_day(mt["sent_at"]) if dimension == "day" else mt[FIELD_OF[dimension]]


def _expected(search: MtFilters, dimension: str) -> tuple[dict, dict, dict, dict]:
    """(current by group, previous by group, current totals, previous totals), counted from MTS."""
    length = search.date_to - search.date_from + timedelta(days=1)
    now = [m for m in MTS if _matches(m, search, search.date_from, search.date_to)]
    before = [m for m in MTS if _matches(m, search, search.date_from - length, search.date_from - timedelta(days=1))]
    current, previous = defaultdict(list), defaultdict(list)
    for m in now:
        current[_key(m, dimension)].append(m)
    for m in before:
        key = _key(m, dimension)
        previous[key + length if dimension == "day" else key].append(m)
    return ({k: _figures(v) for k, v in current.items()}, {k: _figures(v) for k, v in previous.items()},
            _figures(now), _figures(before))


def _as_dict(figures: GroupFigures) -> dict[str, int]:
    return {name: getattr(figures, name) for name in ("total", "pending", "delivered", "read", "failed", "replied", "clicks")}


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_every_dimension_matches_a_recount_of_the_rows(dataset, dimension):
    with dataset.connect() as conn:
        report = consolidated(conn, SEARCH, dimension)
    current, previous, total_now, total_before = _expected(SEARCH, dimension)
    assert {g.key: _as_dict(g.current) for g in report.groups} == current
    zero = _as_dict(NO_ROWS)
    assert {g.key: _as_dict(g.previous) for g in report.groups} == {k: previous.get(k, zero) for k in current}
    assert _as_dict(report.totals.current) == total_now
    assert _as_dict(report.totals.previous) == total_before
    assert (report.previous_from, report.previous_to) == (date(2026, 11, 7), date(2026, 11, 9))
    assert report.dimension == dimension


HYPERLINK = '=HYPERLINK("http://evil.example","clique")'
BF = "Black Friday 🎉"
# A small search by hand (10-12 Nov local; previous period 7-9 Nov), shared by the export and page tests.
CAMPAIGN_MTS = [
    # the search
    mt_row(message_id="a1", campaign="Natal", status="read", sent_at=at(10, 12)),
    mt_row(message_id="a2", campaign="Natal", status="delivered", sent_at=at(11, 12)),
    mt_row(message_id="a3", campaign="Natal", status="opt_out", error_code="131050", sent_at=at(12, 12)),
    mt_row(message_id="a4", campaign="Natal", status="sent", sent_at=at(13, 2, 59)),  # 12th, 23:59 local
    mt_row(message_id="f1", campaign=BF, status="read", sent_at=at(11, 15), subaccount="Atacado"),
    mt_row(message_id="f2", campaign=BF, status="read", sent_at=at(12, 15)),
    mt_row(message_id="h1", campaign=HYPERLINK, status="delivered", sent_at=at(11, 16)),
    mt_row(message_id="b1", campaign=None, status="read", sent_at=at(10, 3, 0)),  # first minute of the 10th
    # the previous period
    mt_row(message_id="p1", campaign="Natal", status="read", sent_at=at(8, 12)),
    mt_row(message_id="p2", campaign="Natal", status="undelivered", error_code="131026", sent_at=at(10, 2, 59)),
    mt_row(message_id="p3", campaign=BF, status="read", sent_at=at(9, 12)),
    mt_row(message_id="p4", campaign="Pascoa", status="read", sent_at=at(9, 13)),  # only then: no row of its own
    # outside both
    mt_row(message_id="x1", campaign="Natal", status="read", sent_at=at(13, 3, 0)),  # 13th local
    mt_row(message_id="x2", campaign="Natal", status="read", sent_at=at(7, 2, 59)),  # 6th local
]
CAMPAIGN_MOS = [
    mo_row(in_reply_to="a1", content_type="button", button_payload="SIM", button_text="Sim", received_at=at(10, 13)),
    mo_row(in_reply_to="a1", content_type="button", button_payload="NAO", button_text="Não", received_at=at(10, 14)),
    mo_row(in_reply_to="a2", content_type="text", received_at=at(11, 13)),
    mo_row(in_reply_to="p1", content_type="button", button_payload="SIM", button_text="Sim", received_at=at(8, 13)),
    mo_row(in_reply_to="x1", content_type="button", button_payload="SIM", button_text="Sim", received_at=at(13, 4)),
]


@pytest.fixture
def campaigns(engine):
    insert(engine, CAMPAIGN_MTS, CAMPAIGN_MOS)
    return engine


def test_campaign_rows_written_out(campaigns):
    """A small case by hand: the figures, the rates and their deltas, and the group order."""
    with campaigns.connect() as conn:
        report = consolidated(conn, SEARCH, "campaign")
    assert [g.key for g in report.groups] == ["Natal", BF, HYPERLINK, None]
    natal, bf, link, none = report.groups
    assert _as_dict(natal.current) == {"total": 4, "pending": 1, "delivered": 2, "read": 1, "failed": 1, "replied": 2,
                                       "clicks": 2}
    assert _as_dict(natal.previous) == {"total": 2, "pending": 0, "delivered": 1, "read": 1, "failed": 1,
                                        "replied": 1, "clicks": 1}
    assert (natal.current.delivery_rate, natal.current.read_rate) == (0.5, 0.5)
    assert (natal.current.failure_rate, natal.current.reply_rate) == (0.25, 1.0)
    assert natal.delta("total") == 2
    assert natal.delta("clicks") == 1
    assert natal.delta("delivery_rate") == pytest.approx(0.5 - 0.5)
    assert natal.delta("read_rate") == pytest.approx(0.5 - 1.0)
    assert natal.delta("failure_rate") == pytest.approx(0.25 - 0.5)
    assert (bf.current.total, bf.current.read, bf.previous.total, bf.delta("read")) == (2, 2, 1, 1)
    assert _as_dict(none.current) == {"total": 1, "pending": 0, "delivered": 1, "read": 1, "failed": 0, "replied": 0,
                                      "clicks": 0}
    assert none.previous == NO_ROWS and link.previous == NO_ROWS
    assert none.delta("total") == 1
    assert none.delta("delivery_rate") is None  # no MT of that group in the previous period
    # Pascoa ran only in the previous period: no row of its own, but in the previous totals.
    assert _as_dict(report.totals.current) == {"total": 8, "pending": 1, "delivered": 6, "read": 4, "failed": 1,
                                               "replied": 2, "clicks": 2}
    assert _as_dict(report.totals.previous) == {"total": 4, "pending": 0, "delivered": 3, "read": 3, "failed": 1,
                                                "replied": 1, "clicks": 1}
    assert report.totals.delta("clicks") == 2 - 1


def test_day_groups_follow_the_zone_and_stand_beside_the_day_one_period_earlier(engine):
    mts = [
        mt_row(message_id="d1", status="read", sent_at=at(10, 3, 0)),  # 10th local
        mt_row(message_id="d2", status="sent", sent_at=at(10, 2, 59)),  # 9th local: previous period
        mt_row(message_id="d3", status="delivered", sent_at=at(7, 3, 0)),  # 7th local: beside the 10th
        mt_row(message_id="d4", status="delivered", sent_at=at(12, 20)),
    ]
    insert(engine, mts)
    with engine.connect() as conn:
        local = consolidated(conn, SEARCH, "day")
        utc = consolidated(conn, SEARCH.replace(tz="UTC"), "day")
    assert [(g.key, g.current.total, g.previous.total) for g in local.groups] == [
        (date(2026, 11, 10), 1, 1),  # d1 beside d3 (7th = 10th - 3 days)
        (date(2026, 11, 12), 1, 1),  # d4 beside d2 (9th)
    ]
    # In UTC d2 is on the 10th and d3 on the 7th: it stands beside the 10th, nothing beside the 12th.
    assert [(g.key, g.current.total, g.previous.total) for g in utc.groups] == [
        (date(2026, 11, 10), 2, 1),
        (date(2026, 11, 12), 1, 0),
    ]


@pytest.mark.parametrize("dimension", ["subaccount", "campaign", "day"])
def test_an_account_limited_to_a_subaccount_sees_only_its_groups(dataset, dimension):
    scoped = SEARCH.replace(scope=Scope(subaccounts=("Varejo",)))
    with dataset.connect() as conn:
        report = consolidated(conn, scoped, dimension)
        nobody = consolidated(conn, SEARCH.replace(scope=Scope()), dimension)
    current, previous, total_now, total_before = _expected(scoped, dimension)
    assert {g.key: _as_dict(g.current) for g in report.groups} == current
    assert _as_dict(report.totals.previous) == total_before
    assert total_now["total"] < _expected(SEARCH, dimension)[2]["total"]  # the scope really narrows
    if dimension == "subaccount":
        assert [g.key for g in report.groups] == ["Varejo"]
    assert nobody.groups == ()
    assert nobody.totals.current == NO_ROWS and nobody.totals.previous == NO_ROWS


@pytest.mark.parametrize("changes", [
    {},
    {"campaign": ("Natal",)},
    {"status": ("read", "opt_out")},
    {"subaccount": ("Atacado",)},
    {"content_type": ("template",), "session": "closed"},
    {"date_from": date(2026, 11, 6), "date_to": date(2026, 11, 13)},
    {"scope": Scope(subaccounts=("Varejo",))},
])
@pytest.mark.parametrize("dimension", ["template", "day"])
def test_totals_row_equals_the_detailed_reports_figures(dataset, changes, dimension):
    search = SEARCH.replace(**changes)
    before_from, before_to = previous_period(search)
    with dataset.connect() as conn:
        report = consolidated(conn, search, dimension)
        detailed = mt_totals(conn, search)
        detailed_before = mt_totals(conn, search.replace(date_from=before_from, date_to=before_to))
    for name in ("total", "pending", "delivered", "read", "failed", "replied"):
        assert getattr(report.totals.current, name) == getattr(detailed, name)
        assert getattr(report.totals.previous, name) == getattr(detailed_before, name)
    for rate in ("delivery_rate", "read_rate", "failure_rate", "reply_rate"):
        assert getattr(report.totals.current, rate) == getattr(detailed, rate)
    assert report.totals.current.total > 0


def test_a_search_from_the_first_day_has_no_previous_period(dataset):
    search = MtFilters(date_from=FIRST_DAY, date_to=FIRST_DAY + timedelta(days=2), tz=TZ)
    assert previous_period(search) is None
    assert previous_period(search.replace(date_from=FIRST_DAY + timedelta(days=3),
                                          date_to=FIRST_DAY + timedelta(days=5))) == (FIRST_DAY, FIRST_DAY + timedelta(days=2))
    with dataset.connect() as conn:
        report = consolidated(conn, search, "campaign")
    assert (report.previous_from, report.previous_to, report.groups) == (None, None, ())
    assert report.totals.previous == NO_ROWS


def test_unknown_dimension_is_refused(dataset):
    with dataset.connect() as conn, pytest.raises(ValueError, match="unknown dimension 'phone'.*campaign, template, day"):
        consolidated(conn, SEARCH, "phone")


def test_sorting_puts_groups_without_a_rate_last():
    def group(key, total, delivered, read):
        from data_access.consolidated import Group
        figures = GroupFigures(total=total, pending=total - delivered, delivered=delivered, read=read, failed=0,
                               replied=0, clicks=0)
        return Group(key, figures, NO_ROWS)

    groups = [group("a", 10, 5, 1), group("b", 4, 0, 0), group(None, 8, 8, 8), group("c", 10, 2, 2)]
    assert [g.key for g in sorted_groups(groups, "read_rate")] == [None, "c", "a", "b"]
    assert [g.key for g in sorted_groups(groups, "read_rate", descending=False)] == ["a", None, "c", "b"]
    assert [g.key for g in sorted_groups(groups, "total")] == ["a", "c", None, "b"]  # ties keep their order
    assert [g.key for g in sorted_groups(groups, "group", descending=False)] == ["a", "b", "c", None]
    with pytest.raises(ValueError, match="unknown metric 'phone'"):
        sorted_groups(groups, "phone")


def test_delta_of_counts_and_rates():
    now = GroupFigures(total=10, pending=0, delivered=8, read=4, failed=2, replied=2, clicks=3)
    before = GroupFigures(total=5, pending=0, delivered=5, read=5, failed=0, replied=0, clicks=1)
    assert delta(now, before, "total") == 5
    assert delta(now, before, "clicks") == 2
    assert delta(now, before, "read_rate") == pytest.approx(0.5 - 1.0)
    assert delta(now, before, "failure_rate") == pytest.approx(0.2)
    assert delta(now, NO_ROWS, "delivery_rate") is None
    assert delta(now, NO_ROWS, "failed") == 2


def _click(message_id: str, seconds: int, context_id: str | None = None) -> dict:
    item = {"from": WA_ID, "id": message_id, "timestamp": str(T0 + seconds), "type": "button",
            "button": {"payload": "YES", "text": "Sim, quero"}}
    if context_id:
        item["context"] = {"from": "15550783881", "id": context_id}
    return meta_webhook(contacts=[{"profile": {"name": "Cliente"}, "wa_id": WA_ID}], messages=[item])


def test_clicks_follow_the_attribution_through_ingest(engine, tmp_path):
    """The MT's click count moves with its replies: a click by the window goes to the latest MT, a
    click by context waits for its MT's send log; a text reply is no click."""
    load_records(engine, tmp_path, campaign_log("wamid.A", 0, "a"), _click("wamid.K1", 3600),
                 _click("wamid.K2", 7200, context_id="wamid.C"), meta_text("wamid.T1", 3700, "oi", context_id="wamid.A"))
    assert (ingested_mt(engine, "wamid.A")["clicks"], ingested_mt(engine, "wamid.C")) == (1, None)
    load_records(engine, tmp_path, campaign_log("wamid.B", 1800, "b"), campaign_log("wamid.C", 60, "c"))
    clicks = {m: ingested_mt(engine, m)["clicks"] for m in ("wamid.A", "wamid.B", "wamid.C")}
    assert clicks == {"wamid.A": 0, "wamid.B": 1, "wamid.C": 1}
    assert ingested_mt(engine, "wamid.A")["replied"] is True  # the text reply by context stays A's


def test_upgrade_counts_the_clicks_stored_mos_made(db_url):
    """Migration 0010 fills `clicks` from the MOs already stored: button MOs only, per MT."""
    engine = make_engine(db_url)
    upgrade(engine, "0009")
    with engine.begin() as conn:
        for message_id in ("twice", "text-only", "none"):
            conn.execute(sa.text(
                "INSERT INTO mt_message (message_id, sent_at, status, content_type, source, has_send_log) "
                "VALUES (:id, '2025-01-02 03:04:05+00', 'read', 'template', 'send_log', true)"
            ), {"id": message_id})
        conn.execute(sa.text(
            "INSERT INTO mo_message (message_id, received_at, content_type, source, in_reply_to, button_payload) VALUES "
            "('mo-1', '2025-01-02 04:00:00+00', 'button', 'meta', 'twice', 'SIM'), "
            "('mo-2', '2025-01-02 05:00:00+00', 'button', 'meta', 'twice', 'NAO'), "
            "('mo-3', '2025-01-02 05:00:00+00', 'text', 'meta', 'text-only', NULL), "
            "('mo-4', '2025-01-02 05:00:00+00', 'button', 'meta', NULL, 'SIM')"
        ))
    upgrade(engine)
    with engine.connect() as conn:
        clicks = dict(conn.execute(sa.select(mt_message.c.message_id, mt_message.c.clicks)).all())
    engine.dispose()
    assert clicks == {"twice": 2, "text-only": 0, "none": 0}
