"""Page runs take turns (pages/turns.py): at most two at once, the others in their order of arrival,
a turn is handed on however the run ends (finished, raised, stopped), a waiting run can be stopped
(a changed search) and goes on without a turn after a while, and the Sent and Received pages draw
what comes after their total inside a turn (AppTest, both engines)."""
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
HOLD_S = 60  # a run holds its turn at most this long (the test ends it sooner)
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
                self.end.wait(HOLD_S)
                if self.error is not None:
                    raise self.error
        except BaseException as exc:  # noqa: BLE001 - the test reads what left the block
            self.raised = exc


def _started(run: PageRun, gets_in: bool) -> PageRun:
    """Starts `run` and returns once it is inside (`gets_in`), or after half a second without getting
    in (it waits for a turn)."""
    run.start()
    if gets_in:
        assert run.inside.wait(WAIT_S), f"{run.name} got no turn"
    else:
        assert not run.inside.wait(0.5), f"{run.name} got a turn"
    return run


@pytest.fixture
def no_fallback(monkeypatch) -> None:
    """A waiting run goes on without a turn only after 2 minutes: in these tests, getting in means a
    turn was handed on."""
    assert turns.WAIT_LIMIT_S == 10.0
    monkeypatch.setattr(turns, "WAIT_LIMIT_S", 120.0)


def both_turns_free() -> bool:
    taken = [turns._turns.acquire(blocking=False) for _ in range(3)]
    for _ in range(sum(taken)):
        turns._turns.release()
    return taken == [True, True, False]


def test_two_pages_at_once_the_third_waits_its_turn_in_order(no_fallback) -> None:
    assert turns.PAGES_AT_ONCE == 2
    order: list[str] = []
    first = _started(PageRun("first", order), gets_in=True)
    second = _started(PageRun("second", order), gets_in=True)
    third = _started(PageRun("third", order), gets_in=False)
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
    assert both_turns_free()


class Stopped(Exception):
    """Stands for Streamlit's StopException / RerunException raised into a script thread."""


def test_a_run_ended_by_an_exception_hands_its_turn_on(no_fallback) -> None:
    order: list[str] = []
    stopped = _started(PageRun("stopped", order, Stopped("rerun requested")), gets_in=True)
    failed = _started(PageRun("failed", order, KeyboardInterrupt()), gets_in=True)
    waiting = _started(PageRun("waiting", order), gets_in=False)
    stopped.end.set()
    failed.end.set()
    stopped.join(WAIT_S)
    failed.join(WAIT_S)
    assert waiting.inside.wait(WAIT_S)
    later = _started(PageRun("later", order), gets_in=True)  # the second turn was handed on too
    assert order == ["stopped", "failed", "waiting", "later"]
    assert (type(stopped.raised), str(stopped.raised), type(failed.raised)) == (Stopped, "rerun requested",
                                                                               KeyboardInterrupt)
    waiting.end.set()
    later.end.set()
    waiting.join(WAIT_S)
    later.join(WAIT_S)
    assert both_turns_free()


@pytest.mark.parametrize("page", ["sent", "received"])
def test_a_page_draws_its_charts_and_table_inside_a_turn(engine, db_url, monkeypatch, page) -> None:
    """While both turns are taken, a session's run of the page waits after its total: it ends only
    after they are handed on (AppTest waits for the end of the run), with everything drawn."""
    open_shop(engine, db_url, monkeypatch, MTS)
    insert(engine, mos=MOS)
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(str(ROOT / "router" / "dashboard.py"), default_timeout=60)
    app.query_params.update(WEEK)
    app.run()  # the first view (Sent), the turns free
    assert total_line(app) == results(2, "en")
    app.switch_page(f"../pages/{page}.py")
    taken = [turns._turns.acquire(blocking=False) for _ in range(turns.PAGES_AT_ONCE)]
    assert taken == [True, True]
    handed_on = threading.Event()

    def hand_on() -> None:
        time.sleep(BLOCKED_S)
        handed_on.set()
        for _ in taken:
            turns._turns.release()

    releaser = threading.Thread(target=hand_on, daemon=True)
    started = time.monotonic()
    releaser.start()
    try:
        app.run()
        assert handed_on.is_set()  # the run could not end before the turns were handed on
        assert time.monotonic() - started >= BLOCKED_S
    finally:
        releaser.join(WAIT_S)
    assert not app.exception, [e.value for e in app.exception]
    assert total_line(app) == results(2, "en")
    assert len(app.get("plotly_chart")) == CHARTS[page]
    app.run()  # the turns are free again: the next run goes straight through
    assert total_line(app) == results(2, "en")
    assert len(app.get("plotly_chart")) == CHARTS[page]


class Placeholder:
    """Stands for the empty placeholder a waiting run redraws: Streamlit raises its stop there when
    the run is to stop or rerun; this one raises `Stopped` at its `stop_at`-th redraw."""

    def __init__(self, stop_at: int) -> None:
        self.stop_at, self.redrawn = stop_at, 0

    def empty(self) -> None:
        self.redrawn += 1
        if self.redrawn == self.stop_at:
            raise Stopped("rerun requested")


def _hold_all() -> list[bool]:
    return [turns._turns.acquire(blocking=False) for _ in range(turns.PAGES_AT_ONCE)]


def test_a_waiting_run_asked_to_stop_leaves_at_once_without_a_turn(monkeypatch) -> None:
    """While the turns are taken, the waiting run redraws its placeholder every LOOK_EVERY_S, which
    is where Streamlit stops it: a changed search does not wait for the old run's turn."""
    placeholder = Placeholder(stop_at=3)
    monkeypatch.setattr(turns.st, "empty", lambda: placeholder)
    assert _hold_all() == [True, True]
    started = time.monotonic()
    try:
        with pytest.raises(Stopped), turns.page_turn():
            pytest.fail("the block ran without a turn")
        waited = time.monotonic() - started
    finally:
        for _ in range(turns.PAGES_AT_ONCE):
            turns._turns.release()
    assert placeholder.redrawn == 3
    assert 3 * turns.LOOK_EVERY_S <= waited < 3 * turns.LOOK_EVERY_S + 5.0  # generous: a busy machine
    assert _hold_all() == [True, True]  # it took none: both free
    for _ in range(turns.PAGES_AT_ONCE):
        turns._turns.release()


def test_a_run_stopped_as_its_turn_comes_hands_it_on(monkeypatch) -> None:
    placeholder = Placeholder(stop_at=1)  # the first redraw is the one after the turn came
    monkeypatch.setattr(turns.st, "empty", lambda: placeholder)
    with pytest.raises(Stopped), turns.page_turn():
        pytest.fail("the block ran for a stopped run")
    assert _hold_all() == [True, True]
    for _ in range(turns.PAGES_AT_ONCE):
        turns._turns.release()


def test_a_run_that_waited_too_long_goes_on_without_a_turn(monkeypatch, caplog) -> None:
    placeholder = Placeholder(stop_at=0)  # never stopped
    monkeypatch.setattr(turns.st, "empty", lambda: placeholder)
    monkeypatch.setattr(turns, "WAIT_LIMIT_S", 0.5)
    assert _hold_all() == [True, True]
    ran = []
    started = time.monotonic()
    try:
        with turns.page_turn():
            ran.append(time.monotonic() - started)
        assert turns._turns.acquire(blocking=False) is False  # it did not take one, nor give one back
    finally:
        for _ in range(turns.PAGES_AT_ONCE):
            turns._turns.release()
    assert len(ran) == 1 and 0.5 <= ran[0] < 0.5 + 5.0
    assert placeholder.redrawn >= 4  # every LOOK_EVERY_S while it waited
    assert "page turns: none free after 0.5 s, drawing without one" in caplog.text
