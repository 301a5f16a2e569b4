"""`python -m data_access.users [--db URL] COMMAND ...`: manage accounts and API tokens (SPEC section 9).

    add EMAIL --role admin|manager|analyst [--subaccount X]... [--name TEXT] [--password-stdin]
    list | set-role EMAIL ROLE | set-subaccounts EMAIL X... | disable EMAIL
    reset-password EMAIL [--password-stdin] | totp EMAIL on|off | allow-ip EMAIL CIDR...
    token create NAME [--subaccount X]... | token list | token revoke NAME
    business-number list | business-number set NUMBER SUBACCOUNT | business-number remove NUMBER

A password is read from standard input with --password-stdin (its first line), else asked without
echo on a terminal; `add` with neither makes an account that signs in through single sign-on only.
Passwords are never printed. `token create` prints the token once on standard output.
Every change is written to the audit log (actor `cli`).

While the app server owns the embedded file (`data_access.server_link`), the arguments and the
password are sent to it and it runs the same work (`command.py`); the output and exit codes are the
same. A password asked on the terminal is asked here, before sending.

Exit codes (SPEC section 6): 0 done; 1 a runtime failure or a conflict (database busy or not
answering, the account or token exists already); 2 bad arguments (malformed or unsupported database
URL, unknown account, bad email, role or CIDR, short password).
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from data_access.config import database_url
from data_access.engine import DatabaseError, embedded_path, make_engine, open_database
from data_access.server_link import USERS_ROUTE, Presence, ServerGone, find_server, post, read_frames, users_request
from data_access.users.command import (
    Streams,
    UsageError,
    ask_on_terminal,
    asks_password,
    build_parser,
    execute,
    fail,
)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        url = database_url(getattr(args, "db", None))
        _check_url(url)
        server = find_server(url)
    except UsageError as exc:
        return fail(sys.stderr, str(exc), 2)
    except DatabaseError as exc:
        return fail(sys.stderr, str(exc), 1)
    if server is not None:  # the app server owns the embedded file: it runs the work
        return _through_server(server, argv, args)
    try:
        engine = open_database(url)
    except DatabaseError as exc:  # the URL is right: the database is busy, down or refuses us
        return fail(sys.stderr, str(exc), 1)
    try:
        return execute(engine, args, Streams(sys.stdin, sys.stdout, sys.stderr, _terminal()))
    finally:
        engine.dispose()


def _check_url(url: str) -> None:
    """A malformed or unsupported URL is a bad argument (nothing is opened or connected here)."""
    try:
        if embedded_path(url) is None:
            make_engine(url).dispose()
    except DatabaseError as exc:
        raise UsageError(str(exc)) from None


def _terminal() -> Callable[[], str] | None:
    """How to ask a password: on the terminal, when standard input is one."""
    return ask_on_terminal if sys.stdin.isatty() else None


def _through_server(server: Presence, argv: list[str], args: argparse.Namespace) -> int:
    """Sends the arguments and the password to the app server; prints what it answers."""
    password = None
    stdin = ""
    try:
        if asks_password(args) and sys.stdin.isatty():
            password = ask_on_terminal()
        elif getattr(args, "password_stdin", False):
            stdin = sys.stdin.readline()
    except UsageError as exc:
        return fail(sys.stderr, str(exc), 2)
    try:
        answer = post(server, USERS_ROUTE, users_request(argv, stdin, password), "application/octet-stream")
        code = None
        for kind, payload in read_frames(answer):
            if kind == b"x":
                code = int(payload)
            else:
                stream = sys.stdout if kind == b"o" else sys.stderr
                stream.write(payload.decode("utf-8"))
                stream.flush()
        if code is None:
            raise ServerGone("the app server's answer was cut short")
        return code
    except ServerGone as exc:
        return fail(sys.stderr, str(exc), 1)


if __name__ == "__main__":
    sys.exit(main())
