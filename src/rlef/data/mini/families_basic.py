"""Reference families: the pattern every families_*.py follows.

Each builder draws the problem's parameters from `rng` (so one family yields many distinct
problems), writes the statement, a reference solution, and an input generator. Inputs stay
small: the point is whether the model writes a correct stdin/stdout program, not speed.
"""
from __future__ import annotations

import random

from rlef.data.mini.registry import Variant, family


@family("linear_combination", category="arithmetic", difficulty=1)
def linear_combination(rng: random.Random) -> Variant:
    p, q = rng.randint(2, 9), rng.randint(2, 9)
    sign = rng.choice(["+", "-"])

    def make_input(r: random.Random) -> str:
        return f"{r.randint(-1000, 1000)} {r.randint(-1000, 1000)}\n"

    return Variant(
        title=f"{p}a {sign} {q}b",
        legend=f"You are given two integers a and b. Compute {p}*a {sign} {q}*b.",
        input_spec="The only line contains two integers a and b (-1000 <= a, b <= 1000).",
        output_spec=f"Print a single integer: the value of {p}*a {sign} {q}*b.",
        solution=f"a, b = map(int, input().split())\nprint({p} * a {sign} {q} * b)\n",
        make_input=make_input,
    )


@family("count_char", category="counting", difficulty=1)
def count_char(rng: random.Random) -> Variant:
    alphabet = "abcde"
    target = rng.choice(alphabet)

    def make_input(r: random.Random) -> str:
        return "".join(r.choice(alphabet) for _ in range(r.randint(1, 30))) + "\n"

    return Variant(
        title=f"How many {target}'s",
        legend=f"You are given a string s of lowercase letters. Count how many times the letter "
               f"'{target}' occurs in s.",
        input_spec="The only line contains the string s (1 <= |s| <= 30), consisting of the letters a-e.",
        output_spec=f"Print one integer: the number of letters '{target}' in s.",
        solution=f"s = input().strip()\nprint(s.count('{target}'))\n",
        make_input=make_input,
    )


@family("sort_numbers", category="sorting", difficulty=2)
def sort_numbers(rng: random.Random) -> Variant:
    descending = rng.random() < 0.5
    order = "non-increasing" if descending else "non-decreasing"
    key_text, key_code = rng.choice([
        ("their value", "x"),
        ("the pair (|x|, x), comparing |x| first and x second", "(abs(x), x)"),
        ("the pair (|x| mod 10, x), comparing |x| mod 10 first and x second", "(abs(x) % 10, x)"),
    ])

    def make_input(r: random.Random) -> str:
        n = r.randint(1, 10)
        return f"{n}\n" + " ".join(str(r.randint(-50, 50)) for _ in range(n)) + "\n"

    return Variant(
        title=f"Sort by {key_text.split(',')[0]} ({order})",
        legend=f"You are given n integers. Print them sorted by {key_text}, in {order} order.",
        input_spec="The first line contains n (1 <= n <= 10). The second line contains n integers "
                   "a_1, ..., a_n (-50 <= a_i <= 50).",
        output_spec="Print the n integers in the required order, separated by spaces.",
        solution="n = int(input())\na = list(map(int, input().split()))\n"
                 f"print(*sorted(a, key=lambda x: {key_code}, reverse={descending}))\n",
        make_input=make_input,
    )
