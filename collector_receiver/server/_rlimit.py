"""The receiver's open-file limit, raised to what the system allows (CONTRACT §4 r2).

Every connection holds a file descriptor. Under the common soft limit of 1024, about a thousand
idle sockets would leave no descriptor for the next ``accept`` (nor for the database), and every
listener would stop serving. At start the soft limit is raised to the hard limit (a process may
do that without privileges) and the outcome logged as ``open_file_limit``. A limit that cannot
be raised is logged too and the receiver starts anyway: a lower limit is no reason not to serve.
"""

from __future__ import annotations

import logging

from collector_receiver.server._logging import log_event

try:
    import resource
except ImportError:  # pragma: no cover - not on POSIX: nothing to raise
    resource = None  # type: ignore[assignment]


def raise_open_file_limit() -> int | None:
    """Raise the soft ``RLIMIT_NOFILE`` to the hard one; the soft limit now, None if unknown."""
    if resource is None:  # pragma: no cover
        return None
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError) as exc:
        log_event("open_file_limit", logging.WARNING, raised=False, reason=str(exc))
        return None
    if hard == resource.RLIM_INFINITY or soft == hard:
        # "Unlimited" is refused as a soft limit by some kernels (macOS); leave it be.
        log_event("open_file_limit", soft=_shown(soft), hard=_shown(hard), raised=False)
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (OSError, ValueError) as exc:
        log_event(
            "open_file_limit",
            logging.WARNING,
            soft=_shown(soft),
            hard=_shown(hard),
            raised=False,
            reason=str(exc),
        )
        return soft
    log_event("open_file_limit", soft=hard, hard=hard, raised=True, was=soft)
    return hard


def _shown(limit: int) -> int | str:
    return "unlimited" if resource is not None and limit == resource.RLIM_INFINITY else limit


__all__ = ["raise_open_file_limit"]
