"""Any OpenAI-compatible chat server as a ChatBackend: `model.kind=openai` (conf/model/openai.yaml),
task=eval only. The server sees the same dialogue as our own models (first prompt, the paper's
feedback turns, the retry prompt) as chat messages and applies its own chat template; it returns
text, never token ids or log-probs, so training cannot use it and the token metrics are reported
as unavailable (UNAVAILABLE), not as numbers.

* Bounded concurrency: at most `model.concurrency` requests in flight (a thread pool; the client
  is thread-safe), so a shared server or an API quota is not flooded.
* Retries: 429, 5xx and connection errors are retried with exponential backoff (a Retry-After
  header wins), at most `model.max_attempts` times, then one ServiceError line.
* A dialogue longer than the model's context (HTTP 400 that says so, context_overflow()) ends its
  episode, not the evaluation: the reply is empty and carries the server's message
  (Reply.overflow), so the turn has no code and the episode fails there, as it would for a model
  that can no longer answer. Any other 4xx (401 bad key, 404 unknown model, a malformed request)
  is a configuration error that every request would repeat: one ServiceError line at once.
* requests.jsonl in the run directory: every request (key, body) with its reply (or its context
  refusal), finish reason, token usage as the server counts it, attempts and errors, appended as it
  ends. A rerun into the same run directory answers every request it already holds from there
  (same key and body), so no reply is ever sampled twice; only the sandbox runs again. A request
  whose key was answered before for another body (the sandbox judged an earlier turn differently
  this time, so the feedback changed) is sent again and counted as `resampled`.
* Seeds: each request carries a seed derived from the run seed and its key, so a server that
  honours per-request seeds (vLLM) samples the same reply for the same request in any order.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rlef.errors import BadInput, ServiceError
from rlef.generation import ChatRequest, Reply, SamplingParams

log = logging.getLogger(__name__)

# What task=eval cannot report for a chat API, and why (metrics.json "unavailable").
UNAVAILABLE = {
    "tokens_per_s": "the server returns text, not our token ids (requests.jsonl keeps its own usage counts)",
    "response_tokens": "per turn in samples.jsonl: null for the same reason",
}
# Without a key a local server (vllm serve without --api-key) accepts any; the client needs a string.
NO_KEY = "EMPTY"
# How servers refuse a dialogue that does not fit the model's context, with room for the reply:
# OpenAI's error code; vLLM's "This model's maximum context length is ..." and "... longer than the
# maximum model length ..."; llama.cpp's "... exceeds the available context size".
CONTEXT_CODE = "context_length_exceeded"
CONTEXT_MESSAGE = re.compile(r"maximum context length|maximum model length|context size|context length exceeded",
                             re.IGNORECASE)


@dataclass(frozen=True)
class ApiSettings:
    base_url: str  # e.g. http://127.0.0.1:8000/v1
    model: str  # the request's "model" field (model.name_or_path)
    api_key_env: str | None  # the NAME of the environment variable holding the key; None: no key
    concurrency: int  # requests in flight at once
    max_attempts: int  # per request, the first included
    backoff_s: float  # wait after the first failed attempt; doubles each attempt
    backoff_max_s: float  # cap on one wait (and on a server's Retry-After)
    timeout_s: float  # per attempt

    @classmethod
    def from_config(cls, model_cfg) -> ApiSettings:
        settings = cls(str(model_cfg.base_url), str(model_cfg.name_or_path), model_cfg.api_key_env,
                       int(model_cfg.concurrency), int(model_cfg.max_attempts), float(model_cfg.backoff_s),
                       float(model_cfg.backoff_max_s), float(model_cfg.timeout_s))
        for name in ("concurrency", "max_attempts"):
            if getattr(settings, name) < 1:
                raise BadInput(f"model.{name} must be >= 1, got {getattr(settings, name)}")
        if not settings.base_url.startswith(("http://", "https://")):
            raise BadInput(f"model.base_url must be an http(s) URL, got {settings.base_url!r}")
        return settings

    def api_key(self) -> str:
        if self.api_key_env is None:
            return NO_KEY
        value = os.environ.get(self.api_key_env)
        if not value:
            raise BadInput(f"model.api_key_env={self.api_key_env}: that environment variable is not set "
                           "(export it, or model.api_key_env=null for a server that needs no key)")
        return value


def backoff_delay(attempt: int, base_s: float, cap_s: float, retry_after_s: float | None = None) -> float:
    """Seconds to wait after failed attempt `attempt` (1-based): the server's Retry-After when it
    sent one, else base * 2^(attempt - 1); never more than cap_s."""
    wanted = retry_after_s if retry_after_s is not None else base_s * 2 ** (attempt - 1)
    return min(max(wanted, 0.0), cap_s)


def retryable(status: int) -> bool:
    """Rate limits and server trouble pass; any other error status would fail again the same way."""
    return status == 429 or status >= 500


def context_overflow(status: int, code: str | None, message: str) -> bool:
    """The server refuses this dialogue as too long for the model: that episode ends, the run goes on.
    Only a 400: the same words in a 5xx are server trouble, retried."""
    return status == 400 and (code == CONTEXT_CODE or CONTEXT_MESSAGE.search(message) is not None)


def server_said(status: int, message: str) -> str:
    """The server's error message on one line, without the client's "Error code: <status> - " prefix."""
    return " ".join(message.removeprefix(f"Error code: {status}").removeprefix(" - ").split()) or "no message"


def client_error(status: int, message: str, api_key_env: str | None) -> str:
    """One line for a 4xx that is not a context overflow: what the server said and which setting to check."""
    said = server_said(status, message)
    if status in (401, 403):
        hint = (f"the server refused the key in ${api_key_env} (model.api_key_env)" if api_key_env
                else "the server wants a key: set model.api_key_env to the variable that holds it")
    elif status == 404:
        hint = "check model.base_url and model.name_or_path"
    else:
        hint = "a request the server cannot take; every request would fail the same way"
    return f"HTTP {status}: {said} ({hint})"


class ContextOverflow(Exception):
    """The server's context-length refusal of one request (its message); _answer turns it into a Reply."""


def request_seed(run_seed: int, key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{run_seed}/{key}".encode()).digest()[:4], "big") >> 1  # 31 bits


def request_id(key: str, body: dict) -> str:
    """Same key and same body (messages, sampling, seed, model): the same request, answered once."""
    return hashlib.sha256(json.dumps({"key": key, "body": body}, sort_keys=True).encode()).hexdigest()[:32]


class RequestLog:
    """requests.jsonl: one line per request, appended (and flushed) as it ends, answered or failed."""

    def __init__(self, path: Path):
        self.path = path
        # request id -> its line from earlier runs: a reply, or a context refusal (the same body
        # would be refused again). Failed requests are absent: they are sent again.
        self.answered: dict[str, dict] = {}
        text = path.read_text() if path.is_file() else ""
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # a line cut by a crash: that request is sent again
                continue
            if record.get("reply") is not None or record.get("context_overflow") is not None:
                self.answered[record["id"]] = record
        self.answered_keys = {record["key"] for record in self.answered.values()}
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a")
        if text and not text.endswith("\n"):  # end the cut line, or the next record is glued to it and lost
            self._file.write("\n")
        self._lock = threading.Lock()

    def append(self, record: dict) -> None:
        with self._lock:
            self._file.write(json.dumps(record) + "\n")
            self._file.flush()

    def close(self) -> None:
        self._file.close()


def _retry_after(response) -> float | None:
    try:
        return float(response.headers.get("retry-after"))
    except (TypeError, ValueError):  # absent, or an HTTP date: our own backoff decides
        return None


class OpenAIChatBackend:
    """A ChatBackend over the official `openai` client. Use as a context manager (closes the pool
    and the request log); the constructor checks the key and, before any sampling, that the server
    answers and serves the model."""

    def __init__(self, settings: ApiSettings, log_path: Path, seed: int = 0):
        import openai  # here, not at the top: only this backend needs the client

        self.settings, self.seed, self._openai = settings, seed, openai
        for name in ("httpx", "httpx2"):  # one INFO line per request; requests.jsonl already has each one
            logging.getLogger(name).setLevel(logging.WARNING)
        # max_retries=0: retries are ours, so each attempt is logged and bounded by our settings.
        self.client = openai.OpenAI(base_url=settings.base_url, api_key=settings.api_key(), max_retries=0,
                                    timeout=settings.timeout_s)
        self.max_batch = settings.concurrency
        self.log = RequestLog(log_path)
        self.pool = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="chat-api")
        # Requests sent to the server / answered from requests.jsonl / sent although their key was
        # answered before for another body (counted in sent too) / refused as longer than the context.
        self.sent = self.reused = self.resampled = self.overflowed = 0
        self._lock = threading.Lock()  # guards the counts: replies arrive on the pool's threads
        log.info("chat API: model %s at %s, %d concurrent requests, %d answered requests in %s",
                 settings.model, settings.base_url, settings.concurrency, len(self.log.answered), log_path)

    def __enter__(self) -> OpenAIChatBackend:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)  # requests in flight finish and are logged
        self.log.close()
        self.client.close()
        log.info("chat API: %d requests sent (%d resampled), %d answered from %s, %d refused as longer than "
                 "the context", self.sent, self.resampled, self.reused, self.log.path, self.overflowed)

    def counts(self) -> dict[str, int]:
        """metrics.json's "requests": nothing resampled and everything reused is what a clean resume shows."""
        return {"sent": self.sent, "reused": self.reused, "resampled": self.resampled}

    def check_model(self) -> None:
        """One line now, rather than a failure per request later: unreachable server, bad key, or
        a model name the server does not serve."""
        served = [m.id for m in self._retrying("GET /models", self.client.models.list, []).data]
        if self.settings.model not in served:
            raise BadInput(f"model.name_or_path={self.settings.model}: {self.settings.base_url} serves "
                           f"{', '.join(served[:10]) or 'no model'}")

    def chat(self, requests: Sequence[ChatRequest], params: SamplingParams) -> list[Reply]:
        futures = [self.pool.submit(self._answer, r, params) for r in requests]
        try:
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:  # those in flight still finish and are logged: a rerun reuses them
                f.cancel()
            raise

    def body(self, request: ChatRequest, params: SamplingParams) -> dict:
        return {"model": self.settings.model, "messages": request.messages, "temperature": params.temperature,
                "top_p": params.top_p, "max_completion_tokens": params.max_new_tokens,
                "seed": request_seed(self.seed, request.key)}

    def _answer(self, request: ChatRequest, params: SamplingParams) -> Reply:
        body = self.body(request, params)
        rid = request_id(request.key, body)
        done = self.log.answered.get(rid)
        if done is not None:
            return self._reuse(done)
        record, errors, start = {"id": rid, "key": request.key, "request": body}, [], time.time()
        again = request.key in self.log.answered_keys
        self._count("sent", "resampled" if again else None)
        if again:
            log.warning("%s: answered before for another dialogue (an earlier turn was judged differently); "
                        "sampled again", request.key)
        try:
            completion = self._retrying(request.key, lambda: self.client.chat.completions.create(**body), errors)
        except ServiceError as e:
            self.log.append(record | {"reply": None, "error": str(e), "errors": errors})
            raise
        except ContextOverflow as e:
            self._count("overflowed")
            log.warning("%s: longer than the model's context; the episode ends here (%s)", request.key, e)
            self.log.append(record | {"reply": None, "context_overflow": str(e), "attempts": len(errors) + 1,
                                      "errors": errors, "seconds": round(time.time() - start, 3)})
            return Reply("", False, overflow=str(e), id=rid)
        choice = completion.choices[0]
        text = choice.message.content or ""
        usage = completion.usage.model_dump() if completion.usage else None
        self.log.append(record | {"reply": text, "finish_reason": choice.finish_reason, "usage": usage,
                                  "attempts": len(errors) + 1, "errors": errors,
                                  "seconds": round(time.time() - start, 3)})
        return Reply(text, choice.finish_reason == "stop", id=rid)

    def _reuse(self, done: dict) -> Reply:
        """The reply (or the context refusal) an earlier run logged for this very request."""
        self._count("reused", "overflowed" if done.get("context_overflow") is not None else None)
        return Reply(done["reply"] or "", done.get("finish_reason") == "stop", overflow=done.get("context_overflow"),
                     id=done["id"])

    def _count(self, *names: str | None) -> None:
        with self._lock:
            for name in filter(None, names):
                setattr(self, name, getattr(self, name) + 1)

    def _retrying(self, what: str, call: Callable, errors: list[str]):
        """call() until it succeeds, at most max_attempts times; each failure is appended to errors."""
        s, openai = self.settings, self._openai
        for attempt in range(1, s.max_attempts + 1):
            retry_after = None
            try:
                return call()
            except openai.APIStatusError as e:
                if context_overflow(e.status_code, e.code, e.message):
                    raise ContextOverflow(f"HTTP 400: {server_said(400, e.message)}") from None
                if not retryable(e.status_code):
                    raise ServiceError(f"{s.base_url}: {what}: "
                                       f"{client_error(e.status_code, e.message, s.api_key_env)}") from None
                errors.append(f"HTTP {e.status_code}")
                retry_after = _retry_after(e.response)
            except openai.APIConnectionError as e:  # refused, reset, timed out
                errors.append(f"{type(e).__name__}: {e}")
            if attempt < s.max_attempts:
                delay = backoff_delay(attempt, s.backoff_s, s.backoff_max_s, retry_after)
                log.warning("%s: %s (attempt %d of %d), retrying in %.1f s", what, errors[-1], attempt,
                            s.max_attempts, delay)
                time.sleep(delay)
        raise ServiceError(f"{s.base_url}: {what} failed {s.max_attempts} times, last: {errors[-1]} "
                           "(rerun the same command into the same run directory to resume)")


def openai_backend(cfg, out: Path) -> OpenAIChatBackend:
    """The backend task=eval uses for model.kind=openai; its request log is <run dir>/requests.jsonl."""
    if cfg.rollout.stop_after_code:
        raise BadInput("rollout.stop_after_code=true needs our own decoder (it stops at a closed ```python "
                       "block, which a chat server cannot); set rollout.stop_after_code=false with model.kind=openai")
    backend = OpenAIChatBackend(ApiSettings.from_config(cfg.model), out / "requests.jsonl", cfg.seed)
    try:
        backend.check_model()
    except BaseException:
        backend.close()
        raise
    return backend
