"""Plain facts about an exception: its qualified type, its bases, its cause chain, the failures
inside it when it is an exception group, its text.

Pure functions, no OpenTelemetry: the recorder turns these into attributes.
"""

from __future__ import annotations

import builtins
import sys
import traceback
from collections.abc import Iterator
from types import TracebackType

#: The cause chain is cut after this many links (a chain longer than this is pathological).
MAX_CAUSE_CHAIN = 32
#: At most this many bases are named (CONTRACT §2); real hierarchies are a handful deep.
MAX_BASE_TYPES = 16
#: An exception group's leaves are kept up to this many, the rest left out. Task groups that
#: fail usually hold one or two; a group of thousands (a fan-out that all failed alike) says no
#: more in its thousandth leaf than in its tenth, and each leaf costs a redaction.
MAX_GROUP_LEAVES = 16
#: Of each leaf's cause chain only this many links are named (a leaf's own chain is evidence of
#: the group's failure, not the failure itself; the group's own chain keeps MAX_CAUSE_CHAIN).
MAX_LEAF_CAUSE_TYPES = 8
#: Of the cause chain, the first this many links are described beyond their type (message and
#: bases, ``failcat.cause_messages`` / ``failcat.cause_base_types``): what a wrapper such as
#: ``raise StepFailed("step failed") from exc`` is classified by. The direct causes say what
#: went wrong; a chain's far end is rarely more than a few links away.
MAX_CAUSE_DETAILS = 8
#: Sub-groups are entered down to this depth; a group nested deeper counts as a leaf itself.
MAX_GROUP_DEPTH = 8
#: Members looked at, in all, before the walk stops: bounds it when a hostile subclass's
#: ``exceptions`` yields groups that hold nothing.
MAX_GROUP_VISITS = 256

_GROUP_TYPES: tuple[type[BaseException], ...]
if sys.version_info >= (3, 11):
    _GROUP_TYPES = (builtins.BaseExceptionGroup,)
else:  # pragma: no cover - Python 3.10: the backport anyio and trio raise, when it is installed
    try:
        from exceptiongroup import BaseExceptionGroup as _BackportGroup
    except ImportError:
        _GROUP_TYPES = ()
    else:
        _GROUP_TYPES = (_BackportGroup,)


def qualified_type_name(exc_type: type[BaseException]) -> str:
    """``module.QualName`` of a type; builtins keep their plain name (``ValueError``)."""
    module = getattr(exc_type, "__module__", None)
    qualname = getattr(exc_type, "__qualname__", None) or exc_type.__name__
    if not module or module == "builtins":
        return str(qualname)
    return f"{module}.{qualname}"


def base_types(exc_type: type[BaseException]) -> list[str]:
    """:func:`qualified_type_name` of each base of ``exc_type`` in method resolution order.

    Nearest first, without ``exc_type`` itself, ``object``, ``BaseException`` and
    ``Exception``; at most :data:`MAX_BASE_TYPES`. This is how a catalog entry naming a base
    class (``botocore.exceptions.ClientError``) finds the classes generated from it at run time
    (``botocore.errorfactory.ThrottlingException``), which no cause chain links to it.
    """
    # ``Exception``, ``BaseException`` and ``object`` are left out because every exception has
    # them: they say nothing about a failure. Not cached: a walk of a few bases costs about
    # 2 µs, under 1 % of recording a failure (benchmarks/bench_agent_record.py), and a cache
    # keyed by class would have to be weak not to keep alive the classes that libraries
    # generate per client.
    names: list[str] = []
    for base in getattr(exc_type, "__mro__", ())[1:]:
        # By identity: a metaclass may define an ``==`` that raises.
        if base is Exception or base is BaseException or base is object:
            continue
        names.append(qualified_type_name(base))
        if len(names) == MAX_BASE_TYPES:
            break
    return names


def is_exception_group(exc: BaseException) -> bool:
    """True for a ``BaseExceptionGroup`` (or, on Python 3.10, the ``exceptiongroup`` backport's)."""
    return isinstance(exc, _GROUP_TYPES)


def group_leaves(exc: BaseException) -> list[BaseException]:
    """The failures inside an exception group, depth-first; ``[]`` for any other exception.

    Sub-groups are flattened: their members take their place, in the order of ``exceptions``.
    The walk is bounded for hostile input: at most :data:`MAX_GROUP_LEAVES` leaves, sub-groups
    entered down to :data:`MAX_GROUP_DEPTH` (one deeper is kept as a leaf), at most
    :data:`MAX_GROUP_VISITS` members looked at, each object taken once (a cycle stops there).
    """
    if not is_exception_group(exc):
        return []
    leaves: list[BaseException] = []
    seen = {id(exc)}
    stack = [_members(exc)]
    visits = 0
    while stack and len(leaves) < MAX_GROUP_LEAVES and visits < MAX_GROUP_VISITS:
        member = next(stack[-1], None)
        if member is None:
            stack.pop()
            continue
        visits += 1
        if id(member) in seen:
            continue
        seen.add(id(member))
        if is_exception_group(member) and len(stack) < MAX_GROUP_DEPTH:
            stack.append(_members(member))
        else:
            leaves.append(member)
    return leaves


def _members(group: BaseException) -> Iterator[BaseException]:
    # ``exceptions`` is a tuple the constructor checked; a subclass may still replace it with a
    # property that raises or returns anything, and then the group simply has no more members.
    try:
        members = getattr(group, "exceptions", ())
    except Exception:
        return iter(())
    if not isinstance(members, tuple):
        return iter(())
    return (member for member in members if isinstance(member, BaseException))


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
