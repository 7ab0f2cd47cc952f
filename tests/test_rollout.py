"""Episodes: token-in/token-out bookkeeping, termination, feedback, with a scripted policy."""
import pytest
import torch
from omegaconf import OmegaConf

from rlef.data import load_problems
from rlef.data.problem import Problem, Test
from rlef.execution.types import Limits
from rlef.feedback import first_prompt, no_code_prompt
from rlef.generation import Generation, HFBackend, SamplingParams
from rlef.models import load_tokenizer, tiny_random_llama
from rlef.rollout import ChatFormat, EpisodeRunner, RolloutConfig, context_overflow, episode_record

ADD = Problem("add", "rlef_mini", "Print a+b.", (Test("1 2\n", "3\n"),), (Test("5 5\n", "10\n"), Test("0 0\n", "0\n")),
              family="adding")
OTHER = Problem("other", "rlef_mini", "Print 7.", (Test("\n", "7\n"),), (Test("\n", "7\n"),))
WRONG = "```python\na, b = map(int, input().split())\nprint(a - b)\n```"
RIGHT = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(OmegaConf.create({"kind": "smollm2_gguf"}))


class Scripted:
    """A policy that answers from a script: replies[k] is the k-th reply of every episode."""

    max_batch = 8
    context_length = None

    def __init__(self, tokenizer, replies):
        self.tokenizer, self.replies, self.calls = tokenizer, replies, []

    def generate(self, contexts, params):
        self.calls.append([list(c) for c in contexts])
        turn = len(self.calls) - 1
        out = []
        for _ in contexts:
            ids = self.tokenizer.encode(self.replies[min(turn, len(self.replies) - 1)], add_special_tokens=False)
            ids.append(self.tokenizer.eos_token_id)
            out.append(Generation(ids, [-0.5] * len(ids), True))
        return out


def run(tokenizer, executor, replies, problems=(ADD,), **cfg):
    backend = Scripted(tokenizer, replies)
    runner = EpisodeRunner(backend, tokenizer, executor, RolloutConfig(**cfg), Limits(time_s=2))
    return runner.run(list(problems)), backend


@pytest.mark.sandbox
def test_episode_ends_as_soon_as_public_tests_pass(tokenizer, executor):
    (episode,), backend = run(tokenizer, executor, [WRONG, RIGHT, WRONG])
    assert len(episode.turns) == 2 and episode.solved and episode.public_passed
    assert len(backend.calls) == 2


@pytest.mark.sandbox
def test_in_lockstep_the_backend_is_called_every_turn_even_with_nothing_left(tokenizer, executor):
    """every_turn: other ranks may still be sampling, and a lockstep backend must take part."""
    backend = Scripted(tokenizer, [RIGHT])
    runner = EpisodeRunner(backend, tokenizer, executor, RolloutConfig(max_turns=3), Limits(time_s=2), every_turn=True)
    (episode,) = runner.run([ADD])
    assert episode.solved and len(episode.turns) == 1
    assert [len(contexts) for contexts in backend.calls] == [1, 0, 0]


@pytest.mark.sandbox
def test_turn_limit_ends_a_failing_episode_and_final_code_is_judged(tokenizer, executor):
    (episode,), _ = run(tokenizer, executor, [WRONG], max_turns=3)
    assert len(episode.turns) == 3 and not episode.solved
    assert episode.final is not None and not episode.final.passed


@pytest.mark.sandbox
def test_generated_tokens_are_kept_verbatim_and_masked_as_policy(tokenizer, executor):
    (episode,), backend = run(tokenizer, executor, [WRONG, RIGHT])
    first, second = episode.turns
    assert episode.tokens[first.context_len:first.context_len + len(first.response)] == first.response
    assert backend.calls[1][0] == episode.tokens[:second.context_len]  # turn 2 saw exactly these ids
    policy = [t for t, m in zip(episode.tokens, episode.policy_mask) if m]
    assert policy == first.response + second.response


@pytest.mark.sandbox
def test_feedback_turn_quotes_the_failed_public_test(tokenizer, executor):
    (episode,), _ = run(tokenizer, executor, [WRONG, RIGHT])
    feedback = episode.turns[1].user
    assert feedback.startswith("Your code failed the following tests:")
    assert "Expected output `3` but got `-1`" in feedback
    text = tokenizer.decode(episode.tokens[episode.turns[0].context_len:episode.turns[1].context_len])
    assert feedback in text


@pytest.mark.sandbox
def test_reply_without_code_gets_the_no_code_message(tokenizer, executor):
    (episode,), _ = run(tokenizer, executor, ["I would add them.", RIGHT])
    assert episode.turns[0].code is None and episode.turns[0].public is None
    assert episode.turns[1].user.startswith("Your response did not contain a code block.")
    assert episode.solved


@pytest.mark.sandbox
def test_random_feedback_comes_from_another_problem(tokenizer, executor):
    episodes, _ = run(tokenizer, executor, [WRONG, RIGHT], problems=(ADD, OTHER), feedback="random")
    add_episode = episodes[0]
    assert "input `1 2`" not in add_episode.turns[1].user  # not its own failure...
    assert add_episode.turns[1].user.startswith("Your code failed the following tests:")  # ...but real feedback


@pytest.mark.sandbox
def test_samples_record_every_turn(tokenizer, executor):
    (episode,), _ = run(tokenizer, executor, [WRONG, RIGHT])
    record = episode_record(episode)
    assert [t["public_verdicts"] for t in record["turns"]] == [["WRONG_OUTPUT"], ["PASSED"]]
    assert record["solved"] and record["family"] == "adding"


def test_chat_format_tokens_equal_the_template_rendering(tokenizer):
    chat = ChatFormat(tokenizer)
    reply = tokenizer.encode("Hello there", add_special_tokens=False) + [tokenizer.eos_token_id]
    ids = chat.first("Q1") + reply + chat.next_user("Q2", response_stopped=True)
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "Hello there"},
         {"role": "user", "content": "Q2"}], add_generation_prompt=True, tokenize=False)
    assert tokenizer.decode(ids) == rendered


def test_invalid_rollout_settings_are_rejected():
    with pytest.raises(ValueError, match="max_turns"):
        RolloutConfig(max_turns=11)
    with pytest.raises(ValueError, match="feedback"):
        RolloutConfig(feedback="oracle")
    with pytest.raises(ValueError, match="feedback_tests"):
        RolloutConfig(feedback_tests="hidden")


def _varied_tiny_model(tokenizer):
    model = tiny_random_llama(len(tokenizer), seed=3)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.3)  # larger weights than the default init: greedy outputs vary
    return model.eval()


def test_continuous_batching_equals_hf_generate_greedy(tokenizer):
    model = _varied_tiny_model(tokenizer)
    prompts = ["short", "a much longer prompt than the others here", "mid size one", "x y"]
    contexts = [tokenizer.encode(t) for t in prompts]
    backend = HFBackend(model, [tokenizer.eos_token_id], tokenizer.pad_token_id, max_batch=2)
    ours = backend.generate(contexts, SamplingParams(temperature=0, max_new_tokens=12))
    for context, generation in zip(contexts, ours):
        reference = model.generate(torch.tensor([context]), max_new_tokens=12, do_sample=False,
                                   eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
        assert generation.tokens == reference[0, len(context):].tolist()
    assert len({tuple(g.tokens) for g in ours}) > 1  # the check is not vacuous


def test_behaviour_logprobs_match_a_forward_pass(tokenizer):
    model = _varied_tiny_model(tokenizer)
    context = tokenizer.encode("some prompt")
    backend = HFBackend(model, [], tokenizer.pad_token_id, max_batch=1, seed=1)
    (generation,) = backend.generate([context], SamplingParams(temperature=1.0, max_new_tokens=6))
    ids = torch.tensor([context + generation.tokens])
    logp = torch.log_softmax(model(ids).logits[0, len(context) - 1:-1].float(), -1)
    expected = logp.gather(-1, torch.tensor(generation.tokens)[:, None]).squeeze(-1)
    assert torch.allclose(torch.tensor(generation.logprobs), expected, atol=1e-4)


def test_shared_prompts_are_prefilled_once_and_still_sampled_independently(tokenizer):
    model = _varied_tiny_model(tokenizer)
    context = tokenizer.encode("the same prompt for every rollout")
    backend = HFBackend(model, [], tokenizer.pad_token_id, max_batch=8, seed=5)
    prefilled = []
    original = backend._prefill_unique
    backend._prefill_unique = lambda cs: (prefilled.append(len(cs)), original(cs))[1]
    out = backend.generate([context] * 6, SamplingParams(temperature=1.0, max_new_tokens=8))
    assert prefilled == [1]
    assert len({tuple(g.tokens) for g in out}) > 1
    greedy = backend.generate([context] * 3, SamplingParams(temperature=0, max_new_tokens=8))
    assert greedy[0].tokens == greedy[1].tokens == greedy[2].tokens


def test_a_later_turn_prefills_only_its_new_tokens_and_matches_a_full_prefill(tokenizer):
    """Cross-turn reuse: turn 2's contexts extend turn 1's (context + reply + feedback); the
    saved keys/values must give the same tokens and log-probs as prefilling from scratch."""
    model = _varied_tiny_model(tokenizer)
    first = [tokenizer.encode(t) for t in ["short", "a much longer first prompt than the other", "x y"]]
    greedy = SamplingParams(temperature=0, max_new_tokens=7)
    reuse = HFBackend(model, [tokenizer.eos_token_id], tokenizer.pad_token_id, max_batch=2)
    replies = reuse.generate(first, greedy)
    feedback = [tokenizer.encode(" wrong, try again"), tokenizer.encode(" no"), tokenizer.encode(" failed: 3 != 4")]
    second = [c + r.tokens + f for c, r, f in zip(first, replies, feedback)]
    second.append(tokenizer.encode("an unrelated new prompt"))  # mixed with fresh contexts in one call
    assert reuse.reused_tokens == 0
    ours = reuse.generate(second, greedy)
    assert reuse.reused_tokens == sum(len(c) + len(r.tokens) - 1 for c, r in zip(first, replies))
    fresh = HFBackend(model, [tokenizer.eos_token_id], tokenizer.pad_token_id, max_batch=2, max_saved_mb=0)
    expected = fresh.generate(second, greedy)
    assert fresh.reused_tokens == 0
    for a, b in zip(ours, expected):
        assert a.tokens == b.tokens
        assert torch.allclose(torch.tensor(a.logprobs), torch.tensor(b.logprobs), atol=1e-4)
    assert len({tuple(g.tokens) for g in ours}) > 1


def test_saved_sequences_last_one_call_and_respect_the_memory_bound(tokenizer):
    model = _varied_tiny_model(tokenizer)
    context = tokenizer.encode("some prompt")
    params = SamplingParams(temperature=0, max_new_tokens=4)
    bounded = HFBackend(model, [], tokenizer.pad_token_id, max_batch=2, max_saved_mb=0)
    (reply,) = bounded.generate([context], params)
    bounded.generate([context + reply.tokens + [5]], params)
    assert bounded.reused_tokens == 0
    backend = HFBackend(model, [], tokenizer.pad_token_id, max_batch=2)
    (reply,) = backend.generate([context], params)
    backend.generate([tokenizer.encode("something else")], params)  # the turn-1 entry is dropped here
    backend.generate([context + reply.tokens + [5]], params)
    assert backend.reused_tokens == 0


def test_solved_needs_the_public_tests_as_well_as_the_private_ones():
    from rlef.execution.types import ExecutionResult, TestResult, Verdict
    from rlef.rollout import Episode, Turn
    passed = ExecutionResult((TestResult(Verdict.PASSED, "\n", "1\n", "1\n"),))
    failed = ExecutionResult((TestResult(Verdict.WRONG_OUTPUT, "\n", "1\n", "2\n"),))
    problem = load_problems(OmegaConf.create({"name": "rlef_mini"}), "test")[0]
    for public, final, solved in [(passed, passed, True), (failed, passed, False), (passed, failed, False)]:
        episode = Episode(problem, [], [], [Turn(0, [], [], True, "", "print(1)", public)], final)
        assert episode.solved is solved


@pytest.mark.sandbox
@pytest.mark.parametrize(("shown", "entries"), [(None, 3), (2, 2)])
def test_rollout_max_failures_shown_caps_the_failed_tests_one_feedback_turn_lists(tokenizer, executor, shown,
                                                                                  entries):
    three = Problem("three", "rlef_mini", "Print a+b.", tuple(Test(f"{i} 1\n", f"{i + 1}\n") for i in range(3)),
                    (Test("5 5\n", "10\n"),))
    (episode,), _ = run(tokenizer, executor, [WRONG], problems=(three,), max_turns=2, max_failures_shown=shown)
    assert episode.turns[1].user.count("failed:") == entries


# Public test 2 0 -> 2 is passed by a - b as well: only the private tests catch WRONG.
LOOSE = Problem("loose", "rlef_mini", "Print a+b.", (Test("2 0\n", "2\n"),),
                tuple(Test(f"{i} 1\n", f"{i + 1}\n") for i in range(25)))


@pytest.mark.sandbox
def test_private_feedback_runs_twenty_private_tests_and_lists_at_most_max_failures_shown(tokenizer, executor):
    (public,), _ = run(tokenizer, executor, [WRONG, RIGHT], problems=(LOOSE,))
    assert len(public.turns) == 1 and not public.solved  # the public test passed: no second turn
    (private,), _ = run(tokenizer, executor, [WRONG, RIGHT], problems=(LOOSE,), feedback_tests="private",
                        max_failures_shown=8)
    first = private.turns[0].public
    assert [t.stdin for t in first.tests] == [f"{i} 1\n" for i in range(20)]  # the first 20 private tests
    assert private.turns[1].user.count("failed:") == 8
    assert "input `0 1` failed:\nExpected output `1` but got `-1`" in private.turns[1].user
    assert len(private.turns) == 2 and private.solved


@pytest.mark.sandbox
def test_private_feedback_still_needs_the_public_tests_for_the_reward(tokenizer, executor):
    """No turn runs the public tests then, so the final judge must: a program that passes every
    private test but not the public one is not solved."""
    odd_public = Problem("odd", "rlef_mini", "Print a+b.", (Test("1 2\n", "4\n"),), LOOSE.private_tests)
    (episode,), _ = run(tokenizer, executor, [RIGHT], problems=(odd_public,), feedback_tests="private")
    assert len(episode.turns) == 1 and episode.public_passed  # its feedback tests passed...
    assert not episode.solved and episode.final is not None and not episode.final.passed  # ...the public one not


def test_private_feedback_on_function_style_problems_fails_before_any_sampling(tokenizer):
    function = Problem("f", "humaneval", "def f(): ...", (Test("", "1\n", call="print(f())"),),
                       (Test("", "1\n", call="print(f())"),), style="function")
    backend = Scripted(tokenizer, [RIGHT])
    runner = EpisodeRunner(backend, tokenizer, None, RolloutConfig(feedback_tests="private"), Limits(time_s=2))
    with pytest.raises(ValueError, match="feedback_tests=private needs stdin/stdout problems"):
        runner.run([function])
    assert backend.calls == []


@pytest.mark.sandbox
def test_a_few_shot_prefix_comes_before_the_first_prompt_and_is_never_the_policys(tokenizer, executor):
    """eval.few_shot_repairs (paper Table 3): example dialogues as context, rendered by the template."""
    prefix = [{"role": "user", "content": "Example problem"}, {"role": "assistant", "content": WRONG},
              {"role": "user", "content": "Example feedback"}, {"role": "assistant", "content": RIGHT}]
    backend = Scripted(tokenizer, [WRONG, RIGHT])
    runner = EpisodeRunner(backend, tokenizer, executor, RolloutConfig(), Limits(time_s=2), prefix=prefix)
    (episode,) = runner.run([ADD])
    first = tokenizer.apply_chat_template([*prefix, {"role": "user", "content": episode.turns[0].user}],
                                          add_generation_prompt=True, tokenize=False)
    assert backend.calls[0][0] == tokenizer.encode(first, add_special_tokens=False)
    assert not any(episode.policy_mask[:episode.turns[0].context_len]) and episode.solved


@pytest.mark.sandbox
def test_a_repair_backend_writes_every_turn_after_the_first(tokenizer, executor):
    """eval.repair_model (paper B.3): the generator writes turn 1, the repair model turns 2 and 3."""
    generator, repair = Scripted(tokenizer, [WRONG]), Scripted(tokenizer, [WRONG])
    runner = EpisodeRunner(generator, tokenizer, executor, RolloutConfig(max_turns=3), Limits(time_s=2),
                           repair_backend=repair)
    (episode,) = runner.run([ADD])
    assert len(episode.turns) == 3 and len(generator.calls) == 1 and len(repair.calls) == 2
    assert repair.calls[0][0] == episode.tokens[:episode.turns[1].context_len]  # it saw the generator's turn 1


def test_a_turn_is_sampled_only_while_its_prompt_plus_max_new_tokens_fits_the_context():
    assert context_overflow(10, 6, 16) is None  # a reply of all 6 tokens ends on the last position
    message = context_overflow(11, 6, 16)
    assert "11 tokens" in message and "max_new_tokens 6" in message and "= 17" in message and "of 16" in message
    assert context_overflow(10**6, 6, None) is None  # a backend that does not know its length is never cut


def overflowing_pair(tokenizer, max_new_tokens: int) -> tuple[Problem, Problem, int]:
    """(short, long, context length): the long problem's second prompt (a reply of >= 1 token, then the
    no-code retry) cannot fit with max_new_tokens more, while its first turn and all of the short
    problem's three turns can."""
    short = Problem("short", "rlef_mini", "Print a+b.", ADD.public_tests, ADD.private_tests)
    long = Problem("long", "rlef_mini", "Print a+b. " + "Read the input carefully. " * 60, ADD.public_tests,
                   ADD.private_tests)
    chat = ChatFormat(tokenizer)
    retry = len(chat.next_user(no_code_prompt(), response_stopped=False))
    first = {p.id: len(chat.first(first_prompt(p))) for p in (short, long)}
    assert first["short"] + 2 * (max_new_tokens + retry) < first["long"]  # short's three turns fit
    return short, long, first["long"] + retry + max_new_tokens


@pytest.mark.sandbox
def test_an_hf_episode_that_outgrows_the_context_ends_at_turn_2_and_the_batch_goes_on(tokenizer, executor):
    """Our HF decoder knows the model's max_position_embeddings: the long dialogue's second turn is
    not sampled but recorded as the overflow a chat server would have refused; the short one goes on."""
    short, long, length = overflowing_pair(tokenizer, max_new_tokens=8)
    model = tiny_random_llama(len(tokenizer), seed=3, max_position_embeddings=length).eval()
    backend = HFBackend(model, [], tokenizer.pad_token_id, max_batch=4)  # no stop: every reply is 8 tokens
    assert backend.context_length == length
    runner = EpisodeRunner(backend, tokenizer, executor, RolloutConfig(sampling=SamplingParams(max_new_tokens=8)),
                           Limits(time_s=2))
    ok, cut = runner.run([short, long])
    assert len(ok.turns) == 3 and all(t.overflow is None and len(t.response) == 8 for t in ok.turns)
    first, second = cut.turns
    assert first.overflow is None and len(first.response) == 8 and first.code is None
    assert second.response == [] and second.code is None and len(cut.tokens) == second.context_len  # nothing sampled
    assert f"{second.context_len} tokens" in second.overflow and f"context length of {length}" in second.overflow
    assert not cut.solved and cut.final is None and not cut.infra_error
    record = episode_record(cut)
    assert "context_overflow" not in record["turns"][0] and record["turns"][1]["context_overflow"] == second.overflow
    assert [t["response_tokens"] for t in record["turns"]] == [8, None]  # no reply, not an empty one
