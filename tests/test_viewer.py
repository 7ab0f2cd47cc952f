"""The episode viewer: its loaders against the schemas the tasks write, what it derives, that
model output cannot script the page, and the page itself in headless Chromium."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from rlef.data import Problem, Test
from rlef.errors import BadInput
from rlef.execution.types import ExecutionResult, TestResult, Verdict
from rlef.feedback import feedback_prompt, first_prompt, no_code_prompt
from rlef.rollout import Episode, Turn, context_overflow, episode_record
from rlef.viewer import episodes as ep
from rlef.viewer.__main__ import build
from rlef.viewer.load import NO_FEEDBACK_PROMPT, detect, feedback_verdicts, load

HOSTILE = "</script><script>alert(1)</script>"
ADD = Problem("add/00", "rlef_mini", "Print a+b.", (Test("1 2\n", "3\n"),), (Test("5 5\n", "10\n"),), family="adding")
WRONG, RIGHT = "a, b = map(int, input().split())\nprint(a - b)", "a, b = map(int, input().split())\nprint(a + b)"


def result(*verdicts: str) -> ExecutionResult:
    return ExecutionResult(tuple(TestResult(Verdict(v), "1 2\n", "3\n", "-1\n", stderr_tail="ValueError: boom")
                                 for v in verdicts))


def episode(codes: list[str | None], public: list[tuple[str, ...]], final: tuple[str, ...] | None,
            problem: Problem = ADD) -> Episode:
    """An Episode as EpisodeRunner leaves it: each later user turn is the feedback on the last."""
    turns, user = [], first_prompt(problem)
    for code, verdicts in zip(codes, public):
        run = result(*verdicts) if code is not None else None
        text = f"```python\n{code}\n```" if code is not None else "I am not sure."
        turns.append(Turn(0, [1, 2, 3], [0.0] * 3, True, text, code, run, user=user))
        user = no_code_prompt() if run is None else feedback_prompt(run) if run.failures else ""
    return Episode(problem, [], [], turns, result(*final) if final else None)


def eval_run(folder: Path, episodes: list[Episode]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"mode": "multi_turn", **episode_record(e)}) for e in episodes]
    (folder / "samples.jsonl").write_text("\n".join(lines) + "\n")
    return folder


RECOVERED = episode([WRONG, RIGHT], [("WRONG_OUTPUT",), ("PASSED",)], ("PASSED",))
FIRST_TRY = episode([RIGHT], [("PASSED",)], ("PASSED",))
PUBLIC_ONLY = episode([RIGHT], [("PASSED",)], ("WRONG_OUTPUT",))
NEVER = episode([WRONG, None, WRONG], [("WRONG_OUTPUT",), (), ("EXCEPTION",)], None)


def overflowed_episode() -> Episode:
    """Wrong code at turn 1; turn 2's prompt did not fit the model's context, so it has no reply."""
    e = episode([WRONG], [("WRONG_OUTPUT",)], None)
    e.turns.append(Turn(0, [], [], False, "", None, user=feedback_prompt(result("WRONG_OUTPUT")),
                        overflow=context_overflow(4000, 512, 4096)))
    return e


def mixed_run(folder: Path, copies: int = 1) -> Path:
    return eval_run(folder, [RECOVERED, FIRST_TRY, PUBLIC_ONLY, NEVER] * copies)


def records_of(run_dir: Path) -> list[dict]:
    return load(run_dir).records


# ---- loaders: one per input kind, told apart by path and content


def test_eval_samples_load_as_written_by_episode_record(tmp_path):
    run = load(mixed_run(tmp_path / "eval"))
    assert run.kind == "eval" and len(run.records) == 4
    assert run.records[0]["turns"][1]["user"] == feedback_prompt(result("WRONG_OUTPUT"))
    assert run.records[0]["facets"]["mode"] == "multi_turn"


def test_train_rollouts_load_per_iteration_and_keep_only_the_asked_ones(tmp_path):
    folder = tmp_path / "train" / "rollouts"
    folder.mkdir(parents=True)
    for iteration in (0, 1, 2):
        (folder / f"iter{iteration:06d}_rank0.jsonl").write_text(json.dumps(episode_record(RECOVERED)) + "\n")
    (tmp_path / "train" / "config.yaml").write_text("rollout:\n  feedback: random\n")
    run = load(tmp_path / "train")
    assert run.kind == "train" and [r["facets"]["iteration"] for r in run.records] == ["0", "1", "2"]
    assert {r["facets"]["feedback"] for r in run.records} == {"random"}
    assert [r["facets"]["iteration"] for r in load(folder, iterations={1}).records] == ["1"]
    assert detect(folder / "iter000002_rank0.jsonl")[0] == "train"
    with pytest.raises(BadInput, match="iteration"):
        load(folder, iterations={7})


def probe_run(folder: Path, second_code: str = RIGHT) -> Path:
    """A probe run dir on a real bundled problem, so its statement can be looked up."""
    folder.mkdir(parents=True)
    bank = {"item": 0, "problem": "balanced_brackets/00", "family": "balanced_brackets",
            "response": "```python\nx\n```", "response_ids": [5, 6], "stopped": True, "code": "x",
            "true_feedback": feedback_prompt(result("TIMEOUT")),
            "random_feedback": feedback_prompt(result("WRONG_OUTPUT")), "random_source": "add/00", "statement_sha": ""}
    (folder / "probe_bank.jsonl").write_text(json.dumps(bank) + "\n")
    lines = [{"temperature": 1.0, "item": 0, "problem": "balanced_brackets/00", "family": "balanced_brackets",
              "subset": "regular", "condition": c, "sample": 0, "code": second_code, "passed": c == "true"}
             for c in ("true", "random", "none")]
    (folder / "second_turns.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return folder


def test_probe_second_turns_become_two_turn_episodes_after_the_banked_first_turn(tmp_path):
    run = load(probe_run(tmp_path / "probe"))
    assert run.kind == "probe"
    users = [r["turns"][1]["user"] for r in run.records]
    assert users == [feedback_prompt(result("TIMEOUT")), feedback_prompt(result("WRONG_OUTPUT")), NO_FEEDBACK_PROMPT]
    assert [r["facets"]["feedback"] for r in run.records] == ["true", "random", "none"]
    first = run.records[0]["turns"][0]
    assert first["code"] == "x" and first["public_verdicts"] == ["TIMEOUT"]
    assert first["user"].startswith("Provide a Python solution")  # the statement, from the bundled data
    assert [r["solved"] for r in run.records] == [True, False, False]


def test_probe_without_its_bank_names_the_flag_to_pass(tmp_path):
    folder = probe_run(tmp_path / "probe")
    bank = folder / "probe_bank.jsonl"
    bank.rename(tmp_path / "bank.jsonl")
    with pytest.raises(BadInput, match="--bank"):
        load(folder)
    assert len(load(folder, bank=tmp_path / "bank.jsonl").records) == 3
    with pytest.raises(BadInput, match="probe bank"):
        detect(tmp_path / "bank.jsonl")


def test_anything_else_is_refused_in_one_line_naming_what_is_read(tmp_path):
    (tmp_path / "other.jsonl").write_text('{"a": 1}\n')
    (tmp_path / "text.jsonl").write_text("hello\n")
    for path in (tmp_path / "other.jsonl", tmp_path / "text.jsonl", tmp_path, tmp_path / "missing"):
        with pytest.raises(BadInput) as error:
            detect(path)
        assert "\n" not in str(error.value)
    out = subprocess.run([sys.executable, "-m", "rlef.viewer", str(tmp_path / "other.jsonl")], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode != 0 and out.stderr.strip().count("\n") == 0
    assert out.stderr.startswith("rlef.viewer:") and "samples.jsonl" in out.stderr


def test_feedback_verdicts_reads_back_every_template():
    text = feedback_prompt(result("WRONG_OUTPUT", "PASSED", "EXCEPTION", "TIMEOUT", "OUT_OF_MEMORY", "OUTPUT_LIMIT"))
    assert feedback_verdicts(text) == ["WRONG_OUTPUT", "EXCEPTION", "TIMEOUT", "OUT_OF_MEMORY", "OUTPUT_LIMIT"]
    assert feedback_verdicts(no_code_prompt()) is None


# ---- what the page shows of an episode


def test_outcomes_tell_first_try_recovery_public_only_and_failure(tmp_path):
    outcomes = [ep.outcome(r) for r in records_of(mixed_run(tmp_path))]
    assert outcomes == ["recovered", "solved at turn 1", "public only", "never solved"]
    assert ep.outcome({"turns": [], "solved": False, "infra_error": True}) == "infra error"


def test_rewards_are_ppo_turn_rewards():
    from rlef.ppo import turn_rewards

    for solved in (True, False):
        for has_code in ([True], [False], [False, True], [True, False, False], [False, False, True]):
            assert ep.turn_rewards(solved, has_code) == pytest.approx(turn_rewards(solved, has_code).tolist())


def test_line_opcodes_rebuild_the_later_code():
    before, after = "a\nb\nc\nd", "a\nB\nc\nd\ne"
    rebuilt = []
    for tag, i1, i2, j1, j2 in ep.line_opcodes(before, after):
        rebuilt += before.split("\n")[i1:i2] if tag == "equal" else after.split("\n")[j1:j2]
    assert "\n".join(rebuilt) == after


def test_turns_carry_diff_chrf_and_the_copy_flag(tmp_path):
    copied = episode([WRONG, WRONG], [("WRONG_OUTPUT",), ("WRONG_OUTPUT",)], ("WRONG_OUTPUT",))
    statements: dict[str, str] = {}
    recovered, again = (ep.view_episode(i, r, statements) for i, r in enumerate(records_of(
        eval_run(tmp_path, [RECOVERED, copied]))))
    assert recovered["turns"][1]["diff"] and 0 < recovered["turns"][1]["chrf"] < 100
    assert recovered["facets"]["copied"] == "no" and recovered["reward"] == 1.0
    assert again["turns"][1]["same"] and "diff" not in again["turns"][1] and again["facets"]["copied"] == "yes"
    assert statements == {"add/00": first_prompt(ADD)}  # stored once, not on each episode
    assert recovered["turns"][0]["user"] is None and again["turns"][0]["user"] is None


def test_episode_facets_count_what_the_filters_offer(tmp_path):
    statements: dict[str, str] = {}
    views = [ep.view_episode(i, r, statements) for i, r in enumerate(records_of(mixed_run(tmp_path)))]
    assert [v["facets"]["first_error"] for v in views] == ["WRONG_OUTPUT", "passed", "passed", "WRONG_OUTPUT"]
    assert [v["facets"]["last_error"] for v in views] == ["passed", "passed", "passed", "EXCEPTION"]
    assert [v["solved_at"] for v in views] == [2, 1, None, None]
    assert views[3]["turns"][1]["reward"] == ep.INVALID_CODE_PENALTY  # the turn without code


def test_an_overflowed_turn_carries_its_message_and_no_reward_and_the_turn_before_takes_the_failure(tmp_path):
    """As PPO trains it (rlef.experience): the overflowed turn has no reply to reward."""
    [view] = [ep.view_episode(0, r, {}) for r in records_of(eval_run(tmp_path, [overflowed_episode()]))]
    first, cut = view["turns"]
    assert cut["overflow"] == context_overflow(4000, 512, 4096) and "overflow" not in first
    assert cut["category"] == view["facets"]["last_error"] == "context_overflow"
    assert cut["reward"] is None and first["reward"] == ep.FAIL_REWARD == view["reward"]
    page = build(eval_run(tmp_path, [overflowed_episode()]), tmp_path / "page.html")[0].read_text()
    assert data_block(page)["episodes"][0]["turns"][1]["overflow"] == cut["overflow"]


def test_subsample_keeps_so_many_of_each_iteration_in_order():
    records = [{"facets": {"iteration": str(i // 10)}, "n": i} for i in range(30)]
    kept = ep.subsample(records, 3, seed=1)
    assert len(kept) == 9 and [r["n"] for r in kept] == sorted(r["n"] for r in kept)
    assert {r["facets"]["iteration"] for r in kept} == {"0", "1", "2"}


# ---- the page: self-contained, escaped


def hostile_run(folder: Path) -> Path:
    evil = Problem(HOSTILE, "jsonl", f"Statement {HOSTILE}", (Test("1\n", "1\n"),), (Test("1\n", "1\n"),),
                   family=HOSTILE)
    bad = episode([f"print('{HOSTILE}')", f"# {HOSTILE}\n<img src=x onerror=alert(2)>"],
                  [("WRONG_OUTPUT",), ("EXCEPTION",)], ("EXCEPTION",), problem=evil)
    return eval_run(folder, [bad, RECOVERED])


def data_block(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S).group(1))


def test_untrusted_text_cannot_close_the_data_block_or_open_a_tag(tmp_path):
    out, n = build(hostile_run(tmp_path / "run"), tmp_path / "page.html")
    page = out.read_text()
    assert n == 2 and HOSTILE not in page and "<img" not in page and "alert(1)</script>" not in page
    assert page.count("<script") == 2 and page.count("</script>") == 2  # the data block and viewer.js, no more
    data = data_block(page)  # the escaped JSON reads back to the very same text
    assert data["episodes"][0]["problem"] == HOSTILE and HOSTILE in data["episodes"][0]["turns"][0]["code"]


def test_page_is_self_contained_and_runs_only_its_own_script(tmp_path):
    page = build(mixed_run(tmp_path / "run"), tmp_path / "page.html")[0].read_text()
    assert not re.search(r'(src|href)="(https?:)?//', page)  # no network
    script = re.search(r"<script>(.*?)</script>", page, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1)
    assert f"script-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp


def test_viewer_imports_neither_torch_nor_lightning(tmp_path):
    run = mixed_run(tmp_path / "run")
    code = ("import sys; from rlef.viewer.__main__ import main; main([sys.argv[1], '-o', sys.argv[2]]); "
            "heavy = [m for m in sys.modules if m.split('.')[0] in ('torch', 'lightning', 'pytorch_lightning')]; "
            "assert not heavy, heavy")
    out = subprocess.run([sys.executable, "-c", code, str(run), str(tmp_path / "p.html")], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "wrote" in out.stdout and (tmp_path / "p.html").is_file()


# ---- the page in a real browser (headless Chromium over the DevTools protocol)


@pytest.fixture(scope="module")
def chromium():
    from rlef.execution.browser import Browser

    with Browser(width=1280, height=1000, timeout=60) as browser:
        yield browser


def open_page(browser, page: Path, fragment: str = "") -> None:
    browser.dialogs.clear()
    browser.errors.clear()
    browser.open(page.resolve().as_uri() + fragment, ready="document.body && document.body.dataset.ready === '1'")


def shown(browser) -> int:
    return int(browser.evaluate("document.getElementById('shown').dataset.n"))


@pytest.mark.slow
@pytest.mark.browser
def test_page_in_chromium_counts_filters_and_shows_diffs(chromium, tmp_path):
    page, _ = build(mixed_run(tmp_path / "run", copies=12), tmp_path / "page.html")
    open_page(chromium, page)
    assert shown(chromium) == 48 and chromium.evaluate("document.querySelectorAll('.episode').length") == 20
    assert chromium.evaluate("document.querySelectorAll('.diff .dl.add').length") > 0
    chromium.evaluate("""(() => { const s = document.querySelector('select[data-facet="outcome"]');
                         s.value = 'recovered'; s.dispatchEvent(new Event('change')); })()""")
    assert shown(chromium) == 12 and chromium.evaluate("document.querySelectorAll('.episode.o-recovered').length") == 12
    assert "outcome=recovered" in chromium.evaluate("location.hash")
    open_page(chromium, page, "#outcome=never+solved")  # the address keeps the filters
    assert shown(chromium) == 12
    open_page(chromium, page, "#q=print(a+-+b)")
    assert shown(chromium) == 24  # the search reads the code of every turn
    chromium.evaluate("document.querySelector('.episode .permalink').click()")
    chromium.wait_for("document.getElementById('shown').dataset.n === '1'")  # #ep=N: that episode alone
    assert chromium.errors == [] and chromium.dialogs == []


@pytest.mark.slow
@pytest.mark.browser
def test_screenshot_of_the_page_is_not_blank(chromium, tmp_path):
    page, _ = build(mixed_run(tmp_path / "run"), tmp_path / "page.html")
    open_page(chromium, page)
    image = Image.open(chromium.screenshot(tmp_path / "shot.png")).convert("RGB")
    colors = image.getcolors(maxcolors=1 << 24)
    commonest = max(count for count, _ in colors)
    assert image.size == (1280, 1000) and len(colors) > 50 and commonest < 0.95 * image.width * image.height


@pytest.mark.slow
@pytest.mark.browser
def test_hostile_code_in_chromium_is_shown_as_text_and_runs_nothing(chromium, tmp_path):
    page, _ = build(hostile_run(tmp_path / "run"), tmp_path / "page.html")
    open_page(chromium, page)
    chromium.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    time.sleep(0.2)
    assert shown(chromium) == 2
    text = chromium.evaluate("document.body.innerText")
    assert HOSTILE in text and "<img src=x onerror=alert(2)>" in text
    assert chromium.evaluate("document.querySelectorAll('#episodes script, #episodes img').length") == 0
    assert chromium.dialogs == [] and chromium.errors == []  # no alert, no exception, no CSP violation


@pytest.mark.slow
@pytest.mark.browser
def test_an_overflowed_turn_is_marked_with_its_message_in_chromium(chromium, tmp_path):
    page, _ = build(eval_run(tmp_path / "run", [overflowed_episode(), RECOVERED]), tmp_path / "page.html")
    open_page(chromium, page)
    cut = chromium.evaluate("document.querySelector('.episode').innerText")
    assert "context overflow: no reply" in cut and context_overflow(4000, 512, 4096) in cut
    assert "not run: the last turn overflowed the context" in cut and "no code block in the reply" not in cut
    assert chromium.evaluate("document.querySelectorAll('.c-context_overflow').length") == 2  # the turn, the final line
    assert chromium.errors == []


@pytest.mark.slow
@pytest.mark.browser
def test_ten_thousand_episodes_open_and_filter_without_hanging(chromium, tmp_path):
    page, n = build(mixed_run(tmp_path / "run", copies=2500), tmp_path / "page.html")
    start = time.time()
    open_page(chromium, page)
    assert n == 10_000 and time.time() - start < 30 and shown(chromium) == 10_000
    assert chromium.evaluate("document.querySelectorAll('.episode').length") == 20  # one page drawn, not 10,000
    took = chromium.evaluate("""(() => { const t = performance.now(); const s = document.querySelector(
        'select[data-facet="outcome"]'); s.value = 'public only'; s.dispatchEvent(new Event('change'));
        return performance.now() - t; })()""")
    assert shown(chromium) == 2500 and took < 3000
    assert chromium.errors == []
