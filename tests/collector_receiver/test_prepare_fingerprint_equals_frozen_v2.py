"""Prepared failures carry the fingerprint and template of the frozen failcat.fp.v2 recipe.

The prepare stage templates each message once and hands the template to the fingerprint; the
result must be what the recipe gives from the stored (redacted) texts, for messages shorter and
longer than the fingerprint's 1024 characters.
"""

from __future__ import annotations

import random

from collector_receiver.catalog import load_catalog
from collector_receiver.events import FailureEvent
from collector_receiver.prepare import FailurePreparer
from otel_failcat.redaction import Redactor
from tests.otel_failcat import _frozen_fingerprint_v2 as frozen_fingerprint
from tests.otel_failcat import _frozen_normalize_v2 as frozen_normalize
from tests.otel_failcat.test_template_and_fingerprint_equal_frozen_v2 import (
    _messages,
    _stacktrace,
)


def _events(count: int, seed: int) -> list[FailureEvent]:
    rng = random.Random(seed)
    events = []
    for index, message in enumerate(_messages(count, seed)):
        if index % 5 == 0:  # past the fingerprint's first 1024 characters, varying after them
            message = message + " pad" * 300 + f" id {rng.getrandbits(64):x}"
        if index % 7 == 0:  # a secret, so the stored message differs from the one sent
            message += f" key sk-proj-{rng.getrandbits(128):032x}"
        events.append(
            FailureEvent(
                source="span_event",
                service_name=rng.choice(["svc", " svc-b "]),
                exception_type=rng.choice(["ValueError", "httpx.ReadTimeout"]),
                exception_message=message,
                stacktrace=_stacktrace(rng, f"ValueError: {message[:200]}"),
                time_unix_nano=1_780_000_000_000_000_000 + index,
                trace_id=f"{rng.getrandbits(128):032x}",
                span_id=f"{rng.getrandbits(64):016x}",
            )
        )
    return events


def test_prepared_fingerprints_and_templates_equal_the_frozen_recipe_on_the_stored_texts() -> None:
    preparer = FailurePreparer(load_catalog(), Redactor())
    prepared = preparer.prepare(_events(3000, seed=5))
    assert any(len(failure.exception_message) > 1024 for failure, _ in prepared)
    for failure, _match in prepared:
        assert failure.message_template == frozen_normalize.message_template(
            failure.exception_message
        )
        assert failure.fingerprint == frozen_fingerprint.compute_fingerprint(
            failure.service_name,
            failure.exception_type,
            failure.exception_message,
            failure.stacktrace,
        )
