"""summary.csv copies each run's headline numbers from the files already in its folder."""
import csv

from rlef.analysis.summary import fields, summarise
from rlef.provenance import write_csv

EVAL_HEADER = "mode,turns,metric,solve_rate,solve_rate_ci_low,solve_rate_ci_high,problems\n"
COMPARE_HEADER = "mode,metric,b_minus_a,b_minus_a_ci_low,b_minus_a_ci_high\n"


def _md(path, command):
    path.write_text(f"# {path.stem}\n\nProduced by\n\n```bash\n{command}\n```\n\nat git abc.\n")


def _fake_experiment(root):
    warm, run, untested = root / "warm_start", root / "lr1e-5", root / "h100_lr1e-5"
    for d in (warm, run, untested):
        d.mkdir(parents=True)
    (warm / "eval_test.csv").write_text(EVAL_HEADER + "multi_turn,3,1@3,0.1,0.05,0.2,66\n"
                                        "single_turn,1,1@3,0.15,0.06,0.25,66\n")
    _md(warm / "eval_test.md", "python src/run.py experiment=eval_cpu")
    _md(run / "train.md", "python src/run.py experiment=rlef_cpu algo.lr=1.0e-5")
    _md(untested / "train.md", "python src/run.py experiment=rlef_cpu trainer=gpu")
    (run / "eval_policy_test.csv").write_text(EVAL_HEADER + "multi_turn,3,1@3,0.3,0.2,0.4,66\n")
    (run / "eval_policy_train_heldout.csv").write_text(EVAL_HEADER + "multi_turn,3,1@3,0.7,0.6,0.8,45\n")
    (run / "eval_policy_train_heldout_seed1.csv").write_text(EVAL_HEADER + "multi_turn,3,1@3,0.9,0.8,1.0,45\n")
    (run / "eval_policy_best_test.csv").write_text(EVAL_HEADER + "multi_turn,3,1@3,0.2,0.1,0.3,66\n")
    (run / "eval_policy_test_per_family.csv").write_text("family,mode,solve_rate\nx,multi_turn,1.0\n")
    (run / "compare_policy_test_vs_warm_start.csv").write_text(
        COMPARE_HEADER + "multi_turn,1@3,0.2,0.05,0.35\nmulti_turn_minus_single_turn,1@3,0.5,0.4,0.6\n")
    (run / "compare_policy_test_vs_lr1e-5_policy_best.csv").write_text(COMPARE_HEADER + "multi_turn,1@3,9,9,9\n")


def test_summary_has_one_row_per_evaluated_checkpoint_with_the_numbers_of_its_files(tmp_path):
    _fake_experiment(tmp_path)
    rows = {(r["run"], r["checkpoint"]): r for r in summarise(tmp_path)}
    assert sorted(rows) == [("h100_lr1e-5", ""), ("lr1e-5", "policy"), ("lr1e-5", "policy_best"), ("warm_start", "")]
    final = rows["lr1e-5", "policy"]
    assert final["md"] == "lr1e-5/train.md"
    assert final["command"] == "python src/run.py experiment=rlef_cpu algo.lr=1.0e-5"
    assert (final["test_multi_turn"], final["test_multi_turn_ci_low"], final["test_multi_turn_ci_high"]) == (
        "0.300", "0.200", "0.400")
    assert final["train_heldout_multi_turn"] == "0.700"  # seed 0, not seed 1's 0.9
    assert final["test_paired_against"] == "warm_start"  # not the comparison against another checkpoint
    paired = final["test_multi_turn_vs_warm_start"], final["test_multi_turn_vs_warm_start_ci_high"]
    assert paired == ("0.200", "0.350")
    assert "test_multi_turn_vs_warm_start" not in rows["lr1e-5", "policy_best"]
    warm = rows["warm_start", ""]
    assert (warm["md"], warm["test_single_turn"]) == ("warm_start/eval_test.md", "0.150")
    assert "test_multi_turn" not in rows["h100_lr1e-5", ""]  # trained, never evaluated


def test_summary_csv_has_the_fixed_columns(tmp_path):
    _fake_experiment(tmp_path)
    path = write_csv(summarise(tmp_path), tmp_path / "summary.csv", fields())
    with path.open() as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == fields() and len(list(reader)) == 4
