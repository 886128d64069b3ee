# The two set-up commands of the README: `make run` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-slow bench clean

install: $(STAMP)

# Re-installs only when the project's dependency files change (idempotent).
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first, from the pinned CPU wheel, so nothing resolves to a CUDA build
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/seekmath run --config tiny --out runs/tiny

test: install
	$(BIN)/python -m pytest -q

test-slow: install
	$(BIN)/python -m pytest -q -m slow

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) runs

# deepseek mode against DeepSeek-Math's own evaluation code, item by item (outside the default suite).
# A throw-away venv with the versions its environment.yml pins; the reference code is imported from
# ../shared/data/reference/deepseek-math-evaluation (DEEPSEEK_REFERENCE) as a test oracle only.
DS_VENV ?= .venv-deepseek
.PHONY: test-deepseek
test-deepseek: install
	test -x $(DS_VENV)/bin/python || $(PY) -m venv $(DS_VENV)
	$(DS_VENV)/bin/python -m pip install -q sympy==1.12 antlr4-python3-runtime==4.11.0 regex==2023.10.3 numpy==1.26.4
	DEEPSEEK_ORACLE_PYTHON=$(abspath $(DS_VENV))/bin/python $(BIN)/python -m pytest -q -s tests/evaluate/test_grade_deepseek_parity.py
