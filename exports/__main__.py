"""`python -m exports`: a search as CSV, XLSX or PDF, for schedulers and scripts (SPEC section 6).

    python -m exports --view mt --format csv -o sent.csv --from 2026-11-01 --to 2026-11-07 --status read

Exit codes: 0 done; 1 the export failed at run time (database unreadable or busy, charts not drawn,
file not written); 2 bad arguments. Errors are one line on standard error naming the value and what
is accepted; progress goes to standard error too, so standard output stays empty.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.engine import Engine

from data_access import config
from data_access.accounts import SYSTEM_ACTOR, Account, any_account, audit_export, get_account
from data_access.config import SettingError
from data_access.engine import DatabaseBusy, DatabaseError, open_database
from data_access.filters import FILTERS_OF_VIEW, FilterError
from data_access.saved_searches import DEFAULT_OWNER, SavedSearch, SavedSearchError, get
from data_access.scope import Scope
from exports.chart_images import ChartError
from exports.export import FORMATS, export

MULTI = ("status", "subaccount", "user", "campaign", "content_type", "button")
SINGLE = ("session", "correlation_id", "phone", "conversation_id", "conversation_type")
ONLY_FOR = {  # options that filter one view only
    **{name: "mt" for name in ("status", "session", "correlation_id", "conversation_id", "conversation_type")},
    "button": "mo",
}
PROGRESS_EVERY_S = 2.0


class UsageError(Exception):
    """Bad arguments (exit 2); the message names the value and what is accepted."""


class WriteError(Exception):
    """The file could not be written (exit 1); nothing was written in its place."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line instead of argparse's usage block
        raise UsageError(f"{message} (see --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m exports", description="Export a search of the WhatsApp Detailed Report.")
    parser.add_argument("--view", required=True, choices=("mt", "mo"), help="mt: sent messages; mo: received")
    parser.add_argument("--format", required=True, choices=FORMATS, dest="fmt")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write")
    parser.add_argument("--db", metavar="URL", help="database URL (default: DATABASE_URL, else the embedded file)")
    parser.add_argument("--lang", help="pt-BR, en or es (default: REPORT_LANG, else pt-BR)")
    parser.add_argument("--tz", metavar="ZONE", help="IANA time zone (default: REPORT_TZ, else America/Sao_Paulo)")
    parser.add_argument("--from", dest="from_", metavar="YYYY-MM-DD", help="first day, in the time zone")
    parser.add_argument("--to", metavar="YYYY-MM-DD", help="last day, inclusive")
    parser.add_argument("--saved", metavar="NAME",
                        help="start from a saved search (its filters, period, language, zone); options given override it")
    parser.add_argument("--as", dest="as_", metavar="EMAIL",
                        help="run with this account's scope and saved searches (required once accounts exist)")
    for name in MULTI:
        parser.add_argument(f"--{name.replace('_', '-')}", action="append", metavar="X",
                            help=f"repeat for several values{_only(name)}")
    for name in SINGLE:
        parser.add_argument(f"--{name.replace('_', '-')}", metavar="X", help=_only(name).lstrip("; ") or None)
    return parser


def _only(name: str) -> str:
    return f"; --view {ONLY_FOR[name]} only" if name in ONLY_FOR else ""


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _run(build_parser().parse_args(argv))
    except (UsageError, FilterError) as exc:
        return _fail(str(exc), 2)
    except (DatabaseError, ChartError, WriteError, OSError) as exc:
        return _fail(str(exc), 1)


def _fail(message: str, code: int) -> int:
    print(f"exports: {message}", file=sys.stderr)
    return code


def _run(args: argparse.Namespace) -> int:
    for name, view in ONLY_FOR.items():
        if getattr(args, name) is not None and args.view != view:
            raise UsageError(f"--{name.replace('_', '-')} filters --view {view} only, not --view {args.view}")
    try:
        lang = config.check_lang(args.lang) if args.lang else None
        tz = config.check_tz(args.tz) if args.tz else None
        defaults = {"tz": [config.report_tz()]}
        default_lang = config.report_lang()
    except SettingError as exc:
        raise UsageError(str(exc)) from None
    output = output_path(args.output)
    given = _given_params(args, tz)
    view_filters = FILTERS_OF_VIEW[args.view]
    filters = None if args.saved is not None else view_filters.from_params({**defaults, **given})
    engine = _open(args.db)
    try:
        account = signed_in_as(engine, args.as_)
        owner, scope = (account.email, account.scope) if account else (DEFAULT_OWNER, Scope.ALL)
        if filters is None:
            saved = saved_search(engine, args.view, args.saved, owner)
            filters = view_filters.from_params({**saved.filters().to_params(), **given})
            default_lang = saved.lang
        filters = filters.replace(scope=scope)
        started = time.monotonic()
        progress = _Progress()
        try:
            rows = export(engine, filters, args.fmt, lang or default_lang, output, progress)
        except OSError as exc:  # the database's failures arrive as DatabaseError: this is the file
            raise WriteError(f"could not write -o {args.output!r}: {exc.strerror or exc} (nothing was written)") from exc
        audit_export(engine, owner if account else SYSTEM_ACTOR, filters, args.fmt, rows, via="cli")
    finally:
        engine.dispose()
    print(f"exports: wrote {rows:,} rows to {args.output} in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 0


def output_path(text: str) -> Path:
    """The regular file `-o` names: a new file in an existing folder or a file to replace; through a
    symbolic link, the file it points to (the link stays a link). Anything else is refused."""
    given = Path(text)
    path = Path(os.path.realpath(given)) if given.is_symlink() else given
    if path.is_symlink():  # a chain of links that loops
        raise UsageError(f"-o {text!r} is a symbolic link that leads to no file: give a file name")
    if path.is_dir():
        raise UsageError(f"-o {text!r} is a folder: give a file name, e.g. {str(given / 'report.csv')!r}")
    if path.exists() and not path.is_file():
        raise UsageError(f"-o {text!r} is not a regular file (a device, a pipe or a socket): give a file name")
    if not path.parent.is_dir():
        raise UsageError(f"the folder of -o {text!r} does not exist: give a file in an existing folder")
    return path


def _given_params(args: argparse.Namespace, tz: str | None) -> dict[str, list[str]]:
    """The filter parameters set on the command line, named as in the URL (SPEC section 4)."""
    params: dict[str, list[str]] = {}
    for param, value in (("from", args.from_), ("to", args.to), ("tz", tz)):
        if value is not None:
            params[param] = [value]
    for name in MULTI + SINGLE:
        value = getattr(args, name)
        if value is not None:
            params[name] = value if isinstance(value, list) else [value]
    return params


def _open(url: str | None) -> Engine:
    try:
        return open_database(config.database_url(url))
    except DatabaseBusy:
        raise
    except DatabaseError as exc:
        raise UsageError(str(exc)) from None


def signed_in_as(engine: Engine, email: str | None) -> Account | None:
    """The active account `--as EMAIL` names; None while no account exists and none is named."""
    if email is None:
        if any_account(engine):
            raise UsageError("accounts exist: give --as EMAIL to export with that account's scope")
        return None
    account = get_account(engine, email)
    if account is None or not account.active:
        raise UsageError(f"--as {email!r} is not an active account: see python -m data_access.users list")
    return account


def saved_search(engine: Engine, view: str, name: str, owner: str = DEFAULT_OWNER) -> SavedSearch:
    """The saved search `--saved NAME` names (of `owner`, or shared with it), if it is a search of `view`."""
    try:
        saved = get(engine, name, owner)
    except SavedSearchError as exc:
        raise UsageError(str(exc)) from None
    if saved.view != view:
        raise UsageError(f"saved search {name!r} is a search of --view {saved.view}, not --view {view}")
    return saved


class _Progress:
    """Rows written so far on standard error, at most every few seconds."""

    def __init__(self) -> None:
        self._last = float("-inf")

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last >= PROGRESS_EVERY_S or done == 0:
            print(f"exports: {done:,} of {total:,} rows", file=sys.stderr)
            self._last = now


if __name__ == "__main__":
    sys.exit(main())
