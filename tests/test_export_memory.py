"""Exports' memory: the embedded database runs every export under `EXPORT_MEMORY_LIMIT` (read back from
DuckDB while the file is being written), gives its default back after, and the paged fetch that keeps
memory flat gives the same rows in the same order."""
import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from data_access.consolidated import ConsolidatedFilters
from data_access.engine import DatabaseError, export_memory, make_engine, open_database
from data_access.opt_out import OptOutFilters
from exports import opt_out_export
from exports.__main__ import main
from exports.export import export
from tests.factories import insert, mt_row
from tests.test_export_rows import MO_NOV10_11, MOS, MTS, NEWEST_FIRST, NOV10_11, data, fetched  # noqa: F401 (fixture)

UTC = timezone.utc
DEFAULT_BYTES = 256 * 10**6  # EXPORT_MEMORY_LIMIT's default, 256MB


def memory_limit(engine) -> str:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT current_setting('memory_limit')").scalar()


@pytest.fixture
def duckdb_data(tmp_path):
    """A DuckDB file holding the shared rows (the memory limit is a DuckDB instance's setting)."""
    engine = open_database(f"duckdb:///{tmp_path / 'report.duckdb'}")
    insert(engine, MTS, MOS)
    yield engine
    engine.dispose()


CONSOLIDATED = ConsolidatedFilters(date_from=NOV10_11.date_from, date_to=NOV10_11.date_to)


@pytest.mark.parametrize("filters, fmt, written", [
    (NOV10_11, "csv", 4), (NOV10_11, "xlsx", 4), (MO_NOV10_11, "csv", 2),
    (CONSOLIDATED, "csv", 4),  # one group a campaign
])
def test_an_export_runs_under_the_configured_limit_and_gives_the_default_back(
    duckdb_data, monkeypatch, filters, fmt, written
):
    default = memory_limit(duckdb_data)
    monkeypatch.setenv("EXPORT_MEMORY_LIMIT", "100MiB")
    seen = []
    rows = export(duckdb_data, filters, fmt, "en", io.BytesIO(), lambda done, total: seen.append(memory_limit(duckdb_data)))
    assert rows == written
    assert seen and set(seen) == {"100.0 MiB"}
    assert memory_limit(duckdb_data) == default != "100.0 MiB"


def test_the_default_limit_is_256mb(duckdb_data, monkeypatch):
    monkeypatch.delenv("EXPORT_MEMORY_LIMIT", raising=False)
    seen = []
    export(duckdb_data, NOV10_11, "csv", "pt-BR", io.BytesIO(), lambda done, total: seen.append(memory_limit(duckdb_data)))
    assert set(seen) == {f"{DEFAULT_BYTES / 2**20:.1f} MiB"} == {"244.1 MiB"}


def test_the_opt_out_file_runs_under_the_limit_too(duckdb_data, monkeypatch):
    monkeypatch.setenv("EXPORT_MEMORY_LIMIT", "1GiB")
    default = memory_limit(duckdb_data)
    seen = []

    class Out(io.BytesIO):  # the writer's first bytes are written while the export runs
        def write(self, data):
            seen.append(memory_limit(duckdb_data))
            return super().write(data)

    out = Out()
    rows = opt_out_export.export(duckdb_data, OptOutFilters(NOV10_11.date_from, NOV10_11.date_to), "csv", "en", out)
    header = next(csv.reader(io.StringIO(out.getvalue().decode("utf-8"))))
    assert header == opt_out_export.headers("en") and rows == 0
    assert set(seen) == {"1.0 GiB"}
    assert memory_limit(duckdb_data) == default


def test_overlapping_exports_keep_the_limit_until_the_last_ends(duckdb_data, monkeypatch):
    monkeypatch.setenv("EXPORT_MEMORY_LIMIT", "64MiB")
    default = memory_limit(duckdb_data)
    with export_memory(duckdb_data):
        assert export(duckdb_data, NOV10_11, "csv", "en", io.BytesIO()) == 4  # a second export starts and ends
        assert memory_limit(duckdb_data) == "64.0 MiB"
    assert memory_limit(duckdb_data) == default


def test_an_export_with_a_writer_engine_runs_under_the_limit_too(duckdb_data, monkeypatch):
    """A writer engine's connections take the process's write turn: the bound must not take one."""
    monkeypatch.setenv("EXPORT_MEMORY_LIMIT", "100MiB")
    writer = make_engine(duckdb_data.url.render_as_string(hide_password=False), busy_timeout_s=2, writer=True)
    seen = []
    try:
        rows = export(writer, NOV10_11, "csv", "en", io.BytesIO(), lambda done, total: seen.append(memory_limit(duckdb_data)))
    finally:
        writer.dispose()
    assert rows == 4 and set(seen) == {"100.0 MiB"}


@pytest.mark.parametrize("value", ["lots", "10MB", "-5GB", "256", "1.5 XB"])
def test_a_bad_setting_is_refused_with_what_is_accepted(duckdb_data, monkeypatch, tmp_path, value):
    monkeypatch.setenv("EXPORT_MEMORY_LIMIT", value)
    out = tmp_path / "sent.csv"
    with pytest.raises(DatabaseError) as raised:
        export(duckdb_data, NOV10_11, "csv", "en", out)
    assert str(raised.value) == (
        f"EXPORT_MEMORY_LIMIT={value!r} is not a size of at least 64MiB: use a number and KB, MB, GB, "
        "KiB, MiB or GiB, such as 256MB"
    )
    assert list(tmp_path.iterdir()) == [tmp_path / "report.duckdb"]  # no file, no partial file


def test_the_command_says_a_bad_setting_and_exits_1(duckdb_data, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("EXPORT_MEMORY_LIMIT", "lots")
    url = duckdb_data.url.render_as_string(hide_password=False)
    duckdb_data.dispose()
    code = main(["--view", "mt", "--format", "csv", "-o", str(tmp_path / "sent.csv"), "--db", url,
                 "--from", "2026-11-10", "--to", "2026-11-11"])
    assert code == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "exports: EXPORT_MEMORY_LIMIT='lots' is not a size of at least 64MiB: use a number and KB, MB, GB, "
        "KiB, MiB or GiB, such as 256MB"
    )


def test_the_files_are_the_same_under_the_smallest_limit(data, monkeypatch):
    """Both engines (PostgreSQL has no such limit: the setting is the embedded file's)."""
    monkeypatch.setenv("EXPORT_MEMORY_LIMIT", "64MiB")
    buffer = io.BytesIO()
    assert export(data, NOV10_11, "csv", "pt-BR", buffer) == 4
    _, *rows = csv.reader(io.StringIO(buffer.getvalue().decode("utf-8"), newline=""))
    assert [row[-1] for row in rows] == NEWEST_FIRST


# Seconds apart, then days apart, then a burst at one instant: each page's window of time has to grow
# from what the last page covered, many times, and must still give every row once, newest first.
SPREAD = [datetime(2026, 11, 11, 23, 0, tzinfo=UTC) - timedelta(seconds=s) for s in (0, 1, 2, 3, 4, 5)] + [
    datetime(2026, 11, 11, 0, 0, tzinfo=UTC) - timedelta(days=d) for d in range(0, 12, 3)
] + [datetime(2026, 10, 20, 12, 0, tzinfo=UTC)] * 4


@pytest.mark.parametrize("page_rows, limit", [(1, None), (2, None), (3, None), (5, None), (2, 9), (100, None)])
def test_paged_fetch_of_a_search_uneven_in_time(engine, page_rows, limit):
    rows = [mt_row(message_id=f"wamid.S{i:02d}", sent_at=at) for i, at in enumerate(SPREAD)]
    insert(engine, rows)
    search = NOV10_11.replace(date_from=datetime(2026, 10, 1).date(), date_to=datetime(2026, 11, 30).date())
    newest_first = sorted(rows, key=lambda r: (r["sent_at"], r["message_id"]), reverse=True)
    table = fetched(engine, search, limit, page_rows)
    assert len(newest_first) == 14
    assert table.column("message_id").to_pylist() == [r["message_id"] for r in newest_first][:limit]
    assert table.column("sent_at").to_pylist() == [r["sent_at"] for r in newest_first][:limit]
