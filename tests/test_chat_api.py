"""model.kind=openai without a model: retries, backoff, the request log and resumption against a real
HTTP server on loopback (the standard library's, answering from a script), the dialogue an episode
sends, the refusal to train, and task=eval's outputs end to end. The real vLLM server:
tests/test_vllm_serve.py."""
import json
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from rlef.chat_api import ApiSettings, OpenAIChatBackend, backoff_delay, context_overflow, request_seed
from rlef.errors import BadInput, ServiceError
from rlef.generation import ChatRequest, SamplingParams

ROOT = Path(__file__).resolve().parents[1]
WRONG_REPLY = "Here you go:\n```python\nprint(0)\n```"
PARAMS = SamplingParams(0.2, 0.95, 64)


def completion(text: str) -> dict:
    return {"id": "c", "object": "chat.completion", "created": 0, "model": "fake",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}


# What each error status says (OpenAI's words for 401/404, a malformed request for 400).
ERRORS = {400: "Invalid value for 'temperature': expected a number.", 401: "Incorrect API key provided.",
          404: "The model `fake` does not exist."}


def too_long(chars: int, limit: int) -> dict:
    """vLLM's 400 for a dialogue that does not fit max_model_len (its words; characters for tokens here)."""
    return {"error": {"message": f"This model's maximum context length is {limit} tokens. However, you requested "
                                 f"{chars} tokens in the messages. Please reduce the length of the messages.",
                      "type": "BadRequestError", "param": None, "code": 400}}


class ScriptedServer:
    """Serves /v1/models and /v1/chat/completions; each chat request takes the next status of
    `statuses` (the last one repeats) and every request body is kept in `chats`. With
    `context_chars`, a dialogue of more characters is refused as too long, as vLLM refuses one of
    more tokens than its max_model_len; `answer(messages)` may choose the reply per dialogue."""

    def __init__(self, statuses=(200,), reply: str = WRONG_REPLY, context_chars: int | None = None, answer=None):
        self.statuses, self.reply, self.chats, self.context_chars = list(statuses), reply, [], context_chars
        self.answer = answer or (lambda messages: self.reply)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self._send(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.chats.append(body)
                status = owner.statuses.pop(0) if len(owner.statuses) > 1 else owner.statuses[0]
                chars = sum(len(m["content"]) for m in body["messages"])
                if status == 200 and owner.context_chars is not None and chars > owner.context_chars:
                    self._send(400, too_long(chars, owner.context_chars))
                elif status == 200:
                    self._send(200, completion(owner.answer(body["messages"])))
                else:
                    self._send(status, {"error": {"message": ERRORS.get(status, "busy")}})

            def _send(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(request):
    scripted = ScriptedServer(*getattr(request, "param", ()))
    yield scripted
    scripted.close()


def settings(url: str, **changes) -> ApiSettings:
    base = dict(base_url=url, model="fake", api_key_env=None, concurrency=4, max_attempts=3, backoff_s=0.01,
                backoff_max_s=0.05, timeout_s=10.0)
    return ApiSettings(**(base | changes))


def ask(backend, *keys, content="Solve it."):
    return backend.chat([ChatRequest(k, [{"role": "user", "content": content}]) for k in keys], PARAMS)


def log_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("server", [((429, 200),)], indirect=True)
def test_a_429_is_retried_after_a_backoff_and_both_attempts_are_logged(server, tmp_path):
    with OpenAIChatBackend(settings(server.url), tmp_path / "requests.jsonl") as backend:
        [reply] = ask(backend, "multi_turn/p/0/turn1")
    assert reply.text == WRONG_REPLY and reply.stopped
    assert len(server.chats) == 2
    [line] = log_lines(tmp_path / "requests.jsonl")
    assert line["attempts"] == 2 and line["errors"] == ["HTTP 429"] and line["reply"] == WRONG_REPLY
    assert line["request"]["messages"] == [{"role": "user", "content": "Solve it."}]
    assert line["usage"]["completion_tokens"] == 5


@pytest.mark.parametrize("server", [((503,),)], indirect=True)
def test_attempts_are_bounded_then_the_failure_is_one_line(server, tmp_path):
    with OpenAIChatBackend(settings(server.url), tmp_path / "requests.jsonl") as backend:
        with pytest.raises(ServiceError) as failure:
            ask(backend, "k/turn1")
    assert len(server.chats) == 3
    message = str(failure.value)
    assert "\n" not in message and "failed 3 times, last: HTTP 503" in message and "resume" in message
    [line] = log_lines(tmp_path / "requests.jsonl")
    assert line["reply"] is None and line["errors"] == ["HTTP 503"] * 3


@pytest.mark.parametrize("server, hint", [
    (((401,),), "the server wants a key: set model.api_key_env to the variable that holds it"),
    (((404,),), "check model.base_url and model.name_or_path"),
    (((400,),), "a request the server cannot take; every request would fail the same way"),  # not the context
], indirect=["server"])
def test_a_client_error_is_not_retried_and_fails_in_one_line_naming_what_to_check(server, hint, tmp_path):
    with OpenAIChatBackend(settings(server.url), tmp_path / "requests.jsonl") as backend:
        with pytest.raises(ServiceError) as failure:
            ask(backend, "k/turn1")
    assert len(server.chats) == 1
    status = server.statuses[0]
    assert str(failure.value) == f"{server.url}: k/turn1: HTTP {status}: {ERRORS[status]} ({hint})"
    [line] = log_lines(tmp_path / "requests.jsonl")
    assert line["reply"] is None and "context_overflow" not in line  # failed: a rerun sends it again


def test_a_context_overflow_is_a_400_in_vllm_or_openai_words_and_nothing_else():
    vllm = "Error code: 400 - This model's maximum context length is 4096 tokens. However, you requested 5000"
    assert context_overflow(400, "400", vllm)
    assert context_overflow(400, "context_length_exceeded", "Error code: 400 - Please reduce the length")  # OpenAI
    assert context_overflow(400, None, "The decoder prompt (length 5000) is longer than the maximum model length")
    assert not context_overflow(500, None, vllm)  # server trouble: retried
    assert not context_overflow(400, None, "Error code: 400 - " + ERRORS[400])
    assert not context_overflow(401, "invalid_api_key", ERRORS[401])


@pytest.mark.parametrize("server", [((200,), WRONG_REPLY, 20)], indirect=True)
def test_a_context_overflow_ends_that_request_with_no_reply_is_logged_and_reused_not_retried(server, tmp_path):
    path = tmp_path / "requests.jsonl"
    with OpenAIChatBackend(settings(server.url), path) as backend:
        [fits] = ask(backend, "p/1/turn1", content="x" * 15)
        [refused] = ask(backend, "p/1/turn2", content="x" * 25)
    assert fits.text == WRONG_REPLY and fits.overflow is None
    assert refused.text == "" and not refused.stopped
    assert refused.overflow.startswith("HTTP 400: This model's maximum context length is 20 tokens")
    assert len(server.chats) == 2 and backend.overflowed == 1  # not retried: the same body would be refused again
    line = {record["key"]: record for record in log_lines(path)}["p/1/turn2"]
    assert line["reply"] is None and line["context_overflow"] == refused.overflow and refused.id == line["id"]
    with OpenAIChatBackend(settings(server.url), path) as again:
        [reused] = ask(again, "p/1/turn2", content="x" * 25)
    assert reused == refused and len(server.chats) == 2
    assert again.counts() == {"sent": 0, "reused": 1, "resampled": 0}


def test_a_refused_connection_is_retried_then_reported(tmp_path):
    with socket.socket() as s:  # a port nobody listens on once this closes
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ServiceError, match="failed 2 times, last: APIConnectionError"):
        OpenAIChatBackend(settings(f"http://127.0.0.1:{port}/v1", max_attempts=2),
                          tmp_path / "requests.jsonl").check_model()


def test_backoff_doubles_up_to_its_cap_and_a_retry_after_header_wins():
    assert [backoff_delay(a, 1.0, 5.0) for a in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert backoff_delay(1, 1.0, 5.0, retry_after_s=3.0) == 3.0
    assert backoff_delay(1, 1.0, 5.0, retry_after_s=60.0) == 5.0  # a server asking for minutes is capped


def test_a_rerun_answers_logged_requests_and_sends_only_new_ones(server, tmp_path):
    path = tmp_path / "requests.jsonl"
    with OpenAIChatBackend(settings(server.url), path) as backend:
        ask(backend, "multi_turn/p/0/turn1", "multi_turn/p/1/turn1")
    with path.open("a") as f:
        f.write('{"id": "cut by a cra')  # a crash mid-line: ignored, its request is sent again
    with OpenAIChatBackend(settings(server.url), path) as backend:
        replies = ask(backend, "multi_turn/p/0/turn1", "multi_turn/p/1/turn1", "multi_turn/p/2/turn1")
        changed = ask(backend, "multi_turn/p/0/turn1", content="Another dialogue.")  # same key, new body
    assert [r.text for r in replies] == [WRONG_REPLY] * 3 and changed[0].text == WRONG_REPLY
    assert len(server.chats) == 2 + 2 and backend.counts() == {"sent": 2, "reused": 2, "resampled": 1}
    with OpenAIChatBackend(settings(server.url), path) as backend:  # the line after the cut one survived
        ask(backend, "multi_turn/p/0/turn1", "multi_turn/p/1/turn1", "multi_turn/p/2/turn1")
        ask(backend, "multi_turn/p/0/turn1", content="Another dialogue.")
    assert len(server.chats) == 4 and backend.counts() == {"sent": 0, "reused": 4, "resampled": 0}


def test_request_seeds_are_stable_and_differ_between_episodes():
    assert request_seed(0, "multi_turn/p/0/turn1") == request_seed(0, "multi_turn/p/0/turn1")
    assert len({request_seed(0, f"multi_turn/p/{i}/turn1") for i in range(100)}) == 100
    assert request_seed(0, "a") != request_seed(1, "a")
    assert 0 <= request_seed(7, "a") < 2**31


def test_an_unknown_model_name_or_missing_key_variable_fails_before_sampling(server, tmp_path, monkeypatch):
    with pytest.raises(BadInput, match="model.name_or_path=gpt-9: .* serves fake"):
        OpenAIChatBackend(settings(server.url, model="gpt-9"), tmp_path / "requests.jsonl").check_model()
    monkeypatch.delenv("RLEF_TEST_NO_SUCH_KEY", raising=False)
    with pytest.raises(BadInput, match="model.api_key_env=RLEF_TEST_NO_SUCH_KEY: that environment variable"):
        OpenAIChatBackend(settings(server.url, api_key_env="RLEF_TEST_NO_SUCH_KEY"), tmp_path / "r.jsonl")
    assert server.chats == []


def test_the_key_is_read_from_the_named_variable_and_sent_as_a_bearer_token(tmp_path, monkeypatch):
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers["Authorization"])
            data = json.dumps({"object": "list", "data": [{"id": "fake"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setenv("RLEF_TEST_KEY", "sk-test-123")
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
        with OpenAIChatBackend(settings(url, api_key_env="RLEF_TEST_KEY"), tmp_path / "r.jsonl") as backend:
            backend.check_model()
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert seen == ["Bearer sk-test-123"]
    assert "sk-test-123" not in (tmp_path / "r.jsonl").read_text()


@pytest.mark.sandbox
def test_an_episode_sends_the_papers_dialogue_as_messages(server, tmp_path, executor):
    from rlef.data import load_problems
    from rlef.execution.types import Limits
    from rlef.feedback import first_prompt, turn_feedback
    from rlef.rollout import EpisodeRunner, RolloutConfig, episode_record

    problem = load_problems(OmegaConf.create({"name": "rlef_mini"}), "test")[0]
    with OpenAIChatBackend(settings(server.url), tmp_path / "requests.jsonl") as backend:
        runner = EpisodeRunner(backend, None, executor, RolloutConfig(max_turns=3, sampling=PARAMS), Limits())
        [episode] = runner.run([problem], keys=["multi_turn/p/0"])
    assert [len(c["messages"]) for c in server.chats] == [1, 3, 5]  # user, (reply, feedback) per later turn
    last = server.chats[-1]["messages"]
    assert last[0] == {"role": "user", "content": first_prompt(problem)}
    assert last[1] == last[3] == {"role": "assistant", "content": WRONG_REPLY}
    assert last[2] == {"role": "user", "content": turn_feedback(problem, episode.turns[0].public)}
    assert episode.tokens == [] and episode.policy_mask == [] and not episode.solved
    turns = episode_record(episode)["turns"]
    assert [t["request"] for t in turns] == [f"multi_turn/p/0/turn{i}" for i in (1, 2, 3)]
    assert all(t["response_tokens"] is None and t["code"] == "print(0)" for t in turns)


@pytest.mark.sandbox
def test_an_episode_that_outgrows_the_servers_context_ends_there_unsolved_and_says_why(tmp_path, executor):
    from rlef.data import load_problems
    from rlef.execution.types import Limits
    from rlef.feedback import first_prompt
    from rlef.rollout import EpisodeRunner, RolloutConfig, episode_record

    problem = load_problems(OmegaConf.create({"name": "rlef_mini"}), "test")[0]
    scripted = ScriptedServer(context_chars=len(first_prompt(problem)) + 10)  # turn 1 fits, turn 2 cannot
    try:
        with OpenAIChatBackend(settings(scripted.url), tmp_path / "requests.jsonl") as backend:
            runner = EpisodeRunner(backend, None, executor, RolloutConfig(max_turns=3, sampling=PARAMS), Limits())
            [episode] = runner.run([problem], keys=["multi_turn/p/0"])
    finally:
        scripted.close()
    assert len(scripted.chats) == 2 and len(episode.turns) == 2  # no third request: it would be longer still
    assert not episode.solved and not episode.infra_error and episode.final is None
    first, last = episode_record(episode)["turns"]
    assert first["code"] == "print(0)" and "context_overflow" not in first
    assert last["response"] == "" and last["code"] is None and not last["stopped"] and not last["public_passed"]
    assert "maximum context length" in last["context_overflow"] and last["request"] == "multi_turn/p/0/turn2"


@pytest.mark.slow
def test_training_refuses_an_api_model_in_one_line(tmp_path):
    from rlef.models import load_model, load_tokenizer

    api = OmegaConf.create({"kind": "openai"})
    for load in (load_tokenizer, lambda cfg: load_model(cfg, None)):
        with pytest.raises(BadInput, match="only task=eval"):
            load(api)
    command = [sys.executable, str(ROOT / "src/run.py"), "task=train", "model=openai", "model.api_key_env=null",
               f"hydra.run.dir={tmp_path}"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith("error: model.kind=openai is a chat API")


def eval_command(url: str, run_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, str(ROOT / "src/run.py"), "task=eval", "model=openai", "model.name_or_path=fake",
            f"model.base_url={url}", "model.api_key_env=null", "model.backoff_s=0.01", "eval.max_problems=2",
            "eval.rollouts_per_problem=1", "eval.bootstrap_resamples=20", "execution.workers=2",
            f"hydra.run.dir={run_dir}", *extra]


@pytest.mark.sandbox
@pytest.mark.slow
def test_eval_on_an_api_model_writes_the_usual_outputs_says_what_is_unavailable_and_resumes(server, tmp_path):
    run = tmp_path / "eval"
    first = subprocess.run(eval_command(server.url, run), capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert first.returncode == 0, first.stderr[-3000:]
    metrics = json.loads((run / "metrics.json").read_text())
    modes = {r["mode"]: r for r in metrics["results"]}
    assert modes["multi_turn"]["metric"] == "1@3" and modes["multi_turn"]["problems"] == 2
    assert modes["multi_turn"]["solve_rate"] == 0.0 and modes["single_turn"]["episodes"] == 2 * 3
    assert all(r["tokens_per_s"] is None for r in metrics["results"])
    assert set(metrics["unavailable"]) == {"tokens_per_s", "response_tokens"}
    sent = 2 * 3 + 2 * 3  # two 3-turn episodes (print(0) never passes), six single-turn samples
    assert metrics["requests"] == {"sent": sent, "reused": 0, "resampled": 0} and len(server.chats) == sent
    assert len(log_lines(run / "requests.jsonl")) == sent
    samples = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    requests = {line["id"]: line for line in log_lines(run / "requests.jsonl")}
    for turn in (t for s in samples for t in s["turns"]):  # every turn traces to its request and reply
        assert requests.pop(turn["request_id"])["reply"] == turn["response"]
    assert requests == {}
    before = (run / "samples.jsonl").read_text()

    again = subprocess.run(eval_command(server.url, run), capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads((run / "metrics.json").read_text())["requests"] == {"sent": 0, "reused": sent, "resampled": 0}
    assert len(server.chats) == sent and len(log_lines(run / "requests.jsonl")) == sent  # nothing sampled twice
    assert (run / "samples.jsonl").read_text() == before


def test_stop_after_code_is_refused_for_an_api_model_before_anything_starts(tmp_path):
    from rlef.chat_api import openai_backend

    cfg = OmegaConf.create({"rollout": {"stop_after_code": True}, "model": {}, "seed": 0})
    with pytest.raises(BadInput, match="rollout.stop_after_code=false with model.kind=openai"):
        openai_backend(cfg, tmp_path)
    assert not (tmp_path / "requests.jsonl").exists()


@pytest.mark.slow
@pytest.mark.parametrize("server", [((200, 503),)], indirect=True)
def test_a_server_that_stays_down_ends_the_eval_in_one_line_and_keeps_what_it_answered(server, tmp_path):
    run = tmp_path / "eval"
    command = eval_command(server.url, run, "model.max_attempts=2", "model.concurrency=1")
    out = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 3 and "Traceback" not in out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: {server.url}: multi_turn/") and "failed 2 times, last: HTTP 503" in last
    answered = [line for line in log_lines(run / "requests.jsonl") if line["reply"] is not None]
    assert len(answered) == 1  # the one reply that came back is kept for the rerun


@pytest.mark.sandbox
@pytest.mark.slow
def test_eval_goes_on_past_a_context_overflow_which_fails_only_its_episode_and_resumes_without_resending(tmp_path):
    from rlef.data import load_problems
    from rlef.feedback import first_prompt

    # eval.max_problems=2 takes the first two: the one with the shorter first prompt is answered with its
    # reference (solved at turn 1); the other gets a wrong reply, and its second turn no longer fits.
    short, long = sorted(load_problems(OmegaConf.create({"name": "rlef_mini"}), "test")[:2],
                         key=lambda p: len(first_prompt(p)))
    solution = f"```python\n{short.reference_solution}\n```"
    scripted = ScriptedServer(context_chars=len(first_prompt(long)) + 10,
                              answer=lambda messages: solution if short.description in messages[0]["content"]
                              else WRONG_REPLY)
    run = tmp_path / "eval"
    command = eval_command(scripted.url, run, "eval.single_turn_baseline=false")
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
        assert out.returncode == 0, out.stderr[-3000:]
        before = (run / "samples.jsonl").read_text()
        again = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
        assert again.returncode == 0, again.stderr[-3000:]
    finally:
        scripted.close()
    [row] = json.loads((run / "metrics.json").read_text())["results"]
    assert row["solve_rate"] == 0.5 and row["context_overflows"] == 1 and row["infra_errors"] == 0
    episodes = {s["problem"]: s for s in map(json.loads, before.splitlines())}
    assert episodes[short.id]["solved"] and len(episodes[short.id]["turns"]) == 1
    refused = episodes[long.id]
    assert not refused["solved"] and [t["code"] for t in refused["turns"]] == ["print(0)", None]
    assert "maximum context length" in refused["turns"][-1]["context_overflow"]
    [line] = [r for r in log_lines(run / "requests.jsonl") if r.get("context_overflow")]
    assert line["id"] == refused["turns"][-1]["request_id"] and line["context_overflow"] == \
        refused["turns"][-1]["context_overflow"]
    # The rerun answered all three requests (the refusal too) from requests.jsonl: nothing sent twice.
    assert len(scripted.chats) == 3 and len(log_lines(run / "requests.jsonl")) == 3
    assert json.loads((run / "metrics.json").read_text())["requests"] == {"sent": 0, "reused": 3, "resampled": 0}
    assert (run / "samples.jsonl").read_text() == before


@pytest.mark.slow
@pytest.mark.parametrize("server", [((401,),)], indirect=True)
def test_eval_with_a_refused_key_stops_at_the_first_request_in_one_line(server, tmp_path):
    command = eval_command(server.url, tmp_path / "eval", "model.concurrency=1")
    out = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 3 and "Traceback" not in out.stderr
    last = out.stderr.strip().splitlines()[-1]
    hint = "the server wants a key: set model.api_key_env to the variable that holds it"
    assert last.startswith(f"error: {server.url}: multi_turn/")
    assert last.endswith(f"/turn1: HTTP 401: {ERRORS[401]} ({hint})")
    # None retried; at most the second episode's request, which the one worker may take before it is cancelled.
    seeds = [chat["seed"] for chat in server.chats]
    assert len(set(seeds)) == len(seeds) <= 2
