"""Generation backends. The episode logic (rollout.py) sees one of two protocols:

* token-in/token-out, `GenerationBackend.generate(contexts, params) -> [Generation]`: our ids in,
  sampled ids and their log-probs out, so a vLLM backend for GPU clusters can replace the Hugging
  Face one without touching episodes. Training needs this one (PPO's ratio uses the log-probs).
* messages-in/text-out, `ChatBackend.chat(requests, params) -> [Reply]`: a model behind a chat
  API (rlef.chat_api) sees the dialogue as messages, never our token ids, and returns text only.
  Evaluation can use it; training cannot.

HFBackend is a continuous-batching decode loop over a Hugging Face causal LM with a KV
cache: up to `max_batch` sequences decode together; a sequence that finishes leaves the
batch at once and a waiting context is prefilled and merged into the freed slot, so no
compute is spent on padding behind a long straggler. Rows are left-padded inside the cache
and carry their own position ids, so merging rows of different lengths is exact.

Across calls (turns of an episode), the keys/values of every finished sequence are kept until
the next call: a context that extends one of them (previous context + reply + feedback) only
prefills its new tokens. Multi-turn rollouts would otherwise re-read the whole dialogue every
turn. Bounded by `max_saved_mb`; a context without a saved prefix is prefilled in full.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import torch
from transformers import DynamicCache


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 1.0  # 0: greedy
    top_p: float = 1.0  # paper: 0.95 for evaluation, none (1.0) in training (A.1)
    max_new_tokens: int = 512


@dataclass
class Generation:
    tokens: list[int]  # generated ids, the stop token included when one was produced
    logprobs: list[float]  # behaviour log-prob of each generated token (see sample_tokens)
    stopped: bool  # ended on a stop token (False: hit max_new_tokens)


class GenerationBackend(Protocol):
    # Tokens the model attends to, prompt and reply together (None: unknown). A turn that would not
    # fit is never sent here: the episode ends on it instead (rollout.context_overflow).
    context_length: int | None

    def generate(self, contexts: Sequence[Sequence[int]], params: SamplingParams) -> list[Generation]: ...


@dataclass(frozen=True)
class ChatRequest:
    key: str  # names the request for logs, seeds and resumption, e.g. multi_turn/<problem>/<sample>/turn2
    messages: list[dict]  # [{"role": "user" | "assistant", "content": str}, ...], ending on a user turn


@dataclass(frozen=True)
class Reply:
    text: str  # the assistant message as the server returned it ("" when overflow is set)
    stopped: bool  # the model ended its turn (finish_reason "stop"; False: cut at max_new_tokens)
    # The server refused the request as longer than the model's context (its message): no reply,
    # and the episode ends on this turn (rollout.EpisodeRunner). None: an ordinary reply.
    overflow: str | None = None
    id: str | None = None  # the request's line in the backend's log (chat_api: requests.jsonl's "id")


@runtime_checkable
class ChatBackend(Protocol):
    max_batch: int  # requests in flight at once (task=eval sizes its chunks by it, as for HFBackend)

    def chat(self, requests: Sequence[ChatRequest], params: SamplingParams) -> list[Reply]: ...


def sample_tokens(logits: torch.Tensor, params: SamplingParams,
                  generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample one token per row. The recorded log-prob is under softmax(logits / T), before
    top-p truncation: the policy's own distribution at that temperature, which is what PPO's
    ratio compares against (training samples at T = 1 without top-p, paper A.1)."""
    logits = logits.float()
    if params.temperature <= 0:
        tokens = logits.argmax(-1)
        return tokens, torch.log_softmax(logits, -1).gather(-1, tokens[:, None]).squeeze(-1)
    logp = torch.log_softmax(logits / params.temperature, -1)
    probs = logp.exp()
    if params.top_p < 1.0:
        sorted_p, order = probs.sort(-1, descending=True)
        outside = sorted_p.cumsum(-1) - sorted_p >= params.top_p  # keep the smallest prefix >= top_p
        sorted_p = sorted_p.masked_fill(outside, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_p)
    tokens = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
    return tokens, logp.gather(-1, tokens[:, None]).squeeze(-1)


@dataclass
class _Rows:
    """The decoding batch: per-row bookkeeping next to a left-padded KV cache."""

    ids: list[int] = field(default_factory=list)  # index into the caller's contexts
    positions: torch.Tensor = field(default_factory=lambda: torch.zeros(0, dtype=torch.long))  # (B,) next position id
    mask: torch.Tensor = field(default_factory=lambda: torch.zeros(0, 0, dtype=torch.long))  # (B, T) 1 on real tokens
    logits: torch.Tensor | None = None  # (B, V) next-token logits
    cache: DynamicCache | None = None


@dataclass
class _Saved:
    ids: tuple[int, ...]  # (L,) the tokens whose keys/values are cached
    keys: list[torch.Tensor]  # per layer (H, L, D)
    values: list[torch.Tensor]  # per layer (H, L, D)


_MOD = (1 << 61) - 1


def _prefix_hashes(ids: Sequence[int]) -> list[int]:
    """Rolling hashes of every prefix: out[n] hashes ids[:n]. O(len) per context, so finding
    the longest saved prefix costs one dict lookup per saved length, not a slice per entry."""
    out, h = [0], 0
    for token in ids:
        h = (h * 1_000_003 + token + 1) % _MOD
        out.append(h)
    return out


def _pad_cache_left(cache: DynamicCache, pad: int) -> None:
    if pad:
        for layer in cache.layers:
            layer.keys = torch.nn.functional.pad(layer.keys, (0, 0, pad, 0))
            layer.values = torch.nn.functional.pad(layer.values, (0, 0, pad, 0))


class HFBackend:
    def __init__(self, model, stop_ids: Sequence[int], pad_id: int, max_batch: int = 32, seed: int = 0,
                 stop_check: Callable[[list[int]], bool] | None = None, check_ids: Sequence[int] = (),
                 max_saved_mb: int = 2048, lockstep=None):
        """stop_check(tokens) may end a response early; it is only called after a token in
        `check_ids` (e.g. those containing a backtick), so it costs nothing per step.
        lockstep: a rlef.lightning.lockstep.Lockstep when the model is sharded over ranks (ZeRO-3): each
        forward is then a collective, and generate() runs the same number on every rank."""
        self.model, self.stop_ids, self.pad_id, self.max_batch = model, set(stop_ids), pad_id, max_batch
        self.stop_check, self.check_ids = stop_check, set(check_ids)
        self.device = next(model.parameters()).device
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.max_saved_bytes = max_saved_mb * 2**20  # 0 disables reuse across calls
        self._saved: dict[tuple[int, int], _Saved] = {}  # (length, prefix hash) -> entry, from the last call
        self._saving: dict[tuple[int, int], _Saved] = {}  # entries of the current call
        self._saving_bytes = 0
        self._lengths: list[int] = []  # distinct lengths in _saved, longest first
        self._contexts: Sequence[Sequence[int]] = ()
        self.reused_tokens = 0  # prompt tokens served from saved keys/values (for tests and logs)
        self.lockstep = lockstep
        # The positions the model was trained on. Past them a rotary-position model (Llama) decodes on
        # with no error and a learned-position one (GPT-2) crashes: rollout.context_overflow keeps out.
        self.context_length: int | None = getattr(model.config, "max_position_embeddings", None)

    def _forward(self, input_ids, mask, positions, cache):
        if self.lockstep is not None:
            self.lockstep.before_forward()
        # logits_to_keep=1: only the next token's logits. A prefill of 32 contexts of 3k tokens
        # would otherwise hold (32, 3k, 49k vocab) floats, 19 GB, and was killed for memory.
        out = self.model(input_ids=input_ids, attention_mask=mask, position_ids=positions,
                         past_key_values=cache, use_cache=True, logits_to_keep=1)
        return out.logits[:, -1], out.past_key_values

    def _admit(self, take: list[int]) -> _Rows:
        """Rows for contexts `take` (indices into this call's contexts): those that extend a
        sequence saved by the last call prefill only their new tokens, the rest in full."""
        found = [(i, self._longest_saved(self._contexts[i])) for i in take]
        fresh = [i for i, entry in found if entry is None]
        hits = [(i, entry) for i, entry in found if entry is not None]
        rows = _Rows()
        if fresh:
            rows = self._prefill([list(self._contexts[i]) for i in fresh])
            rows.ids = fresh
        if hits:
            extended = self._extend([list(self._contexts[i]) for i, _ in hits], [e for _, e in hits])
            extended.ids = [i for i, _ in hits]
            rows = self._merge(rows, extended)
        return rows

    def _longest_saved(self, context: Sequence[int]) -> _Saved | None:
        if not self._saved:
            return None
        hashes = _prefix_hashes(context)
        for length in self._lengths:
            if length < len(context):
                entry = self._saved.get((length, hashes[length]))
                if entry is not None and entry.ids == tuple(context[:length]):
                    return entry
        return None

    def _extend(self, contexts: list[list[int]], entries: list[_Saved]) -> _Rows:
        """Prefill only each context's tokens after its saved prefix. The saved keys/values are
        right-aligned in a left-padded cache; the new tokens follow, left-padded too, so padding
        can sit between the two: the attention mask hides it and position ids stay exact."""
        b, cached = len(contexts), max(len(e.ids) for e in entries)
        new = max(len(c) - len(e.ids) for c, e in zip(contexts, entries))
        ids = torch.full((b, new), self.pad_id, dtype=torch.long)
        mask = torch.zeros(b, cached + new, dtype=torch.long)
        positions = torch.zeros(b, new, dtype=torch.long)
        for row, (context, entry) in enumerate(zip(contexts, entries)):
            n, m = len(entry.ids), len(context) - len(entry.ids)
            ids[row, new - m:] = torch.tensor(context[n:])
            mask[row, cached - n:cached] = 1
            mask[row, cached + new - m:] = 1
            positions[row, new - m:] = torch.arange(n, n + m)
        cache = DynamicCache(config=self.model.config)
        for layer in range(len(entries[0].keys)):
            parts = []
            for tensors in ([e.keys[layer] for e in entries], [e.values[layer] for e in entries]):
                h, _, d = tensors[0].shape
                full = tensors[0].new_zeros(b, h, cached, d)
                for row, t in enumerate(tensors):
                    full[row, :, cached - t.shape[1]:] = t
                parts.append(full)
            cache.update(parts[0], parts[1], layer)
        mask = mask.to(self.device)
        logits, cache = self._forward(ids.to(self.device), mask, positions.to(self.device), cache)
        self.reused_tokens += sum(len(e.ids) for e in entries)
        lengths = torch.tensor([len(c) for c in contexts], device=self.device)
        return _Rows([], lengths, mask, logits, cache)

    def _save(self, rows: _Rows, finished: list[int], results: list) -> None:
        """Keep the keys/values of finished sequences for the next call (bounded)."""
        for b in finished:
            i = rows.ids[b]
            ids = tuple(self._contexts[i]) + tuple(results[i].tokens[:-1])  # the last token was never fed
            real = rows.mask[b].bool()
            keys = [layer.keys[b][:, real] for layer in rows.cache.layers]
            size = 2 * sum(k.numel() * k.element_size() for k in keys)
            if keys[0].shape[1] != len(ids) or self._saving_bytes + size > self.max_saved_bytes:
                continue
            values = [layer.values[b][:, real] for layer in rows.cache.layers]
            self._saving[(len(ids), _prefix_hashes(ids)[-1])] = _Saved(ids, keys, values)
            self._saving_bytes += size

    def _prefill(self, contexts: list[list[int]]) -> _Rows:
        """Prefill identical contexts once (n rollouts of one problem share their prompt),
        then copy their cache rows."""
        unique: dict[tuple[int, ...], int] = {}
        owners = [unique.setdefault(tuple(c), len(unique)) for c in contexts]
        rows = self._prefill_unique([list(c) for c in unique])
        if len(unique) < len(contexts):
            index = torch.tensor(owners, dtype=torch.long, device=self.device)
            rows.cache.batch_select_indices(index)
            rows.positions, rows.mask, rows.logits = rows.positions[index], rows.mask[index], rows.logits[index]
        return rows

    def _prefill_unique(self, contexts: list[list[int]]) -> _Rows:
        width = max(len(c) for c in contexts)
        ids = torch.full((len(contexts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, context in enumerate(contexts):
            ids[row, width - len(context):] = torch.tensor(context)
            mask[row, width - len(context):] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        logits, cache = self._forward(ids.to(self.device), mask.to(self.device), positions.to(self.device),
                                      DynamicCache(config=self.model.config))
        return _Rows([], mask.sum(-1).to(self.device), mask.to(self.device), logits, cache)

    def _merge(self, rows: _Rows, new: _Rows) -> _Rows:
        if rows.cache is None or not rows.ids:
            return new
        width = max(rows.mask.shape[1], new.mask.shape[1])
        for part in (rows, new):
            pad = width - part.mask.shape[1]
            _pad_cache_left(part.cache, pad)
            part.mask = torch.nn.functional.pad(part.mask, (pad, 0))
        for old_layer, new_layer in zip(rows.cache.layers, new.cache.layers):
            old_layer.keys = torch.cat([old_layer.keys, new_layer.keys])
            old_layer.values = torch.cat([old_layer.values, new_layer.values])
        return _Rows(rows.ids + new.ids, torch.cat([rows.positions, new.positions]),
                     torch.cat([rows.mask, new.mask]), torch.cat([rows.logits, new.logits]), rows.cache)

    def _keep(self, rows: _Rows, keep: list[int]) -> None:
        index = torch.tensor(keep, dtype=torch.long, device=self.device)
        rows.cache.batch_select_indices(index)
        rows.ids = [rows.ids[i] for i in keep]
        rows.positions, rows.mask, rows.logits = rows.positions[index], rows.mask[index], rows.logits[index]
        dead = int((rows.mask.sum(0) == 0).long().cumprod(0).sum())  # leading columns padded in every row
        if dead:
            rows.mask = rows.mask[:, dead:]
            for layer in rows.cache.layers:
                layer.keys, layer.values = layer.keys[:, :, dead:], layer.values[:, :, dead:]

    @torch.no_grad()
    def generate(self, contexts: Sequence[Sequence[int]], params: SamplingParams) -> list[Generation]:
        results: list[Generation | None] = [None] * len(contexts)
        pending = deque(range(len(contexts)))
        rows = _Rows()
        self._contexts, self._saving, self._saving_bytes = contexts, {}, 0
        self._lengths = sorted({length for length, _ in self._saved}, reverse=True)
        while pending or rows.ids:
            free = self.max_batch - len(rows.ids)
            if pending and (not rows.ids or free >= max(1, self.max_batch // 4)):
                take = [pending.popleft() for _ in range(min(free, len(pending)))]
                for i in take:
                    results[i] = Generation([], [], False)
                rows = self._merge(rows, self._admit(take))
            self._step(rows, results, params)
        if self.lockstep is not None:
            self.lockstep.drain()
        self._saved, self._saving, self._contexts = self._saving, {}, ()
        return results  # type: ignore[return-value]

    def _step(self, rows: _Rows, results: list, params: SamplingParams) -> None:
        tokens, logps = sample_tokens(rows.logits, params, self.generator)
        keep = []
        for b, (i, token, logp) in enumerate(zip(rows.ids, tokens.tolist(), logps.tolist())):
            result = results[i]
            result.tokens.append(token)
            result.logprobs.append(logp)
            result.stopped = token in self.stop_ids
            checked = token in self.check_ids and self.stop_check is not None and self.stop_check(result.tokens)
            if not (result.stopped or checked) and len(result.tokens) < params.max_new_tokens:
                keep.append(b)
        if len(keep) < len(rows.ids):
            if self.max_saved_bytes:
                kept = set(keep)
                self._save(rows, [b for b in range(len(rows.ids)) if b not in kept], results)
            self._keep(rows, keep)
            tokens = tokens[torch.tensor(keep, dtype=torch.long, device=tokens.device)]
        if not rows.ids:
            return
        rows.mask = torch.nn.functional.pad(rows.mask, (0, 1), value=1)
        rows.logits, rows.cache = self._forward(tokens[:, None], rows.mask, rows.positions[:, None], rows.cache)
        rows.positions = rows.positions + 1
