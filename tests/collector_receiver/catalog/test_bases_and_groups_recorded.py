"""Base types and exception groups end to end: failures raised through real code, recorded by
the real agent, encoded by the OTLP exporter's encoder, extracted, prepared (redacted) and
matched against the default catalog."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

from collector_receiver.catalog import Match, load_catalog
from collector_receiver.events import MatchedFailure
from collector_receiver.prepare import FailurePreparer
from otel_failcat import record_failure
from otel_failcat.redaction import Redactor
from tests.collector_receiver.otlp._recorded import recorded

botocore_session = pytest.importorskip("botocore.session")
stub = pytest.importorskip("botocore.stub")

THROTTLED = "Too many requests, please wait before trying again."


def _throttled_bedrock_call() -> Exception:
    """What botocore raises for a throttled Converse call (its Stubber answers offline)."""
    client: Any = botocore_session.get_session().create_client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="not-a-secret",
    )
    with stub.Stubber(client) as stubber:
        stubber.add_client_error(
            "converse",
            service_error_code="ThrottlingException",
            service_message=THROTTLED,
            http_status_code=429,
        )
        try:
            client.converse(
                modelId="anthropic.claude-3-haiku-20240307-v1:0",
                messages=[{"role": "user", "content": [{"text": "hi"}]}],
            )
        except Exception as error:
            return error
    raise AssertionError("the stubbed call did not fail")


def _prepared(run: Any) -> list[tuple[MatchedFailure, Match]]:
    return FailurePreparer(load_catalog(), Redactor()).prepare(recorded(run))


def test_a_generated_botocore_exception_matches_the_entry_that_names_its_base() -> None:
    error = _throttled_bedrock_call()
    assert type(error).__module__ == "botocore.errorfactory"  # generated, not ClientError itself

    [(row, verdict)] = _prepared(lambda _: record_failure(error))

    assert row.exception_type == "botocore.errorfactory.ThrottlingException"
    assert row.category == "rate_limit" and verdict.group_leaf is None
    assert any(
        "matched base 'botocore.exceptions.ClientError' of type "
        "'botocore.errorfactory.ThrottlingException'" in reason
        for reason in verdict.reasons
    ), verdict.reasons


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.TaskGroup is new in 3.11")
def test_a_task_group_is_classified_by_the_failure_inside_it() -> None:
    async def lookup() -> None:
        await asyncio.sleep(0)
        raise KeyError("user_id")  # an ordinary programming error: no category of its own

    async def call_model() -> None:
        await asyncio.sleep(0)
        raise _throttled_bedrock_call()

    async def agent() -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(lookup())
            group.create_task(call_model())

    def run(_: object) -> None:
        try:
            asyncio.run(agent())
        except BaseException as group:
            record_failure(group)

    [(row, verdict)] = _prepared(run)  # the group is one failure, one row

    assert row.exception_type == "ExceptionGroup"  # the row is the group's ...
    assert row.exception_message == "unhandled errors in a TaskGroup (2 sub-exceptions)"
    assert row.category == "rate_limit"  # ... classified by its second leaf
    assert verdict.group_leaf == 1
    assert all(reason.startswith(f"{row.code}: group leaf 2 of 2: ") for reason in verdict.reasons)
    assert row.attributes["failcat.group.exception_types"] == [
        "KeyError",
        "botocore.errorfactory.ThrottlingException",
    ]
