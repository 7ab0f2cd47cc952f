"""Copy families: five train kinds of rlef_hidden (decoration, separator, line prefix, unit
suffix, quotation marks) whose option is drawn from dozens of literals, so the expected output
of a failed public test is the only place a model can find it: recall cannot win here, copying can.

The options of rlef_hidden's families are few (4-6 per kind), so a warm start fine-tuned on them
learns to recall them: on new problems of its train kinds it fixes near misses 12 points more
often with the true feedback than with random feedback, on the held-out kinds not at all
(experiments/feedback_use.md, 3c and 3e). These families make the literal new on every problem.
Each pool starts with the plain default (no decoration, spaces, no prefix, no unit, no quotes),
so "the way the judge expects" stops predicting that some format is wanted. No pool holds an
option of rlef_hidden's family of the same kind, nor an option of its test kinds (yes/no words,
0/1-based positions, roundings).

Shipped apart as rlef_copy.jsonl.gz (task=build_mini build_mini.benchmark=rlef_copy), all in the
train split plus train_heldout: they are material for repair dialogues and RL training, not a test.
"""
from __future__ import annotations

from functools import partial

from rlef.data.mini import families_hidden as hidden
from rlef.data.mini.registry import copy_family

# x: the answer. No letter x elsewhere (the builder splits on it), no whitespace inside.
COPY_DECORATIONS = (
    "x", "~x~", "@x@", "%x%", "^x^", "=x=", "+x+", "::x::", "!x!", "$x$", "<<x>>", "[[x]]", "{{x}}",
    "((x))", "|x|", "**x**", "x!", "x?", "x;", "@x", "$x", "=x", "~x", "ans=x", "v:x", "val(x)", "out[x]",
    "<x/>", "_x_", "x%", "'x'", "!!x", ">x<", "]x[", "/x/", ".x.", ":x:", "x:", "ok:x", "res=x", "r(x)",
    "n=x", "+x", "x+", "^x", "&x&",
)
COPY_SEPARATORS = (
    " ", "/", " / ", "~", " ~ ", ":", " : ", "+", " + ", "_", "*", " * ", " and ", " then ", "->", " -> ",
    "=", " = ", "&", " & ", ";;", ",,", "||", "|", "^", " ^ ", "@", " @ ", " > ", "#", " # ", "!", "%",
    " ; ", " , ", "::", "<>", " or ",
)
# {i}: the 1-based query number. No other braces (the program formats the prefix).
COPY_PREFIXES = (
    "", ">> ", "=> ", "-> ", "* ", "+ ", "~ ", ": ", "Answer: ", "Result: ", "ans ", "out: ", "Q{i}: ",
    "Q{i}= ", "[{i}] ", "({i}) ", "{i}. ", "{i}: ", "{i} -> ", "line {i}: ", "query {i}: ", "Test {i}: ",
    "Case {i}: ", "#{i} ", "<{i}> ", "{i}= ", "Query #{i}: ", "@{i} ", "! ", "$ ", "% ", "ok ", "res ", "val= ",
)
COPY_UNITS = (
    "", " inches", " feet", " yards", " miles", " meters", " px", " pt", " dm", " ft", " in", " steps",
    " points", " blocks", " tiles", " laps", " paces", " spans", " hands", " cubits", " leagues", " furlongs",
    " nm", " mi", " yd", " lengths", "m", "cm", "km", " mm", " metres", " ells", " rods", " chains", " links",
    " li", " sq", "ft", "px",
)
COPY_QUOTES = (
    "", "~", "*", "_", "^", "!", "$", "%", "+", "=", "#", "@", ":", ";", ",", ".", "?", "&", "/", "''", '""',
    "**", "~~", "__", "--", "::", "<>", "!!", "==",
)

copy_family("hc_decorate_total", "arithmetic", "decoration", COPY_DECORATIONS,
            partial(hidden.decorate_total, options=COPY_DECORATIONS))
copy_family("hc_separator_list", "sorting", "separator", COPY_SEPARATORS,
            partial(hidden.separator_list, options=COPY_SEPARATORS))
copy_family("hc_prefix_lines", "parsing", "line prefix", COPY_PREFIXES,
            partial(hidden.prefix_lines, options=COPY_PREFIXES))
copy_family("hc_unit_suffix", "arithmetic", "unit suffix", COPY_UNITS, partial(hidden.unit_suffix, options=COPY_UNITS))
copy_family("hc_word_quote", "string", "quotation marks", COPY_QUOTES, partial(hidden.word_quote, options=COPY_QUOTES))
