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
NATIVE_SOURCES := native/Cargo.toml native/Cargo.lock native/pyproject.toml \
	native/riskstream_native.pyi $(wildcard native/src/*.rs native/src/*/*.rs)

.PHONY: demo test lint unit integration native-test install broker-start broker-stop clean \
	distclean bench-engine bench-pipeline bench-scorer bench-replay

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# The native runtime (native/, Rust through PyO3): maturin (a dev dependency) builds it
# in release mode into native/target, reused by every rebuild, and installs it with its
# type stub into the venv. Rebuilt when a source changes.
$(BIN)/.native: $(NATIVE_SOURCES) | $(BIN)/.installed
	@$(WITH_CARGO); echo "maturin develop --release --manifest-path native/Cargo.toml"; \
		VIRTUAL_ENV="$(abspath $(VENV))" \
		$(BIN)/maturin develop --quiet --release --manifest-path native/Cargo.toml
	touch $@

install: $(BIN)/.installed $(BIN)/.native

demo: install
	bash deploy/demo.sh

lint: install
	$(BIN)/ruff check riskstream tests benchmarks
	$(BIN)/ruff format --check riskstream tests benchmarks
	$(BIN)/mypy

unit: install
	$(BIN)/pytest tests/unit

integration: install
	$(BIN)/pytest tests/integration

# The Rust side's lint (rustfmt, clippy with warnings as errors) and unit tests (no
# Python linked: the extension-module feature off).
native-test:
	@$(WITH_CARGO); echo "cargo fmt --check; cargo clippy; cargo test (native/)"; \
		cd native && cargo fmt --check && \
		cargo clippy --quiet --no-default-features --lib --examples -- -D warnings && \
		cargo test --quiet --no-default-features --lib --examples

test: lint native-test
	$(BIN)/pytest

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

bench-engine: install
	$(BIN)/python -m benchmarks.engine_throughput

bench-pipeline: install
	$(BIN)/python -m benchmarks.pipeline

bench-scorer: install
	$(BIN)/python -m benchmarks.scorer

bench-replay: install
	$(BIN)/python -m benchmarks.replay

