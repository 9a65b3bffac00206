# The two commands: `make demo` and `make test`. Both install what they need.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# rustup puts cargo in $CARGO_HOME/bin (~/.cargo/bin), often not on PATH.
CARGO_BIN := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin
# Puts cargo on PATH, or stops with how to install Rust.
WITH_CARGO := export PATH="$(CARGO_BIN):$$PATH"; command -v cargo >/dev/null 2>&1 || { \
	echo "error: cargo not found (neither on PATH nor in $(CARGO_BIN)): the native runtime needs Rust." >&2; \
	echo "Install it with rustup: curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh" >&2; \
	exit 1; }
# What the installed package's build reads besides the Python sources (which the editable
# install serves from riskstream/ as they are).
NATIVE_SOURCES := native/Cargo.toml native/Cargo.lock \
	$(wildcard native/src/*.rs native/src/*/*.rs native/src/*/*/*.rs)

.PHONY: demo test lint unit integration test-faults native-test install broker-start broker-stop \
	clean distclean bench-pipeline bench-scorer bench-replay evaluate evaluate-model lock audit \
	handbook

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# One install: the locked dependencies, each checked against its hash in requirements.lock
# (`make lock` writes it from pyproject.toml), then `pip install -e .` without them, whose
# build backend, maturin (locked too: no build isolation), compiles the Rust core (native/,
# PyO3) in release mode into native/target and puts it into the package as
# riskstream/_core*.so (the build hook runs `maturin` from PATH: the venv's bin first). When only the Rust sources changed since, `maturin develop
# --skip-install` rebuilds just that module in place, from the same native/target: seconds
# to a minute, not the minutes of a build from nothing. Both see the venv's interpreter as
# $(BIN)/python (pip run as `python -m pip`): another path to it (bin/python3) would
# change PYO3_PYTHON, and cargo would rebuild PyO3 and all that depends on it.
$(BIN)/.installed: pyproject.toml requirements.lock $(NATIVE_SOURCES) | $(BIN)/python
	@$(WITH_CARGO); set -e; \
	$(if $(filter pyproject.toml requirements.lock,$?), \
		echo "pip install --require-hashes -r requirements.lock; pip install --no-deps -e ."; \
		$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock; \
		PATH="$(abspath $(BIN)):$$PATH" \
			$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e ., \
		echo "maturin develop --release --skip-install"; \
		VIRTUAL_ENV="$(abspath $(VENV))" $(BIN)/maturin develop --quiet --release --skip-install)
	touch $@

install: $(BIN)/.installed

demo: install
	bash deploy/demo.sh

lint: install
	$(BIN)/ruff check riskstream tests benchmarks
	$(BIN)/ruff format --check riskstream tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest tests/unit

integration: install
	$(BIN)/pytest tests/integration

# The fault suite (tests/faults, docs/faults.md): each scenario against replay, ~20 min.
# Not part of `make test`: pyproject's addopts deselect the `faults` marker, -m selects it.
# -s shows its progress lines as they come.
test-faults: install
	$(BIN)/pytest -m faults tests/faults -s -rxXfE

# The Rust side's lint (rustfmt, clippy with warnings as errors) and unit tests (no
# Python linked: the extension-module feature off).
native-test:
	@$(WITH_CARGO); echo "cargo fmt --check; cargo clippy; cargo test (native/)"; \
		cd native && cargo fmt --check && \
		cargo clippy --quiet --no-default-features --lib --examples -- -D warnings && \
		cargo test --quiet --no-default-features --lib --examples

test: lint native-test
	$(BIN)/pytest

# requirements.lock from pyproject.toml: every dependency (dev tools included) pinned, with
# the hashes of all its published files, for every platform and Python 3.11+.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --universal \
		--python-version 3.11 --custom-compile-command "make lock" --quiet -o requirements.lock

# Known vulnerabilities in the locked Python dependencies (pip-audit) and the Rust core's
# crates (cargo audit). Both fetch their advisory databases: network needed, so not part
# of `make test`. The first run installs the two tools.
audit: | $(BIN)/python
	$(BIN)/python -m pip install --quiet pip-audit
	$(BIN)/pip-audit --require-hashes --disable-pip -r requirements.lock
	@$(WITH_CARGO); command -v cargo-audit >/dev/null 2>&1 || cargo install --locked cargo-audit; \
		cd native && cargo audit

broker-start:
	bash deploy/local/kafka.sh start

broker-stop:
	bash deploy/local/kafka.sh stop

# `clean` keeps native/target, cargo's build cache (a rebuild from it takes seconds, from
# nothing minutes); `distclean` removes it too.
clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache

distclean: clean
	rm -rf native/target

# Options through ARGS, e.g. a quick run:
#   make bench-pipeline ARGS="--events 5000 --skip-scale --skip-two-workers"
bench-pipeline: install
	$(BIN)/python -m benchmarks.pipeline $(ARGS)

# e.g. make bench-scorer ARGS="--rates 1000 --seconds 5 --scorers 1"
bench-scorer: install
	$(BIN)/python -m benchmarks.scorer $(ARGS)

bench-replay: install
	$(BIN)/python -m benchmarks.replay

# The issue's targets on the held-out data sets (docs/simulator.md), pass or fail.
# Development tokens: simulated data, no real card numbers.
evaluate: install
	RISKSTREAM_DEVELOPMENT=1 $(BIN)/python -m benchmarks.evaluate $(ARGS)

# The same, with a model trained first on the tuning set `model` (a few minutes more).
evaluate-model: install
	RISKSTREAM_DEVELOPMENT=1 $(BIN)/python -m benchmarks.evaluate --train $(ARGS)

# The handbook protocol at the handbook's scale (docs/offline.md#handbook-protocol): its
# card data, its baselines and riskstream's figures on them; 30-60 minutes on 2 cores.
# Development tokens: the data holds no card numbers.
handbook: install
	RISKSTREAM_DEVELOPMENT=1 $(BIN)/riskstream backtest handbook --out reports/handbook

