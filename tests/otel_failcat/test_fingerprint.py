"""Fingerprints: same failure, same id, on any machine; a different failure, a different id."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import traceback

from hypothesis import given, settings
from hypothesis import strategies as st

from otel_failcat.fingerprint import (
    FINGERPRINT_MESSAGE_CHARS,
    FINGERPRINT_VERSION,
    compute_fingerprint,
    in_app_frames,
)
from otel_failcat.normalize import message_template


def _traceback(root: str, *, line_shift: int = 0, tool_func: str = "call_tool") -> str:
    """A realistic Python traceback with the app checked out under ``root``."""
    return f"""Traceback (most recent call last):
  File "{root}/agent/main.py", line {10 + line_shift}, in run
    result = tools.dispatch(name, args)
             ^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "{root}/agent/tools/__init__.py", line {42 + line_shift}, in dispatch
    return {tool_func}(args)
  File "{root}/agent/tools/search.py", line {7 + line_shift}, in {tool_func}
    response = client.get(url)
  File "{root}/.venv/lib/python3.11/site-packages/httpx/_client.py", line 1054, in get
    return self.request("GET", url)
  File "/usr/lib/python3.11/asyncio/base_events.py", line 653, in run_until_complete
    return future.result()
  File "<frozen importlib._bootstrap>", line 1176, in _find_and_load
httpx.ReadTimeout: timed out after 30s
"""


def test_in_app_frames_drop_libraries_stdlib_and_frozen() -> None:
    assert in_app_frames(_traceback("/home/alice/src/agent-repo")) == (
        "main.py:run",
        "tools/__init__.py:dispatch",
        "search.py:call_tool",
    )


def test_fingerprint_is_32_lowercase_hex() -> None:
    fingerprint = compute_fingerprint("svc", "httpx.ReadTimeout", "timed out", _traceback("/a"))
    assert len(fingerprint) == 32
    assert fingerprint == fingerprint.lower()
    int(fingerprint, 16)


def test_recipe_matches_the_documented_one() -> None:
    stacktrace = _traceback("/srv/app")
    message = "timed out after 30s"
    parts = [
        FINGERPRINT_VERSION,
        "svc",
        "httpx.ReadTimeout",
        message_template(message),
        "3",
        "main.py:run",
        "tools/__init__.py:dispatch",
        "search.py:call_tool",
    ]
    payload = b"".join(f"{len(p.encode())}:".encode() + p.encode() for p in parts)
    expected = hashlib.sha256(payload).hexdigest()[:32]
    assert compute_fingerprint(" svc ", "httpx.ReadTimeout\n", message, stacktrace) == expected


def test_pinned_value_guards_against_accidental_recipe_changes() -> None:
    # If this fails the recipe changed: bump FINGERPRINT_VERSION and update docs and this value.
    assert (
        compute_fingerprint("svc", "ValueError", "bad value 3", _traceback("/srv/app"))
        == "f957d3658038fc917e9d6a1c5e0272d4"
    )


def test_same_across_checkout_directories_and_platforms() -> None:
    posix = _traceback("/home/alice/code/agent-repo")
    container = _traceback("/app")
    windows = _traceback("C:\\Users\\bob\\code\\agent-repo").replace("/", "\\")
    fingerprints = {
        compute_fingerprint("svc", "httpx.ReadTimeout", "timed out", stacktrace)
        for stacktrace in (posix, container, windows)
    }
    assert len(fingerprints) == 1


def test_same_when_line_numbers_shift() -> None:
    assert compute_fingerprint("s", "E", "m", _traceback("/app")) == compute_fingerprint(
        "s", "E", "m", _traceback("/app", line_shift=17)
    )


def test_same_when_only_variable_parts_of_the_message_differ() -> None:
    stacktrace = _traceback("/app")
    first = compute_fingerprint("s", "E", "request 1a2b3c4d5e6f timed out after 30s", stacktrace)
    second = compute_fingerprint("s", "E", "request 9f8e7d6c5b4a timed out after 45s", stacktrace)
    assert first == second


def test_changed_by_type_service_message_or_call_path() -> None:
    stacktrace = _traceback("/app")
    base = compute_fingerprint("svc", "httpx.ReadTimeout", "timed out", stacktrace)
    assert base != compute_fingerprint("svc", "httpx.ConnectTimeout", "timed out", stacktrace)
    assert base != compute_fingerprint("other-svc", "httpx.ReadTimeout", "timed out", stacktrace)
    assert base != compute_fingerprint("svc", "httpx.ReadTimeout", "connection reset", stacktrace)
    other_path = _traceback("/app", tool_func="call_other_tool")
    assert base != compute_fingerprint("svc", "httpx.ReadTimeout", "timed out", other_path)


def test_field_boundaries_are_unambiguous() -> None:
    assert compute_fingerprint("ab", "c", "", "") != compute_fingerprint("a", "bc", "", "")


def test_only_the_first_1024_message_characters_count() -> None:
    head = "x" * 1024
    assert compute_fingerprint("s", "E", head + "A" * 10, "") == compute_fingerprint(
        "s", "E", head + "B" * 5000, ""
    )


def test_chained_traceback_includes_every_section_root_cause_first() -> None:
    chained = """Traceback (most recent call last):
  File "/app/agent/llm.py", line 20, in complete
    raise ProviderError("boom")
agent.llm.ProviderError: boom

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/app/agent/main.py", line 5, in run
    complete()
  File "/app/agent/main.py", line 9, in complete_with_retry
    raise RetriesExhausted() from error
agent.main.RetriesExhausted

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/agent/cli.py", line 3, in main
    run()
SystemExit: 1
"""
    assert in_app_frames(chained) == (
        "llm.py:complete",
        "main.py:run",
        "main.py:complete_with_retry",
        "cli.py:main",
    )


def test_exception_group_margins_are_read() -> None:
    group = """  + Exception Group Traceback (most recent call last):
  |   File "/app/agent/main.py", line 10, in run
  |     async with asyncio.TaskGroup() as tg:
  | ExceptionGroup: unhandled errors in a TaskGroup (1 sub-exception)
  +-+---------------- 1 ----------------
    | Traceback (most recent call last):
    |   File "/app/agent/tools.py", line 4, in search
    |     raise TimeoutError
    | TimeoutError
    +------------------------------------
"""
    assert in_app_frames(group) == ("main.py:run", "tools.py:search")


def test_recursion_depth_does_not_change_the_fingerprint() -> None:
    def recursive(depth: int) -> str:
        frame = '  File "/app/agent/walk.py", line {line}, in walk\n    walk(node)\n'
        frames = "".join(frame.format(line=12) for _ in range(depth))
        return "Traceback (most recent call last):\n" + frames + "RecursionError: too deep\n"

    assert in_app_frames(recursive(5)) == ("walk.py:walk",)
    assert compute_fingerprint("s", "RecursionError", "x", recursive(5)) == compute_fingerprint(
        "s", "RecursionError", "x", recursive(900)
    )


def test_library_frames_are_the_fallback_when_no_frame_is_in_app() -> None:
    only_libraries = """Traceback (most recent call last):
  File "/usr/lib/python3.11/threading.py", line 1045, in _bootstrap_inner
  File "/venv/lib/python3.11/site-packages/openai/_base_client.py", line 1020, in request
  File "/usr/local/lib/python3.12/dist-packages/openai/_base_client.py", line 999, in _retry
openai.APIConnectionError: Connection error.
"""
    assert in_app_frames(only_libraries) == ()
    other_library_path = only_libraries.replace("_retry", "_other")
    assert compute_fingerprint("s", "E", "m", only_libraries) != compute_fingerprint(
        "s", "E", "m", other_library_path
    )
    moved = only_libraries.replace("/venv/lib/python3.11", "/opt/py/lib/python3.12")
    assert compute_fingerprint("s", "E", "m", only_libraries) == compute_fingerprint(
        "s", "E", "m", moved
    )


def test_stdlib_variants_are_not_in_app() -> None:
    paths = [
        "/usr/lib64/python3.9/json/decoder.py",
        "/opt/homebrew/Frameworks/Python.framework/Versions/3.12/lib/python3.12/json/__init__.py",
        "C:\\Python311\\Lib\\json\\decoder.py",
        "C:\\Users\\u\\AppData\\Local\\Programs\\Python\\Python312\\Lib\\asyncio\\events.py",
        "/home/u/.pyenv/versions/pypy3.10/lib/pypy3.10/json/decoder.py",
        "<stdin>",
    ]
    frames = "".join(f'  File "{path}", line {n}, in f{n}\n' for n, path in enumerate(paths))
    stdlib = "Traceback (most recent call last):\n" + frames + "json.JSONDecodeError: x\n"
    assert in_app_frames(stdlib) == ("<stdin>:f5",)


def test_app_directories_named_like_python_are_still_in_app() -> None:
    stacktrace = (
        'File "/home/u/python-projects/lib/agent.py", line 1, in run\n'
        'File "/srv/pythonic/lib/tools.py", line 2, in call\n'
        'File "C:\\ProgramData\\Anaconda3\\Lib\\json\\decoder.py", line 3, in decode\n'
    )
    assert in_app_frames(stacktrace) == ("agent.py:run", "tools.py:call")


def test_qualified_function_names_count_by_their_last_part() -> None:
    plain = 'File "/app/agent.py", line 1, in run\n'
    qualified = 'File "/app/agent.py", line 1, in Agent.run\n'
    nested = 'File "/app/agent.py", line 1, in main.<locals>.run\n'
    assert in_app_frames(plain) == in_app_frames(qualified) == in_app_frames(nested)


def test_real_python_traceback() -> None:
    def failing_tool() -> None:
        raise ValueError("tool failed with code 7")

    try:
        failing_tool()
    except ValueError:
        stacktrace = traceback.format_exc()
    frames = in_app_frames(stacktrace)
    assert frames == (
        "test_fingerprint.py:test_real_python_traceback",
        "test_fingerprint.py:failing_tool",
    )


def test_java_stacktrace() -> None:
    java = """java.lang.IllegalStateException: bad state
\tat com.example.agent.Service.handle(Service.java:42)
\tat com.example.agent.Service.lambda$run$0(Service.java:17)
\tat java.base/java.lang.Thread.run(Thread.java:833)
Caused by: java.io.IOException: broken pipe
\tat com.example.agent.Io.read(Io.java:7)
\t... 3 more
"""
    assert in_app_frames(java) == (
        "com.example.agent.Service.handle",
        "com.example.agent.Service.lambda$run",
        "com.example.agent.Io.read",
    )
    shifted = java.replace("42", "50").replace(":7)", ":9)")
    assert compute_fingerprint("s", "E", "m", java) == compute_fingerprint("s", "E", "m", shifted)


def test_javascript_stacktrace() -> None:
    js = """TypeError: Cannot read properties of undefined (reading 'id')
    at handle (/srv/app/src/server.js:10:5)
    at async Router.dispatch (/srv/app/node_modules/express/lib/router.js:1:2)
    at /srv/app/src/index.js:3:1
    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)
"""
    assert in_app_frames(js) == ("server.js:handle", "index.js:?")
    moved = js.replace("/srv/app", "/home/dev/checkout").replace(":10:5", ":11:9")
    assert compute_fingerprint("s", "E", "m", js) == compute_fingerprint("s", "E", "m", moved)


def test_go_stacktrace() -> None:
    go = """panic: runtime error: index out of range [3] with length 3

goroutine 1 [running]:
main.(*Server).handle(0xc000010000, {0x0, 0x0})
\t/home/u/app/server.go:42 +0x1d
main.main()
\t/home/u/app/main.go:12 +0x25
runtime.main()
\t/usr/local/go/src/runtime/proc.go:250 +0x1c7
"""
    assert in_app_frames(go) == ("server.go:main.(*Server).handle", "main.go:main.main")


def test_text_without_frames() -> None:
    assert in_app_frames("") == ()
    assert in_app_frames("just a message, no stack") == ()
    assert len(compute_fingerprint("", "", "", "")) == 32


def test_stable_across_processes_and_hash_seeds() -> None:
    code = (
        "from otel_failcat.fingerprint import compute_fingerprint;"
        "import sys; print(compute_fingerprint('svc', 'E', 'msg 12', sys.stdin.read()))"
    )
    results = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", code],
            input=_traceback("/app"),
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        results.add(done.stdout.strip())
    assert results == {compute_fingerprint("svc", "E", "msg 12", _traceback("/app"))}


@settings(max_examples=300, deadline=None)
@given(
    service=st.text(max_size=20),
    exception_type=st.text(max_size=20),
    message=st.text(max_size=200),
    stacktrace=st.text(max_size=300),
)
def test_fingerprint_is_deterministic_and_never_raises(
    service: str, exception_type: str, message: str, stacktrace: str
) -> None:
    first = compute_fingerprint(service, exception_type, message, stacktrace)
    assert first == compute_fingerprint(service, exception_type, message, stacktrace)
    assert len(first) == 32


def test_a_template_passed_in_gives_the_fingerprint_computed_without_it() -> None:
    message = "Timeout after 30s calling https://api.example.com/v1 " + "x" * 2000
    template = message_template(message[:FINGERPRINT_MESSAGE_CHARS])
    assert compute_fingerprint(
        "svc", "TimeoutError", message, "", template=template
    ) == compute_fingerprint("svc", "TimeoutError", message, "")
