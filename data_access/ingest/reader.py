"""Streams the records of one input: JSON Lines, JSON documents (one or several, pretty-printed or
not), or CSV, read line by line so memory stays flat however large the file.

A file whose first non-blank character is `{` or `[` is JSON: every line that parses is a record;
a line that starts a value it does not finish (`{` of a pretty-printed document) opens a document
that ends at a closing line in column 0 (`}`, or `]` for an array), or at the next line that opens a
record in column 0. Anything else is CSV with a header row (`,` or `;` separated). A record that
cannot be read comes back with `error` set, so the caller rejects it and goes on with the next.
"""
import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any, BinaryIO

from data_access.ingest.send_log import REQUIRED_KEYS

CSV_FIELD_LIMIT = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Record:
    """One record: where it starts, its text, and its value or why it cannot be read."""

    line: int
    body: str
    value: Any = None
    error: str | None = None
    csv_row: bool = False


Line = tuple[int, str, bool]  # (line number, text with its newline, decoded as UTF-8 without error)


def read_records(stream: BinaryIO, on_bytes: Callable[[int], None] | None = None) -> Iterator[Record]:
    """The records of a binary stream; `on_bytes` hears how many bytes each line had."""
    lines = _lines(stream, on_bytes)
    for first in lines:
        if first[1].strip():
            break
    else:
        return
    rest = chain((first,), lines)
    if first[1].lstrip()[:1] in ("{", "["):
        yield from _json_records(rest)
    else:
        yield from _csv_records(rest)


def _lines(stream: BinaryIO, on_bytes: Callable[[int], None] | None) -> Iterator[Line]:
    for number, raw in enumerate(stream, start=1):
        if on_bytes is not None:
            on_bytes(len(raw))
        try:
            line, ok = raw.decode("utf-8"), True
        except UnicodeDecodeError:
            line, ok = raw.decode("utf-8", "replace"), False
        if number == 1:
            line = line.removeprefix("\ufeff")
        yield number, line, ok


def _broken(exc: json.JSONDecodeError, first_line: int) -> str:
    return f"broken JSON: {exc.msg} (line {first_line + exc.lineno - 1}, column {exc.colno})"


class _Document:
    """The lines of a JSON value written over several lines."""

    def __init__(self, number: int, line: str, ok: bool) -> None:
        self.line = number
        self.parts = [line]
        self.ok = ok
        self.closer = "]" if line.lstrip().startswith("[") else "}"

    def add(self, line: str, ok: bool) -> None:
        self.parts.append(line)
        self.ok = self.ok and ok

    def opens_record(self, line: str) -> bool:
        """A line in column 0 that starts a new record (array elements may sit in column 0)."""
        return line[:1] == "[" or (line[:1] == "{" and self.closer == "}")

    def closes(self, line: str) -> bool:
        return line[:1] == self.closer

    def parse(self) -> Record:
        body = "".join(self.parts).strip()
        if not self.ok:
            return Record(self.line, body, error="not UTF-8")
        try:
            return Record(self.line, body, json.loads(body))
        except json.JSONDecodeError as exc:
            return Record(self.line, body, error=_broken(exc, self.line))


def _json_records(lines: Iterator[Line]) -> Iterator[Record]:
    document: _Document | None = None
    for number, line, ok in lines:
        if document is not None:
            if not document.opens_record(line):
                document.add(line, ok)
                if document.closes(line):
                    record = document.parse()
                    if record.error is None:
                        yield record
                        document = None
                continue
            yield document.parse()
            document = None
        body = line.strip()
        if not body:
            continue
        if not ok:
            yield Record(number, body, error="not UTF-8")
            continue
        try:
            yield Record(number, body, json.loads(body))
        except json.JSONDecodeError as exc:
            if exc.pos >= len(body) and body[0] in "{[":  # a value that goes on on the next lines
                document = _Document(number, line, ok)
            else:
                yield Record(number, body, error=_broken(exc, number))
    if document is not None:
        yield document.parse()


def _csv_records(lines: Iterator[Line]) -> Iterator[Record]:
    csv.field_size_limit(CSV_FIELD_LIMIT)
    first = next(lines)
    delimiter = ";" if first[1].count(";") > first[1].count(",") else ","
    undecodable: set[int] = set()

    def texts() -> Iterator[str]:
        for number, line, ok in chain((first,), lines):
            if not ok:
                undecodable.add(number)
            yield line

    reader = csv.reader(texts(), delimiter=delimiter)
    header = [name.strip() for name in next(reader)]
    missing = [key for key in REQUIRED_KEYS if key not in header]
    if missing:
        yield Record(
            1,
            first[1].strip(),
            error=f"CSV header lacks {', '.join(missing)}: a send log needs {', '.join(REQUIRED_KEYS)}",
        )
        return
    end = reader.line_num
    while True:
        start = end + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            end = reader.line_num
            yield Record(start, "", error=f"unreadable CSV: {exc}")
            continue
        end = reader.line_num
        if not row:
            continue
        lines_of_row = range(start, end + 1)
        if undecodable.intersection(lines_of_row):
            undecodable.difference_update(lines_of_row)
            yield Record(start, delimiter.join(row), error="not UTF-8")
        elif len(row) != len(header):
            yield Record(
                start, delimiter.join(row), error=f"CSV row has {len(row)} fields, the header has {len(header)}"
            )
        else:
            value = dict(zip(header, row))
            yield Record(start, json.dumps(value, ensure_ascii=False), value, csv_row=True)
