"""SIGHUP reloads the catalog in a worker thread: while a large catalog is parsed and compiled,
the listeners keep answering; a file over the size cap is refused and the old catalog stays."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector_receiver.catalog import MAX_CATALOG_BYTES
from tests.e2e._receiver import ReceiverProcess, http_get, running_receiver

pytestmark = pytest.mark.slow

#: Entries in the large catalog: about 1.5 MB of YAML, a few seconds to load on this machine.
_LARGE_ENTRIES = 10_000


def _catalog(version: str, entries: int) -> str:
    lines = ["version: 2", f'catalog_version: "{version}"', "entries:"]
    for index in range(entries):
        lines += [
            f"  - code: ACME_TOOL_{index}",
            f"    title: The acme tool {index} failed",
            "    category: tool",
            "    severity: low",
            "    match:",
            f"      exception_types: [acme.tools.Error{index}]",
        ]
    return "\n".join(lines) + "\n"


@pytest.fixture()
def catalog_file(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(_catalog("small", 1))
    return path


@pytest.fixture()
def receiver(tmp_path: Path, catalog_file: Path) -> Iterator[ReceiverProcess]:
    with running_receiver(
        f"sqlite:///{tmp_path / 'failcat.db'}",
        tmp_path / "receiver.log",
        extra_args=["--catalog", str(catalog_file)],
    ) as process:
        yield process


def _reloads(receiver: ReceiverProcess) -> int:
    return sum(e["event"] in ("catalog_reloaded", "catalog_refused") for e in receiver.log_events())


def test_listeners_answer_while_a_large_catalog_loads(
    receiver: ReceiverProcess, catalog_file: Path
) -> None:
    catalog_file.write_text(_catalog("large", _LARGE_ENTRIES))
    receiver.process.send_signal(signal.SIGHUP)
    answered_during_reload = 0
    # Health checks answered before the reload is logged were served while it ran; had it run
    # on the event loop, none would be (the first would wait for the whole load).
    while _reloads(receiver) == 0:
        assert http_get(f"{receiver.api_url}/healthz")[0] == 200
        if _reloads(receiver) == 0:
            answered_during_reload += 1
        assert receiver.alive()
    reloaded = receiver.wait_for_event("catalog_reloaded")
    assert reloaded["catalog_version"] == "large"
    assert reloaded["entries"] == _LARGE_ENTRIES
    assert answered_during_reload >= 3


def test_a_catalog_over_the_size_cap_is_refused_and_the_old_one_stays(
    receiver: ReceiverProcess, catalog_file: Path
) -> None:
    catalog_file.write_text(_catalog("huge", 1) + "#" * MAX_CATALOG_BYTES)
    receiver.process.send_signal(signal.SIGHUP)
    refused = receiver.wait_for_event("catalog_refused")
    assert "larger than the limit" in str(refused["reason"])
    assert refused["kept_catalog_version"] == "small"
    assert http_get(f"{receiver.api_url}/readyz")[0] == 200
