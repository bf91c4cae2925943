"""The progress bar: redrawn in place on a terminal, silent anywhere else."""

from __future__ import annotations

import io

from collector_receiver.traffic._progress import ProgressBar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_draws_in_place_on_a_terminal_and_ends_the_line() -> None:
    stream = _Terminal()
    bar = ProgressBar(4, "failures", stream)
    for done in range(1, 5):
        bar(done, 4)
    bar.close()
    text = stream.getvalue()
    assert text.startswith("\r[")
    assert "\n" not in text[:-1] and text.endswith("\n")  # one line, redrawn with \r
    last = text.rstrip("\n").rsplit("\r", 1)[-1]
    assert last.startswith("[" + "#" * 30 + "] 4/4 failures")


def test_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    bar = ProgressBar(10, "failures", stream)
    for done in range(1, 11):
        bar(done, 10)
    bar.close()
    assert stream.getvalue() == ""


def test_closing_an_unused_bar_writes_nothing() -> None:
    stream = _Terminal()
    ProgressBar(10, "failures", stream).close()
    assert stream.getvalue() == ""
