"""The fold's parsing in a child process (`server.parsing`), on each engine: the rows and counts are
those of the same bodies ingested in one thread, and a child that dies is reported, not waited on."""
import os
import signal
from collections.abc import Iterator

import pytest

from data_access.engine import open_database
from server.fold import ingest_bodies
from server.parsing import ChildGone, ParsingProcess
from server.received import META, SINCH, Received
from tests.postgres import new_postgres_database
from tests.test_ingest_support import PUBLIC, meta_status
from tests.test_webhooks import comparable
from tests.webhook_client import body_of


@pytest.fixture
def second_url(db_url, tmp_path) -> Iterator[str]:
    """Another empty database on the same engine as `db_url`."""
    if db_url.startswith("duckdb"):
        yield f"duckdb:///{tmp_path / 'in-thread.duckdb'}"
        return
    url, drop = new_postgres_database()
    try:
        yield url
    finally:
        drop()


def bodies() -> list[Received]:
    """The public fixtures (two of them not JSON: rejected), statuses in several batches' worth,
    one delivered twice, and an empty JSON array (rejected)."""
    items = [Received(META if name.startswith("meta_") else SINCH, text.encode()) for name, text in PUBLIC.items()]
    statuses = [body_of(meta_status(f"wamid.p{n}", ("sent", "delivered", "read")[n % 3], n)) for n in range(300)]
    items += [Received(META, body) for body in statuses]
    items += [Received(META, statuses[7]), Received(META, b"[]")]
    return items


def counts(summary) -> dict[str, tuple[int, ...]]:
    return {fmt: (c.read, c.accepted, c.duplicates, c.rejected, c.rejected_parts, c.events)
            for fmt, c in sorted(summary.counts.items())}


def test_bodies_parsed_in_the_child_give_the_rows_and_counts_of_one_thread(db_url, second_url) -> None:
    items = bodies()
    engine, reference = open_database(db_url), open_database(second_url)
    parser = ParsingProcess()
    try:
        in_child = parser.ingest(engine, items)
        again = parser.ingest(engine, items[:50])  # the same child takes the next round
        in_thread = ingest_bodies(reference, items)
    finally:
        parser.close()
        engine.dispose()
        reference.dispose()
    assert counts(in_child) == counts(in_thread)
    # 12 usable fixtures and 300 statuses; one status twice; the two VERBATIM fixtures (not JSON)
    # and the empty array rejected
    total = in_child.total
    assert (total.read, total.accepted, total.duplicates, total.rejected) == (316, 312, 1, 3)
    assert (again.total.read, again.total.accepted, again.total.duplicates) == (50, 0, 48)  # VERBATIM: rejected
    over_child, over_thread = comparable(db_url), comparable(second_url)
    assert over_child == over_thread
    assert len(over_child["raw_payload"]) == 312 and len(over_child["rejected_record"]) == 3


def test_a_child_that_dies_is_reported_and_a_new_one_takes_over(db_url) -> None:
    engine = open_database(db_url)
    first = ParsingProcess()
    try:
        os.kill(first.pid, signal.SIGKILL)
        with pytest.raises(ChildGone):
            first.ingest(engine, bodies()[:20])
    finally:
        first.close()
    second = ParsingProcess()
    try:
        summary = second.ingest(engine, bodies()[:20])
    finally:
        second.close()
        engine.dispose()
    assert (summary.total.read, summary.total.accepted) == (20, 18)
