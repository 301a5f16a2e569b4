"""The fold's reader: bodies read into batches by a child process and written by the process that
owns the database, on each engine; the same counts, rows and rejects as a run in one process."""
import hashlib
import json

import pyarrow.compute as pc
import pytest
import sqlalchemy as sa

from data_access.ingest import loader
from data_access.ingest.reader_process import ReaderProcess
from data_access.ingest.writer import BatchRefused
from data_access.schema import raw_payload
from data_access.scope import Scope
from tests.test_ingest_hostile import statuses
from tests.test_ingest_support import meta_status, rejects, send_log


def body(record: dict) -> bytes:
    return json.dumps(record).encode()


@pytest.fixture
def reader():
    process = ReaderProcess.start()
    assert process is not None
    try:
        yield process
    finally:
        process.close()


def test_bodies_read_in_the_child_are_counted_and_stored_as_in_one_process(engine, reader) -> None:
    delivered = [body(meta_status(f"wamid.r{i}", "delivered", i)) for i in range(30)]
    logged = body(send_log("c1", 0, campaign="=HYPERLINK(\"x\") 🙂"))
    bodies = [("webhook:meta", b) for b in delivered] + [
        ("webhook:meta", delivered[0]),  # a provider's retry: the same body again
        ("send-log", logged),
        ("webhook:meta", b'{"entry": [ "not closed'),
    ]
    summary = reader.ingest(engine, bodies)

    assert statuses(engine) == {f"wamid.r{i}": "delivered" for i in range(30)} | {"c1": "sent"}
    total = summary.total
    assert (total.read, total.accepted, total.duplicates, total.rejected, total.events) == (33, 31, 1, 1, 31)
    assert [(file, line) for file, line, _ in rejects(engine)] == [("webhook:meta", 1)]
    with engine.connect() as conn:
        stored = set(conn.execute(sa.select(raw_payload.c.payload_id)).scalars())
    assert stored == {hashlib.sha256(b).hexdigest() for b in [*delivered, logged]}

    again = reader.ingest(engine, bodies[:3])  # the child serves run after run
    assert (again.total.read, again.total.duplicates, again.total.accepted) == (3, 3, 0)


def test_a_batch_the_database_refuses_is_split_in_the_child_until_the_body_at_fault_is_alone(
    engine, reader, monkeypatch
) -> None:
    """The parent answers a write as the database did (here: refusing any batch that holds one
    payload); the child writes the batch again in halves, as a run in one process does."""
    bodies = [("webhook:meta", body(meta_status(f"wamid.s{i}", "read", i))) for i in range(40)]
    refused_id = hashlib.sha256(bodies[17][1]).hexdigest()
    real_write = loader.write_batch
    written_sizes: list[int] = []

    def refusing(engine, batch, fold=True):
        if refused_id in pc.unique(batch.payloads["payload_id"]).to_pylist():
            raise BatchRefused("value too long for the stand-in index")
        written_sizes.append(batch.payloads.num_rows)
        return real_write(engine, batch, fold)

    monkeypatch.setattr(loader, "write_batch", refusing)
    summary = reader.ingest(engine, bodies)

    assert statuses(engine) == {f"wamid.s{i}": "read" for i in range(40) if i != 17}
    assert [(file, line, reason) for file, line, reason in rejects(engine)] == [
        ("webhook:meta", 1, "refused by the database: value too long for the stand-in index")
    ]
    assert (summary.total.accepted, summary.total.rejected) == (39, 1)
    assert sum(written_sizes) == 39 and len(written_sizes) > 2  # written in parts, each payload once


def test_a_token_s_scope_reaches_the_reader(engine, reader) -> None:
    """The send log of a token limited to subaccounts, read in the child: only its own subaccounts'
    records load, the others are rejected with the scope's reason."""
    bodies = [("send-log", body(send_log("own", 0, subaccount="Varejo"))),
              ("send-log", body(send_log("other", 1, subaccount="Atacado")))]
    summary = reader.ingest(engine, bodies, Scope(subaccounts=("Varejo",)))

    assert statuses(engine) == {"own": "sent"}
    assert [(file, reason) for file, _, reason in rejects(engine)] == [
        ("send-log", "subaccount 'Atacado' is outside this token's scope")]
    assert (summary.total.accepted, summary.total.rejected) == (1, 1)
