"""One property of the CodeContests output checker per test."""

from rlef.execution.checker import outputs_match


def test_identical_outputs_match():
    assert outputs_match("1 2 3\n", "1 2 3\n")


def test_empty_outputs_match():
    assert outputs_match("", "")
    assert outputs_match("\n", "  \r\n")


def test_empty_output_does_not_match_expected_answer():
    assert not outputs_match("0\n", "")


def test_crlf_and_trailing_spaces_are_accepted():
    assert outputs_match("1 2\n3\n", "1 2  \r\n3\t\r\n")


def test_missing_final_newline_is_accepted():
    assert outputs_match("42\n", "42")


def test_blank_lines_and_line_layout_are_ignored():
    assert outputs_match("1\n2\n", "\n\n1 2\n\n")


def test_extra_token_fails():
    assert not outputs_match("1 2\n", "1 2 3\n")


def test_missing_token_fails():
    assert not outputs_match("1 2 3\n", "1 2\n")


def test_case_insensitive_words():
    assert outputs_match("YES\nNo\n", "yes\nNO\n")


def test_different_words_do_not_match():
    assert not outputs_match("YES\n", "YES.\n")


def test_large_integers_are_compared_exactly():
    assert outputs_match(str(10**18), str(10**18))
    assert not outputs_match(str(10**18), str(10**18 + 1))


def test_integers_beyond_python_str_digit_limit_are_compared_exactly():
    # Python 3.11's int() refuses > 4300 digits; the checker must not crash or round.
    big = "9" * 5000
    assert outputs_match(big, "0" + big)
    assert not outputs_match(big, big[:-1] + "8")


def test_integer_leading_zeros_and_signs_are_normalised():
    assert outputs_match("7 -0 5", "007 0 +5")


def test_integer_sign_matters():
    assert not outputs_match("5", "-5")


def test_integer_vs_integer_is_not_tolerant():
    # Two integer literals never get the float tolerance, however large they are.
    assert not outputs_match("1", "2")
    assert not outputs_match("100000000000", "100000000001")


def test_integer_vs_float_literal_is_tolerant():
    assert outputs_match("100000", "100000.000001")
    assert outputs_match("2.0", "2")


def test_floats_within_1e5_absolute_match():
    assert outputs_match("0.3333333", "0.333333333")
    assert outputs_match("1.5", "1.500009")


def test_float_outside_tolerance_does_not_match():
    assert not outputs_match("1.5", "1.50002")


def test_tolerance_is_absolute_not_relative():
    # 1e-5 relative to 1e9 would accept a difference of 1e4; absolute tolerance does not.
    assert not outputs_match("1000000000.0", "1000000001.0")


def test_scientific_notation_is_a_float():
    assert outputs_match("0.00001", "1E-5")
    assert outputs_match("1e3", "1000")


def test_nan_and_inf_are_compared_as_strings():
    assert outputs_match("nan inf", "NaN INF")
    assert not outputs_match("inf", "1e999")
    assert not outputs_match("nan", "nan0")


def test_non_ascii_digits_are_not_numbers():
    # int() would read Arabic-Indic digits as 12; a judge compares them as text.
    assert not outputs_match("12", "\u0661\u0662")


def test_underscore_numbers_are_not_numbers():
    # float("1_000") == 1000.0 in Python, but "1_000" is not a decimal literal on a judge.
    assert not outputs_match("1000.0", "1_000")


def test_a_million_line_output_is_compared_in_full():
    # Correctness only: speed belongs to bench/, not to a timed assert that fails on a busy machine.
    expected = "\n".join(str(i) for i in range(1_000_000)) + "\n"
    observed = expected.replace("\n", "\r\n")
    assert outputs_match(expected, observed)
    assert not outputs_match(expected, observed + "x")
    assert not outputs_match(expected, observed.replace("\r\n999999", "\r\n999998"))
