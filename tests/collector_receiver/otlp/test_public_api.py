"""The names other areas import from the OTLP edge stay put."""

from __future__ import annotations

import collector_receiver.otlp as otlp


def test_public_names_are_pinned() -> None:
    assert sorted(otlp.__all__) == sorted(
        [
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
    )


def test_error_hierarchy_maps_to_status_codes() -> None:
    assert issubclass(otlp.DecodeError, ValueError)
    assert issubclass(otlp.UnsupportedMediaType, otlp.DecodeError)
    assert issubclass(otlp.RequestTooLarge, otlp.DecodeError)
    assert not issubclass(otlp.RequestTooLarge, otlp.UnsupportedMediaType)
