"""With no SDK configured (the API's no-op providers) nothing crashes and nothing is printed."""

from __future__ import annotations

import logging
import sys

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
