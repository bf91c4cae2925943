"""A one-line progress bar on a terminal (stderr), redrawn in place; silent elsewhere."""

from __future__ import annotations

import sys
import time
from typing import TextIO

_WIDTH = 30
_REDRAW_SECONDS = 0.1


class ProgressBar:
    """``[#######.......]  120/500 failures  3.2s``; drawn only when ``stream`` is a terminal."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._total = max(total, 1)
        self._label = label
        self._enabled = _is_tty(self._stream)
        self._started = time.monotonic()
        self._last_draw = 0.0
        self._done = 0

    def __call__(self, done: int, total: int) -> None:
        """Progress callback: ``done`` of ``total``."""
        self._done, self._total = done, max(total, 1)
        now = time.monotonic()
        if self._enabled and (now - self._last_draw >= _REDRAW_SECONDS or done >= total):
            self._last_draw = now
            self._draw(now)

    def close(self) -> None:
        """End the bar's line (a no-op when nothing was drawn)."""
        if self._enabled and self._last_draw:
            self._draw(time.monotonic())
            self._stream.write("\n")
            self._stream.flush()

    def _draw(self, now: float) -> None:
        filled = int(_WIDTH * min(self._done, self._total) / self._total)
        bar = "#" * filled + "." * (_WIDTH - filled)
        self._stream.write(
            f"\r[{bar}] {self._done:>{len(str(self._total))}}/{self._total} {self._label}"
            f"  {now - self._started:.1f}s"
        )
        self._stream.flush()


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
