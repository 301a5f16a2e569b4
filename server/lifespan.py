"""One lifespan made of several: each part is entered at startup in order and left in reverse."""
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

LifespanPart = Callable[[Any], AbstractAsyncContextManager[dict[str, Any] | None]]


def combined(parts: Sequence[LifespanPart]) -> Callable[[Any], AbstractAsyncContextManager[dict[str, Any]]]:
    """A lifespan for `st.App` that runs every part; their yielded dicts are merged into the state."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[dict[str, Any]]:
        state: dict[str, Any] = {}
        async with contextlib.AsyncExitStack() as stack:
            for part in parts:
                state.update(await stack.enter_async_context(part(app)) or {})
            yield state

    return lifespan
