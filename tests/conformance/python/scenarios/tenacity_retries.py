"""tenacity: retries actually exhausted around a failing call, with and without ``reraise``."""

from __future__ import annotations

import httpx
from _mock_http import answer, client
from _scenario import report, run, run_wrapped
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_none


@retry(stop=stop_after_attempt(3), wait=wait_none())
def _flaky_search() -> None:
    client(answer(503, {"error": "unavailable"})).get(
        "https://search.test/v1?q=x"
    ).raise_for_status()


@retry(
    stop=stop_after_attempt(2),
    wait=wait_none(),
    reraise=True,
    retry=retry_if_exception_type(httpx.HTTPStatusError),
)
def _reraised() -> None:
    client(answer(429, {"error": "slow down"})).get("https://search.test/v1?q=x").raise_for_status()


@retry(stop=stop_after_attempt(2), wait=wait_none())
def _buggy() -> None:
    # An ordinary bug retried like any other failure: tenacity's RetryError still wraps it.
    {"a": 1}["b"]


run("retry_error", _flaky_search)
run("retry_error_logged", _flaky_search, via="log")
run("reraised_rate_limit", _reraised, via="track")
run("retry_error_around_a_bug", _buggy)
# The same failures inside the agent's own wrapper (see _scenario: via="wrapped").
run_wrapped("retry_error")
report()
