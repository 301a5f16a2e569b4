"""`python -m data_access.ingest [--db URL] PATH...`: load send logs and webhooks (SPEC section 6).

Exit codes: 0 all loaded; 1 something was rejected, or the run stopped (the message says which);
2 bad arguments (missing file, bad --db), with a one-line message and no traceback; 130 Ctrl-C.

While the app server owns the embedded file (`data_access.server_link`), the inputs are streamed to
it and it runs the same ingest; the summary, messages and exit codes are the same.
"""
import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import NoReturn

from data_access.config import database_url
from data_access.engine import ACCEPTED_URLS, DatabaseBusy, DatabaseError, open_database
from data_access.ingest.loader import STDIN_NAME, IngestFailed, ingest_paths
from data_access.ingest.waiting import WAIT_MESSAGE
from data_access.server_link import INGEST_ROUTE, Presence, ServerGone, find_server, input_frames, post, read_frames

PROG = "python -m data_access.ingest"
USAGE = f"{PROG} [--db URL] PATH... ('-' reads standard input)"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"ingest: {message}; usage: {USAGE}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        usage=USAGE,
        description=(
            "Load send logs (JSON Lines or CSV) and WhatsApp webhooks (Meta Cloud API, Sinch Messaging "
            "LATAM, legacy Sinch WhatsApp API) into the report database. Loading the same data again "
            "changes nothing; rejected records are kept in the rejected_record table."
        ),
    )
    parser.add_argument(
        "--db", metavar="URL", help=f"database URL ({ACCEPTED_URLS}); default: DATABASE_URL or the embedded file"
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files to load; '-' reads standard input")
    return parser


def _path_problem(paths: list[str]) -> str | None:
    if paths.count("-") > 1:
        return "'-' (standard input) can be given only once"
    for name in paths:
        if name == "-":
            continue
        path = Path(name)
        if not path.exists():
            return f"no such file: {name}"
        if not path.is_file():
            return f"not a file: {name} (give the files to load, not a folder)"
    return None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    problem = _path_problem(args.paths)
    if problem:
        print(f"ingest: {problem}", file=sys.stderr)
        return 2
    url = database_url(args.db)
    try:
        server = find_server(url)
    except DatabaseError as exc:
        print(f"ingest: {exc}", file=sys.stderr)
        return 2
    if server is not None:  # the app server owns the embedded file: it loads what this sends
        return _through_server(server, args.paths)
    try:
        engine = open_database(url, on_wait=lambda: print(WAIT_MESSAGE, file=sys.stderr, flush=True))
    except DatabaseBusy as exc:  # the URL is right: the file is in use for too long
        print(f"ingest: {exc}", file=sys.stderr)
        return 1
    except DatabaseError as exc:
        print(f"ingest: {exc}", file=sys.stderr)
        return 2
    try:
        summary = ingest_paths(engine, args.paths)
    except IngestFailed as exc:
        print(exc.summary.render())
        print(f"ingest: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ingest: interrupted; the batches written before are kept; running again is safe", file=sys.stderr)
        return 130
    finally:
        engine.dispose()
    print(summary.render())
    return summary.exit_code


def _through_server(server: Presence, names: list[str]) -> int:
    """Streams the inputs to the app server, which runs the same ingest; prints what it answers."""
    with contextlib.ExitStack() as inputs:
        streams = [
            (STDIN_NAME, sys.stdin.buffer) if name == "-" else (os.path.abspath(name), inputs.enter_context(open(name, "rb")))
            for name in names
        ]
        try:
            answer = post(server, INGEST_ROUTE, input_frames(streams), "application/octet-stream")
            code = 1
            for kind, payload in read_frames(answer):
                if kind == b"x":
                    code = int(payload)
                else:
                    print(payload.decode("utf-8"), file=sys.stdout if kind == b"o" else sys.stderr, flush=True)
            return code
        except ServerGone as exc:
            print(f"ingest: {exc}; what was loaded before is kept, and running again is safe", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("ingest: interrupted; the batches written before are kept; running again is safe", file=sys.stderr)
            return 130


if __name__ == "__main__":
    sys.exit(main())
