"""`bench.load_profile` on a real app server and Debian's Chromium: one fresh load of /sent traced,
read back as contiguous phases ending when the page is complete, with the moments the page's own
requests and websocket show, in the order the page must go through them."""
import json
from datetime import date

import pytest

from bench.first_load import searches
from bench.load_profile import KINDS, kind_of, trace_load
from tests.app_server import serve_rows
from tests.factories import at, mt_row

pytestmark = pytest.mark.browser

PHASES = ["page answer", "modules (to DOMContentLoaded)", "frontend start (to websocket open)",
          "script's messages (to total)", "plotly and first chart", "rest (to complete)"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    rows = [mt_row(sent_at=at(10 + i % 5, 9 + i % 7), status=("read", "delivered", "undelivered")[i % 3])
            for i in range(30)]
    with serve_rows(tmp_path_factory.mktemp("profile"), rows, []) as base:
        yield base


def test_one_fresh_load_in_phases(server, tmp_path):
    trace = tmp_path / "trace.json"
    result = trace_load(server, searches(date(2026, 11, 20), 90, 1)[0], trace,
                        warm_query="lang=en&from=2026-11-09&to=2026-11-15")
    phases, moments, figures = result["phases"], result["moments_ms"], result["figures"]
    assert [p["phase"] for p in phases] == PHASES
    assert phases[0]["from_ms"] == 0
    assert all(a["to_ms"] == b["from_ms"] for a, b in zip(phases, phases[1:]))
    assert phases[-1]["to_ms"] == round(figures["complete_ms"] + 1)
    assert all(p["wall_ms"] == p["to_ms"] - p["from_ms"] >= 0 for p in phases)
    assert phases[3]["to_ms"] == round(figures["total_ms"])
    assert phases[4]["to_ms"] == round(figures["first_chart_ms"])
    # the page's own order: its answer, then its modules asked for with it (plotly's and the fonts
    # from its preload list), DOMContentLoaded, the websocket, its first message
    dcl = moments["domContentLoadedEventEnd"]
    assert moments["page"][0] < moments["plotly"][0] < dcl and moments["page"][0] < moments["page"][1] < dcl
    assert moments["plotly"][0] < dcl and moments["icons_font"][0] < dcl and moments["code_font"][0] < dcl
    assert dcl < moments["websocket_open"] <= moments["first_message"] < figures["total_ms"]
    assert moments["scripts"] > 100
    # plotly's chunk is evaluated and draws the first chart: its code is where that phase's time went
    assert any(name.startswith("PlotlyChart.") for name in phases[4]["by_script_ms"])
    assert set(phases[4]["by_kind_ms"]) <= {*KINDS, "other"}
    assert json.loads(trace.read_bytes())["traceEvents"]  # the trace itself, for DevTools


@pytest.mark.parametrize(("name", "kind"), [
    ("V8.CompileCode", "compile"), ("v8.compileModule", "compile"), ("FunctionCall", "script"),
    ("v8.evaluateModule", "script"), ("MinorGC", "gc"), ("V8.GC_MC_EVACUATE", "gc"), ("Layout", "style_layout"),
    ("UpdateLayoutTree", "style_layout"), ("Paint", "paint"), ("ParseHTML", "html"), ("RunTask", "other"),
])
def test_kinds_of_work(name, kind):
    assert kind_of(name) == kind
