"""Request bodies to OTLP messages and partial-success answers back to bytes."""

from __future__ import annotations

from typing import Literal

from google.protobuf import json_format
from google.protobuf.message import DecodeError as ProtobufDecodeError
from google.protobuf.message import Message

from collector_receiver.otlp._errors import DecodeError, UnsupportedMediaType
from collector_receiver.otlp._json import parse_otlp_json
from collector_receiver.otlp._messages import REJECTED_FIELDS, RESPONSE_TYPES, Signal, request_type

Encoding = Literal["protobuf", "json"]

_MEDIA_TYPES: dict[str, Encoding] = {
    "application/x-protobuf": "protobuf",
    "application/protobuf": "protobuf",
    "application/json": "json",
}


def media_encoding(content_type: str | None) -> Encoding:
    """``"protobuf"`` or ``"json"`` for an HTTP content type, its parameters (charset) ignored.

    Raises :class:`UnsupportedMediaType` for anything else.
    """
    media = (content_type or "").split(";", 1)[0].strip().lower()
    try:
        return _MEDIA_TYPES[media]
    except KeyError:
        shown = media or "(none)"
        raise UnsupportedMediaType(
            f"content type {shown!r} is not supported"
            " (use application/x-protobuf or application/json)"
        ) from None


def decode_request(signal: Signal, body: bytes, content_type: str) -> Message:
    """The ``Export*ServiceRequest`` of ``signal`` carried by ``body``.

    ``body`` must already be inflated (see :func:`inflate`). Protobuf is parsed as is; JSON
    follows the OTLP/JSON rules (hex ids in any case, 64-bit integers as strings or numbers, enums
    as integers or names, unknown fields ignored). Raises :class:`UnsupportedMediaType` for
    another content type and :class:`DecodeError` with a one-line reason for a malformed body.
    """
    message_type = request_type(signal)
    if media_encoding(content_type) == "json":
        return parse_otlp_json(body, message_type)
    message = message_type()
    try:
        message.ParseFromString(body)
    except ProtobufDecodeError:
        # protobuf's own text names internal types and says little more; keep the reason plain.
        raise DecodeError(f"body is not a valid protobuf {message_type.__name__}") from None
    return message


def encode_response(signal: Signal, rejected: int, error_message: str, content_type: str) -> bytes:
    """The ``Export*ServiceResponse`` of ``signal`` in the request's content type.

    ``partial_success`` is set only when something was rejected or there is a message, as the
    OTLP specification asks of a fully successful answer. Raises :class:`UnsupportedMediaType`
    for a content type the receiver does not speak.
    """
    encoding = media_encoding(content_type)
    response = RESPONSE_TYPES[signal]()
    if rejected or error_message:
        partial = getattr(response, "partial_success")  # noqa: B009 - one field name for 3 types
        setattr(partial, REJECTED_FIELDS[signal], rejected)
        partial.error_message = error_message
    if encoding == "json":
        return json_format.MessageToJson(response, indent=None).encode("utf-8")
    return response.SerializeToString()
