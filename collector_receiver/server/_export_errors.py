"""Why an OTLP export was refused, and what each listener answers for it: the one table.

Every refusal is one of two kinds, as in the OTel Collector's ``consumererror``:

::

    Exception
     └── ExportRefused            nothing of the request was stored; ``reason`` says why
          ├── PermanentRefusal    the sender's mistake: the same request fails again
          └── RetryLater          the receiver cannot take it now: send it again later

The decode errors of :mod:`collector_receiver.otlp` (``DecodeError``, ``UnsupportedMediaType``,
``RequestTooLarge``) are permanent refusals raised by code that knows no listener;
:func:`answer_for` maps them and every :class:`ExportRefused` to the same :class:`Answer`.

==========================  =========  ======  ===================  ===========  ===========
reason                      kind       HTTP    gRPC                 Retry-After  counted as
==========================  =========  ======  ===================  ===========  ===========
``malformed``               permanent  400     INVALID_ARGUMENT
``unsupported_media_type``  permanent  415     INVALID_ARGUMENT
``too_large``               permanent  413     RESOURCE_EXHAUSTED
``unauthenticated``         permanent  401     UNAUTHENTICATED
``read_timeout``            retryable  408     DEADLINE_EXCEEDED
``overloaded``              retryable  503     UNAVAILABLE          1 s          persist error
``queue_full``              retryable  503     UNAVAILABLE          1 s          persist error
``unavailable``             retryable  503     UNAVAILABLE          5 s          persist error
``store_error``             retryable  503     UNAVAILABLE          5 s          persist error
==========================  =========  ======  ===================  ===========  ===========

The ``code`` of an HTTP JSON error body (the shape of ``google.rpc.Status``) is the gRPC code's
number. ``Retry-After`` is sent on HTTP only; gRPC senders back off on their own. The HTTP 401
is answered by the bearer-token middleware (:mod:`collector_receiver.server._auth`) before a
request reaches the listener, with a body of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

import grpc

from collector_receiver.otlp import DecodeError, RequestTooLarge, UnsupportedMediaType

PermanentReason: TypeAlias = Literal[
    "malformed", "unsupported_media_type", "too_large", "unauthenticated"
]
RetryReason: TypeAlias = Literal[
    "read_timeout", "overloaded", "queue_full", "unavailable", "store_error"
]
Reason: TypeAlias = PermanentReason | RetryReason


@dataclass(frozen=True)
class Answer:
    """What the listeners answer for one reason."""

    http_status: int
    grpc_code: grpc.StatusCode
    #: Seconds for HTTP's ``Retry-After``; None sends no header.
    retry_after_seconds: int | None = None

    @property
    def rpc_code(self) -> int:
        """The ``google.rpc.Code`` number of :attr:`grpc_code`, for JSON error bodies."""
        number: int = self.grpc_code.value[0]
        return number


#: The one table (see the module doc).
ANSWERS: dict[Reason, Answer] = {
    "malformed": Answer(400, grpc.StatusCode.INVALID_ARGUMENT),
    "unsupported_media_type": Answer(415, grpc.StatusCode.INVALID_ARGUMENT),
    "too_large": Answer(413, grpc.StatusCode.RESOURCE_EXHAUSTED),
    "unauthenticated": Answer(401, grpc.StatusCode.UNAUTHENTICATED),
    "read_timeout": Answer(408, grpc.StatusCode.DEADLINE_EXCEEDED),
    "overloaded": Answer(503, grpc.StatusCode.UNAVAILABLE, retry_after_seconds=1),
    "queue_full": Answer(503, grpc.StatusCode.UNAVAILABLE, retry_after_seconds=1),
    "unavailable": Answer(503, grpc.StatusCode.UNAVAILABLE, retry_after_seconds=5),
    "store_error": Answer(503, grpc.StatusCode.UNAVAILABLE, retry_after_seconds=5),
}


class ExportRefused(Exception):
    """Nothing of the request was stored; ``str()`` is the one-line reason for the sender."""

    reason: Reason

    @property
    def answer(self) -> Answer:
        return ANSWERS[self.reason]


class PermanentRefusal(ExportRefused):
    """The sender's mistake; sending the same request again fails again."""

    def __init__(self, reason: PermanentReason, message: str) -> None:
        super().__init__(message)
        self.reason: PermanentReason = reason


class RetryLater(ExportRefused):
    """Nothing of the request was stored; the sender should send it again later."""

    def __init__(self, reason: RetryReason, message: str) -> None:
        super().__init__(message)
        self.reason: RetryReason = reason

    @property
    def retry_after_seconds(self) -> int | None:
        return self.answer.retry_after_seconds


def refusal_of(error: DecodeError | ExportRefused) -> ExportRefused:
    """``error`` as a refusal: a decode error of the OTLP edge becomes a permanent one."""
    if isinstance(error, ExportRefused):
        return error
    reason: PermanentReason
    if isinstance(error, RequestTooLarge):
        reason = "too_large"
    elif isinstance(error, UnsupportedMediaType):
        reason = "unsupported_media_type"
    else:
        reason = "malformed"
    return PermanentRefusal(reason, str(error))


def answer_for(error: DecodeError | ExportRefused) -> Answer:
    """What to answer for ``error`` (see the table in the module doc)."""
    return refusal_of(error).answer


__all__ = [
    "ANSWERS",
    "Answer",
    "ExportRefused",
    "PermanentReason",
    "PermanentRefusal",
    "Reason",
    "RetryLater",
    "RetryReason",
    "answer_for",
    "refusal_of",
]
