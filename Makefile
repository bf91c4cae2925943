# The two front-door commands of the README:
#   make demo   installs the project in .venv and runs the main job
#   make test   installs the project with its test tools and runs the whole suite
#   make test-agent-floor   the agent tests on the oldest OpenTelemetry the package allows
#   make test-conformance-latest   the conformance suite against the newest releases of its libraries
# Both create .venv on first use; nothing else needs to be installed by hand.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test test-agent-floor test-conformance-latest test-conformance-latest-python test-conformance-latest-node lint typecheck install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,conformance]'
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

# The same Node.js suite against the newest release of each package (not the pinned lockfile).
test-conformance-latest-node: $(STAMP)
	./scripts/conformance-latest-node.sh $(PYTEST_ARGS)

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

# The conformance suite (tests/conformance) raises real failures through the agent libraries the
# default catalog names; `make test` runs it on the versions pinned in pyproject's `conformance`
# extra (and tests/conformance/node). This target runs it on the newest releases instead, in a
# venv of its own, so a library that renames a class or rewords a message shows up as a failing
# test before users meet it. The names come from the extra itself (pins stripped), so the two
# lists cannot drift apart. Each language adds its own prerequisite to test-conformance-latest.
LATEST_VENV := .venv-latest
LATEST_BIN := $(LATEST_VENV)/bin
CONFORMANCE_NAMES = $(shell $(PYTHON) -c "import re, tomllib; \
	extra = tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['conformance']; \
	print(' '.join(re.split('[=<>!~; ]', r, maxsplit=1)[0] for r in extra))")

test-conformance-latest-python:
	test -x $(LATEST_BIN)/python || $(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_BIN)/python -m pip install -q --upgrade pip
	$(LATEST_BIN)/python -m pip install -q -e '.[test]'
	$(LATEST_BIN)/python -m pip install -q --upgrade $(CONFORMANCE_NAMES)
	$(LATEST_BIN)/python -m pip list 2>/dev/null | grep -i -E "^($(shell echo $(CONFORMANCE_NAMES) | tr ' ' '|')) "
	$(LATEST_BIN)/python -m pytest tests/conformance/python $(PYTEST_ARGS)

test-conformance-latest: test-conformance-latest-python test-conformance-latest-node

clean:
	rm -rf $(VENV) $(FLOOR_VENV) $(LATEST_VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
