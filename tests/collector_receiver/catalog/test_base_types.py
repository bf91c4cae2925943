"""A catalog name matches the bases of a failure's type (``failcat.base_types``), by the same
rules as the type and its causes, and the reason says which base of which type."""

from __future__ import annotations

from collector_receiver.catalog._types import MAX_BASE_TYPES
from tests.collector_receiver.catalog._helpers import build, entry, failure

THROTTLING = "botocore.errorfactory.ThrottlingException"
BOTO_BASES = ("botocore.exceptions.ClientError", "botocore.exceptions.BotoCoreError")


def test_a_name_of_a_base_class_matches_the_generated_subclass() -> None:
    catalog = build(
        entry(
            "BEDROCK_THROTTLING",
            {
                "exception_types": ["botocore.exceptions.ClientError"],
                "message_patterns": ["ThrottlingException"],
            },
        )
    )
    verdict = catalog.match(
        failure(THROTTLING, "An error occurred (ThrottlingException)", bases=BOTO_BASES)
    )

    assert verdict.code == "BEDROCK_THROTTLING"
    assert verdict.reasons[0] == (
        "BEDROCK_THROTTLING: exception_types 'botocore.exceptions.ClientError' matched base "
        "'botocore.exceptions.ClientError' of type 'botocore.errorfactory.ThrottlingException'"
    )
    # without its bases the same failure is unknown: the base is what matched
    assert catalog.match(failure(THROTTLING, "(ThrottlingException)")).code == "UNCATALOGED"


def test_bases_match_by_alias_and_by_class_name() -> None:
    catalog = build(
        entry("BY_ALIAS", {"exception_types": ["openai.APIStatusError"]}),
        entry("BY_CLASS_NAME", {"exception_types": ["ConnectionError"]}),
    )

    by_alias = catalog.match(
        failure("openai._exceptions.RateLimitError", bases=["openai._exceptions.APIStatusError"])
    )
    by_class = catalog.match(
        failure("ConnectionRefusedError", bases=["ConnectionError", "OSError"])
    )

    assert by_alias.code == "BY_ALIAS"
    assert by_alias.reasons[0].endswith(
        "matched base 'openai._exceptions.APIStatusError' of type "
        "'openai._exceptions.RateLimitError' (via alias)"
    )
    assert by_class.code == "BY_CLASS_NAME"
    assert by_class.reasons[0].endswith("of type 'ConnectionRefusedError'")


def test_the_type_itself_is_named_before_a_base_in_the_reason() -> None:
    catalog = build(entry("E", {"exception_types": ["pkg.Base", "pkg.errors.Leaf"]}))

    verdict = catalog.match(failure("pkg.errors.Leaf", bases=["pkg.Base"]))

    assert verdict.reasons == (
        "E: exception_types 'pkg.errors.Leaf' matched type 'pkg.errors.Leaf'",
    )


def test_a_base_is_preferred_to_a_cause_in_the_reason() -> None:
    catalog = build(entry("E", {"exception_types": ["pkg.Base"]}))

    verdict = catalog.match(failure("pkg.Leaf", causes=["pkg.Base"], bases=["pkg.Base"]))

    assert verdict.reasons == (
        "E: exception_types 'pkg.Base' matched base 'pkg.Base' of type 'pkg.Leaf'",
    )


def test_a_base_match_is_strong_and_beats_a_class_name_only_guess() -> None:
    # The weak entry has the higher priority, but it matched only an unqualified name.
    catalog = build(
        entry("GUESS", {"exception_types": ["other.Leaf"]}, priority=100),
        entry("BY_BASE", {"exception_types": ["pkg.Base"]}),
    )

    assert catalog.match(failure("Leaf", bases=["pkg.Base"])).code == "BY_BASE"


def test_priority_still_decides_between_a_base_entry_and_a_type_entry() -> None:
    catalog = build(
        entry("GENERIC_CLIENT_ERROR", {"exception_types": ["botocore.exceptions.ClientError"]}),
        entry("SPECIFIC", {"exception_types": [THROTTLING]}, priority=10),
    )

    assert catalog.match(failure(THROTTLING, bases=BOTO_BASES)).code == "SPECIFIC"
    assert catalog.match(failure("botocore.errorfactory.Other", bases=BOTO_BASES)).code == (
        "GENERIC_CLIENT_ERROR"
    )


def test_only_the_nearest_bases_are_looked_at() -> None:
    catalog = build(entry("FAR", {"exception_types": ["pkg.Far"]}))
    near = [f"pkg.Near{i}" for i in range(MAX_BASE_TYPES)]

    assert catalog.match(failure("pkg.Leaf", bases=[*near[:-1], "pkg.Far"])).code == "FAR"
    assert catalog.match(failure("pkg.Leaf", bases=[*near, "pkg.Far"])).code == "UNCATALOGED"


def test_odd_base_lists_never_raise() -> None:
    catalog = build(entry("E", {"exception_types": ["E"]}))

    assert catalog.match(failure("x.Y", bases=["", "", "x.E"])).code == "E"
    assert catalog.match(failure("", bases=["E"])).code == "E"
    assert catalog.match(failure("x.Y", bases=[""] * 10_000)).code == "UNCATALOGED"
