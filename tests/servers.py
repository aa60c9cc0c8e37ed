"""Real HTTP servers on loopback for the HTTP backend's tests and benchmark: `transformers serve`
with a local model, and a small fault-injecting proxy in front of it."""
from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing, reads bodies and sends JSON answers."""

    def log_message(self, *args):
        pass

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("content-length", 0)))

    def _reply(self, status: int, content: bytes, headers: dict) -> None:
        try:   # a client that hung up is not an error
            self.send_response(status)
            for k, v in {"content-type": "application/json", **headers}.items():
                self.send_header(k, v)
            self.send_header("content-length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
        except (BrokenPipeError, ConnectionResetError):
            pass


def server_log():
    """A file for a server's stderr: a pipe nobody reads fills up (64 KiB of request logs) and
    then blocks the server mid-test."""
    import tempfile
    return tempfile.TemporaryFile()


def read_log(log) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")


class TransformersServer:
    """`transformers serve` on 127.0.0.1 (offline: HF_HUB_OFFLINE=1)."""

    def __init__(self, timeout: float = 600):
        import shutil

        self.port = free_port()
        exe = shutil.which("transformers") or str(Path(sys.executable).parent / "transformers")
        self.log = server_log()
        self.process = subprocess.Popen(
            [exe, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=dict(os.environ, HF_HUB_OFFLINE="1"), stdout=subprocess.DEVNULL, stderr=self.log)
        self.url = f"http://127.0.0.1:{self.port}/v1"
        deadline = time.time() + timeout
        import httpx
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("transformers serve exited: " + read_log(self.log)[-2000:])
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise RuntimeError("transformers serve did not start")

    def warm(self, model: str) -> None:
        """Load `model` with one request: the server loads a model on its first request, and
        several first requests at once can stall it."""
        import httpx

        httpx.post(f"{self.url}/chat/completions", timeout=120, json={
            "model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2})

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


class VLLMServer:
    """vLLM's OpenAI-compatible server (`python -m vllm.entrypoints.openai.api_server`, the
    `vllm serve` of the CPU build) from the vLLM venv, on 127.0.0.1, serving `model` (a folder)
    under `name`, in float32 with `gpu_memory_utilization` of the RAM (see NOTES.md)."""

    def __init__(self, python, model, name: str, timeout: float = 1200):
        import httpx

        self.port = free_port()
        self.log = server_log()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.update(HF_HUB_OFFLINE="1", VLLM_LOGGING_LEVEL="WARNING")
        self.process = subprocess.Popen(
            [str(python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(model),
             "--served-model-name", name, "--host", "127.0.0.1", "--port", str(self.port),
             "--dtype", "float32", "--max-model-len", "2048", "--gpu-memory-utilization", "0.4",
             "--enforce-eager", "--seed", "0"],
            env=env, stdout=subprocess.DEVNULL, stderr=self.log)
        self.url = f"http://127.0.0.1:{self.port}/v1"
        deadline = time.time() + timeout     # a start takes minutes on two busy cores
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the vLLM server exited: " + read_log(self.log)[-3000:])
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        self.close()
        raise RuntimeError("the vLLM server did not start")

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


class FaultyProxy:
    """Forwards to `upstream`, but answers each new request first with a failure: a 500 (with
    Retry-After) or a stall longer than the client's timeout, alternately. `down` makes it answer
    503 to everything. It records the Authorization headers it saw."""

    def __init__(self, upstream: str, stall: float | None = 2.0):
        """`stall`: seconds a stalled answer waits; None: it never comes (until close())."""
        import httpx

        proxy = self
        self.upstream, self.stall, self.down = upstream.rstrip("/"), stall, False
        self.closed = threading.Event()
        self.seen: dict[str, int] = {}
        self.authorizations: list[str] = []
        self.requests = 0
        self.lock = threading.Lock()
        client = httpx.Client(timeout=120)

        class Handler(QuietHandler):
            def do_POST(self):
                body = self.body()
                with proxy.lock:
                    proxy.requests += 1
                    proxy.authorizations.append(self.headers.get("authorization", ""))
                    key = hashlib.sha256(body).hexdigest()
                    attempt = proxy.seen.get(key, 0)
                    proxy.seen[key] = attempt + 1
                    first_failure = len([v for v in proxy.seen.values() if v > 0])
                if proxy.down:
                    return self._reply(503, b'{"error": "down"}', {"Retry-After": "0"})
                if attempt == 0:
                    if first_failure % 2:
                        return self._reply(500, b'{"error": "flaky"}', {"Retry-After": "0"})
                    proxy.closed.wait(proxy.stall)   # longer than the client's timeout
                    return self._reply(500, b'{"error": "late"}', {})
                upstream = client.post(proxy.upstream + self.path.removeprefix("/v1"), content=body,
                                       headers={"content-type": "application/json"})
                self._reply(upstream.status_code, upstream.content, {})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.closed.set()
        self.server.shutdown()


class FakeOpenAI:
    """A tiny OpenAI-compatible server on loopback whose answers the test chooses: `mode` names
    a malformed shape (or "ok"), and every request is counted."""

    ANSWERS = {
        "ok": (200, b'{"choices": [{"message": {"role": "assistant", "content": "fine"}}]}', {}),
        "list": (200, b'[1, 2, 3]', {}),
        "null": (200, b'null', {}),
        "choice-strings": (200, b'{"choices": ["fine"]}', {}),
        "message-null": (200, b'{"choices": [{"message": null}]}', {}),
        "content-42": (200, b'{"choices": [{"message": {"content": 42}}]}', {}),
        "broken-sse": (200, b'data: {"choices": [{"delta": {"content": "fi"}}]}\n\ndata: {"choi\n\n', {}),
        # a stream whose connection closed mid-answer: no finish_reason, no [DONE]
        "cut-sse": (200, b'data: {"choices": [{"delta": {"content": "fi"}}]}\n\n', {}),
        "sse": (200, b'data: {"choices": [{"delta": {"content": "fi"}}]}\n\n'
                     b'data: {"choices": [{"delta": {"content": "ne"}, "finish_reason": "stop"}]}\n\n'
                     b'data: [DONE]\n\n', {}),
        "not-json": (200, b'<html>gateway</html>', {}),
        "redirect": (302, b'{"choices": [{"message": {"content": "from a redirect"}}]}',
                     {"Location": "http://127.0.0.1:9/elsewhere"}),
        "retry-after-3600": (503, b'{"error": "busy"}', {"Retry-After": "3600"}),
        "quota": (429, b'{"error": {"message": "You exceeded your current quota, check your plan"}}', {}),
        # a refusal: the OpenAI API documents content as text or null
        "content-refused": (200, b'{"choices": [{"message": {"content": null, "refusal": "no"}}]}', {}),
        "gzip-header-plain-body": (200, b'{"choices": [{"message": {"content": "fine"}}]}',
                                   {"Content-Encoding": "gzip"}),
        "lone-surrogate": (200, b'{"choices": [{"message": {"content": "half \\ud83d an emoji"}}]}', {}),
        "echo-none": (200, b'{"choices": [{"message": {"content": "There is none left, this is a test."}}]}', {}),
        # a candidate is asked alone (n=1): one choice whose index is not 0
        "index-string": (200, b'{"choices": [{"index": "b", "message": {"content": "one"}}]}', {}),
        # two answers to a request of one, the second-indexed listed first
        "two-choices": (200, b'{"choices": [{"index": 1, "message": {"content": "other"}}, '
                             b'{"index": 0, "message": {"content": "fine"}}]}', {}),
        # an echo (its text as long as any prompt here) whose log-probabilities stop at its second token
        "logprobs-short": (200, b'{"choices": [{"text": "ab' + b"c" * 2000 + b'", "logprobs": {"text_offset": [0, 1], '
                                b'"token_logprobs": [null, -1.0], "tokens": ["a", "b"]}}]}', {}),
        # a server that ignores echo: the token generated alone, its offset in its own text or after the prompt
        "logprobs-no-echo": (200, b'{"choices": [{"text": " X", "logprobs": {"text_offset": [0], '
                                  b'"token_logprobs": [-0.1], "tokens": [" X"]}, "finish_reason": "length"}]}', {}),
        "logprobs-after-prompt": (200, b'{"choices": [{"text": " X Y", "logprobs": {"text_offset": [9, 11], '
                                       b'"token_logprobs": [-0.1, -0.2], "tokens": [" X", " Y"]}}]}', {}),
        "deep": (200, b'{"choices": ' + b"[" * 30000 + b"]" * 30000 + b"}", {}),
        # the same answer in Latin-1: undeclared (not UTF-8: malformed), and declared
        "latin1": (200, '{"choices": [{"message": {"content": "café"}}]}'.encode("latin-1"), {}),
        "latin1-declared": (200, '{"choices": [{"message": {"content": "café"}}]}'.encode("latin-1"),
                            {"content-type": "application/json; charset=iso-8859-1"}),
        "utf8-declared-latin1": (200, '{"choices": [{"message": {"content": "café 한국"}}]}'.encode(),
                                 {"content-type": "application/json; charset=iso-8859-1"}),
        "utf16-declared": (200, '{"choices": [{"message": {"content": "fine"}}]}'.encode("utf-16"),
                           {"content-type": "application/json; charset=utf-16"}),
        "utf8-declared-utf16": (200, '{"choices": [{"message": {"content": "café"}}]}'.encode(),
                                {"content-type": "application/json; charset=utf-16"}),
        # vLLM's ends of an answer: an aborted fragment, and a repetition stop (cut like a budget)
        "abort": (200, b'{"choices": [{"message": {"content": "The wea"}, "finish_reason": "abort"}]}', {}),
        "repetition": (200, b'{"choices": [{"message": {"content": "fine fine"}, "finish_reason": "repetition"}]}',
                       {}),
        # a gateway's content-part form of a message, and one part that is no text
        "content-parts": (200, b'{"choices": [{"message": {"content": [{"type": "text", "text": "fi"}, '
                               b'{"type": "text", "text": "ne"}]}, "finish_reason": "stop"}]}', {}),
        "content-part-image": (200, b'{"choices": [{"message": {"content": [{"type": "image_url", '
                                    b'"image_url": {"url": "x"}}]}}]}', {}),
    }

    def __init__(self, mode: str = "ok", stall: float = 0.0, respond=None):
        """`respond(payload) -> str`: answer each request with that text (a scripted model)."""
        server = self
        self.mode, self.stall, self.requests = mode, stall, 0
        self.pace = 0.5                 # seconds between the bytes of a "trickle" answer
        self.payloads: list[dict] = []  # each POST's JSON body
        # GET /models answers, (status, body) in turn, the last one repeated; None: no GET at all
        self.models: list[tuple[int, bytes]] | None = None
        self.paths: list[str] = []      # each request's path and query string
        self.authorizations: list[str] = []   # each request's Authorization header ("" for none)
        self.gets: list[tuple[str, str]] = []   # each GET's path and query, and its Authorization header
        self.lock = threading.Lock()

        class Handler(QuietHandler):
            def do_GET(self):
                with server.lock:
                    server.gets.append((self.path, self.headers.get("authorization") or ""))
                if server.models is None or not self.path.endswith("/models"):
                    return self._reply(404, b'{"error": "not found"}', {})
                with server.lock:
                    status, content = server.models[0] if len(server.models) == 1 else server.models.pop(0)
                self._reply(status, content, {})

            def do_POST(self):
                import json

                body = self.body()
                with server.lock:
                    server.requests += 1
                    try:
                        server.payloads.append(json.loads(body))
                    except ValueError:
                        pass
                    server.paths.append(self.path)
                    server.authorizations.append(self.headers.get("authorization") or "")
                if server.mode in ("echo-all", "echo-all-error"):   # every form the credentials arrive in
                    import base64
                    from urllib.parse import unquote

                    auth = self.headers.get("authorization") or ""
                    basic = auth.split()[-1] if auth.lower().startswith("basic ") else ""
                    text = f"Sure: {auth} {self.path} {unquote(self.path)} {base64.b64decode(basic).decode()}"
                    if server.mode == "echo-all-error":
                        return self._reply(400, text.encode(), {})
                    content = json.dumps({"choices": [{"message": {"content": text}}]})
                    return self._reply(200, content.encode(), {})
                if server.mode == "echo-auth":   # answers with the request's credentials
                    answer = f"Sure: {self.headers.get('authorization')}"
                    content = json.dumps({"choices": [{"message": {"content": answer}}]})
                    return self._reply(200, content.encode(), {})
                if server.mode == "retry-after-1-once":   # busy for a second, then well
                    server.mode = "ok"
                    return self._reply(503, b'{"error": "busy"}', {"Retry-After": "1"})
                if respond is not None:
                    payload = json.loads(body)
                    texts = respond(payload)     # a list: one choice each (requests with n)
                    texts = texts if isinstance(texts, list) else [texts]
                    # (text, finish_reason): an answer the server says its max_tokens ended
                    ends = [t[1] if isinstance(t, tuple) else "stop" for t in texts]
                    texts = [t[0] if isinstance(t, tuple) else t for t in texts]
                    choices = [({"message": {"role": "assistant", "content": t}} if "messages" in payload
                                else {"text": t}) | {"index": i, "finish_reason": e}
                               for i, (t, e) in enumerate(zip(texts, ends))]
                    return self._reply(200, json.dumps({"choices": choices}).encode(), {})
                if server.stall:
                    time.sleep(server.stall)
                if server.mode == "trickle":   # one byte every `pace` s: each read is quick, the answer never ends
                    content = b'{"choices": [{"message": {"content": "' + b"x" * 200 + b'"}}]}'
                    try:
                        self.send_response(200)
                        self.send_header("content-type", "application/json")
                        self.send_header("content-length", str(len(content)))
                        self.end_headers()
                        for byte in content:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(server.pace)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                if server.mode == "huge":   # a 5 MB answer, well formed
                    text = "x" * (5 << 20)
                    return self._reply(200, ('{"choices": [{"message": {"content": "%s"}}]}' % text).encode(), {})
                if server.mode.startswith("stream:"):   # a 200 whose body is the rest of the mode
                    return self._reply(200, server.mode[7:].encode(), {"content-type": "text/event-stream"})
                if server.mode.startswith("refuse:"):   # a 401 whose body is the rest of the mode
                    return self._reply(401, server.mode[7:].encode(), {})
                if server.mode.startswith("echo:"):   # an error page that quotes the key back
                    page = ("e" * 290 + server.mode[5:] + " rest of the page").encode()
                    return self._reply(400, page, {})
                status, content, headers = server.ANSWERS[server.mode]
                self._reply(status, content, headers)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


class ScriptedModel:
    """A toy language model behind the OpenAI API, for the HTTP backend's conformance: each
    answer is a deterministic function of the prompt (and of the seed when sampling), holds a
    line end, and ignores `stop` (xling cuts answers itself); /completions with echo and
    logprobs scores the prompt one character per token."""

    WORDS = ["river", "stone", "light", "window", "market", "rain", "apple", "train", "quiet", "sea"]

    @classmethod
    def answer(cls, prompt: str, seed=None) -> str:
        import hashlib

        digest = hashlib.sha256(f"{prompt}|{seed}".encode()).digest()
        words = [cls.WORDS[b % len(cls.WORDS)] for b in digest[:6]]
        return " " + " ".join(words[:3]) + ".\n" + " ".join(words[3:])

    def __init__(self):
        import json

        model = self

        class Handler(QuietHandler):
            def do_POST(self):
                payload = json.loads(self.body())
                chat = "messages" in payload
                prompt = json.dumps(payload["messages"]) if chat else payload["prompt"]
                if payload.get("echo") and payload.get("logprobs"):
                    tokens = list(prompt) + ["x"]
                    values = [None] + [-(1 + ord(c) % 5 / 10) for c in prompt[1:]] + [-0.5]
                    body = {"choices": [{"text": prompt + "x", "logprobs": {
                        "tokens": tokens, "token_logprobs": values, "text_offset": list(range(len(tokens)))}}]}
                else:
                    seed = payload.get("seed") if payload.get("temperature") else None
                    texts = [model.answer(prompt, seed if i == 0 else (seed, i)) for i in range(payload.get("n", 1))]
                    # max_tokens as a server keeps it, a word a token: the answer it ends says "length"
                    ends = [re.findall(r"\s*\S+", t) for t in texts]
                    limit = payload.get("max_tokens") or 1 << 30
                    kept = [("".join(words[:limit]), "length") if len(words) > limit else (t, "stop")
                            for t, words in zip(texts, ends)]
                    choices = [({"message": {"role": "assistant", "content": text}} if chat else {"text": text})
                               | {"index": i, "finish_reason": reason} for i, (text, reason) in enumerate(kept)]
                    body = {"choices": choices}
                self._reply(200, json.dumps(body).encode(), {})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
