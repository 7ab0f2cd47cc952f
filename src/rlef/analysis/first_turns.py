"""How far from right are a probe bank's failed first turns on hidden-spec test problems?

    python -m rlef.analysis.first_turns results/feedback_use/probe_bank.jsonl results/feedback_use/warm/first_turns

A failed first turn is "right up to the detail" when its output on every public test is the
expected one but for the open detail: the yes/no words renamed consistently, every position
off by the same one, every rounded value within one of the expected. Only those are fixable
by reading the feedback in one turn; a turn that computes something else needs more than the
detail. A first turn may also carry a train family's habit onto the problem (a "-" separator, a
"<x>" decoration): up_to_detail_and_trained_format counts those right up to the detail once such
marks are taken out, a fix of a trained kind plus the open one. Writes <target>.csv (per family:
items, with output, right up to the detail, ...) and <target>.md (the command).
"""
from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

from omegaconf import OmegaConf

from rlef.data import load_problems
from rlef.data.mini import HIDDEN_FAMILIES
from rlef.execution.executor import Executor
from rlef.execution.types import Job, Limits
from rlef.provenance import module_command, produced_by, write_csv

TEST_KINDS = ("yes/no words", "0- or 1-based positions", "rounding direction")


def _numbers(tokens: list[str]) -> list[float] | None:
    try:
        return [float(t) for t in tokens]
    except ValueError:
        return None


def up_to_detail(kind: str, expected: str, observed: str) -> bool:
    """Is `observed` the `expected` output but for the open detail of `kind`? (test kinds only)"""
    if kind not in TEST_KINDS:
        raise ValueError(f"no 'up to the detail' rule for the detail kind {kind!r}")
    e, o = expected.split(), observed.split()
    if len(e) != len(o) or not e:
        return False
    if kind == "yes/no words":  # one word for yes and one for no, used consistently
        pairs = set(zip(o, e))
        return len({a for a, _ in pairs}) == len(pairs) == len({b for _, b in pairs})
    ne, no = _numbers(e), _numbers(o)
    if ne is None or no is None:
        return False
    if kind == "0- or 1-based positions":
        return len({b - a for a, b in zip(ne, no)}) == 1 and abs(no[0] - ne[0]) <= 1
    return all(abs(a - b) <= 1 for a, b in zip(ne, no))  # rounding direction


def _trained_marks() -> tuple[re.Pattern, re.Pattern]:
    """(line prefixes, inline marks) of the train families' literal output details, from their options."""
    train = [f for f in HIDDEN_FAMILIES.values() if f.split == "train"]
    options = {kind: [o for f in train if f.detail == kind for o in f.options]
               for kind in ("line prefix", "decoration", "separator", "unit suffix", "quotation marks")}
    prefixes = [re.escape(o).replace(re.escape("{i}"), r"\d+") for o in options["line prefix"]]
    marks = {re.escape(c) for o in options["decoration"] for c in o.replace("x", "")}
    marks |= {re.escape(o) for o in options["quotation marks"]}
    marks |= {r"(?<=\S)" + re.escape(o.strip()) + r"(?=\S)" if o.strip() == "-" else re.escape(o.strip())
              for o in options["separator"]}  # "-" only inside a token: a minus sign stays
    marks |= {r"(?<=\d)" + re.escape(o) + r"\b" for o in options["unit suffix"]}
    return (re.compile(r"(?m)^(?:" + "|".join(prefixes) + ")"),
            re.compile("|".join(sorted(marks, key=len, reverse=True))))


_TRAINED_MARKS = _trained_marks()


def without_trained_format(observed: str) -> str:
    """`observed` with the train families' output details (line prefixes, decorations, quotes,
    separators, units) turned into spaces: what a first turn computed under a habit it carried from
    training onto a held-out problem (section 11: "25-27-17" for "25 27 17")."""
    prefixes, marks = _TRAINED_MARKS
    return marks.sub(" ", prefixes.sub("", observed))


def _outputs(result) -> tuple:
    return tuple(tuple(t.observed.split()) for t in result.tests)  # tokens, as the checker reads them


def classify(bank: list[dict], executor: Executor) -> list[dict]:
    """Per hidden-spec family of the bank: items, items with output, items right up to the detail,
    items whose public-test output is exactly that of a near miss (the reference for another
    option: the strictest "only the detail is wrong", the same for every kind), and items right up
    to the detail as printed or once a train family's format is taken out (without_trained_format)."""
    problems = {p.id: p for p in load_problems(OmegaConf.create({"name": "rlef_hidden"}), "test")}
    items = [i for i in bank if i["problem"] in problems]
    used = sorted({i["problem"] for i in items})
    misses = [(pid, code) for pid in used for code in problems[pid].near_misses]
    jobs = [Job(i["code"], problems[i["problem"]].public_tests, Limits(time_s=2)) for i in items]
    jobs += [Job(code, problems[pid].public_tests, Limits(time_s=2)) for pid, code in misses]
    results = executor.run_batch(jobs)
    near = defaultdict(set)
    for (pid, _), result in zip(misses, results[len(items):]):
        near[pid].add(_outputs(result))
    counts = defaultdict(lambda: {"items": 0, "with_output": 0, "up_to_detail": 0, "near_miss_output": 0,
                                  "up_to_detail_and_trained_format": 0})
    for item, result in zip(items, results):
        family = item["family"]
        kind = HIDDEN_FAMILIES[family].detail
        c = counts[family]
        c["items"] += 1
        c["with_output"] += all(t.observed.strip() for t in result.tests)
        exact = [up_to_detail(kind, t.expected, t.observed) for t in result.tests]
        c["up_to_detail"] += all(exact)
        c["near_miss_output"] += _outputs(result) in near[item["problem"]]
        c["up_to_detail_and_trained_format"] += all(e or up_to_detail(kind, t.expected, without_trained_format(
            t.observed)) for e, t in zip(exact, result.tests))
    return [{"family": f, "detail": HIDDEN_FAMILIES[f].detail, **c} for f, c in sorted(counts.items())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bank", type=Path, help="a probe bank (probe_bank.jsonl)")
    parser.add_argument("target", type=Path, help="results/<name> (no extension)")
    args = parser.parse_args()
    bank = [json.loads(line) for line in args.bank.read_text().splitlines() if line.strip()]
    with Executor(2) as executor:
        rows = classify(bank, executor)
    for r in rows:
        print(f"{r['family']:<16} {r['up_to_detail']}/{r['items']} right up to the detail, "
              f"{r['near_miss_output']} exactly a near miss, {r['up_to_detail_and_trained_format']} once a trained "
              f"format is taken out ({r['with_output']} print something on every public test)")
    csv_path = write_csv(rows, args.target.with_suffix(".csv"))
    command = module_command("rlef.analysis.first_turns", None)
    md = produced_by(args.target.name, [command]) + f"\nFile: `{csv_path.name}`.\n"
    args.target.with_suffix(".md").write_text(md)


if __name__ == "__main__":
    main()
