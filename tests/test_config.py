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


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_an_experiment_that_names_its_own_model_loads_it(experiment):
    """The embedded GGUF kind ignores name_or_path (rlef.models refuses a directory there): an
    experiment pointing at a warm start or policy must say model.kind=hf."""
    from omegaconf import OmegaConf

    model = OmegaConf.to_container(compose_with(f"experiment={experiment}").model, resolve=False)
    if model["kind"] == "smollm2_gguf":
        assert model["name_or_path"] == compose_with("model=smollm2_135m").model.name_or_path


@pytest.mark.parametrize("model", sorted(p.stem for p in (CONF / "model").glob("*.yaml")))
def test_every_model_config_composes(model):
    cfg = compose_with(f"model={model}")
    assert cfg.model.kind in ("hf", "smollm2_gguf", "tiny_random", "openai")


def test_paper_defaults_are_in_the_root_config():
    cfg = compose_with()
    assert (cfg.execution.time_s, cfg.execution.memory_mb) == (10.0, 1024)  # paper A.2
    assert cfg.rollout.max_turns == 3  # paper 3.1
    assert (cfg.eval.temperature, cfg.eval.top_p, cfg.eval.rollouts_per_problem) == (0.2, 0.95, 200)
    assert cfg.eval.bootstrap_resamples == 200


def test_the_rlef_gpu_preset_is_the_command_of_run_10():
    """experiment=rlef_gpu must train exactly as the recorded run 10 (results/rlef_cpu_scale/h100_b256/train.md),
    apart from its name and the sandbox worker count (12 there; one per core here)."""
    import shlex

    from omegaconf import OmegaConf

    record = (CONF.parent / "results" / "rlef_cpu_scale" / "h100_b256" / "train.md").read_text()
    command = next(line for line in record.splitlines() if line.startswith("python src/run.py"))
    overrides = [a for a in shlex.split(command)[2:] if not a.startswith(("run_name=", "execution.workers="))]
    recorded, preset = compose_with(*overrides), compose_with("experiment=rlef_gpu")
    for cfg in (recorded, preset):
        cfg.run_name = "same"
    assert OmegaConf.to_container(preset) == OmegaConf.to_container(recorded)


def test_table1_sweeps_the_papers_sixteen_cells():
    """Paper Table 1: {8B, 70B} x {Instruct, RLEF} x {1@3, 10@100} x {valid, test} on CodeContests."""
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose("config", overrides=["experiment=table1"], return_hydra_config=True)
    params = cfg.hydra.sweeper.params
    grid = {key: str(value).split(",") for key, value in params.items()}
    assert grid == {"model": ["llama31_8b", "rlef_8b", "llama31_70b", "rlef_70b"],
                    "protocol": ["1at3", "10at100"], "eval.split": ["valid", "test"]}
    assert (cfg.task, cfg.data.name, cfg.eval.rollouts_per_problem) == ("eval", "code_contests", 200)
    for model in grid["model"]:
        for protocol in grid["protocol"]:
            cell = compose_with("experiment=table1", f"model={model}", f"protocol={protocol}")
            assert cell.model.kind == "hf"
    one_at_3 = compose_with("experiment=table1", "protocol=1at3").eval
    ten_at_100 = compose_with("experiment=table1", "protocol=10at100").eval
    assert (one_at_3.submissions, one_at_3.sample_budget, one_at_3.temperature, one_at_3.top_p) == (1, 3, 0.2, 0.95)
    assert (ten_at_100.submissions, ten_at_100.sample_budget, ten_at_100.temperature) == (10, 100, 1.0)


@pytest.mark.parametrize(("policy", "instruct"), [("rlef_8b", "llama31_8b"), ("rlef_70b", "llama31_70b"),
                                                  ("rlef_8b_single_turn", "llama31_8b"),
                                                  ("rlef_8b_no_feedback", "llama31_8b")])
def test_the_rlef_models_are_the_instruct_configs_with_the_trained_policy(policy, instruct):
    from omegaconf import OmegaConf

    rlef = OmegaConf.to_container(compose_with(f"model={policy}").model)
    instruct = OmegaConf.to_container(compose_with(f"model={instruct}").model)
    # the run of `RLEF_EXPERIMENT=<policy> slurm/<size>.sh` writes outputs/train/<run_name>/policy_best
    run_name = compose_with(f"experiment={policy}").run_name
    assert rlef.pop("name_or_path").endswith(f"outputs/train/{run_name}/policy_best}}")
    instruct.pop("name_or_path")
    assert rlef == instruct
