"""rlef/analysis/paper_numbers.csv, the paper's numbers beside our tables: every line names a cell
this repo can produce and cites where the paper prints it (rlef.analysis.paper)."""
import re
from pathlib import Path

import pytest

from rlef.analysis.paper import KEYS, load, number_for

ROOT = Path(__file__).resolve().parents[1]
HEADER = "experiment,model,arm,eval_set,split,metric,mode,percent,source\n"


def choices(group: str) -> set[str]:
    return {p.stem for p in (ROOT / "conf" / group).glob("*.yaml")}


def test_every_shipped_paper_number_names_a_known_cell_and_cites_its_table():
    known = {"model": choices("model"), "arm": choices("arm"), "eval_set": choices("eval_set"),
             "split": {"valid", "test"}, "mode": {"single_turn", "multi_turn"}}
    for n in load():  # the shipped file: parses, every line has experiment, model or arm, metric, source
        assert n["experiment"] in choices("experiment"), n
        assert all(n[k] in known[k] for k in known if n[k]), n
        assert re.fullmatch(r"\d+@\d+", n["metric"]), n
        assert re.fullmatch(r"arXiv 2410\.02089v\d+, Table \d+.*", n["source"]), n
        assert 0 <= float(n["percent"]) <= 100, n


def test_a_line_without_its_source_is_refused(tmp_path):
    path = tmp_path / "paper.csv"
    path.write_text(HEADER + "table1,llama31_8b,,,test,1@3,multi_turn,12.5,\n")
    with pytest.raises(ValueError, match=r"paper.csv:2: needs .*source"):
        load(path)


def test_two_lines_claiming_one_cell_are_refused_rather_than_one_picked(tmp_path):
    path = tmp_path / "paper.csv"
    path.write_text(HEADER + 'table1,llama31_8b,,,test,1@3,multi_turn,12.5,"arXiv 2410.02089v1, Table 1"\n'
                    'table1,llama31_8b,,,,1@3,multi_turn,13.0,"arXiv 2410.02089v1, Table 1"\n')  # no split: any
    row = dict.fromkeys(KEYS, "") | {"model": "llama31_8b", "split": "test", "metric": "1@3", "mode": "multi_turn"}
    with pytest.raises(ValueError, match="2 lines of paper_numbers.csv claim one cell of table1"):
        number_for(row, "table1", load(path))
