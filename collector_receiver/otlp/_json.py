"""OTLP/JSON: protobuf's JSON mapping with the exceptions of the OTLP specification.

The OTLP specification ("JSON Protobuf Encoding") departs from the standard proto3 JSON mapping
in one way that matters to a parser: ``traceId``, ``spanId`` and ``parentSpanId`` are hex
strings, not base64. Otherwise the usual mapping holds, leniently, as the specification asks
of receivers: lowerCamelCase or original field names, 64-bit integers as strings or numbers,
enums as integers or names (an unknown name is ignored), unknown fields ignored, ``null``
meaning "not set", doubles also as ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.

``google.protobuf.json_format`` sets one field at a time from Python and reads at about
3 MB/s. Here the parsed JSON is rewritten, field by field, into the keyword arguments of the
message's constructor (plain dicts and lists with the proto field names and converted
scalars), and the protobuf runtime builds each span, log record or metric in one call: several
times faster. The rewrite is driven by the message descriptors, so it follows the schema the
receiver was built with.

Memory: ``json.loads`` of a whole body builds a tree of Python objects 6-11 times the size of
the body (the more short attributes, the more), and a tree of constructor arguments would be
about as large again. Instead, the three envelope levels of a request (the request,
``Resource*``, ``Scope*``) are read from the text here, one element at a time, straight into the
message; each span, log record or metric is parsed by the standard library's scanner and
converted on its own, then dropped. What is held is the text, the message and one element:
decoding peaks at 2.5-3 times the body on top of the body itself, 6 times when the text holds a
character outside the Basic Multilingual Plane (Python then keeps the whole text at 4 bytes a
character), against 11-20 times for a parse of the whole tree (bodies of 2-29 MiB, measured
by ``benchmarks/bench_json_memory.py``). The HTTP listener admits a JSON request in the
in-flight budget for :data:`JSON_DECODE_MULTIPLE` times its body on top of the body. Keys of an
envelope object that appear twice are both read (a repeated field's elements are added twice).

Hostile input is a :class:`DecodeError` with a reason, never another exception: a number
literal longer than 64 characters (Python's own limit on integer digits is never reached),
a number whose value is not finite (``1e999999``), the non-JSON literals ``NaN`` and
``Infinity``, and nesting too deep for the parser.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import re
import threading
from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from collector_receiver.otlp._errors import DecodeError

_Convert = Callable[[Any], Any]
_Plan = dict[str, tuple[str, int, Any]]

#: Bytes fields written as hex in OTLP/JSON (spans, links, log records, exemplars).
_HEX_ID_FIELDS = frozenset({"trace_id", "span_id", "parent_span_id"})
_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_SKIP = object()  # a converter's answer for "leave the field unset" (an unknown enum name)
#: Longest number literal taken: an int64 has at most 20 digits and a double needs about 25
#: characters; a longer one is an attack on the int and float parsers, not telemetry.
_MAX_NUMBER_LENGTH = 64
#: Levels of a request filled one element at a time (request, Resource*, Scope*); the level
#: below (spans, log records, metrics) is converted an element at a time.
_ENVELOPE_LEVELS = 3

#: Peak memory of decoding an OTLP/JSON body, beyond the body itself, as a multiple of the body
#: (measured at 1.8-3.0, and 6.0 for text outside the Basic Multilingual Plane; rounded up).
JSON_DECODE_MULTIPLE = 7


def parse_otlp_json(body: bytes, message_type: type[Message]) -> Message:
    """``body`` (UTF-8 JSON) as a ``message_type``; :class:`DecodeError` if it is malformed."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DecodeError("JSON body is not valid UTF-8") from None
    name = message_type.__name__
    message = message_type()
    try:
        start = _skip(text, 0)
        if not text.startswith("{", start):
            document, _ = _DECODER.raw_decode(text, start)
            raise DecodeError(f"JSON body must be an object, not {type(document).__name__}")
        end = _skip(text, _read_object(message, _plan(message_type.DESCRIPTOR), text, start, 0))
        if end != len(text):
            raise json.JSONDecodeError("Extra data", text, end)
    except DecodeError:
        raise
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise DecodeError(f"malformed JSON: {error.msg} at {where}") from None
    except _Invalid as error:
        where = f"{error.path}: " if error.path else ""
        raise DecodeError(f"invalid OTLP/JSON {name}: {where}{error.reason}") from None
    except RecursionError:
        raise DecodeError("JSON body is nested too deeply") from None
    except (ValueError, TypeError) as error:  # the protobuf runtime's own checks (ranges, UTF-8)
        raise DecodeError(f"invalid OTLP/JSON {name}: {error}") from None
    return message


# -- the envelope levels, read from the text one element at a time -----------------------------

_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _skip(text: str, index: int) -> int:
    return _WHITESPACE.match(text, index).end()  # type: ignore[union-attr] # always matches


def _read_object(message: Message, plan: _Plan, text: str, index: int, level: int) -> int:
    """Read the JSON object at ``text[index]`` into ``message``; the index after it.

    Repeated message fields are read element by element straight into the message; every other
    value is parsed by the standard library's scanner and converted when the object ends (its
    keys may come in any order).
    """
    if not text.startswith("{", index):
        value, _ = _DECODER.raw_decode(text, index)
        raise _Invalid(f"expected an object, not {_json_type(value)}")
    others: dict[str, Any] = {}
    index = _skip(text, index + 1)
    if text.startswith("}", index):
        return index + 1
    while True:
        if not text.startswith('"', index):
            raise json.JSONDecodeError(
                "Expecting property name enclosed in double quotes", text, index
            )
        key, index = _DECODER.raw_decode(text, index)  # a string: it starts with a quote
        index = _skip(text, index)
        if not text.startswith(":", index):
            raise json.JSONDecodeError("Expecting ':' delimiter", text, index)
        index = _skip(text, index + 1)
        entry = plan.get(key)
        if entry is not None and entry[1] == _REPEATED_MESSAGE and text.startswith("[", index):
            container = getattr(message, entry[0])
            try:
                index = _read_elements(container, entry[2], text, index, level + 1)
            except _Invalid as error:
                raise error.within(key) from None
        else:
            others[key], index = _DECODER.raw_decode(text, index)
        index = _skip(text, index)
        if text.startswith(",", index):
            index = _skip(text, index + 1)
        elif text.startswith("}", index):
            break
        else:
            raise json.JSONDecodeError("Expecting ',' delimiter", text, index)
    arguments = _convert_message(plan, others)
    if arguments:
        message.MergeFrom(type(message)(**arguments))
    return index + 1


def _read_elements(container: Any, plan: _Plan, text: str, index: int, level: int) -> int:
    """Add each element of the JSON array at ``text[index]`` to ``container``; the index after."""
    index = _skip(text, index + 1)
    if text.startswith("]", index):
        return index + 1
    position = 0
    while True:
        try:
            if level < _ENVELOPE_LEVELS:
                index = _read_object(container.add(), plan, text, index, level)
            else:  # a span, log record or metric: parsed and converted on its own
                element, index = _DECODER.raw_decode(text, index)
                container.add(**_convert_message(plan, element))
        except _Invalid as error:
            raise error.within(f"[{position}]") from None
        position += 1
        index = _skip(text, index)
        if text.startswith(",", index):
            index = _skip(text, index + 1)
        elif text.startswith("]", index):
            return index + 1
        else:
            raise json.JSONDecodeError("Expecting ',' delimiter", text, index)


class _Invalid(ValueError):
    def __init__(self, reason: str, path: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path

    def within(self, key: str) -> _Invalid:
        if not self.path:
            return _Invalid(self.reason, key)
        separator = "" if self.path.startswith("[") else "."
        return _Invalid(self.reason, f"{key}{separator}{self.path}")


# How a field's JSON value becomes a constructor argument (the middle of a plan entry).
_SCALAR = 0  # through the entry's converter
_STRING = 1  # as is, once checked to be a string (the most common value by far)
_MESSAGE = 2  # a nested message: the entry holds that message's plan
_REPEATED_MESSAGE = 3
_REPEATED_SCALAR = 4

#: Complete plans by message name, filled on first use. A plan is published only once it and
#: every plan it refers to are complete, so a thread never sees a half-built one.
_PLANS: dict[str, _Plan] = {}
_PLANS_LOCK = threading.Lock()


def _plan(descriptor: Descriptor) -> _Plan:
    """JSON key (camelCase and proto name) -> (proto field name, how, converter or plan)."""
    plan = _PLANS.get(descriptor.full_name)
    if plan is None:
        with _PLANS_LOCK:
            plan = _PLANS.get(descriptor.full_name)
            if plan is None:
                building: dict[str, _Plan] = {}
                plan = _build_plan(descriptor, building)
                _PLANS.update(building)
    return plan


def _build_plan(descriptor: Descriptor, building: dict[str, _Plan]) -> _Plan:
    plan = _PLANS.get(descriptor.full_name) or building.get(descriptor.full_name)
    if plan is None:
        plan = {}
        building[descriptor.full_name] = plan  # registered before it is filled: AnyValue recurses
        for field in descriptor.fields:
            entry = (field.name, *_field_conversion(field, building))
            plan[field.json_name] = entry
            plan[field.name] = entry
    return plan


def _field_conversion(field: FieldDescriptor, building: dict[str, _Plan]) -> tuple[int, Any]:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        sub_plan = _build_plan(field.message_type, building)
        return (_REPEATED_MESSAGE if field.is_repeated else _MESSAGE), sub_plan
    convert: _Convert
    if field.type == FieldDescriptor.TYPE_BYTES and field.name in _HEX_ID_FIELDS:
        convert = _hex_bytes
    elif field.type == FieldDescriptor.TYPE_STRING and not field.is_repeated:
        return _STRING, None
    else:
        convert = _SCALARS.get(field.type) or _enum_converter(field)
    return (_REPEATED_SCALAR if field.is_repeated else _SCALAR), convert


def _convert_message(plan: _Plan, value: Any) -> dict[str, Any]:
    """A JSON object as constructor arguments; the hot loop of OTLP/JSON decoding."""
    if type(value) is not dict:
        raise _Invalid(f"expected an object, not {_json_type(value)}")
    arguments: dict[str, Any] = {}
    for key, item in value.items():
        entry = plan.get(key)
        if entry is None or item is None:
            continue  # unknown fields are ignored; null means "not set"
        name, how, arg = entry
        try:
            if how == _STRING:
                if type(item) is not str:
                    raise _Invalid(f"expected a string, not {_json_type(item)}")
                arguments[name] = item
            elif how == _MESSAGE:
                arguments[name] = _convert_message(arg, item)
            elif how == _REPEATED_MESSAGE:
                if type(item) is not list:
                    raise _Invalid(f"expected an array, not {_json_type(item)}")
                try:
                    arguments[name] = [_convert_message(arg, element) for element in item]
                except _Invalid:
                    raise _locate(item, functools.partial(_convert_message, arg)) from None
            elif how == _SCALAR:
                converted = arg(item)
                if converted is not _SKIP:
                    arguments[name] = converted
            else:
                if type(item) is not list:
                    raise _Invalid(f"expected an array, not {_json_type(item)}")
                try:
                    converted_items = [arg(element) for element in item]
                except _Invalid:
                    raise _locate(item, arg) from None
                arguments[name] = [element for element in converted_items if element is not _SKIP]
        except _Invalid as error:
            raise error.within(key) from None
    return arguments


def _int_literal(text: str) -> int:
    if len(text) > _MAX_NUMBER_LENGTH:
        raise _Invalid(f"a number of {len(text)} characters is too long")
    return int(text)


def _float_literal(text: str) -> float:
    if len(text) > _MAX_NUMBER_LENGTH:
        raise _Invalid(f"a number of {len(text)} characters is too long")
    value = float(text)
    if not math.isfinite(value):
        raise _Invalid(f"the number {_shown(text)} is out of range")
    return value


def _constant(text: str) -> Any:
    raise _Invalid(f"{text} is not JSON (write it as the string {json.dumps(text)})")


#: The standard library's scanner, with the number checks above; it parses every value but the
#: envelope levels.
_DECODER = json.JSONDecoder(
    parse_int=_int_literal, parse_float=_float_literal, parse_constant=_constant
)


def _locate(items: list[Any], convert: _Convert) -> _Invalid:
    """The error of the first element that fails, with its index (only on the error path)."""
    for index, element in enumerate(items):
        try:
            convert(element)
        except _Invalid as error:
            return error.within(f"[{index}]")
    return _Invalid("invalid array")  # pragma: no cover - called only after an element failed


def _enum_converter(field: FieldDescriptor) -> _Convert:
    if field.enum_type is None:  # pragma: no cover - every other type has a converter
        raise TypeError(f"no OTLP/JSON converter for field {field.full_name}")
    numbers = {value.name: value.number for value in field.enum_type.values}

    def convert(value: Any) -> Any:
        if type(value) is int:
            return value
        if type(value) is str:
            return numbers.get(value, _SKIP)  # an unknown name is ignored, like unknown fields
        raise _Invalid(f"expected an enum number or name, not {_json_type(value)}")

    return convert


def _string(value: Any) -> str:
    if type(value) is str:
        return value
    raise _Invalid(f"expected a string, not {_json_type(value)}")


def _bool(value: Any) -> bool:
    if type(value) is bool:
        return value
    raise _Invalid(f"expected true or false, not {_json_type(value)}")


def _integer(value: Any) -> int:
    if type(value) is int:
        return value
    if type(value) is str and len(value) <= _MAX_NUMBER_LENGTH and _INTEGER.fullmatch(value):
        return int(value)
    if type(value) is float and value.is_integer():
        return int(value)
    raise _Invalid(f"expected an integer, not {_json_type(value)} {_shown(value)}")


def _double(value: Any) -> float:
    if type(value) is float or type(value) is int:
        return float(value)
    if type(value) is str:
        special = _SPECIAL_DOUBLES.get(value)
        if special is not None:
            return special
        if len(value) <= _MAX_NUMBER_LENGTH and _NUMBER.fullmatch(value):
            return float(value)
    raise _Invalid(f"expected a number, not {_json_type(value)} {_shown(value)}")


def _base64_bytes(value: Any) -> bytes:
    if type(value) is not str:
        raise _Invalid(f"expected a base64 string, not {_json_type(value)}")
    text = value.replace("-", "+").replace("_", "/")  # URL-safe alphabet accepted too
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise _Invalid(f"not a base64 string: {_shown(value)}") from None


def _hex_bytes(value: Any) -> bytes:
    if type(value) is not str:
        raise _Invalid(f"must be a hex string, not {_json_type(value)}")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise _Invalid(f"not a hex string: {_shown(value)}") from None
    if len(raw) * 2 != len(value):  # bytes.fromhex skips whitespace; an id has none
        raise _Invalid(f"not a hex string: {_shown(value)}")
    return raw


_SCALARS: dict[int, _Convert] = {
    FieldDescriptor.TYPE_STRING: _string,
    FieldDescriptor.TYPE_BOOL: _bool,
    FieldDescriptor.TYPE_BYTES: _base64_bytes,
    FieldDescriptor.TYPE_DOUBLE: _double,
    FieldDescriptor.TYPE_FLOAT: _double,
    **dict.fromkeys(
        (
            FieldDescriptor.TYPE_INT32,
            FieldDescriptor.TYPE_INT64,
            FieldDescriptor.TYPE_UINT32,
            FieldDescriptor.TYPE_UINT64,
            FieldDescriptor.TYPE_SINT32,
            FieldDescriptor.TYPE_SINT64,
            FieldDescriptor.TYPE_FIXED32,
            FieldDescriptor.TYPE_FIXED64,
            FieldDescriptor.TYPE_SFIXED32,
            FieldDescriptor.TYPE_SFIXED64,
        ),
        _integer,
    ),
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
