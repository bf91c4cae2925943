#!/usr/bin/env bash
# The Node.js conformance suite against the newest release of every agent library it pins: a copy
# of tests/conformance/node (without node_modules and lockfile) in a temporary directory, each
# library installed at @latest there, then tests/conformance/test_node_stacks.py pointed at
# that copy. A library that renamed an error or reworded a message fails a test here before users
# see it as UNCATALOGED. The pinned copy and its lockfile are left alone.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
pinned="$root/tests/conformance/node"
work="$(mktemp -d "${TMPDIR:-/tmp}/failcat-node-latest.XXXXXX")"
trap 'rm -rf "$work"' EXIT

tar -C "$pinned" --exclude=node_modules --exclude=package-lock.json -cf - . | tar -C "$work" -xf -
cd "$work"
# The libraries that raise the failures move to their newest release; the OpenTelemetry packages
# that record them stay at their pins (their majors move together and rename packages, 2.x to 3.x
# is a change of record.mjs, not a question for the catalog).
mapfile -t latest < <(node -p "
  Object.keys(require('./package.json').dependencies)
    .filter((name) => !name.startsWith('@opentelemetry/'))
    .map((name) => name + '@latest')
    .join('\n')
")
echo "conformance-latest-node: installing ${latest[*]}"
npm install --no-audit --no-fund --save-exact "${latest[@]}" >/dev/null
npm ls --depth=0

cd "$root"
FAILCAT_NODE_CONFORMANCE_DIR="$work" "${PYTHON:-.venv/bin/python}" -m pytest \
  tests/conformance/test_node_stacks.py tests/conformance/test_node_logged_one_row.py "$@"
