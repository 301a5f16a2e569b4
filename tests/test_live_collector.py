"""The app server's garbage collector settings, made by the live interface's lifespan: young
collections every 10,000 new objects (not Python's 700) and what startup loaded left out of them."""
import asyncio
import gc
import sys

from server import live


def test_the_lifespan_sets_the_collector_and_leaves_startup_out_of_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{tmp_path / 'report.duckdb'}")
    thresholds, interval = gc.get_threshold(), sys.getswitchinterval()

    async def during() -> tuple:
        async with live.running(None) as state:
            return gc.get_threshold(), sys.getswitchinterval(), isinstance(state["live"], live.Live), gc.get_freeze_count()

    try:
        assert gc.get_freeze_count() == 0
        inside, switch, started, frozen = asyncio.run(during())
    finally:
        gc.set_threshold(*thresholds)
        sys.setswitchinterval(interval)
        gc.unfreeze()
    assert (inside, switch, started) == ((10_000, 10, 10), 0.0005, True)
    assert frozen > 10_000  # the modules loaded so far: their objects are never scanned again
    assert live.current() is None  # stopped with the lifespan
