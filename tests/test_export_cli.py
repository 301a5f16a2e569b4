"""`python -m exports` (SPEC section 6): files of the search, exit 2 with one line on bad arguments."""
import csv
import errno
import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from data_access import saved_searches
from data_access.engine import open_database
from exports import export as export_module
from exports.__main__ import main
from tests.test_export_rows import NOV10_11, data  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parent.parent
PERIOD = ["--from", "2026-11-10", "--to", "2026-11-11"]


def run(argv: list[str], capsys) -> tuple[int, list[str]]:
    code = main(argv)
    captured = capsys.readouterr()
    assert captured.out == ""
    return code, captured.err.splitlines()


def csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def test_csv_of_the_search(data, db_url, tmp_path, capsys):
    out = tmp_path / "sent.csv"
    code, err = run(["--view", "mt", "--format", "csv", "-o", str(out), "--db", db_url, *PERIOD,
                     "--status", "read", "--status", "undelivered", "--lang", "pt-BR"], capsys)
    assert code == 0
    header, *rows = csv_rows(out)
    assert header[:2] == ["Enviado", "Status"]
    assert [(row[0], row[1], row[-1]) for row in rows] == [
        ("2026-11-10T12:30:45-03:00", "Não entregue", "wamid.A2"),
        ("2026-11-10T00:00:00-03:00", "Lida", "wamid.A1"),
    ]
    assert err[0] == "exports: 0 of 2 rows"
    assert err[-1].startswith(f"exports: wrote 2 rows to {out} in ")


def test_xlsx_in_english_and_utc_with_repeated_and_dashed_options(data, db_url, tmp_path, capsys):
    out = tmp_path / "sent.xlsx"
    code, _ = run(["--view", "mt", "--format", "xlsx", "-o", str(out), "--db", db_url, *PERIOD,
                   "--lang", "en", "--tz", "UTC", "--content-type", "template", "--session", "closed",
                   "--campaign=-10% off", "--user", "@admin", "--phone", "+55 11 9000-00002"], capsys)
    assert code == 0
    book = openpyxl.load_workbook(out)
    rows = list(book["Data"].iter_rows(values_only=True))
    assert [(row[1], row[-1]) for row in rows[1:]] == [("Not delivered", "wamid.A2")]
    assert rows[1][0].isoformat() == "2026-11-10T15:30:45"
    values = {name: value for name, value in book["Filters"].iter_rows(values_only=True) if name}
    assert (values["Time zone"], values["Campaign"], values["User"], values["Contact or phone number"]) == (
        "UTC", "-10% off", "@admin", "+5511900000002"
    )
    assert (values["Sent with session"], values["Content type"]) == ("Closed", "Template")


def test_received_view_filters_by_button(data, db_url, tmp_path, capsys):
    out = tmp_path / "received.csv"
    code, _ = run(["--view", "mo", "--format", "csv", "-o", str(out), "--db", db_url, *PERIOD,
                   "--button", "Sim, quero 👍", "--lang", "en"], capsys)
    assert code == 0
    header, *rows = csv_rows(out)
    assert header[0] == "Replied"
    assert [row[-1] for row in rows] == ["wamid.R1"]


def test_a_saved_search_and_options_that_override_it(data, db_url, tmp_path, capsys):
    saved_searches.save(data, "Lidas", NOV10_11.replace(status=("read",), tz="UTC"), "en")
    out = tmp_path / "saved.csv"
    code, _ = run(["--view", "mt", "--format", "csv", "-o", str(out), "--db", db_url, "--saved", "Lidas"], capsys)
    assert code == 0
    header, *rows = csv_rows(out)
    assert header[1] == "Status"  # the search's language
    assert [(row[0], row[1], row[-1]) for row in rows] == [("2026-11-10T03:00:00+00:00", "Read", "wamid.A1")]
    code, _ = run(["--view", "mt", "--format", "csv", "-o", str(out), "--db", db_url, "--saved", "Lidas",
                   "--status", "sent", "--tz", "America/Sao_Paulo", "--lang", "es"], capsys)
    assert code == 0
    header, *rows = csv_rows(out)
    assert [(row[0], row[1], row[-1]) for row in rows] == [("2026-11-11T23:59:59-03:00", "Enviado", "wamid.A3")]
    code, err = run(["--view", "mo", "--format", "csv", "-o", str(out), "--db", db_url, "--saved", "Lidas"], capsys)
    assert (code, err) == (2, ["exports: saved search 'Lidas' is a search of --view mt, not --view mo"])
    code, err = run(["--view", "mt", "--format", "csv", "-o", str(out), "--db", db_url, "--saved", "Lida"], capsys)
    assert (code, err) == (2, ["exports: unknown saved search 'Lida': available are 'Lidas'"])


@pytest.mark.parametrize(
    "options, message",
    [
        (["--status", "nope"], "exports: unknown status 'nope': accepted are sent, delivered, read, ttl_expired,"),
        (["--from", "2026-13-01"], "exports: bad date from='2026-13-01': use YYYY-MM-DD, e.g. 2026-11-25"),
        (["--from", "2026-11-05", "--to", "2026-11-01"],
         "exports: --to 2026-11-01 is before --from 2026-11-05: the end date must be on or after the start date"),
        (["--saved", "Semanal"], "exports: unknown saved search 'Semanal': available are none saved yet"),
        (["--button", "Sim"], "exports: --button filters --view mo only, not --view mt"),
        (["--session", "sometimes"], "exports: unknown session 'sometimes': accepted are open, closed"),
        (["--conversation-type", "marketing"],
         "exports: unknown conversation_type 'marketing': accepted are business_initiated, user_initiated, free_entry_point"),
        (["--lang", "fr"], "exports: unknown language 'fr': accepted are pt-BR, en, es"),
        (["--tz", "Mars/Base"], "exports: unknown time zone 'Mars/Base': use an IANA name such as America/Sao_Paulo"),
        (["--format", "xls"], "exports: argument --format: invalid choice: 'xls' (choose from 'csv', 'xlsx', 'pdf')"),
        (["--db", "mysql://x"], "exports: unsupported database 'mysql://x': use duckdb:///"),
        (["--to", "9999-12-31"], "exports: --to 9999-12-31 is outside the days the report covers: "
                                 "use a day from 2000-01-01 to 2100-12-31"),
        (["--from", "0001-01-01", "--tz", "Asia/Tokyo"], "exports: --from 0001-01-01 is outside the days the report"),
        (["--group-by", "template"], "exports: --group-by groups --view mc only, not --view mt"),
        (["--group-by", "weekday"], "exports: argument --group-by: invalid choice: 'weekday' (choose from 'campaign',"),
    ],
)
def test_bad_arguments_exit_2_with_one_line_naming_the_value(options, message, tmp_path, capsys):
    out = tmp_path / "never.csv"
    open_database(f"duckdb:///{tmp_path / 'r.duckdb'}").dispose()  # an export reads an existing database
    argv = ["--view", "mt", "--format", "csv", "-o", str(out), "--db", f"duckdb:///{tmp_path / 'r.duckdb'}", *options]
    code, err = run(argv, capsys)
    assert code == 2
    assert len(err) == 1 and err[0].startswith(message), err
    assert not out.exists()


def test_missing_folder_and_missing_option_exit_2(tmp_path, capsys):
    code, err = run(["--view", "mt", "--format", "csv", "-o", str(tmp_path / "no" / "x.csv")], capsys)
    assert (code, err) == (2, [f"exports: the folder of -o '{tmp_path / 'no' / 'x.csv'}' does not exist: "
                               "give a file in an existing folder"])
    code, err = run(["--view", "mt", "--format", "csv"], capsys)
    assert (code, err) == (2, ["exports: the following arguments are required: -o/--output (see --help)"])


def test_a_folder_as_output_exits_2(tmp_path, capsys):
    taken = tmp_path / "taken"
    (taken / "inside").mkdir(parents=True)
    code, err = run(["--view", "mt", "--format", "csv", "-o", str(taken)], capsys)
    assert (code, err) == (2, [f"exports: -o '{taken}' is a folder: give a file name, e.g. '{taken / 'report.csv'}'"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"] and [p.name for p in taken.iterdir()] == ["inside"]


def test_a_device_or_a_pipe_as_output_is_refused_and_left_alone(tmp_path, capsys):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    to_device = tmp_path / "to-null"
    to_device.symlink_to("/dev/null")
    for node in (pipe, to_device):
        code, err = run(["--view", "mt", "--format", "csv", "-o", str(node), "--db", f"duckdb:///{tmp_path / 'r.duckdb'}",
                         *PERIOD], capsys)
        assert (code, err) == (2, [f"exports: -o '{node}' is not a regular file (a device, a pipe or a socket): "
                                   "give a file name"])
    assert stat.S_ISFIFO(pipe.lstat().st_mode)
    assert to_device.is_symlink() and os.readlink(to_device) == "/dev/null"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe", "to-null"]  # not even the database was made


def test_a_symbolic_link_is_written_through(data, db_url, tmp_path, capsys):
    target = tmp_path / "reports" / "sent.csv"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "latest.csv"
    link.symlink_to(target)
    dangling = tmp_path / "next.csv"
    dangling.symlink_to(tmp_path / "reports" / "next.csv")
    for out in (link, dangling):
        code, err = run(["--view", "mt", "--format", "csv", "-o", str(out), "--db", db_url, *PERIOD], capsys)
        assert code == 0
        assert err[-1].startswith(f"exports: wrote 4 rows to {out} in ")
        assert out.is_symlink()
        assert [row[-1] for row in csv_rows(out)[1:]] == ["wamid.A3", "wamid.A4", "wamid.A2", "wamid.A1"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["next.csv", "sent.csv"]
    assert target.read_bytes() == (tmp_path / "reports" / "next.csv").read_bytes()


def test_a_disk_full_while_writing_exits_1_and_keeps_the_old_file(data, db_url, tmp_path, capsys, monkeypatch):
    out = tmp_path / "sent.csv"
    out.write_text("yesterday's file")

    def write_then_fill_the_disk(engine, filters, fmt, lang, file, *rest):
        file.write(b"Enviado,Status\n")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(export_module, "_write", write_then_fill_the_disk)
    code, err = run(["--view", "mt", "--format", "csv", "-o", str(out), "--db", db_url, *PERIOD], capsys)
    assert code == 1
    assert err[-1] == f"exports: could not write -o '{out}': No space left on device (nothing was written)"
    assert out.read_text() == "yesterday's file"
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".duckdb") == ["sent.csv"]


def test_python_dash_m_exports(data, db_url, tmp_path):
    out = tmp_path / "received.pdf"
    done = subprocess.run(
        [sys.executable, "-m", "exports", "--view", "mo", "--format", "pdf", "-o", str(out), "--db", db_url,
         *PERIOD, "--lang", "en"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr.splitlines()[-1].startswith(f"exports: wrote 2 rows to {out} in ")
    assert out.read_bytes().startswith(b"%PDF-")
