"""Families: arithmetic, number theory, simulation, grid and greedy.

Classic beginner tasks, kept easy on purpose: a 135M model fine-tuned on similar problems
should solve some of them. Each builder draws which statistic, constant, rule or symbol
to use, so one family yields many distinct problems; every statement pins down ties,
indexing and output format so the reference solution is the only right answer.
"""
from __future__ import annotations

import random

from rlef.data.mini.registry import Variant, family


def _ints(r: random.Random, n: int, lo: int, hi: int) -> str:
    return " ".join(str(r.randint(lo, hi)) for _ in range(n))


def _grid(r: random.Random, full: str, empty: str, densities=(0.0, 0.2, 0.4, 0.6, 0.9)) -> str:
    """`n m` then n rows of m cells; the density varies per input so counts spread out."""
    n, m, p = r.randint(1, 8), r.randint(1, 8), r.choice(densities)
    rows = ("".join(full if r.random() < p else empty for _ in range(m)) for _ in range(n))
    return f"{n} {m}\n" + "\n".join(rows) + "\n"


def _grid_spec(full: str, empty: str, full_name: str) -> str:
    return (f"The first line contains two integers n and m (1 <= n, m <= 8): the number of rows "
            f"and columns. Each of the next n lines contains exactly m characters, each either "
            f"'{full}' ({full_name}) or '{empty}' (empty).")


# ---------------------------------------------------------------- arithmetic


@family("fence_or_floor_cost", category="arithmetic", difficulty=1)
def fence_or_floor_cost(rng: random.Random) -> Variant:
    c = rng.randint(2, 9)
    title, legend, formula = rng.choice([
        ("Tiling a floor", (f"A rectangular room is a meters long and b meters wide. Covering one square "
                           f"meter of floor with tiles costs {c} coins. How many coins does it cost to "
                           f"tile the whole floor?"), f"a * b * {c}"),
        ("Fencing a garden", (f"A rectangular garden is a meters long and b meters wide. One meter of "
                             f"fence costs {c} coins. How many coins does it cost to put a fence along "
                             f"the whole border of the garden?"), f"2 * (a + b) * {c}"),
    ])

    def make_input(r: random.Random) -> str:
        return f"{r.randint(1, r.choice([5, 1000]))} {r.randint(1, 1000)}\n"

    return Variant(
        title=title,
        legend=legend,
        input_spec="The only line contains two integers a and b (1 <= a, b <= 1000).",
        output_spec="Print a single integer: the cost in coins.",
        solution=f"a, b = map(int, input().split())\nprint({formula})\n",
        make_input=make_input,
    )


@family("list_statistic", category="arithmetic", difficulty=1)
def list_statistic(rng: random.Random) -> Variant:
    title, what, expr = rng.choice([
        ("Sum of numbers", "the sum of all the numbers", "sum(a)"),
        ("Range of numbers", "the largest number minus the smallest number", "max(a) - min(a)"),
        ("Sum of squares", "the sum of the squares of the numbers", "sum(x * x for x in a)"),
        ("Sum of absolute values", "the sum of the absolute values of the numbers", "sum(abs(x) for x in a)"),
        ("Odd positions", "the sum of the numbers at odd positions (the 1st, 3rd, 5th, ... number)",
         "sum(a[::2])"),
        ("Negative numbers", "how many of the numbers are negative (less than 0)",
         "sum(1 for x in a if x < 0)"),
        ("Sum of even numbers", "the sum of the even numbers (0 counts as even; print 0 if there are none)",
         "sum(x for x in a if x % 2 == 0)"),
    ])

    def make_input(r: random.Random) -> str:
        n = r.randint(1, 20)
        return f"{n}\n{_ints(r, n, -100, 100)}\n"

    return Variant(
        title=title,
        legend=f"You are given n integers. Find {what}.",
        input_spec="The first line contains n (1 <= n <= 20). The second line contains n integers "
                   "a_1, ..., a_n (-100 <= a_i <= 100), separated by spaces.",
        output_spec="Print a single integer: the answer.",
        solution=f"n = int(input())\na = list(map(int, input().split()))\nprint({expr})\n",
        make_input=make_input,
    )


@family("arithmetic_progression", category="arithmetic", difficulty=1)
def arithmetic_progression(rng: random.Random) -> Variant:
    a, d = rng.randint(1, 9), rng.randint(1, 9)
    terms = ", ".join(str(a + i * d) for i in range(4))
    nth = rng.random() < 0.5
    what = "the n-th term of the sequence" if nth else "the sum of the first n terms of the sequence"
    expr = f"{a} + (n - 1) * {d}" if nth else f"n * {a} + {d} * n * (n - 1) // 2"

    def make_input(r: random.Random) -> str:
        return f"{r.randint(1, r.choice([10, 1000000]))}\n"

    return Variant(
        title="N-th term" if nth else "Sum of the first terms",
        legend=f"A sequence starts with {a}, and every next term is {d} larger than the previous one: "
               f"{terms}, ... Find {what}.",
        input_spec="The only line contains an integer n (1 <= n <= 1000000).",
        output_spec=f"Print a single integer: {what}.",
        solution=f"n = int(input())\nprint({expr})\n",
        make_input=make_input,
    )


@family("share_items", category="arithmetic", difficulty=1)
def share_items(rng: random.Random) -> Variant:
    noun = rng.choice(["candies", "apples", "pencils", "stickers"])
    title, legend, expr = rng.choice([
        ("Fair share", (f"n {noun} are shared among k children so that every child gets the same number "
                       f"of {noun}, as large as possible. How many {noun} does each child get?"), "n // k"),
        ("Left over", (f"n {noun} are shared among k children so that every child gets the same number "
                      f"of {noun}, as large as possible. How many {noun} are left over?"), "n % k"),
        ("Boxes", (f"n {noun} must be packed into boxes; one box holds at most k {noun}. What is the "
                  f"minimum number of boxes needed?"), "(n + k - 1) // k"),
        ("Buy a few more", (f"n {noun} should be shared among k children so that every child gets the same "
                           f"number of {noun} and nothing is left over. What is the minimum number of "
                           f"{noun} that must be added to the n {noun} to make this possible?"),
         "(k - n % k) % k"),
    ])

    def make_input(r: random.Random) -> str:
        return f"{r.randint(0, 1000)} {r.randint(1, r.choice([10, 100]))}\n"

    return Variant(
        title=title,
        legend=legend,
        input_spec="The only line contains two integers n and k (0 <= n <= 1000, 1 <= k <= 100).",
        output_spec="Print a single integer: the answer.",
        solution=f"n, k = map(int, input().split())\nprint({expr})\n",
        make_input=make_input,
    )


@family("clock_shift", category="arithmetic", difficulty=2)
def clock_shift(rng: random.Random) -> Variant:
    later = rng.random() < 0.5
    unit, factor, bound = rng.choice([("minutes", 1, 10000), ("hours", 60, 1000)])
    sign = "+" if later else "-"
    when = f"m {unit} {'later' if later else 'earlier'}"

    def make_input(r: random.Random) -> str:
        return f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}\n{r.randint(0, r.choice([59, bound]))}\n"

    return Variant(
        title=f"What time is it {when}",
        legend=f"A 24-hour clock shows the time HH:MM. What time "
               f"{'will it show' if later else 'did it show'} {when}? "
               f"After 23:59 comes 00:00.",
        input_spec="The first line contains the current time in the format HH:MM (00 <= HH <= 23, "
                   f"00 <= MM <= 59, always two digits each). The second line contains an integer m "
                   f"(0 <= m <= {bound}).",
        output_spec=f"Print the time {when} in the same format HH:MM, with leading zeros.",
        solution="h, mm = map(int, input().split(':'))\nm = int(input())\n"
                 f"t = (h * 60 + mm {sign} m * {factor}) % 1440\n"
                 "print(f'{t // 60:02d}:{t % 60:02d}')\n",
        make_input=make_input,
    )


# ---------------------------------------------------------------- number theory


@family("gcd_lcm", category="number_theory", difficulty=2)
def gcd_lcm(rng: random.Random) -> Variant:
    title, legend, output, expr = rng.choice([
        ("Greatest common divisor", "Find the greatest common divisor of a and b.",
         "Print a single integer: gcd(a, b).", "g"),
        ("Least common multiple", ("Find the least common multiple of a and b: the smallest positive integer "
                                  "divisible by both a and b."), "Print a single integer: lcm(a, b).",
         "a * b // g"),
        ("Lowest terms", ("Write the fraction a/b in lowest terms: find positive integers p and q with "
                         "p/q = a/b such that p and q have no common divisor greater than 1."),
         "Print two integers p and q separated by a space.", "a // g, b // g"),
        ("Square tiles", ("A rectangle of size a x b must be covered, without gaps or overlaps, by equal "
                         "square tiles whose side is a positive integer, placed parallel to the sides. "
                         "Using the largest possible tiles, how many tiles are needed?"),
         "Print a single integer: the number of tiles.", "(a // g) * (b // g)"),
    ])

    def make_input(r: random.Random) -> str:
        g = r.choice([1, r.randint(1, 12), r.randint(1, 100)])
        return f"{g * r.randint(1, 100)} {g * r.randint(1, 100)}\n"

    return Variant(
        title=title,
        legend=f"You are given two positive integers a and b. {legend}",
        input_spec="The only line contains two integers a and b (1 <= a, b <= 10000).",
        output_spec=output,
        solution=f"import math\na, b = map(int, input().split())\ng = math.gcd(a, b)\nprint({expr})\n",
        make_input=make_input,
    )


@family("digit_statistic", category="number_theory", difficulty=1)
def digit_statistic(rng: random.Random) -> Variant:
    d = rng.randint(0, 9)
    title, what, expr = rng.choice([
        ("Sum of digits", "the sum of the digits of n", "sum(int(c) for c in s)"),
        (f"Count the digit {d}", f"how many times the digit {d} occurs in n", f"s.count('{d}')"),
        ("Largest digit", "the largest digit of n", "max(s)"),
        ("Even digits", "how many digits of n are even (0, 2, 4, 6 or 8)",
         "sum(1 for c in s if int(c) % 2 == 0)"),
        ("Smallest digit", "the smallest digit of n", "min(s)"),
    ])

    def make_input(r: random.Random) -> str:
        return f"{r.randint(1, 10 ** r.randint(1, 18))}\n"

    return Variant(
        title=title,
        legend=f"You are given a positive integer n. Find {what}.",
        input_spec="The only line contains an integer n (1 <= n <= 10^18), written without leading zeros.",
        output_spec="Print a single integer: the answer.",
        solution=f"s = input().strip()\nprint({expr})\n",
        make_input=make_input,
    )


@family("divisors_of_n", category="number_theory", difficulty=2)
def divisors_of_n(rng: random.Random) -> Variant:
    title, what, output, last = rng.choice([
        ("Number of divisors", "how many positive divisors n has", "Print a single integer: the answer.",
         "print(len(d))"),
        ("Sum of divisors", "the sum of all positive divisors of n (including 1 and n)",
         "Print a single integer: the answer.", "print(sum(d))"),
        ("Proper divisors", "the sum of the positive divisors of n that are smaller than n (0 for n = 1)",
         "Print a single integer: the answer.", "print(sum(d) - n)"),
        ("List the divisors", "all positive divisors of n",
         "Print the divisors in increasing order, separated by spaces.", "print(*d)"),
        ("Odd divisors", "how many positive divisors of n are odd", "Print a single integer: the answer.",
         "print(sum(1 for x in d if x % 2 == 1))"),
    ])

    def make_input(r: random.Random) -> str:
        return f"{r.choice([r.randint(1, 100), r.randint(1, 100000), r.choice([1, 720, 5040, 65536])])}\n"

    return Variant(
        title=title,
        legend=f"You are given a positive integer n. Find {what}.",
        input_spec="The only line contains an integer n (1 <= n <= 100000).",
        output_spec=output,
        solution=f"n = int(input())\nd = [x for x in range(1, n + 1) if n % x == 0]\n{last}\n",
        make_input=make_input,
    )


_IS_PRIME = "def is_prime(x):\n    if x < 2:\n        return False\n" \
            "    for i in range(2, int(x ** 0.5) + 1):\n        if x % i == 0:\n            return False\n" \
            "    return True\n\n\n"


@family("prime_check", category="number_theory", difficulty=2)
def prime_check(rng: random.Random) -> Variant:
    one = "The only line contains an integer n"
    many = ("The first line contains n (1 <= n <= 10). The second line contains n integers a_1, ..., a_n "
            "(1 <= a_i <= 1000), separated by spaces.")
    read_many = "n = int(input())\na = list(map(int, input().split()))\n"
    title, legend, input_spec, output_spec, body, lo = rng.choice([
        ("Prime or not", "You are given n integers. For each of them, tell whether it is prime.", many,
         "Print n lines: the i-th line is YES if a_i is prime and NO otherwise.",
         read_many + "for x in a:\n    print('YES' if is_prime(x) else 'NO')\n", 0),
        ("Count the primes", "You are given n integers. How many of them are prime?", many,
         "Print a single integer: the number of primes among a_1, ..., a_n.",
         read_many + "print(sum(1 for x in a if is_prime(x)))\n", 0),
        ("Next prime", ("You are given an integer n. Find the smallest prime number that is greater than or "
                       "equal to n."), one + " (1 <= n <= 10000).", "Print a single integer: that prime.",
         "n = int(input())\nwhile not is_prime(n):\n    n += 1\nprint(n)\n", 1),
        ("Previous prime", ("You are given an integer n. Find the largest prime number that is less than or "
                           "equal to n."), one + " (2 <= n <= 10000).", "Print a single integer: that prime.",
         "n = int(input())\nwhile not is_prime(n):\n    n -= 1\nprint(n)\n", 2),
        ("Smallest prime factor", ("You are given an integer n. Find the smallest prime number that divides "
                                  "n."), one + " (2 <= n <= 10000).", "Print a single integer: that prime.",
         "n = int(input())\np = 2\nwhile n % p != 0:\n    p += 1\nprint(p)\n", 2),
    ])

    def make_input(r: random.Random) -> str:
        if lo == 0:
            n = r.randint(1, 10)
            return f"{n}\n" + " ".join(str(r.randint(1, r.choice([30, 1000]))) for _ in range(n)) + "\n"
        return f"{r.choice([r.randint(lo, 30), r.randint(lo, 10000)])}\n"

    return Variant(
        title=title,
        legend=legend + " A prime number is an integer greater than 1 whose only positive divisors are 1 "
                        "and itself.",
        input_spec=input_spec,
        output_spec=output_spec,
        solution=(_IS_PRIME if "is_prime" in body else "") + body,
        make_input=make_input,
    )


_SIEVE = ("p = [False, False] + [True] * (n - 1)\nfor i in range(2, n + 1):\n    if p[i]:\n"
          "        for j in range(i * i, n + 1, i):\n            p[j] = False\n")


@family("primes_up_to_n", category="number_theory", difficulty=3)
def primes_up_to_n(rng: random.Random) -> Variant:
    title, what, output, last, lo, hi = rng.choice([
        ("Counting primes", "How many prime numbers are there among 1, 2, ..., n?",
         "Print a single integer: the number of primes not exceeding n.", "print(sum(p))", 1, 20000),
        ("Sum of primes", "Find the sum of all prime numbers that do not exceed n.",
         "Print a single integer: the sum (0 if there are no such primes).",
         "print(sum(i for i in range(n + 1) if p[i]))", 1, 20000),
        ("Twin primes", ("Twin primes are two primes that differ by exactly 2, like 11 and 13. How many "
                        "pairs (q, q + 2) are there such that q and q + 2 are both prime and q + 2 <= n?"),
         "Print a single integer: the number of such pairs.",
         "print(sum(1 for q in range(2, n - 1) if p[q] and p[q + 2]))", 1, 20000),
        ("List the primes", "Print all prime numbers that do not exceed n.",
         "Print the primes in increasing order, separated by spaces.",
         "print(*[i for i in range(n + 1) if p[i]])", 2, 400),
    ])

    def make_input(r: random.Random) -> str:
        return f"{r.choice([r.randint(lo, 20), r.randint(lo, 100), r.randint(lo, hi)])}\n"

    return Variant(
        title=title,
        legend=f"You are given an integer n. {what} A prime number is an integer greater than 1 whose "
               f"only positive divisors are 1 and itself.",
        input_spec=f"The only line contains an integer n ({lo} <= n <= {hi}).",
        output_spec=output,
        solution="n = int(input())\n" + _SIEVE + last + "\n",
        make_input=make_input,
    )


# ---------------------------------------------------------------- simulation


@family("robot_walk", category="simulation", difficulty=2)
def robot_walk(rng: random.Random) -> Variant:
    letters, names = rng.choice([("LRUD", ("left", "right", "up", "down")),
                                 ("WENS", ("west", "east", "north", "south"))])
    title, what, output, last = rng.choice([
        ("Final position", "Where does the robot end up?",
         "Print two integers x and y separated by a space: the final position.", "print(x, y)"),
        ("Distance from home", ("The robot ends at some point (x, y). What is the Manhattan distance "
                               "|x| + |y| from the start to that point?"),
         "Print a single integer: the distance.", "print(abs(x) + abs(y))"),
        ("Farthest point", ("What is the largest Manhattan distance |x| + |y| from the start over all "
                           "positions the robot occupies, the start included?"),
         "Print a single integer: the largest distance.", "print(best)"),
        ("Back home", "How many times does the robot arrive back at the starting cell (0, 0) after a move?",
         "Print a single integer: the number of moves after which the robot stands at (0, 0).",
         "print(home)"),
    ])
    rules = ", ".join(f"'{c}' moves it one step {w}" for c, w in zip(letters, names))
    l_, r_, u_ = letters[:3]

    def make_input(r: random.Random) -> str:
        return "".join(r.choice(letters) for _ in range(r.randint(1, r.choice([6, 50])))) + "\n"

    return Variant(
        title=title,
        legend=f"A robot starts at point (0, 0) and executes a string of commands: {rules}. Moving "
               f"{names[0]} decreases x by 1, {names[1]} increases x by 1, {names[2]} increases y by 1 and "
               f"{names[3]} decreases y by 1. {what}",
        input_spec=f"The only line contains the command string s (1 <= |s| <= 50), consisting only of the "
                   f"letters {', '.join(letters)}.",
        output_spec=output,
        solution="x = y = best = home = 0\nfor c in input().strip():\n"
                 f"    if c == '{l_}':\n        x -= 1\n    elif c == '{r_}':\n        x += 1\n"
                 f"    elif c == '{u_}':\n        y += 1\n    else:\n        y -= 1\n"
                 "    best = max(best, abs(x) + abs(y))\n    if x == 0 and y == 0:\n        home += 1\n"
                 + last + "\n",
        make_input=make_input,
    )


@family("stack_or_queue", category="simulation", difficulty=3)
def stack_or_queue(rng: random.Random) -> Variant:
    stack = rng.random() < 0.5
    name, which = ("stack", "the most recently added") if stack else ("queue", "the earliest added")
    take = "s.pop()" if stack else "s.pop(0)"
    printing = rng.random() < 0.5
    if printing:
        rule = f"If the {name} is empty, a pop removes nothing and you print EMPTY instead."
        output = ("For each pop operation, in order, print on its own line the removed element, or EMPTY "
                  "if nothing was removed.")
        on_pop = f"    elif s:\n        print({take})\n    else:\n        print('EMPTY')\n"
        last = ""
    else:
        rule = f"If the {name} is empty, a pop does nothing."
        output = "Print a single integer: the sum of the elements left after all operations (0 if none)."
        on_pop = f"    elif s:\n        {take}\n"
        last = "print(sum(s))\n"

    def make_input(r: random.Random) -> str:
        n, push = r.randint(1, 20), r.choice([0.3, 0.5, 0.7])
        ops = [f"push {r.randint(1, 100)}" if r.random() < push else "pop" for _ in range(n - 1)] + ["pop"]
        return f"{n}\n" + "\n".join(r.sample(ops, n)) + "\n"

    return Variant(
        title=f"Simulate a {name}" + (" (print pops)" if printing else " (sum of the rest)"),
        legend=f"A {name} of integers is initially empty. Process n operations: \"push x\" adds x to the "
               f"{name}; \"pop\" removes {which} element still in the {name}. {rule}",
        input_spec="The first line contains n (1 <= n <= 20). Each of the next n lines is either "
                   "\"push x\" (1 <= x <= 100) or \"pop\". There is at least one pop operation.",
        output_spec=output,
        solution="n = int(input())\ns = []\nfor _ in range(n):\n    op = input().split()\n"
                 "    if op[0] == 'push':\n        s.append(int(op[1]))\n" + on_pop + last,
        make_input=make_input,
    )


@family("plus_plus_minus_minus", category="simulation", difficulty=1)
def plus_plus_minus_minus(rng: random.Random) -> Variant:
    start = rng.randint(0, 9)
    title, what, last = rng.choice([
        ("Final value", "the value of x after all statements", "print(x)"),
        ("Highest value", f"the largest value x ever has, the initial value {start} included", "print(hi)"),
        ("Lowest value", f"the smallest value x ever has, the initial value {start} included", "print(lo)"),
    ])

    def make_input(r: random.Random) -> str:
        n = r.randint(1, 30)
        return f"{n}\n" + "\n".join(r.choice(["X++", "++X", "X--", "--X"]) for _ in range(n)) + "\n"

    return Variant(
        title=title,
        legend=f"A program has one variable x, initially {start}, and n statements. Each statement is one "
               f"of X++, ++X (both increase x by 1), X-- or --X (both decrease x by 1). Find {what}.",
        input_spec="The first line contains n (1 <= n <= 30). Each of the next n lines contains one "
                   "statement: X++, ++X, X-- or --X.",
        output_spec="Print a single integer: the answer.",
        solution=f"n = int(input())\nx = hi = lo = {start}\nfor _ in range(n):\n"
                 "    x += 1 if '+' in input() else -1\n    hi = max(hi, x)\n    lo = min(lo, x)\n"
                 + last + "\n",
        make_input=make_input,
    )


@family("overtaking_years", category="simulation", difficulty=2)
def overtaking_years(rng: random.Random) -> Variant:
    p, q = rng.choice([(3, 2), (2, 1), (4, 3), (5, 2), (3, 1), (5, 4)])
    strict = rng.random() < 0.5
    goal = "strictly more than" if strict else "at least as much as"
    b_rule = f"is multiplied by {q}" if q > 1 else "stays the same"

    def make_input(r: random.Random) -> str:
        a = r.randint(1, r.choice([10, 1000]))
        return f"{a} {r.choice([a, r.randint(a, 1000)])}\n"

    return Variant(
        title=f"Overtaking ({p} vs {q}, {'strict' if strict else 'non-strict'})",
        legend=f"Anna has a coins and Boris has b coins, a <= b. At the end of every year Anna's amount is "
               f"multiplied by {p} and Boris's amount {b_rule}. After how many full years will Anna "
               f"have {goal} Boris? If this already holds now, the answer is 0.",
        input_spec="The only line contains two integers a and b (1 <= a <= b <= 1000).",
        output_spec="Print a single integer: the number of years.",
        solution="a, b = map(int, input().split())\nyears = 0\n"
                 f"while a {'<=' if strict else '<'} b:\n    a *= {p}\n    b *= {q}\n    years += 1\n"
                 "print(years)\n",
        make_input=make_input,
    )


# ---------------------------------------------------------------- grid


@family("count_grid_cells", category="grid", difficulty=1)
def count_grid_cells(rng: random.Random) -> Variant:
    full, empty, full_name = rng.choice([("#", ".", "a wall"), ("*", ".", "a star"), ("X", "O", "a tree")])
    title, what, expr = rng.choice([
        (f"Count the '{full}' cells", f"How many cells contain '{full}'?",
         f"sum(row.count('{full}') for row in g)"),
        ("Rows in use", f"How many rows contain at least one '{full}'?",
         f"sum(1 for row in g if '{full}' in row)"),
        ("Columns in use", f"How many columns contain at least one '{full}'?",
         f"sum(1 for j in range(m) if any(row[j] == '{full}' for row in g))"),
        ("Empty rows", f"How many rows contain no '{full}' at all?",
         f"sum(1 for row in g if '{full}' not in row)"),
    ])

    return Variant(
        title=title,
        legend=f"You are given a grid of n rows and m columns. {what}",
        input_spec=_grid_spec(full, empty, full_name),
        output_spec="Print a single integer: the answer.",
        solution=f"n, m = map(int, input().split())\ng = [input() for _ in range(n)]\nprint({expr})\n",
        make_input=lambda r: _grid(r, full, empty),
    )


@family("busiest_line", category="grid", difficulty=2)
def busiest_line(rng: random.Random) -> Variant:
    rows = rng.random() < 0.5
    most = rng.random() < 0.5
    line = "row" if rows else "column"
    pick = "max" if most else "min"
    counts = ("c = [row.count('#') for row in g]" if rows
              else "c = [sum(1 for row in g if row[j] == '#') for j in range(m)]")

    def make_input(r: random.Random) -> str:
        # Each row and column gets its own weight: fewer ties, so the answer is not always 1.
        n, m = r.randint(r.choice([1, 4, 4]), 8), r.randint(r.choice([1, 4, 4]), 8)
        wr, wc = [r.random() for _ in range(n)], [r.random() for _ in range(m)]
        cells = [["#" if r.random() < (wr[i] + wc[j]) / 2 else "." for j in range(m)] for i in range(n)]
        return f"{n} {m}\n" + "\n".join("".join(row) for row in cells) + "\n"

    return Variant(
        title=f"The {line} with the {'most' if most else 'fewest'} walls",
        legend=f"You are given a grid of n rows and m columns. Find the {line} that contains the "
               f"{'largest' if most else 'smallest'} number of '#' cells. If several {line}s are tied, "
               f"choose the one with the smallest index. {line.capitalize()}s are numbered starting from 1 "
               f"({'top to bottom' if rows else 'left to right'}).",
        input_spec=_grid_spec("#", ".", "a wall"),
        output_spec=f"Print a single integer: the index of that {line}.",
        solution=f"n, m = map(int, input().split())\ng = [input() for _ in range(n)]\n{counts}\n"
                 f"print(c.index({pick}(c)) + 1)\n",
        make_input=make_input,
    )


@family("count_islands", category="grid", difficulty=3)
def count_islands(rng: random.Random) -> Variant:
    diagonal = rng.random() < 0.5
    title, what, on_new, last = rng.choice([
        ("Count the islands", "How many islands are there?", "cnt += 1", "print(cnt)"),
        ("Largest island", "How many cells does the largest island have? Print 0 if there is no land.",
         "size = 0", "print(best)"),
        ("Single-cell islands", "How many islands consist of exactly one cell?", "size = 0", "print(ones)"),
    ])
    touch = "share a side or a corner" if diagonal else "share a side"
    dirs = ("[(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]" if diagonal
            else "[(-1, 0), (1, 0), (0, -1), (0, 1)]")
    count_size = "size" in on_new
    after = ("            best = max(best, size)\n            if size == 1:\n                ones += 1\n"
             if count_size else "")

    return Variant(
        title=title + (" (diagonals connect)" if diagonal else ""),
        legend=f"A map of n rows and m columns shows land '#' and water '.'. Two land cells are "
               f"neighbours if they {touch}. An island is a maximal group of land cells in which every "
               f"two cells are connected through a chain of neighbouring land cells. {what}",
        input_spec=_grid_spec("#", ".", "land").replace("(empty)", "(water)"),
        output_spec="Print a single integer: the answer.",
        solution=f"n, m = map(int, input().split())\ng = [list(input()) for _ in range(n)]\nD = {dirs}\n"
                 "cnt = best = ones = 0\nfor i in range(n):\n    for j in range(m):\n"
                 f"        if g[i][j] == '#':\n            {on_new}\n            g[i][j] = '.'\n"
                 "            st = [(i, j)]\n            while st:\n                x, y = st.pop()\n"
                 + ("                size += 1\n" if count_size else "")
                 + "                for dx, dy in D:\n                    a, b = x + dx, y + dy\n"
                 "                    if 0 <= a < n and 0 <= b < m and g[a][b] == '#':\n"
                 "                        g[a][b] = '.'\n                        st.append((a, b))\n"
                 + after + last + "\n",
        make_input=lambda r: _grid(r, "#", "."),
    )


@family("minesweeper_numbers", category="grid", difficulty=3)
def minesweeper_numbers(rng: random.Random) -> Variant:
    mine = rng.choice(["*", "X", "@"])
    diagonal = rng.random() < 0.5
    zero_dot = rng.random() < 0.5
    near = ("share a side or a corner with it (up to 8 cells)" if diagonal
            else "share a side with it (up to 4 cells)")
    dirs = ("[(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]" if diagonal
            else "[(-1, 0), (1, 0), (0, -1), (0, 1)]")
    zero = "keep '.' when that number is 0" if zero_dot else "write 0 when there are none"
    show = "str(k) if k else '.'" if zero_dot else "str(k)"

    return Variant(
        title="Minesweeper" + (" (8 neighbours)" if diagonal else " (4 neighbours)"),
        legend=f"A minefield of n rows and m columns has mines '{mine}' and empty cells '.'. The neighbours "
               f"of a cell are the cells that {near}. Replace every empty cell by the number of mines among "
               f"its neighbours (a single digit; {zero}). Mines stay as they are.",
        input_spec=_grid_spec(mine, ".", "a mine"),
        output_spec="Print n lines with m characters each: the resulting field.",
        solution=f"n, m = map(int, input().split())\ng = [input() for _ in range(n)]\nD = {dirs}\n"
                 "for i in range(n):\n    line = ''\n    for j in range(m):\n"
                 f"        if g[i][j] == '{mine}':\n            line += '{mine}'\n            continue\n"
                 f"        k = sum(1 for dx, dy in D if 0 <= i + dx < n and 0 <= j + dy < m and "
                 f"g[i + dx][j + dy] == '{mine}')\n        line += {show}\n    print(line)\n",
        make_input=lambda r: _grid(r, mine, "."),
    )


# ---------------------------------------------------------------- greedy


@family("fewest_coins", category="greedy", difficulty=2)
def fewest_coins(rng: random.Random) -> Variant:
    # Every system here is canonical: taking the largest coin that fits is optimal.
    coins = rng.choice([[1, 2, 5], [1, 5, 10, 25], [1, 2, 5, 10, 20, 50, 100], [1, 3, 9, 27, 81],
                        [1, 2, 4, 8, 16, 32, 64], [1, 5, 10, 50, 100]])
    change = rng.random() < 0.5
    values = ", ".join(map(str, coins))
    if change:
        task = ("A customer buys an item that costs p and pays with a banknote worth q. The cashier must "
                "give back exactly q - p using as few coins as possible.")
        spec = "The only line contains two integers p and q (0 <= p <= q <= 1000)."
        read = "p, q = map(int, input().split())\nn = q - p\n"
    else:
        task = "You must pay exactly n using as few coins as possible."
        spec = "The only line contains an integer n (0 <= n <= 1000)."
        read = "n = int(input())\n"

    def make_input(r: random.Random) -> str:
        n = r.choice([r.randint(0, 20), r.randint(0, 1000)])
        if not change:
            return f"{n}\n"
        p = r.randint(0, 1000 - n)
        return f"{p} {p + n}\n"

    return Variant(
        title="Fewest coins" + (" for change" if change else ""),
        legend=f"Coins have values {values}, and there are as many coins of each value as needed. {task}",
        input_spec=spec,
        output_spec="Print a single integer: the minimum number of coins.",
        solution=read + f"cnt = 0\nfor c in {coins[::-1]}:\n    cnt += n // c\n    n %= c\nprint(cnt)\n",
        make_input=make_input,
    )


@family("shopping_on_budget", category="greedy", difficulty=2)
def shopping_on_budget(rng: random.Random) -> Variant:
    noun = rng.choice(["toys", "books", "snacks"])
    title, legend, output, body = rng.choice([
        ("Most items", (f"A shop sells n {noun}, the i-th costs a_i coins. You have b coins and may buy each "
                       f"item at most once. What is the maximum number of {noun} you can buy?"),
         f"Print a single integer: the maximum number of {noun}.",
         "cnt = 0\nfor x in a:\n    if x <= b:\n        b -= x\n        cnt += 1\nprint(cnt)\n"),
        ("Change left", (f"A shop sells n {noun}, the i-th costs a_i coins. You have b coins. You buy {noun} "
                        f"one at a time, always the cheapest one not yet bought, and stop when you cannot "
                        f"afford it or nothing is left. How many coins do you have at the end?"),
         "Print a single integer: the number of coins left.",
         "for x in a:\n    if x > b:\n        break\n    b -= x\nprint(b)\n"),
        ("Reach the target", (f"A shop sells n {noun}, the i-th costs a_i coins. You must spend at least b "
                             f"coins in total, buying each item at most once. What is the minimum number of "
                             f"{noun} to buy? If even buying everything is not enough, print -1."),
         "Print a single integer: the minimum number of items, or -1.",
         ("a.reverse()\nspent = cnt = 0\nfor x in a:\n    if spent >= b:\n        break\n"
         "    spent += x\n    cnt += 1\nprint(cnt if spent >= b else -1)\n")),
    ])

    def make_input(r: random.Random) -> str:
        n = r.randint(1, 15)
        return f"{n} {r.randint(0, r.choice([50, 500]))}\n{_ints(r, n, 1, 60)}\n"

    return Variant(
        title=title,
        legend=legend,
        input_spec="The first line contains two integers n and b (1 <= n <= 15, 0 <= b <= 500). The second "
                   "line contains n integers a_1, ..., a_n (1 <= a_i <= 60).",
        output_spec=output,
        solution="n, b = map(int, input().split())\na = sorted(map(int, input().split()))\n" + body,
        make_input=make_input,
    )


@family("interval_scheduling", category="greedy", difficulty=3)
def interval_scheduling(rng: random.Random) -> Variant:
    noun = rng.choice(["meetings", "films", "lectures"])
    touching_ok = rng.random() < 0.5
    keep = rng.random() < 0.5
    rule = (f"Two {noun} conflict if they overlap for a positive amount of time; one may start exactly when "
            f"another ends." if touching_ok else
            f"Two {noun} conflict if they share at least one moment, even a single end point: one cannot "
            f"start at the very moment another ends.")
    what = (f"What is the maximum number of pairwise non-conflicting {noun}?" if keep else
            f"What is the minimum number of {noun} to cancel so that the remaining ones pairwise do not "
            f"conflict?")

    def make_input(r: random.Random) -> str:
        n = r.randint(1, 15)
        spans = []
        for _ in range(n):
            s = r.randint(0, 20)
            spans.append(f"{s} {s + r.randint(1, 6)}")
        return f"{n}\n" + "\n".join(spans) + "\n"

    return Variant(
        title=f"{'Keep' if keep else 'Cancel'} {noun}" + (" (touching allowed)" if touching_ok else ""),
        legend=f"There are n {noun}; the i-th lasts from time l_i to time r_i. {rule} {what}",
        input_spec="The first line contains n (1 <= n <= 15). Each of the next n lines contains two "
                   "integers l_i and r_i (0 <= l_i < r_i <= 30).",
        output_spec="Print a single integer: the answer.",
        solution="n = int(input())\nv = [tuple(map(int, input().split())) for _ in range(n)]\n"
                 "v.sort(key=lambda p: p[1])\nend = -1\ncnt = 0\nfor start, finish in v:\n"
                 f"    if start {'>=' if touching_ok else '>'} end:\n        cnt += 1\n        end = finish\n"
                 + ("print(cnt)\n" if keep else "print(n - cnt)\n"),
        make_input=make_input,
    )


@family("choose_k_numbers", category="greedy", difficulty=1)
def choose_k_numbers(rng: random.Random) -> Variant:
    noun = rng.choice(["cards", "tokens", "tiles"])
    title, what, body = rng.choice([
        ("Largest sum of k", (f"choose exactly k {noun} so that the sum of their numbers is as large as "
                             f"possible. Print that sum."), "a.sort(reverse=True)\nprint(sum(a[:k]))\n"),
        ("Smallest sum of k", (f"choose exactly k {noun} so that the sum of their numbers is as small as "
                              f"possible. Print that sum."), "a.sort()\nprint(sum(a[:k]))\n"),
        ("At most k", (f"choose at most k {noun} (possibly none) so that the sum of their numbers is as "
                      f"large as possible. Print that sum (0 if you choose none)."),
         "a.sort(reverse=True)\nprint(sum(x for x in a[:k] if x > 0))\n"),
    ])

    def make_input(r: random.Random) -> str:
        n = r.randint(1, 15)
        return f"{n} {r.randint(1, n)}\n{_ints(r, n, -50, 50)}\n"

    return Variant(
        title=title,
        legend=f"There are n {noun} with an integer written on each. You must {what}",
        input_spec="The first line contains two integers n and k (1 <= k <= n <= 15). The second line "
                   "contains n integers a_1, ..., a_n (-50 <= a_i <= 50): the numbers on the "
                   f"{noun}.",
        output_spec="Print a single integer: the answer.",
        solution=f"n, k = map(int, input().split())\na = list(map(int, input().split()))\n{body}",
        make_input=make_input,
    )
