"""The exceptions of the OTLP edge, one per answer the receiver gives a sender.

::

    ValueError
     └── DecodeError              malformed body          -> HTTP 400 / gRPC INVALID_ARGUMENT
          ├── UnsupportedMediaType  content type/encoding -> HTTP 415
          └── RequestTooLarge       over the size cap     -> HTTP 413 / gRPC RESOURCE_EXHAUSTED

``str(error)`` is always one short line a sender can read; protobuf internals are not in it.
"""

from __future__ import annotations

from collector_receiver._one_line import one_line

#: Longest reason we put into an error; a sender needs the gist, not a dump of its own payload.
_MAX_REASON = 200


def short_line(reason: str) -> str:
    """Squash ``reason`` to one line of bounded length."""
    text = one_line(reason)
    if len(text) > _MAX_REASON:
        text = text[: _MAX_REASON - 3] + "..."
    return text


class DecodeError(ValueError):
    """The request body cannot be read as the OTLP message it claims to be."""

    def __init__(self, reason: str) -> None:
        super().__init__(short_line(reason))


class UnsupportedMediaType(DecodeError):
    """The content type or content encoding is not one the receiver speaks."""


class RequestTooLarge(DecodeError):
    """The body, on the wire or once inflated, is larger than the configured limit."""
