"""PNG images of the page's plotly figures, for the PDF, drawn by one long-lived kaleido browser.

kaleido 1.x starts a Chromium (Debian's /usr/bin/chromium, which it finds by itself) for every image
unless its sync server runs: `kaleido.start_sync_server()` keeps one browser for the whole process
(~0.2 s an image instead of ~2.5 s). The server's answer queue is shared by every caller, so images are
drawn one at a time under a lock, and a caller never waits on a browser that stopped answering: a
drawing that has not answered in `RENDER_TIMEOUT_S` is left to finish (kaleido gives up on a page
after its own 90 s), charts are refused meanwhile, and drawn again once it has ended.
"""
from __future__ import annotations

import threading

import kaleido
import plotly.graph_objects as go

RENDER_TIMEOUT_S = 60.0

_lock = threading.Lock()
_late: threading.Thread | None = None  # a drawing that timed out: the shared answer queue is its until it ends


class ChartError(RuntimeError):
    """The charts could not be drawn; `str()` says why, in one line."""


def warm_up() -> None:
    """Starts the browser in the background, so it is ready by the time a PDF needs its charts."""
    kaleido.start_sync_server(silence_warnings=True)


def png(figure: go.Figure, width: int, height: int, scale: float = 2.0) -> bytes:
    """The figure as a PNG of `width` x `height` CSS pixels (times `scale` in real pixels)."""
    global _late
    opts = {"format": "png", "width": width, "height": height, "scale": scale}
    with _lock:
        if _late is not None and _late.is_alive():
            raise ChartError("the chart renderer has not answered a drawing asked earlier: try again in a minute, "
                             "or restart the app if it goes on")
        _late = None
        warm_up()
        answer: list[object] = []
        worker = threading.Thread(target=_render, args=(figure, opts, answer), daemon=True)
        worker.start()
        worker.join(RENDER_TIMEOUT_S)
        if worker.is_alive():
            _late = worker
            raise ChartError(
                f"the chart renderer (kaleido with Chromium) did not answer in {RENDER_TIMEOUT_S:.0f} s: "
                "check that /usr/bin/chromium starts"
            )
    result = answer[0]
    if isinstance(result, BaseException):
        raise ChartError(f"the charts could not be drawn: {type(result).__name__}: {result}".splitlines()[0])
    return result


def _render(figure: go.Figure, opts: dict[str, object], answer: list[object]) -> None:
    try:
        answer.append(kaleido.calc_fig_sync(figure, opts=opts))
    except Exception as exc:  # handed to the caller, which raises ChartError
        answer.append(exc)
