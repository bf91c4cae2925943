"""Content-Encoding: gzip inflated under a cap; identity passed through; others refused."""

from __future__ import annotations

import gzip
import zlib

import pytest

from collector_receiver.otlp import DecodeError, RequestTooLarge, UnsupportedMediaType, inflate

PAYLOAD = b"otlp payload " * 100


@pytest.mark.parametrize("encoding", [None, "", "identity", " IDENTITY "])
def test_identity_passes_through(encoding: str | None) -> None:
    assert inflate(PAYLOAD, encoding, 10_000) == PAYLOAD


def test_identity_over_the_cap_is_too_large() -> None:
    with pytest.raises(RequestTooLarge, match="limit is 10"):
        inflate(b"x" * 11, None, 10)


@pytest.mark.parametrize("encoding", ["gzip", "GZip", "x-gzip"])
def test_gzip_is_inflated(encoding: str) -> None:
    assert inflate(gzip.compress(PAYLOAD), encoding, 10_000) == PAYLOAD


def test_gzip_exactly_at_the_cap_is_accepted() -> None:
    assert inflate(gzip.compress(PAYLOAD), "gzip", len(PAYLOAD)) == PAYLOAD


def test_concatenated_gzip_members_are_all_inflated() -> None:
    body = gzip.compress(b"first ") + gzip.compress(b"second")

    assert inflate(body, "gzip", 100) == b"first second"


def test_gzip_bomb_stops_at_the_cap() -> None:
    # 16 MiB of zeros compress to ~16 KiB; the cap is 256 KiB.
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(compressor.compress(bytes(1 << 20)) for _ in range(16)) + compressor.flush()
    assert len(bomb) < 20_000

    with pytest.raises(RequestTooLarge, match="inflates past the limit of 262144 bytes"):
        inflate(bomb, "gzip", 1 << 18)


def test_second_member_over_the_cap_is_too_large() -> None:
    body = gzip.compress(b"a" * 60) + gzip.compress(b"b" * 60)

    with pytest.raises(RequestTooLarge):
        inflate(body, "gzip", 100)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not gzip at all", "gzip body is corrupt"),
        (gzip.compress(PAYLOAD)[:-12], "gzip body is truncated"),
        (b"", "gzip body is empty"),
    ],
)
def test_corrupt_gzip_is_a_decode_error(body: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason) as caught:
        inflate(body, "gzip", 10_000)
    assert not isinstance(caught.value, (RequestTooLarge, UnsupportedMediaType))
    assert "\n" not in str(caught.value)


def test_bad_crc_is_a_decode_error() -> None:
    body = bytearray(gzip.compress(PAYLOAD))
    body[-8] ^= 0xFF  # the CRC32 of the trailer

    with pytest.raises(DecodeError, match="corrupt"):
        inflate(bytes(body), "gzip", 10_000)


@pytest.mark.parametrize("encoding", ["br", "deflate", "zstd", "gzip, br"])
def test_other_encodings_are_unsupported(encoding: str) -> None:
    with pytest.raises(UnsupportedMediaType, match="content encoding"):
        inflate(PAYLOAD, encoding, 10_000)
