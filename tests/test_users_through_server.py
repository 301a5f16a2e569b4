"""`python -m data_access.users` while the app server owns the embedded file (SPEC sections 7 and 9):
the command sends its arguments and password to the server, which runs the same work on its own
engine; output and exit codes are those of the command run alone, the changes are in the file after
the server stops, and an account made this way signs in to the same running server. Runtime database
failures exit 1 and a malformed URL exits 2 (SPEC section 6).

The server is `streamlit run app.py` for real; the commands are separate processes.
"""
from __future__ import annotations

import http.client
import os
import pty
import re
import select
import subprocess
import sys
import time
from urllib.parse import urlencode, urlsplit

from data_access import accounts
from data_access.engine import open_database
from data_access.server_link import TOKEN_HEADER, USERS_ROUTE, find_server, users_request
from server.sign_in import SESSION_COOKIE
from tests.app_server import ROOT, refusing_port, serve_app

PASSWORD = "s3nha-muito-boa"
ANALYST_PASSWORD = "outra-s3nha-boa"
TYPED_PASSWORD = "digitada-no-terminal"
TYPED_ADD = ["add", "caio@example.com", "--role", "manager", "--subaccount", "Varejo"]


def users(db_url: str, *argv: str, stdin: str = "") -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run([sys.executable, "-m", "data_access.users", *argv, "--db", db_url], cwd=ROOT,
                          env=environment, input=stdin, capture_output=True, text=True, timeout=120)


# Each step: arguments, standard input, expected exit code.
STEPS = [
    (["add", "Root@Example.com", "--role", "admin", "--name", "Raiz", "--password-stdin"], PASSWORD + "\n", 0),
    (["add", "ana@example.com", "--role", "analyst", "--subaccount", "Varejo", "--password-stdin"],
     ANALYST_PASSWORD + "\n", 0),
    (["add", "bia@example.com", "--role", "analyst", "--subaccount", "Varejo"], "", 0),  # single sign-on only
    (["add", "root@example.com", "--role", "admin"], "", 1),  # exists already
    (["add", "x@example.com", "--role", "boss"], "", 2),  # bad role
    (["add", "x@example.com", "--role", "admin", "--password-stdin"], "short\n", 2),
    (["set-role", "bia@example.com", "manager"], "", 0),
    (["set-role", "zed@example.com", "admin"], "", 2),
    (["token", "create", "crm", "--subaccount", "Varejo"], "", 0),
    (["token", "create", "crm"], "", 1),
    (["disable", "bia@example.com"], "", 0),
    (["list"], "", 0),
]


def owner_found(db_url: str, within_s: float = 30) -> bool:
    """The server announced itself as the file's owner (it takes the file just after it starts)."""
    deadline = time.monotonic() + within_s
    while find_server(db_url) is None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def run_steps(db_url: str) -> list[subprocess.CompletedProcess]:
    return [users(db_url, *argv, stdin=stdin) for argv, stdin, _code in STEPS]


def on_terminal(db_url: str, argv: list[str], answers: list[str], within_s: float = 60) -> tuple[int, str]:
    """Runs the command on a terminal of its own (a pseudo-terminal), typing each answer after each
    prompt; returns its exit code and everything the terminal showed."""
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the command, with the pseudo-terminal as its controlling terminal
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "data_access.users", *argv, "--db", db_url], environment)
    shown = b""
    answered = 0
    deadline = time.monotonic() + within_s
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([terminal], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(terminal, 4096)
            except OSError:  # the command ended and closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            if answered < len(answers) and shown.count(b"Password") > answered and shown.endswith(b": "):
                os.write(terminal, answers[answered].encode() + b"\n")  # a prompt waits for its answer
                answered += 1
    finally:
        os.close(terminal)
        _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), shown.decode().replace("\r\n", "\n")


def sign_in(base: str, email: str, password: str) -> tuple[int, str, str]:
    """POST /signin over HTTP: the status, the redirect and the session cookie (or '')."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        body = urlencode({"email": email, "password": password, "lang": "en", "next": "/sent"})
        connection.request("POST", "/signin", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        answer = connection.getresponse()
        answer.read()
        cookie = answer.getheader("set-cookie", "")
        match = re.match(rf"{SESSION_COOKIE}=([^;]+);", cookie)
        return answer.status, answer.getheader("location", ""), match.group(1) if match else ""
    finally:
        connection.close()


def post_users(base: str, token: str, argv: list[str], stdin: str) -> int:
    """The status of a users request sent straight to the server's internal route with `token`."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("POST", USERS_ROUTE, body=users_request(argv, stdin, None), headers={TOKEN_HEADER: token})
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


def status_with_cookie(base: str, path: str, token: str) -> int:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", path, headers={"Cookie": f"{SESSION_COOKIE}={token}"})
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


def test_the_first_admin_and_the_other_commands_go_through_the_running_server(tmp_path):
    alone = f"duckdb:///{tmp_path / 'alone.duckdb'}"
    served = f"duckdb:///{tmp_path / 'served.duckdb'}"
    for url in (alone, served):  # the server owns a file that exists: made as `make run` finds it
        open_database(url).dispose()
    direct = run_steps(alone)
    typed_alone = on_terminal(alone, TYPED_ADD, [TYPED_PASSWORD, TYPED_PASSWORD])
    differ_alone = on_terminal(alone, ["reset-password", "caio@example.com"], [TYPED_PASSWORD, PASSWORD])
    unknown_alone = on_terminal(alone, ["reset-password", "zed@example.com"], [TYPED_PASSWORD, TYPED_PASSWORD])
    with serve_app(served, tmp_path / "server.log") as base:
        assert owner_found(served)  # the server owns the file: the commands go through it
        through = run_steps(served)
        typed = on_terminal(served, TYPED_ADD, [TYPED_PASSWORD, TYPED_PASSWORD])
        differ = on_terminal(served, ["reset-password", "caio@example.com"], [TYPED_PASSWORD, PASSWORD])
        unknown = on_terminal(served, ["reset-password", "zed@example.com"], [TYPED_PASSWORD, TYPED_PASSWORD])
        typed_in = sign_in(base, "caio@example.com", TYPED_PASSWORD)
        admin = sign_in(base, "root@example.com", PASSWORD)
        analyst = sign_in(base, "ana@example.com", ANALYST_PASSWORD)
        wrong = sign_in(base, "ana@example.com", PASSWORD)
        disabled = sign_in(base, "bia@example.com", PASSWORD)
        admin_page = status_with_cookie(base, "/sent", admin[2])
        guessed = post_users(base, "guess", ["add", "evil@example.com", "--role", "admin", "--password-stdin"],
                             PASSWORD + "\n")

    assert [r.returncode for r in through] == [r.returncode for r in direct] == [code for *_, code in STEPS]
    token_step = 8
    for step, (one, other) in enumerate(zip(through, direct)):
        assert one.stderr == other.stderr, STEPS[step][0]
        if step != token_step:  # a token is new each time
            assert one.stdout == other.stdout, STEPS[step][0]
    assert [r.stdout for r in through[:3]] == [
        "added root@example.com (admin; every subaccount)\n",
        "added ana@example.com (analyst; subaccounts: Varejo)\n",
        "added bia@example.com (analyst; subaccounts: Varejo)\n",
    ]
    assert through[2].stderr == ("users: no password set: this account signs in through single sign-on only "
                                 "(set one with reset-password)\n")
    assert through[3].stderr == "users: an account 'root@example.com' exists already\n"
    assert through[4].stderr.startswith("users: argument --role: invalid choice: 'boss'")
    assert through[4].stderr.count("\n") == 1 and through[4].stdout == ""
    assert through[5].stderr == "users: a password has at least 8 characters\n"
    assert through[7].stderr.startswith("users: no account 'zed@example.com'")
    assert through[9].stderr == "users: a token named 'crm' exists already: choose another name\n"
    assert through[10].stdout == "bia@example.com is disabled; its sessions ended\n"
    assert through[11].stdout == (
        "email\tname\trole\tactive\tsubaccounts\ttwo-step\tip allow-list\n"
        "ana@example.com\t-\tanalyst\tyes\tVarejo\toff\t-\n"
        "bia@example.com\t-\tmanager\tno\tVarejo\toff\t-\n"
        "root@example.com\tRaiz\tadmin\tyes\t(all)\toff\t-\n"
    )
    token = through[token_step].stdout.removesuffix("\n")
    assert "\n" not in token and len(token) >= 32 and token != direct[token_step].stdout.removesuffix("\n")
    assert through[token_step].stderr == "users: token 'crm' created; it is shown only now, keep it safe\n"

    # A password asked on the terminal is asked by the command (never shown), then sent.
    assert typed == typed_alone == (0, "Password: \nPassword again: \nadded caio@example.com (manager; subaccounts: Varejo)\n")
    assert differ == differ_alone == (2, "Password: \nPassword again: \nusers: the two passwords differ\n")
    assert unknown == unknown_alone == (2, "Password: \nPassword again: \n"
                                        "users: no account 'zed@example.com': see `python -m data_access.users list`\n")
    assert TYPED_PASSWORD not in typed[1] + differ[1] + unknown[1]
    assert typed_in[:2] == (303, "/sent") and typed_in[2]

    # Signed in over HTTP to the same running server with the accounts it made.
    assert admin[:2] == analyst[:2] == (303, "/sent")
    assert admin[2] and analyst[2] and admin[2] != analyst[2]
    assert admin_page == 200
    assert guessed == 404  # without the presence file's token the route is not there (nothing added below)
    assert wrong[:2] == (401, "") and wrong[2] == ""
    assert disabled[:2] == (401, "") and disabled[2] == ""

    # The changes are in the file once the server has stopped.
    engine = open_database(served)
    try:
        assert [(a.email, a.name, a.role, a.subaccounts, a.active, a.has_password)
                for a in accounts.list_accounts(engine)] == [
            ("ana@example.com", "", "analyst", ("Varejo",), True, True),
            ("bia@example.com", "", "manager", ("Varejo",), False, False),
            ("caio@example.com", "", "manager", ("Varejo",), True, True),
            ("root@example.com", "Raiz", "admin", (), True, True),
        ]
        assert [(t.name, t.subaccounts, t.revoked_at) for t in accounts.list_tokens(engine)] == [("crm", ("Varejo",), None)]
        assert accounts.token_scope(engine, token).subaccounts == ("Varejo",)
        assert accounts.session_account(engine, admin[2]).email == "root@example.com"
        assert [e.actor for e in accounts.audit_entries(engine, 100)].count("cli") == 7  # 4 adds, role, token, disable
    finally:
        engine.dispose()


def test_a_database_that_does_not_answer_exits_1_and_a_malformed_url_exits_2():
    with refusing_port() as port:
        down = users(f"postgresql+psycopg://report:s3cret@127.0.0.1:{port}/report", "list")
    assert (down.returncode, down.stdout) == (1, "")
    assert down.stderr.startswith(f"users: cannot open database postgresql+psycopg://report:***@127.0.0.1:{port}/report: ")
    assert down.stderr.count("\n") == 1 and "s3cret" not in down.stderr

    for url, message in (
        ("postgresql+psycopg://report:s3cret@db.example:54x2/report",
         "users: the port of the database URL 'postgresql+psycopg://report:***@db.example:54x2/report' is not a number: "),
        ("not a url", "users: malformed database URL 'not a url': "),
        ("mysql://x", "users: unsupported database 'mysql://x': "),
        ("duckdb:///:memory:", "users: the DuckDB URL needs a file: "),
    ):
        bad = users(url, "add", "x@example.com", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
        assert (bad.returncode, bad.stdout) == (2, ""), url
        assert bad.stderr.startswith(message) and bad.stderr.count("\n") == 1, bad.stderr
