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
from data_access.config import SettingError
from data_access.consolidated import DEFAULT_DIMENSION, DIMENSIONS
from data_access.engine import DatabaseBusy, DatabaseError, open_database
from data_access.filters import Field, FilterError
from data_access.i18n import t
from data_access.server_link import Presence, find_server
from data_access.views import CONSOLIDATED, VIEWS, view
from exports.chart_images import ChartError
from exports.export import FORMATS
from exports.search_export import BadSearch, ExportRequest, export_search, export_through_server

PROGRESS_EVERY_S = 2.0


def filter_options() -> dict[str, tuple[Field, tuple[str, ...]]]:
    """Every view's filter fields by URL parameter (the option is the same name, `_` spelt `-`), with
    the codes of the views that have it."""
    found: dict[str, tuple[Field, tuple[str, ...]]] = {}
    for declared in VIEWS.values():
        for field in declared.filters.FIELDS.values():
            known, codes = found.get(field.param, (field, ()))
            found[field.param] = (known, (*codes, declared.code))
    return found


class UsageError(Exception):
    """Bad arguments (exit 2); the message names the value and what is accepted."""


class WriteError(Exception):
    """The file could not be written (exit 1); nothing was written in its place."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line instead of argparse's usage block
        raise UsageError(f"{message} (see --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m exports", description="Export a search of the WhatsApp Detailed Report.")
    parser.add_argument("--view", required=True, choices=tuple(VIEWS),
                        help="; ".join(f"{code}: {v.title('en')}" for code, v in VIEWS.items()))
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
    parser.add_argument("--group-by", choices=DIMENSIONS, metavar="DIMENSION",
                        help=f"the groups' rows: one of {', '.join(DIMENSIONS)} (default {DEFAULT_DIMENSION}); "
                             f"--view {CONSOLIDATED.code} only")
    for param, (field, codes) in filter_options().items():
        only = _only(codes)
        about = "; ".join(part for part in (t(field.label_key, "en"), "repeat for several values" * field.multi, only)
                          if part)
        if field.multi:
            parser.add_argument(_flag(param), action="append", metavar="X", help=about)
        else:
            parser.add_argument(_flag(param), metavar="X", help=about)
    return parser


def _flag(param: str) -> str:
    return f"--{param.replace('_', '-')}"


def _only(codes: tuple[str, ...]) -> str:
    """"--view mt only" for an option some views lack."""
    return "" if len(codes) == len(VIEWS) else f"--view {' or --view '.join(codes)} only"


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _run(build_parser().parse_args(argv))
    except (UsageError, FilterError, BadSearch) as exc:
        return _fail(str(exc), 2)
    except (DatabaseError, ChartError, WriteError, OSError) as exc:
        return _fail(str(exc), 1)


def _fail(message: str, code: int) -> int:
    print(f"exports: {message}", file=sys.stderr)
    return code


def _run(args: argparse.Namespace) -> int:
    for param, (_, codes) in filter_options().items():
        if getattr(args, param) is not None and args.view not in codes:
            raise UsageError(f"{_flag(param)} filters {_only(codes)}, not --view {args.view}")
    if args.group_by is not None and args.view != CONSOLIDATED.code:
        raise UsageError(f"--group-by groups --view {CONSOLIDATED.code} only, not --view {args.view}")
    try:
        lang = config.check_lang(args.lang) if args.lang else None
        tz = config.check_tz(args.tz) if args.tz else None
        defaults = {"tz": [config.report_tz()]}
        default_lang = config.report_lang()
    except SettingError as exc:
        raise UsageError(str(exc)) from None
    output = output_path(args.output)
    request = ExportRequest(
        args.view, args.fmt, lang, default_lang, _given_params(args, tz), defaults, args.saved, args.as_,
        layout={"group_by": [args.group_by]} if args.group_by else {},
    )
    if args.saved is None:  # refuse bad filters before the database is opened
        view(args.view).filters.from_params({**defaults, **request.params})
    started = time.monotonic()
    server = _server(args.db)
    engine = None if server is not None else _open(args.db)
    try:
        if server is not None:  # the app server owns the embedded file: it runs the export
            rows = export_through_server(server, request, output, _Progress())
        else:
            rows = export_search(engine, request, output, _Progress())
    except OSError as exc:  # the database's failures arrive as DatabaseError: this is the file
        raise WriteError(f"could not write -o {args.output!r}: {exc.strerror or exc} (nothing was written)") from exc
    finally:
        if engine is not None:
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
    for param in filter_options():
        value = getattr(args, param)
        if value is not None:
            params[param] = value if isinstance(value, list) else [value]
    return params


def _server(url: str | None) -> Presence | None:
    """The app server that owns the embedded file, when one runs."""
    try:
        return find_server(config.database_url(url))
    except DatabaseError as exc:  # a bad --db
        raise UsageError(str(exc)) from None


def _open(url: str | None) -> Engine:
    try:
        return open_database(config.database_url(url), create=False)  # reading: never a new empty file
    except DatabaseBusy:
        raise
    except DatabaseError as exc:
        raise UsageError(str(exc)) from None


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
