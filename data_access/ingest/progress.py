"""Progress of a long ingest on standard error.

On a terminal the line is redrawn in place (from the first second on, at most five times a second);
otherwise, for inputs of at least `LARGE_INPUT_BYTES`, one line is printed per tenth of the input.
Small inputs into a pipe or a log stay silent.
"""
import time
from typing import TextIO

LARGE_INPUT_BYTES = 64 * 1024 * 1024
FIRST_DRAW_S = 1.0
REDRAW_S = 0.2
BAR_WIDTH = 30


def _megabytes(nbytes: int) -> str:
    return f"{nbytes / 1e6:,.1f} MB"


class Progress:
    """Counts bytes read and events loaded; draws when it is worth it."""

    def __init__(self, total_bytes: int | None, stream: TextIO) -> None:
        self.total = total_bytes
        self.stream = stream
        self.tty = stream.isatty()
        self.enabled = self.tty or (total_bytes is not None and total_bytes >= LARGE_INPUT_BYTES)
        self.done_bytes = 0
        self.events = 0
        self.started = time.monotonic()
        self.drawn_at = 0.0
        self.tenths_shown = 0
        self.on_screen = False

    def read(self, nbytes: int) -> None:
        self.done_bytes += nbytes
        if self.enabled:
            self._maybe_draw()

    def loaded(self, events: int) -> None:
        self.events += events
        if self.enabled:
            self._maybe_draw()

    def _line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        counts = f"{self.events:,} events, {self.events / elapsed:,.0f}/s"
        if not self.total:
            return f"ingest: {_megabytes(self.done_bytes)} read, {counts}"
        share = min(self.done_bytes / self.total, 1.0)
        bar = "#" * int(share * BAR_WIDTH)
        return (
            f"ingest: [{bar:<{BAR_WIDTH}}] {share:4.0%} "
            f"{_megabytes(self.done_bytes)} of {_megabytes(self.total)}, {counts}"
        )

    def _maybe_draw(self) -> None:
        now = time.monotonic()
        if self.tty:
            if now - self.started >= FIRST_DRAW_S and now - self.drawn_at >= REDRAW_S:
                self.stream.write("\r" + self._line() + "\x1b[K")
                self.stream.flush()
                self.drawn_at, self.on_screen = now, True
        elif self.total:
            tenths = int(10 * self.done_bytes / self.total)
            if tenths > self.tenths_shown:
                self.tenths_shown = tenths
                print(self._line(), file=self.stream, flush=True)

    def interrupt(self) -> None:
        """Ends the redrawn line so that a message can be printed below it."""
        if self.on_screen:
            self.stream.write("\n")
            self.on_screen = False

    def close(self) -> None:
        if self.on_screen:
            self.stream.write("\r" + self._line() + "\x1b[K\n")
            self.stream.flush()
            self.on_screen = False
