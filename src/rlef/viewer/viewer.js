"use strict";
// The episode viewer's page (rlef/viewer/page.py inlines this file). Model output is untrusted:
// every string from the data reaches the page through el() below, which appends text nodes
// only (never innerHTML). Filtering runs over all episodes; only one page of them is drawn.
(() => {
  const DATA = JSON.parse(document.getElementById("data").textContent);
  const META = DATA.meta, EPISODES = DATA.episodes, STATEMENTS = new Map(Object.entries(DATA.statements));
  const PAGE_SIZE = 20, MAX_CHIPS = 12, CONTEXT = 3;
  const OUTCOMES = ["solved at turn 1", "recovered", "public only", "never solved", "infra error"];
  const VERDICT = {PASSED: "pass", WRONG_OUTPUT: "wrong", EXCEPTION: "exception", TIMEOUT: "timeout",
                   OUT_OF_MEMORY: "memory", OUTPUT_LIMIT: "output limit", INFRA_ERROR: "infra"};
  const CATEGORY_LABEL = {"not run": "public tests not run", context_overflow: "context overflow: no reply"};
  const FEEDBACK = ["true", "random", "none"];  // the probe's conditions; rollout.feedback's, renamed
  const COLORS = ["#1f77b4", "#d62728", "#7f7f7f", "#2ca02c", "#9467bd", "#ff7f0e"];
  const SVG = "http://www.w3.org/2000/svg";
  const state = {filters: {}, q: "", page: 0, ep: null, familiesOpen: false};
  const MAX_TURNS = EPISODES.reduce((m, e) => Math.max(m, e.turns.length), 1);

  // A facet with two or more values is a filter; one with a single value describes the run.
  const VALUES = {};
  for (const [key] of DATA.facets) VALUES[key] = new Map();
  for (const e of EPISODES) {
    for (const [key] of DATA.facets) VALUES[key].set(facet(e, key), (VALUES[key].get(facet(e, key)) || 0) + 1);
  }
  const FILTERS = DATA.facets.filter(([key]) => VALUES[key].size > 1);
  const CONSTANT = DATA.facets.filter(([key]) => VALUES[key].size === 1);

  function facet(e, key) { return Object.hasOwn(e.facets, key) ? String(e.facets[key]) : ""; }

  function el(tag, cls, ...children) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    for (const child of children) {
      if (child !== null && child !== undefined && child !== false) node.append(child);  // strings: text nodes
    }
    return node;
  }

  function button(label, cls, onClick, title) {
    const b = el("button", cls, label);
    b.type = "button";
    if (title) b.title = title;
    b.addEventListener("click", onClick);
    return b;
  }

  function details(summary, body, open) {
    const d = el("details", null, el("summary", null, summary), body);
    d.open = Boolean(open);
    return d;
  }

  function slug(text) { return String(text).replace(/[^A-Za-z0-9_-]/g, "-"); }
  function pct(n, d) { return d ? `${Math.round(100 * n / d)}%` : "-"; }
  function fmt(x) { return x === null || x === undefined ? "-" : (x > 0 ? "+" : "") + x.toFixed(1); }

  // ---- filtering and the URL fragment (#outcome=recovered&family=...&q=...&page=2, or #ep=17)

  function matches(e, skip) {
    if (state.ep !== null) return e.i === state.ep;
    for (const key of Object.keys(state.filters)) {
      if (key !== skip && facet(e, key) !== state.filters[key]) return false;
    }
    if (!state.q) return true;
    return e.problem.includes(state.q) || e.family.includes(state.q)
      || e.turns.some(t => t.code !== null && t.code.includes(state.q));
  }

  function readHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    state.filters = {};
    for (const [key] of FILTERS) if (params.has(key)) state.filters[key] = params.get(key);
    state.q = params.get("q") || "";
    state.page = Math.max(0, (parseInt(params.get("page") || "1", 10) || 1) - 1);
    const ep = parseInt(params.get("ep") ?? "", 10);
    state.ep = Number.isInteger(ep) ? ep : null;
  }

  function writeHash() {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(state.filters)) params.set(key, value);
    if (state.q) params.set("q", state.q);
    if (state.page) params.set("page", String(state.page + 1));
    if (state.ep !== null) params.set("ep", String(state.ep));
    const hash = params.toString();
    if (hash === location.hash.slice(1)) return;
    try {
      history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
    } catch (err) { /* some browsers refuse history on file:// pages: the page works without it */ }
  }

  function update(change) {
    change();
    state.page = 0;
    render();
  }

  function setFilter(key, value) {
    update(() => {
      state.ep = null;
      if (value === null || state.filters[key] === value) delete state.filters[key];
      else state.filters[key] = value;
    });
  }

  // ---- the header, the filter bar, the summary

  function renderHeader() {
    const header = document.getElementById("header");
    const list = el("dl", "meta");
    const pair = (key, value) => list.append(el("div", "pair", el("dt", null, key), el("dd", null, value)));
    for (const [key, value] of Object.entries(META.run)) if (value) pair(key, value);
    for (const [key, label] of CONSTANT) pair(label, VALUES[key].keys().next().value || "(none)");
    header.append(el("h1", null, META.title), list, el("p", "help",
      "Keys: \u2190 \u2192 (or p, n) turn pages. Click a problem to see all its episodes, a family or an " +
      "outcome to filter on it, #N for a link to one episode. The filters are kept in the address."));
  }

  let searchBox;
  function renderControls() {
    const bar = document.getElementById("filters");
    searchBox = el("input", "search");
    searchBox.type = "search";
    searchBox.placeholder = "problem, family or code contains...";
    let timer = null;
    searchBox.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => update(() => { state.q = searchBox.value; state.ep = null; }), 200);
    });
    const reset = button("reset", "reset", () => update(() => {
      state.filters = {}; state.q = ""; state.ep = null; searchBox.value = "";
    }), "show every episode");
    bar.append(el("div", "facets"), el("div", "static", searchBox, reset));
  }

  function orderedValues(key) {
    const values = [...VALUES[key].keys()];
    if (key === "outcome") return OUTCOMES.filter(o => VALUES[key].has(o));
    if (key === "feedback") return [...FEEDBACK, ...values.filter(v => !FEEDBACK.includes(v))].filter(v => VALUES[key].has(v));
    if (values.every(v => v !== "" && !Number.isNaN(Number(v)))) return values.sort((a, b) => Number(a) - Number(b));
    return values.sort((a, b) => VALUES[key].get(b) - VALUES[key].get(a) || a.localeCompare(b));
  }

  function option(value, text) {
    const o = el("option", null, text);
    o.value = value;
    return o;
  }

  function renderFilters() {
    const box = document.querySelector("#filters .facets");
    box.replaceChildren();
    for (const [key, label] of FILTERS) {
      const counts = new Map();
      let total = 0;
      for (const e of EPISODES) {
        if (matches(e, key)) { counts.set(facet(e, key), (counts.get(facet(e, key)) || 0) + 1); total++; }
      }
      const select = el("select", null, option("", `all (${total})`));
      select.dataset.facet = key;
      for (const v of orderedValues(key)) select.append(option(v, `${v || "(none)"} (${counts.get(v) || 0})`));
      select.value = state.filters[key] ?? "";
      select.addEventListener("change", () => setFilter(key, select.value || null));
      box.append(el("label", "filter" + (state.filters[key] ? " active" : ""), label + " ", select));
    }
  }

  function renderSummary(shown) {
    const box = document.getElementById("summary");
    const count = el("span", "shown", `${shown.length} of ${EPISODES.length} episodes`);
    count.id = "shown";
    count.dataset.n = String(shown.length);
    const line = el("div", "counts", count);
    // outcomes and the figure count every outcome under the other filters: a filter on one
    // outcome still shows its share
    const base = state.filters.outcome ? EPISODES.filter(e => matches(e, "outcome")) : shown;
    const outcomes = new Map();
    for (const e of base) outcomes.set(e.facets.outcome, (outcomes.get(e.facets.outcome) || 0) + 1);
    for (const o of OUTCOMES) {
      if (!VALUES.outcome || !VALUES.outcome.has(o)) continue;
      const n = outcomes.get(o) || 0;
      line.append(button(`${o}: ${n} (${pct(n, base.length)})`,
        "count o-" + slug(o) + (state.filters.outcome === o ? " active" : ""), () => setFilter("outcome", o)));
    }
    box.replaceChildren(line, el("div", "charts", figure(base), turnTable(shown)), familyTable(shown));
  }

  function turnTable(shown) {
    const head = ["turn", "episodes", "passed public", "same code as before", "mean chrF to before"];
    const table = el("table", "turn-stats", el("tr", null, ...head.map(h => el("th", null, h))));
    for (let k = 0; k < MAX_TURNS; k++) {
      let n = 0, run = 0, passed = 0, compared = 0, same = 0, chrf = 0;
      for (const e of shown) {
        const t = e.turns[k];
        if (!t) continue;
        n++;
        if (t.category !== "not run") { run++; passed += t.category === "passed"; }
        if (t.chrf !== undefined) { compared++; chrf += t.chrf; same += Boolean(t.same); }
      }
      const cells = [k + 1, n, run ? pct(passed, run) : "-", compared ? pct(same, compared) : "-",
                     compared ? (chrf / compared).toFixed(1) : "-"];
      table.append(el("tr", null, ...cells.map(c => el("td", null, String(c)))));
    }
    return table;
  }

  function familyTable(shown) {
    const rows = new Map();
    for (const e of shown) {
      if (!rows.has(e.family)) rows.set(e.family, new Map());
      const r = rows.get(e.family);
      r.set(e.facets.outcome, (r.get(e.facets.outcome) || 0) + 1);
      r.set("n", (r.get("n") || 0) + 1);
    }
    const outcomes = OUTCOMES.filter(o => VALUES.outcome && VALUES.outcome.has(o));
    const table = el("table", "families", el("tr", null, ...["family", "episodes", ...outcomes].map(h => el("th", null, h))));
    for (const [family, r] of [...rows].sort((a, b) => b[1].get("n") - a[1].get("n") || a[0].localeCompare(b[0]))) {
      const name = button(family || "(none)", "link", () => setFilter("family", family), "filter on this family");
      table.append(el("tr", null, el("td", null, name), el("td", null, String(r.get("n"))),
        ...outcomes.map(o => el("td", null, r.get(o) ? `${r.get(o)} (${pct(r.get(o), r.get("n"))})` : ""))));
    }
    const box = details(`by family (${rows.size})`, table, state.familiesOpen);
    box.addEventListener("toggle", () => { state.familiesOpen = box.open; });
    return box;
  }

  // ---- the figure: share of episodes solved by turn k, one line per feedback condition or mode

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function seriesKey(shown) {
    for (const key of ["feedback", "mode"]) {
      const values = new Set(shown.map(e => facet(e, key)));
      if (values.size > 1 && values.size <= COLORS.length) return key;
    }
    return null;
  }

  function figure(shown) {
    const W = 440, H = 210, L = 42, R = 150, T = 28, B = 34;
    const key = seriesKey(shown);
    const x = k => L + (MAX_TURNS === 1 ? (W - L - R) / 2 : (k - 1) * (W - L - R) / (MAX_TURNS - 1));
    const y = f => T + (1 - f) * (H - T - B);
    const root = svg("svg", {width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "figure", role: "img"});
    root.append(svg("text", {x: L, y: 16, class: "fig-title"}, "recovery by turn: solved by turn k" + (key ? `, by ${key}` : "")));
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      root.append(svg("line", {x1: L, x2: W - R, y1: y(f), y2: y(f), class: "grid"}),
                  svg("text", {x: L - 6, y: y(f) + 4, class: "tick", "text-anchor": "end"}, `${100 * f}%`));
    }
    for (let k = 1; k <= MAX_TURNS; k++) {
      root.append(svg("text", {x: x(k), y: H - B + 16, class: "tick", "text-anchor": "middle"}, `turn ${k}`));
    }
    const groups = new Map();
    for (const e of shown) {
      const g = key ? facet(e, key) : "all";
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push(e);
    }
    (key ? orderedValues(key).filter(g => groups.has(g)) : [...groups.keys()]).forEach((g, s) => drawSeries(root, groups.get(g), g, COLORS[s % COLORS.length], s, {x, y, W, R, T}));
    return root;
  }

  function drawSeries(root, members, name, color, index, {x, y, W, R, T}) {
    const points = [];
    for (let k = 1; k <= MAX_TURNS; k++) {
      points.push([k, members.filter(e => e.solved_at !== null && e.solved_at <= k).length / members.length]);
    }
    root.append(svg("polyline", {points: points.map(([k, f]) => `${x(k)},${y(f)}`).join(" "), stroke: color, class: "series"}));
    for (const [k, f] of points) {
      const dot = svg("circle", {cx: x(k), cy: y(f), r: 3, fill: color});
      dot.append(svg("title", {}, `${name}, turn ${k}: ${pct(f, 1)}`));
      root.append(dot);
    }
    const last = points[points.length - 1][1];
    root.append(svg("rect", {x: W - R + 12, y: T + 16 * index, width: 10, height: 10, fill: color}),
                svg("text", {x: W - R + 27, y: T + 16 * index + 9, class: "legend"},
                    `${name || "(none)"}: ${pct(last, 1)} of ${members.length}`));
  }

  // ---- one episode

  function chips(verdicts) {
    if (verdicts.length <= MAX_CHIPS) return verdicts.map(v => chip(v, VERDICT[v] || v));
    const runs = [];
    for (const v of verdicts) {
      if (runs.length && runs[runs.length - 1][0] === v) runs[runs.length - 1][1]++;
      else runs.push([v, 1]);
    }
    return runs.map(([v, n]) => chip(v, `${VERDICT[v] || v} \u00d7${n}`));
  }

  function chip(verdict, label) {
    const c = el("span", "chip v-" + slug(verdict), label);
    c.title = verdict;
    return c;
  }

  function renderCard(e) {
    const card = el("article", "episode o-" + slug(e.facets.outcome));
    card.dataset.i = String(e.i);
    const link = el("a", "permalink", `#${e.i}`);
    link.href = `#ep=${e.i}`;
    link.title = "a link to this episode alone";
    const head = el("div", "ep-head", link,
      button(e.problem, "link problem", () => update(() => {
        state.q = e.problem; searchBox.value = e.problem; state.filters = {}; state.ep = null;
      }), "every episode of this problem"),
      button(e.family, "chip family", () => setFilter("family", e.family), "filter on this family"),
      button(e.facets.outcome, "badge o-" + slug(e.facets.outcome), () => setFilter("outcome", e.facets.outcome)));
    for (const [key, label] of FILTERS) {
      if (["feedback", "mode", "iteration", "temperature", "rank"].includes(key)) {
        head.append(el("span", "tag", `${label} ${facet(e, key)}`));
      }
    }
    for (const [key, value] of Object.entries(e.tags)) head.append(el("span", "tag", `${key} ${value}`));
    const statement = e.turns.length && e.turns[0].user !== null ? e.turns[0].user : STATEMENTS.get(e.problem);
    card.append(head, details("problem statement (the first user turn)",
      statement ? el("pre", "text", statement) : el("p", "missing", "not in the data this page was built from")));
    e.turns.forEach((t, k) => card.append(renderTurn(e, t, k)));
    card.append(renderFinal(e));
    return card;
  }

  function renderTurn(e, t, k) {
    const head = el("div", "turn-head", el("span", "turn-no", `turn ${k + 1}`));
    if (t.verdicts && t.verdicts.length) head.append(el("span", "chips", el("span", "label", "public "), ...chips(t.verdicts)));
    else head.append(el("span", "chip c-" + slug(t.category), CATEGORY_LABEL[t.category] || t.category));
    if (t.same) head.append(el("span", "badge warn", `same code as turn ${k}`));
    if (t.chrf !== undefined) head.append(el("span", "stat", `chrF to turn ${k}: ${t.chrf.toFixed(1)}`));
    if (t.reward !== null) head.append(el("span", "stat", `r = ${fmt(t.reward)}`));
    if (t.tokens !== null && t.tokens !== undefined) head.append(el("span", "stat", `${t.tokens} tokens`));
    const body = el("div", k ? "turn-body two" : "turn-body");
    if (k) body.append(el("div", "feedback", el("div", "label", "what the model read"), el("pre", "text", t.user ?? "")));
    body.append(renderCode(e, t, k));
    return el("section", "turn", head, body);
  }

  function renderCode(e, t, k) {
    const box = el("div", "code-box");
    const previous = k ? e.turns[k - 1].code : null;
    if (t.overflow !== undefined) {  // the prompt did not fit the model's context: nothing was sampled
      box.append(el("div", "label", "no reply: the dialogue outgrew the model's context, the episode ends here"),
                 el("pre", "text overflow", t.overflow));
    } else if (t.code === null) box.append(el("div", "label", "no code block in the reply"));
    else if (t.diff) {
      box.append(el("div", "label", `the code, as a diff against turn ${k}`), renderDiff(previous, t.code, t.diff),
                 details("the code alone", el("pre", "code", t.code)));
    } else if (previous !== null && previous === t.code) {
      box.append(el("div", "label", `the code: identical to turn ${k}`), el("pre", "code same", t.code));
    } else {
      box.append(el("div", "label", k ? `the code (turn ${k} had none)` : "the code"), el("pre", "code", t.code));
    }
    if (t.reply) box.append(details(t.code === null ? "the reply" : "the whole reply", el("pre", "text", t.reply), t.code === null));
    return box;
  }

  function renderDiff(previous, code, ops) {
    const a = previous.split("\n"), b = code.split("\n");
    const box = el("div", "diff");
    ops.forEach(([tag, i1, i2, j1, j2], n) => {
      if (tag === "equal") return renderContext(box, a.slice(i1, i2), n === 0, n === ops.length - 1);
      const removed = a.slice(i1, i2), added = b.slice(j1, j2);
      const paired = tag === "replace" && removed.length === added.length;
      removed.forEach((line, m) => box.append(diffLine("del", "-", line, paired ? added[m] : null)));
      added.forEach((line, m) => box.append(diffLine("add", "+", line, paired ? removed[m] : null)));
    });
    return box;
  }

  function renderContext(box, lines, first, last) {
    const keepHead = first ? 0 : CONTEXT, keepTail = last ? 0 : CONTEXT;
    if (lines.length <= keepHead + keepTail + 2) {
      for (const line of lines) box.append(diffLine("ctx", " ", line, null));
      return;
    }
    const hidden = lines.slice(keepHead, lines.length - keepTail);
    for (const line of lines.slice(0, keepHead)) box.append(diffLine("ctx", " ", line, null));
    const more = button(`\u2026 ${hidden.length} unchanged lines`, "more", () => {
      more.replaceWith(...hidden.map(line => diffLine("ctx", " ", line, null)));
    });
    box.append(more);
    for (const line of lines.slice(lines.length - keepTail)) box.append(diffLine("ctx", " ", line, null));
  }

  function diffLine(kind, sign, line, other) {
    const row = el("div", "dl " + kind, el("span", "sign", sign));
    if (other === null) { row.append(line); return row; }
    let start = 0, end = 0;  // the changed span within a line replaced one for one
    while (start < line.length && start < other.length && line[start] === other[start]) start++;
    while (end < line.length - start && end < other.length - start
           && line[line.length - 1 - end] === other[other.length - 1 - end]) end++;
    row.append(line.slice(0, start), el("span", "chg", line.slice(start, line.length - end)), line.slice(line.length - end));
    return row;
  }

  function renderFinal(e) {
    const box = el("div", "final", el("span", "label", "private tests "));
    const last = e.turns[e.turns.length - 1];
    if (e.infra_error) box.append(el("span", "badge infra", "infra error: the harness failed, the episode is never scored"));
    else if (e.final_verdicts && e.final_verdicts.length) box.append(...chips(e.final_verdicts));
    else if (last && last.overflow !== undefined) box.append(el("span", "chip c-context_overflow", "not run: the last turn overflowed the context"));
    else if (!last || last.code === null) box.append(el("span", "chip c-no_code", "not run: the last reply has no code"));
    else box.append(chip(e.solved ? "PASSED" : "WRONG_OUTPUT", e.solved ? "passed" : "failed"));
    box.append(el("span", "badge o-" + slug(e.facets.outcome), e.facets.outcome));
    if (e.reward !== null) box.append(el("span", "stat", `return ${fmt(e.reward)} (the rewards r_t summed; no KL term)`));
    return box;
  }

  // ---- pages

  function renderPager(box, total, pages) {
    const from = total ? state.page * PAGE_SIZE + 1 : 0, to = Math.min(total, (state.page + 1) * PAGE_SIZE);
    const prev = button("\u2190 previous", "page-prev", () => go(-1));
    const next = button("next \u2192", "page-next", () => go(1));
    prev.disabled = state.page === 0;
    next.disabled = state.page >= pages - 1;
    box.replaceChildren(prev, el("span", "page-info", `page ${state.page + 1} of ${pages} (episodes ${from}-${to} of ${total})`), next);
  }

  let pageCount = 1;
  function go(step) {
    const page = Math.min(Math.max(0, state.page + step), pageCount - 1);
    if (page === state.page) return;
    state.page = page;
    render();
    document.getElementById("pager-top").scrollIntoView();
  }

  function render() {
    const shown = EPISODES.filter(e => matches(e, null));
    pageCount = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
    state.page = Math.min(state.page, pageCount - 1);
    renderFilters();
    renderSummary(shown);
    const list = document.getElementById("episodes");
    list.replaceChildren(...shown.slice(state.page * PAGE_SIZE, (state.page + 1) * PAGE_SIZE).map(renderCard));
    if (!shown.length) list.append(el("p", "empty", "No episode matches these filters."));
    for (const id of ["pager-top", "pager-bottom"]) renderPager(document.getElementById(id), shown.length, pageCount);
    writeHash();
  }

  document.addEventListener("keydown", event => {
    if (event.target instanceof Element && event.target.closest("input, select, textarea")) return;
    if (event.key === "ArrowRight" || event.key === "n") go(1);
    if (event.key === "ArrowLeft" || event.key === "p") go(-1);
  });
  window.addEventListener("hashchange", () => { readHash(); searchBox.value = state.q; render(); });

  renderHeader();
  renderControls();
  readHash();
  searchBox.value = state.q;
  render();
  document.body.dataset.ready = "1";
})();
