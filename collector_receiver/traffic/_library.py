"""Stand-ins for the exception classes of agent libraries, raised from library-looking frames.

The synthetic agents must report failures the way real ones do, without installing OpenAI,
Anthropic, LangChain and the rest. Two things make a failure look real to the receiver:

- **the type name**: :func:`library_error` builds a small class whose ``__module__`` and
  ``__qualname__`` are the library's (``openai.RateLimitError``), so ``exception.type`` and
  ``failcat.cause_types`` carry the names the default catalog knows;
- **the stacktrace**: :func:`library_function` raises the error from a chain of functions compiled
  under a file name inside a virtual environment's ``site-packages`` (``openai/_base_client.py``),
  with their source registered in :mod:`linecache`, so the traceback is a genuine Python traceback
  that shows library frames with code lines. The fingerprint leaves those frames out, as it does
  for real library frames, and keeps the agent's own (in-app) frames.
"""

from __future__ import annotations

import linecache
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

#: Where the library frames claim to live: a typical virtual environment of an agent container.
SITE_PACKAGES = "/app/.venv/lib/python3.12/site-packages/"

_compile_lock = threading.Lock()
_compiled: dict[tuple[str, tuple[str, ...]], Callable[..., NoReturn]] = {}
_file_lines: dict[str, list[str]] = {}


def library_error(
    module: str, qualname: str, base: type[BaseException] = Exception
) -> type[Exception]:
    """A new exception class reported as ``module.qualname`` (e.g. ``openai.RateLimitError``)."""
    name = qualname.rsplit(".", 1)[-1]
    cls = type(name, (base,), {"__module__": module, "__qualname__": qualname})
    return cls


@dataclass(frozen=True)
class LibraryPath:
    """A call path inside a library: ``file`` under site-packages, outermost function first."""

    file: str
    functions: tuple[str, ...]


def library_function(path: LibraryPath) -> Callable[..., NoReturn]:
    """The outermost function of ``path``: call it as ``f(error)`` or ``f(error, cause)``.

    It raises ``error`` (``from cause`` when given) at the bottom of the path. The caller calls
    it directly, so the traceback goes from the caller's frame straight into library frames.
    """
    key = (path.file, path.functions)
    found = _compiled.get(key)
    if found is None:
        with _compile_lock:
            found = _compiled.get(key)
            if found is None:
                found = _compile(path)
                _compiled[key] = found
    filename = SITE_PACKAGES + path.file
    if filename not in linecache.cache:  # someone called linecache.clearcache()
        _register_lines(filename)
    return found


def _register_lines(filename: str) -> None:
    lines = _file_lines.get(filename, [])
    # mtime None: linecache.checkcache never drops the entry, so tracebacks show the lines.
    linecache.cache[filename] = (sum(map(len, lines)), None, list(lines), filename)


def _compile(path: LibraryPath) -> Callable[..., NoReturn]:
    filename = SITE_PACKAGES + path.file
    lines: list[str] = []
    functions = path.functions
    for index, function in enumerate(functions):
        lines.append(f"def {function}(error, cause=None):\n")
        if index + 1 < len(functions):
            lines.append(f"    return {functions[index + 1]}(error, cause)\n")
        else:
            lines.append("    if cause is None:\n")
            lines.append("        raise error\n")
            lines.append("    raise error from cause\n")
        lines.append("\n")
    # Several paths may live in one file: each is appended below the ones compiled before, so
    # every traceback line number points at its own code in the file's one linecache entry.
    earlier = _file_lines.setdefault(filename, [])
    source = "\n" * len(earlier) + "".join(lines)
    namespace: dict[str, object] = {"__name__": path.file.removesuffix(".py").replace("/", ".")}
    exec(compile(source, filename, "exec"), namespace)
    earlier.extend(lines)
    _register_lines(filename)
    entry: Callable[..., NoReturn] = namespace[functions[0]]  # type: ignore[assignment]
    return entry
