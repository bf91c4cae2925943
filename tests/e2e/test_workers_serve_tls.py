"""``--workers 2`` with ``--tls-cert``/``--tls-key``: every worker serves TLS on the shared OTLP
ports (each loads its own context), and the parent's 9464 port does too."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e._receiver import ReceiverTls, http_get, http_post, running_receiver
from tests.e2e._support import stored_failures
from tests.e2e._workers import PROTOBUF, accepted_spans, failing_request, worker_exposition
from tests.support.tls_certificates import client_context, make_certificates

pytestmark = pytest.mark.slow

REQUESTS = 40


def test_every_worker_and_the_api_serve_tls(postgres_url: str, tmp_path: Path) -> None:
    certs = make_certificates(tmp_path / "certs")
    context = client_context(certs)
    with running_receiver(
        postgres_url,
        tmp_path / "receiver.log",
        extra_args=["--workers", "2"],
        tls=ReceiverTls(certs.server_cert, certs.server_key),
    ) as receiver:
        workers = [e for e in receiver.log_events() if e["event"] == "worker_started"]
        assert [e["tls"] for e in workers] == ["on", "on"]

        def post(body: bytes) -> int:
            url = f"{receiver.http_endpoint}/v1/traces"
            return http_post(url, body, PROTOBUF, context=context)[0]

        bodies = [failing_request(1)[0] for _ in range(REQUESTS)]
        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(post, bodies)) == [200] * REQUESTS
        per_worker = [accepted_spans(worker_exposition(str(e["metrics_socket"]))) for e in workers]
        assert all(count > 0 for count in per_worker), per_worker
        status, body = http_get(f"{receiver.api_url}/metrics", context=context)
        assert status == 200 and accepted_spans(body.decode()) == REQUESTS
    assert len(stored_failures(postgres_url)) == REQUESTS
