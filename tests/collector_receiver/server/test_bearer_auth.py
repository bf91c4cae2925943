"""Bearer-token checks shared by the OTLP/HTTP, gRPC and API listeners."""

from __future__ import annotations

import pytest

from collector_receiver.server._auth import authorized, grpc_authorized


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer s3cret", True),
        ("bearer   s3cret ", True),
        ("Bearer s3cre", False),
        ("Bearer s3cretX", False),
        ("Basic s3cret", False),
        ("s3cret", False),
        ("", False),
        (None, False),
    ],
)
def test_http_authorization_header(header: str | None, expected: bool) -> None:
    assert authorized(header, "s3cret") is expected


def test_grpc_metadata_takes_str_or_bytes_values() -> None:
    assert grpc_authorized([("authorization", "Bearer s3cret")], "s3cret")
    assert grpc_authorized([("x-other", "1"), ("authorization", b"Bearer s3cret")], "s3cret")
    assert not grpc_authorized([("authorization", "Bearer nope")], "s3cret")
    assert not grpc_authorized([], "s3cret")
    assert not grpc_authorized(None, "s3cret")
