"""Running an agent script as a user does: ``opentelemetry-instrument python agent.py``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

OPENTELEMETRY_INSTRUMENT = Path(sys.executable).with_name("opentelemetry-instrument")


def run_instrumented(
    directory: Path, source: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Write ``source`` to ``directory/agent.py`` and run it under ``opentelemetry-instrument``,
    with this process's environment plus ``env``; output captured as text, a minute at most."""
    script = directory / "agent.py"
    script.write_text(source)
    return subprocess.run(
        [str(OPENTELEMETRY_INSTRUMENT), sys.executable, str(script)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
