"""The :class:`Catalog` object and the functions that build one from YAML."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from itertools import islice
from pathlib import Path
from types import MappingProxyType

from collector_receiver.catalog._matcher import Found, Matcher
from collector_receiver.catalog._model import (
    UNCATALOGED_CATEGORY,
    UNCATALOGED_SEVERITY,
    CatalogEntry,
    CatalogError,
    Match,
    MatchInput,
)
from collector_receiver.catalog._types import BASE, TYPE
from collector_receiver.catalog._validate import FORMAT_VERSION, validate
from collector_receiver.catalog._yaml import YamlProblem, load_yaml
from collector_receiver.events import (
    MAX_CAUSE_LEAVES,
    MAX_GROUP_LEAVES,
    UNCATALOGED,
    AttributeValue,
    GroupLeaf,
)

# What a group leaf offers attribute rules: nothing (its attributes are the span's).
_NO_ATTRIBUTES: Mapping[str, AttributeValue] = MappingProxyType({})
# A match by the failure's own type, or a base of it, says what the failure itself is.
_OWN_ROLES = (TYPE, BASE)


@dataclass(frozen=True)
class Catalog:
    """A validated, compiled failure catalog. Immutable; share it freely between threads and
    replace the whole object to reload.

    Build one with :func:`load_catalog` or :func:`parse_catalog`; constructing it directly from
    :class:`CatalogEntry` objects compiles their patterns too (and raises :class:`CatalogError`
    for one RE2 refuses).
    """

    version: int
    catalog_version: str
    entries: tuple[CatalogEntry, ...]
    source: str = "<string>"
    _matcher: Matcher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", tuple(self.entries))
        object.__setattr__(self, "_matcher", Matcher(self.entries, self.source))

    def match(self, failure: MatchInput) -> Match:
        """The entry a failure belongs to, with the reasons; ``UNCATALOGED`` when none applies.

        An exception group (a failure with ``group_leaves``) is classified by the failures
        inside it: each leaf, in order (at most :data:`MAX_GROUP_LEAVES`), is matched by its
        type, bases, causes and message, and the first leaf that matches an entry decides
        (its reasons say ``group leaf i of n``; :attr:`Match.group_leaf` is its position). A
        leaf carries no attributes or ``error.type`` of its own, so entries that need those
        never match a leaf. When no leaf matches, the group's own type and message (and the
        span's attributes) are matched like any failure's. So a group of one kind matches
        that kind, and a group whose leaves are unknown is matched as before.

        A wrapper is classified by what it wraps: when no entry matches the failure by its own
        type or a base of it, the described links of its cause chain (``cause_leaves``, at
        most :data:`MAX_CAUSE_LEAVES`) are matched like leaves, outermost first, and the first
        that matches decides (``cause i of n``); only when none does is the failure matched
        by its message and its causes' types alone. An entry for the wrapper's own type (a
        retry's verdict, a framework's parse error) keeps the failure as it is.

        Never raises for odd input (empty type, huge or binary-looking message, attribute values
        of any type).
        """
        leaves = tuple(islice(getattr(failure, "group_leaves", None) or (), MAX_GROUP_LEAVES))
        for position, leaf in enumerate(leaves):
            found = self._best_of_leaf(leaf, f"group leaf {position + 1} of {len(leaves)}")
            if found is not None:
                return self._verdict(found, group_leaf=position)
        found = self._matcher.best(
            failure.exception_type or "",
            failure.exception_message or "",
            failure.cause_types or (),
            failure.attributes or {},
            failure.error_type,
            getattr(failure, "base_types", None) or (),
        )
        causes = tuple(islice(getattr(failure, "cause_leaves", None) or (), MAX_CAUSE_LEAVES))
        if causes and not self._known_by_own_type(failure, found):
            # No entry knows it by its own type: a wrapper (``raise StepFailed("step failed")
            # from exc``) is what it wraps, so each described link of its cause chain is
            # matched as a failure of its own, outermost first, before the match by the
            # wrapper's message and its causes' types alone.
            for position, cause in enumerate(causes):
                by_cause = self._best_of_leaf(cause, f"cause {position + 1} of {len(causes)}")
                if by_cause is not None:
                    return self._verdict(by_cause)
        if found is None:
            return Match(
                code=UNCATALOGED,
                category=UNCATALOGED_CATEGORY,
                severity=UNCATALOGED_SEVERITY,
                catalog_version=self.catalog_version,
                entry=None,
                reasons=(),
            )
        return self._verdict(found)

    def _known_by_own_type(self, failure: MatchInput, found: Found | None) -> bool:
        """Whether an entry matches ``failure`` by its own type or a base of it (a retry's
        verdict, a framework's parse error), even where one matching a cause's type ranks
        higher: such a failure is itself, not what it wraps."""
        if found is None:
            return False
        if found.role in _OWN_ROLES:
            return True
        own = self._matcher.best(
            failure.exception_type or "",
            failure.exception_message or "",
            (),
            failure.attributes or {},
            failure.error_type,
            getattr(failure, "base_types", None) or (),
        )
        return own is not None and own.role in _OWN_ROLES

    def _best_of_leaf(self, leaf: GroupLeaf, within: str) -> Found | None:
        """A group's leaf or a link of a cause chain, matched by its type, bases, causes and
        message: it carries no attributes or ``error.type`` of its own (those are its span's)."""
        return self._matcher.best(
            leaf.exception_type or "",
            leaf.exception_message or "",
            leaf.cause_types or (),
            _NO_ATTRIBUTES,
            None,
            leaf.base_types or (),
            within=within,
        )

    def _verdict(self, found: Found, group_leaf: int | None = None) -> Match:
        entry = found.entry
        return Match(
            code=entry.code,
            category=entry.category,
            severity=entry.severity,
            catalog_version=self.catalog_version,
            entry=entry,
            reasons=found.reasons,
            group_leaf=group_leaf,
        )

    def to_dict(self) -> dict[str, object]:
        """The catalog as JSON-ready data in the file's own shape (for the query API)."""
        return {
            "version": self.version,
            "catalog_version": self.catalog_version,
            "entries": [entry.to_dict() for entry in self.entries],
        }


def parse_catalog(text: str, source: str = "<string>") -> Catalog:
    """Parse and validate catalog YAML; ``source`` names it in errors and on the result."""
    try:
        doc = load_yaml(text)
    except YamlProblem as exc:
        raise CatalogError(f"{source}: {exc}") from None
    catalog_version, entries = validate(doc, source)
    return Catalog(
        version=FORMAT_VERSION, catalog_version=catalog_version, entries=entries, source=source
    )


#: The largest catalog file read (8 MiB). The default catalog is about 90 KB for 170 entries, so
#: this leaves room for some 15,000 entries while bounding the memory and time one load costs.
MAX_CATALOG_BYTES = 8 * 1024 * 1024


def load_catalog(path: str | os.PathLike[str] | None = None) -> Catalog:
    """Load a catalog file; ``None`` loads the default catalog shipped in the package.

    Only a regular file of at most :data:`MAX_CATALOG_BYTES` is read (a device such as
    ``/dev/zero``, a FIFO or a directory is refused without reading it), and nothing of a file
    that turns out not to be a catalog is quoted in the error.
    """
    target = Path(path) if path is not None else default_catalog_path()
    source = str(target)
    raw = _read_catalog_file(target, source)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(
            f"{source}: not UTF-8 text (invalid byte at offset {exc.start})"
        ) from None
    return parse_catalog(text, source=source)


def _read_catalog_file(target: Path, source: str) -> bytes:
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
        descriptor = os.open(target, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise CatalogError(f"{source}: cannot read the file: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise CatalogError(f"{source}: cannot read the file: not a regular file")
        # One byte more than allowed tells an over-long file (also one whose size the file
        # system does not report) without reading all of it.
        chunks: list[bytes] = []
        wanted = MAX_CATALOG_BYTES + 1
        while wanted > 0:
            chunk = os.read(descriptor, min(wanted, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            wanted -= len(chunk)
    except OSError as exc:
        raise CatalogError(f"{source}: cannot read the file: {exc.strerror or exc}") from None
    finally:
        os.close(descriptor)
    raw = b"".join(chunks)
    if len(raw) > MAX_CATALOG_BYTES:
        raise CatalogError(f"{source}: larger than the limit of {MAX_CATALOG_BYTES} bytes")
    return raw


def default_catalog_path() -> Path:
    """Where the default catalog shipped inside the package lives."""
    return Path(str(resources.files("collector_receiver.catalog").joinpath("default.yaml")))
