"""Running the Node.js agents of ``tests/conformance/node`` as a user runs them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

#: The npm project with the scenarios; ``FAILCAT_NODE_CONFORMANCE_DIR`` points at another copy
#: (``make test-conformance-latest`` installs the newest releases there).
NODE_DIR = Path(os.environ.get("FAILCAT_NODE_CONFORMANCE_DIR") or Path(__file__).with_name("node"))


def node() -> str:
    """The ``node`` executable; RuntimeError when it or the npm packages are missing."""
    found = shutil.which("node")
    if found is None:
        raise RuntimeError("the Node.js conformance suite needs `node` (Node.js 20 or newer)")
    if not (NODE_DIR / "node_modules").is_dir():
        raise RuntimeError(
            f"{NODE_DIR} has no node_modules: run `npm ci` there (`make test` does it)"
        )
    return found


def agent_environment(otlp_http: str) -> dict[str, str]:
    """This process's environment for an agent exporting to ``otlp_http``: a developer's
    provider keys, base URLs, proxies or OTEL_ settings must not change what the libraries
    raise or where spans go; the scenarios set what they need."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(("OTEL_", "OPENAI_", "ANTHROPIC_"))
        and not k.upper().endswith("_PROXY")
    }
    environ["FAILCAT_OTLP_HTTP"] = otlp_http
    return environ
