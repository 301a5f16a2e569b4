"""The audit log's CSV (the admins' "Registro de auditoria" download), on both engines: read back and
parsed, with text typed by outsiders defused as in the report's CSV (SPEC 4 and 9)."""
import csv
import io
from datetime import timedelta

from data_access import accounts
from exports import audit_csv
from tests.factories import at

T0 = at(20, 9, month=1)
TYPED = '=HYPERLINK("http://evil","x")'


def rows(engine, lang="en") -> list[list[str]]:
    data = audit_csv.csv_bytes(engine, lang, "UTC")
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_text_typed_at_sign_in_is_no_formula_in_the_csv(engine):
    accounts.sign_in(engine, TYPED, "whatever", "10.0.0.1", now=T0)
    accounts.audit(engine, "-cli", "+odd", {"note": "@x"}, "\tnot-an-address", now=T0 + timedelta(minutes=1))
    accounts.audit(engine, "\rcr", "plain", {}, None, now=T0 + timedelta(minutes=2))
    header, *body = rows(engine)
    assert header == ["Date", "Who", "Action", "Details", "IP address"]
    assert [row[1:] for row in body] == [
        ["'\rcr", "plain", "{}", ""],
        ["'-cli", "'+odd", '{"note": "@x"}', "'\tnot-an-address"],
        ["'" + TYPED.lower(), "sign_in.failed",
         '{"email": "' + TYPED.lower().replace('"', '\\"') + '", "method": "password", "reason": "failed"}',
         "10.0.0.1"],
    ]
    assert [row[0] for row in body] == [
        audit_csv.cells(entry, "en", "UTC")[0] for entry in accounts.audit_entries(engine)]


def test_the_csv_reads_the_log_a_batch_at_a_time(engine, monkeypatch):
    monkeypatch.setattr(audit_csv, "BATCH", 2)
    for n in range(5):
        accounts.audit(engine, f"user{n}@example.com", "export", {"rows": n}, "10.0.0.1", now=T0 + timedelta(minutes=n))
    chunks = list(audit_csv.csv_chunks(engine, "es", "UTC"))
    assert len(chunks) == 3
    body = list(csv.reader(io.StringIO("".join(chunks))))[1:]
    assert [row[1:4] for row in body] == [[f"user{n}@example.com", "export", f'{{"rows": {n}}}'] for n in range(4, -1, -1)]
