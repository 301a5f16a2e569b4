"""The fold across runs: each `load_records` call is one ingest run, folded at its end, so what one
run stored is what the next run's fold finds (by the 24 h window, by context, by id). On both engines.

The fold finds stored rows by bounds (the recomputed MTs' own sent_at, the 24 h before the target
MOs) and by id (a few ids by value, more by a join): the rows must be the same whichever way they
were found, so the lookups by value are also run with chunks of two ids.
"""
from datetime import UTC

import pytest
import sqlalchemy as sa

from data_access import bulk, hourly
from data_access.schema import mo_hourly, mo_message, mt_hourly, mt_hourly_status, mt_message
from tests.test_ingest_support import (
    PHONE,
    T0,
    WA_ID,
    at,
    load_records,
    meta_status,
    meta_text,
    meta_webhook,
    mo_row,
    mt_row,
    send_log,
    table_rows,
    unanswered_flags,
)

DAY = 24 * 3600


def assert_hourly_counts_are_the_rows(engine) -> None:
    """Every hourly group holds what the stored rows make, counted here from them."""
    for table, counts in ((mt_message, mt_hourly), (mt_message, mt_hourly_status), (mo_message, mo_hourly)):
        time = hourly.TIME_COLUMN[table.name]
        keys = [c.name for c in counts.columns if c.name not in (time, "messages", "replied")]
        sums = [name for name in ("messages", "replied") if name in counts.c]
        expected: dict[tuple, list[int]] = {}
        with engine.connect() as conn:
            for row in conn.execute(sa.select(table)).mappings():
                key = (row[time].astimezone(UTC).replace(minute=0, second=0, microsecond=0),
                       *(row["button_payload"] is not None if k == "clicked" else row[k] for k in keys))
                got = expected.setdefault(key, [0] * len(sums))
                got[0] += 1
                if "replied" in sums:
                    got[1] += row["replied"]
            stored = {(row[time].astimezone(UTC), *(row[k] for k in keys)): [row[n] for n in sums]
                      for row in conn.execute(sa.select(counts)).mappings()}
        assert stored == expected, counts.name


def campaign_log(message_id: str, seconds: int, campaign: str, phone: str = PHONE) -> dict:
    return send_log(message_id, seconds, phone=phone, subaccount="Sub", user="ana", campaign=campaign,
                    content_type="template", template_name=f"tpl_{campaign}")


def meta_button(message_id: str, seconds: int, context_id: str, payload: str) -> dict:
    """A quick-reply click (a click counts on the MT it answers)."""
    item = {"from": WA_ID, "id": message_id, "timestamp": str(T0 + seconds), "type": "button",
            "button": {"payload": payload, "text": payload}, "context": {"from": "15550783881", "id": context_id}}
    return meta_webhook(contacts=[{"profile": {"name": "Cliente"}, "wa_id": WA_ID}], messages=[item])


def attribution(engine, mo_id: str) -> tuple:
    row = mo_row(engine, mo_id)
    return row["in_reply_to"], row["attribution"], row["campaign"], row["template_name"]


def flags(engine, *mt_ids: str) -> dict[str, tuple[bool, int]]:
    return {m: (mt_row(engine, m)["replied"], mt_row(engine, m)["clicks"]) for m in mt_ids}


@pytest.mark.parametrize(("after_seconds", "answered"), [(DAY - 1, True), (DAY, False)])
def test_an_mo_just_inside_the_window_of_an_mt_folded_in_an_earlier_run(engine, tmp_path, after_seconds,
                                                                        answered) -> None:
    load_records(engine, tmp_path, campaign_log("wamid.MT", 0, "junho"), meta_status("wamid.MT", "sent", 1))
    assert flags(engine, "wamid.MT") == {"wamid.MT": (False, 0)}
    load_records(engine, tmp_path, meta_text("wamid.MO", after_seconds, "oi"))
    expected = ("wamid.MT", "window", "junho", "tpl_junho") if answered else (None, None, None, None)
    assert attribution(engine, "wamid.MO") == expected
    assert flags(engine, "wamid.MT") == {"wamid.MT": (answered, 0)}


@pytest.mark.parametrize(("before_seconds", "answered"), [(DAY - 1, True), (DAY, False)])
def test_an_mt_folded_after_its_reply_just_inside_the_window(engine, tmp_path, before_seconds, answered) -> None:
    load_records(engine, tmp_path, meta_text("wamid.MO", DAY, "oi"))
    assert attribution(engine, "wamid.MO") == (None, None, None, None)
    load_records(engine, tmp_path, campaign_log("wamid.MT", DAY - before_seconds, "junho"))
    expected = ("wamid.MT", "window", "junho", "tpl_junho") if answered else (None, None, None, None)
    assert attribution(engine, "wamid.MO") == expected
    assert flags(engine, "wamid.MT") == {"wamid.MT": (answered, 0)}


def test_a_late_status_keeps_the_flags_of_an_answered_mt(engine, tmp_path) -> None:
    # The MT is answered by the window and clicked by context in one run ...
    load_records(engine, tmp_path, campaign_log("wamid.MT", 0, "junho"), meta_status("wamid.MT", "delivered", 5),
                 meta_text("wamid.MO", 60, "oi"), meta_button("wamid.CLICK", 90, "wamid.MT", "Sim"))
    assert flags(engine, "wamid.MT") == {"wamid.MT": (True, 1)}
    # ... then its read status comes in a later run: the row is recomputed, the flags stay.
    load_records(engine, tmp_path, meta_status("wamid.MT", "read", 30))
    row = mt_row(engine, "wamid.MT")
    assert (row["status"], row["read_at"], row["replied"], row["clicks"]) == ("read", at(30), True, 1)
    assert attribution(engine, "wamid.MO") == ("wamid.MT", "window", "junho", "tpl_junho")


def test_an_out_of_order_status_after_a_later_fold_moves_the_reply(engine, tmp_path) -> None:
    # A's row is provisional (sent_at from its first status, 2 h after the send); the MO 23.5 h
    # after that status answers A. B, to the same phone, was sent 1 h before A's first status.
    load_records(engine, tmp_path, meta_status("wamid.A", "delivered", 7200), campaign_log("wamid.B", 3600, "b"))
    load_records(engine, tmp_path, meta_text("wamid.MO", 7200 + DAY - 1800, "oi"))
    assert attribution(engine, "wamid.MO") == ("wamid.A", "window", None, None)
    # The "sent" status of A, older than everything folded, moves A's sent_at 2 h back: the MO is
    # now 25.5 h after A, outside its window, and 24.5 h after B, outside B's too.
    load_records(engine, tmp_path, meta_status("wamid.A", "sent", 0))
    assert mt_row(engine, "wamid.A")["sent_at"] == at(0)
    assert attribution(engine, "wamid.MO") == (None, None, None, None)
    assert flags(engine, "wamid.A", "wamid.B") == {"wamid.A": (False, 0), "wamid.B": (False, 0)}
    assert unanswered_flags(engine) == []


def test_a_duplicate_event_in_a_later_run_changes_nothing(engine, tmp_path) -> None:
    records = [campaign_log("wamid.MT", 0, "junho"), meta_status("wamid.MT", "read", 40),
               meta_button("wamid.CLICK", 90, "wamid.MT", "Sim")]
    load_records(engine, tmp_path, *records)
    before = (table_rows(engine, mt_message), table_rows(engine, mo_message))
    summary = load_records(engine, tmp_path, records[1], records[2])
    assert (summary.total.accepted, summary.total.duplicates) == (0, 2)
    # the same status in another payload (another body): a new payload, the same event
    summary = load_records(engine, tmp_path, {**records[1], "entry": [{**records[1]["entry"][0], "id": "other"}]})
    assert (summary.total.accepted, summary.total.duplicates) == (1, 0)
    assert (table_rows(engine, mt_message), table_rows(engine, mo_message)) == before
    assert flags(engine, "wamid.MT") == {"wamid.MT": (True, 1)}


@pytest.mark.parametrize("chunks", ["default", "two ids a statement"])
def test_context_replies_to_old_mts_whichever_way_they_are_looked_up(engine, tmp_path, monkeypatch,
                                                                     chunks) -> None:
    if chunks != "default":  # 8 ids: four statements of two ids each; 9 ids: one join
        monkeypatch.setattr(bulk, "LOOKUP_CHUNK", 2)
        monkeypatch.setattr(bulk, "LOOKUP_MAX", 8)
    mts = [f"wamid.OLD{n}" for n in range(9)]
    load_records(engine, tmp_path, *(campaign_log(m, -30 * DAY + n, f"c{n}") for n, m in enumerate(mts)))
    # Clicks a month later name the first seven MTs (the last twice), plus one MT never stored.
    clicks = [meta_button(f"wamid.CLICK{n}", n, m, "Sim") for n, m in enumerate(mts[:7])]
    load_records(engine, tmp_path, *clicks, meta_button("wamid.CLICK7", 7, mts[6], "Não"),
                 meta_button("wamid.CLICK8", 8, "wamid.UNKNOWN", "Sim"))
    assert [attribution(engine, f"wamid.CLICK{n}") for n in range(9)] == [
        *((m, "context", f"c{n}", f"tpl_c{n}") for n, m in enumerate(mts[:7])),
        (mts[6], "context", "c6", "tpl_c6"),
        ("wamid.UNKNOWN", "context", None, None),
    ]
    assert flags(engine, *mts) == {
        **{m: (True, 1) for m in mts[:6]}, mts[6]: (True, 2), mts[7]: (False, 0), mts[8]: (False, 0),
    }
    # Nine recomputed MTs (more than the lookup's limit with two-id chunks) answered by nine MOs.
    load_records(engine, tmp_path, *(meta_status(m, "read", -30 * DAY + 100) for m in mts),
                 *(meta_button(f"wamid.LATE{n}", 100 + n, m, "Sim") for n, m in enumerate(mts)))
    assert flags(engine, *mts) == {**{m: (True, 2) for m in mts[:6]}, mts[6]: (True, 3), mts[7]: (True, 1),
                                   mts[8]: (True, 1)}
    assert {mt_row(engine, m)["status"] for m in mts} == {"read"}
    assert unanswered_flags(engine) == []
    # The hourly counts (DuckDB: counted by the writer, the replaced rows counted out from their copy)
    # are those of the rows stored, counted here.
    assert_hourly_counts_are_the_rows(engine)
