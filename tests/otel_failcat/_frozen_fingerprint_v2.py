"""FROZEN copy of otel_failcat.fingerprint of the failcat.fp.v2 recipe, from before its speed-ups.

Kept only to prove that the package still gives byte-identical results
(test_template_and_fingerprint_equal_frozen_v2.py); never edit it to follow the package. fp.v2
changed only the template rules and the version part; the frames are read as in fp.v1.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable
from typing import NamedTuple

from tests.otel_failcat._frozen_normalize_v2 import message_template

__all__ = [
    "FINGERPRINT_MESSAGE_CHARS",
    "FINGERPRINT_VERSION",
    "compute_fingerprint",
    "in_app_frames",
]

#: First part of the hashed payload; bump when the recipe changes.
FINGERPRINT_VERSION = "failcat.fp.v2"

#: Characters of the message that enter the template used by the fingerprint.
FINGERPRINT_MESSAGE_CHARS = 1024

# Bounds the parsing work on hostile input; a redacted stacktrace is far shorter.
_MAX_STACKTRACE_INPUT = 262144
_MAX_LINE = 4096

_PY_FRAME = re.compile(
    r'^[ \t|]{0,64}File "(?P<file>[^"\n]{1,4096})", line \d+(?:, in (?P<func>.{1,512}))?',
    re.MULTILINE,
)
_PY_STDLIB = re.compile(
    r"(?:^|/)lib(?:64)?/(?:python|pypy)\d+(?:\.\d+)?[a-z]?/"
    # Windows installations: C:\Python311\Lib, ...\Python\Python312-32\Lib, Anaconda3\Lib
    r"|(?:^|/)(?:python\d+[^/]{0,16}|anaconda\d*|miniconda\d*|miniforge\d*)/lib/",
    re.IGNORECASE,
)
_PY_LIBRARY = re.compile(r"(?:^|/)(?:site|dist)-packages/", re.IGNORECASE)

_JAVA_FRAME = re.compile(r"^\s*at\s+(?P<frame>[\w$.<>/-]{1,1024})\((?P<loc>[^)\n]{0,1024})\)\s*$")
_JAVA_SYSTEM = ("java.", "javax.", "jdk.", "sun.", "com.sun.", "kotlin.", "scala.")

_JS_FRAME = re.compile(
    r"^\s*at\s+(?:async\s+)?(?:(?P<fn>[^\s()]{1,512}(?: \[as [^\]\n]{1,256}\])?)\s+\()?"
    r"(?P<loc>[^()\s]{1,4096}?)(?::\d+){1,2}\)?\s*$"
)

_GO_FILE = re.compile(r"^\s+(?P<file>\S{1,4096}\.go):\d+(?:\s+\+0x[0-9a-fA-F]+)?\s*$")
_GO_FUNC = re.compile(
    r"^(?:created by )?(?P<fn>[^\s(]{1,1024}(?:\([^\s)]{0,256}\)[^\s(]{0,1024})?)\("
)
_GO_FUNC_BARE = re.compile(r"^(?:created by )?(?P<fn>\S{1,1024}?)(?: in goroutine \d+)?\s*$")

_DIGITS = re.compile(r"\d+")
_JAVA_SYNTHETIC = re.compile(r"\$\d+|0x[0-9a-fA-F]+|/\d+")


class _Frame(NamedTuple):
    # A named tuple rather than a frozen dataclass: a stacktrace makes dozens of these, and a
    # tuple is several times cheaper to build and compare.
    name: str
    in_app: bool


def in_app_frames(stacktrace: str) -> tuple[str, ...]:
    """The stacktrace's in-app frames, outermost first, as machine-independent names.

    See the module docstring for what counts as in-app and how frames are named.
    """
    return tuple(frame.name for frame in _parse(stacktrace) if frame.in_app)


def compute_fingerprint(
    service_name: str, exception_type: str, message: str, stacktrace: str
) -> str:
    """The failure's fingerprint: 32 lowercase hex characters (recipe in the module docstring)."""
    names = _fingerprint_frames(stacktrace)
    parts = [
        FINGERPRINT_VERSION,
        service_name.strip(),
        exception_type.strip(),
        message_template(message[:FINGERPRINT_MESSAGE_CHARS]),
        str(len(names)),
        *names,
    ]
    digest = hashlib.sha256()
    for part in parts:
        encoded = part.encode("utf-8", "surrogatepass")
        digest.update(str(len(encoded)).encode("ascii") + b":" + encoded)
    return digest.hexdigest()[:32]


# Parsing is pure and stacktraces repeat (one code path fails again and again), so the frames of
# recent stacktraces are kept, keyed by the exact text. Only stacktraces of up to the default cap
# are cached, which bounds the memory held (at most 256 x 16 Ki characters, typically a few
# hundred kB; in the receiver the keys are the very strings it already keeps).
_FRAMES_CACHE_SIZE = 256
_MAX_CACHED_STACKTRACE = 16384


def _fingerprint_frames(stacktrace: str) -> tuple[str, ...]:
    """The frame names that enter the fingerprint: the in-app ones, else all that were kept."""
    # Exactly str: a subclass may define equality or hashing differently from its text.
    if type(stacktrace) is str and len(stacktrace) <= _MAX_CACHED_STACKTRACE:
        return _cached_fingerprint_frames(stacktrace)
    return _uncached_fingerprint_frames(stacktrace)


def _uncached_fingerprint_frames(stacktrace: str) -> tuple[str, ...]:
    frames = _parse(stacktrace)
    names = tuple(frame.name for frame in frames if frame.in_app)
    return names or tuple(frame.name for frame in frames)


_cached_fingerprint_frames = functools.lru_cache(maxsize=_FRAMES_CACHE_SIZE)(
    _uncached_fingerprint_frames
)


def _parse(stacktrace: str) -> list[_Frame]:
    """Frames of the first runtime whose format the stacktrace shows, duplicates collapsed.

    Standard-library frames are not returned at all; library frames are, marked not in-app.
    """
    text = stacktrace[:_MAX_STACKTRACE_INPUT]
    frames = list(_python_frames(text))
    if not frames:
        lines = [line[:_MAX_LINE] for line in text.splitlines()]
        for parser in (_java_frames, _js_frames, _go_frames):
            frames = list(parser(lines))
            if frames:
                break
    return _collapse(frame for frame in frames if frame is not None)


def _collapse(frames: Iterable[_Frame]) -> list[_Frame]:
    collapsed: list[_Frame] = []
    for frame in frames:
        if not collapsed or collapsed[-1] != frame:
            collapsed.append(frame)
    return collapsed


def _python_frames(text: str) -> Iterable[_Frame | None]:
    """Yield a frame per ``File`` line; ``None`` for recognised frames that never count."""
    for match in _PY_FRAME.finditer(text):
        file = _python_file(match["file"])
        if file is None:
            yield None
            continue
        # The last dotted part only: whether a Python version prints ``method`` or a qualified
        # ``Class.method`` / ``outer.<locals>.inner`` must not change the fingerprint.
        func = (match["func"] or "?").strip().rsplit(".", 1)[-1]
        yield _Frame(f"{file[0]}:{func}", file[1])


# The same few files make most frames of most stacktraces: their reading is kept (paths are at
# most 4096 characters, so the memory held stays bounded).
@functools.lru_cache(maxsize=512)
def _python_file(raw_path: str) -> tuple[str, bool] | None:
    """How a frame's file is named and whether it is in-app; None for frames that never count."""
    path = raw_path.replace("\\", "/")
    if path.startswith("<"):
        if path.startswith("<frozen"):
            return None
        return _DIGITS.sub("#", path), True
    # Cheap substring checks first: the regular expressions run only on paths that can match.
    lowered = path.lower()
    library = _PY_LIBRARY.search(path) if "-packages/" in lowered else None
    if library is not None:
        return path[library.end() :], False
    if "lib" in lowered and _PY_STDLIB.search(path) is not None:
        return None
    return _file_name(path), True


def _file_name(path: str) -> str:
    components = [part for part in path.split("/") if part]
    if not components:
        return path
    if len(components) >= 2 and components[-1] in ("__init__.py", "__main__.py"):
        return "/".join(components[-2:])
    return components[-1]


def _java_frames(lines: list[str]) -> Iterable[_Frame | None]:
    for line in lines:
        match = _JAVA_FRAME.match(line)
        if match is None:
            continue
        frame = match["frame"].rsplit("/", 1)[-1] if "/" in match["frame"] else match["frame"]
        frame = _JAVA_SYNTHETIC.sub("", frame)
        yield _Frame(frame, in_app=not frame.startswith(_JAVA_SYSTEM))


def _js_frames(lines: list[str]) -> Iterable[_Frame | None]:
    for line in lines:
        match = _JS_FRAME.match(line)
        if match is None:
            continue
        location = match["loc"]
        function = match["fn"] or "?"
        library = (
            "node_modules/" in location
            or location.startswith(("node:", "internal/"))
            or location == "<anonymous>"
        )
        yield _Frame(f"{_file_name(location.replace(chr(92), '/'))}:{function}", in_app=not library)


def _go_frames(lines: list[str]) -> Iterable[_Frame | None]:
    for index, line in enumerate(lines):
        match = _GO_FILE.match(line)
        if match is None or index == 0:
            continue
        header = lines[index - 1]
        func_match = _GO_FUNC.match(header) or _GO_FUNC_BARE.match(header)
        function = func_match["fn"] if func_match is not None else "?"
        path = match["file"].replace("\\", "/")
        system = function.startswith("runtime.") or "/go/src/" in path or "GOROOT" in path
        yield _Frame(f"{_file_name(path)}:{function}", in_app=not system)
