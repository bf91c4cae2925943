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


def test_a_cause_is_preferred_to_a_base_in_the_reason() -> None:
    catalog = build(entry("E", {"exception_types": ["pkg.Base", "pkg.Cause"]}))

    verdict = catalog.match(failure("pkg.Leaf", causes=["pkg.Cause"], bases=["pkg.Base"]))

    assert verdict.reasons == ("E: exception_types 'pkg.Cause' matched cause 'pkg.Cause'",)


def test_a_base_match_is_strong_and_beats_a_class_name_only_guess() -> None:
    # The weak entry has the higher priority, but it matched only an unqualified name.
    catalog = build(
        entry("GUESS", {"exception_types": ["other.Leaf"]}, priority=100),
        entry("BY_BASE", {"exception_types": ["pkg.Base"]}),
    )

    assert catalog.match(failure("Leaf", bases=["pkg.Base"])).code == "BY_BASE"


def test_an_entry_naming_the_type_beats_one_naming_its_base_whatever_the_priority() -> None:
    # anthropic's GatewayTimeoutError derives from InternalServerError: the entry for the
    # subclass stays its verdict, as before bases were sent.
    catalog = build(
        entry("SERVER_ERROR", {"exception_types": ["anthropic.InternalServerError"]}, priority=90),
        entry("API_TIMEOUT", {"exception_types": ["anthropic.GatewayTimeoutError"]}),
    )
    bases = ["anthropic.InternalServerError", "anthropic.APIStatusError"]

    assert catalog.match(failure("anthropic.GatewayTimeoutError", bases=bases)).code == (
        "API_TIMEOUT"
    )
    assert catalog.match(failure("anthropic.OtherServerError", bases=bases)).code == (
        "SERVER_ERROR"
    )


def test_a_cause_match_beats_a_base_only_match_too() -> None:
    catalog = build(
        entry("BY_BASE", {"exception_types": ["tenacity.RetryError"]}, priority=90),
        entry("BY_CAUSE", {"exception_types": ["openai.RateLimitError"]}),
    )

    verdict = catalog.match(
        failure("app.Failed", causes=["openai.RateLimitError"], bases=["tenacity.RetryError"])
    )

    assert verdict.code == "BY_CAUSE"


def test_priority_decides_between_a_base_only_match_and_an_untyped_entry() -> None:
    catalog = build(
        entry("BY_MESSAGE", {"message_patterns": ["Throttling"]}, priority=5),
        entry("BY_BASE", {"exception_types": ["botocore.exceptions.ClientError"]}, priority=10),
    )
    low = build(
        entry("BY_MESSAGE", {"message_patterns": ["Throttling"]}, priority=10),
        entry("BY_BASE", {"exception_types": ["botocore.exceptions.ClientError"]}, priority=5),
    )
    throttled = failure(THROTTLING, "(ThrottlingException)", bases=BOTO_BASES)

    assert catalog.match(throttled).code == "BY_BASE"
    assert low.match(throttled).code == "BY_MESSAGE"


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
