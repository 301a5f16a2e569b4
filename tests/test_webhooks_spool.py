"""The embedded database's spool file on its own: what survives a crash, what a restart folds,
and one owner per folder."""
import asyncio
import json
import struct
import threading

import pytest

from server.group_commit import GroupCommit
from server.received import META, SEND_LOG, SINCH, Received
from server.spool import FileSpool, SpoolInUse, read_segment

BODIES = [Received(META, b'{"a": 1}'), Received(SINCH, "{\"é\": \"ação 👍\"}".encode()), Received(SEND_LOG, b"x" * 70_000)]


async def store_all(spool: FileSpool, items: list[Received]) -> None:
    await asyncio.gather(*(spool.store(item) for item in items))


def test_a_torn_last_frame_is_skipped_and_the_frames_before_it_kept(tmp_path) -> None:
    spool = FileSpool(tmp_path / "spool")
    asyncio.run(store_all(spool, BODIES))
    spool.stop_accepting()
    spool.close()
    (segment,) = sorted((tmp_path / "spool").glob("segment-*.spool"))
    whole = segment.read_bytes()
    assert sorted(read_segment(segment)) == sorted(BODIES)
    segment.write_bytes(whole + whole[:30])  # a crash in the middle of the next write
    assert sorted(read_segment(segment)) == sorted(BODIES)
    damaged = bytearray(whole)
    damaged[-1] ^= 0xFF  # the last frame's body no longer matches its checksum
    segment.write_bytes(bytes(damaged))
    assert len(read_segment(segment)) == 2
    segment.write_bytes(struct.pack(">4sHII", b"WRS1", 4, 10**9, 0) + b"meta")  # a length past the end
    assert read_segment(segment) == []


def test_a_restart_claims_what_the_last_process_left_oldest_first(tmp_path) -> None:
    first = FileSpool(tmp_path / "spool")
    asyncio.run(store_all(first, BODIES[:1]))
    with first.claim() as items:  # seals segment 1, hands it out and deletes it once folded
        assert items == BODIES[:1]
    asyncio.run(store_all(first, BODIES[1:2]))
    first.stop_accepting()
    first.close()  # as if killed: segment 2 holds a body, nothing was deleted for it
    assert sorted(p.name for p in (tmp_path / "spool").glob("segment-*.spool")) == ["segment-000000000002.spool"]
    second = FileSpool(tmp_path / "spool")
    try:
        asyncio.run(store_all(second, BODIES[2:]))
        assert [len(read_segment(p)) for p in sorted((tmp_path / "spool").glob("segment-*.spool"))] == [1, 1]
        with second.claim() as items:
            assert items == BODIES[1:2]  # the killed process's segment first
        with second.claim() as items:
            assert items == BODIES[2:]  # then its own, sealed for the claim
        with second.claim() as items:
            assert items == []
        assert [p.stat().st_size for p in (tmp_path / "spool").glob("segment-*.spool")] == [0]
    finally:
        second.stop_accepting()
        second.close()


def test_a_failed_fold_keeps_the_segment(tmp_path) -> None:
    spool = FileSpool(tmp_path / "spool")
    try:
        asyncio.run(store_all(spool, BODIES[:2]))
        with pytest.raises(RuntimeError, match="database gone"), spool.claim() as items:
            assert sorted(items) == sorted(BODIES[:2])
            raise RuntimeError("database gone")
        with spool.claim() as items:
            assert sorted(items) == sorted(BODIES[:2])
    finally:
        spool.stop_accepting()
        spool.close()


def test_one_process_per_spool_folder(tmp_path) -> None:
    spool = FileSpool(tmp_path / "spool")
    try:
        with pytest.raises(SpoolInUse, match="in use by another app server process"):
            FileSpool(tmp_path / "spool")
    finally:
        spool.stop_accepting()
        spool.close()


def test_after_stop_accepting_a_store_fails(tmp_path) -> None:
    spool = FileSpool(tmp_path / "spool")
    spool.stop_accepting()
    try:
        with pytest.raises(RuntimeError, match="the server is stopping"):
            asyncio.run(spool.store(BODIES[0]))
    finally:
        spool.close()


def test_empty_segments_left_by_a_killed_process_do_not_hold_back_the_next(tmp_path) -> None:
    folder = tmp_path / "spool"
    folder.mkdir()
    (folder / "segment-000000000003.spool").write_bytes(b"")  # killed right after a seal
    (folder / "segment-000000000004.spool").write_bytes(b"WRS1\x00")  # killed inside its first write
    spool = FileSpool(folder)
    try:
        asyncio.run(store_all(spool, BODIES[:1]))
        with spool.claim() as items:
            assert items == BODIES[:1]
        assert sorted(p.name for p in folder.glob("segment-*.spool")) == ["segment-000000000006.spool"]
    finally:
        spool.stop_accepting()
        spool.close()


def test_under_traffic_the_current_segment_is_sealed_once_per_interval(tmp_path) -> None:
    first = FileSpool(tmp_path / "spool")
    asyncio.run(store_all(first, BODIES[:1]))
    first.stop_accepting()
    first.close()  # as if killed: its segment is left for the next process
    spool = FileSpool(tmp_path / "spool", min_seal_interval_s=3600)
    try:
        asyncio.run(store_all(spool, BODIES[1:2]))
        with spool.claim() as items:
            assert items == BODIES[:1]  # a sealed segment is handed out whatever the interval
        with spool.claim() as items:
            assert items == BODIES[1:2]  # the first seal of a process comes at once
        asyncio.run(store_all(spool, BODIES[2:]))
        with spool.claim() as items:
            assert items == []  # within the interval: the current segment keeps filling
        assert [len(read_segment(p)) for p in (tmp_path / "spool").glob("segment-*.spool")] == [1]
        spool.stop_accepting()
        with spool.claim() as items:
            assert items == BODIES[2:]  # once stopping, the last fold takes everything
        with spool.claim() as items:
            assert items == []
    finally:
        spool.close()
    assert list((tmp_path / "spool").glob("segment-*.spool")) == []


def test_seals_while_bodies_arrive_lose_none_and_fold_each_once(tmp_path) -> None:
    """The folder seals the current segment while appends go on (the new segment is made durable
    outside the appends' lock): every stored body is claimed exactly once, in the order stored."""
    spool = FileSpool(tmp_path / "spool")
    items = [Received(META, f'{{"n": {n}}}'.encode()) for n in range(3_000)]
    claimed: list[Received] = []
    done = threading.Event()

    def fold() -> None:
        while not done.is_set():
            with spool.claim() as batch:
                claimed.extend(batch)

    async def store_in_order() -> None:
        for start in range(0, len(items), 50):  # 50 at a time, as concurrent requests
            await store_all(spool, items[start:start + 50])

    folder = threading.Thread(target=fold)
    folder.start()
    try:
        asyncio.run(store_in_order())
    finally:
        done.set()
        folder.join()
        spool.stop_accepting()
    while True:
        with spool.claim() as batch:
            if not batch:
                break
            claimed.extend(batch)
    spool.close()
    assert len(claimed) == len(items)
    assert [json.loads(item.body)["n"] for item in claimed] == list(range(len(items)))
    assert list((tmp_path / "spool").glob("segment-*.spool")) == []


def test_group_commit_close_writes_what_was_queued_and_refuses_later_items(tmp_path) -> None:
    """Items queued while a write is in progress are written in the next group, also when `close`
    comes meanwhile; an item after `close` is refused. Each submit returns after its own write."""
    written: list[list[int]] = []
    first_write_started, release = threading.Event(), threading.Event()

    def write_group(group: list[int]) -> None:
        if not written:
            first_write_started.set()
            release.wait(10)
        written.append(list(group))

    group = GroupCommit(write_group, "test-writer")

    async def scenario() -> list[str]:
        first = asyncio.ensure_future(group.submit(0))
        await asyncio.to_thread(first_write_started.wait, 10)
        queued = [asyncio.ensure_future(group.submit(n)) for n in range(1, 6)]
        await asyncio.sleep(0)  # the five are queued behind the first write
        closing = asyncio.ensure_future(asyncio.to_thread(group.close))
        await asyncio.sleep(0.05)
        release.set()
        await asyncio.gather(first, *queued, closing)
        try:
            await group.submit(99)
        except RuntimeError as exc:
            return [str(exc)]
        return []

    assert asyncio.run(scenario()) == ["the server is stopping"]
    assert written == [[0], [1, 2, 3, 4, 5]]
