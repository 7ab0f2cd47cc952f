"""task=train end to end on tiny_random: the run's files, every training mode, kill -9 resume."""
import csv
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from rlef.iteration import rollout_config, updates_per_iteration
from rlef.lightning.trainer import build_trainer
from rlef.tasks.train import check_algo

ROOT = Path(__file__).resolve().parents[1]


def train(run_dir: Path, *overrides: str, wait: bool = True):
    cmd = [sys.executable, str(ROOT / "src" / "run.py"), "experiment=train_tiny", f"hydra.run.dir={run_dir}",
           *overrides]
    if not wait:
        return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def start_until_first_checkpoint(run_dir: Path, *overrides: str) -> subprocess.Popen:
    """A training run started in the background, returned once an iteration is checkpointed (or it ended).
    Only the latest checkpoint is kept, so iteration 0's may be gone by the time this looks."""
    process = train(run_dir, *overrides, wait=False)
    deadline = time.time() + 300
    while (not any((run_dir / "checkpoints").glob("iter*.ckpt")) and process.poll() is None
           and time.time() < deadline):
        time.sleep(0.02)
    return process


@pytest.fixture(scope="module")
def uninterrupted_8_updates(tmp_path_factory) -> list[dict]:
    """iterations.csv of the 8-update tiny run, never interrupted: what a stopped run must replay."""
    run_dir = tmp_path_factory.mktemp("reference")
    train(run_dir, "algo.max_updates=8")
    return rows(run_dir)


def rows(run_dir: Path) -> list[dict]:
    with (run_dir / "iterations.csv").open() as f:
        return list(csv.DictReader(f))


def compose_train(*overrides):
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        return compose("config", overrides=["experiment=train_tiny", *overrides])


@pytest.mark.slow
@pytest.mark.sandbox
def test_tiny_training_run_writes_metrics_checkpoint_and_loadable_policies(tmp_path):
    train(tmp_path)
    logged = rows(tmp_path)
    assert [int(float(r["iteration"])) for r in logged] == [0, 1, 2]
    for key in ("rollout/reward", "rollout/solve_rate", "rollout/public_pass_by_turn1", "kl/ref", "losses/clipfrac",
                "losses/value", "losses/explained_variance", "losses/entropy", "rollout/response_tokens",
                "rollout/tokens_per_s"):
        assert logged[-1][key] != "", key
    assert float(logged[0]["updates"]) == 2
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["iter000002.ckpt"]
    assert (tmp_path / "rollouts" / "iter000002_rank0.jsonl").read_text().count("\n") == 4
    assert "val_solve_rate" in (tmp_path / "policy_best" / "selection.json").read_text()
    from transformers import AutoModelForCausalLM

    AutoModelForCausalLM.from_pretrained(tmp_path / "policy")  # task=eval loads it as model.kind=hf
    assert f"python -m rlef.viewer {tmp_path}" in (tmp_path / "run.log").read_text()


@pytest.mark.slow
@pytest.mark.sandbox
def test_kill_9_mid_run_then_the_same_command_resumes_without_repeating_or_losing_iterations(
        tmp_path, uninterrupted_8_updates):
    interrupted = tmp_path / "interrupted"
    process = start_until_first_checkpoint(interrupted, "algo.max_updates=8")
    os.kill(process.pid, signal.SIGKILL)  # mid-run: iteration 1 has started, 2 and 3 have not
    process.wait()
    done_before = len(rows(interrupted))
    assert done_before < 4, "the run finished before it could be killed"
    train(interrupted, "algo.max_updates=8")
    resumed, uninterrupted = rows(interrupted), uninterrupted_8_updates
    assert [r["iteration"] for r in resumed] == ["0", "1", "2", "3"]  # each iteration exactly once
    for a, b in zip(resumed, uninterrupted):  # same data stream, RNG and optimizer state
        for key in ("rollout/reward", "kl/ref", "losses/policy", "losses/value", "values/mean"):
            assert float(a[key]) == pytest.approx(float(b[key]), rel=1e-3, abs=1e-6), (a["iteration"], key)


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_update_count_is_the_configured_one_when_the_minibatch_is_no_multiple_of_the_micro_batch(tmp_path):
    # 8 episodes in micro-batches of 2 = 4 micro-batches; ceil(8 / 3) = 3 minibatches, so 3 updates
    train(tmp_path, "algo.rollouts_per_iteration=8", "algo.minibatch_size=3", "algo.micro_batch_size=2",
          "algo.max_updates=3")
    assert [float(r["updates"]) for r in rows(tmp_path)] == [3.0]


@pytest.mark.slow
@pytest.mark.sandbox
def test_sigterm_stops_mid_iteration_and_the_same_command_resumes(tmp_path, uninterrupted_8_updates):
    stopped = tmp_path / "stopped"
    process = start_until_first_checkpoint(stopped, "algo.max_updates=8")
    process.send_signal(signal.SIGTERM)  # as SLURM does before its SIGKILL
    assert process.wait(timeout=120) == 128 + signal.SIGTERM, "not the code of a run stopped by SIGTERM"
    assert len(rows(stopped)) < 4, "the run finished before the signal"
    assert "stopped by SIGTERM; the same command resumes from" in (stopped / "run.log").read_text()
    train(stopped, "algo.max_updates=8")
    assert [r["iteration"] for r in rows(stopped)] == ["0", "1", "2", "3"]
    for a, b in zip(rows(stopped), uninterrupted_8_updates):
        assert float(a["rollout/reward"]) == pytest.approx(float(b["rollout/reward"]), abs=1e-6)
        assert float(a["losses/policy"]) == pytest.approx(float(b["losses/policy"]), rel=1e-3, abs=1e-6)


@pytest.mark.parametrize(("overrides", "turns", "feedback"), [
    (["algo.mode=multi_turn"], 3, "execution"), (["algo.mode=single_turn"], 1, "execution"),
    (["rollout.feedback=none"], 3, "none"), (["rollout.feedback=random", "rollout.max_turns=2"], 2, "random")])
def test_training_modes_set_turns_and_feedback(overrides, turns, feedback):
    cfg = compose_train(*overrides)
    config = rollout_config(cfg, 1.0, 1.0)
    assert (config.max_turns, config.feedback) == (turns, feedback)


def test_bad_algo_values_fail_before_any_model_is_loaded():
    with pytest.raises(ValueError, match="algo.mode"):
        rollout_config(compose_train("algo.mode=no_feedback"), 1.0, 1.0)
    with pytest.raises(ValueError, match="minibatch_size"):
        check_algo(compose_train("algo.minibatch_size=64").algo)
    for override, message in [("algo.temperature=0", "temperature"), ("algo.temperature=0.7", "temperature"),
                              ("algo.top_p=0.9", "top_p"), ("algo.kl_beta=-1", "kl_beta"), ("algo.clip=0", "clip"),
                              ("algo.gamma=1.5", "gamma"), ("algo.lr=0", "lr"),
                              ("algo.rollouts_per_problem=3", "rollouts_per_problem"),
                              ("algo.mode=no_feedback", "mode")]:
        with pytest.raises(ValueError, match=f"algo.{message}"):
            check_algo(compose_train(override).algo)
    check_algo(compose_train().algo)


def test_paper_defaults_give_four_updates_of_256_per_iteration():
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        algo = compose("config", overrides=["task=train"]).algo
    assert (algo.rollouts_per_iteration, algo.minibatch_size, updates_per_iteration(algo)) == (1024, 256, 4)
    assert (algo.lr, algo.weight_decay, algo.warmup_steps, algo.kl_beta) == (2e-7, 0.1, 50, 0.05)
    assert (algo.temperature, algo.top_p, algo.val_every_updates) == (1.0, 1.0, 800)


def test_cpu_trainer_builds_with_the_csv_logger_and_checkpoint_callback(tmp_path):
    trainer = build_trainer(compose_train(), tmp_path, iterations=5)
    assert trainer.max_epochs == 5 and type(trainer.accelerator).__name__ == "CPUAccelerator"
    assert any(type(c).__name__ == "ModelCheckpoint" for c in trainer.callbacks)
    assert type(trainer.loggers[0]).__name__ == "CSVLogger"


def test_rlef_cpu_preset_documents_its_deviations_and_keeps_the_objective():
    text = (ROOT / "conf" / "experiment" / "rlef_cpu.yaml").read_text()
    cfg = compose_train("experiment=rlef_cpu")
    assert text.count("deviation") >= 6
    assert (cfg.algo.kl_beta, cfg.algo.gamma, cfg.algo.clip, cfg.algo.value_clip) == (0.05, 1.0, 0.2, 0.2)
    assert cfg.algo.temperature == 1.0
    assert OmegaConf.to_container(cfg.model, resolve=False)["name_or_path"].endswith("sft/warm/model")
    assert torch.float32 == getattr(torch, cfg.model.dtype)


def test_deepspeed_keeps_gradient_clipping_and_refuses_lora_it_cannot_export(tmp_path):
    from rlef.lightning.module import RLEFModule
    from rlef.models import PolicyCritic, tiny_random_llama

    cfg = compose_train("trainer=deepspeed_z3_cpu", "algo.lora.enabled=true")
    trainer = build_trainer(cfg, tmp_path, iterations=1)
    assert trainer.strategy.config["gradient_clipping"] == cfg.algo.grad_clip
    module = RLEFModule(PolicyCritic(tiny_random_llama(64)), None, None, [], [], cfg, tmp_path)
    module.trainer = trainer
    with pytest.raises(RuntimeError, match="lora.*ZeRO-3"):
        module.on_fit_start()
    cfg.algo.lora.enabled = False
    module.on_fit_start()


def _relative_difference(run_a: Path, run_b: Path) -> float:
    """|policy_a - policy_b| / |policy_a - initial policy| over all weights of two tiny runs."""
    from safetensors.torch import load_file
    from transformers import AutoTokenizer

    from rlef.models import tiny_random_llama

    a, b = (load_file(run / "policy" / "model.safetensors") for run in (run_a, run_b))
    start = tiny_random_llama(len(AutoTokenizer.from_pretrained(run_a / "policy"))).state_dict()
    diff = sum(((a[k] - b[k]) ** 2).sum() for k in a) ** 0.5
    update = sum(((a[k] - start[k]) ** 2).sum() for k in a) ** 0.5
    return (diff / update).item()


needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (CI has none)")
FP32_GPU = ("trainer.precision=32-true",)


@pytest.mark.slow
@pytest.mark.sandbox
@pytest.mark.parametrize(("plain_args", "zero3_args", "tolerance"), [
    pytest.param((), ("trainer=deepspeed_z3_cpu",), 1e-4, id="cpu"),  # measured 2e-6 (float summation order)
    # Lightning's own DeepSpeedStrategy with NCCL, in fp32 so that the two runs can agree
    pytest.param(("trainer=gpu", *FP32_GPU), ("trainer=deepspeed_z3", "trainer.devices=1", *FP32_GPU), 1e-3,
                 id="gpu", marks=[pytest.mark.gpu, needs_gpu]),  # GPU kernels differ in summation order
])
def test_deepspeed_zero3_trains_like_one_process_then_resumes_from_its_sharded_checkpoint(
        tmp_path, plain_args, zero3_args, tolerance):
    """ZeRO-3 (trainer=deepspeed_z3_cpu on CPU, the real trainer=deepspeed_z3 on a GPU) against one
    plain process. train_tiny's updates each accumulate 2 micro-batches: ZeRO-3 must ADD their
    gradients (it overwrote them, keeping only the last, until the trainer shell moved DeepSpeed's
    micro-step counter; that gave a 0.85 difference on CPU)."""
    from rlef.models import load_tokenizer, tiny_random_llama

    plain, zero3, saved = tmp_path / "plain", tmp_path / "zero3", tmp_path / "tiny"
    tokenizer = load_tokenizer(compose_train().model)
    tiny_random_llama(len(tokenizer)).save_pretrained(saved)  # the same weights, loaded by from_pretrained
    tokenizer.save_pretrained(saved)
    zero3_args = (*zero3_args, "model.kind=hf", f"model.name_or_path={saved}")
    train(plain, "algo.max_updates=2", *plain_args, "model.kind=hf", f"model.name_or_path={saved}")
    first = train(zero3, "algo.max_updates=2", *zero3_args)
    assert _relative_difference(plain, zero3) < tolerance
    assert re.search(r" (\d+) tensors, \1 sharded at creation", first.stdout + first.stderr)  # all of them
    assert (zero3 / "checkpoints" / "iter000000.ckpt").is_dir()  # DeepSpeed writes a folder of shards
    done = train(zero3, "algo.max_updates=4", *zero3_args)
    assert "resuming at iteration 1" in done.stdout + done.stderr
    assert [r["iteration"] for r in rows(zero3)] == ["0", "1"]
    assert sorted(p.name for p in (zero3 / "checkpoints").iterdir())[-1] == "iter000001.ckpt"
    assert "val_solve_rate" in (zero3 / "policy_best" / "selection.json").read_text()


@pytest.mark.slow
@pytest.mark.sandbox
def test_two_zero3_ranks_with_uneven_work_stay_in_step(tmp_path):
    """Two CPU ranks under ZeRO-3, where every forward and backward is a collective, given
    uneven work: 5 rollouts (3 + 2 episodes: rank 1 needs a filler micro-batch) and 3 valid
    problems (2 + 1) sampled one at a time (max_batch=1: rank 0 runs twice the forwards). Without
    rlef.lockstep this run hangs (checked); here it must finish and write its outputs."""
    cmd = [sys.executable, str(ROOT / "src" / "run.py"), "experiment=train_tiny", f"hydra.run.dir={tmp_path}",
           "trainer=deepspeed_z3_cpu", "trainer.devices=2", "algo.rollouts_per_iteration=5", "algo.max_updates=3",
           "algo.val_problems=3", "rollout.max_batch=1", "execution.workers=1"]
    process = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        output, _ = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the ranks, Lightning's child process included
        pytest.fail("the two ranks fell out of step and hung")
    assert process.returncode == 0, output[-3000:]
    assert [r["iteration"] for r in rows(tmp_path)] == ["0"] and float(rows(tmp_path)[0]["updates"]) == 3
    assert sorted(p.name for p in (tmp_path / "rollouts").iterdir()) == ["iter000000_rank0.jsonl",
                                                                        "iter000000_rank1.jsonl"]
    assert (tmp_path / "policy_best" / "selection.json").exists() and (tmp_path / "policy" / "config.json").exists()


def test_wandb_is_opt_in_and_works_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    assert [type(x).__name__ for x in build_trainer(compose_train(), tmp_path / "a", 1).loggers] == ["CSVLogger"]
    trainer = build_trainer(compose_train("logger.wandb=true"), tmp_path / "b", 1)
    wandb_logger = trainer.loggers[1]
    wandb_logger.log_metrics({"rollout/reward": -0.5}, step=0)
    wandb_logger.experiment.finish()
    assert list((tmp_path / "b" / "wandb").glob("offline-run-*"))


@pytest.mark.slow
@pytest.mark.sandbox
@pytest.mark.smollm2
def test_one_training_iteration_on_the_real_smollm2(tmp_path):
    """experiment=train_smoke (make smoke), cut to 2 short episodes: the real chat template,
    tokenizer and weights go through rollouts, scoring, one PPO update and the export."""
    cmd = [sys.executable, str(ROOT / "src" / "run.py"), "experiment=train_smoke", f"hydra.run.dir={tmp_path}",
           "algo.rollouts_per_iteration=2", "algo.minibatch_size=2", "algo.max_updates=1",
           "rollout.max_new_tokens=16", "algo.val_problems=1"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    (row,) = rows(tmp_path)
    assert float(row["rollout/episodes"]) == 2 and float(row["updates"]) == 1
    assert (tmp_path / "policy" / "model.safetensors").is_file()


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.sandbox
@needs_gpu
@pytest.mark.parametrize("offload", [False, True])
def test_paper_scale_trainer_config_runs_on_one_gpu(tmp_path, offload):
    """conf/trainer/deepspeed_z3.yaml as the SLURM scripts use it (bf16-true), with and without
    the optimizer offloaded to host RAM (DeepSpeed's CPU Adam, compiled on first use)."""
    train(tmp_path, "algo.max_updates=2", "trainer=deepspeed_z3", "trainer.devices=1",
          f"trainer.strategy.offload_optimizer={str(offload).lower()}")
    logged = rows(tmp_path)[-1]
    assert float(logged["updates"]) == 2
    assert all(torch.isfinite(torch.tensor(float(logged[k]))) for k in ("losses/policy", "losses/value"))
    assert (tmp_path / "policy" / "model.safetensors").exists()
