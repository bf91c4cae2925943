"""Undo ``Content-Encoding`` without ever holding more than the size cap in memory."""

from __future__ import annotations

import zlib

from collector_receiver.otlp._errors import DecodeError, RequestTooLarge, UnsupportedMediaType

# wbits=31: a gzip header and trailer (with its CRC check) around raw deflate.
_GZIP_WBITS = 31
_GZIP_NAMES = frozenset({"gzip", "x-gzip"})
_IDENTITY_NAMES = frozenset({"", "identity"})


def inflate(body: bytes, content_encoding: str | None, max_bytes: int) -> bytes:
    """The body with its content encoding removed.

    ``gzip`` (also ``x-gzip``, several concatenated members allowed) is inflated in a stream
    whose every step is bounded by what is left of ``max_bytes``, so a gzip bomb stops at the cap
    with :class:`RequestTooLarge` instead of filling memory. ``identity`` or no encoding passes the
    body through (still checked against the cap). Any other encoding raises
    :class:`UnsupportedMediaType`; a corrupt or truncated gzip stream raises :class:`DecodeError`.
    """
    encoding = (content_encoding or "").strip().lower()
    if encoding in _IDENTITY_NAMES:
        if len(body) > max_bytes:
            raise RequestTooLarge(f"request body is {len(body)} bytes, the limit is {max_bytes}")
        return body
    if encoding not in _GZIP_NAMES:
        raise UnsupportedMediaType(
            f"content encoding {encoding!r} is not supported (use gzip or identity)"
        )
    return _gunzip(body, max_bytes)


def _gunzip(body: bytes, max_bytes: int) -> bytes:
    if not body:
        raise DecodeError("gzip body is empty")
    out = bytearray()
    pending = body
    while pending:
        inflater = zlib.decompressobj(wbits=_GZIP_WBITS)
        room = max_bytes - len(out)
        try:
            # At most one byte more than the room left: if zlib stops there the body is over the
            # cap and nothing more is inflated; if it stops short, it consumed all its input.
            out += inflater.decompress(pending, room + 1)
        except zlib.error as error:
            raise DecodeError(f"gzip body is corrupt: {error}") from None
        if len(out) > max_bytes:
            raise RequestTooLarge(f"request body inflates past the limit of {max_bytes} bytes")
        if not inflater.eof:
            raise DecodeError("gzip body is truncated")
        # RFC 1952 allows several members one after another; each is a complete gzip stream.
        pending = inflater.unused_data
        if not pending.strip(b"\x00"):
            break  # zero padding after the last member, as gzip(1) tolerates
    return bytes(out)
