"""``failcat`` installed without the ``receiver`` extra says what to install, in one line.

``pip install otel-failcat`` (the agent side) installs the console script too, but not the
receiver's dependencies. Each case runs in a fresh interpreter where one module is made
unimportable (``sys.modules[name] = None``), the way a missing distribution looks to ``import``.
tests/test_packaging.py checks the same in a real agent-only install.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

_RUN_WITHOUT = """
import sys
sys.modules[sys.argv[1]] = None
from collector_receiver.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _failcat_without(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _RUN_WITHOUT, module, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("re2", ("catalog", "validate")),
        ("sqlalchemy", ("db", "upgrade", "--db", "sqlite://")),
    ],
)
def test_a_missing_receiver_dependency_is_one_line_naming_the_extra(
    module: str, args: tuple[str, ...]
) -> None:
    result = _failcat_without(module, *args)

    assert result.returncode == 2
    assert result.stderr == (
        f"failcat: {module} is not installed; "
        "install the receiver with: pip install 'otel-failcat[receiver]'\n"
    )


def test_a_missing_module_of_our_own_is_a_bug_and_not_hidden() -> None:
    result = _failcat_without("collector_receiver.catalog", "catalog", "validate")

    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "otel-failcat[receiver]" not in result.stderr
