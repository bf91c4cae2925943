"""What argparse itself refuses (an unknown command, a choice, a missing value) is one line too.

The same ``failcat <command>: <reason>`` line and exit status 2 as a value a converter refuses,
with no usage block and no traceback; ``--help`` still prints the help and exits 0.
"""

from __future__ import annotations

import pytest

from collector_receiver.cli import main


@pytest.mark.parametrize(
    ("argv", "line_start", "names"),
    [
        (["bogus"], "failcat: COMMAND: invalid choice: ", "bogus"),
        ([], "failcat: the following arguments are required: ", "COMMAND"),
        (["traffic", "--protocol", "ftp"], "failcat traffic: --protocol: invalid choice: ", "ftp"),
        (["db"], "failcat db: the following arguments are required: ", "ACTION"),
        (["aggregate", "--window"], "failcat aggregate: --window: ", "expected one argument"),
        (["db", "upgrade", "--bogus"], "failcat: unrecognized arguments: ", "--bogus"),
    ],
)
def test_argparse_refusals_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], line_start: str, names: str
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(line_start), captured.err
    assert names in captured.err
    assert captured.err.count("\n") == 1
    assert "usage:" not in captured.err


def test_a_nested_command_is_named_like_its_handler_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["catalog", "match", "--attr"]) == 2
    assert capsys.readouterr().err.startswith("failcat catalog: --attr: ")


def test_help_still_prints_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["aggregate", "--help"])
    assert exited.value.code == 0
    assert "--window" in capsys.readouterr().out
