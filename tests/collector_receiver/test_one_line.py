"""Every multi-line reason becomes one line, the same way everywhere."""

from __future__ import annotations

from collector_receiver._one_line import one_line


def test_whitespace_runs_fold_into_one_space() -> None:
    assert one_line('relation "x"\n  does not exist\r\n\tLINE 1: ...  ') == (
        'relation "x" does not exist LINE 1: ...'
    )
    assert one_line(ValueError("two\nlines")) == "two lines"
    assert one_line("") == ""
