"""Readers never starve a writer (SPEC section 7), with a real browser: while one page refreshes
itself every second and another opens a new search every second, `python -m data_access.ingest`
of a large file runs through the app server to the end, every row is there, and the pages show it
without a raw database error.
"""
import re
import subprocess
import sys
import time

import pytest
from playwright.sync_api import expect

from data_access.engine import open_database
from data_access.ingest import synthetic
from tests.app_server import ROOT, served_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PERIOD = "from=2025-05-01&to=2025-12-31"
SHOWN_MS = 60_000
INGEST_LIMIT_S = 240



def _write(path, messages: int, seed: int) -> set[str]:
    traffic = synthetic.generate(messages, seed=seed)
    synthetic.write_jsonl(path, synthetic.webhook_lines(traffic, seed=seed))
    return {log["message_id"] for log in traffic.send_logs}


def _pt_int(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def test_a_large_ingest_finishes_while_pages_refresh_every_second(browser, tmp_path):
    url = f"duckdb:///{tmp_path / 'report.duckdb'}"
    first = _write(tmp_path / "first.jsonl", 500, seed=21)
    large = _write(tmp_path / "large.jsonl", 20_000, seed=22)  # about 69,000 records, 34 MB
    assert subprocess.run([sys.executable, "-m", "data_access.ingest", "--db", url, str(tmp_path / "first.jsonl")],
                          cwd=ROOT, capture_output=True).returncode == 0
    log = tmp_path / "streamlit.log"
    with served_app(url, log) as base:
        steady = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        steady.goto(f"{base}/sent?{PERIOD}")
        expect(steady.get_by_role("heading", name=f"{len(first)} resultados", exact=True)).to_be_visible(
            timeout=SHOWN_MS)
        steady.get_by_text("Atualizar automaticamente").click()
        slider = steady.get_by_role("slider")
        expect(slider).to_be_visible(timeout=SHOWN_MS)
        slider.focus()
        slider.press("Home")  # every 1 s
        expect(slider).to_have_attribute("aria-valuetext", "1", timeout=SHOWN_MS)
        clicking = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()

        started = time.monotonic()
        ingest = subprocess.Popen(
            [sys.executable, "-m", "data_access.ingest", "--db", url, str(tmp_path / "large.jsonl")],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        searches = 0
        while ingest.poll() is None and time.monotonic() - started < INGEST_LIMIT_S:
            status = ("read", "delivered", "sent")[searches % 3]
            clicking.goto(f"{base}/sent?{PERIOD}&status={status}")
            clicking.wait_for_timeout(1000)
            searches += 1
        out, err = ingest.communicate(timeout=30)
        took = time.monotonic() - started

        assert (ingest.returncode, err) == (0, ""), (out, err)
        assert searches >= 3  # the pages were in use during the ingest
        assert took < INGEST_LIMIT_S
        total = len(first | large)
        expect(steady.get_by_role("heading", name=f"{_pt_int(total)} resultados", exact=True)).to_be_visible(
            timeout=SHOWN_MS)  # the automatic refresh showed the new data
        expect(steady.get_by_text(re.compile(r"dados atualizados há \d+ s"))).to_be_visible()
        for page in (steady, clicking):
            assert "Resource In Use" not in page.content()
            expect(page.get_by_test_id("stException")).to_have_count(0)
    engine = open_database(url)
    try:
        with engine.connect() as conn:
            ids = {row[0] for row in conn.exec_driver_sql("SELECT message_id FROM mt_message WHERE has_send_log")}
    finally:
        engine.dispose()
    assert ids == first | large
