"""How a catalog's ``exception_types`` name meets a failure's exception type.

A failure offers several types to match, each with a *role*: its own type (``type``), the types
of its cause chain (``cause``, ``failcat.cause_types``, outermost first), and the bases of its
type's class (``base``, ``failcat.base_types``, nearest first). A base makes an entry that
names a library's base class fire for the classes the library generates below it
(``botocore.exceptions.ClientError`` for ``botocore.errorfactory.ThrottlingException``). An
entry that matched only through a base is less specific than one that matched the type or a
cause, and :meth:`Catalog.match` ranks it so (see :mod:`._matcher`).

The rules, in the order a reason names them (``N`` the catalog's name, ``T`` the failure's type,
``canonical`` = drop a leading ``builtins.`` and every *private* module component — one that
starts with ``_`` and is neither the first nor the last component):

1. ``exact`` — ``N == T``.
2. ``class name`` — ``N`` has no dot (``TimeoutError``) and ``T``'s last component equals it
   (``asyncio.exceptions.TimeoutError``, ``TimeoutError``).
3. ``alias`` — both are qualified and ``canonical(N) == canonical(T)``
   (``openai.RateLimitError`` vs ``openai._exceptions.RateLimitError``), or ``canonical(N)`` is
   ``package.Class`` and ``T`` is in the same top-level package with the same class name
   (``requests.ReadTimeout`` vs ``requests.exceptions.ReadTimeout``).
4. ``class name only`` — ``T`` carries no module (a plain SDK sent ``RateLimitError``) and ``N``'s
   last component equals it. This is a *weak* match: :meth:`Catalog.match` lets an entry that
   matched only this way win only when no entry matched on a type by rules 1-3.

Each rule is an exact dictionary lookup of a key derived from ``N`` when the catalog is built
and from ``T`` at match time, so matching never compares a failure with every entry.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from collector_receiver.catalog._text import quote

#: How many types of a cause chain are looked at; longer chains are cut (and the cut logged
#: nowhere: a chain that long is a loop of re-raises, its head is what matters).
MAX_CAUSE_TYPES = 32
#: How many bases of a type are looked at: the agent sends at most 16 (CONTRACT §2), and the
#: nearest ones are the specific ones; a longer list from another sender is cut.
MAX_BASE_TYPES = 16

TYPE = "type"
BASE = "base"
CAUSE = "cause"

EXACT = "exact"
CLASS_NAME = "class name"
ALIAS = "alias"
CLASS_NAME_ONLY = "class name only"

# Lower is better when choosing which hit an entry's reason reports.
_RULE_RANK = {EXACT: 0, ALIAS: 1, CLASS_NAME: 2, CLASS_NAME_ONLY: 3}
# The failure's own type says most, then its cause chain (both matched before bases were
# sent), then what its type is a kind of.
_ROLE_RANK = {TYPE: 0, CAUSE: 1, BASE: 2}

Key = tuple[str, ...]


def canonical(name: str) -> str:
    """``name`` without a leading ``builtins.`` and without private inner module components."""
    parts = name.split(".")
    if len(parts) > 1 and parts[0] == "builtins":
        parts = parts[1:]
    if len(parts) > 2:
        parts = [parts[0], *(p for p in parts[1:-1] if not p.startswith("_")), parts[-1]]
    return ".".join(parts)


def catalog_keys(name: str) -> tuple[Key, ...]:
    """The index keys under which a catalog name is filed."""
    canon = canonical(name)
    parts = canon.split(".")
    if len(parts) == 1:
        return (("class", canon),)
    if len(parts) == 2:
        return (("package-class", parts[0], parts[1]), ("weak", parts[-1]))
    return (("qualified", canon), ("weak", parts[-1]))


def failure_keys(failure_type: str) -> tuple[Key, ...]:
    """The index keys a failure's type is looked up under."""
    canon = canonical(failure_type)
    parts = canon.split(".")
    if len(parts) == 1:
        return (("class", canon), ("weak", canon))
    return (
        ("class", parts[-1]),
        ("qualified", canon),
        ("package-class", parts[0], parts[-1]),
    )


def rule_between(name: str, failure_type: str) -> str | None:
    """Which rule (if any) makes catalog name ``name`` match ``failure_type``.

    The index finds candidates; this function is the definition, used to label the reason and
    by tests as the reference.
    """
    if not name or not failure_type:
        return None
    if name == failure_type:
        return EXACT
    n_parts = canonical(name).split(".")
    t_canon = canonical(failure_type)
    t_parts = t_canon.split(".")
    if len(n_parts) == 1:
        return CLASS_NAME if t_parts[-1] == n_parts[0] else None
    if len(t_parts) == 1:
        return CLASS_NAME_ONLY if n_parts[-1] == t_parts[0] else None
    if ".".join(n_parts) == t_canon:
        return ALIAS
    if len(n_parts) == 2 and n_parts[0] == t_parts[0] and n_parts[1] == t_parts[-1]:
        return ALIAS
    return None


def is_weak(rule: str) -> bool:
    return rule == CLASS_NAME_ONLY


@dataclass(frozen=True, slots=True)
class TypeHit:
    """Catalog name ``name`` (position ``name_index`` in its entry) matched ``failure_type``, which
    is the failure's own type (``role == "type"``), a base of it (``"base"``; ``of`` is then the
    failure's own type) or one of its causes (``"cause"``)."""

    name: str
    name_index: int
    failure_type: str
    role: str
    rule: str
    of: str = ""

    @property
    def weak(self) -> bool:
        return is_weak(self.rule)

    @property
    def via_base(self) -> bool:
        """Matched through a base of the type only (by a strong rule): a *base-only* match."""
        return self.role == BASE and not self.weak

    def sort_key(self) -> tuple[int, int, int, int]:
        return (int(self.weak), _ROLE_RANK[self.role], _RULE_RANK[self.rule], self.name_index)

    def describe(self) -> str:
        how = {
            EXACT: "",
            ALIAS: " (via alias)",
            CLASS_NAME: " (via class name)",
            CLASS_NAME_ONLY: " (via class name only: the failure's type has no module)",
        }[self.rule]
        name, failure_type = quote(self.name), quote(self.failure_type)
        of = f" of type {quote(self.of)}" if self.role == BASE else ""
        return f"exception_types {name} matched {self.role} {failure_type}{of}{how}"


def failure_types(
    exception_type: str, cause_types: Sequence[str], base_types: Sequence[str] = ()
) -> Iterator[tuple[str, str]]:
    """``(type, role)`` pairs of a failure: its own type, its causes, then its bases, each once.

    At most ``1 + MAX_BASE_TYPES + MAX_CAUSE_TYPES`` pairs, whatever the sender sent.
    """
    seen: set[str] = set()
    if exception_type:
        seen.add(exception_type)
        yield exception_type, TYPE
    for role, types, limit in (
        (CAUSE, cause_types, MAX_CAUSE_TYPES),
        (BASE, base_types, MAX_BASE_TYPES),
    ):
        for other in islice(types, limit):
            if isinstance(other, str) and other and other not in seen:
                seen.add(other)
                yield other, role
