"""Paired probe comparison: B - A item by item on one bank, refused across banks."""
import pytest

from rlef.analysis.probe_compare import compare
from rlef.provenance import write_csv

FAMILIES = ("hs_yesno_text", "hs_index_list", "sort_numbers")


def probe_dir(path, success: dict, bank="bank-1\n"):
    """A probe run dir: items 0..5 in three families; success[condition] = per-item success rate."""
    rows = [{"temperature": 1.0, "item": i, "problem": f"p{i}", "family": FAMILIES[i % 3],
             "subset": "regular" if FAMILIES[i % 3] == "sort_numbers" else "hidden", "condition": c,
             "success_rate": success[c][i], "ref_logprob_per_token": -1.0 + success[c][i]}
            for i in range(6) for c in ("true", "random", "none")]
    write_csv(rows, path / "probe.csv")
    (path / "probe_bank.jsonl").write_text(bank)
    return path


def test_the_difference_of_true_minus_random_is_taken_item_by_item(tmp_path):
    zero = [0.0] * 6
    a = probe_dir(tmp_path / "a", {"true": [0.5, 0, 0, 0, 0, 0], "random": zero, "none": zero})
    b = probe_dir(tmp_path / "b", {"true": [1.0, 1.0, 0, 0.5, 0, 0], "random": [0, 0, 0, 0.5, 0, 0], "none": zero})
    rows = {(r["subset"], r["metric"], r["quantity"]): r for r in compare(a, b, resamples=200)}
    gap = rows[("all", "success_rate", "true_minus_random")]
    assert gap["a"] == pytest.approx(0.5 / 6) and gap["b"] == pytest.approx(2 / 6)
    assert gap["b_minus_a"] == pytest.approx(1.5 / 6) and gap["items"] == 6 and gap["families"] == 3
    assert gap["ci_low"] <= gap["b_minus_a"] <= gap["ci_high"]
    hidden = rows[("hidden", "success_rate", "true")]
    assert hidden["items"] == 4 and hidden["b_minus_a"] == pytest.approx((0.5 + 1 + 0.5 + 0) / 4)
    assert rows[("regular", "ref_logprob_per_token", "random")]["b_minus_a"] == pytest.approx(0.0)


def test_two_banks_are_not_paired(tmp_path):
    zero = {c: [0.0] * 6 for c in ("true", "random", "none")}
    with pytest.raises(ValueError, match="different banks"):
        compare(probe_dir(tmp_path / "a", zero), probe_dir(tmp_path / "b", zero, bank="bank-2\n"))


def test_seeds_are_pooled_item_by_item_and_must_share_the_bank(tmp_path):
    zero = [0.0] * 6
    runs = {name: probe_dir(tmp_path / name, {"true": t, "random": zero, "none": zero})
            for name, t in (("a1", zero), ("b1", [1.0] * 6), ("a2", [0.5] * 6), ("b2", [0.5, 0, 0, 0, 0, 0]))}
    one = {(r["subset"], r["metric"], r["quantity"]): r for r in compare(runs["a1"], runs["b1"], resamples=200)}
    both = {(r["subset"], r["metric"], r["quantity"]): r
            for r in compare(runs["a1"], runs["b1"], resamples=200, more=[(runs["a2"], runs["b2"])])}
    key = ("all", "success_rate", "true")
    assert one[key]["b_minus_a"] == pytest.approx(1.0) and one[key]["seeds"] == 1
    # seed 2: B - A = 0 on item 0, -0.5 on the others; pooled per item: 0.5, 0.25 x 5
    assert both[key]["b_minus_a"] == pytest.approx((0.5 + 5 * 0.25) / 6) and both[key]["seeds"] == 2
    assert both[key]["a"] == pytest.approx(0.25)
    other = probe_dir(tmp_path / "c", {"true": zero, "random": zero, "none": zero}, bank="bank-2\n")
    with pytest.raises(ValueError, match="different banks"):
        compare(runs["a1"], runs["b1"], resamples=200, more=[(runs["a2"], other)])
