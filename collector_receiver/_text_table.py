"""Plain-text tables for the terminal: what the ``failcat`` commands print in columns.

Columns are as wide as their widest cell and two spaces apart, left-aligned unless named in
``right`` (counts read better right-aligned); trailing spaces are cut so the output diffs and
greps cleanly. Used by ``failcat failures``, ``aggregate``, ``catalog list`` and ``demo``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

__all__ = ["text_table"]


def text_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, right: Collection[int] = ()
) -> list[str]:
    """The header line and one line per row, every row as long as ``headers``.

    ``right`` holds the indexes of the columns aligned to the right, header included.
    """
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    return [
        "  ".join(
            cell.rjust(width) if column in right else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in (headers, *rows)
    ]
