"""Page runs take turns: once a report page has drawn its total, at most `PAGES_AT_ONCE` of the
process's sessions draw the rest (charts, tables, export panel) at once; the others wait for a turn,
roughly in their order of arrival.

Every page run, the webhooks' event loop and the fold share one interpreter lock, which Python
hands round among the threads that want it. When the sessions' changes arrive together (five people
opening the same shared search), five page runs each wanting ~70 ms of the lock left the event
loop a sixth of it: the loop fell behind, and webhooks waited up to 250-340 ms for their 200
(BENCHMARKS.md). Two runs at once keep both cores busy (one run's query in the database, without
the lock, while the other runs Python), and the loop then competes with two page runs at most, not
five (besides the fold and the parts of runs before their turn).
The runs get through as fast as before, roughly in their order of arrival instead of all together; the
total, before the turn, still comes to every session at once.

A run that waits shows Streamlit's running indicator, as a slow query does. Streamlit acts on a
request to stop or rerun a run (the person changed the search meanwhile, or left) only when the
script draws something, so a waiting run redraws an empty placeholder every `LOOK_EVERY_S`: a new
search does not wait for the old one's turn. A run that has waited `WAIT_LIMIT_S` goes on without a
turn (a query stuck in one session must not freeze every session's charts). The Sent and Received
pages take the turn after their total and cards; a fragment's rerun (the table's page, the export
panel's progress, the automatic refresh) is short and takes none.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

PAGES_AT_ONCE = 2
LOOK_EVERY_S = 0.1
WAIT_LIMIT_S = 10.0
LOG = logging.getLogger(__name__)
_turns = threading.BoundedSemaphore(PAGES_AT_ONCE)


@contextmanager
def page_turn() -> Iterator[None]:
    """Waits for a turn, holds it while the block runs (also when the run is stopped or rerun,
    which Streamlit does by raising in the script's thread), then hands it on."""
    slot = st.empty()
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not _turns.acquire(timeout=LOOK_EVERY_S):
        slot.empty()  # Streamlit raises here when the run is to stop: no turn was taken
        if time.monotonic() >= deadline:
            LOG.warning("page turns: none free after %.1f s, drawing without one", WAIT_LIMIT_S)
            yield
            return
    try:
        slot.empty()  # asked to stop while the turn came: it is handed on at once
        yield
    finally:
        _turns.release()
