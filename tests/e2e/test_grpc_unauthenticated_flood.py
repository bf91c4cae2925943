"""Unauthenticated OTLP/gRPC senders are refused before their messages are received: a flood of
big messages with a wrong token gets ``UNAUTHENTICATED`` for each, the receiver's memory hardly
moves (gRPC never asks for the messages), and a real SDK exporter with the token is still
served and stored right after."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e._grpc_flood import MIB, flood, peak_rss
from tests.e2e._receiver import running_receiver
from tests.e2e._support import run_agent, stored_failures

pytestmark = pytest.mark.slow

TOKEN = "flood-test-token"
MESSAGES, SIZE = 8, 8 * MIB


def test_an_unauthenticated_flood_is_refused_unread_and_a_good_sender_is_stored(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'failcat.db'}"
    with running_receiver(
        url, tmp_path / "receiver.log", env={"FAILCAT_AUTH_TOKEN": TOKEN}
    ) as receiver:
        with peak_rss(receiver.process.pid) as memory:
            codes = flood(receiver.grpc_endpoint, MESSAGES, SIZE, "wrong-token")
        assert codes == ["UNAUTHENTICATED"] * MESSAGES
        # Received whole, the 64 MiB sent would cost well over 64 MiB (measured before: about
        # 2.7 bytes per byte sent); refused unread, it costs a few flow-control windows.
        assert memory.growth_mib < 24, memory

        report = run_agent(
            ["grpc:traces:svc-after-flood:2"],
            grpc_endpoint=receiver.grpc_endpoint,
            http_endpoint=receiver.http_endpoint,
            extra=["--token", TOKEN],
        )
        assert report["ok"], report["stderr"]
        stored = {(r["service_name"], r["span_id"]) for r in stored_failures(url)}
        assert stored == {("svc-after-flood", f["span_id"]) for f in report["failures"]}
