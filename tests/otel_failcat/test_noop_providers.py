"""With no SDK configured (the API's no-op providers) nothing crashes and nothing is printed."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import pytest
from opentelemetry._logs import NoOpLoggerProvider
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import NoOpTracerProvider

from otel_failcat import FailcatInstrumentor, record_failure, track
from otel_failcat._internal_errors import internal_error_count
from tests.otel_failcat._helpers import raise_and_catch


def test_everything_works_silently_on_noop_providers(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "excepthook", lambda *a: None)
    before = internal_error_count()
    FailcatInstrumentor().instrument(
        tracer_provider=NoOpTracerProvider(),
        meter_provider=NoOpMeterProvider(),
        logger_provider=NoOpLoggerProvider(),
    )
    try:
        record_failure(raise_and_catch(ValueError("nowhere")))
        with pytest.raises(KeyError):
            with track("noop"):
                raise KeyError("k")
        try:
            raise OSError("logged")
        except OSError:
            logging.getLogger("tests.noop").exception("x")
        exc = raise_and_catch(RuntimeError("crash"))
        sys.excepthook(RuntimeError, exc, exc.__traceback__)
    finally:
        FailcatInstrumentor().uninstrument()
    assert internal_error_count() == before
    out = capsys.readouterr()
    assert out.out == ""
    assert "nowhere" not in out.err and "crash" not in out.err


def test_a_process_without_any_sdk_stays_silent() -> None:
    """A plain interpreter: only the API's default (proxy) providers exist."""
    script = textwrap.dedent(
        """
        import asyncio, logging, sys, threading
        from otel_failcat import FailcatInstrumentor, record_failure, track
        from otel_failcat._internal_errors import internal_error_count

        logging.basicConfig(level=logging.CRITICAL + 1)  # the user's own logging stays quiet
        threading.excepthook = lambda args: None         # and so do the user's own hooks
        sys.excepthook = lambda *args: print("chained; internal errors:", internal_error_count())
        FailcatInstrumentor().instrument()
        record_failure(ValueError("explicit"))
        try:
            with track("step"):
                raise KeyError("k")
        except KeyError:
            pass
        threading.Thread(target=lambda: 1 / 0).start()
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(lambda loop, context: None)
        loop.call_soon(lambda: [][1])
        loop.run_until_complete(asyncio.sleep(0.01))
        raise RuntimeError("the process dies: recorded and flushed on the proxy providers")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        "chained; internal errors: 0\n",
        "",
    )
