"""``failcat traffic``: synthetic agents sending realistic failures over real OTLP.

::

    failcat traffic                                   # 100 failures, 3 services, to 127.0.0.1:4317
    failcat traffic --protocol http --endpoint http://127.0.0.1:4318 --count 500 --services 6
    failcat traffic --seed 7 --uncataloged-share 0.2 --rate 50
    failcat traffic --endpoint https://failcat.internal:4317 --ca ca.pem \
        --client-cert agent.pem --client-key agent.key       # TLS, mutual TLS

Each synthetic service has its own OpenTelemetry ``TracerProvider`` and the SDK's OTLP span
exporter (gRPC, or HTTP/protobuf); agent runs produce GenAI span trees with one failure each in
three of four runs, recorded through ``otel_failcat`` (see :mod:`collector_receiver.traffic`).
A progress bar is drawn on stderr when it is a terminal; the last line on stdout says how many
failures and spans were delivered. If the endpoint cannot be reached (an export fails), the
command stops and exits 1 with the reason.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from collector_receiver.cli._errors import CommandError
from collector_receiver.cli._flag_types import integer, number
from collector_receiver.environment_variables import FAILCAT_AUTH_TOKEN

if TYPE_CHECKING:
    from collector_receiver.traffic import TrafficSpec

_DEFAULT_COUNT = 100
_DEFAULT_SERVICES = 3
_DEFAULT_UNCATALOGED_SHARE = 0.1


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "traffic",
        help="send synthetic agent failures over OTLP (real SDK and exporters)",
        description=(
            "Run synthetic agents that raise realistic failures (the default catalog's and some "
            "it does not know) inside GenAI span trees and export them with the OpenTelemetry "
            "SDK's OTLP exporters."
        ),
    )
    parser.add_argument(
        "--endpoint",
        metavar="URL",
        help="receiver or collector (default http://127.0.0.1:4317 for grpc, :4318 for http)",
    )
    parser.add_argument(
        "--protocol", choices=("grpc", "http"), default="grpc", help="OTLP transport (grpc)"
    )
    add_mix_arguments(parser, count=_DEFAULT_COUNT, services=_DEFAULT_SERVICES)
    parser.add_argument(
        "--uncataloged-share",
        metavar="F",
        type=number,
        default=_DEFAULT_UNCATALOGED_SHARE,
        help=f"share of failures no catalog entry knows ({_DEFAULT_UNCATALOGED_SHARE})",
    )
    parser.add_argument(
        "--rate",
        metavar="R",
        type=number,
        default=0.0,
        help="failures per second; 0 = as fast as possible (0)",
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=number,
        default=10.0,
        help="seconds an export may take, retries included (10)",
    )
    parser.add_argument(
        "--token",
        metavar="TOKEN",
        help="bearer token for the receiver (default $FAILCAT_AUTH_TOKEN)",
    )
    parser.add_argument(
        "--ca",
        metavar="FILE",
        help="PEM CA that signed the receiver's certificate, for https:// (default: system's)",
    )
    parser.add_argument(
        "--client-cert", metavar="FILE", help="PEM client certificate, for mutual TLS"
    )
    parser.add_argument("--client-key", metavar="FILE", help="PEM key of --client-cert")
    parser.set_defaults(handler=_run)


def add_mix_arguments(parser: argparse.ArgumentParser, *, count: int, services: int) -> None:
    """``--count``, ``--services`` and ``--seed``: what to send, shared with ``failcat demo``.

    Only the syntax is checked here; the ranges are :class:`TrafficSpec`'s.
    """
    parser.add_argument(
        "--count", metavar="N", type=integer, default=count, help=f"failures to send ({count})"
    )
    parser.add_argument(
        "--services",
        metavar="K",
        type=integer,
        default=services,
        help=f"synthetic services, 1 to 6 ({services})",
    )
    parser.add_argument(
        "--seed",
        metavar="S",
        type=integer,
        help="random seed: the same seed sends the same mix",
    )


def _run(args: argparse.Namespace) -> int:
    from collector_receiver.traffic import TrafficError, run_traffic
    from collector_receiver.traffic._progress import ProgressBar

    spec = build_spec(args)
    bar = ProgressBar(spec.count, "failures")
    try:
        result = run_traffic(spec, progress=bar)
    except TrafficError as exc:
        raise CommandError(str(exc), exit_code=1) from None
    finally:
        bar.close()
    print(result.summary_line())
    return 0


def build_spec(args: argparse.Namespace) -> TrafficSpec:
    """A :class:`TrafficSpec` from the parsed flags; CommandError for a value it refuses."""
    from collector_receiver.traffic import ClientTls, TrafficSpec

    try:
        return TrafficSpec(
            endpoint=args.endpoint,
            protocol=args.protocol,
            count=args.count,
            services=args.services,
            seed=args.seed,
            uncataloged_share=args.uncataloged_share,
            rate=args.rate,
            timeout=args.timeout,
            token=args.token or os.environ.get(FAILCAT_AUTH_TOKEN) or None,
            tls=(
                ClientTls(args.ca, args.client_cert, args.client_key)
                if args.ca or args.client_cert or args.client_key
                else None
            ),
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from None
