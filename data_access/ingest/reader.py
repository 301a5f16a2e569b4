"""Streams the records of one input: JSON Lines, JSON documents (one or several, pretty-printed or
not), or CSV, read line by line so memory stays flat however large the file.

A file whose first readable, non-blank line is a CSV header naming at least one send-log key
(`message_id`, `sent_at`, `phone`; `,` or `;` separated) is CSV. Any other file is read as JSON,
record by record: every line that parses is a record; a line that starts a value it does not finish
(`{` of a pretty-printed document) opens a document that ends at a closing line in column 0 (`}`, or
`]` for an array), or at the next line that opens a record in column 0; any other line (not UTF-8,
garbage, a CSV header without the send-log keys) is one rejected record, and the lines after it are
read on. A record that cannot be read comes back with `error` set, so the caller rejects it and goes
on with the next.

JSON numbers must be finite: `NaN`, `Infinity` and numbers beyond the float range (`1e999`) make the
record unreadable, as do integers of more than 4,300 digits and values nested too deeply for the
parser (each is one rejected record, never a stopped run). The text of a line that is not UTF-8 is
kept with its bad bytes written as `\\xNN` escapes.
"""
import csv
import json
import math
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any, BinaryIO

from data_access.ingest.send_log import REQUIRED_KEYS

CSV_FIELD_LIMIT = 64 * 1024 * 1024
NOT_UTF8 = "not UTF-8"
NOT_FINITE = "a number that is not finite (NaN, Infinity or beyond the float range)"


class _NotFinite(ValueError):
    pass


def _constant(name: str) -> float:
    raise _NotFinite(f"{NOT_FINITE}: {name}")


def _finite(literal: str) -> float:
    value = float(literal)
    if math.isinf(value):
        raise _NotFinite(f"{NOT_FINITE}: {literal[:40]}")
    return value


_decode = json.JSONDecoder(parse_float=_finite, parse_constant=_constant).decode


def parse_json(body: str, first_line: int) -> tuple[Any, str | None]:
    """(value, None), or (None, why the text is not a usable JSON value)."""
    try:
        return _decode(body), None
    except json.JSONDecodeError as exc:
        return None, _broken(exc, first_line)
    except _NotFinite as exc:
        return None, f"broken JSON: {exc}"
    except ValueError:  # the only other ValueError of the parser: integers of more than 4,300 digits
        return None, f"broken JSON: an integer of more than {sys.get_int_max_str_digits():,} digits"
    except RecursionError:
        return None, "broken JSON: nested too deeply"


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
    if _is_csv_header(first):
        yield from _csv_records(rest)
    else:
        yield from _json_records(rest)


def _delimiter(line: str) -> str:
    return ";" if line.count(";") > line.count(",") else ","


def _is_csv_header(line: Line) -> bool:
    """A readable line, not JSON, that names a send-log key between delimiters."""
    _, text, ok = line
    if not ok or text.lstrip()[:1] in ("{", "["):
        return False
    names = {name.strip().strip('"') for name in text.split(_delimiter(text))}
    return any(key in names for key in REQUIRED_KEYS)


def _lines(stream: BinaryIO, on_bytes: Callable[[int], None] | None) -> Iterator[Line]:
    for number, raw in enumerate(stream, start=1):
        if on_bytes is not None:
            on_bytes(len(raw))
        try:
            line, ok = raw.decode("utf-8"), True
        except UnicodeDecodeError:
            line, ok = raw.decode("utf-8", "backslashreplace"), False
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
            return Record(self.line, body, error=NOT_UTF8)
        value, error = parse_json(body, self.line)
        return Record(self.line, body, value, error)


def _json_records(lines: Iterator[Line]) -> Iterator[Record]:
    document: _Document | None = None
    first = True
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
        was_first, first = first, False
        if not ok:
            yield Record(number, body, error=NOT_UTF8)
            continue
        try:
            yield Record(number, body, _decode(body))
        except json.JSONDecodeError as exc:
            if exc.pos >= len(body) and body[0] in "{[":  # a value that goes on on the next lines
                document = _Document(number, line, ok)
            elif was_first and body[0] not in "{[" and _delimiter(body) in body:
                yield Record(number, body, error=_csv_header_lacks())
            else:
                yield Record(number, body, error=_broken(exc, number))
        except (ValueError, RecursionError):
            yield Record(number, body, error=parse_json(body, number)[1])
    if document is not None:
        yield document.parse()


def _csv_header_lacks(missing: list[str] | tuple[str, ...] = REQUIRED_KEYS) -> str:
    return f"CSV header lacks {', '.join(missing)}: a send log needs {', '.join(REQUIRED_KEYS)}"


def _csv_records(lines: Iterator[Line]) -> Iterator[Record]:
    """The rows after the header; when the header lacks a required key, it and every row are rejected."""
    csv.field_size_limit(CSV_FIELD_LIMIT)
    first = next(lines)
    delimiter = _delimiter(first[1])
    undecodable: set[int] = set()

    def texts() -> Iterator[str]:
        for number, line, ok in chain((first,), lines):
            if not ok:
                undecodable.add(number)
            yield line

    reader = csv.reader(texts(), delimiter=delimiter)
    offset = first[0] - 1  # the reader counts lines from the header
    header = [name.strip() for name in next(reader)]
    missing = [key for key in REQUIRED_KEYS if key not in header]
    header_problem = None
    if missing:
        header_problem = _csv_header_lacks(missing)
        yield Record(first[0], first[1].strip(), error=header_problem)
        header_problem = f"the CSV header (line {first[0]}) lacks {', '.join(missing)}"
    end = offset + reader.line_num
    while True:
        start = end + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            end = offset + reader.line_num
            yield Record(start, "", error=f"unreadable CSV: {exc}")
            continue
        end = offset + reader.line_num
        if not row:
            continue
        lines_of_row = range(start, end + 1)
        body = delimiter.join(row)
        if undecodable.intersection(lines_of_row):
            undecodable.difference_update(lines_of_row)
            yield Record(start, body, error=NOT_UTF8)
        elif header_problem is not None:
            yield Record(start, body, error=header_problem)
        elif len(row) != len(header):
            yield Record(start, body, error=f"CSV row has {len(row)} fields, the header has {len(header)}")
        else:
            value = dict(zip(header, row))
            yield Record(start, json.dumps(value, ensure_ascii=False), value, csv_row=True)
