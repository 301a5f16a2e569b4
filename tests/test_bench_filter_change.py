"""`python -m bench.filter_change` on a real app server and Debian's Chromium: filter changes made in
the sidebar as a person makes them, each answered with the total of its own search, new searches
first and then the same ones again (cached), with the times split in the order the page goes
through them."""
import json
from datetime import timedelta

import pytest

from bench.filter_change import PHASES, TIMES, main
from data_access.engine import open_database
from data_access.i18n import label
from tests.factories import at, insert, mt_row

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Rows per (status, campaign) in the week searched, powers of two: every search has a total of its own.
COUNTS = {("sent", "Black Friday"): 1, ("sent", "Natal"): 2, ("delivered", "Black Friday"): 4,
          ("delivered", "Natal"): 8, ("read", "Black Friday"): 16, ("read", "Natal"): 32}
REPEATS = 4


def rows() -> list[dict]:
    made = []
    for (status, campaign), count in COUNTS.items():
        for i in range(count):
            sent = at(10 + i % 7, 12 + i % 8, i % 60)
            made.append(mt_row(sent_at=sent, status=status, campaign=campaign,
                               delivered_at=sent + timedelta(seconds=5) if status != "sent" else None,
                               read_at=sent + timedelta(minutes=2) if status == "read" else None))
    # before the week: in no search of the benchmark
    made += [mt_row(sent_at=at(5, 12), status="read", campaign="Natal") for _ in range(5)]
    return made


def expected_total(made: list[dict], chosen: dict[str, list[str]]) -> int:
    statuses = {label("status", code, "en") for code, _ in COUNTS}
    wanted_status = set(chosen["Status"]) or statuses
    wanted_campaign = set(chosen["Campaign"]) or {"Black Friday", "Natal"}
    return sum(1 for r in made if at(10, 3) <= r["sent_at"] < at(17, 3)  # the week in São Paulo (UTC-3)
               and label("status", r["status"], "en") in wanted_status and r["campaign"] in wanted_campaign)


def test_each_change_reaches_its_own_searchs_total(tmp_path, capsys):
    made = rows()
    url = f"duckdb:///{tmp_path / 'report.duckdb'}"
    engine = open_database(url)
    insert(engine, made)
    engine.dispose()

    trace = tmp_path / "trace.json"
    assert main([url, str(REPEATS), "--end", "2026-11-16", "--days", "7", "--trace", str(trace)]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    assert result["period"] == "lang=en&from=2026-11-10&to=2026-11-16"
    assert len(result["load_average_before"]) == len(result["load_average_after"]) == 3
    new, cached = result["new"]["samples"], result["cached"]["samples"]
    assert (result["new"]["changes"], result["cached"]["changes"]) == (REPEATS, REPEATS)
    # a Gray code over the values taken alternately from the two lists: Status's first, Campaign's
    # first, Status's first again, Status's second
    assert [s["change"] for s in new] == ["Status +Sent", "Campaign +Black Friday", "Status -Sent",
                                          "Status +Delivered"]
    assert [s["change"] for s in cached] == ["Status -Delivered", "Status +Sent", "Campaign -Black Friday",
                                             "Status -Sent"]
    opening = {"Status": [], "Campaign": []}
    states = [s["chosen"] for s in new]
    assert len({json.dumps(s, sort_keys=True) for s in [opening, *states]}) == REPEATS + 1  # every search new
    assert [s["chosen"] for s in cached] == [*states[-2::-1], opening]  # the same searches, back to the opening
    for sample in new + cached:
        assert sample["total"] == expected_total(made, sample["chosen"]), sample
        # the page's order: the widget's value sent, the total's message, the total drawn, the page complete
        assert 0 <= sample["release_ms"] <= sample["send_ms"]
        assert 0 < sample["send_ms"] <= sample["first_message_ms"] <= sample["total_message_ms"] <= sample["total_ms"]
        assert sample["total_ms"] <= sample["complete_ms"]
        assert sample["total_message_ms"] <= sample["run_over_ms"] <= sample["complete_ms"]
        assert sample["server_ms"] == round(sample["total_message_ms"] - sample["send_ms"], 1)
        assert sample["render_ms"] == round(sample["total_ms"] - sample["total_message_ms"], 1)
        assert 1 < sample["total_message_index"] < sample["messages"]
        assert all(at + duration > 0 and at < sample["complete_ms"] and duration >= 50
                   for at, duration in sample["long_tasks"])
    assert [s["total"] for s in new] == [3, 1, 21, 4]  # worked by hand from COUNTS
    for kind in ("new", "cached"):
        figures = result[kind]
        assert figures["total_unchanged"] == 0
        for name in TIMES:
            values = sorted(s[name] for s in figures["samples"])
            assert figures[name] == {"p50": values[1], "p95": values[-1], "max": values[-1]}  # nearest rank of 4

    # where the time went, from Chromium's trace of the same changes: each phase's wall time is the
    # mean over the changes of its marks' difference (each mark rounded to the ms, as the trace is read)
    assert json.loads(trace.read_bytes())["traceEvents"]
    for kind, samples in (("new", new), ("cached", cached)):
        profile = result["profile"][kind]
        assert profile["changes"] == REPEATS and list(profile["phases"]) == list(PHASES)
        marks = [[s["start_at"], *(s["start_at"] + s[mark] for mark in PHASES.values())] for s in samples]
        for i, (name, phase) in enumerate(profile["phases"].items()):
            walls = [round(m[i + 1]) - round(m[i]) for m in marks]
            assert phase["wall_ms"] == round(sum(walls) / REPEATS), name
            assert set(phase["by_kind_ms"]) <= {"compile", "script", "gc", "style_layout", "paint", "html", "other"}
