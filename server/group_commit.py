"""Group commit: many requests wait on one durable write.

Requests hand their item to `submit` and await it; one writer thread takes everything queued since
its last write, makes it durable in one go (`write_group`: one fsync, or one transaction), then
wakes every request of the group. Under load a write covers many requests, so requests per second
are not bounded by the cost of a sync.
"""
import asyncio
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")


class GroupCommit(Generic[Item]):
    def __init__(self, write_group: Callable[[list[Item]], None], name: str) -> None:
        self._write_group = write_group
        self._queue: list[tuple[Item, asyncio.Future, asyncio.AbstractEventLoop]] = []
        self._ready = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    async def submit(self, item: Item) -> None:
        """Returns once the item is durable; raises what the write raised."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._ready:
            if self._stopping:
                raise RuntimeError("the server is stopping")
            self._queue.append((item, future, loop))
            self._ready.notify()
        await future

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._stopping:
                    self._ready.wait()
                group, self._queue = self._queue, []
                if not group and self._stopping:
                    return
            try:
                self._write_group([item for item, _, _ in group])
                error = None
            except Exception as exc:  # every waiting request hears it (503), the thread goes on
                error = exc
            by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future]] = {}
            for _, future, loop in group:
                by_loop.setdefault(loop, []).append(future)
            for loop, futures in by_loop.items():  # one wake-up per event loop, not per request
                loop.call_soon_threadsafe(_settle, futures, error)

    def close(self) -> None:
        """Writes what is queued, then stops the thread."""
        with self._ready:
            self._stopping = True
            self._ready.notify()
        self._thread.join()


def _settle(futures: list[asyncio.Future], error: Exception | None) -> None:
    for future in futures:
        if future.done():  # the request went away (client disconnected)
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
