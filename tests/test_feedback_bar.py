"""The probe part of issue 17's bar, on probe run dirs with known per-item success rates."""
import sys

import pytest

from rlef.analysis.feedback_bar import bar, eval_bar, main
from test_compare import eval_run
from test_probe_compare import probe_dir

ZERO = [0.0] * 6


def criteria(rows):
    return {r["criterion"]: r for r in rows}


def test_an_arm_that_reads_on_every_held_out_family_meets_the_bar(tmp_path):
    # items 0, 1, 3, 4 are hidden-spec (two families); 2 and 5 regular, which the bar ignores
    warm = probe_dir(tmp_path / "a", {"true": [0.2, 0, 0, 0, 0, 0], "random": ZERO, "none": ZERO})
    arm = probe_dir(tmp_path / "b", {"true": [0.6, 0.4, 1, 0.6, 0.4, 1], "random": [0.2, 0, 1, 0, 0, 1],
                                     "none": ZERO})
    rows = criteria(bar(warm, arm, resamples=200))
    assert rows["arm gap >= +0.15"]["value"] == pytest.approx((0.4 + 0.4 + 0.6 + 0.4) / 4)
    assert rows["arm gap >= 2x warm gap"]["threshold"] == pytest.approx(2 * 0.2 / 4)
    assert all(r["met"] for r in rows.values() if r["met"] != "")
    assert rows["paired change of the gap (not a criterion)"]["value"] == pytest.approx(1.8 / 4 - 0.2 / 4)


def test_a_gap_on_one_family_alone_has_no_ci_above_0_and_misses_twice_the_warm_gap(tmp_path):
    warm = probe_dir(tmp_path / "a", {"true": [0.4, 0, 0, 0.4, 0, 0], "random": ZERO, "none": ZERO})
    arm = probe_dir(tmp_path / "b", {"true": [1, 0, 0, 0.4, 0, 0], "random": ZERO, "none": ZERO})
    rows = criteria(bar(warm, arm, resamples=200))
    assert rows["arm gap >= +0.15"]["met"] is True  # 1.4 / 4 = 0.35
    assert rows["arm gap CI above 0"]["met"] is False  # family hs_index_list is at 0: resamples of it alone
    assert rows["arm gap >= 2x warm gap"]["met"] is False  # 0.35 < 2 x 0.2


def test_a_bank_without_hidden_spec_items_is_refused(tmp_path):
    rates = {c: ZERO for c in ("true", "random", "none")}
    a, b = probe_dir(tmp_path / "a", rates), probe_dir(tmp_path / "b", rates)
    for d in (a, b):  # every item regular
        d.joinpath("probe.csv").write_text(d.joinpath("probe.csv").read_text().replace(",hidden,", ",regular,"))
    with pytest.raises(ValueError, match="no hidden-spec items"):
        bar(a, b, resamples=50)


def test_the_report_names_the_banks_hidden_spec_families_without_calling_them_held_out(tmp_path, monkeypatch):
    # the bank's families decide whether the bar applies (held-out kinds or not): the .md lists them
    warm = probe_dir(tmp_path / "a", {"true": [0.2, 0, 0, 0, 0, 0], "random": ZERO, "none": ZERO})
    arm = probe_dir(tmp_path / "b", {"true": [0.6, 0.4, 0, 0.6, 0.4, 0], "random": ZERO, "none": ZERO})
    monkeypatch.setattr(sys, "argv", ["feedback_bar", str(warm), str(arm), str(tmp_path / "bar"), "--resamples", "50"])
    main()
    report = (tmp_path / "bar.md").read_text()
    assert "(4 items of hs_index_list, hs_yesno_text)" in report and "sort_numbers" not in report
    assert "(held-out families)" not in report


def test_the_1at3_parts_judge_the_gap_on_each_subset_and_the_regular_families_not_worse(tmp_path):
    # 4 hidden-spec and 4 regular families of 3 problems; the arm's multi-turn gains on every hidden problem,
    # single-turn is 0 everywhere; on the regular families the arm loses one family's multi-turn.
    hidden = ("hs_round_ratio", "hs_index_list", "hs_yesno_text", "hs_round_each")
    regular = ("linear_combination", "count_char", "sort_numbers", "digit_sum")
    problems = [f"{f}/p{i}" for f in (*hidden, *regular) for i in range(3)]
    single = {p: [False] for p in problems}
    warm = eval_run(tmp_path / "a", {p: [p.startswith("count_char/")] for p in problems}, single=single)
    arm = eval_run(tmp_path / "b", {p: [p.startswith("hs_")] for p in problems}, single=single)
    rows = {(r["subset"], r["mode"]): r for r in eval_bar(warm, arm, resamples=300)}
    gain = rows[("hidden", "multi_turn_minus_single_turn")]
    assert (gain["value"], gain["ci_low"], gain["met"]) == (1.0, 1.0, True)
    regular_gain = rows[("regular", "multi_turn_minus_single_turn")]
    assert regular_gain["value"] == -0.25 and regular_gain["met"] is False
    assert rows[("regular", "single_turn")]["met"] is True  # 0 -> 0: not worse
    lost_one = rows[("regular", "multi_turn")]  # one family of four lost: a third of the resamples lack it
    assert (lost_one["value"], lost_one["ci_high"], lost_one["met"]) == (-0.25, 0.0, True)
    solves_all = eval_run(tmp_path / "c", {p: [True] for p in problems}, single=single)
    rows = {(r["subset"], r["mode"]): r for r in eval_bar(solves_all, arm, resamples=300)}
    lost_all = rows[("regular", "multi_turn")]
    assert (lost_all["value"], lost_all["ci_high"], lost_all["met"]) == (-1.0, -1.0, False)


def test_the_1at3_parts_refuse_runs_without_both_kinds_of_family(tmp_path):
    runs = [eval_run(tmp_path / n, {"hs_round_ratio/p0": [True]}, single={"hs_round_ratio/p0": [False]})
            for n in ("a", "b")]
    with pytest.raises(ValueError, match="hidden-spec and regular families"):
        eval_bar(*runs, resamples=50)


def test_the_report_with_evaluations_tables_the_1at3_parts_and_names_what_is_missing(tmp_path, monkeypatch):
    warm = probe_dir(tmp_path / "a", {"true": [0.2, 0, 0, 0, 0, 0], "random": ZERO, "none": ZERO})
    arm = probe_dir(tmp_path / "b", {"true": [0.6, 0.4, 0, 0.6, 0.4, 0], "random": ZERO, "none": ZERO})
    problems = ["hs_round_ratio/p0", "linear_combination/p0"]
    evals = [eval_run(tmp_path / n, {p: [ok] for p in problems}, single={p: [False] for p in problems})
             for n, ok in (("ea", False), ("eb", True))]
    monkeypatch.setattr(sys, "argv", ["feedback_bar", str(warm), str(arm), str(tmp_path / "bar"), "--resamples", "50",
                                      "--eval", *map(str, evals)])
    main()
    report = (tmp_path / "bar.md").read_text()
    assert "| hidden (1, 1 problems) | arm's multi - single gap beats the warm start's |" in report
    assert "Not measured here: the control arms" in report and "regular test families" not in report
    assert len((tmp_path / "bar_eval.csv").read_text().splitlines()) == 1 + 4
