"""OTLP/JSON: protobuf's JSON mapping with the exceptions of the OTLP specification.

The OTLP specification ("JSON Protobuf Encoding") departs from the standard proto3 JSON
mapping in one way that matters to a parser: ``traceId``, ``spanId`` and ``parentSpanId`` are
hex strings, not base64. Everything else is what ``google.protobuf.json_format`` already
accepts: lowerCamelCase or original field names, 64-bit integers as strings or numbers, enums
as integers or names, and (with ``ignore_unknown_fields``) fields the receiver does not know.

Converting the ids happens in ``json.loads``'s ``object_hook``, which sees every JSON object
once. That is safe because in OTLP every JSON object key is a field name: attribute keys travel
as ``{"key": ..., "value": ...}`` values, never as object keys.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from collector_receiver.otlp._errors import DecodeError

_HEX_ID_FIELDS = frozenset(
    {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}
)


def parse_otlp_json(body: bytes, message_type: type[Message]) -> Message:
    """``body`` (UTF-8 JSON) as a ``message_type``; :class:`DecodeError` if it is malformed."""
    try:
        document = json.loads(body, object_hook=_hex_ids_to_base64)
    except _BadHexId as error:
        raise DecodeError(str(error)) from None
    except UnicodeDecodeError:
        raise DecodeError("JSON body is not valid UTF-8") from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise DecodeError(f"malformed JSON: {error.msg} at {where}") from None
    except RecursionError:
        raise DecodeError("JSON body is nested too deeply") from None
    if not isinstance(document, dict):
        raise DecodeError(f"JSON body must be an object, not {type(document).__name__}")
    message = message_type()
    try:
        json_format.ParseDict(document, message, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError) as error:
        raise DecodeError(f"invalid OTLP/JSON {message_type.__name__}: {error}") from None
    except RecursionError:
        raise DecodeError("JSON body is nested too deeply") from None
    return message


class _BadHexId(ValueError):
    pass


def _hex_ids_to_base64(obj: dict[str, Any]) -> dict[str, Any]:
    for key in _HEX_ID_FIELDS.intersection(obj):
        value = obj[key]
        if value is None:
            continue
        if not isinstance(value, str):
            raise _BadHexId(f"{key} must be a hex string, not {type(value).__name__}")
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raise _BadHexId(f"{key} is not a hex string: {value[:40]!r}") from None
        if len(raw) * 2 != len(value):  # bytes.fromhex skips whitespace; an id has none
            raise _BadHexId(f"{key} is not a hex string: {value[:40]!r}")
        obj[key] = base64.b64encode(raw).decode("ascii")
    return obj
