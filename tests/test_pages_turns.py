"""Page runs take turns (pages/turns.py): at most two at once, the others in their order of arrival,
a turn is handed on however the run ends (finished, raised, stopped), and the Sent and Received
pages draw what comes after their total inside a turn (AppTest, both engines)."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from pages import turns
from tests.factories import at, insert, mo_row, mt_row, open_shop
from tests.test_pages import results, total_line

ROOT = Path(__file__).resolve().parent.parent
WAIT_S = 10
BLOCKED_S = 3  # how long the test holds both turns while a session runs
WEEK = {"from": "2026-11-09", "to": "2026-11-15", "lang": "en"}
MTS = [mt_row(message_id="t1", sent_at=at(10), status="read"), mt_row(message_id="t2", sent_at=at(11), status="sent")]
MOS = [mo_row(message_id="r1", received_at=at(10, 15), content_type="text"),
       mo_row(message_id="r2", received_at=at(12, 18), content_type="image")]
CHARTS = {"sent": 3, "received": 2}  # funnel, statuses, days; replies per day, content mix (no quick replies)


class PageRun(threading.Thread):
    """A page run in a script thread of its own: takes a turn, says so, then holds it until told to end
    (raising `error` then, as Streamlit's stop and rerun do in the script's thread)."""

    def __init__(self, name: str, order: list[str], error: BaseException | None = None) -> None:
        super().__init__(name=name, daemon=True)
        self.order, self.error = order, error
        self.inside = threading.Event()
        self.end = threading.Event()
        self.raised: BaseException | None = None

    def run(self) -> None:
        try:
            with turns.page_turn():
                self.order.append(self.name)
                self.inside.set()
                self.end.wait(WAIT_S)
                if self.error is not None:
                    raise self.error
        except BaseException as exc:  # noqa: BLE001 - the test reads what left the block
            self.raised = exc


def _started(run: PageRun, order: list[str], queued: int) -> PageRun:
    """Starts `run` and returns once it is inside, or once it waits for a turn (the order's length
    stays at `queued` then: it is blocked on the turns, not running)."""
    run.start()
    run.inside.wait(0.5)
    assert len(order) == queued + run.inside.is_set()
    return run


def test_two_pages_at_once_the_third_waits_its_turn_in_order() -> None:
    assert turns.PAGES_AT_ONCE == 2
    order: list[str] = []
    first = _started(PageRun("first", order), order, 0)
    second = _started(PageRun("second", order), order, 1)
    third = _started(PageRun("third", order), order, 2)
    assert (first.inside.is_set(), second.inside.is_set(), third.inside.is_set()) == (True, True, False)
    assert order == ["first", "second"]

    second.end.set()  # a turn handed on: the waiting run goes in
    second.join(WAIT_S)
    assert third.inside.wait(WAIT_S)
    assert order == ["first", "second", "third"]
    first.end.set()
    third.end.set()
    for run in (first, third):
        run.join(WAIT_S)
    assert [run.raised for run in (first, second, third)] == [None, None, None]


class Stopped(Exception):
    """Stands for Streamlit's StopException / RerunException raised into a script thread."""


def test_a_run_ended_by_an_exception_hands_its_turn_on() -> None:
    order: list[str] = []
    stopped = _started(PageRun("stopped", order, Stopped("rerun requested")), order, 0)
    failed = _started(PageRun("failed", order, KeyboardInterrupt()), order, 1)
    waiting = _started(PageRun("waiting", order), order, 2)
    stopped.end.set()
    failed.end.set()
    stopped.join(WAIT_S)
    failed.join(WAIT_S)
    assert waiting.inside.wait(WAIT_S)
    later = _started(PageRun("later", order), order, 3)  # the second turn was handed on too
    assert later.inside.is_set()
    assert order == ["stopped", "failed", "waiting", "later"]
    assert (type(stopped.raised), str(stopped.raised), type(failed.raised)) == (Stopped, "rerun requested",
                                                                               KeyboardInterrupt)
    waiting.end.set()
    later.end.set()
    waiting.join(WAIT_S)
    later.join(WAIT_S)
    both_free = [turns._turns.acquire(blocking=False) for _ in range(3)]
    assert both_free == [True, True, False]
    for _ in range(2):
        turns._turns.release()


@pytest.mark.parametrize("page", ["sent", "received"])
def test_a_page_draws_its_charts_and_table_inside_a_turn(engine, db_url, monkeypatch, page) -> None:
    """While both turns are taken, a session's run of the page waits after its total: it ends only
    after they are handed on (AppTest waits for the end of the run), with everything drawn."""
    open_shop(engine, db_url, monkeypatch, MTS)
    insert(engine, mos=MOS)
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    app.query_params.update(WEEK)
    app.run()  # the first view (Sent), the turns free
    assert total_line(app) == results(2, "en")
    app.switch_page(f"pages/{page}.py")
    taken = [turns._turns.acquire(blocking=False) for _ in range(turns.PAGES_AT_ONCE)]
    assert taken == [True, True]
    handed_on = threading.Event()

    def hand_on() -> None:
        time.sleep(BLOCKED_S)
        handed_on.set()
        for _ in taken:
            turns._turns.release()

    releaser = threading.Thread(target=hand_on, daemon=True)
    releaser.start()
    app.run()
    releaser.join(WAIT_S)
    assert handed_on.is_set()  # the run could not end before
    assert not app.exception, [e.value for e in app.exception]
    assert total_line(app) == results(2, "en")
    assert len(app.get("plotly_chart")) == CHARTS[page]
    app.run()  # the turns are free again: the next run goes straight through
    assert total_line(app) == results(2, "en")
    assert len(app.get("plotly_chart")) == CHARTS[page]
