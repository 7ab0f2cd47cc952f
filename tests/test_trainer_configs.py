"""Cluster configs are checked here, on CPU, so a typo fails CI rather than a queued 64-GPU job:
every trainer config builds its real Lightning strategy, the paper-scale experiments carry the
paper's values, the SLURM launcher resolves, and the sbatch scripts parse and compose."""
from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import DictConfig

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
TRAINERS = sorted(p.stem for p in (CONF / "trainer").glob("*.yaml"))
SCRIPTS = {"8b.sh": ("rlef_8b", "meta-llama/Llama-3.1-8B-Instruct", 1),
           "70b.sh": ("rlef_70b", "meta-llama/Llama-3.1-70B-Instruct", 8)}


def compose_with(*overrides: str, hydra: bool = False) -> DictConfig:
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("config", overrides=list(overrides), return_hydra_config=hydra)


def build_strategy(cfg: DictConfig):
    """What rlef.lightning.trainer.build_trainer does with cfg.trainer.strategy."""
    s = cfg.trainer.strategy
    return instantiate(s) if isinstance(s, DictConfig) else s


@pytest.mark.parametrize("trainer", TRAINERS)
def test_every_trainer_config_builds_its_strategy_and_a_valid_precision(trainer):
    from lightning.pytorch.strategies import Strategy

    cfg = compose_with("task=train", "model=tiny_random", f"trainer={trainer}")
    t = cfg.trainer
    assert t.precision in ("32-true", "bf16-mixed", "bf16-true")  # explicit forms, no "16"/"bf16" aliases
    assert t.accelerator in ("cpu", "gpu") and t.devices >= 1 and t.num_nodes >= 1
    strategy = build_strategy(cfg)
    assert isinstance(strategy, (Strategy, str)), type(strategy)


def test_ddp_config_builds_ddp_on_8_gpus_with_fp32_master_weights():
    from lightning.pytorch.strategies import DDPStrategy

    cfg = compose_with("task=train", "model=tiny_random", "trainer=ddp")
    assert (cfg.trainer.accelerator, cfg.trainer.devices) == ("gpu", 8)
    # lr 2e-7 (paper A.1) needs fp32 weights under plain AdamW: bf16-true would freeze them
    assert cfg.trainer.precision == "bf16-mixed"
    strategy = build_strategy(cfg)
    assert type(strategy) is DDPStrategy
    assert strategy._ddp_kwargs == {"find_unused_parameters": False, "gradient_as_bucket_view": True}
    assert strategy._timeout == timedelta(hours=2)


def test_deepspeed_config_builds_zero3_with_optional_cpu_offload():
    from lightning.pytorch.strategies import DeepSpeedStrategy

    cfg = compose_with("task=train", "model=tiny_random", "trainer=deepspeed_z3")
    assert (cfg.trainer.accelerator, cfg.trainer.devices, cfg.trainer.precision) == ("gpu", 8, "bf16-true")
    strategy = build_strategy(cfg)
    assert type(strategy) is DeepSpeedStrategy and strategy.zero_stage_3
    zero = strategy.config["zero_optimization"]
    assert zero["stage"] == 3 and "offload_optimizer" not in zero  # default: all state on GPUs
    assert strategy._timeout == timedelta(hours=2)

    offload = build_strategy(compose_with("task=train", "model=tiny_random", "trainer=deepspeed_z3",
                                          "trainer.strategy.offload_optimizer=true"))
    zero = offload.config["zero_optimization"]
    assert zero["stage"] == 3
    assert zero["offload_optimizer"]["device"] == "cpu" and zero["offload_optimizer"]["pin_memory"] is True
    assert "offload_param" not in zero  # parameters stay on GPU: only optimizer state moves


@pytest.mark.parametrize("trainer", ["ddp", "deepspeed_z3"])
def test_strategy_plugs_into_a_lightning_trainer(trainer):
    """The strategy objects are accepted by a real Trainer (CPU stands in for the GPUs here)."""
    import lightning.pytorch as L

    cfg = compose_with("task=train", "model=tiny_random", f"trainer={trainer}")
    strategy = build_strategy(cfg)
    t = L.Trainer(accelerator="cpu", devices=1, num_nodes=1, precision=cfg.trainer.precision, strategy=strategy,
                  logger=False, enable_checkpointing=False, enable_progress_bar=False)
    assert t.strategy is strategy and t.precision == cfg.trainer.precision


@pytest.mark.parametrize("size,nodes", [("8b", 1), ("70b", 8)])
def test_paper_scale_experiments_keep_the_paper_values(size, nodes):
    cfg = compose_with(f"experiment=rlef_{size}")
    assert cfg.task == "train" and cfg.run_name == f"rlef_{size}"  # fixed: resubmission resumes
    assert cfg.model.name_or_path == f"meta-llama/Llama-3.1-{size.upper()}-Instruct"
    assert cfg.data.name == "code_contests"
    assert cfg.trainer.strategy._target_ == "lightning.pytorch.strategies.DeepSpeedStrategy"
    assert cfg.trainer.strategy.stage == 3 and cfg.trainer.num_nodes == nodes
    a = cfg.algo  # paper A.1 / 2.2 / 3.1
    assert (a.kl_beta, a.lr, a.weight_decay, a.warmup_steps) == (0.05, 2e-7, 0.1, 50)
    assert (a.rollouts_per_iteration, a.minibatch_size, a.ppo_epochs) == (1024, 256, 1)
    assert (a.temperature, a.top_p, a.clip) == (1.0, 1.0, 0.2)
    assert cfg.rollout.max_turns == 3 and "max_turns" not in a  # one turn limit, for training and evaluation
    assert a.critic == "separate" and a.reference == "copy" and not a.lora.enabled
    assert cfg.rollout.max_new_tokens == 2048


def test_slurm_launcher_targets_submitit_and_reads_the_cluster_from_env(monkeypatch):
    for var in ("RLEF_SLURM_PARTITION", "RLEF_SLURM_NODES", "RLEF_SLURM_TIME_MIN", "RLEF_SLURM_GPUS_PER_NODE",
                "RLEF_SLURM_TASKS_PER_NODE"):
        monkeypatch.delenv(var, raising=False)
    launcher = compose_with("launcher=slurm", "task=judge", hydra=True).hydra.launcher
    assert launcher._target_ == "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"
    assert launcher.partition is None and launcher.nodes == 1 and launcher.timeout_min == 1440
    assert launcher.gpus_per_node == launcher.tasks_per_node == 1  # eval/judge: one process, one GPU
    assert launcher.signal_delay_s == 120

    monkeypatch.setenv("RLEF_SLURM_PARTITION", "h100")
    monkeypatch.setenv("RLEF_SLURM_NODES", "4")
    monkeypatch.setenv("RLEF_SLURM_GPUS_PER_NODE", "8")
    monkeypatch.setenv("RLEF_SLURM_TASKS_PER_NODE", "8")
    launcher = compose_with("launcher=slurm", "task=judge", hydra=True).hydra.launcher
    assert (launcher.partition, launcher.nodes, launcher.gpus_per_node, launcher.tasks_per_node) == ("h100", 4, 8, 8)

    default = compose_with("task=judge", hydra=True).hydra.launcher
    assert default._target_ == "hydra._internal.core_plugins.basic_launcher.BasicLauncher"


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_slurm_script_parses(script):
    subprocess.run(["bash", "-n", str(ROOT / "slurm" / script)], check=True)


def _script(script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_") and k != "RLEF_EXPERIMENT"}
    return subprocess.run(["bash", f"slurm/{script}", *args], cwd=ROOT, env={**clean, "DRY_RUN": "1", **env},
                          capture_output=True, text=True, timeout=120)


def _dry_run(script: str, *args: str, **env: str) -> str:
    proc = _script(script, *args, **env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_slurm_script_dry_run_prints_srun_line_and_composed_config_without_slurm(script):
    experiment, model, nodes = SCRIPTS[script]
    out = _dry_run(script, "data.local_path=/datasets/code_contests")
    srun = out.splitlines()[0]
    assert srun.startswith("srun ") and f"experiment={experiment}" in srun and f"run_name={experiment}" in srun
    assert "task: train" in out and f"name_or_path: {model}" in out
    assert f"num_nodes: {nodes}" in out and "devices: 8" in out
    assert "local_path: /datasets/code_contests" in out  # extra arguments reach Hydra


def test_slurm_script_follows_the_allocation_it_runs_in():
    out = _dry_run("70b.sh", SLURM_JOB_NUM_NODES="4", SLURM_NTASKS_PER_NODE="8", SLURM_CPUS_PER_TASK="16")
    assert "num_nodes: 4" in out
    assert "workers: 16" in out  # sandbox workers per rank = the rank's CPUs, not the node's


def test_the_split_layout_script_dry_runs_and_refuses_a_real_start():
    out = _dry_run("8b_split.sh")
    assert out.splitlines()[0].startswith("srun --nodes=1 --relative=0 ") and "experiment=rlef_8b_split" in out
    assert "layout: split" in out and "engine: vllm" in out and "num_nodes: 1" in out
    real = _script("8b_split.sh", DRY_RUN="0")
    assert real.returncode == 2 and "designed (slurm/README.md) but not built" in real.stderr


@pytest.mark.parametrize(("arm", "setting"), [("rlef_8b_single_turn", "mode: single_turn"),
                                              ("rlef_8b_no_feedback", "feedback: none")])
def test_slurm_8b_script_trains_the_8b_arm_named_by_experiment_in_its_own_run(arm, setting):
    out = _dry_run("8b.sh", RLEF_EXPERIMENT=arm)
    srun = out.splitlines()[0]
    assert f"experiment={arm}" in srun and f"run_name={arm}" in srun  # not rlef_8b's run directory
    assert setting in out and "num_nodes: 1" in out and "devices: 8" in out


def test_slurm_script_refuses_an_experiment_override_that_would_train_into_its_run_directory():
    proc = _script("8b.sh", "experiment=rlef_8b_single_turn")
    assert proc.returncode == 2 and "set RLEF_EXPERIMENT=rlef_8b_single_turn instead" in proc.stderr
