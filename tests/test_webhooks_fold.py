"""The background fold on its own, on each engine: a body the ingest code fails on is set aside
durably and kept in rejected_record before its source is dropped; a fold whose bodies a child
process reads goes on when that process is killed, fails or meets a database failure."""
import contextlib
import hashlib
import json
import os
import sys
import threading
import types
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import psutil
import pytest
import sqlalchemy as sa

from data_access.ingest import IngestFailed, reader_process
from data_access.ingest.reader_process import ReaderProcess
from data_access.schema import mt_message, mt_send_log, rejected_record
from server import fold
from server.fold import Folder
from server.received import META, SEND_LOG, Received
from tests.test_ingest_hostile import statuses
from tests.test_ingest_support import meta_status, send_log
from tests.webhook_client import body_of, wait_until

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

    def failing_on_broken(engine, items, scope=None, stored=None):
        if BROKEN in items:
            raise RuntimeError("a stand-in for a bug in the ingest code")
        return real_ingest(engine, items, scope, stored)

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
    """This process's live fold readers."""
    found = []
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.NoSuchProcess):
            if child.status() != psutil.STATUS_ZOMBIE and "data_access.ingest.reader_process:serve" in child.cmdline():
                found.append(child)
    return found


def delivered(prefix: str, count: int = 50) -> list[Received]:
    return [Received(META, body_of(meta_status(f"wamid.{prefix}{i}", "delivered", i))) for i in range(count)]


def ready_reader(folder: Folder) -> psutil.Process:
    """The folder's reader process, once it is ready."""
    wait_until(lambda: folder.reads_apart, 60, "the reader process is ready")
    [reader] = reader_processes()
    return reader


@pytest.fixture
def reading_folder(engine, tmp_path) -> Iterator[tuple[Folder, ListSpool]]:
    """A folder whose bodies are read by a child process (once ready), on an empty in-memory spool."""
    spool = ListSpool([], lambda: None)
    folder = Folder(engine, spool, threading.Lock(), tmp_path / "unfoldable", read_apart=True)
    try:
        ready_reader(folder)
        yield folder, spool
    finally:
        folder.stop()
    assert reader_processes() == []  # stopped with the folder


def test_a_reader_process_killed_between_runs_is_replaced(engine, tmp_path, reading_folder) -> None:
    folder, spool = reading_folder
    first = ready_reader(folder)
    first.kill()
    first.wait(10)
    spool.items = delivered("a")
    assert folder.fold_all() == 50  # read here, while a new reader starts
    second = ready_reader(folder)
    spool.items = delivered("b")
    assert folder.fold_all() == 50
    assert reader_processes() == [second] and second.pid != first.pid
    assert not (tmp_path / "unfoldable").exists()  # nothing was taken for a body at fault
    assert statuses(engine) == {f"wamid.{prefix}{i}": "delivered" for prefix in "ab" for i in range(50)}


def test_a_reader_process_killed_in_the_middle_of_a_run_is_replaced_and_reads_again(
    engine, tmp_path, monkeypatch, reading_folder
) -> None:
    """Killed after its first batch was written, before it hears so: the bodies are read again
    while another one starts; every row is there once."""
    folder, spool = reading_folder
    real_answer = reader_process.write_answer
    killed: list[int] = []

    def answer_then_kill(write, batch, fold):
        answer = real_answer(write, batch, fold)
        if not killed:
            [reader] = reader_processes()
            reader.kill()
            reader.wait(10)
            killed.append(reader.pid)
        return answer

    monkeypatch.setattr(reader_process, "write_answer", answer_then_kill)
    spool.items = delivered("m")
    assert folder.fold_all() == 50
    assert killed and ready_reader(folder).pid != killed[0]
    assert not (tmp_path / "unfoldable").exists()
    assert statuses(engine) == {f"wamid.m{i}": "delivered" for i in range(50)}


def send_log_body(names: Iterable[str]) -> bytes:
    return "\n".join(json.dumps(send_log(name, 0)) for name in names).encode()


@pytest.mark.parametrize("kill", [False, True], ids=["whole", "reader killed after the first batch"])
def test_a_send_log_run_counts_each_record_once_whether_or_not_its_reader_was_killed(
    engine, monkeypatch, reading_folder, kill
) -> None:
    """A send log of several batches whose last repeats a record of the first and five stored
    before: the counts the route answers are the same when the reader is killed after writing the
    first batch and the bodies are read again (what the first try wrote counts as accepted, the
    repeat as a duplicate)."""
    folder, _ = reading_folder
    assert folder.ingest([Received(SEND_LOG, send_log_body(f"old{i}" for i in range(5)))]).total.accepted == 5
    names = [f"new{i}" for i in range(10_000)] + [f"old{i}" for i in range(5)] + ["new0"]
    names += [f"new{i}" for i in range(10_000, 10_005)]
    real_answer = reader_process.write_answer
    answered: list[int] = []

    def answer_then_kill(write, batch, fold):
        answer = real_answer(write, batch, fold)
        answered.append(batch.payloads.num_rows)
        if kill and len(answered) == 1:
            [reader] = reader_processes()
            reader.kill()
            reader.wait(10)
        return answer

    monkeypatch.setattr(reader_process, "write_answer", answer_then_kill)
    summary = folder.ingest([Received(SEND_LOG, send_log_body(names))]).total
    assert answered[0] <= 10_000  # the first batch ends before "new0" comes again
    assert len(answered) == 1 if kill else len(answered) >= 2
    assert (summary.read, summary.accepted, summary.duplicates, summary.rejected) == (10_011, 10_005, 6, 0)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(mt_send_log)).scalar_one() == 10_010


def test_a_database_failure_in_a_reader_run_leaves_the_reader_ready_for_the_next(
    engine, monkeypatch, reading_folder
) -> None:
    folder, _ = reading_folder
    real_answer = reader_process.write_answer
    failures = iter([("error", "a stand-in for a full disk")])
    monkeypatch.setattr(reader_process, "write_answer",
                        lambda *args: next(failures, None) or real_answer(*args))
    reader = ready_reader(folder)
    with folder.ingest_lock, pytest.raises(IngestFailed, match="a stand-in for a full disk"):
        folder.ingest(delivered("f"))
    with folder.ingest_lock:
        summary = folder.ingest(delivered("f"))
    assert reader_processes() == [reader]  # the same process, still in step with this one
    assert (summary.total.accepted, summary.total.duplicates) == (50, 0)
    assert statuses(engine) == {f"wamid.f{i}": "delivered" for i in range(50)}


def test_a_body_the_ingest_code_fails_on_in_the_reader_is_set_aside(engine, tmp_path, monkeypatch,
                                                                      reading_folder) -> None:
    """The writing side fails (a stand-in for a bug) on any batch that holds one body: the reader
    says so, and the fold sets that body aside and folds the others, with the same reader."""
    folder, spool = reading_folder
    bodies = delivered("x", 20)
    poison = bodies[7]
    poison_id = hashlib.sha256(poison.body).hexdigest()
    real_answer = reader_process.write_answer

    def failing_on_poison(write, batch, fold):
        if poison_id in batch.payloads["payload_id"].to_pylist():
            return "failed", "RuntimeError: a stand-in for a bug"
        return real_answer(write, batch, fold)

    monkeypatch.setattr(reader_process, "write_answer", failing_on_poison)
    reader = ready_reader(folder)
    spool.items = bodies
    assert folder.fold_all() == 20
    spool.items = delivered("y", 5)
    assert folder.fold_all() == 5
    assert reader_processes() == [reader]
    assert (tmp_path / "unfoldable" / f"{poison_id}.body").read_bytes() == poison.body
    assert statuses(engine) == ({f"wamid.x{i}": "delivered" for i in range(20) if i != 7}
                                | {f"wamid.y{i}": "delivered" for i in range(5)})
    with engine.connect() as conn:
        assert conn.execute(sa.select(rejected_record.c.reason)).scalars().all() == [
            "could not be folded: ReadingFailed: WriteFailed: RuntimeError: a stand-in for a bug"]


def test_a_reader_does_not_run_the_parents_main_script(engine, tmp_path, monkeypatch) -> None:
    """In the app server, `__main__` is the dashboard script of the last page run (Streamlit puts it
    there): a reader started then must not run it (`multiprocessing`'s spawn would)."""
    marker = tmp_path / "ran"
    script = tmp_path / "dashboard.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\n")
    page_main = types.ModuleType("__main__")
    page_main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page_main)
    reader = ReaderProcess.start()
    assert reader is not None
    try:
        summary = reader.ingest(engine, [(item.source, item.body) for item in delivered("p", 3)])
    finally:
        reader.close()
    assert summary.total.accepted == 3
    assert not marker.exists()
