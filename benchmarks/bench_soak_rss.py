"""Receiver memory over a soak: a real ``failcat serve`` on PostgreSQL fed at a steady rate over
OTLP/gRPC for ``--minutes`` (10), its resident set size sampled every ``--sample-seconds`` (5).

The bars (issue 11): a peak RSS of at most 300 MB, and at most 10 % growth from the RSS at one
minute (caches and pools have filled by then) to the RSS at the end. A receiver that keeps
something per failure, per pattern or per request grows steadily here; one that only reaches a
working set does not.

The traffic is ``bench_ingest_e2e``'s requests (its builder imported, not copied): ``--rate``
requests a second (4) of ``--spans`` spans (500), ``--failure-share`` (5 %) failing with an
``exception`` event, a message with variable parts and a ~2 KB stacktrace no other failure
shares, so every failure is a first sighting and most make a new pattern. Each request gets a
seed of its own, so no two carry the same failures. Each client thread sends them on a schedule
(a request every ``1 / rate`` seconds, not faster when behind: a steady load, not a flood), built
just before they are sent so that the benchmark's own memory stays flat. ``--clients`` threads
(one, or two per worker with ``--workers``) share the rate, each on a gRPC connection of its own
as separate agents have, so that the kernel spreads them over the workers (it assigns a
connection, not a request, to a worker: with few clients one worker can still get more).

With ``--workers N`` (above 1) the receiver runs as ``failcat serve --workers N`` and each
process (the parent and every worker) is sampled; the bars apply to the largest process, and the
sum is printed too.

``--tracemalloc`` is the diagnostic mode: the receiver runs under this file as a launcher that
starts ``tracemalloc`` (25 frames) before the receiver and writes a snapshot every
``--snapshot-seconds`` (60); the end prints the 15 places whose allocations grew most between
the snapshot at one minute and the last one. Tracing slows the receiver and adds its own
memory, so its RSS figures are not the bar's; use it to find a leak, not to measure. (Workers
are separate interpreters and are not traced: use it with one worker.)

Prints the samples every minute, then peak, RSS at one minute and at the end, growth, and the
ratios to the bars; ``--json PATH`` writes them with every sample. ``--smoke`` runs 20 seconds
with the one-minute mark moved to 5 seconds, for CI; its figures mean nothing.

    python benchmarks/bench_soak_rss.py [--minutes 10] [--rate 4] [--spans 500]
        [--failure-share 0.05] [--workers 1] [--sample-seconds 5] [--json PATH]
        [--tracemalloc] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import grpc
import psycopg
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_ingest_e2e import TRACE_EXPORT, build_request
from collector_receiver.demo.children import (
    ReceiverChild,
    free_ports,
    readyz_answers,
    serve_command,
    spawn,
    wait_until_ready,
)
from tests.support import databases

PEAK_BAR_MB = 300.0
GROWTH_BAR = 0.10
#: The launcher flag of the diagnostic mode (first argument, before ``serve``).
_TRACED = "--run-traced-receiver"
_RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED)
_MB = 1_000_000


# -- the receiver under tracemalloc (diagnostic mode) -----------------------------------------


def _run_traced_receiver(snapshot_dir: Path, every: float, argv: list[str]) -> int:
    """Run ``failcat <argv>`` with tracemalloc on, a snapshot written every ``every`` seconds."""
    import tracemalloc

    tracemalloc.start(25)

    def snapshots() -> None:
        n = 0
        while True:
            time.sleep(every)
            n += 1
            tracemalloc.take_snapshot().dump(str(snapshot_dir / f"snapshot-{n:04d}.pickle"))

    threading.Thread(target=snapshots, name="tracemalloc-snapshots", daemon=True).start()
    from collector_receiver.cli import main

    return int(main(argv) or 0)


def tracemalloc_report(snapshot_dir: Path, mark: float, top: int = 15) -> list[str]:
    """The ``top`` tracebacks whose allocations grew most from the first snapshot written at or
    after the wall-clock time ``mark`` (imports and warm-up are done) to the last one."""
    import tracemalloc

    files = [
        path
        for path in sorted(snapshot_dir.glob("snapshot-*.pickle"))
        if path.stat().st_mtime >= mark
    ]
    if len(files) < 2:
        return [f"only {len(files)} tracemalloc snapshot(s) after the mark; run longer"]
    first = tracemalloc.Snapshot.load(str(files[0]))
    last = tracemalloc.Snapshot.load(str(files[-1]))
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    first, last = first.filter_traces(ignore), last.filter_traces(ignore)
    lines = [f"tracemalloc: {files[0].name} -> {files[-1].name}, biggest growth by traceback"]
    for stat in last.compare_to(first, "traceback")[:top]:
        frames = stat.traceback.format(limit=4, most_recent_first=True)
        where = " <- ".join(line.strip() for line in frames if not line.startswith("    "))
        lines.append(f"{stat.size_diff / 1024:+10.1f} KiB {stat.count_diff:+8d} blocks  {where}")
    return lines


# -- sampling -------------------------------------------------------------------------------------


def rss_mb(pid: int) -> tuple[float, float] | None:
    """``(VmRSS, VmHWM)`` of ``pid`` in MB, or None once it has gone."""
    found: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                key = line.split(":", 1)[0]
                if key in ("VmRSS", "VmHWM"):
                    found[key] = int(line.split()[1]) * 1024 / _MB
    except OSError:
        return None
    return found.get("VmRSS", 0.0), found.get("VmHWM", 0.0)


def receiver_pids(root: int) -> list[int]:
    """``root`` and its child processes (the workers of ``--workers``), from /proc."""
    pids = [root]
    try:
        children = Path(f"/proc/{root}/task/{root}/children").read_text().split()
    except OSError:
        return pids
    for child in children:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        # multiprocessing's resource tracker is a child too; only workers hold the pipeline.
        if b"resource_tracker" not in command:
            pids.append(int(child))
    return pids


@dataclass
class Sample:
    seconds: float
    rss_mb: dict[int, float]
    hwm_mb: dict[int, float]
    sent_requests: int
    stored_failures: int


class Sender(threading.Thread):
    """One client sending a fresh request every ``1 / rate`` seconds until ``stop`` is set."""

    def __init__(
        self,
        target: str,
        rate: float,
        spans: int,
        failure_share: float,
        stop: threading.Event,
        first_seed: int,
        seed_step: int,
    ) -> None:
        super().__init__(name=f"soak-sender-{first_seed}", daemon=True)
        self.endpoint = target
        # Client k of n sends seeds k, k + n, k + 2n...: no two requests alike, and the span
        # times (ten seconds a seed) stay near those of one client.
        self.first_seed, self.seed_step = first_seed, seed_step
        self.rate, self.spans, self.failure_share = rate, spans, failure_share
        self.stop_event = stop
        self.sent = self.failures = self.retries = self.rejected_spans = self.late = 0
        self.errors: list[str] = []

    def run(self) -> None:
        options = [
            ("grpc.max_send_message_length", -1),
            # A connection of its own, as separate agents have, so that the kernel spreads the
            # clients over the workers of --workers (gRPC would share one among channels).
            ("grpc.use_local_subchannel_pool", 1),
        ]
        with grpc.insecure_channel(self.endpoint, options=options) as channel:
            export = channel.unary_unary(TRACE_EXPORT)
            grpc.channel_ready_future(channel).result(timeout=30)
            started = time.monotonic()
            while not self.stop_event.is_set():
                body, failures = build_request(
                    self.first_seed + self.sent * self.seed_step, self.spans, self.failure_share
                )
                self._send(export, body)
                self.sent += 1
                self.failures += failures
                due = started + self.sent / self.rate
                wait = due - time.monotonic()
                if wait > 0:
                    self.stop_event.wait(wait)
                else:
                    self.late += 1

    def _send(self, export: grpc.UnaryUnaryMultiCallable, body: bytes) -> None:
        """Send until answered OK or refused for good (an error kept). A request the receiver
        pushed back is sent again even after the soak's end: it is counted as sent, so it must
        be stored (giving up at the stop made a busy machine's last request a "lost" one)."""
        while True:
            try:
                answer = export(body, timeout=60)
            except grpc.RpcError as error:
                if error.code() in _RETRYABLE:
                    self.retries += 1
                    time.sleep(0.05)
                    continue
                self.errors.append(f"{error.code()}: {error.details()}")
                return
            response = ExportTraceServiceResponse.FromString(answer)
            self.rejected_spans += response.partial_success.rejected_spans
            return


def _count(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM failure_matches").fetchone()
    return int(row[0]) if row else 0


def _receiver_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("FAILCAT_", "OTEL_"))}


# -- the run ----------------------------------------------------------------------------------


def soak(args: argparse.Namespace, log_dir: Path) -> dict[str, Any]:
    with databases.fresh_postgres_database() as url:
        dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        ports = free_ports()
        extra = ["--workers", str(args.workers)] if args.workers > 1 else []
        program: tuple[str, ...] = (sys.executable, "-m", "collector_receiver")
        snapshot_dir = log_dir / "tracemalloc"
        if args.tracemalloc:
            snapshot_dir.mkdir()
            program = (
                *(sys.executable, str(Path(__file__).resolve()), _TRACED),
                *(str(snapshot_dir), str(args.snapshot_seconds)),
            )
        log_path = log_dir / "receiver.log"
        command = serve_command(url, ports, extra_args=extra, program=program)
        child = ReceiverChild(spawn(command, log_path, _receiver_env()), ports, log_path)
        stop = threading.Event()
        target = f"127.0.0.1:{ports.grpc}"
        senders = [
            Sender(
                target, args.rate / args.clients, args.spans, args.share, stop, seed, args.clients
            )
            for seed in range(10_000, 10_000 + args.clients)
        ]
        samples: list[Sample] = []
        try:
            wait_until_ready(child, readyz_answers(child), timeout=60)
            started = time.monotonic()
            mark_wall_clock = time.time() + args.mark_seconds
            for sender in senders:
                sender.start()
            next_print = 60.0
            while (elapsed := time.monotonic() - started) < args.seconds:
                if not child.alive():
                    raise SystemExit(f"the receiver exited: {child.last_log_line()}")
                readings = {pid: rss_mb(pid) for pid in receiver_pids(child.process.pid)}
                live = {pid: r for pid, r in readings.items() if r is not None}
                samples.append(
                    Sample(
                        round(elapsed, 1),
                        {pid: r[0] for pid, r in live.items()},
                        {pid: r[1] for pid, r in live.items()},
                        sum(sender.sent for sender in senders),
                        _count(dsn),
                    )
                )
                if elapsed >= next_print:
                    print(
                        f"{elapsed / 60:5.1f} min  rss {sum(samples[-1].rss_mb.values()):6.1f} MB"
                        f"  sent {samples[-1].sent_requests} requests"
                        f"  stored {samples[-1].stored_failures}",
                        flush=True,
                    )
                    next_print += 60.0
                stop.wait(args.sample_seconds)
            stop.set()
            for sender in senders:
                sender.join(timeout=120)
            failures = sum(sender.failures for sender in senders)
            # Everything sent is stored before the receiver stops: a soak that drops failures
            # to save memory would pass the bars for the wrong reason.
            deadline = time.monotonic() + 120
            while (stored := _count(dsn)) < failures and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            stop.set()
            status = child.stop()
        errors = [error for sender in senders for error in sender.errors]
        if errors:
            raise SystemExit(f"{len(errors)} requests failed, the first: {errors[0]}")
        rejected = sum(sender.rejected_spans for sender in senders)
        if rejected:
            raise SystemExit(f"the receiver rejected {rejected} spans")
        if status != 0:
            raise SystemExit(f"the receiver exited {status}: {child.last_log_line()}")
        if stored < failures:
            raise SystemExit(f"{stored} of {failures} failures stored")
    report = summarise(samples, args.mark_seconds)
    report["traffic"] = {
        "requests": sum(sender.sent for sender in senders),
        "spans": sum(sender.sent for sender in senders) * args.spans,
        "failures": failures,
        "stored_failures": stored,
        "late_requests": sum(sender.late for sender in senders),
        "retries": sum(sender.retries for sender in senders),
        "clients": args.clients,
    }
    report["samples"] = [asdict(sample) for sample in samples]
    if args.tracemalloc:
        report["tracemalloc"] = tracemalloc_report(snapshot_dir, mark_wall_clock)
    return report


def summarise(samples: Sequence[Sample], mark_seconds: float) -> dict[str, Any]:
    """Peak, RSS at the mark and at the end per process, and the figures against the bars."""
    if not samples:
        raise SystemExit("no RSS samples were taken")
    pids = sorted({pid for sample in samples for pid in sample.rss_mb})
    at_mark = next((s for s in samples if s.seconds >= mark_seconds), samples[-1])
    end = samples[-1]
    processes = []
    for pid in pids:
        peak = max(s.hwm_mb.get(pid, 0.0) for s in samples)
        mark = at_mark.rss_mb.get(pid, 0.0)
        last = end.rss_mb.get(pid, 0.0)
        growth = (last - mark) / mark if mark else 0.0
        processes.append(
            {"pid": pid, "peak_mb": peak, "mark_mb": mark, "end_mb": last, "growth": growth}
        )
    worst_peak = max(p["peak_mb"] for p in processes)
    worst_growth = max(p["growth"] for p in processes)
    return {
        "mark_seconds": at_mark.seconds,
        "end_seconds": end.seconds,
        "processes": processes,
        "total_end_mb": sum(end.rss_mb.values()),
        "peak_mb": worst_peak,
        "growth": worst_growth,
        "peak_ratio_to_bar": worst_peak / PEAK_BAR_MB,
        "growth_ratio_to_bar": worst_growth / GROWTH_BAR,
    }


def print_report(report: dict[str, Any]) -> None:
    print(f"{'pid':>8} {'peak MB':>9} {'at mark':>9} {'at end':>9} {'growth':>8}")
    for p in report["processes"]:
        print(
            f"{p['pid']:>8} {p['peak_mb']:>9.1f} {p['mark_mb']:>9.1f} {p['end_mb']:>9.1f} "
            f"{p['growth']:>+8.1%}"
        )
    print(
        f"peak {report['peak_mb']:.1f} MB (bar {PEAK_BAR_MB:.0f}, ratio "
        f"{report['peak_ratio_to_bar']:.2f}); growth {report['growth']:+.1%} from "
        f"{report['mark_seconds']:.0f}s to {report['end_seconds']:.0f}s (bar {GROWTH_BAR:.0%}, "
        f"ratio {report['growth_ratio_to_bar']:.2f}); "
        f"{report['traffic']['stored_failures']} failures stored"
    )
    for line in report.get("tracemalloc", []):
        print(line)


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be above 0")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError("must be above 0 and at most 1")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=_positive, default=10.0)
    parser.add_argument("--rate", type=_positive, default=4.0, help="requests per second")
    parser.add_argument("--spans", type=int, default=500, help="spans per request")
    parser.add_argument("--failure-share", dest="share", type=_share, default=0.05)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--clients",
        type=int,
        help="sending threads, each on a connection of its own, sharing --rate "
        "(default: 2 per worker, so that each worker likely gets traffic)",
    )
    parser.add_argument("--sample-seconds", type=_positive, default=5.0)
    parser.add_argument("--tracemalloc", action="store_true", help="diagnostic mode (slow)")
    parser.add_argument("--snapshot-seconds", type=_positive, default=60.0)
    parser.add_argument("--json", type=Path, help="write the results to this file")
    parser.add_argument("--smoke", action="store_true", help="20 seconds, for CI")
    args = parser.parse_args(argv)
    if args.clients is None:
        args.clients = 1 if args.workers == 1 else 2 * args.workers
    if min(args.workers, args.spans, args.clients) < 1:
        parser.error("--workers, --clients and --spans must be at least 1")
    args.seconds, args.mark_seconds = args.minutes * 60, 60.0
    if args.smoke:
        args.seconds, args.mark_seconds, args.sample_seconds = 20.0, 5.0, 1.0
        args.snapshot_seconds = min(args.snapshot_seconds, 5.0)
    if args.tracemalloc and args.workers > 1:
        parser.error("--tracemalloc traces one interpreter: use it with --workers 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not databases.postgres_available():
        raise SystemExit("PostgreSQL is not reachable (FAILCAT_TEST_PG_URL or 127.0.0.1:5432)")
    started_at = datetime.now(timezone.utc)
    load = list(os.getloadavg())
    print(
        f"soak: {args.seconds / 60:g} min, {args.rate:g} requests/s x {args.spans} spans, "
        f"{args.share:.0%} failing, {args.workers} worker(s), {len(os.sched_getaffinity(0))} "
        f"CPUs, load {load[0]:.2f}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as log_dir:
        report = soak(args, Path(log_dir))
    print_report(report)
    if args.json is not None:
        document = {
            "benchmark": "bench_soak_rss",
            "date": started_at.isoformat(timespec="seconds"),
            "machine": {
                "nproc": len(os.sched_getaffinity(0)),
                "python": platform.python_version(),
                "load_average_at_start": load,
                "load_average_at_end": list(os.getloadavg()),
            },
            "sizes": {
                "minutes": args.seconds / 60,
                "rate": args.rate,
                "spans": args.spans,
                "failure_share": args.share,
                "workers": args.workers,
                "smoke": args.smoke,
                "tracemalloc": args.tracemalloc,
            },
            "bars": {"peak_mb": PEAK_BAR_MB, "growth": GROWTH_BAR},
            **report,
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[1] == _TRACED:
        raise SystemExit(_run_traced_receiver(Path(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]))
    raise SystemExit(main())
