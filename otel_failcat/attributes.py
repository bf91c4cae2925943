"""Names of the attributes and instruments ``otel_failcat`` emits (CONTRACT §2).

Import these instead of spelling the strings; the receiver reads the same names.

=========================  ===========  ====================================================
attribute                  type         meaning
=========================  ===========  ====================================================
``exception.type``         str          fully qualified type, ``module.QualName``; builtins
                                        plain (``ValueError``)
``exception.message``      str          ``str(exc)``, secrets redacted, length capped
``exception.stacktrace``   str          the traceback with its cause chain, redacted, capped
``failcat.fingerprint``    str          32 hex digits: service, type, message template,
                                        in-app frames
``failcat.mechanism``      str          ``excepthook`` | ``threading`` | ``asyncio`` |
                                        ``logging`` | ``explicit`` | ``track``
``failcat.handled``        bool         False when the exception escaped where it was
                                        recorded: the unhandled-hook mechanisms and ``track``
                                        (also an SDK span it left)
``failcat.cause_types``    list[str]    qualified types of the ``__cause__``/``__context__``
                                        chain, direct cause first, root cause last
``error.type``             str          on the ``track`` span (with status ERROR)
=========================  ===========  ====================================================
"""

from __future__ import annotations

from typing import Literal

EXCEPTION_EVENT_NAME = "exception"
UNHANDLED_SPAN_NAME = "failcat.unhandled_exception"

EXCEPTION_TYPE = "exception.type"
EXCEPTION_MESSAGE = "exception.message"
EXCEPTION_STACKTRACE = "exception.stacktrace"
ERROR_TYPE = "error.type"

FAILCAT_FINGERPRINT = "failcat.fingerprint"
FAILCAT_MECHANISM = "failcat.mechanism"
FAILCAT_HANDLED = "failcat.handled"
FAILCAT_CAUSE_TYPES = "failcat.cause_types"

FAILURES_COUNTER = "failcat.agent.failures"
FAILURES_COUNTER_UNIT = "{failure}"

#: How a failure reached ``otel_failcat``.
Mechanism = Literal["excepthook", "threading", "asyncio", "logging", "explicit", "track"]
