"""Left-aligned plain-text tables for terminal output (``failcat failures``, ``failcat aggregate``).

Columns are as wide as their widest cell and two spaces apart; trailing spaces are cut so the
output diffs and greps cleanly.
"""

from __future__ import annotations

from collections.abc import Sequence


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """The header line and one line per row, every row as long as ``headers``."""
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in (headers, *rows)
    ]
