# The two front-door commands of the README:
#   make demo   installs the project in .venv and runs the main job
#   make test   installs the project with its test tools and runs the whole suite
#   make test-agent-floor   the agent tests on the oldest OpenTelemetry the package allows
# Both create .venv on first use; nothing else needs to be installed by hand.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test test-agent-floor lint typecheck install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/failcat demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The Node.js conformance suite (tests/conformance/test_node_stacks.py) runs the npm packages
# pinned in tests/conformance/node; `npm ci` installs exactly its lockfile, again whenever the
# lockfile or package.json changes (the stamp is inside node_modules, which `npm ci` replaces).
NODE_CONFORMANCE := tests/conformance/node
NODE_STAMP := $(NODE_CONFORMANCE)/node_modules/.installed

$(NODE_STAMP): $(NODE_CONFORMANCE)/package.json $(NODE_CONFORMANCE)/package-lock.json
	cd $(NODE_CONFORMANCE) && npm ci --no-audit --no-fund
	touch $@

test: $(STAMP) $(NODE_STAMP)
	./scripts/ensure-services.sh
	$(MAKE) lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The SDK hooks patch the SDK's own Span, so the agent must work on the oldest OpenTelemetry that
# pyproject allows, not only on the newest. .venv-floor holds exactly that floor (plus the test
# tools and the exporters the subprocess tests use); the receiver's extra is not installed, and
# only tests/otel_failcat runs (--confcutdir keeps the suite-wide conftest and its database
# drivers out).
FLOOR_VENV := .venv-floor
FLOOR_BIN := $(FLOOR_VENV)/bin
FLOOR_PINS := opentelemetry-api==1.27.0 opentelemetry-sdk==1.27.0 \
	opentelemetry-instrumentation==0.48b0 opentelemetry-distro==0.48b0 \
	opentelemetry-exporter-otlp-proto-grpc==1.27.0 opentelemetry-exporter-otlp-proto-http==1.27.0 \
	pytest pytest-asyncio hypothesis
FLOOR_STAMP := $(FLOOR_VENV)/.installed-$(shell (echo '$(FLOOR_PINS)'; cat pyproject.toml) | cksum | cut -d' ' -f1)

$(FLOOR_STAMP): pyproject.toml
	test -x $(FLOOR_BIN)/python || $(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_BIN)/python -m pip install -q --upgrade pip
	$(FLOOR_BIN)/python -m pip install -q -e . $(FLOOR_PINS)
	rm -f $(FLOOR_VENV)/.installed-* && touch $(FLOOR_STAMP)

test-agent-floor: $(FLOOR_STAMP)
	$(FLOOR_BIN)/python -m pytest tests/otel_failcat --confcutdir=tests/otel_failcat $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(FLOOR_VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
