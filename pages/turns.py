"""Page runs take turns: once a report page has drawn its total, at most `PAGES_AT_ONCE` of the
process's sessions draw the rest (charts, tables, export panel) at once; the others wait for a turn,
first come, first served.

Every page run, the webhooks' event loop and the fold share one interpreter lock, which Python
hands round among the threads that want it. When the sessions' changes arrive together (five people
opening the same shared search), five page runs each wanting ~70 ms of the lock left the event
loop a sixth of it: the loop fell behind, and webhooks waited 150-300 ms for their 200 (the loop's
stalls in BENCHMARKS.md). Two runs at once keep both cores busy (one run's query in the database,
without the lock, while the other runs Python), and the loop then waits behind at most two threads.
The runs get through as fast as before, in their order of arrival instead of all together; the
total, before the turn, still comes to every session at once.

A run that waits shows Streamlit's running indicator, as a slow query does. The Sent and Received
pages take the turn after their total and cards; a fragment's rerun (the table's page, the export
panel's progress, the automatic refresh) is short and takes none.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

PAGES_AT_ONCE = 2
_turns = threading.BoundedSemaphore(PAGES_AT_ONCE)


@contextmanager
def page_turn() -> Iterator[None]:
    """Waits for a turn, holds it while the block runs (also when the run is stopped or rerun,
    which Streamlit does by raising in the script's thread), then hands it on."""
    with _turns:
        yield
