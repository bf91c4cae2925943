#!/usr/bin/env bash
# Bring up what the test suite talks to on this machine: the shared PostgreSQL server, the
# Prometheus tools (promtool, prometheus), Chromium and PgBouncer from Debian's packages.
# Idempotent; prints what it does.
set -euo pipefail

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "ensure-services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  echo "ensure-services: installing Debian's prometheus package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq prometheus >/dev/null
  # The package may start a system service on :9090; the tests run their own Prometheus.
  (service prometheus stop || pkill -x prometheus || true) >/dev/null 2>&1
fi

# The UI tests (tests/ui) drive Debian's Chromium through Playwright, launched by path: the
# browser Playwright would download is not reachable from the test machines.
if [ ! -x /usr/bin/chromium ]; then
  echo "ensure-services: installing Debian's chromium package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi

# The PgBouncer tests (tests/e2e/test_pgbouncer_transaction_mode.py) start their own PgBouncer
# in transaction mode from a configuration of their own, on a free port.
if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then
  echo "ensure-services: installing Debian's pgbouncer package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq pgbouncer >/dev/null
  # The package may start a system service on :6432; the tests run their own.
  (service pgbouncer stop || true) >/dev/null 2>&1
fi
