"""Failures for the UI tests, raised by Python itself and exported by the REAL OpenTelemetry SDK.

Run as a script (a fresh interpreter, like a real agent)::

    python _ui_agent.py --http http://127.0.0.1:4318

Three services fail in one trace each: ``checkout-agent`` (30 failures: ``int()`` of a bad
string, ``json.loads`` of a cut document, a missing dict key), ``search-agent`` (12 division by
zero), and a service whose name, span attribute and exception message hold markup and script
(``XSS_SERVICE``, ``XSS_ATTRIBUTE``, the ``int()`` of ``XSS_MESSAGE_INPUT``), which the UI must
show as text. Prints ``{"ok": true}`` once every span was exported.
"""

from __future__ import annotations

import argparse
import json

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

XSS_SERVICE = '<b>svc</b><img src=x onerror="alert(3)">'
XSS_ATTRIBUTE = "<img src=x onerror=alert(2)>"
XSS_MESSAGE_INPUT = "<script>alert(1)</script>"


def _checkout_failure(n: int) -> None:
    kind = n % 3
    if kind == 0:
        int(f"order-{n}")
    elif kind == 1:
        json.loads('{"cart": [1, 2')
    else:
        {"sku": n}["price"]  # the KeyError is the point


def _search_failure(n: int) -> None:
    _ = n / 0


def _run(service: str, count: int, fail: object, attributes: dict[str, str], endpoint: str) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces"))
    )
    tracer = provider.get_tracer("ui-tests")
    with tracer.start_as_current_span(f"{service} run"):
        for n in range(count):
            # start_as_current_span records the exception (with its stacktrace) and sets the
            # span's status, as an instrumented agent's spans do.
            try:
                with tracer.start_as_current_span(f"step {n}", attributes=attributes):
                    fail(n)  # type: ignore[operator]
            except (ValueError, KeyError, ZeroDivisionError):
                pass
    provider.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", required=True)
    args = parser.parse_args()
    _run("checkout-agent", 30, _checkout_failure, {"app.step": "checkout"}, args.http)
    _run("search-agent", 12, _search_failure, {"app.step": "search"}, args.http)
    _run(
        XSS_SERVICE,
        1,
        lambda n: int(XSS_MESSAGE_INPUT),
        {"app.note": XSS_ATTRIBUTE},
        args.http,
    )
    print(json.dumps({"ok": True}))


if __name__ == "__main__":
    main()
