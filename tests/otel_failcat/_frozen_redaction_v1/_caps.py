"""Length caps: the windows that are redacted at all, and the cut with its ``…[truncated N]``."""

from __future__ import annotations

_SPACES = (" ", "\n", "\t", "\r")


def head_window(text: str, size: int) -> str:
    """``text[:size]``, ending before the word the cut would split (if the window has a space).

    A secret cut in two is not recognisable as one; leaving its fragment out of the window keeps
    it out of the output, however much the rest of the window shrinks when redacted.
    """
    if len(text) <= size or text[size].isspace():
        return text[:size]
    window = text[:size]
    last_space = max(window.rfind(space) for space in _SPACES)
    return window[: last_space + 1] if last_space >= 0 else window


def tail_window(text: str, size: int) -> str:
    """``text[-size:]``, starting after the word the cut would split (see :func:`_head_window`)."""
    if len(text) <= size or text[-size - 1].isspace():
        return text[-size:]
    window = text[-size:]
    found = [at for at in (window.find(space) for space in _SPACES) if at >= 0]
    return window[min(found) :] if found else window


def _truncation(count: int) -> str:
    return f"…[truncated {count} chars]"


def cap_head(text: str, limit: int, never_redacted: int) -> str:
    widest = len(_truncation(len(text) + never_redacted))
    keep = limit - widest
    if keep < 1:
        return text[:limit]
    return text[:keep] + _truncation(len(text) - keep + never_redacted)


def cap_head_tail(head: str, tail: str, limit: int, never_redacted: int) -> str:
    widest = len(_truncation(len(head) + len(tail) + never_redacted)) + 2
    budget = limit - widest
    if budget < 2:
        return tail[-limit:]
    head_keep = budget // 4
    tail_keep = budget - head_keep
    if head is tail:
        dropped = len(head) - head_keep - tail_keep
    else:
        dropped = len(head) - head_keep + len(tail) - tail_keep + never_redacted
    return f"{head[:head_keep]}\n{_truncation(dropped)}\n{tail[-tail_keep:]}"
