"""Qualified type names and the cause chain, as they appear in ``exception.type`` and
``failcat.cause_types``."""

from __future__ import annotations

from otel_failcat._exception_info import (
    MAX_CAUSE_CHAIN,
    cause_types,
    format_stacktrace,
    qualified_type_name,
    safe_message,
)
from tests.otel_failcat._helpers import raise_and_catch


class Outer:
    class NestedError(Exception):
        pass


def test_builtins_keep_their_plain_name() -> None:
    assert qualified_type_name(ValueError) == "ValueError"
    assert qualified_type_name(KeyboardInterrupt) == "KeyboardInterrupt"


def test_other_types_are_module_and_qualname() -> None:
    assert qualified_type_name(Outer.NestedError) == f"{__name__}.Outer.NestedError"
    import json

    assert qualified_type_name(json.JSONDecodeError) == "json.decoder.JSONDecodeError"


def _chain() -> BaseException:
    try:
        try:
            raise KeyError("root")
        except KeyError as root:
            raise OSError("middle") from root
    except OSError:
        try:
            raise ValueError("outer")  # implicit __context__ = the OSError
        except ValueError as outer:
            return outer


def test_cause_types_follow_cause_then_context_outermost_first() -> None:
    assert cause_types(_chain()) == ["OSError", "KeyError"]


def test_exception_without_chain_has_no_cause_types() -> None:
    assert cause_types(raise_and_catch(ValueError("x"))) == []


def test_raise_from_none_suppresses_the_context() -> None:
    try:
        try:
            raise KeyError("hidden")
        except KeyError:
            raise ValueError("shown") from None
    except ValueError as exc:
        assert cause_types(exc) == []


def test_explicit_cause_wins_over_context() -> None:
    try:
        try:
            raise KeyError("context")
        except KeyError:
            raise ValueError("v") from TimeoutError("cause")
    except ValueError as exc:
        assert cause_types(exc) == ["TimeoutError"]


def test_a_cycle_stops_the_walk() -> None:
    a, b = ValueError("a"), KeyError("b")
    a.__cause__, b.__cause__ = b, a
    assert cause_types(a) == ["KeyError"]


def test_a_pathological_chain_is_cut() -> None:
    head = ValueError("0")
    current = head
    for i in range(MAX_CAUSE_CHAIN + 10):
        nxt = ValueError(str(i))
        current.__cause__ = nxt
        current = nxt
    assert len(cause_types(head)) == MAX_CAUSE_CHAIN


def test_unprintable_message_gets_a_placeholder() -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert safe_message(Unprintable()) == "<unprintable Unprintable object>"


def test_stacktrace_includes_the_chain() -> None:
    text = format_stacktrace(_chain())
    assert "KeyError: 'root'" in text and "OSError: middle" in text and "ValueError: outer" in text
    assert "The above exception was the direct cause" in text
