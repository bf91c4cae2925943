"""How fast ``Catalog.match`` is against a naive matcher, measured in the same run.

The catalog is the packaged default when it exists (else a synthetic one of ~100 entries).
The failures are generated from the catalog itself (its type names, some with private module
aliases or without a module, some as causes; messages that carry words its patterns look for;
HTTP status attributes) mixed with unknown types and text, so that both matches and misses are
exercised.

The baselines loop over every entry in preference order and test each rule directly, with one
compiled regex per pattern searched one by one: once with RE2 (same engine, so the ratio is the
design: type index and one scan of the message for all patterns) and once with Python's ``re``
where it can compile the pattern (RE2 otherwise). Both must choose the same codes as
``Catalog.match``; the script checks that and says so. It also times the message scan alone:
the catalog's scanner (RE2's FilteredRE2) against a single ``re2.Set`` of all full patterns.

Run: ``.venv/bin/python benchmarks/bench_catalog_match.py [--failures N] [--seed S]``
"""

from __future__ import annotations

import argparse
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import re2

from collector_receiver.catalog import (
    MAX_MESSAGE_CHARS,
    Catalog,
    CatalogEntry,
    CatalogError,
    load_catalog,
    parse_catalog,
)
from collector_receiver.catalog._attributes import attribute_texts, canonical_text
from collector_receiver.catalog._matcher import MessageScanner
from collector_receiver.catalog._types import MAX_CAUSE_TYPES, is_weak, rule_between


@dataclass(frozen=True)
class Failure:
    exception_type: str
    exception_message: str
    cause_types: tuple[str, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)
    error_type: str | None = None


_FILLER = (
    "request failed while calling the model provider for agent step with tool output "
    "please retry later the server returned an error because of the input user session"
)
WORDS = _FILLER.split()
HINTS = [
    "Rate limit reached for gpt-4o in organization org-abc on tokens per min",
    "This model's maximum context length is 128000 tokens",
    "Request timed out.",
    "Connection error.",
    "Error code: 529 - {'type': 'error', 'error': {'type': 'overloaded_error'}}",
    "Incorrect API key provided",
    "You exceeded your current quota, please check your plan and billing details",
    "Recursion limit of 25 reached without hitting a stop condition",
    "Invalid JSON: EOF while parsing an object at line 1 column 10",
    "Tool 'search' not found",
    "429 Too Many Requests",
    "RESOURCE_EXHAUSTED",
    "[Errno 24] Too many open files",
    "Cannot allocate memory",
    "The response was filtered due to the prompt triggering content management policy",
]


def synthetic_catalog(entries: int = 100) -> Catalog:
    """A catalog shaped like a real one when the default is not there yet."""
    lines = ["version: 2", 'catalog_version: "bench"', "entries:"]
    for i in range(entries):
        lines += [
            f"  - code: SYNTHETIC_{i}",
            f"    title: Synthetic failure {i}",
            f"    category: {['rate_limit', 'timeout', 'connection', 'tool'][i % 4]}",
            "    severity: medium",
            f"    priority: {i % 5}",
            "    match:",
        ]
        if i % 3 != 2:
            lines.append(f"      exception_types: [pkg{i % 17}._errors.Error{i}, Error{i}Alt]")
        if i % 2 == 0:
            lines.append(f"      message_patterns: ['(?i)failure {i} of \\w+', 'code E{i:04d}\\b']")
        if i % 10 == 3:
            lines.append(f"      attributes: {{http.response.status_code: [{400 + i % 100}]}}")
        if i % 3 == 2 and i % 2 == 1 and i % 10 != 3:
            lines.append(f"      error_types: ['E{i}']")
        lines.append("    remediation: Nothing to do.")
    return parse_catalog("\n".join(lines) + "\n", "<synthetic>")


def generate(catalog: Catalog, count: int, rng: random.Random) -> list[Failure]:
    names = sorted({n for e in catalog.entries for n in e.match.exception_types})
    hints = HINTS + [f"failure {i} of things, code E{i:04d}" for i in range(0, 100, 2)]

    def variant(name: str) -> str:
        parts = name.split(".")
        roll = rng.random()
        if roll < 0.3 and len(parts) >= 2:
            return ".".join([parts[0], "_exceptions", *parts[1:]])  # a private-module alias
        if roll < 0.4:
            return parts[-1]  # a plain SDK without modules
        return name

    failures = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.55 and names:
            exception_type = variant(rng.choice(names))
            causes: tuple[str, ...] = ()
        elif roll < 0.7 and names:
            exception_type = "tenacity.RetryError"
            causes = (variant(rng.choice(names)),)
        else:
            exception_type = f"app.errors.Unknown{rng.randrange(50)}Error"
            causes = ()
        words = rng.choices(WORDS, k=rng.randrange(5, 60))
        if rng.random() < 0.5:
            words.insert(rng.randrange(len(words) + 1), rng.choice(hints))
        attributes: dict[str, Any] = {"gen_ai.system": rng.choice(["openai", "anthropic"])}
        if rng.random() < 0.3:
            attributes["http.response.status_code"] = rng.choice([400, 401, 429, 500, 503, 529])
        error_type = rng.choice([None, None, None, "429", "timeout", "E5"])
        failures.append(Failure(exception_type, " ".join(words), causes, attributes, error_type))
    return failures


class NaiveMatcher:
    """Every entry, every rule, one compiled regex per pattern: the obvious implementation."""

    def __init__(self, catalog: Catalog, compile_pattern: Callable[[str], Any]) -> None:
        self.entries = sorted(catalog.entries, key=lambda e: (-e.priority, e.index))
        self.patterns = {
            e.code: [compile_pattern(p) for p in e.match.message_patterns] for e in self.entries
        }
        self.attribute_patterns = {
            (e.code, a.key): compile_pattern(a.pattern)
            for e in self.entries
            for a in e.match.attributes
            if a.pattern is not None
        }

    def match(self, failure: Failure) -> str:
        types = [failure.exception_type, *failure.cause_types[:MAX_CAUSE_TYPES]]
        text = failure.exception_message[:MAX_MESSAGE_CHARS]
        # Entries matched only by class name lose to any strong type match (see _types.py):
        # remember the first weak and first other match until a strong type match decides.
        first: CatalogEntry | None = None
        first_not_weak: CatalogEntry | None = None
        for entry in self.entries:
            rule = entry.match
            weak = False
            if rule.exception_types:
                found = [
                    r for n in rule.exception_types for t in types if (r := rule_between(n, t))
                ]
                if not found:
                    continue
                weak = all(is_weak(r) for r in found)
            if rule.message_patterns and not any(p.search(text) for p in self.patterns[entry.code]):
                continue
            if rule.attributes and not any(
                self._attribute(entry, a, failure) for a in rule.attributes
            ):
                continue
            if rule.error_types and failure.error_type not in rule.error_types:
                continue
            first = first or entry
            if weak:
                continue
            first_not_weak = first_not_weak or entry
            if rule.exception_types or first is entry:
                return first_not_weak.code
        return first.code if first is not None else "UNCATALOGED"

    def _attribute(self, entry: CatalogEntry, attribute: Any, failure: Failure) -> bool:
        if attribute.key not in failure.attributes:
            return False
        texts = list(attribute_texts(failure.attributes[attribute.key]))
        if attribute.pattern is not None:
            regex = self.attribute_patterns[(entry.code, attribute.key)]
            return any(regex.search(t) for t in texts)
        wanted = {canonical_text(v) for v in attribute.values}
        return any(t in wanted for t in texts)


def python_re_or_re2(pattern: str) -> Any:
    try:
        return re.compile(pattern)
    except re.error:
        return re2.compile(pattern)


def rate(match: Callable[[Any], Any], failures: Sequence[Any], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for failure in failures:
            match(failure)
        best = min(best, time.perf_counter() - start)
    return len(failures) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--synthetic", action="store_true", help="ignore the default catalog")
    args = parser.parse_args()

    try:
        catalog = synthetic_catalog() if args.synthetic else load_catalog()
        label = catalog.source if not args.synthetic else "synthetic"
    except CatalogError as exc:
        print(f"default catalog unavailable ({exc}); using a synthetic one")
        catalog, label = synthetic_catalog(), "synthetic"
    patterns = sum(len(e.match.message_patterns) for e in catalog.entries)
    print(f"catalog: {label}: {len(catalog.entries)} entries, {patterns} message patterns")
    failures = generate(catalog, args.failures, random.Random(args.seed))

    naive_re2 = NaiveMatcher(catalog, re2.compile)
    naive_re = NaiveMatcher(catalog, python_re_or_re2)
    codes = [catalog.match(f).code for f in failures]
    for name, naive in (("naive-re2", naive_re2), ("naive-re", naive_re)):
        disagree = sum(1 for f, c in zip(failures, codes, strict=True) if naive.match(f) != c)
        print(f"{name} agrees with Catalog.match on {len(failures) - disagree}/{len(failures)}")
    matched = sum(1 for c in codes if c != "UNCATALOGED")
    print(f"failures: {len(failures)} ({matched} matched an entry, {len(set(codes))} codes)")

    # The message scan alone: the catalog's scanner (RE2 FilteredRE2) vs one re2.Set of all
    # the full patterns, on the same messages.
    texts = [f.exception_message.encode() for f in failures]
    all_patterns = [p for e in catalog.entries for p in e.match.message_patterns]
    scanner = MessageScanner(all_patterns, label)
    options = re2.Options()
    options.max_mem = 64 << 20
    pattern_set = re2.Set.SearchSet(options)
    for pattern in all_patterns:
        pattern_set.Add(pattern)
    pattern_set.Compile()
    messages = [f.exception_message for f in failures]
    scan_filter = rate(scanner.scan, messages, args.rounds)
    scan_set = rate(pattern_set.Match, texts, args.rounds)
    print(f"message scan: FilteredRE2 {scan_filter:>10,.0f}/s, one re2.Set {scan_set:>10,.0f}/s")

    fast = rate(catalog.match, failures, args.rounds)
    slow_re2 = rate(naive_re2.match, failures, args.rounds)
    slow_re = rate(naive_re.match, failures, args.rounds)
    print(f"Catalog.match     {fast:>10,.0f} matches/s")
    print(f"naive, RE2        {slow_re2:>10,.0f} matches/s   ratio {fast / slow_re2:5.1f}x")
    print(f"naive, Python re  {slow_re:>10,.0f} matches/s   ratio {fast / slow_re:5.1f}x")


if __name__ == "__main__":
    main()
