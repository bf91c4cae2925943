"""Before the listeners start, the receiver raises its open-file soft limit to the hard limit; a
limit already at the hard one is left as it is. Run in a fresh interpreter whose soft limit is
lowered first, so the test process's own limit is never touched."""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import pytest

_CHILD = """
import dataclasses, json, resource, sys
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[1]), hard))
from collector_receiver.server._rlimit import raise_open_file_limit
answer = raise_open_file_limit()
print(json.dumps({"answer": dataclasses.asdict(answer),
                  "now": resource.getrlimit(resource.RLIMIT_NOFILE)}))
"""

HARD = resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def _run(soft: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(soft)], check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, object] = json.loads(out)
    return result


@pytest.mark.skipif(
    HARD == resource.RLIM_INFINITY or HARD <= 1024, reason="needs a finite hard limit over 1024"
)
def test_a_soft_limit_below_the_hard_one_is_raised_to_it() -> None:
    result = _run(1024)
    assert result["now"] == [HARD, HARD]
    assert result["answer"] == {"soft": HARD, "raised_from": 1024, "problem": None}


@pytest.mark.skipif(HARD == resource.RLIM_INFINITY, reason="needs a finite hard limit")
def test_a_soft_limit_at_the_hard_one_is_left_as_it_is() -> None:
    result = _run(HARD)
    assert result["now"] == [HARD, HARD]
    assert result["answer"] == {"soft": HARD, "raised_from": None, "problem": None}
