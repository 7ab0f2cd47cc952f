"""Episode files -> records in rlef.rollout.episode_record's schema (problem, family, turns with
user / response / code / public_verdicts / public_passed, solved, infra_error, final_verdicts),
each with `facets` (what the run varies: eval mode, training iteration, probe condition) and
`tags` (where the episode came from, shown on its card).

Three inputs, told apart by path, then by the keys of the first line:
  task=eval   <run dir>/samples.jsonl                  one episode a line, with its "mode"
  task=train  <run dir>/rollouts/iterNNNNNN_rankR.jsonl one file per iteration and rank
  task=probe  <run dir>/second_turns.jsonl              one sampled second turn a line; its first
              turn is the bank's (probe_bank.jsonl next to it, or --bank)
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import OmegaConf

from rlef.data import SHIPPED_HIDDEN, SHIPPED_MINI
from rlef.errors import BadInput
from rlef.feedback import NO_FEEDBACK_PROMPT, first_prompt
from rlef.provenance import run_command

log = logging.getLogger(__name__)

ROLLOUT_FILE = re.compile(r"iter(\d+)_rank(\d+)\.jsonl$")
# rollout.feedback -> the probe's condition names, so both kinds of run filter alike
FEEDBACK_CONDITION = {"execution": "true", "random": "random", "none": "none"}
# A failed test's entry in the feedback text (rlef.feedback's templates) -> its verdict
FEEDBACK_ENTRY = re.compile(r"` failed:(\nExpected output `| Execution took too long\.| Out of memory\."
                            r"| Output limit exceeded\.|\n)")
ENTRY_VERDICT = {"\nExpected output `": "WRONG_OUTPUT", " Execution took too long.": "TIMEOUT",
                 " Out of memory.": "OUT_OF_MEMORY", " Output limit exceeded.": "OUTPUT_LIMIT", "\n": "EXCEPTION"}
WHAT_WE_READ = ("samples.jsonl (task=eval), rollouts/iter*_rank*.jsonl (task=train) or "
                "second_turns.jsonl (task=probe)")


@dataclass
class Run:
    kind: str  # eval | train | probe
    source: Path  # what the user named
    run_dir: Path  # where run_info.json and config.yaml would be
    records: list[dict] = field(default_factory=list)
    meta: dict = field(default_factory=dict)  # shown in the page's header


def detect(path: Path) -> tuple[str, list[Path]]:
    """(kind, episode files) of a run dir or a file; anything else is a one-line BadInput."""
    if path.is_dir():
        if (path / "samples.jsonl").is_file():
            return "eval", [path / "samples.jsonl"]
        folder = path / "rollouts" if (path / "rollouts").is_dir() else path
        files = sorted(f for f in folder.glob("iter*_rank*.jsonl") if ROLLOUT_FILE.search(f.name))
        if files:
            return "train", files
        if (path / "second_turns.jsonl").is_file():
            return "probe", [path / "second_turns.jsonl"]
        raise BadInput(f"{path} holds no episodes: expected {WHAT_WE_READ}")
    if not path.is_file():
        raise BadInput(f"{path} does not exist")
    keys = _first_keys(path)
    if {"problem", "turns"} <= keys:
        return ("train" if ROLLOUT_FILE.search(path.name) else "eval"), [path]
    if {"condition", "sample", "code", "passed"} <= keys:
        return "probe", [path]
    if {"true_feedback", "random_feedback"} <= keys:
        raise BadInput(f"{path} is a probe bank (first turns only): view the probe's second_turns.jsonl "
                       f"with --bank {path}")
    raise BadInput(f"{path} is not an episode file: expected {WHAT_WE_READ}")


def _first_keys(path: Path) -> set[str]:
    with path.open() as f:
        for line in f:
            if line.strip():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    raise BadInput(f"{path} is not JSON lines: expected {WHAT_WE_READ}") from None
                return set(row) if isinstance(row, dict) else set()
    raise BadInput(f"{path} is empty")


def read_jsonl(path: Path) -> list[dict]:
    """Every line of a JSON-lines file. A cut last line (a run still writing) is skipped with a
    warning; a bad line anywhere else is an error naming it."""
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    rows = []
    for number, line in enumerate(lines, 1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:
            if number < len(lines):
                raise BadInput(f"{path}:{number}: not JSON ({e.msg})") from None
            log.warning("%s: last line is cut (a run still writing?): skipped", path)
    return rows


def load(path: Path, bank: Path | None = None, iterations: set[int] | None = None) -> Run:
    """The records of one input, with its run's provenance in meta."""
    kind, files = detect(path)
    run_dir = files[0].parent.parent if kind == "train" and files[0].parent.name == "rollouts" else files[0].parent
    config = _config(run_dir)
    if kind == "eval":
        records = [{**r, "facets": {"mode": r.get("mode", "")}} for r in read_jsonl(files[0])]
    elif kind == "train":
        records = _train_records(files, iterations)
    else:
        records = _probe_records(files[0], bank or files[0].parent / "probe_bank.jsonl", config)
    if kind != "probe":
        condition = FEEDBACK_CONDITION.get(OmegaConf.select(config, "rollout.feedback", default=None) or "", "")
        for r in records:
            r["facets"]["feedback"] = condition
    return Run(kind, path, run_dir, records, {"kind": kind, **run_meta(run_dir, config)})


def _train_records(files: list[Path], iterations: set[int] | None) -> list[dict]:
    records = []
    for path in files:
        iteration, rank = (int(x) for x in ROLLOUT_FILE.search(path.name).groups())
        if iterations is None or iteration in iterations:
            records += [{**r, "facets": {"iteration": str(iteration), "rank": str(rank)}} for r in read_jsonl(path)]
    if not records:
        raise BadInput(f"no rollouts of iteration(s) {sorted(iterations or [])} in {files[0].parent}")
    return records


def _probe_records(path: Path, bank_path: Path, config) -> list[dict]:
    """Each sampled second turn as a two-turn episode: the bank's first turn, then the
    condition's user turn and the sampled code (judged on the private tests only)."""
    if not bank_path.is_file():
        raise BadInput(f"no probe bank at {bank_path}: pass --bank <the bank the probe ran on>")
    bank = {b["item"]: b for b in read_jsonl(bank_path)}
    statements = _statements(config)
    records = []
    for line in read_jsonl(path):
        item = bank.get(line["item"])
        if item is None or item["problem"] != line["problem"]:
            raise BadInput(f"{path}: item {line['item']} ({line['problem']}) is not in {bank_path}: the wrong --bank?")
        user = {"true": item["true_feedback"], "random": item["random_feedback"], "none": NO_FEEDBACK_PROMPT}
        first = {"user": statements.get(line["problem"]), "response": item["response"], "code": item["code"],
                 "stopped": item["stopped"], "response_tokens": len(item["response_ids"]),
                 "public_verdicts": feedback_verdicts(item["true_feedback"]), "public_passed": False}
        second = {"user": user[line["condition"]], "response": None, "code": line["code"], "public_verdicts": None,
                  "public_passed": None}
        records.append({"problem": line["problem"], "family": line["family"], "turns": [first, second],
                        "solved": bool(line["passed"]), "infra_error": False, "final_verdicts": None,
                        "facets": {"feedback": line["condition"], "temperature": f"{line['temperature']:g}",
                                   "subset": line.get("subset", "")},
                        "tags": {"item": line["item"], "sample": line["sample"],
                                 "random feedback from": item["random_source"]}})
    return records


def feedback_verdicts(text: str) -> list[str] | None:
    """The verdicts of the failed tests a feedback text lists (the bank keeps the text, not the
    results); None when it lists none in rlef.feedback's stdin-style templates."""
    verdicts = [ENTRY_VERDICT[m.group(1)] for m in FEEDBACK_ENTRY.finditer(text)]
    return verdicts or None


def _statements(config) -> dict[str, str]:
    """Problem id -> first user turn, for the probe (whose files do not keep the statement):
    from the run's data.path when it names one, else from the bundled benchmarks."""
    from rlef.data.jsonl import load_jsonl

    path = OmegaConf.select(config, "data.path", default=None)
    paths = [Path(path)] if path and Path(path).is_file() else [SHIPPED_MINI, SHIPPED_HIDDEN]
    return {p.id: first_prompt(p) for f in paths for p in load_jsonl(f)[0]}


def _config(run_dir: Path):
    path = run_dir / "config.yaml"
    return OmegaConf.load(path) if path.is_file() else OmegaConf.create({})


def run_meta(run_dir: Path, config) -> dict:
    """The run's provenance and the settings that change what an episode means."""
    meta = {"run dir": str(run_dir)}
    info_path = run_dir / "run_info.json"
    if info_path.is_file():
        info = json.loads(info_path.read_text())
        meta |= {"command": run_command(info) if "argv" in info else "",
                 "git": info.get("git_sha", "")[:10] + (" (dirty)" if info.get("git_dirty") else ""),
                 "started": info.get("started", "")}
    for key in ("model.name_or_path", "data.name", "algo.mode", "rollout.feedback", "rollout.max_turns"):
        value = OmegaConf.select(config, key, default=None)
        if value is not None:
            meta[key] = str(value)
    return meta
