"""Text families: string manipulation, parsing, counting and sorting.

Classic beginner tasks (reverse a string, parse "HH:MM", word frequencies, sort records) with
the operation, separators, tie-breaks and output format drawn per problem, so one family
yields several distinct statements and solutions. Same pattern as families_basic.py.
"""
from __future__ import annotations

import datetime
import random

from rlef.data.mini.registry import Variant, family

_WORDS = ("cat", "dog", "sun", "moon", "tree", "apple", "river", "stone", "bird", "fish",
          "house", "light", "red", "blue", "green", "a", "an", "go", "sky", "code")
_NAMES = ("ann", "bob", "carl", "dina", "eva", "fred", "gus", "hana", "ivan", "jon", "kim",
          "lea", "max", "nina", "olga", "pete")
_VOWELS = "aeiou"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_SENTENCE_SPEC = ("The only line contains between 1 and {n} words separated by single spaces, "
                  "with no leading or trailing spaces. Each word consists of 1 to 8 lowercase "
                  "English letters.")


def _letters(r: random.Random, alphabet: str, lo: int, hi: int) -> str:
    return "".join(r.choice(alphabet) for _ in range(r.randint(lo, hi)))


def _sentence(r: random.Random, max_words: int) -> str:
    """Words from a small pool (repeats and equal lengths on purpose: ties matter)."""
    return " ".join(r.choice(_WORDS) for _ in range(r.randint(1, max_words)))


# ----------------------------------------------------------------------------- string


@family("string_transform", category="string", difficulty=1)
def string_transform(rng: random.Random) -> Variant:
    k = rng.randint(2, 3)
    title, task, code = rng.choice([
        ("Reverse it", "Print the string s reversed.", "print(s[::-1])"),
        ("Shout", "Print s with every lowercase letter converted to uppercase.", "print(s.upper())"),
        ("Whisper", "Print s with every uppercase letter converted to lowercase.", "print(s.lower())"),
        ("Swap case", ("Print s with every lowercase letter converted to uppercase and every "
                       "uppercase letter converted to lowercase."), "print(s.swapcase())"),
        ("Backwards and loud", "Print s reversed, with every letter converted to uppercase.",
         "print(s[::-1].upper())"),
        (f"Stutter x{k}", (f"Print the string obtained by writing every character of s {k} times "
                           "in a row (for example, with 2 times, \"aB\" becomes \"aaBB\")."),
         f"print(''.join(c * {k} for c in s))"),
    ])

    def make_input(r: random.Random) -> str:
        return _letters(r, "abcxyzABCXYZ", 1, 40) + "\n"

    return Variant(
        title=title,
        legend=f"You are given a string s of English letters. {task}",
        input_spec="The only line contains the string s (1 <= |s| <= 40), consisting of uppercase "
                   "and lowercase English letters.",
        output_spec="Print the resulting string on a single line.",
        solution=f"s = input()\n{code}\n",
        make_input=make_input,
    )


@family("palindrome_check", category="string", difficulty=1)
def palindrome_check(rng: random.Random) -> Variant:
    yes, no = rng.choice([("YES", "NO"), ("Yes", "No"), ("PALINDROME", "NOT PALINDROME")])
    ignore_case = rng.random() < 0.5
    rule = ("Uppercase and lowercase versions of a letter are considered equal (\"Aba\" is a "
            "palindrome)." if ignore_case else
            "Letters are case-sensitive: 'A' and 'a' are different characters (\"Aba\" is not a "
            "palindrome).")

    def make_input(r: random.Random) -> str:
        lines = []
        for _ in range(r.randint(1, 5)):
            half = _letters(r, "ab", 0, 4)
            s = half + r.choice(["", r.choice("ab")]) + half[::-1] or "a"
            if r.random() < 0.3:
                s = _letters(r, "ab", 1, 8)
            lines.append("".join(c.upper() if r.random() < 0.2 else c for c in s))
        return f"{len(lines)}\n" + "\n".join(lines) + "\n"

    return Variant(
        title="Palindromes" + (" (ignore case)" if ignore_case else ""),
        legend="A string is a palindrome if it reads the same from left to right and from right "
               f"to left. For each given string, decide whether it is a palindrome. {rule}",
        input_spec="The first line contains t (1 <= t <= 5). Each of the next t lines contains "
                   "one string of 1 to 9 English letters (uppercase or lowercase).",
        output_spec=f"For each string, in the input order, print {yes} on its own line if it is a "
                    f"palindrome and {no} otherwise.",
        solution="for _ in range(int(input())):\n"
                 f"    s = input(){'.lower()' if ignore_case else ''}\n"
                 f"    print('{yes}' if s == s[::-1] else '{no}')\n",
        make_input=make_input,
    )


@family("caesar_shift", category="string", difficulty=2)
def caesar_shift(rng: random.Random) -> Variant:
    k = rng.randint(1, 25)
    forward = rng.random() < 0.5
    where = "later" if forward else "earlier"
    wrap = "from z back to a" if forward else "from a back to z"

    def make_input(r: random.Random) -> str:
        return " ".join(_letters(r, "abcdefghijklmnopqrstuvwxyz", 1, 6)
                        for _ in range(r.randint(1, 6))) + "\n"

    return Variant(
        title=f"Caesar {'encryption' if forward else 'decryption'} with key {k}",
        legend=f"Replace every letter of the given text by the letter that is {k} positions {where} "
               f"in the English alphabet, wrapping around {wrap}. Spaces stay unchanged.",
        input_spec="The only line contains the text: between 1 and 6 words separated by single "
                   "spaces, with no leading or trailing spaces. Each word consists of 1 to 6 "
                   "lowercase English letters.",
        output_spec="Print the transformed text on a single line (lowercase letters and spaces).",
        solution="s = input()\n"
                 f"print(''.join(c if c == ' ' else chr((ord(c) - 97 {'+' if forward else '-'} {k}) "
                 "% 26 + 97) for c in s))\n",
        make_input=make_input,
    )


@family("word_ops", category="string", difficulty=1)
def word_ops(rng: random.Random) -> Variant:
    sep = rng.choice(["-", "_", ",", "+"])
    title, task, code = rng.choice([
        ("Reverse the words", "Print the words in reverse order, separated by single spaces.",
         "print(' '.join(input().split()[::-1]))"),
        ("Mirror every word", ("Reverse every word but keep the words in their original order; "
                               "separate them by single spaces."),
         "print(' '.join(w[::-1] for w in input().split()))"),
        ("Capitalize", ("Make the first letter of every word uppercase (the other letters stay "
                        "lowercase); separate the words by single spaces."),
         "print(' '.join(w.capitalize() for w in input().split()))"),
        (f"Join with '{sep}'", (f"Print the words in their original order, separated by the "
                                f"character '{sep}' instead of spaces."),
         f"print('{sep}'.join(input().split()))"),
        ("Acronym", ("Print the acronym of the sentence: the first letters of all words, in "
                     "order, converted to uppercase, with no separators."),
         "print(''.join(w[0] for w in input().split()).upper())"),
    ])

    def make_input(r: random.Random) -> str:
        return _sentence(r, 10) + "\n"

    return Variant(
        title=title,
        legend=f"You are given a sentence of words. {task}",
        input_spec=_SENTENCE_SPEC.format(n=10),
        output_spec="Print the result on a single line, with no leading or trailing spaces.",
        solution=code + "\n",
        make_input=make_input,
    )


@family("longest_word", category="string", difficulty=2)
def longest_word(rng: random.Random) -> Variant:
    longest = rng.random() < 0.5
    first = rng.random() < 0.5
    with_length = rng.random() < 0.5
    what = "longest" if longest else "shortest"
    cmp = (">" if longest else "<") + ("" if first else "=")

    def make_input(r: random.Random) -> str:
        return _sentence(r, 12) + "\n"

    return Variant(
        title=f"The {what} word",
        legend=f"You are given a sentence. Find its {what} word. If several words have that "
               f"length, choose the one that appears {'first' if first else 'last'} in the "
               "sentence.",
        input_spec=_SENTENCE_SPEC.format(n=12),
        output_spec="Print the chosen word" + (", then a single space, then its length." if
                                               with_length else "."),
        solution="words = input().split()\nbest = words[0]\nfor w in words[1:]:\n"
                 f"    if len(w) {cmp} len(best):\n        best = w\n"
                 + ("print(best, len(best))\n" if with_length else "print(best)\n"),
        make_input=make_input,
    )


@family("letter_mask", category="string", difficulty=1)
def letter_mask(rng: random.Random) -> Variant:
    vowels = rng.random() < 0.5
    cls = "vowel" if vowels else "consonant"
    test = "c in 'aeiou'" if vowels else "c not in 'aeiou'"
    symbol = rng.choice(["*", "#", "_", ".", None])
    if symbol is None:
        task, repl = f"Convert every {cls} to uppercase", "c.upper()"
    else:
        task, repl = f"Replace every {cls} by the character '{symbol}'", f"'{symbol}'"

    def make_input(r: random.Random) -> str:
        return _letters(r, "abcdeiostuvz", 1, 40) + "\n"

    return Variant(
        title=f"Mask the {cls}s",
        legend=f"You are given a string of lowercase English letters. {task}; all other letters "
               "stay unchanged. The vowels are a, e, i, o and u; every other letter is a "
               "consonant.",
        input_spec="The only line contains the string s (1 <= |s| <= 40) of lowercase English "
                   "letters.",
        output_spec="Print the resulting string on a single line.",
        solution=f"s = input()\nprint(''.join({repl} if {test} else c for c in s))\n",
        make_input=make_input,
    )


@family("run_length_encoding", category="string", difficulty=3)
def run_length_encoding(rng: random.Random) -> Variant:
    count_first = rng.random() < 0.5
    omit_one = rng.random() < 0.5
    spaced = rng.random() < 0.5
    piece = "str(j - i) + s[i]" if count_first else "s[i] + str(j - i)"
    if omit_one:
        piece = f"({piece} if j - i > 1 else s[i])"
    shape = "the count followed by the letter" if count_first else "the letter followed by the count"
    example = [("" if omit_one and n == 1 else str(n)).join(["", c] if count_first else [c, ""])
               for c, n in (("a", 3), ("b", 1), ("c", 2))]
    example = (" " if spaced else "").join(example)

    def make_input(r: random.Random) -> str:
        return "".join(r.choice("abc") * r.choice([1, 1, 2, 3, 5, 12])
                       for _ in range(r.randint(1, 8))) + "\n"

    return Variant(
        title="Run-length encoding",
        legend="Compress a string with run-length encoding: split it into maximal blocks of equal "
               f"consecutive letters and write every block as {shape} (the block length, in "
               "decimal)" + (", except that a block of length 1 is written as the letter alone"
                             if omit_one else "") + ". The encoded blocks are written in order, "
               + ("separated by single spaces" if spaced else "with no separators")
               + f". For example, \"aaabcc\" is encoded as \"{example}\".",
        input_spec="The only line contains the string s (1 <= |s| <= 100) of letters a, b and c.",
        output_spec="Print the encoded string on a single line.",
        solution="s = input()\nparts = []\ni = 0\nwhile i < len(s):\n    j = i\n"
                 "    while j < len(s) and s[j] == s[i]:\n        j += 1\n"
                 f"    parts.append({piece})\n    i = j\n"
                 f"print('{' ' if spaced else ''}'.join(parts))\n",
        make_input=make_input,
    )


# ----------------------------------------------------------------------------- parsing


@family("key_value_pairs", category="parsing", difficulty=2)
def key_value_pairs(rng: random.Random) -> Variant:
    sep = rng.choice(["=", ":", "->", " = "])
    shown = "key = value (the key, a space, '=', a space, the value)" if sep == " = " else \
        f"key{sep}value (no spaces)"
    what, code = rng.choice([
        ("the sum of the values of all lines with key q", "sum(vals)"),
        ("the value from the last line with key q", "vals[-1]"),
        ("the value from the first line with key q", "vals[0]"),
        ("the largest value among the lines with key q", "max(vals)"),
        ("the number of lines with key q", "len(vals)"),
    ])

    def make_input(r: random.Random) -> str:
        pairs = [(r.choice("xyzw") * r.randint(1, 2), r.randint(-50, 50))
                 for _ in range(r.randint(1, 10))]
        return (f"{len(pairs)}\n" + "".join(f"{k}{sep}{v}\n" for k, v in pairs)
                + r.choice(pairs)[0] + "\n")

    return Variant(
        title="Configuration lookup",
        legend="A configuration file consists of lines of the form " + shown + ". The same key may "
               f"appear on several lines. For the query key q, print {what}.",
        input_spec="The first line contains n (1 <= n <= 10). Each of the next n lines has the form "
                   f"{shown}, where the key consists of 1 to 2 lowercase English letters and the "
                   "value is an integer between -50 and 50. The last line contains the query key "
                   "q; it is guaranteed to appear on at least one of the n lines.",
        output_spec="Print a single integer.",
        solution="n = int(input())\n"
                 f"pairs = [input().split('{sep}') for _ in range(n)]\n"
                 "q = input()\nvals = [int(v) for k, v in pairs if k == q]\n"
                 f"print({code})\n",
        make_input=make_input,
    )


@family("clock_minutes", category="parsing", difficulty=2)
def clock_minutes(rng: random.Random) -> Variant:
    sep = rng.choice([":", "."])
    mode = rng.choice(["add", "sub", "diff"])
    clock = f"HH{sep}MM (two digits for the hours 00-23, '{sep}', two digits for the minutes 00-59)"
    parse = f"h, m = map(int, input().split('{sep}'))\nk = int(input())\n"
    show = f"print(f'{{t // 60:02d}}{sep}{{t % 60:02d}}')\n"

    def make_input(r: random.Random) -> str:
        def t() -> str:
            return f"{r.randint(0, 23):02d}{sep}{r.choice([0, 5, 30, 59, r.randint(0, 59)]):02d}"
        if mode == "diff":
            return f"{t()} {t()}\n"
        return f"{t()}\n{r.choice([0, 1, 60, 1440, r.randint(0, 3000)])}\n"

    if mode == "diff":
        return Variant(
            title="Minutes until",
            legend="A 24-hour clock shows time a. How many minutes must pass (at least 0 and "
                   "less than 24 hours) until it shows time b?",
            input_spec=f"The only line contains two times a and b separated by a space, each in the "
                       f"format {clock}.",
            output_spec="Print a single integer between 0 and 1439.",
            solution=f"a, b = input().split()\nh1, m1 = map(int, a.split('{sep}'))\n"
                     f"h2, m2 = map(int, b.split('{sep}'))\n"
                     "print((h2 * 60 + m2 - h1 * 60 - m1) % 1440)\n",
            make_input=make_input,
        )
    word, op = ("after", "+") if mode == "add" else ("before", "-")
    return Variant(
        title=f"Clock {'forward' if mode == 'add' else 'backward'}",
        legend=f"A 24-hour clock shows a time. What time does it show k minutes {word} that moment?",
        input_spec=f"The first line contains the time in the format {clock}. The second line "
                   "contains an integer k (0 <= k <= 3000).",
        output_spec=f"Print the resulting time in the same format HH{sep}MM, with leading zeros.",
        solution=parse + f"t = (h * 60 + m {op} k) % 1440\n" + show,
        make_input=make_input,
    )


@family("date_format", category="parsing", difficulty=2)
def date_format(rng: random.Random) -> Variant:
    formats = {  # format -> (code reading d, m, y as strings, code printing them back)
        "DD.MM.YYYY": ("d, m, y = input().split('.')", "print(f'{d}.{m}.{y}')"),
        "YYYY-MM-DD": ("y, m, d = input().split('-')", "print(f'{y}-{m}-{d}')"),
        "MM/DD/YYYY": ("m, d, y = input().split('/')", "print(f'{m}/{d}/{y}')"),
    }
    src = rng.choice(sorted(formats))
    dst = rng.choice([f for f in sorted(formats) if f != src] + ["D Month YYYY"])
    if dst == "D Month YYYY":
        out = ("the form D Month YYYY: the day without leading zeros, a space, the English month "
               "name with a capital first letter (January, ..., December), a space and the "
               "four-digit year, for example \"5 March 2021\"")
        show = f"months = {list(_MONTHS)!r}\nprint(int(d), months[int(m) - 1], y)"
    else:
        out = f"the format {dst}, with leading zeros (DD and MM have two digits, YYYY four digits)"
        show = formats[dst][1]

    def make_input(r: random.Random) -> str:
        day = datetime.date(1900, 1, 1) + datetime.timedelta(days=r.randint(0, 73000))
        d, m, y = f"{day.day:02d}", f"{day.month:02d}", f"{day.year:04d}"
        return src.replace("DD", d).replace("MM", m).replace("YYYY", y) + "\n"

    return Variant(
        title=f"{src} to {dst}",
        legend=f"You are given a valid date written in the format {src} (DD is the day, MM the month "
               f"and YYYY the year, with leading zeros). Rewrite it in {out}.",
        input_spec=f"The only line contains the date in the format {src}, with a year between 1900 "
                   "and 2100.",
        output_spec="Print the date in the required format on a single line.",
        solution=formats[src][0] + "\n" + show + "\n",
        make_input=make_input,
    )


@family("csv_column", category="parsing", difficulty=2)
def csv_column(rng: random.Random) -> Variant:
    cols = rng.randint(3, 5)
    k = rng.randint(1, cols)
    sep = rng.choice([",", ";", "|"])
    what, code = rng.choice([("sum", "sum"), ("maximum", "max"), ("minimum", "min")])

    def make_input(r: random.Random) -> str:
        rows = [sep.join(str(r.randint(-20, 99)) for _ in range(cols)) for _ in range(r.randint(1, 8))]
        return f"{len(rows)}\n" + "\n".join(rows) + "\n"

    return Variant(
        title=f"Column {k} {what}",
        legend=f"A table is given in a CSV-like format: each row holds {cols} integers separated by "
               f"the character '{sep}'. Print the {what} of the numbers in column {k} (columns are "
               "numbered from 1, left to right).",
        input_spec="The first line contains n (1 <= n <= 8), the number of rows. Each of the next n "
                   f"lines contains {cols} integers between -20 and 99 separated by '{sep}', with no "
                   "spaces.",
        output_spec=f"Print a single integer: the {what} of column {k}.",
        solution=f"n = int(input())\ncol = [int(input().split('{sep}')[{k - 1}]) for _ in range(n)]\n"
                 f"print({code}(col))\n",
        make_input=make_input,
    )


@family("balanced_brackets", category="parsing", difficulty=3)
def balanced_brackets(rng: random.Random) -> Variant:
    kinds = rng.choice(["()", "()[]", "()[]{}"])
    yes, no = rng.choice([("YES", "NO"), ("Yes", "No"), ("BALANCED", "UNBALANCED")])
    opens, closes = kinds[0::2], kinds[1::2]
    listed = ", ".join(f"'{c}'" for c in kinds)
    good, bad = ('"(())()"', '"())(" and ")("') if kinds == "()" else ('"([])"', '"([)]" and ")("')

    def make_input(r: random.Random) -> str:
        lines = []
        for _ in range(r.randint(1, 5)):
            s, stack = "", []
            while len(s) < 12 and (not s or r.random() < 0.85):
                if stack and r.random() < 0.5:
                    s += closes[opens.index(stack.pop())]
                else:
                    stack.append(r.choice(opens))
                    s += stack[-1]
            s += "".join(closes[opens.index(o)] for o in reversed(stack))
            if r.random() < 0.4:
                i = r.randrange(len(s))
                s = s[:i] + r.choice(kinds) + s[i + 1:]
            lines.append(s)
        return f"{len(lines)}\n" + "\n".join(lines) + "\n"

    return Variant(
        title="Balanced brackets",
        legend="A bracket sequence is balanced if every opening bracket has a matching closing "
               f"bracket of the same type after it and the pairs are properly nested ({good} is "
               f"balanced, {bad} are not). For each given sequence, decide whether it is balanced.",
        input_spec="The first line contains t (1 <= t <= 5). Each of the next t lines contains a "
                   f"non-empty sequence of at most 30 characters, each one of {listed}.",
        output_spec=f"For each sequence, in the input order, print {yes} on its own line if it is "
                    f"balanced and {no} otherwise.",
        solution=f"match = {dict(zip(closes, opens))!r}\n"
                 "for _ in range(int(input())):\n    stack = []\n    ok = True\n"
                 "    for c in input():\n        if c not in match:\n            stack.append(c)\n"
                 "        elif not stack or stack.pop() != match[c]:\n            ok = False\n"
                 f"    print('{yes}' if ok and not stack else '{no}')\n",
        make_input=make_input,
    )


# ----------------------------------------------------------------------------- counting


@family("count_letter_class", category="counting", difficulty=1)
def count_letter_class(rng: random.Random) -> Variant:
    what, test = rng.choice([
        ("vowels (a, e, i, o, u, in either case)", "c.lower() in 'aeiou'"),
        ("consonants (letters other than a, e, i, o, u, in either case)",
         "c.isalpha() and c.lower() not in 'aeiou'"),
        ("uppercase letters", "c.isupper()"),
        ("lowercase letters", "c.islower()"),
        ("digits", "c.isdigit()"),
    ])

    def make_input(r: random.Random) -> str:
        return _letters(r, "aeiobcstAEBCT0123", 1, 40) + "\n"

    return Variant(
        title=f"Count the {what.split(' (')[0]}",
        legend=f"You are given a string of English letters and digits. Count the {what} in it.",
        input_spec="The only line contains the string s (1 <= |s| <= 40) of uppercase and lowercase "
                   "English letters and digits.",
        output_spec="Print a single integer.",
        solution=f"s = input()\nprint(sum(1 for c in s if {test}))\n",
        make_input=make_input,
    )


@family("count_distinct", category="counting", difficulty=1)
def count_distinct(rng: random.Random) -> Variant:
    kind = rng.choice(["ints", "abs", "chars", "chars_nocase", "words"])
    if kind in ("ints", "abs"):
        absolute = kind == "abs"
        legend = ("You are given n integers. How many different " +
                  ("absolute values |a_i| are among them (for example, 3 and -3 have the same "
                   "absolute value)?" if absolute else "values are among them?"))
        spec = ("The first line contains n (1 <= n <= 15). The second line contains n integers "
                "a_1, ..., a_n (-9 <= a_i <= 9).")
        solution = ("input()\nprint(len(set(abs(int(x)) for x in input().split())))\n" if absolute
                    else "input()\nprint(len(set(input().split())))\n")

        def make_input(r: random.Random) -> str:
            n = r.randint(1, 15)
            return f"{n}\n" + " ".join(str(r.randint(-9, 9)) for _ in range(n)) + "\n"
    elif kind == "words":
        legend = "You are given a sentence. How many different words does it contain?"
        spec = _SENTENCE_SPEC.format(n=15)
        solution = "print(len(set(input().split())))\n"

        def make_input(r: random.Random) -> str:
            return _sentence(r, 15) + "\n"
    else:
        nocase = kind == "chars_nocase"
        legend = ("You are given a string of English letters. How many different letters does it "
                  "contain? " + ("Uppercase and lowercase versions of a letter count as the same "
                                 "letter." if nocase else "Uppercase and lowercase versions of a "
                                 "letter count as different characters."))
        spec = ("The only line contains the string s (1 <= |s| <= 30) of uppercase and lowercase "
                "English letters.")
        solution = f"print(len(set(input(){'.lower()' if nocase else ''})))\n"

        def make_input(r: random.Random) -> str:
            return _letters(r, "abcdefABCDEF", 1, 30) + "\n"

    return Variant(
        title="How many different",
        legend=legend,
        input_spec=spec,
        output_spec="Print a single integer.",
        solution=solution,
        make_input=make_input,
    )


@family("most_frequent", category="counting", difficulty=2)
def most_frequent(rng: random.Random) -> Variant:
    tie, key = rng.choice([
        ("print the smallest of them", "min(cnt, key=lambda x: (-cnt[x], x))"),
        ("print the largest of them", "min(cnt, key=lambda x: (-cnt[x], -x))"),
        ("print the one whose first occurrence in the list comes earliest",
         "max(cnt, key=cnt.get)"),
    ])
    with_count = rng.random() < 0.5

    def make_input(r: random.Random) -> str:
        n = r.randint(1, 15)
        hi = r.choice([3, 6, 20])
        return f"{n}\n" + " ".join(str(r.randint(-hi, hi)) for _ in range(n)) + "\n"

    return Variant(
        title="The most frequent value",
        legend="You are given a list of n integers. Find the value that occurs in the list the most "
               f"times. If several values occur the maximal number of times, {tie}.",
        input_spec="The first line contains n (1 <= n <= 15). The second line contains n integers "
                   "a_1, ..., a_n (-20 <= a_i <= 20).",
        output_spec="Print the value" + (", then a single space, then how many times it occurs."
                                         if with_count else "."),
        solution="input()\na = list(map(int, input().split()))\ncnt = {}\nfor x in a:\n"
                 f"    cnt[x] = cnt.get(x, 0) + 1\nbest = {key}\n"
                 + ("print(best, cnt[best])\n" if with_count else "print(best)\n"),
        make_input=make_input,
    )


@family("word_frequency", category="counting", difficulty=3)
def word_frequency(rng: random.Random) -> Variant:
    order, key = rng.choice([
        (("by the number of occurrences, from most to least frequent; words with the same "
          "number of occurrences in alphabetical order"), "sorted(cnt, key=lambda w: (-cnt[w], w))"),
        (("by the number of occurrences, from least to most frequent; words with the same "
          "number of occurrences in alphabetical order"), "sorted(cnt, key=lambda w: (cnt[w], w))"),
        ("in alphabetical order", "sorted(cnt)"),
    ])
    sep = rng.choice([" ", ": ", "="])

    def make_input(r: random.Random) -> str:
        pool = r.sample(_WORDS, r.randint(1, 6))
        return " ".join(r.choice(pool) for _ in range(r.randint(1, 20))) + "\n"

    return Variant(
        title="Word frequencies",
        legend="Count how many times every distinct word occurs in the given text. Print the "
               f"distinct words {order}.",
        input_spec=_SENTENCE_SPEC.format(n=20),
        output_spec="For every distinct word print one line: the word, then "
                    + ("a single space" if sep == " " else f"\"{sep}\"")
                    + f", then its number of occurrences (for example \"cat{sep}3\").",
        solution="cnt = {}\nfor w in input().split():\n    cnt[w] = cnt.get(w, 0) + 1\n"
                 f"for w in {key}:\n    print(w + '{sep}' + str(cnt[w]))\n",
        make_input=make_input,
    )


# ----------------------------------------------------------------------------- sorting


@family("sort_chars", category="sorting", difficulty=1)
def sort_chars(rng: random.Random) -> Variant:
    descending = rng.random() < 0.5
    distinct = rng.random() < 0.5
    spaced = rng.random() < 0.5
    order = "reverse alphabetical (z to a)" if descending else "alphabetical (a to z)"
    body = "set(input())" if distinct else "input()"
    joined = "print(*letters)" if spaced else "print(''.join(letters))"

    def make_input(r: random.Random) -> str:
        return _letters(r, "abcdemxyz", 1, 30) + "\n"

    return Variant(
        title="Sorted letters" + (" (each once)" if distinct else ""),
        legend="You are given a string of lowercase letters. Print "
               + ("its distinct letters, each exactly once," if distinct else
                  "all its letters (with repetitions)") + f" in {order} order.",
        input_spec="The only line contains the string s (1 <= |s| <= 30) of lowercase English "
                   "letters.",
        output_spec="Print the letters on a single line, "
                    + ("separated by single spaces." if spaced else "with no separators."),
        solution=f"letters = sorted({body}{', reverse=True' if descending else ''})\n{joined}\n",
        make_input=make_input,
    )


@family("kth_element", category="sorting", difficulty=1)
def kth_element(rng: random.Random) -> Variant:
    which = rng.choice(["smallest", "largest", "median"])
    k = rng.choice([None, 1, 2, 3])  # None: k is read from the input
    odd = which == "median"
    sorted_by = "non-increasing" if which == "largest" else "non-decreasing"
    if odd:
        task, pick, k_line = (("the median: the number in the middle position when the numbers "
                               "are sorted in non-decreasing order"), "a[n // 2]", "")
    elif k is None:
        task, k_line = f"the k-th {which} number", " The third line contains k (1 <= k <= n)."
        pick = "a[int(input()) - 1]"
    else:
        nth = {1: "", 2: "second ", 3: "third "}[k]
        task, pick = f"the {nth}{which} number", f"a[{k - 1}]"
        k_line = f" It is guaranteed that n >= {k}." if k > 1 else ""
    if not odd:
        task += (f" (the number at position {'k' if k is None else k} when the numbers are sorted "
                 f"in {sorted_by} order; equal numbers are counted separately)")

    def make_input(r: random.Random) -> str:
        n = r.randint(k or 1, 12)
        if odd and n % 2 == 0:
            n += 1
        text = f"{n}\n" + " ".join(str(r.randint(-30, 30)) for _ in range(n)) + "\n"
        return text + (f"{r.randint(1, n)}\n" if k is None and not odd else "")

    return Variant(
        title=task.split(" (")[0].split(":")[0].replace("the", "The", 1),
        legend=f"You are given n integers. Print {task}.",
        input_spec=f"The first line contains n (1 <= n <= 13{', n is odd' if odd else ''}). The "
                   f"second line contains n integers between -30 and 30.{k_line}",
        output_spec="Print a single integer.",
        solution="n = int(input())\n"
                 f"a = sorted(map(int, input().split()){', reverse=True' if which == 'largest' else ''})\n"
                 f"print({pick})\n",
        make_input=make_input,
    )


@family("sort_words_by_length", category="sorting", difficulty=2)
def sort_words_by_length(rng: random.Random) -> Variant:
    longest_first = rng.random() < 0.5
    alphabetical = rng.random() < 0.5
    per_line = rng.random() < 0.5
    order = "from longest to shortest" if longest_first else "from shortest to longest"
    tie = "go in alphabetical order" if alphabetical else "keep their relative order from the input"
    length = "-len(w)" if longest_first else "len(w)"
    key = f"({length}, w)" if alphabetical else length

    def make_input(r: random.Random) -> str:
        return _sentence(r, 12) + "\n"

    return Variant(
        title="Sort words by length",
        legend=f"You are given a sentence. Sort its words by length, {order}. Words of the same "
               f"length (including repeated words) {tie}.",
        input_spec=_SENTENCE_SPEC.format(n=12),
        output_spec="Print all the words in the sorted order, "
                    + ("one per line." if per_line else "on a single line separated by single spaces."),
        solution=f"words = sorted(input().split(), key=lambda w: {key})\n"
                 + ("print(*words, sep='\\n')\n" if per_line else "print(' '.join(words))\n"),
        make_input=make_input,
    )


@family("sort_records", category="sorting", difficulty=3)
def sort_records(rng: random.Random) -> Variant:
    high_first = rng.random() < 0.5
    names_desc = rng.random() < 0.5
    with_score = rng.random() < 0.5
    order = "from the highest score to the lowest" if high_first else "from the lowest score to the highest"
    tie = "reverse alphabetical order of names" if names_desc else "alphabetical order of names"
    key = f"({'-' if high_first else ''}int(p[1]), p[0])"

    def make_input(r: random.Random) -> str:
        names = r.sample(_NAMES, r.randint(1, 10))
        return f"{len(names)}\n" + "".join(f"{m} {r.choice([50, 70, r.randint(0, 100)])}\n" for m in names)

    if names_desc:  # sort by name first (descending), then stably by score: ties keep that order
        sort_code = (f"rows.sort(key=lambda p: p[0], reverse=True)\n"
                     f"rows.sort(key=lambda p: {'-' if high_first else ''}int(p[1]))\n")
    else:
        sort_code = f"rows.sort(key=lambda p: {key})\n"
    return Variant(
        title="Leaderboard",
        legend=f"You are given the results of n students: a name and a score. Print the students "
               f"{order}; students with equal scores go in {tie}.",
        input_spec="The first line contains n (1 <= n <= 10). Each of the next n lines contains a "
                   "name (1 to 5 lowercase English letters) and a score (an integer from 0 to 100), "
                   "separated by a space. All names are different.",
        output_spec="Print n lines, one per student in the required order, containing "
                    + ("the name and the score separated by a space." if with_score else
                       "only the name."),
        solution="n = int(input())\nrows = [input().split() for _ in range(n)]\n" + sort_code
                 + ("for name, score in rows:\n    print(name, score)\n" if with_score else
                    "for name, score in rows:\n    print(name)\n"),
        make_input=make_input,
    )
