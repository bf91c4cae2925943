"""A reader that stops early (`failcat ... | head`) gets no traceback from failcat."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FAILCAT = Path(sys.executable).with_name("failcat")


def test_closed_stdout_ends_quietly() -> None:
    proc = subprocess.Popen(
        [str(FAILCAT), "catalog", "list", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.read(10)
    proc.stdout.close()  # like `head -c 10`
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=30) == 141
    assert first.startswith(b"[")
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr
