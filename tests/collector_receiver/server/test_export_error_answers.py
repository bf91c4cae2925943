"""The one table of refusals: every reason has its HTTP status, gRPC code and Retry-After as the
listeners have always answered them, and the OTLP edge's decode errors map to the permanent
ones. (That the listeners send exactly these is proven end to end in
``tests/e2e/test_otlp_answers.py`` and ``test_saturation_answers.py``.)"""

from __future__ import annotations

from typing import get_args

import grpc
import pytest

from collector_receiver.otlp import DecodeError, RequestTooLarge, UnsupportedMediaType
from collector_receiver.server._export_errors import (
    ANSWERS,
    PermanentReason,
    PermanentRefusal,
    RetryLater,
    RetryReason,
    answer_for,
    refusal_of,
)
from collector_receiver.server.metrics import PersistErrorReason

Code = grpc.StatusCode

EXPECTED = {
    # reason: (HTTP status, gRPC code, google.rpc.Code in JSON bodies, Retry-After)
    "malformed": (400, Code.INVALID_ARGUMENT, 3, None),
    "unsupported_media_type": (415, Code.INVALID_ARGUMENT, 3, None),
    "too_large": (413, Code.RESOURCE_EXHAUSTED, 8, None),
    "unauthenticated": (401, Code.UNAUTHENTICATED, 16, None),
    "read_timeout": (408, Code.DEADLINE_EXCEEDED, 4, None),
    "overloaded": (503, Code.UNAVAILABLE, 14, 1),
    "queue_full": (503, Code.UNAVAILABLE, 14, 1),
    "unavailable": (503, Code.UNAVAILABLE, 14, 5),
    "store_error": (503, Code.UNAVAILABLE, 14, 5),
}


def test_every_reason_has_one_row_and_it_is_what_the_listeners_answer() -> None:
    assert set(ANSWERS) == set(get_args(PermanentReason)) | set(get_args(RetryReason))
    got = {
        reason: (a.http_status, a.grpc_code, a.rpc_code, a.retry_after_seconds)
        for reason, a in ANSWERS.items()
    }
    assert got == EXPECTED


def test_permanent_refusals_never_ask_for_a_retry() -> None:
    for reason in get_args(PermanentReason):
        answer = ANSWERS[reason]
        assert answer.retry_after_seconds is None
        assert answer.grpc_code not in (Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED)
        assert answer.http_status < 500


def test_every_persist_error_reason_is_retryable_with_a_retry_after() -> None:
    for reason in get_args(PersistErrorReason):
        assert reason in get_args(RetryReason)
        assert RetryLater(reason, "x").retry_after_seconds is not None


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (DecodeError("not protobuf"), "malformed"),
        (UnsupportedMediaType("text/plain"), "unsupported_media_type"),
        (RequestTooLarge("over 10 bytes"), "too_large"),
    ],
)
def test_decode_errors_of_the_otlp_edge_are_permanent_refusals(
    error: DecodeError, reason: str
) -> None:
    refusal = refusal_of(error)
    assert isinstance(refusal, PermanentRefusal)
    assert refusal.reason == reason
    assert str(refusal) == str(error)
    assert answer_for(error) == ANSWERS[refusal.reason]


def test_a_refusal_maps_to_its_own_row() -> None:
    retry = RetryLater("queue_full", "the write queue is full")
    assert refusal_of(retry) is retry
    assert answer_for(retry).retry_after_seconds == 1
