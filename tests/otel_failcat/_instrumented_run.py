"""Running an agent script as a user does: ``opentelemetry-instrument python agent.py``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

OPENTELEMETRY_INSTRUMENT = Path(sys.executable).with_name("opentelemetry-instrument")

#: The opening lines of an agent script that, with ``AGENT_EXIT_WITHOUT_ATEXIT`` set, ends the
#: process with ``os._exit`` right after the hook chain: no atexit handlers, so no SDK shutdown
#: flush, and only otel_failcat's own flush in ``sys.excepthook`` can deliver.
EXIT_WITHOUT_ATEXIT = textwrap.dedent(
    """
    import os as _os, sys as _sys

    if _os.environ.get("AGENT_EXIT_WITHOUT_ATEXIT"):
        _chained = _sys.excepthook
        def _last_words(*args):
            _chained(*args)
            _sys.stderr.flush()
            _os._exit(1)
        _sys.excepthook = _last_words
    """
)


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
