"""The hooks ``FailcatInstrumentor`` installs, one small module each.

Every hook follows the same rules (learned from sentry-python's integrations):

- ``install()`` remembers exactly what it replaces; installing twice is a no-op.
- At call time it checks whether it is still active, records through the shared
  :class:`~otel_failcat._recorder.FailureRecorder`, and then always chains to what it replaced,
  so the user still sees the traceback and other tools still run.
- Its own failures never escape (they go to :mod:`otel_failcat._internal_errors`).
- ``uninstall()`` puts back the very object it replaced. If someone else has since wrapped the
  hook, it cannot be unhooked without breaking them, so it stays in their chain as an inactive
  pass-through. (:class:`~otel_failcat.hooks._patch.AttributePatch` implements this once for
  every hook that replaces an attribute.)
"""

from __future__ import annotations

from typing import Protocol


class Hook(Protocol):
    """What the instrumentor needs from each hook."""

    name: str

    def install(self) -> None: ...

    def uninstall(self) -> None: ...
