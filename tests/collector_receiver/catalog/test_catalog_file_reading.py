"""What ``load_catalog`` reads: only a regular file within the size cap, and nothing of a file
that is not a catalog ends up in the error (``failcat catalog validate /etc/shadow``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from collector_receiver.catalog import MAX_CATALOG_BYTES, CatalogError, load_catalog
from tests.collector_receiver.catalog._helpers import catalog_text, entry

SHADOW_LIKE = (
    "root:$6$Xq9FAKEsaltFAKEhashFAKE0123456789:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\n"
)


def _refusal(path: Path | str) -> str:
    with pytest.raises(CatalogError) as refused:
        load_catalog(path)
    message = str(refused.value)
    assert "\n" not in message
    return message


def test_a_device_is_refused_without_reading_it() -> None:
    # /dev/zero never ends: reading it "whole" would never return.
    assert _refusal("/dev/zero") == "/dev/zero: cannot read the file: not a regular file"


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "catalog.yaml"
    os.mkfifo(fifo)
    assert _refusal(fifo).endswith("not a regular file")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    assert _refusal(tmp_path).endswith("not a regular file")


def test_a_file_over_the_cap_is_refused_by_size(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    text = catalog_text(entry("ACME_FAILED", {"exception_types": ["acme.Error"]}))
    path.write_text(text + "#" * (MAX_CATALOG_BYTES - len(text) + 1))
    assert _refusal(path).endswith(f"larger than the limit of {MAX_CATALOG_BYTES} bytes")


def test_a_file_at_the_cap_is_read(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    text = catalog_text(entry("ACME_FAILED", {"exception_types": ["acme.Error"]}))
    path.write_text(text + "#" * (MAX_CATALOG_BYTES - len(text.encode())))
    assert path.stat().st_size == MAX_CATALOG_BYTES
    assert len(load_catalog(path).entries) == 1


@pytest.mark.parametrize(
    "content",
    [
        SHADOW_LIKE,  # parses as a one-key mapping
        "FAKEsecretFAKE first line of a foreign file\nsecond line\n",  # a plain string
        "FAKEsecretFAKE: 1\nother: FAKEsecretFAKE\n",  # a mapping without 'version'
        "- FAKEsecretFAKE\n- 2\n",  # a list
        "12345678901234567890\n",  # a number
    ],
)
def test_a_foreign_file_is_not_quoted(tmp_path: Path, content: str) -> None:
    path = tmp_path / "not-a-catalog"
    path.write_text(content)
    message = _refusal(path).removeprefix(f"{path}: ")
    assert message.startswith("not a failcat catalog")
    for line in content.splitlines():
        for word in line.replace(":", " ").replace("-", " ").split():
            if len(word) >= 6:
                assert word not in message, message


def test_a_catalog_with_a_version_is_still_quoted_in_its_errors(tmp_path: Path) -> None:
    # Once it is recognisably a catalog, naming the offending key is what helps its author.
    path = tmp_path / "catalog.yaml"
    path.write_text('version: 2\ncatalog_version: "1"\nentries: []\nentrys: []\n')
    assert "unknown top-level key 'entrys'" in _refusal(path)
