# Two commands: `make demo` (sample data -> meltano run -> DuckDB, printed) and `make test`.
PYTHON ?= python3
VENV := .venv
MELTANO_VENV := .venv-meltano
CHECK_VENV := .venv-singer-tools
# Meltano depends on uv, so its environment brings the installer every other one uses.
UV := $(MELTANO_VENV)/bin/uv
UV_VERSION := 0.13.9
# Bytecode compiled at install (by uv, on every core) rather than at each program's first start.
export UV_COMPILE_BYTECODE := 1

.PHONY: demo test lint setup benchmark

demo: $(MELTANO_VENV)/.installed .meltano/.demo-installed
	$(PYTHON) scripts/demo.py

test: setup
	$(VENV)/bin/python -m pytest -n auto

benchmark: setup
	$(VENV)/bin/python benchmarks/throughput.py

lint: setup
	$(VENV)/bin/ruff check tap_messages tests imitations benchmarks scripts
	$(VENV)/bin/mypy

setup: $(VENV)/.installed $(MELTANO_VENV)/.installed .meltano/.installed $(CHECK_VENV)/.installed

$(MELTANO_VENV)/.installed:
	$(PYTHON) -m venv --without-pip $(MELTANO_VENV)
	$(PYTHON) -m pip --python $(MELTANO_VENV)/bin/python install -q --no-deps uv==$(UV_VERSION)
	$(UV) pip install -q --python $(MELTANO_VENV)/bin/python meltano==4.4.1
	touch $@

$(VENV)/.installed: pyproject.toml $(MELTANO_VENV)/.installed
	$(PYTHON) -m venv $(VENV)
	$(UV) pip install -q --python $(VENV)/bin/python -e '.[dev]'
	touch $@

# singer-check-tap (singer-tools) pins old libraries, so it lives in a virtualenv of its own.
$(CHECK_VENV)/.installed: $(MELTANO_VENV)/.installed
	$(PYTHON) -m venv $(CHECK_VENV)
	$(UV) pip install -q --python $(CHECK_VENV)/bin/python singer-tools==0.4.1
	touch $@

# The demo needs only the tap, the embedded DuckDB loader and dbt for DuckDB.
.meltano/.demo-installed: meltano.yml $(MELTANO_VENV)/.installed
	$(MELTANO_VENV)/bin/meltano install tap-messages target-duckdb dbt-duckdb
	touch $@

.meltano/.installed: meltano.yml $(MELTANO_VENV)/.installed
	$(MELTANO_VENV)/bin/meltano install
	touch $@
