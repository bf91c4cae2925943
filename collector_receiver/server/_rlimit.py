"""The receiver's open-file limit, raised to what the system allows (CONTRACT §4 r2).

Every connection holds a file descriptor. Under the common soft limit of 1024, about a thousand
idle sockets would leave no descriptor for the next ``accept`` (nor for the database), and every
listener would stop serving. Before the listeners start, the soft limit is raised to the hard
limit (a process may do that without privileges); the receiver's ``started`` log line carries
the limit it runs with. A limit that cannot be raised is no reason not to serve: the receiver
starts anyway and logs why.
"""

from __future__ import annotations

from dataclasses import dataclass

try:
    import resource
except ImportError:  # pragma: no cover - not on POSIX: nothing to raise
    resource = None  # type: ignore[assignment]


@dataclass(frozen=True)
class OpenFileLimit:
    """The soft limit in force after :func:`raise_open_file_limit` (None: unknown or none)."""

    soft: int | None
    #: The soft limit before, when it was raised.
    raised_from: int | None = None
    #: Why it could not be raised, when it could not.
    problem: str | None = None


def raise_open_file_limit() -> OpenFileLimit:
    """Raise the soft ``RLIMIT_NOFILE`` to the hard one; never raises."""
    if resource is None:  # pragma: no cover
        return OpenFileLimit(None)
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError) as exc:
        return OpenFileLimit(None, problem=str(exc))
    unlimited = resource.RLIM_INFINITY
    if soft == hard or hard == unlimited:
        # "Unlimited" is refused as a soft limit by some kernels (macOS): leave it be.
        return OpenFileLimit(None if soft == unlimited else soft)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (OSError, ValueError) as exc:
        return OpenFileLimit(soft, problem=str(exc))
    return OpenFileLimit(hard, raised_from=soft)


__all__ = ["OpenFileLimit", "raise_open_file_limit"]
