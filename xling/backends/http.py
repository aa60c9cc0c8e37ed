"""OpenAI-compatible HTTP backend: vLLM, TGI, SGLang, `transformers serve`, API models.

Scale comes from the serving engine (tensor/pipeline parallel in vLLM, across GPUs and nodes);
this client keeps many requests in flight (bounded), retries 429/5xx and timeouts with
exponential backoff (honouring Retry-After), preserves order, and shares xling's content cache
(keyed by base URL and served model name). The API key comes from an environment variable or a
file, is sent only to the configured base URL, and never appears in records or messages.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import queue
import re
import sys
import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

from ..errors import XlingError
from ..secrets import escaped_forms, redact, redact_url, scrub_known, url_secrets
from ..settings import setting
from .base import Backend, CutAnswer, Decoding, GenerationRequest, Prompt, ended_answer, was_cut
from .registry import register_backend


@dataclass(kw_only=True)
class HTTPSettings:
    """The options of --backend http. Transport settings (output=False) change no output: a
    run folder resumes with other values of them."""
    base_url: str | None = setting(None, "Server URL for --backend http, e.g. http://127.0.0.1:8000/v1.")
    api_key_env: str | None = setting(None, "Environment variable holding the API key (default: "
                                            "XLING_API_KEY, then OPENAI_API_KEY).", output=False)
    api_key_file: str | None = setting(None, "File holding the API key.", output=False, path=True)
    concurrency: int = setting(8, "Requests in flight (http).", output=False)
    request_timeout: float = setting(120.0, "Seconds per request (http).", output=False)
    max_retries: int = setting(5, "Retries of a failed request, with exponential backoff (http).",
                               output=False)
    tokenizer: str | None = setting(None, "The served model's tokenizer (a folder or hub name) for token "
                                          "counts, answer budgets and the chat template (http; default: "
                                          "--model when it is a folder, else about 3 bytes a token).")


# The settings a judge server takes too (the judge's other settings are its own).
TRANSPORT = ("concurrency", "request_timeout", "max_retries")


@register_backend("http", settings=HTTPSettings,
                  help="an OpenAI-compatible server (vLLM, TGI, SGLang, transformers serve, API models)")
def load(model: str | None, settings: HTTPSettings, *, quiet: bool = False, batching=None,
         static_cache: bool = False) -> "HTTPBackend":
    if not settings.base_url or not model:
        raise XlingError("--backend http needs --base-url and --model (the served model name)")
    return HTTPBackend(model, settings.base_url, api_key=read_api_key(settings.api_key_env, settings.api_key_file),
                       concurrency=settings.concurrency, timeout=settings.request_timeout,
                       max_retries=settings.max_retries, tokenizer=settings.tokenizer)


RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
# The OpenAI API refuses a request with more stop strings (HTTP 400); vLLM takes more.
MAX_STOPS = 4


def _overlaps(sent: str, unsent: str) -> bool:
    """Whether `sent` may match in a text where `unsent` starts before it and is not yet complete:
    inside `unsent` other than at its start ("Note:" in "Translator's Note:"), or begun by one of
    its proper suffixes. The server would stop there, before `unsent` is whole, where the cut here
    with every stop would have been at the start of `unsent`; a prefix of `unsent` stops at its
    start, as `unsent` would."""
    return not unsent.startswith(sent) and any(unsent[k:].startswith(sent) or sent.startswith(unsent[k:])
                                               for k in range(1, len(unsent)))


def _sent_stops(stops: list[str]) -> list[str]:
    return list(_chosen_stops(tuple(stops)))


@functools.lru_cache(maxsize=64)
def _chosen_stops(stops: tuple[str, ...]) -> tuple[str, ...]:
    """The stops sent to a server that takes at most MAX_STOPS (in their order), chosen so that the
    answer is the one every stop would give: none that overlaps an unsent one (_overlaps), the
    shortest preferred (a prefix of an unsent stop stops at the same place); fewer, or none, when
    no such set of MAX_STOPS exists (the cut here then does it all)."""
    from itertools import combinations

    by_length = sorted(stops, key=len)
    for size in range(min(MAX_STOPS, len(stops)), 0, -1):
        for chosen in combinations(by_length, size):
            if not any(_overlaps(sent, unsent) for sent in chosen for unsent in stops if unsent not in chosen):
                return tuple(stop for stop in stops if stop in chosen)
    return ()


def read_api_key(env: str | None = None, path: str | None = None) -> str | None:
    """The key from its file or variable, without surrounding whitespace (a Windows .env's
    trailing CR was sent, refused, and retried for half a minute)."""
    if path:
        # a path is shown; what may be the key itself, given here by mistake, is not
        text = str(path)
        looks_like_a_path = redact(text) == text and (Path(text).suffix or text.startswith(("/", "~", ".")))
        shown = f"the API key file {text}" if looks_like_a_path else \
            "the API key file (its name not shown: it may be the key itself)"
        try:   # (utf-8-sig: Notepad's and PowerShell's byte order mark is no part of the key)
            return _checked_key(Path(path).expanduser().read_text(encoding="utf-8-sig"), shown)
        except (OSError, UnicodeDecodeError) as exc:
            raise XlingError(f"cannot read {shown}: "
                             f"{getattr(exc, 'strerror', None) or 'not UTF-8 text'}") from None
    if env and env not in os.environ and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", env):
        # the key itself, given by mistake: never echoed
        raise XlingError("--api-key-env / --judge-api-key-env take the NAME of an environment variable "
                         "holding the key" + (" (without its $)" if env.startswith("$") else
                                              " (letters, digits, _), not the key itself"))
    if env:   # a variable named by the user: unset or empty is their mistake, not "no key"
        if not os.environ.get(env, "").strip():
            # a name is shown; what may be the key itself (hf_AbC... is name-shaped) is not
            named = redact(env) == env and (env.isupper() or "_" in env) and not key_like(env)
            shown = f"${env}" if named else "(its name not shown: it may be the key itself)"
            raise XlingError(f"the API key variable {shown} is {'empty' if env in os.environ else 'not set'} "
                             "(named by --api-key-env / --judge-api-key-env)")
        return _checked_key(os.environ[env], f"${env}")
    for name in ["XLING_API_KEY", "OPENAI_API_KEY"]:
        if os.environ.get(name):
            return _checked_key(os.environ[name], f"${name}")
    return None


def key_like(name: str) -> bool:
    """A name that may be a generated key itself: long, letters and digits, no word separator."""
    return len(name) >= 16 and "_" not in name and not name.isupper() and any(c.isdigit() for c in name) \
        and any(c.isalpha() for c in name)


def _checked_key(key: str, where: str) -> str | None:
    """A key an HTTP header can carry (printable ASCII), never echoed."""
    key = key.strip()
    if key and not (key.isascii() and key.isprintable()):
        raise XlingError(f"{where} holds characters an HTTP header cannot carry (not printable ASCII): "
                         "check the key")
    return key or None


def _load_tokenizer(name: str):
    """A tokenizer from a folder or the hub (offline: its local cache), or one error line."""
    from transformers import AutoTokenizer

    from ..data import hub

    folder = Path(name).expanduser()
    if not folder.exists():
        hub.check_name(name, "tokenizer")
        if not hub.reachable() and not hub.cached(name):
            raise hub.error_for(name, what="tokenizer")
    try:
        return AutoTokenizer.from_pretrained(str(folder) if folder.exists() else name,
                                             **hub.load_options(name))
    except (OSError, ValueError) as exc:
        raise XlingError(f"cannot load the tokenizer {name!r}: {' '.join(str(exc).split())[:200]}") from None


ENDPOINTS = ("/chat/completions", "/completions")


def api_path(path: str) -> str:
    """The path the API's endpoints go after: the URL's own (the OpenAI SDK's rule: Gemini's
    /v1beta/openai, a gateway's /proxy/v1), /v1 where it has none (a bare vLLM, TGI or SGLang
    address), without an endpoint pasted on its end (.../v1/chat/completions)."""
    path = path.rstrip("/")
    for endpoint in ENDPOINTS:
        if path.endswith(endpoint):
            path = path[:-len(endpoint)].rstrip("/")
            break
    return path or "/v1"


def same_server(old: str, new: str) -> bool:
    """Whether two --base-url values (as run folders store them) reach the same API root:
    http://h:8000, http://h:8000/v1 and http://h:8000/v1/ do."""
    x, y = urlsplit(old), urlsplit(new)
    return (x.scheme, x.netloc.lower(), api_path(x.path), x.query) == \
        (y.scheme, y.netloc.lower(), api_path(y.path), y.query)


class _Watchdog:
    """Calls each armed function at its deadline, from one daemon thread for the whole process
    (a `threading.Timer` per request started and joined a thread for every answer read). A
    function disarmed before its deadline is never called; functions run on the watchdog's
    thread, so they must be short (shutting a socket)."""

    def __init__(self):
        import heapq

        self._heapq = heapq
        self._reset()
        if hasattr(os, "register_at_fork"):
            # a forked child has no watchdog thread, and must never shut its parent's sockets
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._wake = threading.Condition()
        self._heap: list[tuple[float, int, list]] = []   # (deadline, order, [function or None])
        self._order = 0
        self._dropped = 0              # disarmed entries still in the heap
        self._pid: int | None = None   # the process whose thread runs (a forked child starts its own)

    def arm(self, deadline: float, function) -> list:
        """Call `function()` at `deadline` (time.monotonic()); the returned handle disarms it."""
        entry = [function]
        with self._wake:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="xling-http-deadlines", daemon=True).start()
            self._order += 1
            self._heapq.heappush(self._heap, (deadline, self._order, entry))
            self._wake.notify()
        return entry

    def disarm(self, entry: list) -> None:
        with self._wake:
            if entry[0] is not None:
                entry[0] = None
                self._dropped += 1
                if self._dropped > 64 and self._dropped * 2 > len(self._heap):   # (long timeouts: keep it small)
                    self._heap = [e for e in self._heap if e[2][0] is not None]
                    self._heapq.heapify(self._heap)
                    self._dropped = 0

    def _run(self) -> None:
        import time

        while True:
            with self._wake:
                while True:
                    while self._heap and self._heap[0][2][0] is None:
                        self._heapq.heappop(self._heap)
                        self._dropped -= 1
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        entry = self._heapq.heappop(self._heap)[2]
                        function, entry[0] = entry[0], None   # (a late disarm finds it gone)
                        break
                    self._wake.wait(self._heap[0][0] - now if self._heap else None)
            try:
                function()
            except Exception:   # (never the thread's end: later deadlines still come)
                pass


_WATCHDOG = _Watchdog()


class HTTPError(Exception):
    def __init__(self, status: int | None, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


class PartlyDone(Exception):
    """A computation that failed after some of its paid-for work (a source's first candidates):
    `done` is delivered before `cause` is raised, so a resume does not ask for it again."""

    def __init__(self, done, cause: BaseException):
        super().__init__(str(cause))
        self.done, self.cause = done, cause


class MalformedAnswer(Exception):
    """An answer of the wrong shape: retried like a 5xx, then reported with what came back."""

    def __init__(self, reason: str, body: str = "", tail: bool = False):
        super().__init__(reason)
        self.body, self.tail = body, tail   # tail: the body's end says most (a stream cut off)


class _ScrubSecrets(logging.Filter):
    """Redacts the secrets of every HTTP backend of this process from the records of httpx's
    logger (a notebook with logging.basicConfig(level=INFO) printed ?api_key=... with each
    request)."""

    def __init__(self):
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message, tuple(self.secrets))
        if clean != message:
            record.msg, record.args = clean, None
        return True


_LOG_SCRUB = _ScrubSecrets()


def _scrub_logs(secrets) -> None:
    _LOG_SCRUB.secrets.update(s for s in secrets if s)
    for name in ("httpx", "httpcore"):
        if _LOG_SCRUB not in logging.getLogger(name).filters:
            logging.getLogger(name).addFilter(_LOG_SCRUB)


class HTTPBackend(Backend):
    is_seq2seq = False
    context_window = None   # the server's limit is not known here; it says so when passed
    splits_tokens = False   # log-likelihoods come from the server's offsets, not loglik.split_tokens

    def stats(self) -> dict:
        return {}               # the server batches; nothing to report here

    def with_batching(self, batching) -> "HTTPBackend":
        return self             # the server batches; `concurrency` is the setting that applies here

    @staticmethod
    def note_unused(batching) -> None:
        """Say on stderr that batch settings asked for (anything but the defaults) do not apply."""
        from .batching import Batching

        if batching != Batching():
            print("xling: note: --batch-size, --max-batch-tokens and --refill do not apply to "
                  "--backend http: the server batches (--concurrency sets the requests in flight)",
                  file=sys.stderr)

    def __init__(self, model: str, base_url: str, *, api_key: str | None = None,
                 concurrency: int = 8, timeout: float = 120.0, max_retries: int = 5,
                 backoff: float = 1.0, tokenizer: str | None = None, chat: bool | None = None):
        import httpx

        scheme, sep, rest = base_url.partition("://")
        if sep and scheme.lower() in ("http", "https"):   # (HTTP:// is http://: RFC 3986 schemes ignore case)
            base_url = f"{scheme.lower()}://{rest}"
        if not base_url.startswith(("http://", "https://")):
            raise XlingError(f"--base-url must start with http:// or https://, not "
                             f"{redact_url(base_url)!r}")
        api_key = _checked_key(api_key, "the API key") if api_key else None
        import math

        if concurrency < 1 or not math.isfinite(timeout) or timeout <= 0 or max_retries < 0:
            raise XlingError("concurrency must be at least 1, the request timeout a finite number "
                             "above 0 and max retries 0 or more")
        # The API's paths go after the URL's own path (/v1 where it has none) and before a query
        # string (a gateway's ?api_key=...), which travels as parameters of every request.
        parts = urlsplit(base_url)
        path = api_path(parts.path)
        if path != parts.path.rstrip("/") and parts.path.rstrip("/").endswith(ENDPOINTS):
            print(f"xling: note: --base-url is the API's root, not an endpoint: requests go to "
                  f"{redact_url(urlunsplit((parts.scheme, parts.netloc, path, '', '')))}/...", file=sys.stderr)
        self.model_name = model
        # credentials in the URL travel as Basic auth, never inside the URL httpx logs
        host = parts.netloc.rpartition("@")[2]
        auth = (unquote(parts.username or ""), unquote(parts.password or "")) \
            if parts.username or parts.password else None    # ("http://@host": none, the key goes)
        self.base_url = urlunsplit((parts.scheme, host, path, "", ""))
        params: list[tuple[str, Any]] = parse_qsl(parts.query, keep_blank_values=True)
        login, at, address = parts.netloc.rpartition("@")   # a host's case is no part of it (nor of the cache's key)
        self.display_url = redact_url(urlunsplit((parts.scheme, login + at + address.lower(), path, parts.query, "")))
        # Never shown in messages; the key and the URL's password and query values are also
        # scrubbed from answers (a server may echo them back).
        # Nothing under 4 characters is scrubbed from text (a password "e" garbled every message:
        # "m***ssag***"); the URL itself is always shown without its credentials.
        # a user name beside a password is a login, not a secret, unless it is long enough to be
        # a key (https://KEY:x@host); alone (https://TOKEN@host) it is the credential
        user = parts.username if parts.username and (not parts.password or len(parts.username) >= 16) else None
        keys = [form for s in (api_key, user) if s for form in (*escaped_forms(s), quote(s, safe=""))]
        self._answer_secrets = tuple(sorted({s for s in (*keys, *url_secrets(base_url, answers=True))
                                             if s and len(s) >= 4}, key=len, reverse=True))
        # messages hide every query value, and each secret also as a JSON error body escapes it
        shown = {form for s in (api_key, *url_secrets(base_url), user) if s and len(s) >= 4
                 for form in escaped_forms(s)}
        self._secrets = tuple(sorted(shown, key=len, reverse=True))
        if api_key and auth:   # httpx's Basic auth replaces the Authorization header the key is in
            print("xling: note: the URL's user:password goes to the server as Basic auth; the API key "
                  "is not sent (one Authorization header holds one of them)", file=sys.stderr)
        self.concurrency, self.max_retries, self.backoff = concurrency, max_retries, backoff
        self.timeout = timeout
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # No redirects: the key must never travel to another address.
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout,
                                    params=params, follow_redirects=False, auth=auth)
        _scrub_logs(self._secrets)   # httpx logs each request's URL (query values included) at INFO
        # Each _in_flight call has its own cancel event, which its worker threads see through
        # _local (one backend may serve several threads' calls at once); close() sets them all.
        self._closed = threading.Event()
        self._calls: set[threading.Event] = set()
        self._local = threading.local()
        self._answered = False    # whether the server has answered once (see _post)
        self._connect_error = ""  # the model-list probe's last connection error (see _final_error)
        self._kind_guessed = self._kind_guessed_said = False   # "other" for want of an answer (see _not_ready)
        self._server_kind: str | None = None   # "vllm", "transformers" or "other": found out on the first request
        self._probe_lock = threading.Lock()
        self._filter_said = False   # a content filter's cut answers are said once
        self._retry_said = False   # and the first retry
        self.fingerprint = {"backend": "http", "model": model, "base_url": self.display_url,
                            "revision": "served"}
        # candidates are seeded by their prompt too since version 2, and a `transformers serve`
        # server samples them since version 3 (it drew greedy copies): older cached ones are redrawn
        self.candidate_seeding = 3
        self._tokenizer = _load_tokenizer(tokenizer) if tokenizer else \
            _load_tokenizer(model) if Path(model).is_dir() else None
        self.counts_tokens_exactly = self._tokenizer is not None   # (else ~3 bytes a token)
        # Chat endpoint unless told otherwise; a local tokenizer tells whether a chat template exists.
        self.has_chat_template = chat if chat is not None else (
            bool(getattr(self._tokenizer, "chat_template", None)) if self._tokenizer else True)

    def close(self) -> None:
        """Close the connections (a Translator that opened this backend does, as it closes)."""
        self._closed.set()
        for cancel in list(self._calls):
            cancel.set()
        self._client.close()

    # -- helpers ---------------------------------------------------------------------------------
    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def render(self, prompt: Prompt) -> str:
        """What the server receives (the key of the cache): the text, or the messages as JSON —
        the server applies its own chat template."""
        if prompt.messages is not None:
            return json.dumps([list(m) for m in prompt.messages], ensure_ascii=False)
        return prompt.text or ""

    def count_tokens(self, text: str) -> int:
        if self._tokenizer is not None:
            return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])
        return max(1, len(text.encode("utf-8")) // 3)   # rough: ~3 bytes per token

    def _read(self, path: str, payload: dict, max_bytes: int) -> tuple[int, Any, str]:
        """POST and read at most `max_bytes` of the answer (a runaway answer is cut off there),
        within one deadline for the whole request: httpx's timeouts are per read, so a server
        that trickles a byte every few seconds would otherwise hold the request forever, and one
        read begun just before the deadline could last another whole timeout: the connection is
        shut when the deadline comes."""
        import socket
        import time

        import httpx

        deadline = time.monotonic() + self.timeout
        late = httpx.ReadTimeout(f"no complete answer within the request timeout ({self.timeout:g} s)")
        with self._client.stream("POST", path, json=payload) as response:
            expired = threading.Event()

            def expire():
                expired.set()
                stream = response.extensions.get("network_stream")
                sock = stream.get_extra_info("socket") if stream is not None else None
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)   # (wakes the blocked read: the connection is not reused)
                    except OSError:
                        pass

            watchdog = _WATCHDOG.arm(deadline, expire)
            chunks, size = [], 0
            try:
                for chunk in response.iter_bytes():
                    if time.monotonic() > deadline:
                        raise late
                    size += len(chunk)
                    if size > max_bytes:
                        raise MalformedAnswer(f"an answer larger than {max_bytes:,} bytes, more than "
                                              f"max_tokens={payload.get('max_tokens')} can produce")
                    chunks.append(chunk)
            except httpx.TransportError:
                if expired.is_set():   # the deadline shut the connection
                    raise late from None
                raise
            finally:
                _WATCHDOG.disarm(watchdog)
            data, charset = b"".join(chunks), response.charset_encoding
            if not 200 <= response.status_code < 300:   # an error's words, however encoded
                return response.status_code, response.headers, data.decode("utf-8", "replace")
            # never U+FFFD in a stored translation: UTF-8 (whatever a server declares: JSON is
            # UTF-8, and many say iso-8859-1 by default), else the declared charset, else malformed
            # (a declared UTF-16 or UTF-32 first where NULs show it: their ASCII is valid UTF-8 too)
            declared = charset or "utf-8"
            wide = declared.lower().replace("_", "-").startswith(("utf-16", "utf-32")) and b"\x00" in data
            for encoding in dict.fromkeys((declared, "utf-8") if wide else ("utf-8", declared)):
                try:
                    return response.status_code, response.headers, data.decode(encoding)
                except (LookupError, UnicodeDecodeError):
                    continue
            raise MalformedAnswer(f"an answer that is not UTF-8{f' or {charset}' if charset else ''} text",
                                  data.decode("utf-8", "replace"))

    def _post(self, path: str, payload: dict, extract, max_bytes: int, decoding: Decoding | None = None):
        """POST with retries; `extract(body)` checks the answer's shape and returns its value
        (raising MalformedAnswer for a wrong shape, which is retried like a 5xx). A generation
        request (`decoding` given) gets the server's neutral sampling fields at each attempt, and
        is not sent before the server says what it is (a request built while it was down, or
        answering 503, went out without them and its answer was cached as a neutral one)."""
        import httpx

        if self._closed.is_set():
            raise XlingError("this HTTP backend was closed (with the Translator that opened it): open a new one")
        cancel = getattr(self._local, "cancel", None) or self._closed
        delay = self.backoff
        for attempt in range(self.max_retries + 1):
            if cancel.is_set():
                raise KeyboardInterrupt
            try:
                sent = payload
                if decoding is not None:
                    # a request's last try settles a server whose /models never says what it is
                    sent = {**payload, **self._neutral_defaults(decoding, last=attempt == self.max_retries)}
                    if self._server_kind is None and self._answered:   # answered the probe 503, say
                        raise HTTPError(None, "the server is not ready (GET /models)")
                    if self._server_kind is None:
                        raise httpx.ConnectError("the server did not answer (GET /models)")
                status, headers, text = self._read(path, sent, max_bytes)
                if status in RETRY_STATUS:
                    if decoding is not None and self._kind_guessed:   # not ready after all: ask again
                        with self._probe_lock:
                            self._server_kind, self._kind_guessed = None, False
                    detail = self._redact(" ".join(text.split()))[:300]   # "exceeded your quota" never clears
                    raise HTTPError(status, f"HTTP {status}{' ' if detail else ''}{detail}",
                                    _retry_after(headers.get("retry-after")))
                if 300 <= status < 400:
                    raise XlingError(f"the server at {self.display_url} answered {path} with a redirect "
                                     f"(HTTP {status}); xling does not follow redirects, so the key "
                                     "never travels elsewhere: use the final address as --base-url")
                if status >= 400 or status < 200:
                    detail = self._redact(" ".join(text.split()))[:300]
                    raise XlingError(f"server at {self.display_url} refused {path}: HTTP {status} {detail}")
                self._answered = True
                body = _parse_body(text)
                value = extract(body)
                if not self._filter_said and _filtered(body):
                    self._filter_said = True
                    print(f"xling: note: {self.display_url}'s content filter stopped an answer part-way "
                          "(finish_reason content_filter): such answers are counted as cut short, never as "
                          "whole ones", file=sys.stderr)
                return value
            except (HTTPError, MalformedAnswer, httpx.TimeoutException, httpx.TransportError,
                    httpx.DecodingError) as exc:   # DecodingError: e.g. a gzip header on a plain body
                # A refused connection before any answer means no server: retry briefly, not for
                # minutes; once the server has answered, it is restarting: retry as asked.
                limit = min(self.max_retries, 2) if isinstance(exc, httpx.ConnectError) and not self._answered \
                    else self.max_retries
                if attempt >= limit:
                    raise self._final_error(path, exc) from None
                # Retry-After is obeyed, never an unbounded sleep: up to what the retries left may
                # wait, a request's timeout each (an hour asked for was slept away 120 s at a time in
                # silence, then retried too early anyway: said at once)
                asked = getattr(exc, "retry_after", None)
                reason = (self._redact(str(exc)) or type(exc).__name__)[:200]
                budget = self.timeout * (limit - attempt)
                if asked is not None and asked > budget:
                    raise XlingError(f"server at {self.display_url} asks to wait {asked:,.0f} s before trying again "
                                     f"({reason}), longer than the retries left may wait ({budget:,.0f} s: "
                                     "--max-retries x --request-timeout); run again later to resume") from None
                wait = delay if asked is None else asked
                if not self._retry_said and (self._answered or not isinstance(exc, httpx.ConnectError)):
                    self._retry_said = True   # (once: a busy server fails many requests at a time)
                    print(f"xling: note: {self.display_url} failed a request ({reason}); retrying in {wait:,.3g} s, "
                          f"at most {limit} times per request", file=sys.stderr)
                if cancel.wait(wait):
                    raise KeyboardInterrupt from None
                delay = min(delay * 2, 60)

    def _final_error(self, path: str, exc: Exception) -> XlingError:
        import httpx

        if isinstance(exc, httpx.ConnectError):
            seen = f"{exc} {self._connect_error}"   # (the model-list probe's own error, if it failed first)
            tls = "SSL" in seen or "TLS" in seen   # https:// to a plain-HTTP server, or a refused certificate
            why = ("a TLS handshake failed: is the server plain http://, or is its certificate refused? "
                   f"({self._redact(self._connect_error or str(exc))[:160]})") if tls else "is the server running?"
            return XlingError(f"cannot connect to {self.display_url} ({why}); "
                              "finished outputs are cached, run again to resume")
        if isinstance(exc, MalformedAnswer):
            # (cut after redaction: a cut may never leave a piece of a key behind)
            redacted = self._redact(" ".join(exc.body.split()))
            quoted = redacted[-200:] if exc.tail else redacted[:200]
            return XlingError(f"the server at {self.display_url} gave malformed answers to {path} "
                              f"({exc}) after {self.max_retries} retries; last answer: {quoted!r}")
        reason = self._redact(str(exc)) or type(exc).__name__
        return XlingError(f"server at {self.display_url} kept failing ({reason}) after "
                          f"{self.max_retries} retries; run again to resume")

    # -- generation --------------------------------------------------------------------------------
    def _payload(self, request: GenerationRequest, decoding: Decoding) -> tuple[str, dict]:
        payload = {"model": self.model_name, "max_tokens": request.max_new_tokens,
                   "temperature": decoding.temperature if decoding.do_sample else 0.0,
                   "stream": False}
        if decoding.do_sample:
            payload.update(top_p=decoding.top_p, seed=decoding.seed)
        # (the neutral sampling fields are added by _post, at each attempt)
        stops = (["\n"] if request.stop_at_newline else []) + list(request.stop)
        if len(stops) > MAX_STOPS:   # at most 4 are sent (_sent_stops); _finish cuts at every one
            stops = _sent_stops(list(dict.fromkeys(stops)))
        if stops:
            payload["stop"] = stops
        if request.prompt.messages is not None:
            payload["messages"] = [{"role": r, "content": c} for r, c in request.prompt.messages]
            return "/chat/completions", payload
        payload["prompt"] = request.prompt.text
        return "/completions", payload

    def _neutral_defaults(self, decoding: Decoding, last: bool = False) -> dict:
        """Sampling fields a server would otherwise fill from the model's generation_config,
        which changes greedy outputs and makes sampled candidates alike. vLLM's server does
        (`--generation-config auto`, its default: a request that leaves repetition_penalty,
        top_k, top_p or min_p unset gets the checkpoint's, Qwen2.5's repetition_penalty 1.05 and
        top_k 20, say); `transformers serve` starts each request from the checkpoint's settings,
        and samples only where they say do_sample, whatever the temperature. Sent only to those
        servers (found out by one probe): the OpenAI API refuses fields it does not know."""
        with self._probe_lock:   # one probe, whichever thread asks first
            if self._server_kind is None:
                self._server_kind = self._probe_server(settle=last)
        if self._server_kind == "vllm":
            # top_k -1 ("off"): what every vLLM version takes (before 0.8.5, 0 was refused)
            return {"repetition_penalty": 1.0, "top_k": -1, "min_p": 0.0}
        if self._server_kind == "transformers":   # as the HF backend decodes (hfmodel.NEUTRAL_GENERATION)
            return {"generation_config": json.dumps({
                # (as "off" values: the server drops fields sent as null, and the checkpoint's stay)
                "do_sample": decoding.do_sample, "top_k": 0, "repetition_penalty": 1.0,
                "no_repeat_ngram_size": 0, "min_p": 0.0, "typical_p": 1.0, "num_beams": 1})}
        return {}

    def _probe_server(self, settle: bool = False) -> str | None:
        """"vllm" (its /models says owned_by "vllm"), "transformers" (`transformers serve`: its
        FastAPI schema has /load_model) or "other"; None (ask again next time) when the server
        did not answer, or answered not ready (503, 429, a timeout, a dropped connection) and
        `settle` is not asked for (a request's last try): then "other", provisionally."""
        import httpx

        class NotReady(Exception):
            pass

        def get(url, outside: bool = False):
            request = self._client.build_request("GET", url, timeout=min(self.timeout, 10.0))
            if outside:   # the host's root, outside --base-url: no key, no query, no user (README)
                request.headers.pop("Authorization", None)
                request.url = httpx.URL(scheme=request.url.scheme, host=request.url.host,
                                        port=request.url.port, path=request.url.path)
            answer = self._client.send(request, auth=None if outside else httpx.USE_CLIENT_DEFAULT)
            if answer.status_code in RETRY_STATUS:   # up but not ready (a proxy's 503): not "other"
                raise NotReady
            try:
                return answer.json() if answer.status_code == 200 else None
            except ValueError:
                return None

        try:
            listed = get("/models")
        except httpx.ConnectError as exc:
            self._connect_error = str(exc)   # (a TLS handshake's failure is said in the final error)
            return None    # not up yet: the request itself will retry, and probe again
        except (NotReady, httpx.HTTPError):   # up, but not saying (503, a timeout, a dropped connection)
            self._connect_error = ""
            return self._not_ready(settle)
        self._connect_error = ""   # (reached: an older failure is no reason for a later one)
        models = listed.get("data") if isinstance(listed, dict) else None
        if isinstance(models, list) and any(isinstance(m, dict) and m.get("owned_by") == "vllm" for m in models):
            return "vllm"
        try:   # (the server is up: a schema that does not come is no transformers server's, asked once)
            schema = get(self._client.base_url.copy_with(path="/openapi.json"), outside=True)
        except (NotReady, httpx.TimeoutException):
            return self._not_ready(settle)
        except httpx.HTTPError:
            return "other"
        paths = schema.get("paths") if isinstance(schema, dict) else None
        return "transformers" if isinstance(paths, dict) and "/load_model" in paths else "other"

    def _not_ready(self, settle: bool) -> str | None:
        """A warming server gets a request's whole retry window (31 s by default); a gateway whose
        model list never answers still serves its completions, as a plain OpenAI server, until
        one of them is refused as not ready (then it is asked again)."""
        self._answered = True     # up: retried as a restarting server is
        if not settle:
            return None
        if not self._kind_guessed_said:
            print(f"xling: note: {self.display_url} did not say what server it is (GET /models failed on "
                  "every try of a request): it gets plain OpenAI requests, without vLLM's or transformers "
                  "serve's sampling fields", file=sys.stderr)
            self._kind_guessed_said = True
        self._kind_guessed = True
        return "other"

    def _one(self, request: GenerationRequest, decoding: Decoding) -> str:
        path, payload = self._payload(request, decoding)
        # Any token is at most a few dozen bytes of JSON: a longer answer is a runaway server.
        text = self._post(path, payload, partial(_answer_text, chat=request.prompt.is_chat),
                          max_bytes=(1 << 16) + 64 * request.max_new_tokens, decoding=decoding)
        return self._finish(text, request)

    def _finish(self, text: str, request: GenerationRequest) -> str:
        """An answer as it is stored: echoed secrets scrubbed, cut at the line end or a stop
        string (servers may return the stop string itself)."""
        # JSON may carry a lone surrogate ("\ud83d", half an emoji): no file or database takes it
        spent = was_cut(text)   # the server said the token budget (or its content filter) ended it
        reason = text.reason if isinstance(text, CutAnswer) else "length"
        text = _LONE_SURROGATE.sub("\ufffd", text)
        return ended_answer(scrub_known(text, self._answer_secrets), request, spent, reason)

    def _in_flight(self, count: int, compute, deliver) -> None:
        """compute(index) for every index, up to `concurrency` at a time on daemon threads (the
        server batches them); deliver(index, result) runs in the caller's thread as each one
        finishes. An interrupt returns at once (in-flight requests are abandoned, no retry
        starts); what was delivered stays delivered. A failed request starts no new one, and the
        answers already on their way (within one request timeout) are delivered before its error
        is raised: paid-for answers are cached, not asked again on resume."""
        todo: queue.SimpleQueue = queue.SimpleQueue()
        for index in range(count):
            todo.put(index)
        done: queue.SimpleQueue = queue.SimpleQueue()
        cancel = threading.Event()
        self._calls.add(cancel)
        failed = threading.Event()   # no new request after a failure
        running = [0]
        lock = threading.Lock()

        def work():
            self._local.cancel = cancel
            while not cancel.is_set() and not failed.is_set():
                with lock:
                    try:
                        index = todo.get_nowait()
                    except queue.Empty:
                        return
                    running[0] += 1
                try:
                    done.put((index, compute(index), None))
                except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                    done.put((index, None, exc))
                    return
                finally:
                    with lock:
                        running[0] -= 1

        for _ in range(min(self.concurrency, count)):
            threading.Thread(target=work, daemon=True).start()
        try:
            for _ in range(count):
                while True:
                    try:
                        index, result, error = done.get(timeout=0.2)
                        break
                    except queue.Empty:
                        continue
                if isinstance(error, PartlyDone):
                    deliver(index, error.done)
                    error = error.cause
                if error is not None:
                    if not isinstance(error, KeyboardInterrupt):
                        failed.set()
                        self._deliver_on_the_way(done, running, lock, deliver)
                    raise error
                deliver(index, result)
        finally:
            cancel.set()
            self._calls.discard(cancel)

    def _deliver_on_the_way(self, done: queue.SimpleQueue, running: list, lock, deliver) -> None:
        """After a failure: the answers of requests already sent, for up to one request timeout."""
        import time

        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                index, result, error = done.get(timeout=0.2)
            except queue.Empty:
                with lock:
                    if running[0] == 0 and done.empty():
                        return
                continue
            if error is None:
                deliver(index, result)
            elif isinstance(error, PartlyDone):
                deliver(index, error.done)

    def generate(self, requests: list[GenerationRequest], decoding: Decoding, on_batch=None) -> list[str]:
        """Every request with up to `concurrency` in flight (the server batches); finished
        outputs go to on_batch as they come."""
        outputs: list[str | None] = [None] * len(requests)

        def deliver(index, text):
            outputs[index] = text
            if on_batch is not None:
                on_batch([index], [text])

        self._in_flight(len(requests), lambda i: self._one(requests[i], decoding), deliver)
        return cast(list[str], outputs)   # every index delivered (or an error raised)

    @staticmethod
    def sampling_problem(sampling) -> str | None:  # a static method: asked before a model loads
        """Why a server cannot draw these candidates (None: it can); checked before a run starts."""
        if sampling.method != "sample":
            return ("beam-search candidates need a model loaded here (--backend hf); servers sample "
                    "them (--sampling sample)")
        if sampling.epsilon > 0:   # not an OpenAI API parameter: it would be dropped unsaid
            return ("epsilon sampling is not part of the OpenAI API that servers take; with --backend http "
                    "use --epsilon 0 (top-p and temperature apply)")
        return None

    def candidates(self, requests: list[GenerationRequest], sampling, wanted: list[list[int]],
                   on_item=None) -> list[dict[int, str]]:
        """Sampled candidates, one request each, seeded by the candidate's own index and its prompt
        (servers that honour `seed`, as vLLM does, give candidate k again whatever else is drawn:
        a run with a larger N reuses the first ones; `n` > 1 in one request would tie each
        candidate to its place in that request; the prompt's salt keeps sources from sharing
        draws, as the HF and vLLM backends do); sources run `concurrency` at a time. Beam search
        is not part of the OpenAI API."""
        problem = self.sampling_problem(sampling)
        if problem:
            raise XlingError(problem)
        results: list[dict[int, str]] = [{} for _ in requests]

        def compute(i):
            request, found = requests[i], {}
            salt = int(hashlib.sha256(self.render(request.prompt).encode()).hexdigest()[:12], 16)
            try:
                for k in sorted(wanted[i]):
                    decoding = Decoding(do_sample=True, temperature=sampling.temperature,
                                        top_p=sampling.top_p, seed=(sampling.row_seed(k) ^ salt) % (2 ** 31))
                    path, payload = self._payload(request, decoding)
                    (text,) = self._post(path, payload, partial(_all_answers, chat=request.prompt.is_chat, n=1),
                                         max_bytes=(1 << 16) + 64 * request.max_new_tokens, decoding=decoding)
                    found[k] = self._finish(text, request)
            except Exception as exc:
                if found:   # the candidates drawn before the failure are cached all the same
                    raise PartlyDone(found, exc) from None
                raise
            return found

        def deliver(i, found):
            results[i] = found
            if on_item is not None:
                on_item(i, found)

        self._in_flight(len(requests), compute, deliver)
        return results

    def loglikelihood(self, requests, on_item=None) -> list[list[float]]:
        """Needs prompt log-probabilities (`echo` + `logprobs` on /completions, as vLLM serves);
        items run `concurrency` at a time."""
        results: list[list[float] | None] = [None] * len(requests)

        def compute(index):
            context, continuations = requests[index]
            scores = []
            for cont in continuations:
                prompt = context + cont
                try:
                    score = self._post(
                        # one new token (servers refuse 0: transformers serve, older vLLM);
                        # it starts at len(prompt) and is not counted
                        "/completions", {"model": self.model_name, "prompt": prompt, "max_tokens": 1,
                                         "echo": True, "logprobs": 1, "temperature": 0.0},
                        partial(_continuation_logprob, where=self.display_url, start=len(context),
                                end=len(prompt)),
                        max_bytes=(1 << 16) + 2048 * len(prompt.encode("utf-8")))
                except XlingError as exc:
                    # a refusal may be a wrong key or model name, or a prompt too long: say the
                    # server's own words, and what to do if it cannot score prompts at all
                    if "refused" not in str(exc) or any(f"HTTP {code}" in str(exc) for code in (401, 403)):
                        raise
                    raise XlingError(f"{exc}; if the server cannot score prompts (no /completions with "
                                     "echo and logprobs), use --mode gen with it") from None
                scores.append(score)
            return scores

        def deliver(index, scores):
            results[index] = scores
            if on_item is not None:
                on_item(index, scores)

        self._in_flight(len(requests), compute, deliver)
        return cast(list[list[float]], results)   # every index delivered (or an error raised)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")   # json.loads joins pairs: any left is alone


def _retry_after(value: str | None) -> float | None:
    """Retry-After's seconds, given as a number or an HTTP date (RFC 9110); None for garbage."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        from datetime import datetime, timezone
        from email.utils import parsedate_to_datetime
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None   # garbage: use our own backoff
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    return seconds if seconds >= 0 and math.isfinite(seconds) else None


def _answer_text(body, chat: bool, one: bool = True) -> str:
    """The generated text of an OpenAI-compatible answer to a request of `one` answer (else of
    the first choice of several, from _all_answers), or MalformedAnswer."""
    raw = json.dumps(body, ensure_ascii=False)[:1000]
    choices = body.get("choices") if isinstance(body, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise MalformedAnswer("no 'choices' list of objects", raw)
    if one and (len(choices) > 1 or choices[0].get("index", 0) not in (0, None)):   # (n=1 asked: which one?)
        raise MalformedAnswer(f"{len(choices)} choices (index {choices[0].get('index')!r} first) for a "
                              "request of one", raw)
    choice = choices[0]
    if chat or "message" in choice:
        message = choice.get("message")
        content = _text_parts(message.get("content")) if isinstance(message, dict) else None
        if not isinstance(message, dict) or not isinstance(content, (str, type(None))) or "content" not in message:
            raise MalformedAnswer("no text in choices[0].message.content", raw)
        # null is a documented answer (a refusal, a tool call, a budget spent reasoning): the model
        # gave no text, so the output is empty, not a malformed answer retried until the run dies
        return _whole_characters(content or "", choice)
    if not isinstance(choice.get("text"), str):
        raise MalformedAnswer("no text in choices[0].text", raw)
    return _whole_characters(choice["text"], choice)


def _text_parts(content):
    """A message's content as text: a string, null, or a list of {"type": "text", "text": ...}
    parts (some gateways answer in the request's content-part form) joined; any other shape as is
    (refused by the caller)."""
    if isinstance(content, list) and content and all(
            isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str) for p in content):
        return "".join(p["text"] for p in content)
    return content


# finish_reason values that end an answer part-way but keep it (a content filter stops it like a
# token budget: the answer is marked cut, never scored or stored as a whole one)
CUT_REASONS = ("length", "content_filter")
# other servers' names for "length": Mistral's context window ("model_length"), Anthropic's
# OpenAI-compatible endpoint ("max_tokens"); an answer they end was taken as a whole one
LENGTH_REASONS = ("model_length", "max_tokens")


def _whole_characters(text: str, choice: dict) -> str:
    """An answer its token budget or a content filter ended (finish_reason "length",
    "content_filter") is a CutAnswer; if the budget ended inside a character's bytes (a server
    may decode the half character as U+FFFD), it ends before that character, as the local
    backends end it. vLLM's "abort" and "error" end a fragment (retried, never cached)."""
    reason = choice.get("finish_reason")
    if reason in ("abort", "error"):
        raise MalformedAnswer(f"finish_reason {reason!r} (the server stopped this answer part-way)",
                              json.dumps(choice, ensure_ascii=False)[:1000])
    if reason in LENGTH_REASONS:
        reason = "length"
    return CutAnswer(text.rstrip("\ufffd"), reason) if reason in CUT_REASONS else text


def _filtered(body) -> bool:
    choices = body.get("choices") if isinstance(body, dict) else None
    return isinstance(choices, list) and any(isinstance(c, dict) and c.get("finish_reason") == "content_filter"
                                             for c in choices)


def _all_answers(body, chat: bool, n: int) -> list[str]:
    """The n generated texts of an answer to a request with `n`, in choice order."""
    choices = body.get("choices") if isinstance(body, dict) else None
    if not isinstance(choices, list) or len(choices) != n:
        raise MalformedAnswer(f"expected {n} choices", json.dumps(body, ensure_ascii=False)[:1000])
    raw = json.dumps(body, ensure_ascii=False)[:1000]
    if not all(isinstance(c, dict) for c in choices):
        raise MalformedAnswer("choices that are not objects", raw)
    indices = [c.get("index") for c in choices]
    if all(i is None for i in indices):
        return [_answer_text({"choices": [c]}, chat, one=False) for c in choices]
    if sorted(i for i in indices if type(i) is int) != list(range(n)):
        raise MalformedAnswer(f"choice indices {indices[:8]} are not the whole numbers 0 to {n - 1}", raw)
    ordered = sorted(choices, key=lambda c: c["index"])
    return [_answer_text({"choices": [c]}, chat, one=False) for c in ordered]


def _prompt_logprobs(body, where: str) -> tuple[list, list]:
    raw = json.dumps(body, ensure_ascii=False)[:1000]
    choices = body.get("choices") if isinstance(body, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise MalformedAnswer("no 'choices' list of objects", raw)
    logprobs = choices[0].get("logprobs")
    offsets = logprobs.get("text_offset") if isinstance(logprobs, dict) else None
    values = logprobs.get("token_logprobs") if isinstance(logprobs, dict) else None
    if not isinstance(offsets, list) or not offsets or not isinstance(values, list):
        raise _scores_no_prompts(where)
    return _text_offsets(offsets, cast(dict, logprobs).get("tokens"), choices[0].get("text")), values


def _scores_no_prompts(where: str) -> XlingError:
    return XlingError(f"the server at {where} does not score prompts (its /completions answer "
                      "to echo and logprobs has no prompt log-probabilities); use --mode gen with it")


def _continuation_logprob(body, where: str, start: int, end: int) -> float:
    """The summed log-probability of the prompt's characters [start, end) (the continuation):
    every echoed token starting there must carry a number, and at least one must, or the answer
    is malformed (retried, then one error line), never a silent 0 for every option."""
    offsets, values = _prompt_logprobs(body, where)
    # a server that ignores echo answers with its generated text alone, shorter than the prompt it
    # was to echo (its offsets, counted in that text, say nothing: a server that echoes may leave
    # out the first prompt token); never retried, as no retry brings the prompt's scores
    choices = body.get("choices") if isinstance(body, dict) else None
    text = choices[0].get("text") if isinstance(choices, list) and choices and isinstance(choices[0], dict) else None
    if start > 0 and isinstance(text, str) and len(text) < end:
        raise _scores_no_prompts(where)
    raw = json.dumps(body, ensure_ascii=False)[:1000]
    if len(values) != len(offsets):
        raise MalformedAnswer(f"{len(offsets)} token offsets but {len(values)} log-probabilities", raw)
    # A token that starts inside the context and ends in the continuation (a tokenizer merging
    # across the boundary, " apples" after "I like") carries the continuation's first characters:
    # it is counted, not dropped (which would score that option as if it began later).
    ends = [*offsets[1:], None]
    inside = [v for o, after, v in zip(offsets, ends, values)
              if type(o) is int and (start <= o < end or (o < start and type(after) is int and after > start))]
    if not inside:
        raise MalformedAnswer(f"no echoed token covers the continuation (characters {start}-{end})", raw)
    if not all(type(v) in (int, float) and math.isfinite(v) and v <= 0 for v in inside):
        raise MalformedAnswer("a continuation token without a log-probability (a number at most 0)", raw)
    return float(sum(inside))


def _text_offsets(offsets: list, tokens, text) -> list:
    """Offsets into the echoed text. vLLM counts a leading special token's string ("<bos>")
    in `text_offset` although the echoed text leaves it out: every offset is then shifted by
    its length, which is found by the last token (the one generated, at the prompt's end)."""
    if not (isinstance(tokens, list) and isinstance(text, str) and len(tokens) == len(offsets) > 1
            and isinstance(tokens[0], str) and isinstance(tokens[-1], str)
            and all(isinstance(o, int) for o in offsets)):
        return offsets
    shift = offsets[-1] + len(tokens[-1]) - len(text)
    if shift > 0 and shift == len(tokens[0]) and not text.startswith(tokens[0]):
        return [max(0, o - shift) for o in offsets]
    return offsets


def _parse_body(text: str):
    """A JSON body, or server-sent events (some servers stream even when asked not to)."""
    stripped = text.lstrip()
    lines = [line.strip() for line in stripped.splitlines()]
    # a stream may open with a comment or an event: line (OpenRouter's ": keep-alive")
    if not any(line.startswith("data:") for line in lines) or stripped.startswith(("{", "[")):
        try:
            return json.loads(text)
        except RecursionError:
            raise MalformedAnswer("JSON nested too deeply", text[:200]) from None
        except ValueError:
            raise MalformedAnswer("not JSON", text[:1000]) from None
    # each choice's pieces and its first finish_reason (a later usage event's null is no end)
    content: dict = {}
    reasons: dict = {}
    done = False
    for line in lines:
        done = done or line.replace(" ", "") == "data:[DONE]"
        if not line.startswith("data:") or done:   # (comments ": keep-alive", event:, id:, retry: carry no data)
            continue
        try:
            event = json.loads(line[5:])
        except RecursionError:
            raise MalformedAnswer("JSON nested too deeply", line[:200]) from None
        except ValueError:
            raise MalformedAnswer("a broken server-sent event", line[:1000]) from None
        events = event.get("choices") if isinstance(event, dict) else None
        if not isinstance(events, list):
            raise MalformedAnswer("a server-sent event without 'choices'", line[:1000])
        for c in events:
            if not isinstance(c, dict):
                raise MalformedAnswer("a server-sent event with a malformed choice", line[:1000])
            index = c.get("index")
            index = 0 if index is None else index
            if not isinstance(index, (int, str)):
                raise MalformedAnswer(f"a server-sent event with choice index {index!r}", line[:1000])
            pieces = content.setdefault(index, [])
            delta = c.get("delta") or c.get("message") or {}
            piece = _text_parts(delta.get("content")) if isinstance(delta, dict) else None
            if isinstance(piece, str):
                pieces.append(piece)
            if isinstance(c.get("text"), str):
                pieces.append(c["text"])
            if c.get("finish_reason") and not reasons.get(index):
                reasons[index] = c["finish_reason"]
    if len(content) > 1 or content and 0 not in content:   # (n=1 asked: the choices are never glued into one)
        raise MalformedAnswer(f"{len(content)} streamed choices (index {sorted(map(str, content))}) for a "
                              "request of one", text[:1000])
    if not (done or reasons.get(0)):   # the connection closed mid-answer: a partial translation, never cached
        raise MalformedAnswer("a stream that stopped before its end (no finish_reason, no [DONE])", text, tail=True)
    return {"choices": [{"message": {"content": "".join(content.get(0, []))}, "finish_reason": reasons.get(0)}]}
