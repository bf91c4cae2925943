"""Peak memory of decoding an OTLP/JSON body, as a multiple of the body.

Each measurement runs in a fresh interpreter: it builds a body, resets the process's high-water
mark (``/proc/self/clear_refs``), decodes the body with ``decode_request`` and reads ``VmHWM``
from ``/proc/self/status``. The figure is (peak - resident before decoding) / body size, the
memory decoding takes on top of the body, which is what ``JSON_DECODE_MULTIPLE`` must cover.
Three shapes: ``spans`` (spans with a few attributes, one in ten with an exception event),
``attributes`` (spans with 30 short attributes each: the most Python objects per byte) and
``wide``, the same with one character outside the Basic Multilingual Plane, which makes Python
hold the whole text at 4 bytes a character.

For comparison it also prints the multiple of ``json.loads`` alone, the least a decoder built on
it can take. Linux only.

    python benchmarks/bench_json_memory.py [--sizes 2,8,31]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

_CHILD = r"""
import gc, json, secrets, sys
from collector_receiver.otlp import JSON_DECODE_MULTIPLE, decode_request
from tests.collector_receiver.otlp._helpers import (
    exception_event, otlp_json, resource, span, trace_request,
)

def status(name):
    for line in open("/proc/self/status"):
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024

mib, shape, what = float(sys.argv[1]), sys.argv[2], sys.argv[3]
spans = []
for i in range(500):
    if shape in ("attributes", "wide"):
        attributes = {f"attr.{k}": (k if k % 2 else f"v{k}") for k in range(30)}
        if shape == "wide" and i == 0:
            attributes["emoji"] = "\N{SLIGHTLY SMILING FACE}"  # the whole text 4 bytes a char
    else:
        attributes = {"http.url": "https://example.com/" + secrets.token_hex(20), "n": i}
    events = [exception_event("ValueError", f"bad value {i}")] if i % 10 == 0 else []
    spans.append(span(f"step-{i}", trace_id=secrets.token_bytes(16),
                      span_id=secrets.token_bytes(8), attributes=attributes, events=events))
document = json.loads(otlp_json(trace_request(spans, res=resource("svc"))))
unit = document["resourceSpans"][0]["scopeSpans"][0]["spans"]
size = len(json.dumps(unit))
document["resourceSpans"][0]["scopeSpans"][0]["spans"] = unit * max(1, int(mib * 2**20 / size))
body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
del document, unit, spans
gc.collect()
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")
before = status("VmRSS")
if what == "decode":
    decode_request("traces", body, "application/json")
else:
    json.loads(body)
print(json.dumps({"body": len(body), "multiple": (status("VmHWM") - before) / len(body),
                  "bound": JSON_DECODE_MULTIPLE}))
"""


def _measure(mib: float, shape: str, what: str) -> dict[str, float]:
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(mib), shape, what],
        check=True,
        capture_output=True,
        text=True,
        cwd=root,
    ).stdout
    result: dict[str, float] = json.loads(out)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2,8,31", help="body sizes in MiB, comma-separated")
    args = parser.parse_args()
    worst = 0.0
    bound = 0.0
    for shape in ("spans", "attributes", "wide"):
        for mib in (float(size) for size in args.sizes.split(",")):
            decoded = _measure(mib, shape, "decode")
            parsed = _measure(mib, shape, "json.loads")
            worst = max(worst, decoded["multiple"])
            bound = decoded["bound"]
            print(
                f"{shape:10} {decoded['body'] / 2**20:6.1f} MiB body: decode_request "
                f"{decoded['multiple']:4.1f}x the body, json.loads alone {parsed['multiple']:4.1f}x"
            )
    print(f"worst {worst:.1f}x; JSON_DECODE_MULTIPLE = {bound:g}")
    return 0 if worst <= bound else 1


if __name__ == "__main__":
    raise SystemExit(main())
