"""Every config composes: a typo in an experiment fails here, not on a cluster."""
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

CONF = Path(__file__).resolve().parents[1] / "conf"
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))


def compose_with(*overrides):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("config", overrides=list(overrides), return_hydra_config=False)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_composes_and_resolves(experiment):
    from omegaconf import OmegaConf

    cfg = compose_with(f"experiment={experiment}")
    OmegaConf.to_container(cfg, resolve=False)  # interpolations are checked by the run itself
    assert cfg.task


@pytest.mark.parametrize("model", sorted(p.stem for p in (CONF / "model").glob("*.yaml")))
def test_every_model_config_composes(model):
    cfg = compose_with(f"model={model}")
    assert cfg.model.kind in ("hf", "smollm2_gguf", "tiny_random")


def test_paper_defaults_are_in_the_root_config():
    cfg = compose_with()
    assert (cfg.execution.time_s, cfg.execution.memory_mb) == (10.0, 1024)  # paper A.2
    assert cfg.rollout.max_turns == 3  # paper 3.1
    assert (cfg.eval.temperature, cfg.eval.top_p, cfg.eval.rollouts_per_problem) == (0.2, 0.95, 200)
    assert cfg.eval.bootstrap_resamples == 200


def test_the_rlef_gpu_preset_is_the_command_of_run_10():
    """experiment=rlef_gpu must train exactly as the recorded run 10 (results/train_rlef_h100_b256.md),
    apart from its name and the sandbox worker count (12 there; one per core here)."""
    import shlex

    from omegaconf import OmegaConf

    record = (CONF.parent / "results" / "train_rlef_h100_b256.md").read_text()
    command = next(line for line in record.splitlines() if line.startswith("python src/run.py"))
    overrides = [a for a in shlex.split(command)[2:] if not a.startswith(("run_name=", "execution.workers="))]
    recorded, preset = compose_with(*overrides), compose_with("experiment=rlef_gpu")
    for cfg in (recorded, preset):
        cfg.run_name = "same"
    assert OmegaConf.to_container(preset) == OmegaConf.to_container(recorded)
