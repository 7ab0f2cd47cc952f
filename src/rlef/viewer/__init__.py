"""The episode viewer: one static HTML page of every turn of a run's episodes.

    python -m rlef.viewer <run dir or .jsonl> [-o out.html]

load.py reads the three kinds of episode files (task=eval's samples.jsonl, task=train's
rollouts/iterNNNNNN_rankR.jsonl, task=probe's second_turns.jsonl with its bank) into
rlef.rollout.episode_record's schema; episodes.py derives what the page shows (diffs, chrF,
rewards, outcome, the facets the filters use); page.py embeds it all, escaped, in page.html
with viewer.js and viewer.css inlined. JSON only: nothing here imports torch or Lightning.
browser.py drives headless Chromium, for the tests and for screenshots.
"""
