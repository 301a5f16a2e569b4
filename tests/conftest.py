"""Shared fixtures: a real database on each engine, fresh for every test; headless Chromium and its pages.

DuckDB: a file in the test's temporary folder. PostgreSQL: a new database on the server that
`make test` starts (`.ci/with-postgres` sets TEST_POSTGRES_URL). Without that server the PostgreSQL
half fails with a message saying how to run it: it is never skipped.
"""
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy.engine import Engine

from data_access.engine import open_database
from tests.app_server import CHROMIUM, CHROMIUM_ARGS
from tests.postgres import NO_SERVER, new_postgres_database

ENGINES = ("duckdb", "postgresql")
OUTPUT_DIR = Path(__file__).resolve().parent.parent / "test-output"


@pytest.fixture(autouse=True)
def _main_module_kept() -> Iterator[None]:
    """Puts `__main__` back after each test: AppTest runs a page script as the `__main__` module and
    may leave it there, and a `spawn` child process (the demo loader's worker) would then run that
    script again while starting, die, and leave its parent waiting for it forever."""
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.fixture(params=ENGINES)
def db_url(request, tmp_path) -> Iterator[str]:
    """The URL of an empty database, once per engine."""
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path / 'report.duckdb'}"
        return
    try:
        url, drop = new_postgres_database()
    except RuntimeError:
        pytest.fail(NO_SERVER)
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def engine(db_url) -> Iterator[Engine]:
    """An engine on a migrated, empty database, once per engine."""
    eng = open_database(db_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def output_dir() -> Path:
    """Where tests keep what a person may want to look at (screenshots, exported files)."""
    OUTPUT_DIR.mkdir(exist_ok=True)
    return OUTPUT_DIR


# An `expect` without a timeout of its own waits up to 15 s (Playwright's 5 s is short for a page
# run on a busy machine), in every test that drives a browser.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, one per test module."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test (`item.report_call`...), for fixtures that look back."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def new_page(browser, request, output_dir) -> Iterator[Callable[..., Page]]:
    """Makes pages, each in a fresh browser context (no cookies) of 1440x1000, closed after the test.
    `address` is the client address the app server sees (X-Forwarded-For, trusted from loopback);
    other keywords go to `new_context` (e.g. `accept_downloads=True`, another `viewport`).
    When the test fails, each page's screenshot goes to test-output/ and what it showed in a dialog
    and logged as an error is printed with the test's report."""
    contexts, console = [], []

    def make(address: str | None = None, **options) -> Page:
        headers = {"X-Forwarded-For": address} if address else {}
        options = {"viewport": {"width": 1440, "height": 1000}, **options}
        context = browser.new_context(extra_http_headers=headers, **options)
        contexts.append(context)
        context.on("console", lambda message: console.append(f"{message.type}: {message.text}")
                   if message.type in ("error", "warning") else None)
        return context.new_page()

    yield make
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        _show_pages(request.node.name, contexts, console, output_dir)
    for context in contexts:
        context.close()


def _show_pages(test: str, contexts: list, console: list[str], output_dir: Path) -> None:
    """Prints what a failed test's pages showed: their address, any open dialog's text, the console's
    errors and warnings; saves a screenshot of each."""
    name = "".join(c if c.isalnum() or c in "-_" else "_" for c in test)
    for number, page in enumerate(p for context in contexts for p in context.pages):
        shot = output_dir / f"failed-{name}-{number}.png"
        try:
            page.screenshot(path=shot, full_page=True, timeout=5_000)
            dialogs = page.get_by_role("dialog").all_inner_texts()
        except Exception as error:  # the page may be gone with the failure; what is left is still shown
            dialogs = [f"(not read: {error})"]
        print(f"page {number}: {page.url}; screenshot {shot.name}; dialogs: {dialogs}")
    print("console:", *console[-30:], sep="\n  ")


@pytest.fixture
def page(new_page) -> Page:
    """One page in a fresh browser context."""
    return new_page()
