"""The reserve of file descriptors the instrumentor holds for a process that runs out of them."""

from __future__ import annotations

import atexit
import os
import resource
from collections.abc import Iterator

import pytest

from otel_failcat import FailcatInstrumentor
from otel_failcat._reserve import RESERVED_DESCRIPTORS, DescriptorReserve


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_it_holds_its_count_frees_them_and_takes_them_again() -> None:
    before = _open_descriptors()
    reserve = DescriptorReserve(3)
    reserve.acquire()
    assert reserve.held == 3
    assert _open_descriptors() == before + 3
    with reserve.released():
        assert reserve.held == 0
        assert _open_descriptors() == before
    assert reserve.held == 3
    reserve.release()
    reserve.release()  # idempotent
    assert _open_descriptors() == before


@pytest.fixture
def few_descriptors() -> Iterator[int]:
    """A soft limit only a few above what is open now, restored after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    room = 2
    resource.setrlimit(resource.RLIMIT_NOFILE, (_open_descriptors() + room, hard))
    try:
        yield room
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_process_short_of_descriptors_keeps_what_it_got(few_descriptors: int) -> None:
    reserve = DescriptorReserve(few_descriptors + 50)
    reserve.acquire()  # no error: best effort, up to the limit
    try:
        assert 0 < reserve.held < few_descriptors + 50
        with pytest.raises(OSError, match="Too many open files"):
            os.close(os.open(os.devnull, os.O_RDONLY))
    finally:
        reserve.release()


def test_the_instrumentor_holds_the_reserve_until_uninstrumented(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # atexit keeps no count of its handlers that unregister lowers, so the calls are watched.
    registered: list[object] = []
    monkeypatch.setattr(atexit, "register", registered.append)
    monkeypatch.setattr(atexit, "unregister", registered.remove)
    descriptors = _open_descriptors()
    instrumentor = FailcatInstrumentor()
    instrumentor.instrument()
    try:
        assert _open_descriptors() == descriptors + RESERVED_DESCRIPTORS
        [release] = registered  # frees them at exit, before the SDK's shutdown
        assert getattr(release, "__name__", "") == "release"
    finally:
        instrumentor.uninstrument()
    assert (_open_descriptors(), registered) == (descriptors, [])
