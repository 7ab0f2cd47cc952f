"""Paired probe comparison: B - A item by item on one bank, refused across banks."""
import pytest

from rlef.analysis import probe_compare
from rlef.analysis.probe_compare import compare, family_counts
from rlef.provenance import write_csv

FAMILIES = ("hs_yesno_text", "hs_index_list", "sort_numbers")


def probe_dir(path, success: dict, bank="bank-1\n"):
    """A probe run dir: items 0..5 in three families; success[condition] = per-item success rate."""
    rows = [{"temperature": 1.0, "item": i, "problem": f"p{i}", "family": FAMILIES[i % 3],
             "subset": "regular" if FAMILIES[i % 3] == "sort_numbers" else "hidden", "condition": c,
             "success_rate": success[c][i], "ref_logprob_per_token": -1.0 + success[c][i],
             "successes": int(4 * success[c][i]), "samples": 4}
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


def test_family_counts_sum_successes_per_family_arm_and_seed_and_land_beside_the_csv(tmp_path, monkeypatch):
    zero = [0.0] * 6
    a = probe_dir(tmp_path / "a", {"true": [0.5, 0, 0, 0.25, 0, 0], "random": zero, "none": zero})
    b = probe_dir(tmp_path / "b", {"true": [1.0, 1.0, 0, 0.5, 0, 0], "random": [0, 0, 0, 0.5, 0, 0], "none": zero})
    counts = {(c["family"], c["arm"], c["seed"], c["condition"]): (c["successes"], c["samples"])
              for c in family_counts([(a, b), (b, a)])}
    # items 0 and 3 are hs_yesno_text: 2 + 1 successes for A's true feedback, 4 + 2 for B's
    assert counts[("hs_yesno_text", "a", 0, "true")] == (3, 8)
    assert counts[("hs_yesno_text", "b", 0, "true")] == (6, 8)
    assert counts[("hs_yesno_text", "b", 0, "random")] == (2, 8)
    assert counts[("hs_index_list", "b", 0, "true")] == (4, 8)
    assert counts[("hs_yesno_text", "a", 1, "true")] == (6, 8)  # the second pair has the arms swapped
    target = tmp_path / "out" / "b_vs_a"
    monkeypatch.setattr("sys.argv", ["probe_compare", str(a), str(b), str(target), "--seed", str(a), str(b),
                                     "--resamples", "50"])
    probe_compare.main()
    rows = (tmp_path / "out" / "b_vs_a_families.csv").read_text().splitlines()
    assert rows[0] == "temperature,family,arm,seed,condition,successes,samples" and len(rows) == 1 + 3 * 2 * 2 * 3
    md = target.with_suffix(".md").read_text()
    assert "| 1.00 | hs_yesno_text | 6/16 | 0/16 | 0/16 | 12/16 | 4/16 | 0/16 |" in md
