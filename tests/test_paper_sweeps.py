"""The paper-scale sweeps (conf/experiment/<table>.yaml, launcher=slurm): every job composes and
is the experiment it claims to be, and the dry run (rlef.sweep_plan) lists the jobs as Hydra's
sweeper would launch them, without a cluster."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hydra import initialize_config_dir
from omegaconf import OmegaConf, open_dict

from rlef.evaluation import rollouts_for_budget
from rlef.rollout import RolloutConfig
from rlef.sweep_plan import main as plan_main
from rlef.sweep_plan import sweep_jobs

CONF = Path(__file__).resolve().parents[1] / "conf"
MODELS = ["llama31_8b", "rlef_8b", "llama31_70b", "rlef_70b"]
PROTOCOLS = {"1at3": (1, 3, 0.2), "10at100": (10, 100, 1.0)}  # submissions, sample budget, temperature (3.1)


def points(experiment: str, *extra: str) -> list[tuple[dict, object]]:
    """(the job's overrides as a dict, its composed config) for every job of the sweep."""
    _, jobs, configs = sweep_jobs([f"experiment={experiment}", "launcher=slurm", *extra], CONF)
    return [(dict(o.split("=", 1) for o in job), cfg) for job, cfg in zip(jobs, configs)]


def grid(jobs, *keys: str) -> list[tuple]:
    return sorted(tuple(overrides[k] for k in keys) for overrides, _ in jobs)


def product(*axes) -> list[tuple]:
    return sorted(itertools.product(*axes))


def assert_protocol(cfg, protocol: str) -> None:
    submissions, budget, temperature = PROTOCOLS[protocol]
    assert (cfg.eval.submissions, cfg.eval.sample_budget, cfg.eval.temperature, cfg.eval.top_p) == (
        submissions, budget, temperature, 0.95)


def without_run_specifics(cfg) -> dict:
    """The job's config without hydra's bookkeeping and the timestamped run name."""
    plain = OmegaConf.to_container(cfg, resolve=False)
    plain.pop("hydra"), plain.pop("run_name")
    return plain


def test_table2_is_every_model_on_every_benchmark_in_both_inference_modes(monkeypatch):
    """Paper Table 2: {8B, 70B} x {Instruct, RLEF} x {CodeContests valid, test, HumanEval+, MBPP+},
    1@3, each job scoring single-turn and multi-turn inference."""
    monkeypatch.setenv("RLEF_HUMANEVAL_PLUS", "/data/HumanEvalPlus.jsonl.gz")
    monkeypatch.setenv("RLEF_MBPP_PLUS", "/data/MbppPlus.jsonl.gz")
    benchmarks = {"code_contests_valid": ("code_contests", "valid"), "code_contests_test": ("code_contests", "test"),
                  "humaneval_plus": ("humaneval_plus", "test"), "mbpp_plus": ("mbpp_plus", "test")}
    jobs = points("table2")
    assert grid(jobs, "model", "eval_set") == product(MODELS, benchmarks)
    for overrides, cfg in jobs:
        assert (cfg.task, cfg.hydra.runtime.choices.model) == ("eval", overrides["model"])
        assert (cfg.data.name, cfg.eval.split) == benchmarks[overrides["eval_set"]]
        assert_protocol(cfg, "1at3")
        assert cfg.eval.single_turn_baseline and cfg.eval.rollouts_per_problem == 200
        assert (cfg.rollout.max_turns, cfg.rollout.feedback, cfg.rollout.feedback_tests) == (3, "execution", "public")
    paths = {cfg.data.name: cfg.data.path for _, cfg in jobs if cfg.data.name != "code_contests"}
    assert paths == {"humaneval_plus": "/data/HumanEvalPlus.jsonl.gz", "mbpp_plus": "/data/MbppPlus.jsonl.gz"}


def test_table2_api_is_table2s_evaluation_of_a_model_behind_a_chat_api(monkeypatch):
    """The paper's GPT-4o rows: table2's jobs, the same in everything but the model (chat completions)
    and the launcher (an API needs no GPU node), with replies whole (no stop at the first code block,
    which a server cannot do)."""
    monkeypatch.setenv("RLEF_HUMANEVAL_PLUS", "/data/HumanEvalPlus.jsonl.gz")
    monkeypatch.setenv("RLEF_MBPP_PLUS", "/data/MbppPlus.jsonl.gz")
    paper = {o["eval_set"]: cfg for o, cfg in points("table2") if o["model"] == "llama31_8b"}
    _, jobs, configs = sweep_jobs(["experiment=table2_api"], CONF)
    api = {dict(o.split("=", 1) for o in job)["eval_set"]: cfg for job, cfg in zip(jobs, configs)}
    assert len(api) == len(jobs) and sorted(api) == sorted(paper)
    for eval_set, cfg in api.items():
        twin = paper[eval_set]
        assert (cfg.model.kind, cfg.model.name_or_path, cfg.rollout.stop_after_code) == ("openai", "gpt-4o", False)
        assert cfg.hydra.launcher._target_.endswith("BasicLauncher")
        ours, theirs = without_run_specifics(cfg), without_run_specifics(twin)
        for plain in (ours, theirs):
            plain.pop("model"), plain.pop("table")
        assert ours == theirs


@pytest.mark.parametrize(("arm", "differs"), [("rlef_8b_single_turn", {"algo": {"mode": "single_turn"}}),
                                              ("rlef_8b_no_feedback", {"rollout": {"feedback": "none"}})])
def test_the_8b_training_arms_are_rlef_8b_but_for_the_one_setting_they_ablate(arm, differs):
    """Table 4's single-turn arm and the no-feedback arm train exactly as RLEF does (paper A.1),
    so the comparison isolates multi-turn training and the feedback itself."""
    base = without_run_specifics(points("rlef_8b")[0][1])
    (_, cfg), = points(arm)
    assert cfg.run_name == arm  # slurm/8b.sh's default run name: RLEF_EXPERIMENT; the model config reads it
    ablated = without_run_specifics(cfg)
    for group, values in differs.items():
        for key, value in values.items():
            assert base[group][key] != value and ablated[group][key] == value
            base[group][key] = value
    assert ablated == base


def test_table4_evaluates_each_training_arm_in_both_inference_modes():
    """Paper Table 4: {Instruct, single-turn RL, multi-turn RL} x {1@3, 10@100} x {valid, test} at
    8B; single- and multi-turn inference are the two modes of each job."""
    jobs = points("table4")
    assert grid(jobs, "model", "protocol", "eval.split") == product(
        ["llama31_8b", "rlef_8b_single_turn", "rlef_8b"], PROTOCOLS, ["valid", "test"])
    for overrides, cfg in jobs:
        assert (cfg.task, cfg.data.name, cfg.eval.split) == ("eval", "code_contests", overrides["eval.split"])
        assert cfg.hydra.runtime.choices.model == overrides["model"]
        assert_protocol(cfg, overrides["protocol"])
        assert cfg.eval.single_turn_baseline and cfg.rollout.max_turns == 3 and cfg.rollout.feedback == "execution"


def test_no_feedback_rl_evaluates_its_policy_with_and_without_feedback():
    jobs = points("no_feedback_rl")
    assert grid(jobs, "rollout.feedback", "protocol", "eval.split") == product(
        ["none", "execution"], PROTOCOLS, ["valid", "test"])
    for overrides, cfg in jobs:
        assert (cfg.task, cfg.data.name, cfg.hydra.runtime.choices.model) == ("eval", "code_contests",
                                                                              "rlef_8b_no_feedback")
        assert cfg.rollout.feedback == overrides["rollout.feedback"] and cfg.rollout.max_turns == 3
        assert_protocol(cfg, overrides["protocol"])


def test_private_feedback_is_table1_with_twenty_private_tests_and_eight_failures_shown():
    table1 = {tuple(sorted(o.items())): cfg for o, cfg in points("table1")}
    jobs = points("private_feedback")
    assert grid(jobs, "model", "protocol", "eval.split") == product(MODELS, PROTOCOLS, ["valid", "test"])
    for overrides, cfg in jobs:
        rollout = RolloutConfig.from_config(cfg.rollout, cfg.eval.temperature, cfg.eval.top_p)
        assert (rollout.feedback_tests, rollout.max_failures_shown, rollout.feedback) == ("private", 8, "execution")
        public = table1[tuple(sorted({**overrides, "experiment": "table1"}.items()))]
        expected = without_run_specifics(public)
        expected["rollout"] |= {"feedback_tests": "private", "max_failures_shown": 8}
        assert without_run_specifics(cfg) == expected  # also single_turn_baseline false, as table1


def test_turn_limit_sweeps_one_to_ten_turns_with_true_and_random_feedback():
    """Paper Fig. 4 left / C.2: turn limit 1..10 x {true, random} feedback x {pass@1, 10@100}."""
    jobs = points("turn_limit")
    assert grid(jobs, "model", "rollout.max_turns", "rollout.feedback", "protocol") == product(
        ["llama31_8b", "rlef_8b"], [str(t) for t in range(1, 11)], ["execution", "random"], ["pass1", "10at100"])
    for overrides, cfg in jobs:
        turns = int(overrides["rollout.max_turns"])
        rollout = RolloutConfig.from_config(cfg.rollout, cfg.eval.temperature, cfg.eval.top_p)
        assert (rollout.max_turns, rollout.feedback) == (turns, overrides["rollout.feedback"])
        assert (cfg.task, cfg.data.name, cfg.eval.split) == ("eval", "code_contests", "test")
        drawn = rollouts_for_budget(cfg.eval.sample_budget, turns)
        if overrides["protocol"] == "pass1":  # one rollout, however many turns it takes
            assert (cfg.eval.submissions, drawn, cfg.eval.temperature, cfg.eval.top_p) == (1, 1, 0.2, 0.95)
        else:
            assert_protocol(cfg, "10at100")
            assert drawn == 100 // turns <= cfg.eval.rollouts_per_problem


def test_error_recovery_is_8b_before_and_after_rlef_with_true_and_random_feedback():
    """Paper Fig. 3: {Instruct, RLEF} x {true, random feedback} x {valid, test}, multi-turn only,
    20 rollouts per problem (3.1's count for analyses), tabulated by the per-turn analysis."""
    jobs = points("error_recovery")
    assert grid(jobs, "model", "rollout.feedback", "eval.split") == product(
        ["llama31_8b", "rlef_8b"], ["execution", "random"], ["valid", "test"])
    for overrides, cfg in jobs:
        assert (cfg.task, cfg.data.name, cfg.eval.split) == ("eval", "code_contests", overrides["eval.split"])
        assert cfg.hydra.runtime.choices.model == overrides["model"] and cfg.rollout.max_turns == 3
        assert cfg.rollout.feedback == overrides["rollout.feedback"]
        assert_protocol(cfg, "1at3")
        assert (cfg.eval.rollouts_per_problem, cfg.eval.single_turn_baseline) == (20, False)
        assert cfg.table.analysis == "error_recovery"


def test_chrf_is_8b_before_and_after_rlef_with_true_feedback():
    """Paper Fig. 4 right: {Instruct, RLEF} x {valid, test}, true feedback, as error_recovery otherwise."""
    jobs = points("chrf")
    assert grid(jobs, "model", "eval.split") == product(["llama31_8b", "rlef_8b"], ["valid", "test"])
    recovery = {(o["model"], o["eval.split"]): cfg for o, cfg in points("error_recovery")
                if o["rollout.feedback"] == "execution"}
    for overrides, cfg in jobs:
        expected = without_run_specifics(recovery[(overrides["model"], overrides["eval.split"])])
        expected["table"] |= {"analysis": "chrf", "rows": ["model"]}
        assert without_run_specifics(cfg) == expected


@pytest.mark.parametrize(("experiment", "feedbacks"), [("error_recovery_cpu", ["execution", "random"]),
                                                      ("chrf_cpu", ["execution"])])
def test_the_cpu_analysis_sweeps_compare_the_copy_warm_start_with_its_rlef_policy(experiment, feedbacks):
    """CPU scale: the two models of `make reproduce` on rlef_mix's held-out families, 8 rollouts each."""
    jobs = points(experiment, "launcher=local")
    assert grid(jobs, "model", "rollout.feedback") == product(["smollm2_warm_copy", "smollm2_rlef_copy"], feedbacks)
    paths = {"smollm2_warm_copy": "outputs/sft/feedback_warm_copy/model",
             "smollm2_rlef_copy": "outputs/train/feedback_rlef_main/policy"}
    for overrides, cfg in jobs:
        assert (cfg.task, cfg.data.name, cfg.eval.split, cfg.model.kind) == ("eval", "rlef_mix", "test", "hf")
        assert OmegaConf.to_container(cfg.model)["name_or_path"].endswith(paths[overrides["model"]] + "}")
        assert (cfg.eval.rollouts_per_problem, cfg.eval.single_turn_baseline, cfg.rollout.max_turns) == (8, False, 3)
        assert cfg.table.analysis == experiment.removesuffix("_cpu")


STATED_ARMS = {  # model choice: (the training run's overrides on experiment=feedback_rlef_stated, its run_name)
    "smollm2_rlef_stated": ([], "feedback_rlef_stated_20"),
    "smollm2_single_stated": (["algo.mode=single_turn"], "feedback_stated_single_20"),
    "smollm2_nofb_stated": (["rollout.feedback=none"], "feedback_stated_nofb_20")}


def feedback_eval_settings(cfg) -> tuple:
    return (cfg.task, cfg.data.name, cfg.eval.split, cfg.model.kind, cfg.eval.rollouts_per_problem,
            cfg.eval.single_turn_baseline, cfg.eval.single_turn_samples, cfg.eval.temperature, cfg.rollout.max_turns)


def test_table4_and_no_feedback_rl_at_cpu_scale_evaluate_issue_17s_arms_as_feedback_eval_does():
    """Table 4 / no-feedback RL at CPU scale: the stated warm start and its three 20-update RL arms, each job
    the evaluation of experiment=feedback_eval (the runs of experiments/feedback_use.md sections 20 and 24)."""
    (_, reference), = points("feedback_eval", "launcher=local")
    table4 = points("table4_cpu", "launcher=local")
    assert grid(table4, "model") == sorted([("smollm2_warm_stated",), ("smollm2_single_stated",),
                                            ("smollm2_rlef_stated",)])
    nofb = points("no_feedback_rl_cpu", "launcher=local")
    assert grid(nofb, "rollout.feedback") == [("execution",), ("none",)]
    assert {cfg.hydra.runtime.choices.model for _, cfg in nofb} == {"smollm2_nofb_stated"}
    for overrides, cfg in table4 + nofb:
        assert feedback_eval_settings(cfg) == feedback_eval_settings(reference)
        assert cfg.rollout.feedback == overrides.get("rollout.feedback", "execution")
    assert feedback_eval_settings(reference) == ("eval", "rlef_mix", "test", "hf", 8, True, 8, 0.2, 3)
    assert resolved(reference, "model.name_or_path").endswith("outputs/sft/feedback_warm_stated/model}")


@pytest.mark.parametrize("model", STATED_ARMS)
def test_each_cpu_arm_is_the_policy_its_training_command_writes_from_the_stated_warm_start(model):
    """The command in model/<arm>.yaml trains from the warm start table4_cpu's first row evaluates, differs from
    RLEF's run in the one setting it ablates, and writes the policy the model config reads."""
    extra, run_name = STATED_ARMS[model]
    (_, rlef), = points("feedback_rlef_stated", "launcher=local", "algo.max_updates=20")
    (_, arm), = points("feedback_rlef_stated", "launcher=local", "algo.max_updates=20", *extra, f"run_name={run_name}")
    (_, evaluated), = points("feedback_eval", "launcher=local", f"model={model}")
    (_, warm), = points("feedback_eval", "launcher=local")
    assert (arm.task, arm.hydra.run.dir) == ("train", f"outputs/train/{run_name}")
    assert resolved(evaluated, "model.name_or_path").endswith(f"/outputs/train/{run_name}/policy}}")
    trained_from = resolved(arm, "model.name_or_path")
    assert resolved(warm, "model.name_or_path") == "${oc.env:RLEF_WARM_STATED," + trained_from + "}"
    differs = {k for k in ("algo.mode", "rollout.feedback", "algo.lr", "algo.max_updates", "seed")
               if OmegaConf.select(arm, k) != OmegaConf.select(rlef, k)}
    assert differs == {key.split("=")[0] for key in extra}


def resolved(cfg, key: str) -> str:
    """A value as configured (${hydra:runtime.cwd} and ${oc.env:...} unresolved: no Hydra run here)."""
    node = OmegaConf.to_container(OmegaConf.select(cfg, key.rsplit(".", 1)[0]))
    return node[key.rsplit(".", 1)[1]]


TABLE3_ARMS = {"instruct": ("llama31_8b", 0), "few_shot": ("llama31_8b", 2), "sft": ("sft_8b", 0),
               "rlef": ("rlef_8b", 0)}


def test_table3_is_every_feedback_baseline_and_rlef_on_valid_and_test():
    """Paper Table 3: Instruct, few-shot repair prompting, SFT on mined trajectories, RLEF; 8B,
    {1@3, 10@100} x {valid, test}, multi-turn inference."""
    jobs = points("table3")
    assert grid(jobs, "arm", "protocol", "eval.split") == product(TABLE3_ARMS, PROTOCOLS, ["valid", "test"])
    for overrides, cfg in jobs:
        model, shots = TABLE3_ARMS[overrides["arm"]]
        assert (cfg.hydra.runtime.choices.model, cfg.eval.few_shot_repairs) == (model, shots)
        assert cfg.eval.repair_model is None
        assert (cfg.task, cfg.data.name, cfg.eval.split) == ("eval", "code_contests", overrides["eval.split"])
        assert_protocol(cfg, overrides["protocol"])
        assert (cfg.eval.rollouts_per_problem, cfg.rollout.max_turns, cfg.rollout.max_new_tokens) == (200, 3, 2048)
    sft = next(cfg for o, cfg in jobs if o["arm"] == "sft")
    assert resolved(sft, "model.name_or_path").endswith("outputs/sft/table3_sft/model}")


def test_table3_sft_trains_on_the_mined_trajectories_with_the_papers_settings():
    """Paper Table 3: loss on the last response, lr 5e-6 or 2e-6, 2-3 epochs, batch 64, cosine;
    trajectories mined from the Instruct model at T ~ U(0.1, 1) on train problems."""
    (_, mine), = points("table3_mine")
    assert (mine.task, mine.data.name, mine.mine.split, mine.hydra.runtime.choices.model) == (
        "mine", "code_contests", "train", "llama31_8b")
    assert (mine.mine.temperature_low, mine.mine.temperature_high, mine.run_name) == (0.1, 1.0, "table3_mine")
    jobs = points("table3_sft")
    assert grid(jobs, "sft.lr", "sft.epochs") == product(["2e-06", "5e-06"], ["2", "3"])
    for overrides, cfg in jobs:
        assert (cfg.task, cfg.hydra.runtime.choices.model, cfg.sft.batch_size, cfg.sft.schedule) == (
            "sft", "llama31_8b", 64, "cosine")
        assert (cfg.sft.lr, cfg.sft.epochs) == (float(overrides["sft.lr"]), int(overrides["sft.epochs"]))
        assert resolved(cfg, "sft.trajectories").endswith("outputs/mine/table3_mine/trajectories.jsonl")
        assert cfg.sft.repair_share == 0.0


def test_table3_at_cpu_scale_has_the_same_arms_on_the_copy_warm_start():
    arms = {"warm_copy": ("smollm2_warm_copy", 0), "few_shot_copy": ("smollm2_warm_copy", 2),
            "sft_copy": ("smollm2_sft_copy", 0), "rlef_copy": ("smollm2_rlef_copy", 0)}
    jobs = points("table3_cpu", "launcher=local")
    assert grid(jobs, "arm") == sorted((a,) for a in arms)
    for overrides, cfg in jobs:
        assert (cfg.hydra.runtime.choices.model, cfg.eval.few_shot_repairs) == arms[overrides["arm"]]
        assert (cfg.task, cfg.data.name, cfg.eval.split) == ("eval", "rlef_mix", "test")
        assert cfg.eval.rollouts_per_problem == 8
    (_, mine), = points("table3_mine_cpu", "launcher=local")
    (_, sft), = points("table3_sft_cpu", "launcher=local")
    assert (mine.task, mine.data.name, mine.hydra.runtime.choices.model) == ("mine", "rlef_hidden_copy",
                                                                            "smollm2_warm_copy")
    assert (sft.task, sft.data.name, sft.hydra.runtime.choices.model, sft.sft.schedule) == (
        "sft", "rlef_hidden_copy", "smollm2_warm_copy", "cosine")
    assert resolved(sft, "sft.trajectories").endswith("outputs/mine/table3_mine_cpu/trajectories.jsonl")
    assert resolved(sft, "model.name_or_path").endswith("outputs/sft/feedback_warm_copy/model}")


def test_two_model_pairs_the_single_turn_generator_with_an_sft_repair_model():
    """Paper B.3: the single-turn RL policy writes turn 1, the repair model (SFT on the generator's
    failed generations and their repairs) the later turns."""
    jobs = points("two_model")
    assert grid(jobs, "protocol", "eval.split") == product(PROTOCOLS, ["valid", "test"])
    for overrides, cfg in jobs:
        assert (cfg.task, cfg.hydra.runtime.choices.model, cfg.rollout.max_turns) == ("eval", "rlef_8b_single_turn", 3)
        assert resolved(cfg, "eval.repair_model").endswith("outputs/sft/two_model_repair/model}")
        assert_protocol(cfg, overrides["protocol"])
    (_, mine), = points("two_model_mine")
    (_, sft), = points("two_model_sft")
    assert (mine.task, mine.hydra.runtime.choices.model, mine.run_name) == ("mine", "rlef_8b_single_turn",
                                                                            "two_model_mine")
    assert (sft.task, sft.hydra.runtime.choices.model, sft.run_name) == ("sft", "llama31_8b", "two_model_repair")
    assert resolved(sft, "sft.trajectories").endswith("outputs/mine/two_model_mine/trajectories.jsonl")


def test_sweep_plan_expands_a_sweep_as_hydras_basic_sweeper_does(tmp_path):
    """The dry run lists the jobs Hydra's own sweeper hands its launcher, in its order, including
    a command-line value that replaces one of the experiment's sweep axes."""
    from hydra._internal.callbacks import Callbacks
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.global_hydra import GlobalHydra
    from hydra.plugins.launcher import Launcher
    from hydra.types import HydraContext

    class Recorder(Launcher):
        def __init__(self) -> None:
            self.jobs: list[list[str]] = []

        def setup(self, **kwargs) -> None: ...

        def launch(self, job_overrides, initial_job_idx):
            self.jobs += [list(job) for job in job_overrides]
            return []

    overrides = ["experiment=table1", "launcher=slurm", "eval.split=test"]
    primary, planned, _ = sweep_jobs(overrides, CONF)
    with initialize_config_dir(str(CONF), version_base="1.3"):
        sweeper = BasicSweeper(max_batch_size=None, params=dict(primary.hydra.sweeper.params))
        with open_dict(primary):
            primary.hydra.sweep.dir = str(tmp_path)  # where the sweeper saves multirun.yaml
        sweeper.config, sweeper.launcher = primary, Recorder()
        sweeper.hydra_context = HydraContext(config_loader=GlobalHydra.instance().config_loader(),
                                             callbacks=Callbacks())
        sweeper.sweep(arguments=overrides)
    assert sweeper.launcher.jobs == planned and len(planned) == 8


def test_sweep_plan_prints_the_slurm_resources_and_one_entry_per_job(capsys, monkeypatch):
    monkeypatch.setenv("RLEF_SLURM_PARTITION", "h100")
    plan_main(["experiment=table4", "launcher=slurm", "--config-dir", str(CONF)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "12 jobs, launcher SlurmLauncher"
    assert "partition=h100" in lines[1] and "gpus_per_node=1" in lines[1] and "timeout_min=1440" in lines[1]
    jobs = [line for line in lines if line.startswith("#")]
    assert jobs[0] == "#0 model=llama31_8b protocol=1at3 eval.split=valid" and len(jobs) == 12
    first = lines[lines.index(jobs[0]) + 1]
    assert "task=eval" in first and "data.name=code_contests" in first and "eval.single_turn_baseline=True" in first


def test_sweep_plan_fails_on_a_job_that_cannot_compose():
    from hydra.errors import ConfigCompositionException

    with pytest.raises(ConfigCompositionException, match="eval_set/code_contests_train"):
        sweep_jobs(["experiment=table2", "eval_set=code_contests_valid,code_contests_train"], CONF)


@pytest.mark.parametrize("experiment", ["table1", "table2", "table2_api", "table4", "no_feedback_rl",
                                        "private_feedback", "turn_limit", "error_recovery", "chrf", "table3",
                                        "two_model"])
def test_paper_scale_evaluations_decode_as_far_as_training(experiment, monkeypatch):
    """Llama 3.1 explains before it codes: an evaluation at the root's 512 tokens would cut replies
    that training (2048, model/llama31_*.yaml) let finish, and score them as having no code."""
    monkeypatch.setenv("RLEF_HUMANEVAL_PLUS", "/data/HumanEvalPlus.jsonl.gz")
    monkeypatch.setenv("RLEF_MBPP_PLUS", "/data/MbppPlus.jsonl.gz")
    for _, cfg in points(experiment):
        assert cfg.rollout.max_new_tokens == 2048
