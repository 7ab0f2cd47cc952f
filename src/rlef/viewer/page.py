"""Episodes -> one self-contained HTML file: page.html with viewer.css and viewer.js inlined and
the episodes as JSON in a <script type="application/json"> block.

Model output is untrusted text. It reaches the page only as JSON whose <, > and & are written
\\u003c, \\u003e, \\u0026, so no string can close the data block or open a tag; viewer.js puts
it on the page with textContent only. A Content-Security-Policy allows no network and no
script but viewer.js itself (by its hash): were the escaping ever broken, an injected script
would still not run.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from importlib import resources

from rlef.viewer.episodes import FACETS

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def embed_json(payload: dict) -> str:
    """JSON that is inert inside <script>: no '<', '>' or '&' survives (they are JSON escapes,
    which JSON.parse turns back into the same characters)."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def render(payload: dict) -> str:
    """The page. One pass over the template's {{placeholders}}, so nothing substituted (a title
    holding "{{data}}", say) is substituted again."""
    folder = resources.files("rlef.viewer")
    css, js = folder.joinpath("viewer.css").read_text(), folder.joinpath("viewer.js").read_text()
    parts = {"csp": f"default-src 'none'; script-src {_hash(js)}; style-src {_hash(css)}; img-src data:; "
                    "base-uri 'none'; form-action 'none'",
             "title": html.escape(payload["meta"]["title"]), "css": css, "js": js, "data": embed_json(payload)}
    return _PLACEHOLDER.sub(lambda m: parts[m.group(1)], folder.joinpath("page.html").read_text())


def payload(meta: dict, episodes: list[dict], statements: dict[str, str]) -> dict:
    """What viewer.js reads: the run's header, the facets present, the statements, the episodes."""
    present = {k for e in episodes for k, v in e["facets"].items() if v != ""}
    facets = [[key, label] for key, label in FACETS if key in present]
    return {"meta": meta, "facets": facets, "statements": statements, "episodes": episodes}
