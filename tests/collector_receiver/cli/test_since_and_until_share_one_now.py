"""``--since`` and ``--until`` given as durations count back from one moment.

``--since 1h --until 1h`` is therefore an empty range and refused, instead of a sliver of the
microseconds between reading the two flags.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from collector_receiver.cli import main


def test_equal_durations_are_an_empty_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'never-opened.db'}"
    assert main(["failures", "--db", url, "--since", "1h", "--until", "1h"]) == 2
    assert capsys.readouterr().err == "failcat failures: --until: must be later than --since\n"
    assert not (tmp_path / "never-opened.db").exists()
