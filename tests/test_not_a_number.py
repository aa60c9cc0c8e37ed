"""A model that computes NaN (broken weights, or overflow at its precision) stops with one line
in every path of the loaded models, instead of answering token 0 (empty or garbage outputs)
and choosing the first option of every item (NaN log-likelihoods compare as neither larger nor
smaller): greedy rows, the static cache, sampled and beam candidates, encoder-decoder models
and log-likelihood scoring."""
import shutil

import pytest
from helpers import assert_error, xling

from xling.backends.base import Decoding, GenerationRequest, Prompt, Sampling
from xling.backends.hf import HFBackend
from xling.backends.numerics import NotANumber
from xling.backends.seq2seq import HFSeq2SeqBackend

REQUESTS = [GenerationRequest(Prompt(text=f"Korean: {s}\nEnglish:"), max_new_tokens=6, stop_at_newline=True)
            for s in ("사과.", "오늘은 비가 온다.")]


def broken_copy(source, folder, layer_norm):
    """A copy of a tiny model whose final layer norm holds NaN (so every logit is NaN)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM

    shutil.copytree(source, folder)
    seq2seq = AutoConfig.from_pretrained(folder).is_encoder_decoder
    model = (AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM).from_pretrained(folder)
    with torch.no_grad():
        model.get_submodule(layer_norm).weight.fill_(float("nan"))
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def nan_causal(tiny_causal_base, tmp_path_factory):
    return broken_copy(tiny_causal_base, tmp_path_factory.mktemp("nan") / "causal", "model.norm")


@pytest.mark.parametrize("static_cache", [False, True])
def test_greedy_rows_refuse_nan_logits(nan_causal, static_cache):
    backend = HFBackend(str(nan_causal), display="nan", device="cpu", static_cache=static_cache)
    with pytest.raises(NotANumber, match=r"NaN \(not-a-number\) logits in float32"):
        backend.generate(REQUESTS, Decoding())


@pytest.mark.parametrize("method", ["sample", "beam"])
def test_candidates_refuse_nan_logits(nan_causal, method):
    backend = HFBackend(str(nan_causal), display="nan", device="cpu")
    with pytest.raises(NotANumber):
        backend.candidates(REQUESTS, Sampling(method=method), [[0, 1], [0, 1]])


def test_log_likelihoods_refuse_nan(nan_causal):
    backend = HFBackend(str(nan_causal), display="nan", device="cpu")
    with pytest.raises(NotANumber, match="NaN .* log-likelihoods"):
        backend.loglikelihood([("Korean: 사과. English:", [" apple", " cat"])])


def test_encoder_decoder_models_refuse_nan_logits(tiny_seq2seq, tmp_path):
    backend = HFSeq2SeqBackend(str(broken_copy(tiny_seq2seq, tmp_path / "s2s", "model.decoder.layer_norm")),
                               display="nan")
    requests = [GenerationRequest(Prompt(text=""), max_new_tokens=6, source=s, source_lang="ko", target_lang="en")
                for s in ("사과.", "오늘은 비가 온다.")]
    with pytest.raises(NotANumber):
        backend.generate(requests, Decoding())


def test_the_cli_says_so_in_one_line_and_writes_no_output(nan_causal, tmp_path):
    out = tmp_path / "out.txt"
    result = xling("translate", "--src", "ko", "--tgt", "en", "-m", str(nan_causal), "-o", str(out), "사과.")
    assert_error(result.returncode, result.stderr.decode(), "the model computed NaN (not-a-number) logits in float32")
    assert not out.exists()
