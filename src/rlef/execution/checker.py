"""Does a program's stdout answer a test? CodeContests semantics, stdlib only.

The rules, applied to whitespace-separated tokens (str.split(), so CRLF, trailing spaces,
blank lines and a missing final newline never matter):

1. Both outputs must have the same number of tokens.
2. Tokens are compared case-insensitively ("YES" == "yes").
3. Two integer literals (optional sign, ASCII digits) are compared exactly, at any size:
   10**18 != 10**18 + 1, "007" == "7", "-0" == "0". Never a float tolerance between two ints.
4. Otherwise, if both tokens are finite decimal literals and at least one is a float literal
   (has ".", "e" or "E"), they match when |a - b| <= 1e-5 (absolute tolerance), so
   "0.3333333" == "0.333333333" and "2" == "2.000000001".
5. Everything else, including "nan" and "inf", is compared as lower-cased strings.

This is a default checker only: a problem that accepts several different answers needs a
problem-specific checker, which we do not have, so such problems can reject correct programs.

Speed matters because outputs can be 16 MB (Limits.output_bytes): the token lists are first
compared as a whole in C, and the per-token rules run only on tokens that differ. Worst
case, a million float tokens that all differ in their last digits, takes about 2 s.
"""
from __future__ import annotations

import math

FLOAT_ABS_TOLERANCE = 1e-5


def outputs_match(expected: str, observed: str) -> bool:
    """True when `observed` is an accepted answer for `expected` (rules in the module docstring)."""
    if expected == observed:
        return True
    # Lower-casing the whole text is safe: no code point gains or loses whitespace when
    # lower-cased, so token boundaries are unchanged (checked over all of Unicode).
    expected_tokens = expected.lower().split()
    observed_tokens = observed.lower().split()
    if len(expected_tokens) != len(observed_tokens):
        return False
    if expected_tokens == observed_tokens:
        return True
    pairs = zip(expected_tokens, observed_tokens, strict=True)
    return all(e == o or _numbers_match(e, o) for e, o in pairs)


def _numbers_match(expected: str, observed: str) -> bool:
    """Rules 3 and 4 for two lower-cased tokens that differ as strings."""
    # ASCII only: float() also reads Unicode digits and "1_000", which no judge would.
    if not (expected.isascii() and observed.isascii()) or "_" in expected or "_" in observed:
        return False
    if _is_int_literal(expected) and _is_int_literal(observed):
        return _canonical_int(expected) == _canonical_int(observed)
    a, b = _finite_float(expected), _finite_float(observed)
    if a is None or b is None:
        return False
    return abs(a - b) <= FLOAT_ABS_TOLERANCE


def _is_int_literal(token: str) -> bool:
    digits = token[1:] if token[:1] in "+-" else token
    return digits.isdigit()  # callers check isascii(), so these are 0-9 only


def _finite_float(token: str) -> float | None:
    """The token's value if it is a finite decimal literal. float() is the parser (a regex
    was several times slower on a million float tokens); its non-decimal spellings "nan",
    "inf", "infinity" and overflows like "1e999" are all non-finite, so they fall back to
    string equality."""
    try:
        value = float(token)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _canonical_int(token: str) -> tuple[bool, str]:
    """(negative, digits without leading zeros). Not int(): Python 3.11 refuses to parse
    integers of more than 4300 digits, and exactness at any size is the point here."""
    negative = token.startswith("-")
    digits = token.lstrip("+-").lstrip("0") or "0"
    return (negative and digits != "0", digits)
