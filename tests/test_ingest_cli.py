"""`python -m data_access.ingest`: exit codes, the summary, standard input, waiting for the file."""
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from data_access.engine import open_database
from data_access.ingest.loader import MAX_BATCH_SECONDS
from data_access.ingest.progress import LARGE_INPUT_BYTES, Progress
from tests.test_ingest_support import PUBLIC, meta_status, mt_row, send_log, write_lines

ROOT = Path(__file__).resolve().parent.parent


def ingest(*args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "data_access.ingest", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def summary_table(stdout: str) -> list[list[str]]:
    """The summary's table lines, split into cells (the timing line after it varies)."""
    lines = stdout.strip().splitlines()
    return [line.split() for line in lines[: lines.index(next(l for l in lines if l.startswith("total"))) + 1]]


def test_loads_files_and_prints_the_summary(db_url, tmp_path) -> None:
    meta = tmp_path / "meta.json"
    meta.write_text(PUBLIC["meta_status_sent_marketing.json"], encoding="utf-8")
    latam = tmp_path / "latam.json"
    latam.write_text(PUBLIC["sinch_messaging_wa_status_callback.json"], encoding="utf-8")
    log = write_lines(tmp_path / "log.jsonl", send_log("m1", 0), send_log("m2", 0), send_log("m1", 0))
    done = ingest("--db", db_url, str(meta), str(latam), str(log))
    assert (done.returncode, done.stderr) == (0, "")
    assert summary_table(done.stdout) == [
        ["format", "read", "accepted", "duplicates", "rejected", "rejected_parts", "events"],
        ["send_log", "3", "2", "1", "0", "0", "2"],
        ["meta", "1", "1", "0", "0", "0", "1"],
        ["sinch_latam", "1", "1", "0", "0", "0", "3"],
        ["total", "5", "4", "1", "0", "0", "6"],
    ]
    assert done.stdout.strip().splitlines()[-1].startswith("6 events in ")
    engine = open_database(db_url)
    try:
        assert mt_row(engine, "m2")["has_send_log"] is True
    finally:
        engine.dispose()


def test_exit_code_1_when_anything_was_rejected(db_url, tmp_path) -> None:
    path = write_lines(
        tmp_path / "day.jsonl", meta_status("wamid.A", "sent", 0), '{"oops"', send_log("m", 0, phone="123")
    )
    done = ingest("--db", db_url, str(path))
    assert done.returncode == 1
    assert summary_table(done.stdout) == [
        ["format", "read", "accepted", "duplicates", "rejected", "rejected_parts", "events"],
        ["send_log", "1", "0", "0", "1", "0", "0"],
        ["meta", "1", "1", "0", "0", "0", "1"],
        ["unknown", "1", "0", "0", "1", "0", "0"],
        ["total", "3", "1", "0", "2", "0", "1"],
    ]
    assert done.stdout.strip().splitlines()[-1] == "2 rejected: see the rejected_record table (file, line, reason)"


def test_standard_input_and_database_url_from_the_environment(tmp_path) -> None:
    url = f"duckdb:///{tmp_path / 'env.duckdb'}"
    lines = "\n".join(json.dumps(r) for r in (send_log("m1", 0), meta_status("m1", "read", 9))) + "\n{bad\n"
    done = ingest("-", stdin=lines, env={"DATABASE_URL": url})
    assert done.returncode == 1, done.stderr
    engine = open_database(url)
    try:
        assert mt_row(engine, "m1")["status"] == "read"
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT file, line FROM rejected_record").all() == [("<stdin>", 3)]
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope.jsonl"], "ingest: no such file: nope.jsonl"),
        (["tests"], "ingest: not a file: tests (give the files to load, not a folder)"),
        (["-", "-"], "ingest: '-' (standard input) can be given only once"),
        ([], "ingest: the following arguments are required: PATH; usage: python -m data_access.ingest "
             "[--db URL] PATH... ('-' reads standard input)"),
        (["--db", "mysql://u@h/db", "x"], None),
        (["--db", "duckdb:///:memory:", "x"], None),
        (["--bogus", "x"], "ingest: unrecognized arguments: --bogus; usage: python -m data_access.ingest "
                           "[--db URL] PATH... ('-' reads standard input)"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path, args, message) -> None:
    present = tmp_path / "x"
    present.write_text("")
    args = [str(present) if a == "x" else a for a in args]
    done = ingest(*args, env={"DATABASE_URL": f"duckdb:///{tmp_path / 'never.duckdb'}"})
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    if message is not None:
        assert line == message
    else:
        assert line.startswith("ingest: ") and "use duckdb:///PATH/TO/FILE.duckdb or postgresql+psycopg://" in line
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "never.duckdb").exists()


def test_unreachable_postgresql_exits_2_with_one_line(tmp_path) -> None:
    done = ingest("--db", "postgresql+psycopg://nobody@127.0.0.1:1/nothing", str(write_lines(tmp_path / "a.jsonl")))
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("ingest: cannot open database postgresql+psycopg://nobody@127.0.0.1:1/nothing: ")


def test_waits_for_a_process_holding_the_file_and_says_so(tmp_path) -> None:
    path = tmp_path / "busy.duckdb"
    open_database(f"duckdb:///{path}").dispose()
    # The other process holds the file until told to let go: after the ingest said it waits.
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(path)!r}); print('held', flush=True); "
                               "sys.stdin.readline()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        lines = write_lines(tmp_path / "a.jsonl", send_log("m1", 0))
        run = subprocess.Popen([sys.executable, "-m", "data_access.ingest", "--db", f"duckdb:///{path}", str(lines)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = run.stderr.readline()
        assert run.poll() is None  # still waiting for the file
        holder.communicate("go\n", timeout=30)
        out, rest = run.communicate(timeout=120)
    finally:
        holder.kill()
    assert run.returncode == 0, first + rest
    assert first == "ingest: the database file is in use by another process (the dashboard?); waiting up to 30 s for it...\n"
    assert "1 events" in out
    assert duckdb.connect(str(path), read_only=True).execute("SELECT count(*) FROM mt_message").fetchone() == (1,)


def test_a_slow_pipe_shows_what_came_while_it_is_still_open(tmp_path) -> None:
    url = f"duckdb:///{tmp_path / 'live.duckdb'}"
    open_database(url).dispose()
    live = subprocess.Popen(
        [sys.executable, "-m", "data_access.ingest", "--db", url, "-"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    records = [send_log("m1", 0), meta_status("m1", "delivered", 9)]
    records += [meta_status(f"later-{n}", "sent", n) for n in range(60)]  # a stream that goes on
    row, sent = None, 0
    try:
        # A batch older than MAX_BATCH_SECONDS is written when its next record comes.
        deadline = time.monotonic() + 4 * MAX_BATCH_SECONDS + 20
        while row is None and time.monotonic() < deadline and sent < len(records):
            live.stdin.write(json.dumps(records[sent]) + "\n")
            live.stdin.flush()
            sent += 1
            time.sleep(1)
            engine = open_database(url)
            try:
                row = mt_row(engine, "m1")
            finally:
                engine.dispose()
        assert live.poll() is None  # still reading
        assert (row["status"], row["has_send_log"]) == ("delivered", True)
        assert sent < len(records)
    finally:
        live.stdin.close()
        assert live.wait(timeout=60) == 0


def test_a_script_read_from_standard_input_falls_back_to_the_writer_thread(tmp_path) -> None:
    """`spawn` cannot start a child for a script that came on standard input: the run goes on in a thread."""
    url = f"duckdb:///{tmp_path / 'stdin.duckdb'}"
    path = write_lines(tmp_path / "a.jsonl", send_log("m1", 0), meta_status("m1", "read", 5))
    script = (
        "import io\n"
        "from data_access.ingest import ingest_paths\n"
        f"summary = ingest_paths({url!r}, [{str(path)!r}], writer='process', stderr=io.StringIO())\n"
        "print(summary.total.accepted, summary.exit_code)\n"
    )
    done = subprocess.run([sys.executable, "-"], cwd=ROOT, input=script, capture_output=True, text=True, timeout=120)
    assert done.stdout == "2 0\n", done.stderr
    engine = open_database(url)
    try:
        assert mt_row(engine, "m1")["status"] == "read"
    finally:
        engine.dispose()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_drawn_in_place_on_a_terminal_after_the_first_second() -> None:
    screen = _Terminal()
    progress = Progress(1000, screen)
    progress.read(500)
    assert screen.getvalue() == ""  # too early: small inputs never show it
    progress.started -= 2  # as if the run had begun two seconds ago
    progress.read(250)
    progress.close()
    line = "\ringest: [" + "#" * 22 + " " * 8 + "]  75% 0.0 MB of 0.0 MB, 0 events, 0/s\x1b[K"
    assert screen.getvalue() == line + line + "\n"  # drawn, then drawn once more and ended by close()


def test_progress_into_a_pipe_only_for_large_inputs() -> None:
    small, large = io.StringIO(), io.StringIO()
    for stream, total in ((small, 1000), (large, LARGE_INPUT_BYTES)):
        progress = Progress(total, stream)
        for _ in range(4):
            progress.read(total // 4)
        progress.close()
    assert small.getvalue() == ""
    shares = [line.split("]")[1].split("%")[0].strip() for line in large.getvalue().splitlines()]
    assert shares == ["25", "50", "75", "100"]
