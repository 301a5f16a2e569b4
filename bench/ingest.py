"""Ingest throughput: seeded Meta webhook traffic (statuses and replies, shuffled, 5% delivered
twice, no send logs) written to a JSON Lines file, then loaded into a fresh database.

Run as `python -m bench.ingest DB_URL MESSAGES`; prints JSON (events/s as the ingest summary counts
them, and the wall time).
"""
from __future__ import annotations

import io
import json
import sys
import tempfile
import time
from pathlib import Path

from bench.memory import peak_rss_mib
from data_access.ingest import synthetic
from data_access.ingest.loader import ingest_paths


def main() -> None:
    url, messages = sys.argv[1], int(sys.argv[2])
    with tempfile.TemporaryDirectory(prefix="report-bench-ingest-") as folder:
        path = Path(folder) / "webhooks.jsonl"
        lines = synthetic.write_jsonl(path, synthetic.webhook_lines(synthetic.generate(messages, seed=7), seed=7,
                                                                      with_send_logs=False))
        started = time.perf_counter()
        summary = ingest_paths(url, [path], stderr=io.StringIO())
        wall = time.perf_counter() - started
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
        "peak_rss_mib": peak_rss_mib(),
    }))


if __name__ == "__main__":
    main()
