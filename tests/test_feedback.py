"""Golden tests: every expected string is written out by hand, never rebuilt from the
templates under test, so any change to what the policy reads fails here."""
import pytest

# Aliased: a module-level name starting with "Test" would make pytest try to collect it.
from rlef.execution.types import ExecutionResult, Verdict
from rlef.execution.types import TestResult as JudgedTest
from rlef.feedback import (
    extract_code,
    feedback_entry,
    feedback_prompt,
    initial_prompt,
    no_code_prompt,
    random_feedback_prompt,
    truncate,
)

FOOTER = (
    "\nGive it another try.\n"
    "Your code should be enclosed in triple backticks like so: ```python YOUR CODE HERE ```. "
    "Use the backticks for your code only."
)


def _result(verdict, stdin="1 2\n", expected="3\n", observed="", stderr_tail="", **kwargs):
    return JudgedTest(verdict=verdict, stdin=stdin, expected=expected, observed=observed,
                      stderr_tail=stderr_tail, **kwargs)


def _run(*tests):
    return ExecutionResult(tests=tuple(tests))


# --- prompts -------------------------------------------------------------------------------


def test_first_turn_prompt_matches_paper_template():
    assert initial_prompt("Add two numbers a and b") == (
        "Provide a Python solution for the following competitive programming question: "
        "Add two numbers a and b.\n\n"
        "Your code should be enclosed in triple backticks like so: ```python YOUR CODE HERE ```. "
        "Use the backticks for your code only."
    )


def test_first_turn_prompt_keeps_braces_and_dollars_in_the_problem():
    assert initial_prompt("Print {x} and $y").startswith(
        "Provide a Python solution for the following competitive programming question: "
        "Print {x} and $y.\n\n"
    )


def test_feedback_for_wrong_output_matches_paper_template():
    result = _run(_result(Verdict.WRONG_OUTPUT, observed="4\n"))
    assert feedback_prompt(result) == (
        "Your code failed the following tests:\n\n"
        "- input `1 2` failed:\nExpected output `3` but got `4`"
        + FOOTER
    )


def test_feedback_for_exception_quotes_traceback():
    traceback = (
        "Traceback (most recent call last):\n"
        '  File "main.py", line 1, in <module>\n'
        "ZeroDivisionError: division by zero\n"
    )
    result = _run(_result(Verdict.EXCEPTION, stderr_tail=traceback, exit_code=1))
    assert feedback_prompt(result) == (
        "Your code failed the following tests:\n\n"
        "- input `1 2` failed:\n"
        "Traceback (most recent call last):\n"
        '  File "main.py", line 1, in <module>\n'
        "ZeroDivisionError: division by zero"
        + FOOTER
    )


def test_exception_without_stderr_reports_the_signal():
    entry = feedback_entry(_result(Verdict.EXCEPTION, signal=11))
    assert entry == "- input `1 2` failed:\nProgram was killed by signal 11."


def test_timeout_and_oom_lines():
    timeout = feedback_entry(_result(Verdict.TIMEOUT))
    assert timeout == "- input `1 2` failed: Execution took too long."
    assert feedback_entry(_result(Verdict.OUT_OF_MEMORY)) == "- input `1 2` failed: Out of memory."


def test_output_limit_line():
    assert feedback_entry(_result(Verdict.OUTPUT_LIMIT)) == (
        "- input `1 2` failed: Output limit exceeded."
    )


def test_entries_are_separated_by_a_blank_line_in_test_order():
    result = _run(
        _result(Verdict.TIMEOUT, stdin="5\n"),
        _result(Verdict.PASSED, stdin="6\n", observed="3\n"),
        _result(Verdict.WRONG_OUTPUT, stdin="3\n1 2 3\n", expected="6\n", observed="5\n"),
    )
    assert feedback_prompt(result) == (
        "Your code failed the following tests:\n\n"
        "- input `5` failed: Execution took too long.\n\n"
        "- input `3\n1 2 3` failed:\nExpected output `6` but got `5`"
        + FOOTER
    )


def test_empty_observed_output_is_quoted_as_empty():
    entry = feedback_entry(_result(Verdict.WRONG_OUTPUT, observed=""))
    assert entry == "- input `1 2` failed:\nExpected output `3` but got ``"


def test_max_entries_caps_the_number_of_failed_tests_shown():
    result = _run(*(_result(Verdict.TIMEOUT, stdin=f"{i}\n") for i in range(3)))
    assert feedback_prompt(result, max_entries=2) == (
        "Your code failed the following tests:\n\n"
        "- input `0` failed: Execution took too long.\n\n"
        "- input `1` failed: Execution took too long."
        + FOOTER
    )


def test_infra_errors_are_never_shown_to_the_model():
    result = _run(
        _result(Verdict.INFRA_ERROR, stdin="7\n", detail="worker died"),
        _result(Verdict.OUT_OF_MEMORY, stdin="8\n"),
    )
    assert feedback_prompt(result) == (
        "Your code failed the following tests:\n\n"
        "- input `8` failed: Out of memory."
        + FOOTER
    )


def test_result_with_only_infra_errors_has_no_feedback():
    with pytest.raises(ValueError, match="infrastructure"):
        feedback_prompt(_run(_result(Verdict.INFRA_ERROR)))


def test_infra_error_has_no_entry():
    with pytest.raises(ValueError):
        feedback_entry(_result(Verdict.INFRA_ERROR))


def test_feedback_on_passing_result_is_an_error():
    with pytest.raises(ValueError):
        feedback_prompt(_run(_result(Verdict.PASSED, observed="3\n")))


def test_random_feedback_renders_foreign_failures():
    # The foreign result comes from another problem's wrong solution (paper C.2); its inputs
    # and outputs are what the model sees, unrelated to its own code.
    foreign = _run(_result(Verdict.WRONG_OUTPUT, stdin="abc\n", expected="cba\n", observed="abc\n"))
    assert random_feedback_prompt(foreign) == (
        "Your code failed the following tests:\n\n"
        "- input `abc` failed:\nExpected output `cba` but got `abc`"
        + FOOTER
    )


def test_random_feedback_on_passing_foreign_result_is_an_error():
    with pytest.raises(ValueError):
        random_feedback_prompt(_run(_result(Verdict.PASSED, observed="3\n")))


def test_no_code_prompt_repeats_the_format_instruction():
    assert no_code_prompt() == (
        "Your response did not contain a code block.\n"
        "Give it another try.\n"
        "Your code should be enclosed in triple backticks like so: ```python YOUR CODE HERE ```. "
        "Use the backticks for your code only."
    )


# --- truncation ----------------------------------------------------------------------------


def test_short_text_is_not_truncated():
    assert truncate("abcdef", 6) == "abcdef"


def test_truncate_keeps_head_and_tail_with_marker():
    assert truncate("0123456789", 4) == "01\n... [6 characters omitted] ...\n89"


def test_truncate_with_no_head_keeps_only_the_tail():
    assert truncate("0123456789", 3, head_chars=0) == "... [7 characters omitted] ...\n789"


def test_long_input_is_truncated_with_marker():
    entry = feedback_entry(_result(Verdict.TIMEOUT, stdin="a" * 600 + "b" * 600 + "\n"))
    assert entry == (
        "- input `" + "a" * 500 + "\n... [200 characters omitted] ...\n" + "b" * 500
        + "` failed: Execution took too long."
    )


def test_long_observed_output_is_truncated_with_marker():
    entry = feedback_entry(_result(Verdict.WRONG_OUTPUT, observed="9" * 1001 + "\n"))
    assert entry == (
        "- input `1 2` failed:\nExpected output `3` but got `"
        + "9" * 500 + "\n... [1 characters omitted] ...\n" + "9" * 500 + "`"
    )


def test_traceback_keeps_its_tail():
    traceback = "Traceback (most recent call last):\n" + "x" * 2000 + "\nValueError: bad\n"
    entry = feedback_entry(_result(Verdict.EXCEPTION, stderr_tail=traceback))
    kept = ("x" * 2000 + "\nValueError: bad")[-1500:]
    assert entry == "- input `1 2` failed:\n... [551 characters omitted] ...\n" + kept
    assert entry.endswith("x\nValueError: bad")


# --- code extraction -----------------------------------------------------------------------


def test_extract_code_takes_last_python_block():
    response = (
        "First try:\n```python\nprint(1)\n```\n"
        "Better:\n```python\nprint(2)\n```\n"
        "Example output:\n```\n2\n```\n"
    )
    assert extract_code(response) == "print(2)"


def test_extract_code_accepts_py_and_python3_tags():
    assert extract_code("```py\nprint(1)\n```") == "print(1)"
    assert extract_code("```Python3\nprint(3)\n```") == "print(3)"


def test_extract_code_falls_back_to_untagged_block():
    assert extract_code("Here:\n```\nprint(1)\n```\n") == "print(1)"


def test_extract_code_ignores_blocks_in_other_languages():
    assert extract_code("```cpp\nint main() {}\n```\n") is None


def test_extract_code_returns_none_without_block():
    assert extract_code("print(1)") is None
    assert extract_code("I would use ```python YOUR CODE HERE ``` here.") is None


def test_extract_code_returns_none_for_blank_block():
    assert extract_code("```python\n\n   \n```") is None


def test_unterminated_block_is_not_code():
    # The reply hit the token limit while rewriting: neither the cut-off rewrite nor the
    # abandoned first draft is the model's answer.
    response = "```python\nprint(1)\n```\nLet me fix it:\n```python\nprint(2"
    assert extract_code(response) is None


def test_extract_code_handles_crlf_and_surrounding_blank_lines():
    response = "```python\r\n\r\n\r\nn = int(input())\r\nprint(n)  \r\n\r\n```\r\n"
    assert extract_code(response) == "n = int(input())\nprint(n)"


def test_extract_code_keeps_indentation_inside_the_code():
    response = "```python\nfor i in range(3):\n    print(i)\n```"
    assert extract_code(response) == "for i in range(3):\n    print(i)"


def test_extract_code_dedents_a_block_indented_under_a_list_item():
    response = "1. Solution:\n   ```python\n   x = 1\n   if x:\n       print(x)\n   ```"
    assert extract_code(response) == "x = 1\nif x:\n    print(x)"


def test_closing_fence_on_the_last_code_line_is_accepted():
    assert extract_code("```python\nprint(1)```") == "print(1)"
