"""task=judge end to end through Hydra, and its handling of malformed submission rows."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rlef.tasks.judge import SubmissionError, load_submissions, parse_submission

CONF = str(Path(__file__).resolve().parents[1] / "conf")


def test_malformed_rows_are_skipped_with_file_and_line_and_the_rest_is_kept(tmp_path):
    path = tmp_path / "subs.jsonl"
    good = {"id": "ok", "program": "print(1)", "tests": [{"input": "", "output": "1"}]}
    path.write_text("\n".join([json.dumps(good), "{not json", json.dumps({"id": "x", "program": "p"}),
                               json.dumps({"program": "p", "tests": [{"input": ""}]}), json.dumps([1])]) + "\n")
    subs, skipped = load_submissions(path)
    assert [s[0] for s in subs] == ["ok"]
    assert len(skipped) == 4
    assert all(f"{path}:{n}" in msg for n, msg in zip((2, 3, 4, 5), skipped))


def test_response_without_code_block_yields_no_program():
    row = {"id": "r", "response": "no code here", "tests": [{"input": "", "output": ""}]}
    assert parse_submission(row, "row")[1] is None


def test_row_without_program_or_response_is_rejected():
    with pytest.raises(SubmissionError, match="'program' or 'response'"):
        parse_submission({"tests": [{"input": "", "output": ""}]}, "row 1")


@pytest.mark.sandbox
def test_judge_task_writes_verdicts_feedback_and_run_metadata(tmp_path):
    root = Path(CONF).parent
    out = subprocess.run([sys.executable, str(root / "src/run.py"), f"hydra.run.dir={tmp_path}",
                          "execution.workers=2"], capture_output=True, text=True, timeout=300, cwd=root)
    assert out.returncode == 0, out.stderr[-2000:]
    records = {r["id"]: r for r in map(json.loads, (tmp_path / "verdicts.jsonl").read_text().splitlines())}
    assert records["correct"]["passed"] and records["chat_response"]["passed"]
    assert records["wrong_answer"]["feedback"].startswith("Your code failed the following tests:")
    assert [v["verdict"] for v in records["timeout"]["verdicts"]] == ["TIMEOUT"]
    assert [v["verdict"] for v in records["out_of_memory"]["verdicts"]] == ["OUT_OF_MEMORY"]
    assert records["no_code_block"]["verdicts"] == []
    info = json.loads((tmp_path / "run_info.json").read_text())
    assert len(info["git_sha"]) == 40 and (tmp_path / "config.yaml").exists()
