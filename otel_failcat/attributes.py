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
``failcat.cause_messages`` list[str]    only with a cause chain: the message of each of its
                                        first 8 links, aligned with ``failcat.cause_types``,
                                        redacted, capped to 512 characters
``failcat.cause_base_types`` list[str]  only with a cause chain: each of those links'
                                        ``failcat.base_types``, joined by spaces
``failcat.base_types``     list[str]    qualified types of the exception class's bases in
                                        method resolution order, nearest first, without
                                        the type itself, ``object``, ``BaseException`` and
                                        ``Exception``; at most 16
``failcat.recording_id``   str          in ``logs/dup`` mode only: 32 hex digits, random,
                                        the same on the span event and the log record of
                                        one recording, so a receiver stores it once
``error.type``             str          on the ``track`` span (with status ERROR)
=========================  ===========  ====================================================

In ``logs`` mode the failure is a log record, and the span it was recorded on (when one was
recording) gets an event ``failcat.logged_exception`` (only ``exception.type``) instead.

When the exception is an exception group (``ExceptionGroup``, ``BaseExceptionGroup``, what
asyncio and anyio task groups and MCP clients raise), the event also describes the failures
inside it, the *leaves*: sub-groups are flattened depth-first, in the order of
``exceptions``, and at most 16 leaves are kept. The four lists are aligned: index ``i`` of each
describes leaf ``i``, so the receiver can match every leaf as it matches a failure (type, cause
chain, bases, message) and classify the group by the first leaf that matches. A list attribute
cannot nest, so a leaf's own lists are one string of names separated by a single space
(``""`` when it has none); a qualified Python name holds no space.

==================================  =========  ===========================================
attribute                           type       meaning
==================================  =========  ===========================================
``failcat.group.exception_types``   list[str]  each leaf's qualified type
``failcat.group.messages``          list[str]  each leaf's message, redacted, capped to 512
                                               characters
``failcat.group.base_types``        list[str]  each leaf's ``failcat.base_types``, joined
                                               by spaces
``failcat.group.cause_types``       list[str]  each leaf's ``failcat.cause_types`` (at
                                               most 8), joined by spaces
==================================  =========  ===========================================

The group stays one event (one failure, one row): it is one thing that went wrong at one place,
and its leaves are its evidence, not failures of their own (each leaf that was also recorded
where it was raised is an event already).
"""

from __future__ import annotations

from typing import Literal

EXCEPTION_EVENT_NAME = "exception"
UNHANDLED_SPAN_NAME = "failcat.unhandled_exception"
#: In ``logs`` mode, the event (attribute ``exception.type`` only) the span a failure was
#: recorded on gets instead of the exception event: the failure is the log record with this
#: span's ids, so a receiver takes the span's ERROR status (a library's, with ``error.type``),
#: and its relatives', for that failure rather than another one. Its name ends in
#: "exception" without being an exception event (``exception`` or ``*.exception``).
LOGGED_EXCEPTION_EVENT_NAME = "failcat.logged_exception"

EXCEPTION_TYPE = "exception.type"
EXCEPTION_MESSAGE = "exception.message"
EXCEPTION_STACKTRACE = "exception.stacktrace"
ERROR_TYPE = "error.type"

FAILCAT_FINGERPRINT = "failcat.fingerprint"
FAILCAT_MECHANISM = "failcat.mechanism"
FAILCAT_HANDLED = "failcat.handled"
FAILCAT_CAUSE_TYPES = "failcat.cause_types"
FAILCAT_BASE_TYPES = "failcat.base_types"
#: The first links of the cause chain described beyond their type, aligned with
#: ``failcat.cause_types``: a receiver classifies a wrapper whose own type it does not know by
#: what it wraps, as it classifies an exception group by its leaves.
FAILCAT_CAUSE_MESSAGES = "failcat.cause_messages"
FAILCAT_CAUSE_BASE_TYPES = "failcat.cause_base_types"
#: One recording sent as both a span event and a log record (``logs/dup``): the same random id
#: on both, so a receiver that gets both signals stores the failure once.
FAILCAT_RECORDING_ID = "failcat.recording_id"

#: The leaves of an exception group, aligned lists (see the table above).
FAILCAT_GROUP_EXCEPTION_TYPES = "failcat.group.exception_types"
FAILCAT_GROUP_MESSAGES = "failcat.group.messages"
FAILCAT_GROUP_BASE_TYPES = "failcat.group.base_types"
FAILCAT_GROUP_CAUSE_TYPES = "failcat.group.cause_types"
#: Separates the names inside one element of ``failcat.group.base_types`` / ``cause_types``.
GROUP_NAME_SEPARATOR = " "

FAILURES_COUNTER = "failcat.agent.failures"
FAILURES_COUNTER_UNIT = "{failure}"

#: How a failure reached ``otel_failcat``.
Mechanism = Literal["excepthook", "threading", "asyncio", "logging", "explicit", "track"]
