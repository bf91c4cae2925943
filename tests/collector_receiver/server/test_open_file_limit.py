"""At start the receiver raises its open-file soft limit to the hard limit and logs it; a limit
already at the hard one is left and logged too. Run in a fresh interpreter whose soft limit is
lowered first, so the test process's own limit is never touched."""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import pytest

_CHILD = """
import json, logging, resource, sys
soft = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_NOFILE, (soft, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append({"event": record.event, **record.fields})
from collector_receiver.server._logging import LOGGER_NAME
logging.getLogger(LOGGER_NAME).addHandler(Keep())
logging.getLogger(LOGGER_NAME).setLevel(logging.INFO)
from collector_receiver.server._rlimit import raise_open_file_limit
answer = raise_open_file_limit()
print(json.dumps({"answer": answer, "now": resource.getrlimit(resource.RLIMIT_NOFILE),
                  "records": records}))
"""


def _run(soft: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(soft)], check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, object] = json.loads(out)
    return result


HARD = resource.getrlimit(resource.RLIMIT_NOFILE)[1]


@pytest.mark.skipif(
    HARD == resource.RLIM_INFINITY or HARD <= 1024, reason="needs a finite hard limit over 1024"
)
def test_a_soft_limit_below_the_hard_one_is_raised_to_it_and_logged() -> None:
    result = _run(1024)
    assert result["answer"] == HARD
    assert result["now"] == [HARD, HARD]
    assert result["records"] == [
        {"event": "open_file_limit", "soft": HARD, "hard": HARD, "raised": True, "was": 1024}
    ]


def test_a_soft_limit_at_the_hard_one_is_left_and_logged() -> None:
    result = _run(HARD)
    assert result["answer"] == HARD
    assert result["records"] == [
        {"event": "open_file_limit", "soft": HARD, "hard": HARD, "raised": False}
    ]
