"""Failed first turns "right up to the detail": only the open detail differs from the expected output."""
import pytest
from omegaconf import OmegaConf

from rlef.analysis.first_turns import classify, up_to_detail, without_trained_format
from rlef.data import load_problems


def test_each_test_kind_allows_exactly_its_detail_to_differ():
    assert up_to_detail("yes/no words", "OK\nFAIL\nOK\n", "YES\nNO\nYES\n")
    assert not up_to_detail("yes/no words", "OK\nFAIL\nOK\n", "YES\nYES\nNO\n")  # a wrong answer
    assert up_to_detail("0- or 1-based positions", "3 5\n", "2 4\n")
    assert not up_to_detail("0- or 1-based positions", "3 5\n", "2 5\n")
    assert not up_to_detail("0- or 1-based positions", "3\n", "7\n")
    assert up_to_detail("rounding direction", "3\n7\n", "3.5\n6.6\n")
    assert not up_to_detail("rounding direction", "3\n", "10\n")
    assert not up_to_detail("rounding direction", "3\n7\n", "3\n")  # a line missing
    with pytest.raises(ValueError, match="separator"):
        up_to_detail("separator", "1,2", "1 2")


def test_trained_formats_come_out_and_nothing_else():
    assert without_trained_format("25-27-17-1\n").split() == "25 27 17 1".split()
    assert up_to_detail("rounding direction", "20\n10\n", without_trained_format("<20.0>\n[10.5]\n"))
    assert without_trained_format("Case #2: OK\n> FAIL\n").split() == ["OK", "FAIL"]
    assert without_trained_format("'a', `b` | 7 cm; 8mm").split() == ["a", "b", "7", "8"]
    assert without_trained_format("-3 -4\nN/A\n").split() == ["-3", "-4", "N/A"]  # minus signs and words stay


@pytest.mark.sandbox
def test_references_are_right_and_other_programs_are_not(executor):
    problems = [p for p in load_problems(OmegaConf.create({"name": "rlef_hidden"}), "test")][::8]
    bank = [{"problem": p.id, "family": p.family, "code": p.reference_solution} for p in problems]
    bank += [{"problem": p.id, "family": p.family, "code": "print(12345)"} for p in problems]
    bank += [{"problem": p.id, "family": p.family, "code": p.near_misses[0]} for p in problems]
    rows = classify(bank, executor)
    assert {r["family"] for r in rows} == {p.family for p in problems}
    assert all(r["items"] == 3 and r["up_to_detail"] == 2 and r["near_miss_output"] == 1
               and r["up_to_detail_and_trained_format"] == 2 for r in rows)
