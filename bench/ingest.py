"""Ingest throughput: seeded Meta webhook traffic (statuses and replies, shuffled, 5% delivered
twice, no send logs) written to a JSON Lines file, then loaded into a fresh database.

Run as `python -m bench.ingest DB_URL MESSAGES`; prints JSON (events/s as the ingest summary counts
them, and the wall time). On a shared machine the wall time says little: the CPU seconds of the
reading process (parsing, checks, building batches) and of the writer (this process's writer thread
or the child writer process) are given apart, with events per second of reader CPU.
"""
from __future__ import annotations

import io
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench.memory import peak_rss_mib
from data_access.ingest import synthetic
from data_access.ingest.loader import ingest_paths


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def main() -> None:
    url, messages = sys.argv[1], int(sys.argv[2])
    with tempfile.TemporaryDirectory(prefix="report-bench-ingest-") as folder:
        path = Path(folder) / "webhooks.jsonl"
        lines = synthetic.write_jsonl(path, synthetic.webhook_lines(synthetic.generate(messages, seed=7), seed=7,
                                                                      with_send_logs=False))
        started, cpu_before = time.perf_counter(), cpu_seconds()
        summary = ingest_paths(url, [path], stderr=io.StringIO())
        wall, cpu_after = time.perf_counter() - started, cpu_seconds()
    own_cpu, child_cpu = (after - before for after, before in zip(cpu_after, cpu_before))
    total = summary.total
    events = total.events
    print(json.dumps({
        "lines": lines,
        "read": total.read,
        "events": events,
        "rejected": total.rejected,
        "wall_s": round(wall, 2),
        "events_per_s": round(events / wall),
        "events_per_s_summary": round(events / summary.seconds) if summary.seconds else None,  # the run's own clock
        "process_cpu_s": round(own_cpu, 2),  # reading, and writing when the writer is a thread
        "writer_process_cpu_s": round(child_cpu, 2),
        "events_per_process_cpu_s": round(events / own_cpu),
        "peak_rss_mib": peak_rss_mib(),
    }))


if __name__ == "__main__":
    main()
