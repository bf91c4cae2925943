"""The receiver's OTLP edge: bytes in, flat failures out, partial-success answers back.

This package is the only place that touches OTLP protobuf classes. A transport (the gRPC or
HTTP server) calls, in order::

    body = inflate(raw_body, content_encoding, max_bytes)     # HTTP only; gzip with a cap
    request = decode_request(signal, body, content_type)      # protobuf or OTLP/JSON
    result = extract_failures(signal, request)                # FailureEvents + item counts
    ...                                                       # prepare, store, count
    answer = encode_response(signal, result.rejected, result.error_message, content_type)

Errors (each ``str()`` is one line fit to send back)::

    ValueError
     └── DecodeError              malformed body          -> HTTP 400 / gRPC INVALID_ARGUMENT
          ├── UnsupportedMediaType  content type/encoding -> HTTP 415
          └── RequestTooLarge       over the size cap     -> HTTP 413 / gRPC RESOURCE_EXHAUSTED

See docs/otlp-ingest.md for what counts as a failure and how OTLP fields map to columns.
"""

from __future__ import annotations

from collector_receiver.otlp._codec import decode_request, encode_response, media_encoding
from collector_receiver.otlp._errors import DecodeError, RequestTooLarge, UnsupportedMediaType
from collector_receiver.otlp._extract import (
    DEFAULT_SERVICE_NAME,
    SPAN_STATUS_EVENT_INDEX,
    UNKNOWN_EXCEPTION_TYPE,
    ExtractResult,
    extract_failures,
)
from collector_receiver.otlp._inflate import inflate
from collector_receiver.otlp._json import JSON_DECODE_MULTIPLE
from collector_receiver.otlp._messages import Signal

__all__ = [
    "DEFAULT_SERVICE_NAME",
    "JSON_DECODE_MULTIPLE",
    "SPAN_STATUS_EVENT_INDEX",
    "UNKNOWN_EXCEPTION_TYPE",
    "DecodeError",
    "ExtractResult",
    "RequestTooLarge",
    "Signal",
    "UnsupportedMediaType",
    "decode_request",
    "encode_response",
    "extract_failures",
    "inflate",
    "media_encoding",
]
