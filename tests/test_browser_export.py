"""The export panel seen from the browser on a large search: an idle tab sends the server nothing;
a click on a format downloads the file from the app server's route (server/download.py), which the
browser fetches by itself: the page sends the server nothing meanwhile."""
import csv
import io
import time
from collections.abc import Iterator
from datetime import date, datetime, time as clock, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from data_access import accounts
from data_access.demo.loader import generate
from data_access.engine import open_database
from data_access.schema import mt_message
from tests.app_server import served_app
from tests.factories import insert
from tests.test_export_rows import MOS, MTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DAY = date(2026, 11, 16)
TZ = ZoneInfo("America/Sao_Paulo")
SHOWN_MS = 60_000
QUIET_S = 4.0


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, int]]:
    """The app on a DuckDB file of 60,000 demo MTs over one day; (its base URL, MTs on DAY)."""
    folder = tmp_path_factory.mktemp("export_browser")
    url = f"duckdb:///{folder / 'report.duckdb'}"
    engine = open_database(url)
    generate(engine, 60_000, 1, 7, DAY)
    start = datetime.combine(DAY, clock.min, tzinfo=TZ)
    when = mt_message.c.sent_at
    with engine.connect() as conn:
        on_day = conn.execute(sa.select(sa.func.count()).where(when >= start, when < start + timedelta(days=1))).scalar()
    engine.dispose()
    with served_app(url, folder / "streamlit.log") as base:
        yield base, on_day



@pytest.fixture
def page(new_page) -> Page:
    return new_page(accept_downloads=True)


def messages_in(sent: list[bytes | str], seconds: float, page: Page) -> int:
    """How many messages the page sends the server in the next `seconds`."""
    before = len(sent)
    page.wait_for_timeout(seconds * 1000)
    return len(sent) - before


def settle(sent: list[bytes | str], page: Page, limit_s: float = 30) -> None:
    """Waits until the page's run is over and it has sent nothing for 2 s (its first runs are over); a
    page that keeps polling never settles, and the test's next check then fails."""
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=limit_s * 1000)
    deadline = time.monotonic() + limit_s
    while messages_in(sent, 2, page) and time.monotonic() < deadline:
        pass


def test_an_idle_large_search_sends_nothing_and_a_download_comes_from_the_route(served, page):
    base, on_day = served
    assert on_day > 50_000
    sent: list[bytes | str] = []
    page.on("websocket", lambda socket: socket.on("framesent", lambda payload: sent.append(payload)))
    page.goto(f"{base}/sent?from={DAY}&to={DAY}&lang=en")
    caption = f"CSV: {on_day:,} rows · XLSX: {on_day:,} rows · PDF: the first 10,000 rows (the PDF's limit)"
    expect(page.get_by_text(caption, exact=True)).to_be_visible(timeout=SHOWN_MS)
    settle(sent, page)  # the first run's last messages
    assert messages_in(sent, QUIET_S, page) == 0

    link = page.get_by_role("link", name="CSV")
    assert link.get_attribute("href").startswith("/download/")
    started = len(sent)
    with page.expect_download(timeout=SHOWN_MS) as download:
        link.click()
    assert download.value.suggested_filename == f"report-sent-{DAY}_{DAY}.csv"
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read(), newline="")))
    assert len(rows) == on_day + 1
    assert len(sent) == started  # the browser fetched the file; the page's session heard nothing
    assert messages_in(sent, QUIET_S, page) == 0


PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def with_accounts(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """The app on a DuckDB file of the export tests' rows, with an analyst of Varejo; (base URL, database URL)."""
    folder = tmp_path_factory.mktemp("export_accounts")
    url = f"duckdb:///{folder / 'report.duckdb'}"
    engine = open_database(url)
    insert(engine, MTS, MOS)
    accounts.add_account(engine, "bia@example.com", "analyst", "Bia", ("Varejo",), PASSWORD)
    engine.dispose()
    with served_app(url, folder / "streamlit.log") as base:
        yield base, url


def test_a_signed_in_analyst_downloads_the_rows_of_its_subaccount(with_accounts, page):
    base, _ = with_accounts
    page.goto(f"{base}/sent?from=2026-11-10&to=2026-11-11&lang=en")
    page.get_by_label("Email", exact=True).fill("bia@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text("3 rows will be exported", exact=True)).to_be_visible(timeout=SHOWN_MS)
    with page.expect_download(timeout=SHOWN_MS) as download:
        page.get_by_role("link", name="XLSX").click()
    assert download.value.suggested_filename == "report-sent-2026-11-10_2026-11-11.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    sheet = book["Data"]
    header = [cell.value for cell in sheet[1]]
    rows = [(row[-1], row[header.index("Subaccount")]) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert rows == [("wamid.A3", "Varejo"), ("wamid.A4", "Varejo"), ("wamid.A1", "Varejo")]  # not A2 (Atacado)
