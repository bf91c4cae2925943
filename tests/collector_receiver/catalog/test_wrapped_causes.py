"""A wrapper is classified by what it wraps: when no entry matches a failure by its own type or
a base of it, the described links of its cause chain (``failcat.cause_messages`` and
``.cause_base_types`` beside ``.cause_types``) are matched like an exception group's leaves,
outermost first; an entry for the wrapper's own type keeps it as it is."""

from __future__ import annotations

import pytest

from collector_receiver.catalog import load_catalog
from collector_receiver.events import MAX_CAUSE_LEAVES, GroupLeaf
from collector_receiver.otlp import decode_request, extract_failures
from collector_receiver.prepare import FailurePreparer
from otel_failcat import record_failure
from otel_failcat.redaction import Redactor
from tests.collector_receiver.catalog._helpers import build, entry, failure
from tests.collector_receiver.otlp._helpers import exception_event, span, trace_request
from tests.collector_receiver.otlp._recorded import recorded

WRAPPER = "agent.StepFailed"
CONTEXT = "This model's maximum context length is 128000 tokens. However, you requested 130000."

CATALOG = build(
    entry(
        "CONTEXT_LENGTH",
        {"exception_types": ["openai.BadRequestError"], "message_patterns": ["context length"]},
        category="context_length",
        priority=10,
    ),
    entry("BAD_REQUEST", {"exception_types": ["openai.BadRequestError"]}, category="bad_request"),
    entry(
        "RETRIES",
        {"exception_types": ["tenacity.RetryError"]},
        category="retries_exhausted",
        priority=20,
    ),
    entry(
        "THROTTLED",
        {"exception_types": ["botocore.exceptions.ClientError"], "message_patterns": ["Throttl"]},
        category="rate_limit",
    ),
    entry("SAYS_RATE_LIMIT", {"message_patterns": ["(?i)rate limit"]}, category="rate_limit"),
)

OVERFLOW = GroupLeaf("openai.BadRequestError", CONTEXT, base_types=("openai.APIStatusError",))


def test_a_wrapper_is_what_it_wraps_message_and_all() -> None:
    verdict = CATALOG.match(
        failure(
            WRAPPER,
            "step failed",
            causes=["openai.BadRequestError"],
            cause_leaves=[OVERFLOW],
        )
    )

    # Without the cause's message only BAD_REQUEST could match, by the cause's type.
    assert verdict.code == "CONTEXT_LENGTH"
    assert verdict.reasons == (
        "CONTEXT_LENGTH: cause 1 of 1: exception_types 'openai.BadRequestError' matched type "
        "'openai.BadRequestError'",
        "CONTEXT_LENGTH: cause 1 of 1: message_patterns[0] 'context length' matched",
    )


def test_a_cause_matches_by_its_bases_too() -> None:
    throttled = GroupLeaf(
        "botocore.errorfactory.ThrottlingException",
        "An error occurred (ThrottlingException) when calling the Converse operation",
        base_types=("botocore.exceptions.ClientError",),
    )

    verdict = CATALOG.match(
        failure(WRAPPER, "step failed", causes=[throttled.exception_type], cause_leaves=[throttled])
    )

    assert verdict.code == "THROTTLED"


def test_the_outermost_cause_that_matches_wins() -> None:
    causes = [
        GroupLeaf("agent.ToolFailed", "tool search failed"),  # no entry
        OVERFLOW,
        GroupLeaf("httpx.HTTPStatusError", "429 rate limit"),
    ]

    verdict = CATALOG.match(
        failure(WRAPPER, "", causes=[c.exception_type for c in causes], cause_leaves=causes)
    )

    assert verdict.code == "CONTEXT_LENGTH"
    assert verdict.reasons[0].startswith("CONTEXT_LENGTH: cause 2 of 3: ")


def test_an_entry_for_the_wrappers_own_type_keeps_it() -> None:
    # A retry's verdict is retries_exhausted, whatever its last attempt was.
    verdict = CATALOG.match(
        failure(
            "tenacity.RetryError",
            "RetryError[...]",
            causes=[OVERFLOW.exception_type],
            cause_leaves=[OVERFLOW],
        )
    )

    assert verdict.code == "RETRIES"


def test_an_entry_for_the_wrappers_own_type_stops_the_walk_even_when_outranked() -> None:
    # BAD_REQUEST (a cause's type) outranks the entry for the wrapper's own type: the match is
    # the usual one, and the cause's own verdict (CONTEXT_LENGTH) is not looked for.
    catalog = build(
        entry("BAD_REQUEST", {"exception_types": ["openai.BadRequestError"]}, priority=30),
        entry(
            "CONTEXT_LENGTH",
            {"exception_types": ["openai.BadRequestError"], "message_patterns": ["context"]},
            priority=20,
        ),
        entry("PARSE_FAILED", {"exception_types": ["langchain.OutputParserException"]}),
    )
    verdict = catalog.match(
        failure(
            "langchain.OutputParserException",
            "could not parse",
            causes=[OVERFLOW.exception_type],
            cause_leaves=[OVERFLOW],
        )
    )

    assert verdict.code == "BAD_REQUEST"


def test_a_cause_that_matches_nothing_leaves_the_wrappers_own_match() -> None:
    bug = GroupLeaf("KeyError", "'temperature'")

    by_message = CATALOG.match(
        failure(WRAPPER, "rate limit hit", causes=["KeyError"], cause_leaves=[bug])
    )
    ordinary = CATALOG.match(
        failure(WRAPPER, "step failed", causes=["KeyError"], cause_leaves=[bug])
    )

    assert by_message.code == "SAYS_RATE_LIMIT"
    assert ordinary.code == "UNCATALOGED"


def test_a_cause_beats_the_wrappers_message_only_match() -> None:
    # The wrapper repeats a rate-limit wording, but what it wraps is known exactly.
    verdict = CATALOG.match(
        failure(
            WRAPPER,
            "rate limit or context? " + CONTEXT,
            causes=[OVERFLOW.exception_type],
            cause_leaves=[OVERFLOW],
        )
    )

    assert verdict.code == "CONTEXT_LENGTH"


def test_only_the_first_causes_are_matched() -> None:
    unknown = [GroupLeaf(f"agent.Layer{n}", "layer failed") for n in range(MAX_CAUSE_LEAVES)]
    causes = [*unknown, OVERFLOW]

    verdict = CATALOG.match(failure(WRAPPER, "", causes=["x"] * len(causes), cause_leaves=causes))

    assert verdict.code == "UNCATALOGED"


def _bad_request_context_length() -> BaseException:
    """What the OpenAI SDK raises for a provider's context-length answer (mock transport)."""
    httpx = pytest.importorskip("httpx")
    openai = pytest.importorskip("openai")
    body = {
        "error": {
            "message": CONTEXT,
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }
    }
    transport = httpx.MockTransport(lambda request: httpx.Response(400, json=body))
    client = openai.OpenAI(
        api_key="sk-test", max_retries=0, http_client=httpx.Client(transport=transport)
    )
    try:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    except Exception as error:
        return error
    raise AssertionError("the mocked call did not fail")


class StepFailed(Exception):
    pass


def test_an_agents_wrapper_recorded_for_real_lands_in_the_wrapped_category() -> None:
    cause = _bad_request_context_length()

    def run(_: object) -> None:
        try:
            raise StepFailed("step failed") from cause
        except StepFailed as wrapper:
            record_failure(wrapper)

    [(row, verdict)] = FailurePreparer(load_catalog(), Redactor()).prepare(recorded(run))

    assert row.exception_type.endswith("StepFailed")
    assert row.category == "context_length", verdict.reasons
    assert "cause 1 of 1" in verdict.reasons[0]


def test_a_cause_is_matched_redacted_like_the_failure_itself() -> None:
    # A sender without the agent's redaction: the secret in a cause's message is redacted by
    # the receiver before matching, so a pattern that would see it does not match.
    secret = "sk-proj-" + "a1B2c3D4e5F6g7H8i9J0" * 2
    catalog = build(
        entry("SAW_THE_SECRET", {"message_patterns": ["sk-proj-a1B2"]}, priority=10),
        entry("SAW_IT_REDACTED", {"message_patterns": [r"\[REDACTED"]}),
    )
    event = exception_event(
        WRAPPER,
        "step failed",
        failcat__cause_types=["pkg.Boom"],
        failcat__cause_messages=[f"bad key {secret}"],
    )
    body = trace_request([span(events=[event])]).SerializeToString()
    events = extract_failures("traces", decode_request("traces", body, "application/x-protobuf"))

    [(row, verdict)] = FailurePreparer(catalog, Redactor()).prepare(events.events)

    assert verdict.code == "SAW_IT_REDACTED"
    assert "cause 1 of 1" in verdict.reasons[0]
    assert secret not in repr(row) and secret not in repr(verdict)
