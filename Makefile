# The two commands: `make demo` and `make test`. Both install what they need.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: demo test lint unit integration install broker-start broker-stop clean bench-engine bench-pipeline bench-scorer bench-replay

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

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

test: lint
	$(BIN)/pytest

broker-start:
	bash deploy/local/kafka.sh start

broker-stop:
	bash deploy/local/kafka.sh stop

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache

bench-engine: install
	$(BIN)/python -m benchmarks.engine_throughput

bench-pipeline: install
	$(BIN)/python -m benchmarks.pipeline

bench-scorer: install
	$(BIN)/python -m benchmarks.scorer

bench-replay: install
	$(BIN)/python -m benchmarks.replay

