"""The probe part of issue 17's bar, on probe run dirs with known per-item success rates."""
import sys

import pytest

from rlef.analysis.feedback_bar import bar, main
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
