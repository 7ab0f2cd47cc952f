"""The multi-turn episode (paper 2.1): problem -> code -> public tests -> feedback -> code ...
until the public tests pass or the turn limit is hit; the last code is judged on the
private tests, which decides the reward.

Token-in/token-out: an episode is one growing list of token ids. Responses are appended
exactly as sampled (with their behaviour log-probs) and every user turn is appended as
newly tokenised text, so nothing the policy produced is ever decoded and re-tokenised.

With a ChatBackend (a model behind an API, evaluation only) the same episode runs on text: each
turn already keeps its user message and its reply, so `messages(episode)` is the dialogue the
server sees; the episode's token fields stay empty and turns carry no token ids or log-probs.

A dialogue longer than the model's context ends its episode on that turn with no reply
(Turn.overflow): no code, so the episode fails, and every later prompt would be longer still. A chat
server says so itself (its HTTP 400, rlef.chat_api); for our token backends, which know their
context_length, the runner checks before sampling (context_overflow). PPO trains such an episode up
to its last answered turn (Episode.answered_turns).
"""
from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from rlef.data.problem import Problem, Test
from rlef.errors import BadInput
from rlef.execution.executor import Executor
from rlef.execution.types import ExecutionResult, Job, Limits
from rlef.feedback import (
    NO_FEEDBACK_PROMPT,
    extract_code,
    first_prompt,
    has_closed_python_block,
    no_code_prompt,
    random_feedback_prompt,
    turn_feedback,
)
from rlef.generation import (
    ChatBackend,
    ChatRequest,
    Generation,
    GenerationBackend,
    HFBackend,
    Reply,
    SamplingParams,
)
from rlef.vllm_backend import SETUP_HINT, EngineSettings, VLLMBackend, vllm_available

FEEDBACK_MODES = ("execution", "random", "none")
FEEDBACK_TESTS = ("public", "private")
ENGINES = ("hf", "vllm")  # rollout.engine: HFBackend over the policy itself | VLLMBackend (rlef.vllm_backend)
# The paper's private-test feedback ablation runs at most 20 private tests per turn (and lists at
# most 8 failures: rollout.max_failures_shown). A constant, not a setting: it is that ablation's.
PRIVATE_FEEDBACK_TESTS = 20


@dataclass(frozen=True)
class RolloutConfig:
    max_turns: int = 3  # paper 3.1: up to 3 turns
    sampling: SamplingParams = field(default_factory=SamplingParams)
    feedback: str = "execution"  # execution | random (paper C.2) | none
    max_failures_shown: int | None = None  # failed tests one feedback turn lists; None: all
    feedback_tests: str = "public"  # public (paper 2.1) | private (feedback_tests() below)

    def __post_init__(self) -> None:
        if not 1 <= self.max_turns <= 10:
            raise BadInput(f"rollout.max_turns must be in 1..10, got {self.max_turns}")
        if self.max_failures_shown is not None and self.max_failures_shown < 1:
            raise BadInput(f"rollout.max_failures_shown must be null or >= 1, got {self.max_failures_shown}")
        if self.feedback not in FEEDBACK_MODES:
            raise BadInput(f"rollout.feedback must be one of {FEEDBACK_MODES}, got {self.feedback!r}")
        if self.feedback_tests not in FEEDBACK_TESTS:
            raise BadInput(f"rollout.feedback_tests must be one of {FEEDBACK_TESTS}, got {self.feedback_tests!r}")

    @classmethod
    def from_config(cls, rollout_cfg, temperature: float, top_p: float, max_turns: int | None = None,
                    feedback: str | None = None) -> RolloutConfig:
        """The one place a `rollout:` config becomes a RolloutConfig; a task passes its sampling
        (training, evaluation, the probe's bank) and what it fixes itself (one turn, no feedback)."""
        return cls(max_turns=max_turns or rollout_cfg.max_turns, feedback=feedback or rollout_cfg.feedback,
                   sampling=SamplingParams(temperature, top_p, rollout_cfg.max_new_tokens),
                   max_failures_shown=rollout_cfg.max_failures_shown, feedback_tests=rollout_cfg.feedback_tests)


def check_engine(rollout_cfg, model_kind: str) -> None:
    """rollout.engine and rollout.vllm, in one line each, before any model or engine is loaded."""
    if rollout_cfg.engine not in ENGINES:
        raise BadInput(f"rollout.engine must be one of {ENGINES}, got {rollout_cfg.engine!r}")
    if rollout_cfg.engine != "vllm":
        return
    if model_kind == "openai":
        raise BadInput("rollout.engine=vllm runs our own model's weights; model.kind=openai is a chat server "
                       "(which may itself be vLLM): leave rollout.engine=hf")
    EngineSettings.from_config(rollout_cfg.vllm)
    if not vllm_available():
        raise BadInput(SETUP_HINT)


def feedback_tests(problem: Problem, source: str) -> tuple[Test, ...]:
    """The tests every turn runs: their failures are the feedback, and passing them ends the
    episode. public: the problem's public tests (paper 2.1). private: the first
    PRIVATE_FEEDBACK_TESTS of the tests the final code is judged on (private, then generated), the
    paper's ablation with more informative feedback; it shows the model tests it is scored on."""
    if source == "public":
        return problem.public_tests
    if problem.style == "function":
        # Their private tests are whole check() programs or batches of EvalPlus inputs: nothing a
        # feedback line could quote. The ablation is CodeContests'.
        raise BadInput(f"rollout.feedback_tests=private needs stdin/stdout problems; {problem.id} is function-style")
    return problem.judge_tests[:PRIVATE_FEEDBACK_TESTS]


@dataclass
class Turn:
    context_len: int  # tokens before this response: the turn's prompt is Episode.tokens[:context_len]
    response: list[int]  # (R,) ids the policy generated, stop token included when produced
    logprobs: list[float]  # (R,) behaviour log-prob of each response token
    stopped: bool  # the response ended on a stop token (False: cut at max_new_tokens)
    text: str  # decoded response, for logs and code extraction only
    code: str | None  # extracted code, None when the response has no code block
    public: ExecutionResult | None = None  # on feedback_tests(): the public tests by default (None without code)
    user: str = ""  # the user message that prompted this turn
    request: str | None = None  # ChatBackend only: the ChatRequest.key that produced the reply (None: token path)
    request_id: str | None = None  # ChatBackend only: that request's line in the backend's log (Reply.id)
    # Why this turn's prompt did not fit the model's context: a chat server's refusal, or context_overflow()
    # for a token backend. No reply was sampled, and this is the episode's last turn. None: it fitted.
    overflow: str | None = None


@dataclass
class Episode:
    problem: Problem
    tokens: list[int]  # (T,) the whole dialogue: prompts, responses, feedback
    policy_mask: list[bool]  # (T,) True only on tokens the policy generated
    turns: list[Turn] = field(default_factory=list)
    final: ExecutionResult | None = None  # the final code on the judge tests (+ the public ones if no turn ran them)
    infra_error: bool = False  # the harness failed: drop this episode, never score it
    key: str = ""  # stable across reruns (task=eval: <mode>/<problem>/<sample>); names its chat requests

    @property
    def overflowed(self) -> bool:
        """The dialogue outgrew the model's context: its last turn got no reply (Turn.overflow)."""
        return bool(self.turns) and self.turns[-1].overflow is not None

    @property
    def answered_turns(self) -> list[Turn]:
        """The turns with a sampled reply: all but an overflowed last one (what PPO trains, experience.collate)."""
        return [t for t in self.turns if t.overflow is None]

    @property
    def final_code(self) -> str | None:
        return self.turns[-1].code if self.turns else None

    @property
    def solved(self) -> bool:
        """The reward (paper 2.1): the final code passes every test, the public ones as well as
        the private and generated ones, and its turn's feedback tests (the public ones by default)."""
        return self.final is not None and self.final.passed and self.public_passed

    @property
    def public_passed(self) -> bool:
        """The last turn passed its feedback tests (the public ones by default); n@k submits these first."""
        last = self.turns[-1].public if self.turns else None
        return last is not None and last.passed


class ChatFormat:
    """Token ids for the first prompt and for each later user turn, derived once from the
    tokenizer's chat template (so any chat model works, not only ChatML)."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        head = self._render([{"role": "user", "content": "U1"}])
        full = self._render([{"role": "user", "content": "U1"}, {"role": "assistant", "content": "\x00A\x00"},
                             {"role": "user", "content": "\x00U\x00"}])
        if not full.startswith(head):
            raise ValueError("chat template is not incremental: a later turn rewrites earlier text")
        after = full[len(head):]
        self.between = after.split("\x00A\x00", 1)[1].split("\x00U\x00", 1)[0]  # end of reply -> user text
        self.tail = after.split("\x00U\x00", 1)[1]  # user text -> start of the next reply
        self.stop_text = tokenizer.decode([tokenizer.eos_token_id])

    def _render(self, messages: list[dict]) -> str:
        return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def _encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False)

    def first(self, user: str, prefix: Sequence[dict] = ()) -> list[int]:
        """The first prompt; prefix: earlier messages rendered before it (few-shot dialogues)."""
        return self._encode(self._render([*prefix, {"role": "user", "content": user}]))

    def next_user(self, user: str, response_stopped: bool) -> list[int]:
        between = self.between
        if response_stopped and between.startswith(self.stop_text):
            between = between[len(self.stop_text):]  # the sampled stop token already closed the reply
        return self._encode(between + user + self.tail)


def context_overflow(prompt_tokens: int, max_new_tokens: int, context_length: int | None) -> str | None:
    """Why a turn cannot be sampled within the model's context, or None when it can (or when the backend
    does not know its length). The prompt plus max_new_tokens, not the prompt alone: any reply may run
    to max_new_tokens, and past the context a rotary-position model (Llama) decodes on at positions it
    never trained on, with no error, while a learned-position one crashes; PPO's forward over the
    dialogue would meet the same positions. It is also the rule by which an OpenAI-compatible server
    (vLLM's) refuses a request with the 400 the chat backend records, so every backend ends the same
    dialogues. The price: a turn whose reply would have stopped short of the limit is not sampled."""
    if context_length is None or prompt_tokens + max_new_tokens <= context_length:
        return None
    return (f"context overflow: a prompt of {prompt_tokens} tokens + max_new_tokens {max_new_tokens} = "
            f"{prompt_tokens + max_new_tokens} tokens, over the model's context length of {context_length}")


def judge_many(executor: Executor, items: Sequence[tuple[Problem, str, Sequence[Test]]], limits: Limits,
               stop_on_failure: bool) -> list[ExecutionResult]:
    """Run each (problem, code, tests) in one batch. Function-style problems need one program
    per test; their per-test results are merged back into one ExecutionResult."""
    jobs, owners = [], []
    for index, (problem, code, tests) in enumerate(items):
        lim = limits.for_problem(problem.time_limit_s, problem.memory_limit_bytes)
        if problem.style == "function":
            jobs += [Job(problem.program(code, t), (t,), lim) for t in tests]
            owners += [index] * len(tests)
        else:
            jobs.append(Job(code, tuple(tests), lim, stop_on_failure))
            owners.append(index)
    merged: list[list] = [[] for _ in items]
    isolation = [""] * len(items)
    skipped = [0] * len(items)
    for owner, result in zip(owners, executor.run_batch(jobs)):
        merged[owner] += result.tests
        isolation[owner], skipped[owner] = result.isolation, skipped[owner] + result.skipped
    return [ExecutionResult(tuple(t), isolation=i, skipped=s) for t, i, s in zip(merged, isolation, skipped)]


def stop_token_ids(tokenizer, generation_config) -> list[int]:
    """The tokenizer's EOS plus the generation config's (Llama 3.1 ends turns on <|eot_id|>)."""
    ids = {tokenizer.eos_token_id}
    configured = getattr(generation_config, "eos_token_id", None)
    ids |= set(configured if isinstance(configured, list) else [configured] if configured is not None else [])
    return sorted(i for i in ids if i is not None)


def _code_stop(tokenizer, stop_after_code: bool) -> tuple[list[int], Callable[[list[int]], bool]]:
    """stop_after_code ends a reply at its first complete ```python block (a CPU-scale saving, not in
    the paper: the rest is prose nobody runs). Checked only after a token containing a backtick."""
    check_ids = []
    if stop_after_code:
        check_ids = [i for token, i in tokenizer.get_vocab().items()
                     if "`" in tokenizer.convert_tokens_to_string([token])]
    return check_ids, lambda ids: has_closed_python_block(tokenizer.decode(ids))


def hf_backend(model, tokenizer, max_batch: int, stop_after_code: bool, seed: int = 0, lockstep=None) -> HFBackend:
    """The Hugging Face backend for episodes. lockstep: see HFBackend (ZeRO-3-sharded policies)."""
    check_ids, stop_check = _code_stop(tokenizer, stop_after_code)
    return HFBackend(model, stop_token_ids(tokenizer, getattr(model, "generation_config", None)),
                     tokenizer.pad_token_id, max_batch, seed, stop_check=stop_check, check_ids=check_ids,
                     lockstep=lockstep)


def vllm_backend(model_dir: str, dtype: torch.dtype, generation_config, tokenizer, rollout_cfg,
                 seed: int = 0) -> VLLMBackend:
    """rollout.engine=vllm: a vLLM engine over `model_dir` (the policy's architecture; the trainer
    syncs its weights in) with hf_backend's stops, so either engine samples the same kind of episode."""
    check_ids, stop_check = _code_stop(tokenizer, rollout_cfg.stop_after_code)
    return VLLMBackend(model_dir, stop_token_ids(tokenizer, generation_config), str(dtype).removeprefix("torch."),
                       rollout_cfg.max_batch, seed, stop_check, check_ids, EngineSettings.from_config(rollout_cfg.vllm))


def messages(episode: Episode) -> list[dict]:
    """The dialogue as chat messages for a ChatBackend: every turn's user text, and the reply of
    every turn but the last (the one awaiting its reply). The server applies its own chat template."""
    out = []
    for turn in episode.turns:
        out.append({"role": "user", "content": turn.user})
        if turn is not episode.turns[-1]:
            out.append({"role": "assistant", "content": turn.text})
    return out


class EpisodeRunner:
    def __init__(self, backend: GenerationBackend | ChatBackend, tokenizer, executor: Executor, cfg: RolloutConfig,
                 limits: Limits, seed: int = 0, every_turn: bool = False, prefix: Sequence[dict] = (),
                 repair_backend: GenerationBackend | None = None):
        """every_turn: call the backend on every turn, with no context once none is left, as a
        backend in lockstep with other ranks needs (rlef.lightning.lockstep: they may still be sampling).
        tokenizer: None with a ChatBackend (the server tokenises; we never see its ids).
        prefix: chat messages every episode starts with, before the problem (few-shot repair
        dialogues, paper Table 3; they are context, never the policy's tokens).
        repair_backend: writes turns 2.. while `backend` writes turn 1 (paper B.3's generator and
        repair model; same tokenizer, token path only)."""
        self.backend, self.tokenizer, self.executor, self.cfg, self.limits = backend, tokenizer, executor, cfg, limits
        self.every_turn, self.prefix, self.repair_backend = every_turn, list(prefix), repair_backend
        if repair_backend is not None and isinstance(backend, ChatBackend):
            raise BadInput("a repair model needs our own token backend, not a chat API (model.kind=openai)")
        self.chat = None if isinstance(backend, ChatBackend) else ChatFormat(tokenizer)
        self.rng = random.Random(seed)
        self._failures: list[tuple[str, ExecutionResult]] = []  # for random feedback (paper C.2)

    @property
    def counts_tokens(self) -> bool:
        """False with a ChatBackend: the server keeps its token ids, so there is nothing to count."""
        return self.chat is not None

    def start(self, problem: Problem, key: str = "") -> Episode:
        user = first_prompt(problem)
        tokens = self.chat.first(user, self.prefix) if self.chat else []
        episode = Episode(problem, tokens, [False] * len(tokens), key=key)
        episode.turns.append(Turn(len(tokens), [], [], False, "", None, user=user))  # filled by _record
        return episode

    def run(self, problems: Sequence[Problem], on_turn: Callable[[int, int], None] | None = None,
            keys: Sequence[str] | None = None) -> list[Episode]:
        """One episode per entry of `problems` (repeat a problem to sample it several times).
        keys: one stable name per episode (a ChatBackend's requests are named, seeded and resumed by it)."""
        for problem in problems:  # an unusable rollout.feedback_tests fails before any sampling
            feedback_tests(problem, self.cfg.feedback_tests)
        episodes = [self.start(p, k) for p, k in zip(problems, keys or [""] * len(problems))]
        live = list(range(len(episodes)))
        for turn in range(self.cfg.max_turns):
            if not live and not self.every_turn:
                break
            if self.chat is None:
                self._chat_turn([episodes[i] for i in live], turn)
            else:
                self._token_turn([episodes[i] for i in live], turn)
            self._run_public(episodes, live)
            live = [i for i in live if self._continue(episodes[i], turn)]
            if on_turn:
                on_turn(turn, len(live))
        self._judge_final(episodes)
        return episodes

    def _token_turn(self, live: list[Episode], turn_index: int) -> None:
        """One sampled reply for each live episode whose dialogue still fits the backend's context; the
        others end on this turn with no reply, as a chat server's refusal ends them (Turn.overflow)."""
        backend = self.repair_backend if turn_index and self.repair_backend is not None else self.backend
        fits = []
        for episode in live:
            turn = episode.turns[-1]
            turn.overflow = context_overflow(len(episode.tokens), self.cfg.sampling.max_new_tokens,
                                             backend.context_length)
            if turn.overflow is None:
                fits.append(episode)
        for episode, generation in zip(fits, backend.generate([e.tokens for e in fits], self.cfg.sampling)):
            self._record(episode, generation)

    def _record(self, episode: Episode, generation: Generation) -> None:
        turn = episode.turns[-1]
        turn.response, turn.logprobs, turn.stopped = generation.tokens, generation.logprobs, generation.stopped
        turn.text = self.tokenizer.decode(generation.tokens, skip_special_tokens=True)
        turn.code = extract_code(turn.text)
        episode.tokens += generation.tokens
        episode.policy_mask += [True] * len(generation.tokens)

    def _chat_turn(self, live: list[Episode], turn_index: int) -> None:
        """One reply for each live episode from a ChatBackend: text in, text out."""
        requests = [ChatRequest(f"{e.key}/turn{turn_index + 1}", [*self.prefix, *messages(e)]) for e in live]
        for episode, request, reply in zip(live, requests, self.backend.chat(requests, self.cfg.sampling)):
            self._record_reply(episode, request.key, reply)

    def _record_reply(self, episode: Episode, request: str, reply: Reply) -> None:
        turn = episode.turns[-1]
        turn.text, turn.stopped, turn.request = reply.text, reply.stopped, request
        turn.request_id, turn.overflow = reply.id, reply.overflow
        turn.code = extract_code(reply.text)

    def _run_public(self, episodes: list[Episode], live: list[int]) -> None:
        with_code = [i for i in live if episodes[i].turns[-1].code is not None]
        items = [(episodes[i].problem, episodes[i].turns[-1].code,
                  feedback_tests(episodes[i].problem, self.cfg.feedback_tests)) for i in with_code]
        for i, result in zip(with_code, judge_many(self.executor, items, self.limits, stop_on_failure=False)):
            episodes[i].turns[-1].public = result
            episodes[i].infra_error |= result.infra_error
            if result.failures:
                self._failures.append((episodes[i].problem.id, result))
        self._failures = self._failures[-1000:]

    def _continue(self, episode: Episode, turn_index: int) -> bool:
        """Append the next user turn and return True, or end the episode."""
        last = episode.turns[-1]
        if episode.infra_error or (last.public is not None and last.public.passed):
            return False
        if episode.overflowed:  # a longer dialogue cannot fit either
            return False
        if turn_index + 1 >= self.cfg.max_turns:
            return False
        user = self._next_user_text(episode)
        tokens = self.chat.next_user(user, last.stopped) if self.chat else []
        episode.tokens += tokens
        episode.policy_mask += [False] * len(tokens)
        episode.turns.append(Turn(len(episode.tokens), [], [], False, "", None, user=user))
        return True

    def _next_user_text(self, episode: Episode) -> str:
        last = episode.turns[-1]
        if last.code is None:
            return no_code_prompt()
        if self.cfg.feedback == "none":
            return NO_FEEDBACK_PROMPT
        if self.cfg.feedback == "random":
            foreign = [r for pid, r in self._failures if pid != episode.problem.id]
            if foreign:
                return random_feedback_prompt(self.rng.choice(foreign), self.cfg.max_failures_shown)
        return turn_feedback(episode.problem, last.public, self.cfg.max_failures_shown)

    def _judge_final(self, episodes: list[Episode]) -> None:
        scored = [e for e in episodes if e.final_code is not None and not e.infra_error]
        # The reward needs the public tests passed as well (Episode.solved). Every turn ran them,
        # unless the feedback came from private tests: then the judge runs them too.
        add_public = self.cfg.feedback_tests != "public"
        items = [(e.problem, e.final_code, (e.problem.public_tests if add_public else ()) + e.problem.judge_tests)
                 for e in scored]
        for episode, result in zip(scored, judge_many(self.executor, items, self.limits, stop_on_failure=True)):
            episode.final = result
            episode.infra_error |= result.infra_error


def episode_record(episode: Episode) -> dict:
    """One line of samples.jsonl: every turn, so any number can be traced to its episodes."""
    turns = []
    for t in episode.turns:
        public = t.public
        record = {"user": t.user, "response": t.text, "code": t.code, "stopped": t.stopped,
                  # a chat API returns no token ids, an overflowed turn has no reply: null, not a count of zero
                  "response_tokens": len(t.response) if t.request is None and t.overflow is None else None,
                  "public_verdicts": [x.verdict.value for x in public.tests] if public else None,
                  "public_passed": bool(public and public.passed)}
        if t.request is not None:  # its line in requests.jsonl (rlef.chat_api): key, and id when the backend gives one
            record["request"], record["request_id"] = t.request, t.request_id
        if t.overflow is not None:
            record["context_overflow"] = t.overflow  # the prompt did not fit the context: this turn has no reply
        turns.append(record)
    final = episode.final
    return {"problem": episode.problem.id, "family": episode.problem.family, "turns": turns,
            "solved": episode.solved, "infra_error": episode.infra_error,
            "final_verdicts": [x.verdict.value for x in final.tests] if final else None}
