"""The conformance harness itself: a library that is not installed is a skip that names it, and a
scenario that does not raise or that crashes is a failure that says why, never a silent pass."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conformance.python._runs import rows_of_trace, run_library
from tests.e2e._receiver import ReceiverProcess, running_receiver

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReceiverProcess]:
    directory: Path = tmp_path_factory.mktemp("harness")
    with running_receiver(f"sqlite:///{directory / 'failcat.db'}", directory / "r.log") as r:
        yield r


def test_a_missing_library_is_a_skip_naming_it_and_the_extra(receiver: ReceiverProcess) -> None:
    run = run_library(receiver, "openai_sdk", ("no_such_library_xyz",))
    assert run.skipped is not None
    assert "no_such_library_xyz" in run.skipped and "[conformance]" in run.skipped
    assert run.traces == {}


def test_a_case_that_does_not_raise_is_reported(receiver: ReceiverProcess, tmp_path: Path) -> None:
    (tmp_path / "quiet.py").write_text(
        textwrap.dedent(
            """
            from _scenario import report, run

            def fails() -> None:
                raise KeyError("missing")

            run("quiet", lambda: None)
            run("quiet_thread", lambda: None, via="thread")
            run("loud", fails)
            report()
            """
        )
    )
    run = run_library(receiver, "quiet", (), tmp_path)
    assert run.failed is None, run.failed
    assert set(run.errors) == {"quiet", "quiet_thread"}
    assert "returned without raising" in run.errors["quiet"]
    # The case that did raise is stored once, an ordinary bug: UNCATALOGED.
    [row] = rows_of_trace(receiver, run.traces["loud"])
    assert (row["exception_type"], row["code"]) == ("KeyError", "UNCATALOGED")


def test_a_crashing_script_fails_with_its_stderr(receiver: ReceiverProcess, tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import _scenario\nraise SystemExit('scenario broke')\n")
    run = run_library(receiver, "broken", (), tmp_path)
    assert run.failed is not None
    assert "no report" in run.failed and "scenario broke" in run.failed
