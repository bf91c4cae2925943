"""The one table renderer of the ``failcat`` commands: widths, alignment, no trailing spaces."""

from __future__ import annotations

from collector_receiver._text_table import text_table


def test_columns_are_as_wide_as_their_widest_cell_and_left_aligned() -> None:
    assert text_table(["CODE", "N"], [["TIMEOUT", "3"], ["X", "12"]]) == [
        "CODE     N",
        "TIMEOUT  3",
        "X        12",
    ]


def test_right_columns_align_to_the_right_header_included() -> None:
    assert text_table(["SERVICE", "COUNT"], [["planner", "7"], ["coder", "120"]], right=(1,)) == [
        "SERVICE  COUNT",
        "planner      7",
        "coder      120",
    ]


def test_trailing_spaces_are_cut() -> None:
    lines = text_table(["A", "TITLE"], [["x", ""], ["yy", "long title"]])
    assert lines == ["A   TITLE", "x", "yy  long title"]
