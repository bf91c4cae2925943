"""A real Prometheus server in a subprocess, on a free loopback port, for live tests."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.e2e._receiver import free_ports, http_get
from tests.ops._paths import tool

_START_TIMEOUT = 30.0


@dataclass
class PrometheusProcess:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def query(self, expr: str) -> dict[str, Any]:
        """``/api/v1/query`` at the current time; the whole JSON answer (errors included)."""
        status, body = http_get(
            f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
        )
        answer: dict[str, Any] = json.loads(body)
        answer["http_status"] = status
        return answer

    def label_values(self, label: str, selector: str) -> list[str]:
        """``/api/v1/label/<label>/values?match[]=<selector>``: what Grafana asks for
        ``label_values(<selector>, <label>)``."""
        query = urllib.parse.urlencode({"match[]": selector})
        status, body = http_get(f"{self.url}/api/v1/label/{label}/values?{query}")
        answer = json.loads(body)
        assert status == 200 and answer["status"] == "success", answer
        values: list[str] = answer["data"]
        return values

    def scalar(self, expr: str) -> float | None:
        """The value of a query that yields one sample, or None when it yields none."""
        answer = self.query(expr)
        assert answer["status"] == "success", answer
        result = answer["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def rules(self) -> list[dict[str, Any]]:
        status, body = http_get(f"{self.url}/api/v1/rules")
        assert status == 200, body
        groups: list[dict[str, Any]] = json.loads(body)["data"]["groups"]
        return [rule for group in groups for rule in group["rules"]]

    def wait_until(self, expr: str, minimum: float, timeout: float = 30.0) -> float:
        """Poll ``expr`` until it yields a value >= ``minimum``; that value."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.scalar(expr)
            if value is not None and value >= minimum:
                return value
            time.sleep(0.25)
        raise AssertionError(f"{expr} stayed at {value}, wanted >= {minimum}:\n{self.log_text()}")

    def log_text(self) -> str:
        return self.log_path.read_text("utf-8", "replace")[-4000:]


@contextmanager
def running_prometheus(
    directory: Path, scrape_targets: Sequence[str], rule_files: Sequence[Path] = ()
) -> Iterator[PrometheusProcess]:
    """Prometheus scraping ``scrape_targets`` (job ``failcat``) every second."""
    (port,) = free_ports(1)
    config = directory / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(path) for path in rule_files],
                "scrape_configs": [
                    {"job_name": "failcat", "static_configs": [{"targets": list(scrape_targets)}]}
                ],
            }
        ),
        "utf-8",
    )
    log_path = directory / "prometheus.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                tool("prometheus"),
                f"--config.file={config}",
                f"--storage.tsdb.path={directory / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--web.enable-lifecycle",
            ],
            stdout=log,
            stderr=log,
        )
    server = PrometheusProcess(process, f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_ready(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_ready(server: PrometheusProcess) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"prometheus exited early:\n{server.log_text()}")
        try:
            status, _ = http_get(f"{server.url}/-/ready")
        except OSError:
            status = 0
        if status == 200:
            return
        time.sleep(0.1)
    raise AssertionError(f"prometheus did not become ready:\n{server.log_text()}")
