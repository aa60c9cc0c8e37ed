"""OpenAI-compatible HTTP backend: vLLM, TGI, SGLang, `transformers serve`, API models.

Scale comes from the serving engine (tensor/pipeline parallel in vLLM, across GPUs and nodes);
this client keeps many requests in flight (bounded), retries 429/5xx and timeouts with
exponential backoff (honouring Retry-After), preserves order, and shares xling's content cache
(keyed by base URL and served model name). The API key comes from an environment variable or a
file, is sent only to the configured base URL, and never appears in records or messages.
"""
from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from ..errors import XlingError
from .base import Decoding, GenerationRequest, Prompt

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


def read_api_key(env: str | None = "XLING_API_KEY", path: str | None = None) -> str | None:
    if path:
        try:
            return Path(path).expanduser().read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise XlingError(f"cannot read the API key file {path}: {exc.strerror}") from exc
    for name in [env] if env else ["XLING_API_KEY", "OPENAI_API_KEY"]:
        if name and os.environ.get(name):
            return os.environ[name]
    return None


class HTTPError(Exception):
    def __init__(self, status: int | None, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


class HTTPBackend:
    is_seq2seq = False

    def __init__(self, model: str, base_url: str, *, api_key: str | None = None,
                 concurrency: int = 8, timeout: float = 120.0, max_retries: int = 5,
                 backoff: float = 1.0, tokenizer: str | None = None, chat: bool | None = None):
        import httpx

        if not base_url.startswith(("http://", "https://")):
            raise XlingError(f"--base-url must start with http:// or https://, not {base_url!r}")
        self.model_name, self.base_url = model, base_url.rstrip("/")
        if not self.base_url.endswith("/v1"):
            self.base_url += "/v1"
        self._key = api_key
        self.concurrency, self.max_retries, self.backoff = max(1, concurrency), max_retries, backoff
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # No redirects: the key must never travel to another address.
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout,
                                    follow_redirects=False)
        self._lock = threading.Lock()
        self.fingerprint = {"backend": "http", "model": model, "base_url": self.base_url,
                            "revision": "served"}
        self._tokenizer = None
        if tokenizer or Path(model).is_dir():
            from transformers import AutoTokenizer
            self._tokenizer = AutoTokenizer.from_pretrained(tokenizer or model)
        # Chat endpoint unless told otherwise; a local tokenizer tells whether a chat template exists.
        self.has_chat_template = chat if chat is not None else (
            bool(getattr(self._tokenizer, "chat_template", None)) if self._tokenizer else True)

    # -- helpers ---------------------------------------------------------------------------------
    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def render(self, prompt: Prompt) -> str:
        """What the server receives (the key of the cache): the text, or the messages as JSON —
        the server applies its own chat template."""
        if prompt.is_chat:
            return json.dumps([list(m) for m in prompt.messages], ensure_ascii=False)
        return prompt.text

    def count_tokens(self, text: str) -> int:
        if self._tokenizer is not None:
            return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])
        return max(1, len(text.encode("utf-8")) // 3)   # rough: ~3 bytes per token

    def _post(self, path: str, payload: dict) -> dict:
        import httpx

        delay = self.backoff
        for attempt in range(self.max_retries + 1):
            try:
                response = self._client.post(path, json=payload)
                if response.status_code in RETRY_STATUS:
                    retry_after = response.headers.get("retry-after")
                    raise HTTPError(response.status_code, f"HTTP {response.status_code}",
                                    float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else None)
                if response.status_code >= 400:
                    detail = self._redact(response.text[:300].replace("\n", " "))
                    raise XlingError(f"server at {self.base_url} refused {path}: HTTP "
                                     f"{response.status_code} {detail}")
                return _parse_body(response.text)
            except (HTTPError, httpx.TimeoutException, httpx.TransportError) as exc:
                # A refused connection means no server: retry briefly, not for minutes.
                limit = min(self.max_retries, 2) if isinstance(exc, httpx.ConnectError) else self.max_retries
                if attempt >= limit:
                    if isinstance(exc, httpx.ConnectError):
                        raise XlingError(f"cannot connect to {self.base_url} (is the server running?); "
                                         "finished outputs are cached, run again to resume") from None
                    raise XlingError(f"server at {self.base_url} kept failing ({self._redact(str(exc)) or type(exc).__name__}) "
                                     f"after {self.max_retries} retries; run again to resume") from None
                wait = getattr(exc, "retry_after", None) or delay
                time.sleep(wait)
                delay = min(delay * 2, 60)
        raise AssertionError("unreachable")

    # -- generation --------------------------------------------------------------------------------
    def _payload(self, request: GenerationRequest, decoding: Decoding) -> tuple[str, dict]:
        payload = {"model": self.model_name, "max_tokens": request.max_new_tokens,
                   "temperature": decoding.temperature if decoding.do_sample else 0.0,
                   "stream": False}
        if decoding.do_sample:
            payload.update(top_p=decoding.top_p, seed=decoding.seed)
        if request.stop_at_newline:
            payload["stop"] = ["\n"]
        if request.prompt.is_chat:
            payload["messages"] = [{"role": r, "content": c} for r, c in request.prompt.messages]
            return "/chat/completions", payload
        payload["prompt"] = request.prompt.text
        return "/completions", payload

    def _one(self, request: GenerationRequest, decoding: Decoding) -> str:
        path, payload = self._payload(request, decoding)
        body = self._post(path, payload)
        choice = (body.get("choices") or [{}])[0]
        text = choice.get("message", {}).get("content") if "message" in choice else choice.get("text")
        text = text or ""
        if request.stop_at_newline:
            text = text.split("\n")[0] if not text.startswith("\n") else ""
        return text

    def generate(self, requests: list[GenerationRequest], decoding: Decoding, batch_size: int = 8,
                 on_batch=None) -> list[str]:
        outputs: list[str | None] = [None] * len(requests)
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = {pool.submit(self._one, r, decoding): i for i, r in enumerate(requests)}
            try:
                for future in as_completed(futures):
                    index = futures[future]
                    outputs[index] = future.result()
                    if on_batch is not None:
                        on_batch([index], [outputs[index]])
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
        return outputs

    def loglikelihood(self, requests, batch_size: int = 8, on_item=None) -> list[list[float]]:
        """Needs prompt log-probabilities (`echo` + `logprobs` on /completions, as vLLM serves)."""
        results = []
        for index, (context, continuations) in enumerate(requests):
            scores = []
            for cont in continuations:
                try:
                    body = self._post("/completions", {"model": self.model_name, "prompt": context + cont,
                                                       "max_tokens": 0, "echo": True, "logprobs": 1,
                                                       "temperature": 0.0})
                except XlingError as exc:
                    if "refused" not in str(exc):
                        raise
                    raise XlingError(f"the server at {self.base_url} does not score prompts (no "
                                     "/completions with echo and logprobs); use --mode gen with it") from None
                logprobs = (body.get("choices") or [{}])[0].get("logprobs") or {}
                offsets, values = logprobs.get("text_offset"), logprobs.get("token_logprobs")
                if not offsets or values is None:
                    raise XlingError(f"the server at {self.base_url} does not return prompt "
                                     "log-probabilities; use --mode gen with it")
                scores.append(sum(v for o, v in zip(offsets, values) if o >= len(context) and v is not None))
            results.append(scores)
            if on_item is not None:
                on_item(index, scores)
        return results


def _parse_body(text: str) -> dict:
    """A JSON body, or server-sent events (some servers stream even when asked not to)."""
    stripped = text.lstrip()
    if not stripped.startswith("data:"):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise XlingError(f"the server answered something that is not JSON: {text[:120]!r}") from exc
    content, choice = [], {}
    for line in stripped.splitlines():
        line = line.strip()
        if not line.startswith("data:") or line == "data: [DONE]":
            continue
        event = json.loads(line[5:])
        for c in event.get("choices", []):
            delta = c.get("delta") or c.get("message") or {}
            if delta.get("content"):
                content.append(delta["content"])
            if c.get("text"):
                content.append(c["text"])
            choice = c
    return {"choices": [{"message": {"content": "".join(content)}, "finish_reason": choice.get("finish_reason")}]}
