"""`POST /api/send-log` with the named API tokens of SPEC 9 (system users), over real HTTP to the app
server on each engine: the tokens are made and revoked by `python -m data_access.users` while the
server is stopped (it owns the embedded file while it runs); a token limited to subaccounts loads the
send-log records of its subaccounts only."""
import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from data_access.schema import mt_send_log, rejected_record
from tests.app_server import ROOT, AppProcess
from tests.test_ingest_support import WA_ID, meta_status, meta_webhook, send_log
from tests.test_webhooks import rows
from tests.webhook_client import SECRETS, post_send_log

NO_INGEST_TOKEN = {name: value for name, value in SECRETS.items() if name != "INGEST_TOKEN"}
OUTSIDE = "subaccount {!r} is outside this token's scope"


def users(db_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "data_access.users", "--db", db_url, *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def new_token(db_url: str, name: str, *subaccounts: str) -> str:
    made = users(db_url, "token", "create", name, *[arg for sub in subaccounts for arg in ("--subaccount", sub)])
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


@pytest.fixture
def app_without_ingest_token(db_url, tmp_path, monkeypatch) -> Iterator[AppProcess]:
    """The app server with every secret but INGEST_TOKEN, not started yet."""
    monkeypatch.delenv("INGEST_TOKEN", raising=False)
    process = AppProcess(db_url, tmp_path / "app.log", NO_INGEST_TOKEN)
    try:
        yield process
    finally:
        process.stop()


def lines(*records: dict) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def test_named_tokens_scope_revocation_and_the_404_before_any_token(app_without_ingest_token) -> None:
    app = app_without_ingest_token
    record = lines(send_log("sl-early", 0, subaccount="loja-a"))
    app.start()
    before = post_send_log(app.base, record, "application/x-ndjson", token="anything")
    app.stop()

    crm = new_token(app.db_url, "crm-loja-a", "loja-a")
    every = new_token(app.db_url, "backoffice")
    old = new_token(app.db_url, "old-script")
    revoked = users(app.db_url, "token", "revoke", "old-script")
    assert revoked.returncode == 0, revoked.stderr
    app.start()
    scoped = post_send_log(app.base, lines(
        send_log("sl-a", 1, subaccount="loja-a"),
        send_log("sl-b", 2, subaccount="loja-b"),
        send_log("sl-none", 3),
        meta_status("wamid.st", "sent", 4),
    ), "application/x-ndjson", token=crm)
    unscoped = post_send_log(app.base, lines(send_log("sl-b", 2, subaccount="loja-b")), "application/x-ndjson",
                             token=every)
    answers = {
        "revoked": post_send_log(app.base, record, "application/x-ndjson", token=old)[0],
        "wrong": post_send_log(app.base, record, "application/x-ndjson", token=crm + "x")[0],
        "ingest token unset": post_send_log(app.base, record, "application/x-ndjson")[0],
    }
    app.stop()  # the rows are read once the server let go of the embedded file

    assert before[0] == 404  # no INGEST_TOKEN and no API token yet: the route does not exist
    assert scoped == (200, {"read": 4, "accepted": 1, "duplicate": 0, "rejected": 3, "rejected_parts": 0, "events": 1})
    assert unscoped == (200, {"read": 1, "accepted": 1, "duplicate": 0, "rejected": 0, "rejected_parts": 0,
                              "events": 1})
    assert answers == {"revoked": 401, "wrong": 401, "ingest token unset": 401}
    assert rows(app.db_url, mt_send_log, "message_id", "subaccount") == [("sl-a", "loja-a"), ("sl-b", "loja-b")]
    assert rows(app.db_url, rejected_record, "file", "line", "reason") == [
        ("api:send-log", 2, OUTSIDE.format("loja-b")),
        ("api:send-log", 3, "no subaccount: a token limited to subaccounts sends records of its subaccounts only"),
        ("api:send-log", 4, "only send-log records are taken from a token limited to subaccounts"),
    ]


def test_the_summary_counts_every_record_read_once(app_without_ingest_token) -> None:
    app = app_without_ingest_token
    every = new_token(app.db_url, "backoffice")
    app.start()
    webhook = meta_webhook(statuses=[
        {"id": "wamid.A", "status": "sent", "timestamp": "1750000000", "recipient_id": WA_ID},
        {"status": "sent", "timestamp": "1750000000"},
    ])
    body = lines(webhook, send_log("sl-1", 0), {"message_id": "sl-bad", "phone": "+5511"}, send_log("sl-1", 0))
    status, summary = post_send_log(app.base, body, "application/x-ndjson", token=every)
    app.stop()
    assert (status, summary) == (200, {"read": 4, "accepted": 2, "duplicate": 1, "rejected": 1, "rejected_parts": 1,
                                       "events": 2})
    assert summary["accepted"] + summary["duplicate"] + summary["rejected"] == summary["read"]
    assert rows(app.db_url, rejected_record, "line", "reason") == [
        (1, "entry[0].changes[0].statuses[1]: missing id"), (3, "missing sent_at"),
    ]
