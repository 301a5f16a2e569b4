"""The work of `python -m data_access.users` (SPEC section 9), on a given engine and text streams.

The command runs it in its own process, or, while the app server owns the embedded file, the server
runs it on its own engine (`server/control.py`) with the command's arguments and standard input and
the command prints what it answers: both ways run this code, with the same output and exit codes.
"""
from __future__ import annotations

import argparse
import io
import getpass
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn, TextIO

from sqlalchemy.engine import Engine

from data_access import accounts
from data_access.accounts import ROLES, AccountConflict, AccountError
from data_access.engine import ACCEPTED_URLS, DATABASE_ERRORS, DatabaseError, first_line

PROG = "python -m data_access.users"
PASSWORD_COMMANDS = ("add", "reset-password")


class UsageError(Exception):
    """Bad arguments (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


@dataclass
class Streams:
    """Where the work reads and writes: the password line of `--password-stdin`, standard output and
    error, and `ask`, which asks a new password on a terminal (None when there is no terminal)."""

    stdin: TextIO
    out: TextIO
    err: TextIO
    ask: Callable[[], str] | None = None


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="URL", default=argparse.SUPPRESS,
                        help=f"database URL ({ACCEPTED_URLS}); default: DATABASE_URL or the embedded file")
    parser = _Parser(prog=PROG, parents=[common], description="Manage the report's accounts and API tokens.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    add = commands.add_parser("add", parents=[common], help="create an account")
    add.add_argument("email")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--subaccount", action="append", default=[], metavar="X", help="repeat for several")
    add.add_argument("--name", default="", metavar="TEXT")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    commands.add_parser("list", parents=[common], help="list the accounts")

    role = commands.add_parser("set-role", parents=[common], help="change an account's role")
    role.add_argument("email")
    role.add_argument("role", choices=ROLES)

    subs = commands.add_parser("set-subaccounts", parents=[common], help="replace an account's subaccounts")
    subs.add_argument("email")
    subs.add_argument("subaccounts", nargs="+", metavar="X")

    off = commands.add_parser("disable", parents=[common], help="deactivate an account and end its sessions")
    off.add_argument("email")

    reset = commands.add_parser("reset-password", parents=[common], help="set a new password")
    reset.add_argument("email")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    totp = commands.add_parser("totp", parents=[common], help="two-step verification on or off")
    totp.add_argument("email")
    totp.add_argument("state", choices=("on", "off"))

    allow = commands.add_parser("allow-ip", parents=[common], help="replace an account's IP allow-list")
    allow.add_argument("email")
    allow.add_argument("cidrs", nargs="+", metavar="CIDR")

    token = commands.add_parser("token", parents=[common], help="API tokens for system users")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="create|list|revoke",
                                          parser_class=_Parser)
    create = token_commands.add_parser("create", parents=[common], help="create a token (printed once)")
    create.add_argument("name")
    create.add_argument("--subaccount", action="append", default=[], metavar="X",
                        help="repeat for several; none: every subaccount")
    token_commands.add_parser("list", parents=[common], help="list the tokens")
    revoke = token_commands.add_parser("revoke", parents=[common], help="revoke a token")
    revoke.add_argument("name")

    numbers = commands.add_parser("business-number", parents=[common],
                                  help="which subaccount owns a business number (for unattributed MOs)")
    number_commands = numbers.add_subparsers(dest="number_command", required=True, metavar="list|set|remove",
                                             parser_class=_Parser)
    number_commands.add_parser("list", parents=[common], help="list the mapping")
    set_number = number_commands.add_parser("set", parents=[common], help="map a number to a subaccount")
    set_number.add_argument("number")
    set_number.add_argument("subaccount")
    remove_number = number_commands.add_parser("remove", parents=[common], help="remove a number's mapping")
    remove_number.add_argument("number")
    return parser


def asks_password(args: argparse.Namespace) -> bool:
    """The command sets a password that is not given on standard input (asked on a terminal)."""
    return args.command in PASSWORD_COMMANDS and not args.password_stdin


def ask_on_terminal() -> str:
    """A new password typed twice without echo."""
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise UsageError("the two passwords differ")
    return first


def fail(err: TextIO, message: str, code: int) -> int:
    print(f"users: {message}", file=err)
    return code


def execute(engine: Engine, args: argparse.Namespace, streams: Streams) -> int:
    """Runs the parsed command; the exit code of SPEC section 6, with a one-line message on failure."""
    try:
        return _run(engine, args, streams)
    except (UsageError, AccountError) as exc:
        return fail(streams.err, str(exc), 2)
    except (AccountConflict, DatabaseError) as exc:
        return fail(streams.err, str(exc), 1)
    except DATABASE_ERRORS as exc:
        return fail(streams.err, f"the database could not be changed: {first_line(exc)}", 1)


def _password(from_stdin: bool, required: bool, streams: Streams) -> str | None:
    """The new password: the first line of standard input, else asked on a terminal; None when
    neither is possible and none is `required`."""
    if from_stdin:
        line = streams.stdin.readline().rstrip("\r\n")
        if not line:
            raise UsageError("--password-stdin read no password: give it as the first line of standard input")
        return accounts.check_password(line)
    if streams.ask is not None:
        return accounts.check_password(streams.ask())
    if required:
        raise UsageError("no terminal to ask the password on: give --password-stdin and the password on standard input")
    return None


def _run(engine: Engine, args: argparse.Namespace, streams: Streams) -> int:
    out, err = streams.out, streams.err
    command = args.command
    if command == "add":
        password = _password(args.password_stdin, False, streams)
        account = accounts.add_account(engine, args.email, args.role, args.name, args.subaccount, password)
        print(f"added {account.email} ({account.role}{_subaccounts_text(account.subaccounts, account.role)})", file=out)
        if password is None:
            print("users: no password set: this account signs in through single sign-on only "
                  "(set one with reset-password)", file=err)
    elif command == "list":
        _print_accounts(accounts.list_accounts(engine), out)
    elif command == "set-role":
        account = accounts.set_role(engine, args.email, args.role)
        print(f"{account.email} is now {account.role}", file=out)
    elif command == "set-subaccounts":
        account = accounts.set_subaccounts(engine, args.email, args.subaccounts)
        print(f"{account.email} sees {', '.join(account.subaccounts)}", file=out)
    elif command == "disable":
        account = accounts.disable(engine, args.email)
        print(f"{account.email} is disabled; its sessions ended", file=out)
    elif command == "reset-password":
        # asked first, as the command asks it before it sends the work to the app server
        password = _password(args.password_stdin, True, streams) or ""
        if accounts.get_account(engine, args.email) is None:
            raise AccountError(f"no account {args.email.strip().lower()!r}: see `{PROG} list`")
        account = accounts.set_password(engine, args.email, password)
        print(f"new password set for {account.email}; its sessions ended", file=out)
    elif command == "totp":
        secret = accounts.set_totp(engine, args.email, args.state == "on")
        email = args.email.strip().lower()
        if secret is None:
            print(f"two-step verification is off for {email}", file=out)
        else:
            print(accounts.totp_uri(email, secret), file=out)
            print(f"secret: {secret}", file=out)
    elif command == "allow-ip":
        account = accounts.allow_ip(engine, args.email, args.cidrs)
        print(f"{account.email} may sign in from {', '.join(account.ip_allow)}", file=out)
    elif command == "token":
        _token(engine, args, out, err)
    else:
        _business_number(engine, args, out)
    return 0


def _token(engine: Engine, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    if args.token_command == "create":
        plain = accounts.create_token(engine, args.name, args.subaccount)
        print(plain, file=out)
        print(f"users: token {args.name.strip()!r} created; it is shown only now, keep it safe", file=err)
    elif args.token_command == "list":
        print("name\tsubaccounts\tcreated\trevoked", file=out)
        for token in accounts.list_tokens(engine):
            revoked = token.revoked_at.isoformat(timespec="seconds") if token.revoked_at else "-"
            print(f"{token.name}\t{', '.join(token.subaccounts) or '(all)'}\t"
                  f"{token.created_at.isoformat(timespec='seconds')}\t{revoked}", file=out)
    else:
        accounts.revoke_token(engine, args.name)
        print(f"token {args.name.strip()!r} revoked", file=out)


def _business_number(engine: Engine, args: argparse.Namespace, out: TextIO) -> None:
    if args.number_command == "list":
        print("number\tsubaccount", file=out)
        for number, subaccount in accounts.business_numbers(engine).items():
            print(f"{number}\t{subaccount}", file=out)
    elif args.number_command == "set":
        accounts.set_business_number(engine, args.number, args.subaccount)
        print(f"MOs with no attributed subaccount sent to {args.number.strip()} belong to {args.subaccount.strip()}",
              file=out)
    else:
        accounts.set_business_number(engine, args.number, None)
        print(f"{args.number.strip()} is no longer mapped: its unattributed MOs are seen by admins only", file=out)


def _subaccounts_text(subaccounts: tuple[str, ...], role: str) -> str:
    if role == "admin":
        return "; every subaccount"
    return f"; subaccounts: {', '.join(subaccounts)}" if subaccounts else "; no subaccount yet"


def _print_accounts(found: list[accounts.Account], out: TextIO) -> None:
    print("email\tname\trole\tactive\tsubaccounts\ttwo-step\tip allow-list", file=out)
    for a in found:
        subaccounts = "(all)" if a.role == "admin" else ", ".join(a.subaccounts) or "-"
        print(f"{a.email}\t{a.name or '-'}\t{a.role}\t{'yes' if a.active else 'no'}\t{subaccounts}\t"
              f"{'on' if a.totp_enabled else 'off'}\t{', '.join(a.ip_allow) or '-'}", file=out)


def run_for_server(engine: Engine, argv: list[str], stdin: str, password: str | None) -> tuple[str, str, int]:
    """The command's work run by the app server: its standard output, standard error and exit code.
    `password` is the one the command asked on its terminal (None when it did not ask)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        return "", f"users: {exc}\n", 2
    except SystemExit as exc:  # --help: the command answers it itself and never sends it
        return "", "", exc.code if isinstance(exc.code, int) else 2
    ask = None if password is None else (lambda: password)
    code = execute(engine, args, Streams(io.StringIO(stdin), out, err, ask))
    return out.getvalue(), err.getvalue(), code
