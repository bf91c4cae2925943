"""Plain facts about an exception: its qualified type, its cause chain, its text.

Pure functions, no OpenTelemetry: the recorder turns these into attributes.
"""

from __future__ import annotations

import traceback
from types import TracebackType

#: The cause chain is cut after this many links (a chain longer than this is pathological).
MAX_CAUSE_CHAIN = 32


def qualified_type_name(exc_type: type[BaseException]) -> str:
    """``module.QualName`` of a type; builtins keep their plain name (``ValueError``)."""
    module = getattr(exc_type, "__module__", None)
    qualname = getattr(exc_type, "__qualname__", None) or exc_type.__name__
    if not module or module == "builtins":
        return str(qualname)
    return f"{module}.{qualname}"


def cause_chain(exc: BaseException) -> list[BaseException]:
    """The exceptions ``exc`` was raised from or during handling of, outermost first.

    Precisely: starting at ``exc`` (excluded), follow ``__cause__`` when it is set, otherwise
    ``__context__`` unless ``__suppress_context__`` is true (``raise ... from None``) — the same
    links :mod:`traceback` prints. The first element is the direct cause, the last the root
    cause. Cycles stop the walk, and so does :data:`MAX_CAUSE_CHAIN`.
    """
    chain: list[BaseException] = []
    seen = {id(exc)}
    current: BaseException | None = exc
    while current is not None and len(chain) < MAX_CAUSE_CHAIN:
        if current.__cause__ is not None:
            nxt: BaseException | None = current.__cause__
        elif not current.__suppress_context__:
            nxt = current.__context__
        else:
            nxt = None
        if nxt is None or id(nxt) in seen:
            break
        seen.add(id(nxt))
        chain.append(nxt)
        current = nxt
    return chain


def cause_types(exc: BaseException) -> list[str]:
    """:func:`qualified_type_name` of each link of :func:`cause_chain`, outermost first."""
    return [qualified_type_name(type(link)) for link in cause_chain(exc)]


def safe_message(exc: BaseException) -> str:
    """``str(exc)``, or a placeholder when the exception's ``__str__`` itself fails."""
    try:
        return str(exc)
    except Exception:
        return f"<unprintable {type(exc).__name__} object>"


def format_stacktrace(exc: BaseException, tb: TracebackType | None = None) -> str:
    """The traceback as Python prints it, with the ``__cause__``/``__context__`` chain."""
    if tb is None:
        tb = exc.__traceback__
    try:
        return "".join(traceback.format_exception(type(exc), exc, tb))
    except Exception:
        return f"{qualified_type_name(type(exc))}: {safe_message(exc)}\n"
