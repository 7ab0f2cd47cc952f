"""task=judge: run a JSONL file of submissions through the sandbox, write verdicts and the
feedback text the model would receive. The executor's end-to-end demo and a debugging tool.

Input rows: {"id": str, "program": str | "response": str (code is extracted as in rollouts),
"tests": [{"input": str, "output": str}, ...], optional "time_s", "memory_mb"}.
Output (in the run directory): verdicts.jsonl (one line per submission, every test),
metrics.json (verdict counts), run_info.json, config.yaml.
"""
from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig
from rich.console import Console
from rich.table import Table

from rlef.data.problem import Test
from rlef.execution.executor import Executor
from rlef.execution.types import ExecutionResult, Job, Limits
from rlef.feedback import extract_code, feedback_prompt, no_code_prompt
from rlef.provenance import record_run

log = logging.getLogger(__name__)


class SubmissionError(ValueError):
    pass


def parse_submission(row: object, where: str) -> tuple[str, str | None, tuple[Test, ...], dict]:
    """(id, program or None when the response has no code block, tests, limit overrides)."""
    if not isinstance(row, dict):
        raise SubmissionError(f"{where}: expected a JSON object, got {type(row).__name__}")
    tests = row.get("tests")
    if not isinstance(tests, list) or not tests:
        raise SubmissionError(f"{where}: 'tests' must be a non-empty list")
    try:
        parsed = tuple(Test(str(t["input"]), str(t["output"])) for t in tests)
    except (TypeError, KeyError) as e:
        raise SubmissionError(f"{where}: every test needs 'input' and 'output' ({e!r})") from e
    if isinstance(row.get("program"), str):
        program = row["program"]
    elif isinstance(row.get("response"), str):
        program = extract_code(row["response"])
    else:
        raise SubmissionError(f"{where}: needs a string 'program' or 'response'")
    overrides = {k: row[k] for k in ("time_s", "memory_mb") if k in row}
    return str(row.get("id", where)), program, parsed, overrides


def load_submissions(path: Path) -> tuple[list[tuple], list[str]]:
    """Valid submissions and one error message per skipped line (never a crash mid-file)."""
    good, skipped = [], []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                good.append(parse_submission(json.loads(line), f"{path}:{n}"))
            except (json.JSONDecodeError, SubmissionError) as e:
                skipped.append(f"{path}:{n}: {e}" if isinstance(e, json.JSONDecodeError) else str(e))
    return good, skipped


def _record(sub_id: str, result: ExecutionResult | None) -> dict:
    if result is None:
        return {"id": sub_id, "passed": False, "verdicts": [], "feedback": no_code_prompt()}
    failed = bool(result.failures)
    return {"id": sub_id, "passed": result.passed, "infra_error": result.infra_error,
            "isolation": result.isolation,
            "verdicts": [{"verdict": t.verdict.value, "cpu_s": round(t.cpu_time_s, 4),
                          "observed": t.observed[:2000], "stderr_tail": t.stderr_tail[-2000:],
                          "detail": t.detail} for t in result.tests],
            "feedback": feedback_prompt(result) if failed else None}


def main(cfg: DictConfig) -> dict:
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    record_run(out_dir, cfg)
    submissions, skipped = load_submissions(Path(cfg.judge.submissions))
    for message in skipped:
        log.warning("skipped %s", message)
    jobs = [(sid, Job(prog, tests, Limits.from_config(cfg.execution, **_limit_args(over))))
            for sid, prog, tests, over in submissions if prog is not None]
    with Executor(cfg.execution.workers, cfg.execution.isolation) as executor:
        results = dict(zip([sid for sid, _ in jobs], executor.run_batch([j for _, j in jobs])))
    records = [_record(sid, results.get(sid)) for sid, *_ in submissions]
    with (out_dir / "verdicts.jsonl").open("w") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)
    counts = Counter(v["verdict"] for r in records for v in r["verdicts"])
    metrics = {"submissions": len(records), "skipped_rows": len(skipped),
               "solved": sum(r["passed"] for r in records), "no_code": sum(not r["verdicts"] for r in records),
               "verdicts": dict(counts), "isolation": executor.isolation.describe()}
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    _print_summary(records, metrics, out_dir)
    return metrics


def _limit_args(overrides: dict) -> dict:
    memory = overrides.get("memory_mb")
    return {"time_s": overrides.get("time_s"), "memory_bytes": int(memory * (1 << 20)) if memory else None}


def _print_summary(records: list[dict], metrics: dict, out_dir: Path) -> None:
    table = Table(title=f"judge ({metrics['isolation']})")
    for column in ("id", "passed", "verdicts"):
        table.add_column(column)
    for r in records:
        verdicts = ", ".join(v["verdict"] for v in r["verdicts"]) or "no code block"
        table.add_row(r["id"], "yes" if r["passed"] else "no", verdicts)
    console = Console()
    console.print(table)
    console.print(f"wrote {out_dir / 'verdicts.jsonl'} and metrics.json")
