"""The HTTP backend against a real OpenAI-compatible server (`transformers serve`) on loopback."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xling.backends import load_backend
from xling.backends.http import HTTPBackend
from xling.errors import XlingError
from xling.runs.config import build_config
from xling.tasks.mt import run_mt
from xling.translation.translator import Translator

SOURCES = ["나는 사과를 좋아한다.", "저는 학생입니다.", "바다가 조용하다.", "", "고양이가 창문 옆에서 잔다.",
           "새 문장.", "기차가 늦게 도착했다.", "물이 너무 차갑다.", "오늘은 비가 온다.", "이 책은 아주 재미있다."]


@pytest.fixture(scope="module")
def server():
    from servers import TransformersServer

    srv = TransformersServer()
    yield srv
    srv.close()


@pytest.fixture()
def proxy(server):
    from servers import FaultyProxy

    p = FaultyProxy(server.url, stall=1.5)
    yield p
    p.close()


def test_http_outputs_equal_local_greedy_outputs_in_order(server, tiny_causal):
    local = Translator(str(tiny_causal), cache=False).translate_records(SOURCES, "ko", "en")
    for concurrency in (1, 4):
        backend = load_backend(str(tiny_causal), backend="http", base_url=server.url, concurrency=concurrency)
        remote = Translator(backend=backend, cache=False).translate_records(SOURCES, "ko", "en")
        assert [r.raw for r in remote] == [r.raw for r in local]
    assert backend.fingerprint == {"backend": "http", "model": str(tiny_causal),
                                   "base_url": server.url, "revision": "served"}


def test_failures_and_timeouts_are_retried(server, tiny_causal):
    from servers import FaultyProxy

    # The stalled answers never come (until the proxy closes), and the timeout is far above what
    # the real server needs for one short line even on a loaded machine (it is warmed first):
    # nothing here depends on the machine's speed.
    direct = Translator(backend=HTTPBackend(str(tiny_causal), server.url), cache=False).translate(
        SOURCES[:6], "ko", "en")
    proxy = FaultyProxy(server.url, stall=None)
    try:
        backend = HTTPBackend(str(tiny_causal), proxy.url, concurrency=5, timeout=5.0, backoff=0.05)
        remote = Translator(backend=backend, cache=False).translate(SOURCES[:6], "ko", "en")
    finally:
        proxy.close()
    assert remote == direct
    assert proxy.requests >= 2 * 5      # every non-empty line failed once (500 or stall) first


def test_server_down_is_one_error_and_the_run_resumes(proxy, server, tiny_causal, tmp_path, data_dir,
                                                      monkeypatch):
    monkeypatch.setenv("XLING_DATA", str(data_dir))
    monkeypatch.setenv("XLING_API_KEY", "sk-test-very-secret-1234")
    settings = dict(model=str(tiny_causal), backend="http", pairs=["ko-en", "en-ko"], limit=3,
                    max_new_tokens=16, concurrency=2, request_timeout=5.0, max_retries=2,
                    metrics=["chrf"])
    reference = run_mt(build_config(dict(settings, out=str(tmp_path / "direct"), base_url=server.url)),
                       progress=False)
    proxy.down = True
    flaky = build_config(dict(settings, out=str(tmp_path / "flaky"), base_url=proxy.url))
    with pytest.raises(XlingError, match="kept failing .*run again to resume"):
        run_mt(flaky, progress=False)
    proxy.down = False
    resumed = run_mt(flaky, progress=False)
    for direction in ("ko-en", "en-ko"):
        assert [r["raw"] for r in resumed.read_outputs(direction)] == \
            [r["raw"] for r in reference.read_outputs(direction)]
    # The key went to the configured server only as a header, and into no file.
    assert proxy.authorizations and set(proxy.authorizations) == {"Bearer sk-test-very-secret-1234"}
    for root in (tmp_path, Path(os.environ["XLING_CACHE"])):
        for path in root.rglob("*"):
            if path.is_file():
                assert b"sk-test-very-secret-1234" not in path.read_bytes(), path


def test_no_server_from_the_shell():
    from servers import free_port

    result = subprocess.run([sys.executable, "-m", "xling.cli", "translate", "-s", "ko", "-t", "en",
                             "--backend", "http", "--base-url", f"http://127.0.0.1:{free_port()}/v1",
                             "-m", "some-model", "안녕"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "cannot connect" in result.stderr
    missing = subprocess.run([sys.executable, "-m", "xling.cli", "translate", "-s", "ko", "-t", "en",
                              "--backend", "http", "안녕"], capture_output=True, text=True)
    assert missing.returncode == 2 and "needs --base-url and --model" in missing.stderr


def test_loglikelihood_needs_prompt_logprobs(server, tiny_causal):
    backend = HTTPBackend(str(tiny_causal), server.url, max_retries=0)
    with pytest.raises(XlingError, match="does not score prompts"):
        backend.loglikelihood([("Korean:", [" 바다"])])


def test_batch_settings_asked_for_with_a_server_are_said_not_to_apply(capsys):
    backend = HTTPBackend("some-model", "http://127.0.0.1:9/v1", chat=True)   # nothing is sent
    Translator(backend=backend, cache=False)
    assert "do not apply" not in capsys.readouterr().err
    for asked in (dict(batch_size=4), dict(max_batch_tokens=512), dict(refill=False)):
        Translator(backend=backend, cache=False, **asked)
        assert "--batch-size, --max-batch-tokens and --refill do not apply to --backend http" \
            in capsys.readouterr().err


def test_a_checkpoints_own_decoding_settings_never_reach_a_transformers_server(server, tiny_causal, tmp_path):
    """`transformers serve` starts each request from the checkpoint's generation_config: a
    repetition penalty there changed greedy outputs (HF ignores it), and without do_sample
    every sampled candidate was the greedy answer, cached as a sample."""
    import json
    import shutil

    from xling.backends.base import GenerationRequest, Prompt, Sampling

    model = tmp_path / "penalised"
    shutil.copytree(tiny_causal, model)
    config_path = model / "generation_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    config_path.write_text(json.dumps(config | {"repetition_penalty": 1.5, "do_sample": False}), encoding="utf-8")
    server.warm(str(model))
    local = Translator(str(model), cache=False).translate_records(SOURCES[:3], "ko", "en")
    remote = load_backend(str(model), backend="http", base_url=server.url)
    assert [r.raw for r in Translator(backend=remote, cache=False).translate_records(SOURCES[:3], "ko", "en")] \
        == [r.raw for r in local]
    request = GenerationRequest(Prompt(messages=(("user", "Translate: 나는 학생입니다"),)), 12)
    drawn = remote.backend.candidates([request], Sampling(temperature=1.0, seed=0), [[0, 1, 2, 3]])
    assert len(set(drawn[0].values())) > 1
