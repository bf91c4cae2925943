"""``failcat.base_types``: the bases of the exception's class, nearest first, on the event of
every mechanism — how a catalog entry naming a base class finds classes generated from it."""

from __future__ import annotations

import asyncio
import builtins
import gc
import logging
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from otel_failcat import FailcatInstrumentor, record_failure, track
from otel_failcat._exception_info import MAX_BASE_TYPES, base_types
from tests.otel_failcat._helpers import Telemetry, raise_and_catch

# A hierarchy shaped like botocore's: a fixed base class, and error classes generated from a
# service model at run time, which no cause chain links to their base.


class BotoCoreError(Exception):
    pass


class ClientError(BotoCoreError):
    pass


def _generated_error(name: str) -> type[ClientError]:
    return type(name, (ClientError,), {})


ThrottlingException = _generated_error("ThrottlingException")
HERE = __name__


class Left(Exception):
    pass


class Right(Exception):
    pass


class Diamond(Left, Right, ConnectionError):
    pass


def test_bases_nearest_first_without_the_type_object_and_exception() -> None:
    assert base_types(ThrottlingException) == [f"{HERE}.ClientError", f"{HERE}.BotoCoreError"]
    assert base_types(ClientError) == [f"{HERE}.BotoCoreError"]
    assert base_types(BotoCoreError) == []


def test_builtin_bases_keep_their_plain_names() -> None:
    assert base_types(ConnectionRefusedError) == ["ConnectionError", "OSError"]
    assert base_types(ValueError) == []
    assert base_types(KeyboardInterrupt) == []
    assert base_types(asyncio.CancelledError) == []


def test_multiple_inheritance_follows_the_method_resolution_order() -> None:
    assert base_types(Diamond) == [f"{HERE}.Left", f"{HERE}.Right", "ConnectionError", "OSError"]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception groups are built in from 3.11")
class _Picky(type):
    def __eq__(cls, other: object) -> bool:
        raise RuntimeError("no comparing")

    __hash__ = type.__hash__


class PickyError(ClientError, metaclass=_Picky):
    pass


def test_a_metaclass_that_refuses_comparison_does_not_stop_the_walk() -> None:
    assert base_types(PickyError) == [f"{HERE}.ClientError", f"{HERE}.BotoCoreError"]


def test_an_exception_group_names_its_base_group() -> None:
    assert base_types(builtins.ExceptionGroup) == ["BaseExceptionGroup"]


def test_at_most_sixteen_bases_the_nearest_kept() -> None:
    cls: type[Exception] = Exception
    for depth in range(40):
        cls = type(f"Level{depth}", (cls,), {})
    names = base_types(cls)
    assert len(names) == MAX_BASE_TYPES
    assert names[0] == f"{HERE}.Level38" and names[-1] == f"{HERE}.Level23"


def test_a_class_created_at_run_time_is_not_kept_alive(hooked: Telemetry) -> None:
    # Libraries generate error classes per client (botocore: per service model); recording
    # one must not hold it after the client is gone.
    generated = _generated_error("ShortLivedException")
    record_failure(raise_and_catch(generated("gone")))
    ((_, attrs),) = hooked.exception_events()
    assert attrs["failcat.base_types"] == (f"{HERE}.ClientError", f"{HERE}.BotoCoreError")
    alive = weakref.ref(generated)
    del generated
    gc.collect()
    assert alive() is None


# -- on the event of every mechanism ------------------------------------------------------------

EXPECTED = (f"{HERE}.ClientError", f"{HERE}.BotoCoreError")


@pytest.fixture
def hooked(telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch) -> Iterator[Telemetry]:
    """Instrumented, with quiet stand-ins for the interpreter's hooks it chains to."""
    monkeypatch.setattr(sys, "excepthook", lambda *args: None)
    monkeypatch.setattr(threading, "excepthook", lambda args: None)
    FailcatInstrumentor().instrument(**telemetry.providers())
    try:
        yield telemetry
    finally:
        FailcatInstrumentor().uninstrument()


def _explicit(telemetry: Telemetry) -> None:
    record_failure(raise_and_catch(ThrottlingException("Rate exceeded")))


def _track(telemetry: Telemetry) -> None:
    with pytest.raises(ThrottlingException), track("bedrock.invoke"):
        raise ThrottlingException("Rate exceeded")


def _sdk_span(telemetry: Telemetry) -> None:
    tracer = telemetry.tracer_provider.get_tracer("agent")
    with pytest.raises(ThrottlingException), tracer.start_as_current_span("bedrock.invoke"):
        raise ThrottlingException("Rate exceeded")


def _excepthook(telemetry: Telemetry) -> None:
    exc = raise_and_catch(ThrottlingException("Rate exceeded"))
    sys.excepthook(type(exc), exc, exc.__traceback__)


def _threading(telemetry: Telemetry) -> None:
    def work() -> None:
        raise ThrottlingException("Rate exceeded")

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()


def _asyncio(telemetry: Telemetry) -> None:
    async def fail() -> None:
        raise ThrottlingException("Rate exceeded")

    async def main() -> None:
        asyncio.get_running_loop().create_task(fail())
        await asyncio.sleep(0.01)

    logging.getLogger("asyncio").disabled = True  # its own report of the task is not ours
    try:
        asyncio.run(main())
        gc.collect()  # "never retrieved" is reported when the task is collected
    finally:
        logging.getLogger("asyncio").disabled = False


def _logging(telemetry: Telemetry) -> None:
    try:
        raise ThrottlingException("Rate exceeded")
    except ThrottlingException:
        logging.getLogger("agent.bedrock").exception("invoke failed")


@pytest.mark.parametrize(
    ("mechanism", "fail"),
    [
        ("explicit", _explicit),
        ("track", _track),
        ("track", _sdk_span),
        ("excepthook", _excepthook),
        ("threading", _threading),
        ("asyncio", _asyncio),
        ("logging", _logging),
    ],
    ids=["record_failure", "track", "sdk_span", "excepthook", "threading", "asyncio", "logging"],
)
def test_every_mechanism_records_the_base_types(
    hooked: Telemetry, mechanism: str, fail: Callable[[Telemetry], Any]
) -> None:
    fail(hooked)
    ((_, attrs),) = hooked.exception_events()
    assert attrs["exception.type"] == f"{HERE}.ThrottlingException"
    assert attrs["failcat.base_types"] == EXPECTED
    assert attrs["failcat.mechanism"] == mechanism  # an exception escaping an SDK span: track


def test_an_sdk_span_routed_failure_carries_the_base_types_as_an_sdk_event(
    hooked: Telemetry,
) -> None:
    tracer = hooked.tracer_provider.get_tracer("agent")
    with tracer.start_as_current_span("bedrock.invoke") as span:
        span.record_exception(raise_and_catch(ThrottlingException("Rate exceeded")))
    ((event_span, attrs),) = hooked.exception_events()
    assert event_span.name == "bedrock.invoke"
    assert attrs["failcat.mechanism"] == "explicit"
    assert attrs["failcat.base_types"] == EXPECTED


@pytest.mark.parametrize("agent_environment", [{"OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN": "logs"}])
def test_logs_mode_carries_the_base_types(instrumented: Telemetry) -> None:
    record_failure(raise_and_catch(ThrottlingException("Rate exceeded")))
    (record,) = instrumented.log_records()
    assert tuple(record.attributes["failcat.base_types"]) == EXPECTED


def test_an_exception_with_no_informative_base_has_an_empty_list(hooked: Telemetry) -> None:
    record_failure(raise_and_catch(ValueError("plain")))
    ((_, attrs),) = hooked.exception_events()
    assert attrs["failcat.base_types"] == ()
