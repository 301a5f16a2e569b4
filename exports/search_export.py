"""The database part of `python -m exports`, run in the command's process or, while the app server
owns the embedded file, in the server (`server/control.py`), which streams the file back: the same
code either way, so the file is the same."""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

from sqlalchemy.engine import Engine

from data_access.accounts import SYSTEM_ACTOR, Account, any_account, audit_export, get_account
from data_access.engine import DatabaseError
from data_access.filters import FilterError
from data_access.saved_searches import DEFAULT_OWNER, SavedSearchError, get
from data_access.scope import Scope
from data_access.server_link import EXPORT_ROUTE, Presence, ServerGone, post, read_frames
from data_access.views import view
from exports.export import export

Progress = Callable[[int, int], None]


class BadSearch(ValueError):
    """The search cannot be made (unknown saved search, a filter it refuses): exit 2."""


@dataclass(frozen=True)
class ExportRequest:
    """What the command asks for, as plain data (it travels to the server as JSON)."""

    view: str
    fmt: str
    lang: str | None  # --lang, else the saved search's, else `default_lang`
    default_lang: str
    params: dict[str, list[str]]  # the filters given on the command line, named as in the URL
    defaults: dict[str, list[str]]  # what applies when neither the command line nor a saved search says
    saved: str | None = None
    as_email: str | None = None  # --as: the account whose scope and saved searches apply
    layout: dict[str, list[str]] = field(default_factory=dict)  # e.g. the Consolidado's group_by

    def to_json(self) -> bytes:
        return json.dumps(asdict(self)).encode("utf-8")

    @classmethod
    def from_json(cls, body: bytes) -> ExportRequest:
        return cls(**json.loads(body))


def export_search(engine: Engine, request: ExportRequest, out: IO[bytes] | Path, progress: Progress) -> int:
    """Writes the search to `out` with the scope of the account `--as` names, and audits it; returns
    the rows written. Raises `BadSearch` for exit 2."""
    view_filters = view(request.view).filters
    lang = request.lang
    account = signed_in_as(engine, request.as_email)
    owner, scope = (account.email, account.scope) if account else (DEFAULT_OWNER, Scope.ALL)
    try:
        if request.saved is None:
            filters = view_filters.from_params({**request.defaults, **request.params})
        else:
            try:
                saved = get(engine, request.saved, owner)
            except SavedSearchError as exc:
                raise BadSearch(str(exc)) from None
            if saved.view != request.view:
                raise BadSearch(
                    f"saved search {request.saved!r} is a search of --view {saved.view}, not --view {request.view}"
                )
            filters = view_filters.from_params({**saved.filters().to_params(), **request.params})
            lang = lang or saved.lang
    except FilterError as exc:
        raise BadSearch(str(exc)) from None
    filters = filters.replace(scope=scope)
    rows = export(engine, filters, request.fmt, lang or request.default_lang, out, progress, layout=request.layout)
    audit_export(engine, owner if account else SYSTEM_ACTOR, filters, request.fmt, rows, via="cli")
    return rows


def signed_in_as(engine: Engine, email: str | None) -> Account | None:
    """The active account `--as EMAIL` names; None while no account exists and none is named."""
    if email is None:
        if any_account(engine):
            raise BadSearch("accounts exist: give --as EMAIL to export with that account's scope")
        return None
    account = get_account(engine, email)
    if account is None or not account.active:
        raise BadSearch(f"--as {email!r} is not an active account: see python -m data_access.users list")
    return account


def export_through_server(presence: Presence, request: ExportRequest, output: Path, progress: Progress) -> int:
    """Has the app server that owns the file run `export_search` and writes what it streams back to
    `output` (through a temporary file beside it, as a local export does). Raises `BadSearch` (exit 2)
    or `DatabaseError` (exit 1) with the server's message."""
    try:
        answer = post(presence, EXPORT_ROUTE, request.to_json(), "application/json")
    except ServerGone as exc:
        raise DatabaseError(str(exc)) from None
    output = Path(os.path.realpath(output))  # through a symlink, to the file it names
    partial = output.with_name(f".{output.name}.partial")
    outcome: dict | None = None
    try:
        with open(partial, "wb") as file:
            for kind, payload in read_frames(answer):
                if kind == b"p":
                    progress(*json.loads(payload))
                elif kind == b"f":
                    file.write(payload)
                elif kind == b"x":
                    outcome = json.loads(payload)
        if outcome is None:
            raise ServerGone("the app server's answer was cut short")
        if outcome["code"] == 0:
            os.replace(partial, output)
            return int(outcome["rows"])
    except ServerGone as exc:
        raise DatabaseError(str(exc)) from None
    finally:
        answer.close()
        partial.unlink(missing_ok=True)
    if outcome["code"] == 2:
        raise BadSearch(outcome["message"])
    raise DatabaseError(outcome["message"])
