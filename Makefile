# Two commands: `make demo` (sample data -> meltano run -> DuckDB, printed) and `make test`.
PYTHON ?= python3
VENV := .venv
MELTANO_VENV := .venv-meltano
CHECK_VENV := .venv-singer-tools

.PHONY: demo test lint setup benchmark

demo: setup
	$(VENV)/bin/python scripts/demo.py

test: setup
	$(VENV)/bin/python -m pytest

benchmark: setup
	$(VENV)/bin/python benchmarks/throughput.py

lint: setup
	$(VENV)/bin/ruff check tap_messages tests imitations benchmarks scripts
	$(VENV)/bin/mypy

setup: $(VENV)/.installed $(MELTANO_VENV)/.installed .meltano/.installed $(CHECK_VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

$(MELTANO_VENV)/.installed:
	$(PYTHON) -m venv $(MELTANO_VENV)
	$(MELTANO_VENV)/bin/pip install -q meltano==4.4.1
	touch $@

# singer-check-tap (singer-tools) pins old libraries, so it lives in a virtualenv of its own.
$(CHECK_VENV)/.installed:
	$(PYTHON) -m venv $(CHECK_VENV)
	$(CHECK_VENV)/bin/pip install -q singer-tools==0.4.1
	touch $@

.meltano/.installed: meltano.yml $(MELTANO_VENV)/.installed
	$(MELTANO_VENV)/bin/meltano install
	touch $@
