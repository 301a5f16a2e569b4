"""python -m data_access.demo [--db URL] [--rows N] [--days D] [--seed S] [--end YYYY-MM-DD] [--if-empty]

Fills the database with demo traffic (replacing earlier demo rows). Exit codes: 0 done, 1 the load
failed, 2 bad arguments or a database that cannot be opened; errors are one line on stderr.
"""
import argparse
import signal
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import NoReturn, TextIO

import sqlalchemy as sa

from data_access.config import database_url
from data_access.demo.generator import HOME_TZ
from data_access.demo.loader import generate
from data_access.engine import DATABASE_ERRORS, DatabaseError, first_line, open_database, safe_url
from data_access.schema import mt_message

PROG = "python -m data_access.demo"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line, not argparse's usage block: scripts log it as it is."""
        self.exit(2, f"{PROG}: {message} (see --help)\n")


def _whole(minimum: int, maximum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"expected a whole number from {minimum:,} to {maximum:,}, got {text!r}")
        return value

    return parse


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = _Parser(prog=PROG, description="Fill the report's database with demo WhatsApp traffic.")
    parser.add_argument("--db", metavar="URL", help="database URL (default: DATABASE_URL, else the embedded file)")
    parser.add_argument("--rows", type=_whole(1, 1_000_000_000), default=200_000, metavar="N",
                        help="MT messages to create (default 200,000; MOs come on top)")
    parser.add_argument("--days", type=_whole(1, 3660), default=60, metavar="D",
                        help="days of traffic, ending with --end (default 60)")
    parser.add_argument("--seed", type=_whole(0, 2**63 - 1), default=42, metavar="S",
                        help="random seed: the same seed and --end give the same data (default 42)")
    parser.add_argument("--end", type=_day, metavar="YYYY-MM-DD",
                        help="last day of the data (default: today in America/Sao_Paulo)")
    parser.add_argument("--if-empty", action="store_true",
                        help="do nothing when the database already holds MT messages")
    return parser.parse_args(argv)


class ProgressBar:
    """A one-line text bar on a terminal; on anything else, a line per 10% step."""

    def __init__(self, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.stream, self.width = stream, width
        self.started = time.perf_counter()
        self.tty = stream.isatty()
        self.last_step = -1

    def __call__(self, done: int, total: int) -> None:
        share = done / total
        filled = round(self.width * share)
        line = (f"demo data [{'#' * filled}{'.' * (self.width - filled)}] {share:4.0%} "
                f"{done:,}/{total:,} MT rows, {time.perf_counter() - self.started:.1f} s")
        if self.tty:
            self.stream.write("\r" + line + ("\n" if done == total else ""))
        elif int(share * 10) > self.last_step:
            self.last_step = int(share * 10)
            self.stream.write(line + "\n")
        self.stream.flush()


def _interrupt(_signal: int, _frame: object) -> None:
    raise KeyboardInterrupt  # a stopped load unwinds like Ctrl-C: rolled back, shared-memory files removed


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    url = database_url(args.db)
    try:
        engine = open_database(url)
    except DatabaseError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    try:
        if args.if_empty:
            with engine.connect() as conn:
                if conn.execute(sa.select(sa.exists().select_from(mt_message))).scalar():
                    print(f"{PROG}: {safe_url(url)} already holds messages; nothing to do (--if-empty)",
                          file=sys.stderr)
                    return 0
        end = args.end or datetime.now(HOME_TZ).date()
        summary = generate(engine, args.rows, args.days, args.seed, end, progress=ProgressBar())
    except DatabaseError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except DATABASE_ERRORS as exc:  # DatabaseError is caught above
        print(f"{PROG}: loading the demo data failed, nothing was written: {first_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted, nothing was written", file=sys.stderr)
        return 130
    finally:
        engine.dispose()
    print(f"demo data: {summary.mt_rows:,} MT and {summary.mo_rows:,} MO rows, {summary.first_day} to "
          f"{summary.last_day}, in {summary.seconds:.1f} s -> {safe_url(url)}")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)
    sys.exit(main())
