"""The background fold on its own, on each engine: a body the ingest code fails on is set aside
durably and kept in rejected_record before its source is dropped."""
import contextlib
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import psutil
import sqlalchemy as sa

from data_access.schema import mt_message, rejected_record
from server import fold
from server.fold import Folder
from server.received import META, Received
from tests.test_ingest_support import meta_status
from tests.webhook_client import body_of

# A body the ingest code fails on (a stand-in for a bug in it: see `failing_on_broken`).
BROKEN = Received("webhook:broken", b"not json \x00 \xff")


class ListSpool:
    """A spool holding bodies in memory; when a claim ends it notes `snapshot()`, the state of
    things at the moment its bodies are dropped."""

    def __init__(self, items: list[Received], snapshot: Callable[[], Any]) -> None:
        self.items = items
        self.snapshot = snapshot
        self.at_drop: list[Any] = []

    @contextlib.contextmanager
    def claim(self) -> Iterator[list[Received]]:
        taken, self.items = self.items, []
        yield taken
        if taken:
            self.at_drop.append(self.snapshot())


def test_a_body_the_ingest_code_fails_on_is_kept_durably_before_it_is_dropped(engine, tmp_path, monkeypatch) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        real_fsync(fd)
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))

    monkeypatch.setattr(os, "fsync", fsync)
    real_ingest = fold.ingest_bodies

    def failing_on_broken(engine, items, scope=None):
        if BROKEN in items:
            raise RuntimeError("a stand-in for a bug in the ingest code")
        return real_ingest(engine, items, scope)

    monkeypatch.setattr(fold, "ingest_bodies", failing_on_broken)
    good = body_of(meta_status("wamid.good", "read", 3))
    unfoldable = tmp_path / "spool" / "unfoldable"

    def snapshot() -> tuple[list[str], list[str], int]:
        """(the files set aside, the paths fsynced so far, the rejected_record rows)."""
        with engine.connect() as conn:
            rejected = conn.execute(sa.select(sa.func.count()).select_from(rejected_record)).scalar_one()
        return sorted(p.name for p in unfoldable.glob("*")) if unfoldable.exists() else [], list(synced), rejected

    spool = ListSpool([BROKEN, Received(META, good)], snapshot)
    folder = Folder(engine, spool, threading.Lock(), unfoldable)

    assert folder.fold_all() == 2

    name = f"{hashlib.sha256(BROKEN.body).hexdigest()}.body"
    assert (unfoldable / name).read_bytes() == BROKEN.body
    assert spool.at_drop == [([name], [f"{unfoldable / name}.partial", str(unfoldable), str(unfoldable.parent)], 1)]
    with engine.connect() as conn:
        assert conn.execute(sa.select(mt_message.c.message_id, mt_message.c.status)).all() == [("wamid.good", "read")]
        assert conn.execute(sa.select(rejected_record.c.file, rejected_record.c.line, rejected_record.c.reason,
                                      rejected_record.c.body)).all() == [(
            "webhook:broken", None,
            "could not be folded: RuntimeError: a stand-in for a bug in the ingest code",
            "not json \ufffd \ufffd",
        )]


def reader_processes() -> list[psutil.Process]:
    """This process's live children that `spawn` started (the fold's reader)."""
    return [child for child in psutil.Process().children()
            if child.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(child.cmdline())]


def test_a_reader_process_killed_is_replaced_and_its_bodies_are_read_again(engine, tmp_path) -> None:
    def bodies(prefix: str) -> list[Received]:
        return [Received(META, body_of(meta_status(f"wamid.{prefix}{i}", "delivered", i))) for i in range(50)]

    spool = ListSpool(bodies("a"), lambda: None)
    unfoldable = tmp_path / "unfoldable"
    folder = Folder(engine, spool, threading.Lock(), unfoldable, read_apart=True)
    assert reader_processes() == []
    assert folder.fold_all() == 50
    [first] = reader_processes()
    first.kill()
    first.wait(10)
    spool.items = bodies("b")
    assert folder.fold_all() == 50
    [second] = reader_processes()
    folder.stop()
    assert second.pid != first.pid
    assert reader_processes() == []  # stopped with the folder
    assert not unfoldable.exists()  # nothing was taken for a body at fault
    with engine.connect() as conn:
        assert dict(conn.execute(sa.select(mt_message.c.message_id, mt_message.c.status)).all()) == {
            f"wamid.{prefix}{i}": "delivered" for prefix in "ab" for i in range(50)}
