"""The total before the sidebar: a search's run sends the page's "N results" before any element of the
sidebar (its filters, its saved searches), so that a change shows its new total without waiting for
the sidebar's forty-odd messages. Read at Streamlit's protocol, from a real app server, in the order
the browser receives them."""
import asyncio

import websockets

from bench.sessions import Run, one_run, rerun_message
from tests.app_server import serve_rows
from tests.factories import at, mt_row

PERIOD = "from=2026-11-01&to=2026-11-20&lang=en"
STATUSES = ["delivered"] * 3 + ["read"] * 2 + ["undelivered"]


def test_a_search_s_total_comes_before_the_sidebar(tmp_path) -> None:
    rows = [mt_row(sent_at=at(10 + i), status=status) for i, status in enumerate(STATUSES)]
    rows.append(mt_row(sent_at=at(25), status="read"))  # after the period

    async def open_then_change(base: str) -> list[Run]:
        stream = base.replace("http://", "ws://") + "/_stcore/stream"
        async with websockets.connect(stream, subprotocols=["streamlit"], max_size=None) as ws:
            return [await one_run(ws, rerun_message(query), 60)
                    for query in (PERIOD, PERIOD + "&status=read", PERIOD + "&status=read&status=undelivered")]

    with serve_rows(tmp_path, rows, []) as base:
        runs = asyncio.run(open_then_change(base))

    assert [(run.error, run.total) for run in runs] == [(None, "6 results"), (None, "2 results"),
                                                         (None, "3 results")]
    for run in runs:
        assert run.sidebar_before_total == 0
        # the sidebar is drawn, after the total: its date inputs, multiselects, saved searches
        assert run.sidebar_elements >= 10
