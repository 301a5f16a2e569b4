"""The PDF's chart images (exports/chart_images.py) when the renderer is slow: a drawing that does not
answer in time fails its file with a clear message, charts are refused while it goes on, and drawn
again (by the real kaleido) once it has ended, without restarting the process."""
import io
import threading
import time

import kaleido
import plotly.graph_objects as go
import pytest
from PIL import Image

from exports import chart_images
from exports.chart_images import ChartError, png

FIGURE = go.Figure(go.Bar(x=["entregue", "lida"], y=[3, 2]))


def test_a_drawing_that_does_not_answer_in_time_holds_back_charts_only_until_it_ends(monkeypatch) -> None:
    answer_late = threading.Event()
    drawn_late = threading.Event()

    def late(figure: go.Figure, opts: dict) -> bytes:
        answer_late.wait(30)
        drawn_late.set()
        return b"too late"

    monkeypatch.setattr(chart_images, "RENDER_TIMEOUT_S", 1.0)
    monkeypatch.setattr(kaleido, "calc_fig_sync", late)
    try:
        with pytest.raises(ChartError, match=r"^the chart renderer \(kaleido with Chromium\) did not answer in 1 s"):
            png(FIGURE, 200, 100)
        with pytest.raises(ChartError, match="^the chart renderer has not answered a drawing asked earlier"):
            png(FIGURE, 200, 100)
    finally:
        monkeypatch.undo()  # the real kaleido from here on
        answer_late.set()
    assert drawn_late.wait(10)
    deadline = time.monotonic() + 10
    while True:  # the late drawing's thread ends just after it answered
        try:
            image = png(FIGURE, 200, 100, scale=1.0)
            break
        except ChartError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    assert Image.open(io.BytesIO(image)).size == (200, 100)
