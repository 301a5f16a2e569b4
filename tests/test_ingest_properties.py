"""Order-freedom and idempotence as properties: the events of a set of messages, shuffled, duplicated,
regrouped into other webhooks, cut into other files and batches and folded at other moments, give
exactly the rows of the plain load.

Hypothesis drives DuckDB (two files reused across examples, emptied each time); one fixed scenario
runs on both engines, and once more through the child-process writer.
"""
import hashlib
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from data_access.engine import open_database
from data_access.ingest import synthetic
from data_access.ingest.batch import BatchBuilder
from data_access.ingest.detect import parse_payload
from data_access.ingest.writer import write_batch
from data_access.schema import ingest_pending, mo_message, mt_event, mt_message, mt_send_log
from tests.test_ingest_support import clear, load, table_rows, unanswered_flags, write_lines


def in_generated_order(traffic: synthetic.Traffic) -> list[str]:
    """The plain load: every send log, then each webhook item alone, as generated."""
    return [json.dumps(log) for log in traffic.send_logs] + [
        json.dumps(synthetic.meta_webhook([item])) for item in traffic.items
    ]


def rearranged(traffic: synthetic.Traffic, order: list[int], copies: list[int], groups: list[int]) -> list[str]:
    """The same records in `order`, with the records at `copies` repeated (at the end), and runs of
    consecutive webhook items put together into one webhook (`groups` gives the run lengths)."""
    records: list[dict] = [{"log": log} for log in traffic.send_logs] + [{"item": item} for item in traffic.items]
    arranged = [records[i] for i in order] + [records[i] for i in copies]
    lines, sizes = [], iter(groups)
    while arranged:
        record = arranged.pop(0)
        if "log" in record:
            lines.append(json.dumps(record["log"]))
            continue
        items = [record["item"]]
        for _ in range(next(sizes, 1) - 1):
            if arranged and "item" in arranged[0]:
                items.append(arranged.pop(0)["item"])
        lines.append(json.dumps(synthetic.meta_webhook(items)))
    return lines


def state(engine) -> dict:
    """Everything the rows depend on, keyed so that it compares across databases."""
    return {table.name: table_rows(engine, table) for table in (mt_message, mo_message, mt_event, mt_send_log)}


def load_lines(engine, folder: Path, name: str, lines: list[str], files: int = 1, **options):
    """Loads the lines cut into `files` consecutive files (each its own run)."""
    size = -(-len(lines) // files)
    summaries = []
    for part in range(files):
        path = write_lines(folder / f"{name}-{part}.jsonl", *lines[part * size : (part + 1) * size])
        summaries.append(load(engine, path, **options))
    return summaries


@pytest.fixture(scope="module")
def duckdb_pair(tmp_path_factory) -> tuple[Path, list[str]]:
    """Two DuckDB files, migrated once; each example opens (and closes) its own engines on them."""
    folder = tmp_path_factory.mktemp("order")
    urls = [f"duckdb:///{folder / name}.duckdb" for name in ("plain", "rearranged")]
    for url in urls:
        open_database(url).dispose()
    return folder, urls


@settings(max_examples=25, deadline=None)
@given(
    scenario=st.builds(synthetic.generate, st.integers(1, 12), st.integers(0, 2**32 - 1)),
    data=st.data(),
)
def test_shuffled_duplicated_regrouped_events_give_identical_rows(duckdb_pair, scenario, data) -> None:
    folder, urls = duckdb_pair
    plain, other = (open_database(url) for url in urls)
    count = len(scenario.send_logs) + len(scenario.items)
    order = data.draw(st.permutations(range(count)), label="order")
    copies = data.draw(st.lists(st.integers(0, count - 1), max_size=count), label="copies")
    groups = data.draw(st.lists(st.integers(1, 3), max_size=count), label="webhook sizes")
    files = data.draw(st.integers(1, 3), label="files")
    batch_events = data.draw(st.sampled_from([2, 5, 10_000]), label="batch size")
    fold_events = data.draw(st.sampled_from([1, 7, 10_000]), label="fold every")
    for engine in (plain, other):
        clear(engine)

    load_lines(plain, folder, "plain", in_generated_order(scenario))
    summaries = load_lines(other, folder, "other", rearranged(scenario, order, copies, groups), files,
                           batch_events=batch_events, fold_events=fold_events)

    try:
        assert state(other) == state(plain)
        assert unanswered_flags(other) == []
        assert sum(s.total.rejected for s in summaries) == 0
    finally:
        plain.dispose()
        other.dispose()


def test_a_shuffled_duplicated_day_gives_the_same_rows_on_each_engine(engine, tmp_path) -> None:
    scenario = synthetic.generate(60, seed=7)
    shuffled = synthetic.webhook_lines(scenario, seed=11, duplicate_share=0.2, grouped_share=0.3)
    load_lines(engine, tmp_path, "plain", in_generated_order(scenario))
    expected = state(engine)
    clear(engine)
    summaries = load_lines(engine, tmp_path, "shuffled", shuffled, files=3, batch_events=25)
    assert state(engine) == expected
    assert sum(s.total.duplicates for s in summaries) == len(shuffled) - len(set(shuffled))
    assert sum(s.total.accepted for s in summaries) == len(set(shuffled))


def test_the_writer_process_gives_the_same_rows_as_the_writer_thread(db_url, tmp_path) -> None:
    engine = open_database(db_url)
    try:
        scenario = synthetic.generate(40, seed=3)
        lines = synthetic.webhook_lines(scenario, seed=5)
        load_lines(engine, tmp_path, "thread", lines, writer="thread", batch_events=30)
        expected = state(engine)
        clear(engine)
        [summary] = load_lines(engine, tmp_path, "process", lines, writer="process", batch_events=30)
        assert state(engine) == expected
        assert (summary.total.accepted, summary.total.duplicates) == (len(set(lines)), len(lines) - len(set(lines)))
    finally:
        engine.dispose()


def test_generated_traffic_is_reproducible_and_realistic(tmp_path) -> None:
    first, again = synthetic.generate(200, seed=42), synthetic.generate(200, seed=42)
    assert first == again
    assert synthetic.generate(200, seed=43) != first
    statuses = [item["statuses"][0]["status"] for item in first.items if "statuses" in item]
    kinds = [item["messages"][0]["type"] for item in first.items if "messages" in item]
    assert set(statuses) == {"sent", "delivered", "read", "failed"}
    assert {"button", "text"} <= set(kinds)
    assert len({log["phone"] for log in first.send_logs}) < 200  # some customers get several MTs
    lines = synthetic.webhook_lines(first, seed=1)
    assert lines == synthetic.webhook_lines(first, seed=1)
    assert len(lines) > len(set(lines))  # some webhooks arrive twice
    assert synthetic.write_jsonl(tmp_path / "traffic.jsonl", lines) == len(lines)
    assert (tmp_path / "traffic.jsonl").read_text(encoding="utf-8").splitlines() == lines


def test_a_run_that_stopped_before_its_fold_is_completed_by_the_next_run(engine, tmp_path) -> None:
    scenario = synthetic.generate(10, seed=9)
    lines = in_generated_order(scenario)
    load_lines(engine, tmp_path, "plain", lines)
    expected = state(engine)
    clear(engine)
    builder = BatchBuilder()
    for number, line in enumerate(lines, start=1):
        fmt, events = parse_payload(json.loads(line))
        builder.add_payload(hashlib.sha256(line.encode()).hexdigest(), fmt, "stopped.jsonl", number, line, list(events))
    write_batch(engine, builder.build(), fold=False)  # as if the run had died before its last batch
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(mt_message)).scalar_one() == 0
        pending = conn.execute(sa.select(sa.func.count()).select_from(ingest_pending)).scalar_one()
    assert pending == len(scenario.send_logs) + sum("messages" in item for item in scenario.items)
    [summary] = load_lines(engine, tmp_path, "again", lines)  # every payload is known now
    assert (summary.total.accepted, summary.total.duplicates) == (0, len(lines))
    assert state(engine) == expected
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ingest_pending)).scalar_one() == 0
