"""Execution results -> the text the model reads, and the model's reply -> the code we run.

Templates are the paper's (Appendix C.1) verbatim unless a comment says "ours". They live
here as Python constants, not in YAML, so the golden tests in tests/test_feedback.py pin
every character the policy is trained on.
"""
from __future__ import annotations

import re
import textwrap
from typing import NamedTuple

from rlef.data.problem import Problem, Test
from rlef.execution.types import ExecutionResult, TestResult, Verdict

CODE_FORMAT_INSTRUCTION = (
    "Your code should be enclosed in triple backticks like so: ```python YOUR CODE HERE ```. "
    "Use the backticks for your code only."
)
# Ours: the "none" ablation's user turn says only to try again, with no execution result.
NO_FEEDBACK_PROMPT = "Give it another try.\n" + CODE_FORMAT_INSTRUCTION

# Paper C.1, first turn. The problem description is inserted unchanged.
FIRST_TURN_TEMPLATE = (
    "Provide a Python solution for the following competitive programming question: {problem}.\n\n"
    + CODE_FORMAT_INSTRUCTION
)

# Paper C.1, every later turn: a header, one entry per failed public test, a footer.
FEEDBACK_HEADER = "Your code failed the following tests:\n\n"
# Ours: the paper does not say how entries are separated; a blank line keeps multi-line
# inputs of neighbouring tests apart.
FEEDBACK_ENTRY_SEPARATOR = "\n\n"
FEEDBACK_FOOTER = "\nGive it another try.\n" + CODE_FORMAT_INSTRUCTION

WRONG_OUTPUT_ENTRY = "- input `{input}` failed:\nExpected output `{expected}` but got `{observed}`"
EXCEPTION_ENTRY = "- input `{input}` failed:\n{stacktrace}"
TIMEOUT_ENTRY = "- input `{input}` failed: Execution took too long."
OUT_OF_MEMORY_ENTRY = "- input `{input}` failed: Out of memory."
# Ours: the paper gives no message for this verdict (our executor caps stdout, Limits).
OUTPUT_LIMIT_ENTRY = "- input `{input}` failed: Output limit exceeded."

# Ours: the paper does not give the message for a reply without a code block.
NO_CODE_FEEDBACK = (
    "Your response did not contain a code block.\nGive it another try.\n" + CODE_FORMAT_INSTRUCTION
)

# Ours: caps on quoted text, so one huge test cannot crowd the problem out of the context.
MAX_IO_CHARS = 1000  # per quoted input, expected or observed output; head and tail are kept
MAX_TRACEBACK_CHARS = 1500  # tail only: the exception type and message come last
OMISSION_MARKER = "\n... [{n} characters omitted] ...\n"


# HumanEval (paper C.4). The header and the "- Success:" / "- Failure:" lines follow the paper's
# format as our issue quotes it; the first-turn wording and the failure details are ours.
FUNCTION_FIRST_TURN_TEMPLATE = (
    "Complete the following Python function. Write the whole function, signature included, "
    "and any imports it needs.\n\n```python\n{problem}```\n\n" + CODE_FORMAT_INSTRUCTION
)
FUNCTION_FEEDBACK_HEADER = "Your code failed some test cases:\n"
FUNCTION_SUCCESS_LINE = "- Success: {test}"
FUNCTION_FAILURE_LINE = "- Failure: {test}{detail}"


def initial_prompt(problem_description: str) -> str:
    return FIRST_TURN_TEMPLATE.format(problem=problem_description)


def first_prompt(problem: Problem) -> str:
    """The first user turn for any problem: CodeContests' template or HumanEval's."""
    if problem.style == "function":
        return FUNCTION_FIRST_TURN_TEMPLATE.format(problem=problem.description)
    return initial_prompt(problem.description)


def turn_feedback(problem: Problem, result: ExecutionResult, max_entries: int | None = None) -> str:
    """The user turn after a failed attempt on `problem`'s public tests (at most `max_entries`
    failures listed, stdin/stdout problems; HumanEval's format lists every test)."""
    if problem.style == "function":
        return function_feedback_prompt(result, problem.public_tests)
    return feedback_prompt(result, max_entries)


def function_feedback_prompt(result: ExecutionResult, tests: tuple[Test, ...]) -> str:
    """HumanEval feedback: every public test, in order, as a Success or Failure line."""
    if not result.failures:
        raise ValueError("no feedback to give: no failed test")
    lines = []
    for test, judged in zip(tests, result.tests):
        if judged.verdict is Verdict.PASSED:
            lines.append(FUNCTION_SUCCESS_LINE.format(test=test.display))
        elif judged.verdict is not Verdict.INFRA_ERROR:
            lines.append(FUNCTION_FAILURE_LINE.format(test=test.display, detail=_function_detail(judged)))
    return FUNCTION_FEEDBACK_HEADER + "\n".join(lines) + "\n" + FEEDBACK_FOOTER


def _function_detail(test: TestResult) -> str:
    if test.verdict is Verdict.WRONG_OUTPUT:
        return f" (got `{truncate(test.observed.strip(), MAX_IO_CHARS)}`)"
    if test.verdict is Verdict.EXCEPTION:
        return "\n" + truncate(_stacktrace(test), MAX_TRACEBACK_CHARS, head_chars=0)
    if test.verdict is Verdict.TIMEOUT:
        return " (execution took too long)"
    if test.verdict is Verdict.OUT_OF_MEMORY:
        return " (out of memory)"
    return " (output limit exceeded)"


def no_code_prompt() -> str:
    return NO_CODE_FEEDBACK


def feedback_prompt(result: ExecutionResult, max_entries: int | None = None) -> str:
    """The user turn after a failed attempt: one entry per failed public test, in test order,
    at most `max_entries` of them (default all: CodeContests has only a few public tests).

    Raises ValueError when nothing failed: passing the public tests ends the episode, and
    a result whose only non-passes are INFRA_ERRORs must be retried, not fed back.
    """
    if max_entries is not None and max_entries < 1:
        raise ValueError(f"max_entries must be >= 1 or None, got {max_entries}")
    failures = result.failures  # excludes INFRA_ERROR: our fault, never shown as the model's
    if not failures:
        kind = "an infrastructure error" if result.infra_error else "no failed test"
        raise ValueError(f"no feedback to give: the result has {kind}")
    entries = [feedback_entry(test) for test in failures[:max_entries]]
    return FEEDBACK_HEADER + FEEDBACK_ENTRY_SEPARATOR.join(entries) + FEEDBACK_FOOTER


def random_feedback_prompt(foreign_result: ExecutionResult, max_entries: int | None = None) -> str:
    """Feedback for the random-feedback ablation (paper C.2).

    Protocol: the rollout layer takes a wrong solution of a *different* problem, runs it on that
    problem's public tests and passes the result here. The text is then real feedback in every
    respect (same templates, real inputs, real errors) except that it is unrelated to the
    model's code, which is exactly what the ablation tests. Rendering is identical to
    feedback_prompt, so the two conditions differ only in which result is rendered.
    """
    return feedback_prompt(foreign_result, max_entries=max_entries)


def feedback_entry(test: TestResult) -> str:
    """One failed test as the model sees it. INFRA_ERROR and PASSED have no entry: an infra
    error is the harness's failure, and showing it would teach the model to fix what is not
    broken."""
    # Ours: the trailing newline every test file ends with is dropped, so the closing backtick
    # sits right after the last character instead of alone on the next line.
    quoted_input = truncate(test.stdin.rstrip("\r\n"), MAX_IO_CHARS)
    if test.verdict is Verdict.WRONG_OUTPUT:
        return WRONG_OUTPUT_ENTRY.format(
            input=quoted_input,
            expected=truncate(test.expected.rstrip("\r\n"), MAX_IO_CHARS),
            observed=truncate(test.observed.rstrip("\r\n"), MAX_IO_CHARS),
        )
    if test.verdict is Verdict.EXCEPTION:
        stacktrace = truncate(_stacktrace(test), MAX_TRACEBACK_CHARS, head_chars=0)
        return EXCEPTION_ENTRY.format(input=quoted_input, stacktrace=stacktrace)
    if test.verdict is Verdict.TIMEOUT:
        return TIMEOUT_ENTRY.format(input=quoted_input)
    if test.verdict is Verdict.OUT_OF_MEMORY:
        return OUT_OF_MEMORY_ENTRY.format(input=quoted_input)
    if test.verdict is Verdict.OUTPUT_LIMIT:
        return OUTPUT_LIMIT_ENTRY.format(input=quoted_input)
    raise ValueError(f"a {test.verdict.value} test has no feedback entry")


def _stacktrace(test: TestResult) -> str:
    """stderr's tail; ours when it is empty (e.g. killed by a signal), so the entry still says
    something."""
    if test.stderr_tail.strip():
        return test.stderr_tail.rstrip()
    if test.signal is not None:
        return f"Program was killed by signal {test.signal}."
    return f"Program exited with code {test.exit_code}."


def truncate(text: str, max_chars: int, head_chars: int | None = None) -> str:
    """Keep `head_chars` from the start (default half) and the rest of `max_chars` from the end,
    with OMISSION_MARKER between them; text within `max_chars` is returned unchanged."""
    head = max_chars // 2 if head_chars is None else head_chars
    tail = max_chars - head
    if not 0 <= head <= max_chars:
        raise ValueError(f"need 0 <= head_chars <= max_chars, got {head} and {max_chars}")
    if len(text) <= max_chars:
        return text
    marker = OMISSION_MARKER.format(n=len(text) - max_chars)
    if head == 0:
        marker = marker.lstrip("\n")  # nothing above it to separate from
    # text[len(text) - tail:], not text[-tail:]: the latter is the whole text when tail == 0.
    return text[:head] + marker + text[len(text) - tail:]


class _Block(NamedTuple):
    tag: str  # lower-cased info string, "" for a bare ```
    lines: list[str]
    closed: bool


_FENCE_OPEN = re.compile(r"[ \t]*```[ \t]*([^`\s]*)[^`]*")  # ``` + info string without backticks
_PYTHON_TAG = re.compile(r"py(thon)?[23]?")  # python, Python3, py, py3 (matched lower-cased)


def extract_code(response: str) -> str | None:
    """The code to run: the last ```python block, else the last untagged ``` block.

    Returns None when there is no such block, when it is blank, or when the chosen block is
    never closed (ours: the reply hit the token limit mid-answer; running the truncated code,
    or falling back to an earlier draft the model moved away from, would credit the model
    with an answer it did not give).
    """
    blocks = _fenced_blocks(response.replace("\r\n", "\n"))
    python = [b for b in blocks if _PYTHON_TAG.fullmatch(b.tag)]
    bare = [b for b in blocks if b.tag == ""]
    chosen = python[-1] if python else bare[-1] if bare else None
    if chosen is None or not chosen.closed:
        return None
    lines = chosen.lines
    while lines and not lines[0].strip():
        lines = lines[1:]
    # Ours: dedent, because a block indented under a markdown list item cannot run as written.
    code = textwrap.dedent("\n".join(lines)).rstrip()
    return code or None


def has_closed_python_block(text: str) -> bool:
    """True once the reply contains a complete ```python block (generation may stop there)."""
    return any(b.closed and _PYTHON_TAG.fullmatch(b.tag) for b in _fenced_blocks(text.replace("\r\n", "\n")))


def _fenced_blocks(text: str) -> list[_Block]:
    """Every fenced block, in order. A line ending in ``` closes a block, so `print(x)````
    on one line still yields `print(x)`."""
    blocks: list[_Block] = []
    current: tuple[str, list[str]] | None = None
    for line in text.split("\n"):
        if current is None:
            opened = _FENCE_OPEN.fullmatch(line)
            if opened:
                current = (opened.group(1).lower(), [])
        elif line.rstrip().endswith("```"):
            current[1].append(line.rstrip()[:-3])
            blocks.append(_Block(*current, closed=True))
            current = None
        else:
            current[1].append(line)
    if current is not None:
        blocks.append(_Block(*current, closed=False))
    return blocks
