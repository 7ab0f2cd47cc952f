"""Hidden-spec families: problems where only the feedback can tell the model what to print.

Each statement leaves ONE output detail open (a decoration, the order, the separator, the
letter case, ...). It shows no example output, so the detail is visible only in the expected
output of a failed public test: exactly what the paper's feedback quotes ("Expected output `X`
but got `Y`"). The computation itself is a beginner's one the warm start already writes, so
reading the feedback is the whole difficulty. Every input generator makes inputs whose public
output tells the options apart (both answers of a yes/no question, >= 3 items of a list, ...).

Splits are fixed per family by the KIND of detail: the test kinds (rounding direction, 0/1-based
positions, yes/no words) appear in no train family, so a gain on test is transfer of the skill
"read the expected output", not memory of a format. `Family.single_turn_ceiling` is the chance
of guessing the option (1 / number of options); a model that does not read the tests and
prints the natural default (space-separated, as computed, YES/NO, ...) scores below it, since
no option is that default.

The judge is CodeContests' checker (execution/checker.py): tokens, case-insensitive, integers
by value, floats to 1e-5. So letter case, whitespace layout and leading zeros are details it
cannot see, and no family here varies them (a "letter case" family would accept every case).
tests/test_hidden_families.py checks that each option fails the public tests of the others.
"""
from __future__ import annotations

import random

from rlef.data.mini.registry import Variant, hidden_family

# Appended to every Output section: the statement admits that something is open, without
# saying what (a real judge's hidden checker convention, made explicit).
OPEN_DETAIL_NOTE = "Any detail of the output format that this statement does not fix is fixed by the judge's tests."
_LIST_SPEC = ("The first line contains n ({lo} <= n <= {hi}). The second line contains n integers "
              "a_1, ..., a_n ({vlo} <= a_i <= {vhi}).")
_READ_LIST = "n = int(input())\na = list(map(int, input().split()))\n"
_QUERY_SPEC = "The first line contains q ({lo} <= q <= {hi}), the number of queries. {each}"
_WORDS = ("cat", "dog", "sun", "moon", "tree", "apple", "river", "stone", "bird", "fish", "house",
          "light", "sky", "code", "lemon", "garden", "rain", "cloud")
_PALINDROMES = ("level", "noon", "radar", "abba", "civic", "kayak", "refer", "stats", "wow", "aba")


def _compiled(params: str, expr: str):
    """`lambda params: expr` for the family's own constant conditions: the generators check
    inputs with the very expression the reference solution prints, so the two cannot drift."""
    return eval(f"lambda {params}: {expr}")  # noqa: S307  constants of this module, never input


def _ints(r: random.Random, n: int, lo: int, hi: int) -> list[int]:
    return [r.randint(lo, hi) for _ in range(n)]


def _list_input(values: list[int]) -> str:
    return f"{len(values)}\n" + " ".join(map(str, values)) + "\n"


def _two_ints_variant(title: str, given: str, what: str, lo: int, hi: int, output_spec: str, printed: str,
                      option: str) -> Variant:
    """A problem over one input line "a b" (lo <= a, b <= hi) that prints `printed`."""
    return _variant(
        title, f"You are given {given}. Compute {what}.",
        f"The only line contains two integers a and b ({lo} <= a, b <= {hi}).", output_spec,
        f"a, b = map(int, input().split())\nprint({printed})\n",
        lambda r: f"{r.randint(lo, hi)} {r.randint(lo, hi)}\n", option)


def _variant(title: str, legend: str, input_spec: str, output_spec: str, solution: str, make_input,
             option: str) -> Variant:
    return Variant(title=title, legend=legend, input_spec=input_spec,
                   output_spec=f"{output_spec} {OPEN_DETAIL_NOTE}", solution=solution,
                   make_input=make_input, detail_option=option)


# ----------------------------------------------------------------------------- train kinds

_SCALARS = (  # (what is printed, the expression over the list a)
    ("the sum of the numbers", "sum(a)"),
    ("the largest number", "max(a)"),
    ("the smallest number", "min(a)"),
    ("how many of the numbers are even", "sum(1 for x in a if x % 2 == 0)"),
    ("the difference between the largest and the smallest number", "max(a) - min(a)"),
)
DECORATIONS = ("[x]", "<x>", "(x)", "{x}", "*x*", "#x#")  # x: the answer


@hidden_family("hs_decorate_total", category="arithmetic", detail="decoration", options=DECORATIONS,
               split="train")
def decorate_total(rng: random.Random, options: tuple[str, ...] = DECORATIONS) -> Variant:
    what, expr = rng.choice(_SCALARS)
    deco = rng.choice(options)
    left, right = deco.split("x")
    return _variant(
        "Framed answer", f"You are given n integers. Find {what}.", _LIST_SPEC.format(lo=3, hi=10, vlo=1, vhi=50),
        f"Print {what}, decorated the way the judge expects.",
        _READ_LIST + f"print({left!r} + str({expr}) + {right!r})\n",
        lambda r: _list_input(_ints(r, r.randint(3, 10), 1, 50)), deco)


_LIST_MAPS = (  # (what is printed, the list expression over a)
    ("the numbers in increasing order", "sorted(a)"),
    ("the numbers in decreasing order", "sorted(a, reverse=True)"),
    ("the numbers in reverse order", "a[::-1]"),
    ("every number multiplied by 3", "[3 * x for x in a]"),
    ("every number increased by 10", "[x + 10 for x in a]"),
)
SEPARATORS = (", ", ",", ";", " | ", "-")


@hidden_family("hs_separator_list", category="sorting", detail="separator", options=SEPARATORS, split="train")
def separator_list(rng: random.Random, options: tuple[str, ...] = SEPARATORS) -> Variant:
    what, expr = rng.choice(_LIST_MAPS)
    sep = rng.choice(options)
    return _variant(
        "Joined up", f"You are given n integers. Print {what}.", _LIST_SPEC.format(lo=3, hi=9, vlo=1, vhi=99),
        f"Print {what}, separated the way the judge expects.",
        _READ_LIST + f"print({sep!r}.join(str(x) for x in {expr}))\n",
        lambda r: _list_input(_ints(r, r.randint(3, 9), 1, 99)), sep)


_FILTERS = (  # (description, condition on x)
    ("even", "x % 2 == 0"), ("odd", "x % 2 == 1"), ("greater than 20", "x > 20"),
    ("divisible by 3", "x % 3 == 0"), ("less than 30", "x < 30"),
)
ORDERS = ("ascending", "descending", "reversed input order")
_ORDER_CODE = {"ascending": "sorted(b)", "descending": "sorted(b, reverse=True)",
               "reversed input order": "b[::-1]"}


def _scrambled_matches(r: random.Random, condition: str) -> str:
    """A list whose matching numbers are >= 3, distinct and neither sorted nor reverse-sorted,
    so ascending, descending and reversed input order all print differently."""
    check = _compiled("x", condition)
    while True:
        a = _ints(r, r.randint(5, 10), 1, 40)
        b = [x for x in a if check(x)]
        if len(b) >= 3 and len(set(b)) == len(b) and b not in (sorted(b), sorted(b, reverse=True)):
            return _list_input(a)


@hidden_family("hs_order_filter", category="sorting", detail="order", options=ORDERS, split="train")
def order_filter(rng: random.Random) -> Variant:
    what, condition = rng.choice(_FILTERS)
    order = rng.choice(ORDERS)
    return _variant(
        "Pick them out", f"You are given n integers. Print the numbers that are {what}.",
        _LIST_SPEC.format(lo=5, hi=10, vlo=1, vhi=40) + f" At least three of them are {what}.",
        f"Print the numbers that are {what}, separated by spaces, in the order the judge expects.",
        _READ_LIST + f"b = [x for x in a if {condition}]\nprint(*{_ORDER_CODE[order]})\n",
        lambda r: _scrambled_matches(r, condition), order)


_PAIR_OPS = (("the sum a + b", "a + b"), ("the product a * b", "a * b"), ("the larger of a and b", "max(a, b)"),
             ("the difference a - b", "a - b"))
PREFIXES = ("> ", "- ", "Case #{i}: ", "{i}) ", "#{i}: ")


@hidden_family("hs_prefix_lines", category="parsing", detail="line prefix", options=PREFIXES, split="train")
def prefix_lines(rng: random.Random, options: tuple[str, ...] = PREFIXES) -> Variant:
    what, expr = rng.choice(_PAIR_OPS)
    prefix = rng.choice(options)
    line = f"{prefix!r}.format(i=i) + str({expr})" if "{i}" in prefix else f"{prefix!r} + str({expr})"

    def make_input(r: random.Random) -> str:
        q = r.randint(2, 5)
        return f"{q}\n" + "".join(f"{r.randint(1, 30)} {r.randint(1, 30)}\n" for _ in range(q))

    return _variant(
        "Line by line", f"Answer q queries. Each query gives two integers a and b: answer with {what}.",
        _QUERY_SPEC.format(lo=2, hi=5, each="Each of the next q lines contains two integers a and b "
                                            "(1 <= a, b <= 30)."),
        "Print one line per query, in order, each with the answer and the line prefix the judge expects.",
        "q = int(input())\nfor i in range(1, q + 1):\n    a, b = map(int, input().split())\n"
        f"    print({line})\n",
        make_input, prefix)


# Values with many decimals only: a half (x.5) would print the same at two precisions.
_MEANS = (("the average of the numbers", "sum(a) / n"), ("the sum of the numbers divided by 7", "sum(a) / 7"),
          ("the largest number divided by 3", "max(a) / 3"), ("the sum of the numbers divided by 9", "sum(a) / 9"))
PRECISIONS = ("1", "2", "3", "4")


def _unround_list(r: random.Random, expr: str) -> str:
    """A list whose value prints differently at every precision (55.5 would read 55.50 at two)."""
    value = _compiled("a, n", expr)
    for _ in range(10_000):
        a = _ints(r, r.randint(3, 7), 1, 100)
        shown = {round(value(a, len(a)), int(d)) for d in PRECISIONS}
        if len(shown) == len(PRECISIONS) and min(abs(x - y) for x in shown for y in shown if x != y) > 1e-4:
            return _list_input(a)
    raise RuntimeError(f"no input prints {expr} differently at every precision")


@hidden_family("hs_precision_mean", category="arithmetic", detail="precision", options=PRECISIONS,
               split="train")
def precision_mean(rng: random.Random) -> Variant:
    what, expr = rng.choice(_MEANS)
    digits = rng.choice(PRECISIONS)
    return _variant(
        "Exactly so", f"You are given n integers. Compute {what}.", _LIST_SPEC.format(lo=3, hi=7, vlo=1, vhi=100),
        f"Print {what} as a decimal number, rounded to the precision the judge expects.",
        _READ_LIST + f"print(f'{{{expr}:.{digits}f}}')\n", lambda r: _unround_list(r, expr), digits)


BOUNDS = ("[lo, hi]", "(lo, hi)", "[lo, hi)", "(lo, hi]")
_BOUND_CODE = {"[lo, hi]": "lo <= x <= hi", "(lo, hi)": "lo < x < hi", "[lo, hi)": "lo <= x < hi",
               "(lo, hi]": "lo < x <= hi"}


@hidden_family("hs_bound_count", category="counting", detail="inclusive or exclusive bound", options=BOUNDS,
               split="train")
def bound_count(rng: random.Random) -> Variant:
    bound = rng.choice(BOUNDS)
    noun, check = rng.choice([("numbers", ""), ("even numbers", " and x % 2 == 0")])

    def make_input(r: random.Random) -> str:
        # lo once and hi twice (or the reverse): all four bound conventions count differently.
        lo = r.randint(1, 10) * 2
        hi = lo + r.randint(3, 10) * 2
        inside = [r.randint(lo + 1, hi - 1) for _ in range(r.randint(1, 5))]
        outside = [r.choice([r.randint(0, lo - 1), r.randint(hi + 1, 60)]) for _ in range(r.randint(0, 3))]
        a = inside + outside + ([lo, hi, hi] if r.random() < 0.5 else [lo, lo, hi])
        r.shuffle(a)
        return f"{lo} {hi}\n" + _list_input(a)

    return _variant(
        "Between the lines", f"You are given two integers lo < hi and n integers. Count the {noun} between lo and hi.",
        "The first line contains lo and hi (0 <= lo < hi <= 60). The second line contains n (3 <= n <= 11). "
        "The third line contains n integers a_1, ..., a_n (0 <= a_i <= 60).",
        f"Print one integer: how many {noun} lie between lo and hi, with the bounds counted the way the "
        "judge expects.",
        "lo, hi = map(int, input().split())\n" + _READ_LIST
        + f"print(sum(1 for x in a if {_BOUND_CODE[bound]}{check}))\n",
        make_input, bound)


UNITS = (" cm", " m", " units", "mm", " km")
_SHAPES = (("the perimeter of an a x b rectangle", "2 * (a + b)"), ("the total length of a and b", "a + b"),
           ("the length of the longer side", "max(a, b)"), ("the perimeter of a square with side a", "4 * a"))


@hidden_family("hs_unit_suffix", category="arithmetic", detail="unit suffix", options=UNITS, split="train")
def unit_suffix(rng: random.Random, options: tuple[str, ...] = UNITS) -> Variant:
    what, expr = rng.choice(_SHAPES)
    unit = rng.choice(options)
    return _two_ints_variant("Measure twice", "two lengths a and b", what, 1, 100,
                             f"Print {what}, followed by the unit the judge expects.",
                             f"str({expr}) + {unit!r}", unit)


HEADERS = ("count line first", "count line last", "count and colon first")
_HEADER_CODE = {"count line first": "print(len(b))\nprint(*b)\n", "count line last": "print(*b)\nprint(len(b))\n",
                "count and colon first": "print(str(len(b)) + ':', *b)\n"}


@hidden_family("hs_count_header", category="counting", detail="count header", options=HEADERS, split="train")
def count_header(rng: random.Random) -> Variant:
    what, condition = rng.choice(_FILTERS)
    header = rng.choice(HEADERS)
    return _variant(
        "Roll call", f"You are given n integers. List the numbers that are {what}, and how many there are.",
        _LIST_SPEC.format(lo=4, hi=10, vlo=1, vhi=40) + f" At least three of them are {what}.",
        f"Print the numbers that are {what} in input order, separated by spaces, and their count, laid out "
        "the way the judge expects.",
        _READ_LIST + f"b = [x for x in a if {condition}]\n" + _HEADER_CODE[header],
        lambda r: _scrambled_matches(r, condition), header)


QUOTES = ("'", '"', "`", "|")
_WORD_FILTERS = (("longer than three letters", "len(w) > 3"), ("with an even number of letters", "len(w) % 2 == 0"),
                 ("that contain the letter e", "'e' in w"), ("with at most four letters", "len(w) <= 4"))


def _sentence_with(r: random.Random, condition: str, words: tuple[str, ...] = _WORDS) -> str:
    """Up to 8 words, at least two of them satisfying `condition` (so the format shows twice)."""
    check = _compiled("w", condition)
    while True:
        s = [r.choice(words) for _ in range(r.randint(3, 8))]
        if sum(map(check, s)) >= 2:
            return " ".join(s) + "\n"


@hidden_family("hs_word_quote", category="string", detail="quotation marks", options=QUOTES, split="train")
def word_quote(rng: random.Random, options: tuple[str, ...] = QUOTES) -> Variant:
    what, condition = rng.choice(_WORD_FILTERS)
    quote = rng.choice(options)
    return _variant(
        "Quote me", f"You are given a sentence. Print its words {what}, each one quoted.",
        "The only line contains 3 to 8 words of lowercase letters, separated by single spaces.",
        f"Print the words {what} in input order, separated by spaces, each in the quotation marks the judge "
        "expects.", f"print(*[{quote!r} + w + {quote!r} for w in input().split() if {condition}])\n",
        lambda r: _sentence_with(r, condition), quote)


# ----------------------------------------------------------------------------- valid kinds

EMPTY_MARKERS = ("-1", "NONE", "EMPTY", "NIL", "N/A")


@hidden_family("hs_empty_marker", category="counting", detail="empty-result marker", options=EMPTY_MARKERS,
               split="valid")
def empty_marker(rng: random.Random) -> Variant:
    what, condition = rng.choice(_FILTERS)
    pick, expr = rng.choice([("smallest", "min(b)"), ("largest", "max(b)"), ("first", "b[0]")])
    marker = rng.choice(EMPTY_MARKERS)
    check = _compiled("x", condition)

    def make_input(r: random.Random) -> str:
        while True:  # at least one query with an answer and one without
            rows = [_ints(r, r.randint(1, 5), 1, 40) for _ in range(r.randint(2, 5))]
            hits = [any(map(check, row)) for row in rows]
            if any(hits) and not all(hits):
                return f"{len(rows)}\n" + "".join(" ".join(map(str, row)) + "\n" for row in rows)

    return _variant(
        "Anyone there?", f"Answer q queries. Each query is a list of integers: print the {pick} number in it "
        f"that is {what}.", _QUERY_SPEC.format(lo=2, hi=5, each="Each of the next q lines contains 1 to 5 "
                                                "integers between 1 and 40, separated by spaces."),
        f"Print one line per query: the {pick} number that is {what}, or, when there is none, the marker the "
        "judge expects.",
        "q = int(input())\nfor _ in range(q):\n    a = list(map(int, input().split()))\n"
        f"    b = [x for x in a if {condition}]\n    print({expr} if b else {marker!r})\n",
        make_input, marker)


GROUPINGS = (",", " ", "_", ".", "'")


@hidden_family("hs_digit_grouping", category="arithmetic", detail="digit grouping", options=GROUPINGS,
               split="valid")
def digit_grouping(rng: random.Random) -> Variant:
    what, expr = rng.choice([("the product a * b", "a * b"), ("the sum a + b", "a + b"),
                             ("a * 1000 + b", "a * 1000 + b")])
    mark = rng.choice(GROUPINGS)
    return _two_ints_variant("Big numbers", "two integers a and b", what, 10000, 99999,
                             f"Print {what}, with its digits grouped in threes the way the judge expects.",
                             f"f'{{{expr}:,}}'.replace(',', {mark!r})", mark)


# ----------------------------------------------------------------------------- test kinds
# No train or valid family varies these details.

ROUNDINGS = ("down", "up", "to nearest")
_ROUND_CODE = {"down": "x // y", "up": "-(-x // y)", "to nearest": "(2 * x + y) // (2 * y)"}


@hidden_family("hs_round_ratio", category="arithmetic", detail="rounding direction", options=ROUNDINGS, split="test")
def round_ratio(rng: random.Random) -> Variant:
    what, num, den = rng.choice([("a / b", "a", "b"), ("(a + b) / 3", "a + b", "3"), ("a / (b + 1)", "a", "b + 1"),
                                 ("2 * a / b", "2 * a", "b")])
    rounding = rng.choice(ROUNDINGS)
    fraction = _compiled("a, b", f"(({num}) % ({den})) / ({den})")

    def make_input(r: random.Random) -> str:
        while True:  # one answer with a fraction below 1/2 and one above: all three roundings differ
            pairs = [(r.randint(1, 60), r.randint(2, 9)) for _ in range(r.randint(2, 5))]
            fractions = [fraction(a, b) for a, b in pairs]
            if any(0 < f < 0.5 for f in fractions) and any(f > 0.5 for f in fractions):
                return f"{len(pairs)}\n" + "".join(f"{a} {b}\n" for a, b in pairs)

    return _variant(
        "Whole numbers only", f"Answer q queries. Each query gives two integers a and b: compute {what}.",
        _QUERY_SPEC.format(lo=2, hi=5, each="Each of the next q lines contains two integers a and b "
                                            "(1 <= a <= 60, 2 <= b <= 9)."),
        f"Print one line per query: {what} as an integer, rounded the way the judge expects.",
        "q = int(input())\nfor _ in range(q):\n    a, b = map(int, input().split())\n"
        f"    x, y = {num}, {den}\n    print({_ROUND_CODE[rounding]})\n", make_input, rounding)

BASES = ("0-based", "1-based")


@hidden_family("hs_index_list", category="sorting", detail="0- or 1-based positions", options=BASES, split="test")
def index_list(rng: random.Random) -> Variant:
    what, expr = rng.choice([("the largest number", "a.index(max(a))"), ("the smallest number", "a.index(min(a))"),
                             ("the first even number", "[x % 2 for x in a].index(0)"),
                             ("the first number greater than 50", "[x > 50 for x in a].index(True)")])
    base = rng.choice(BASES)

    def make_input(r: random.Random) -> str:
        while True:  # the asked-for number exists
            a = _ints(r, r.randint(3, 10), 1, 99)
            if any(x % 2 == 0 for x in a) and any(x > 50 for x in a):
                return _list_input(a)

    return _variant(
        "Where is it?", f"You are given n integers. Find the position of {what} (its first occurrence).",
        _LIST_SPEC.format(lo=3, hi=10, vlo=1, vhi=99) + " There is at least one even number and one number "
        "greater than 50.", f"Print one integer: the position of {what}, counted the way the judge expects.",
        _READ_LIST + f"print({expr}{' + 1' if base == '1-based' else ''})\n", make_input, base)


@hidden_family("hs_index_chars", category="string", detail="0- or 1-based positions", options=BASES, split="test")
def index_chars(rng: random.Random) -> Variant:
    what, condition = rng.choice([("vowels", "c in 'aeiou'"), ("letters x", "c == 'x'"), ("letters a", "c == 'a'"),
                                  ("letters b or c", "c in 'bc'")])
    base = rng.choice(BASES)
    check = _compiled("c", condition)

    def make_input(r: random.Random) -> str:
        while True:
            s = "".join(r.choice("abcdexyz") for _ in range(r.randint(4, 20)))
            if sum(map(check, s)) >= 2:
                return s + "\n"

    return _variant(
        "Spot the letters", f"You are given a string s of lowercase letters. Print the positions of all {what} in s.",
        f"The only line contains s (4 <= |s| <= 20), of the letters a-e and x-z, with at least two {what}.",
        f"Print the positions of the {what} in increasing order, separated by spaces, counted the way the judge "
        "expects.", f"s = input().strip()\nprint(*[i{' + 1' if base == '1-based' else ''} for i, c in "
        f"enumerate(s) if {condition}])\n", make_input, base)


# Never YES/NO nor True/False (the usual defaults), and distinct case-insensitively (the checker is).
YES_NO = ("OK/FAIL", "POSSIBLE/IMPOSSIBLE", "Y/N", "ACCEPT/REJECT", "1/0", "GOOD/BAD")


def _yes_no_input(r: random.Random, draw, check) -> str:
    """2-6 queries with both answers among them, so one public test shows both words."""
    while True:
        items = [draw(r) for _ in range(r.randint(2, 6))]
        answers = {bool(check(x)) for x in items}
        if answers == {True, False}:
            return f"{len(items)}\n" + "".join(f"{x}\n" for x in items)


def _yes_no_variant(title: str, legend: str, each: str, parse: str, condition: str, words: str, draw) -> Variant:
    yes, no = words.split("/")
    check = _compiled("x", condition)
    return _variant(
        title, f"Answer q queries. {legend}", _QUERY_SPEC.format(lo=2, hi=6, each=each),
        "Print one line per query: the answer, written with the words for yes and no that the judge expects.",
        f"q = int(input())\nfor _ in range(q):\n    x = {parse}\n    print({yes!r} if {condition} else {no!r})\n",
        lambda r: _yes_no_input(r, draw, check), words)


@hidden_family("hs_yesno_number", category="number_theory", detail="yes/no words", options=YES_NO, split="test")
def yesno_number(rng: random.Random) -> Variant:
    what, condition = rng.choice([("even", "x % 2 == 0"), ("a perfect square", "int(x ** 0.5) ** 2 == x"),
                                  ("divisible by 3", "x % 3 == 0"), ("a palindrome", "str(x) == str(x)[::-1]"),
                                  ("prime", "x > 1 and all(x % d for d in range(2, x))")])
    return _yes_no_variant("Is it?", f"Each query is an integer x: is x {what}?",
                           "Each of the next q lines contains one integer x (1 <= x <= 200).", "int(input())",
                           condition, rng.choice(YES_NO), lambda r: r.randint(1, 200))


@hidden_family("hs_yesno_text", category="string", detail="yes/no words", options=YES_NO, split="test")
def yesno_text(rng: random.Random) -> Variant:
    what, condition = rng.choice([("a palindrome", "x == x[::-1]"), ("of even length", "len(x) % 2 == 0"),
                                  ("starting and ending with the same letter", "x[0] == x[-1]"),
                                  ("containing the letter a", "'a' in x")])
    return _yes_no_variant("Word check", f"Each query is a word w: is w {what}?",
                           "Each of the next q lines contains one word of 1 to 8 lowercase letters.",
                           "input().strip()", condition, rng.choice(YES_NO),
                           lambda r: r.choice(_WORDS + _PALINDROMES))


# ----------------------------------------------------------------------------- test kinds, second set
# The first test families' computations (queries, positions of a condition, ratios of pairs) were
# mostly not what the warm start writes: 6 of its 40 failed first turns there were right up to the
# detail (experiments/feedback_use.md, 2-3b). These three put the same test kinds on computations
# of the train families (the _FILTERS of hs_order_filter, the maps of hs_separator_list, max and min
# of the _SCALARS), over the train families' input, so the open detail is the only new thing.

@hidden_family("hs_yesno_each", category="counting", detail="yes/no words", options=YES_NO, split="test")
def yesno_each(rng: random.Random) -> Variant:
    what, condition = rng.choice(_FILTERS)
    words = rng.choice(YES_NO)
    yes, no = words.split("/")
    check = _compiled("x", condition)

    def make_input(r: random.Random) -> str:
        while True:  # both answers in every test, so one failed test shows both words
            a = _ints(r, r.randint(3, 8), 1, 40)
            if {bool(check(x)) for x in a} == {True, False}:
                return _list_input(a)

    return _variant(
        "One answer per number", f"You are given n integers. For each of them, answer the question: is it {what}?",
        _LIST_SPEC.format(lo=3, hi=8, vlo=1, vhi=40),
        "Print n lines, one per number in the input order: the answer, written with the words for yes and no "
        "that the judge expects.", _READ_LIST + f"for x in a:\n    print({yes!r} if {condition} else {no!r})\n",
        make_input, words)


_POSITIONS = (  # (what is found, its 0-based position in the list a; the inputs make it unique)
    ("the largest number", "a.index(max(a))"), ("the smallest number", "a.index(min(a))"),
    ("the first even number", "[x % 2 for x in a].index(0)"), ("the first odd number", "[x % 2 for x in a].index(1)"),
    ("the first number greater than 50", "[x > 50 for x in a].index(True)"),
)


@hidden_family("hs_index_of", category="sorting", detail="0- or 1-based positions", options=BASES, split="test")
def index_of(rng: random.Random) -> Variant:
    what, expr = rng.choice(_POSITIONS)
    base = rng.choice(BASES)
    position = _compiled("a", expr)

    def make_input(r: random.Random) -> str:
        while True:  # distinct numbers, of both parities, one above 50, and not found at the start
            a = r.sample(range(1, 100), r.randint(4, 9))
            if {x % 2 for x in a} == {0, 1} and max(a) > 50 and position(a) > 0:
                return _list_input(a)

    return _variant(
        "Where is it?", f"You are given n distinct integers. Find the position of {what} in the list.",
        _LIST_SPEC.format(lo=4, hi=9, vlo=1, vhi=99) + " They are distinct, some even, some odd, and one is "
        "greater than 50.", "Print one integer: the position, counted the way the judge expects.",
        _READ_LIST + f"print({expr}{' + 1' if base == '1-based' else ''})\n", make_input, base)


@hidden_family("hs_round_each", category="arithmetic", detail="rounding direction", options=ROUNDINGS, split="test")
def round_each(rng: random.Random) -> Variant:
    k = rng.choice((3, 5, 7, 9))  # odd: no value is half way, so "to nearest" needs no tie rule
    rounding = rng.choice(ROUNDINGS)
    code = {"down": f"x // {k}", "up": f"-(-x // {k})", "to nearest": f"(2 * x + {k}) // {2 * k}"}[rounding]

    def make_input(r: random.Random) -> str:
        while True:  # a remainder below k/2 and one above: down, up and nearest all differ
            a = _ints(r, r.randint(3, 8), 1, 99)
            if any(0 < x % k < k / 2 for x in a) and any(x % k > k / 2 for x in a):
                return _list_input(a)

    return _variant(
        "Share it out", f"You are given n integers. Print every number divided by {k}.",
        _LIST_SPEC.format(lo=3, hi=8, vlo=1, vhi=99),
        f"Print every number divided by {k} as a whole number, rounded the way the judge expects, separated by "
        "spaces.", _READ_LIST + f"print(*[{code} for x in a])\n", make_input, rounding)
