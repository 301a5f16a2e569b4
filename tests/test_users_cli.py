"""`python -m data_access.users` (SPEC 9): every subcommand, exit codes of SPEC 6, passwords never
printed, tokens stored hashed, every change audited."""
import hashlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from data_access import accounts
from data_access.engine import open_database
from data_access.schema import account, api_token
from data_access.users.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "s3nha-muito-boa"


def users(argv: list[str], capsys, monkeypatch, stdin: str | None = None) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin or ""))
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_every_subcommand(db_url, capsys, monkeypatch):
    db = ["--db", db_url]
    outputs = []

    def ok(*argv: str, stdin: str | None = None) -> str:
        code, out, err = users([*argv, *db], capsys, monkeypatch, stdin)
        assert code == 0, err
        outputs.append(out + err)
        return out

    assert ok("add", "Root@Example.com", "--role", "admin", "--name", "Raiz", "--password-stdin",
              stdin=PASSWORD + "\n") == "added root@example.com (admin; every subaccount)\n"
    assert ok("add", "ana@example.com", "--role", "analyst", "--subaccount", "Varejo", "--subaccount", "Atacado") == (
        "added ana@example.com (analyst; subaccounts: Atacado, Varejo)\n"
    )
    assert outputs[-1].endswith("users: no password set: this account signs in through single sign-on only "
                                "(set one with reset-password)\n")
    assert ok("list") == (
        "email\tname\trole\tactive\tsubaccounts\ttwo-step\tip allow-list\n"
        "ana@example.com\t-\tanalyst\tyes\tAtacado, Varejo\toff\t-\n"
        "root@example.com\tRaiz\tadmin\tyes\t(all)\toff\t-\n"
    )
    assert ok("set-role", "ana@example.com", "manager") == "ana@example.com is now manager\n"
    assert ok("set-subaccounts", "ana@example.com", "Varejo") == "ana@example.com sees Varejo\n"
    assert ok("reset-password", "ana@example.com", "--password-stdin", stdin=PASSWORD + "\r\n") == (
        "new password set for ana@example.com; its sessions ended\n"
    )
    uri, secret_line = ok("totp", "ana@example.com", "on").splitlines()
    secret = secret_line.removeprefix("secret: ")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert uri == (f"otpauth://totp/WhatsApp%20Detailed%20Report:ana%40example.com?secret={secret}"
                   "&issuer=WhatsApp%20Detailed%20Report")
    assert ok("allow-ip", "ana@example.com", "10.1.0.0/16", "192.0.2.7") == (
        "ana@example.com may sign in from 10.1.0.0/16, 192.0.2.7/32\n"
    )
    token = ok("token", "create", "crm", "--subaccount", "Varejo").strip()
    assert outputs[-1] == f"{token}\nusers: token 'crm' created; it is shown only now, keep it safe\n"
    listed = ok("token", "list").splitlines()
    assert listed[0] == "name\tsubaccounts\tcreated\trevoked"
    assert listed[1].startswith("crm\tVarejo\t") and listed[1].endswith("\t-")
    assert ok("token", "revoke", "crm") == "token 'crm' revoked\n"
    assert ok("business-number", "set", "+55 11 4000-0000", "Varejo") == (
        "MOs with no attributed subaccount sent to +55 11 4000-0000 belong to Varejo\n"
    )
    assert ok("business-number", "list") == "number\tsubaccount\n551140000000\tVarejo\n"
    assert ok("disable", "ana@example.com") == "ana@example.com is disabled; its sessions ended\n"
    assert ok("totp", "root@example.com", "off") == "two-step verification is off for root@example.com\n"

    engine = open_database(db_url)
    try:
        ana = accounts.get_account(engine, "ana@example.com")
        assert (ana.role, ana.subaccounts, ana.active, ana.totp_enabled, ana.ip_allow) == (
            "manager", ("Varejo",), False, True, ("10.1.0.0/16", "192.0.2.7/32")
        )
        assert accounts.sign_in(engine, "root@example.com", PASSWORD, "127.0.0.1").ok
        with engine.connect() as conn:
            hashes = conn.execute(sa.select(account.c.password_hash).order_by(account.c.email)).scalars().all()
            stored_token = conn.execute(sa.select(api_token.c.token_hash)).scalar_one()
        assert all(h.startswith("$argon2id$") for h in hashes)
        assert stored_token == hashlib.sha256(token.encode()).hexdigest()
        assert accounts.token_scope(engine, token) is None  # revoked
        actions = [e.action for e in reversed(accounts.audit_entries(engine, 100))]
    finally:
        engine.dispose()
    assert actions == [
        "account.add", "account.add", "account.set_role", "account.set_subaccounts", "account.set_password",
        "account.totp", "account.allow_ip", "token.create", "token.revoke", "business_number.set",
        "account.disable", "account.totp", "sign_in",
    ]
    assert not any(PASSWORD in text for text in outputs)


@pytest.mark.parametrize(
    "argv, stdin, code, message",
    [
        ([], None, 2, "users: the following arguments are required: COMMAND (see python -m data_access.users --help)"),
        (["add", "x@example.com"], None, 2, "users: the following arguments are required: --role"),
        (["add", "x@example.com", "--role", "boss"], None, 2, "users: argument --role: invalid choice: 'boss'"),
        (["add", "not-an-email", "--role", "admin"], None, 2, "users: bad email 'not-an-email'"),
        (["add", "x@example.com", "--role", "admin", "--password-stdin"], "short\n", 2,
         "users: a password has at least 8 characters"),
        (["add", "x@example.com", "--role", "admin", "--password-stdin"], "", 2,
         "users: --password-stdin read no password: give it as the first line of standard input"),
        (["add", "root@example.com", "--role", "admin"], None, 1, "users: an account 'root@example.com' exists already"),
        (["set-role", "zed@example.com", "admin"], None, 2, "users: no account 'zed@example.com'"),
        (["disable", "zed@example.com"], None, 2, "users: no account 'zed@example.com'"),
        (["allow-ip", "root@example.com", "10.0.0.300"], None, 2, "users: bad CIDR '10.0.0.300'"),
        (["reset-password", "root@example.com"], None, 2,
         "users: no terminal to ask the password on: give --password-stdin and the password on standard input"),
        (["reset-password", "zed@example.com", "--password-stdin"], PASSWORD, 2, "users: no account 'zed@example.com'"),
        (["totp", "root@example.com", "maybe"], None, 2, "users: argument state: invalid choice: 'maybe'"),
        (["token", "create", "existing"], None, 1, "users: a token named 'existing' exists already"),
        (["token", "revoke", "nope"], None, 2, "users: no token named 'nope'"),
        (["token"], None, 2, "users: the following arguments are required: create|list|revoke"),
    ],
)
def test_bad_arguments_and_conflicts(db_url, capsys, monkeypatch, argv, stdin, code, message):
    engine = open_database(db_url)
    try:
        accounts.add_account(engine, "root@example.com", "admin", password=PASSWORD)
        accounts.create_token(engine, "existing")
        before = (accounts.list_accounts(engine), accounts.list_tokens(engine), accounts.audit_count(engine))
    finally:
        engine.dispose()
    got, out, err = users([*argv, "--db", db_url] if argv else ["--db", db_url], capsys, monkeypatch, stdin)
    assert (got, out) == (code, "")
    assert err.startswith(message) and err.count("\n") == 1
    engine = open_database(db_url)
    try:
        assert (accounts.list_accounts(engine), accounts.list_tokens(engine), accounts.audit_count(engine)) == before
    finally:
        engine.dispose()


def test_bad_database_url_exits_2(capsys, monkeypatch):
    code, out, err = users(["list", "--db", "mysql://x"], capsys, monkeypatch)
    assert (code, out) == (2, "")
    assert err.startswith("users: unsupported database 'mysql://x'")


def test_a_real_process_reads_the_password_from_standard_input_and_never_prints_it(db_url):
    def run(*argv: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "data_access.users", *argv, "--db", db_url], input=stdin,
                              capture_output=True, text=True, cwd=ROOT, timeout=120)

    added = run("add", "ops@example.com", "--role", "analyst", "--subaccount", "Varejo", "--password-stdin",
                stdin=PASSWORD + "\n")
    assert (added.returncode, added.stdout, added.stderr) == (0, "added ops@example.com (analyst; subaccounts: Varejo)\n", "")
    created = run("token", "create", "robot")
    assert created.returncode == 0
    token = created.stdout.strip()
    engine = open_database(db_url)
    try:
        assert accounts.sign_in(engine, "ops@example.com", PASSWORD, "127.0.0.1").ok
        assert accounts.token_scope(engine, token) == accounts.Scope.ALL
        with engine.connect() as conn:
            assert token not in conn.execute(sa.select(api_token.c.token_hash)).scalar_one()
    finally:
        engine.dispose()
    assert PASSWORD not in added.stdout + added.stderr
