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


# COMET and MetricX (audit round 24): a NaN/inf segment score was printed as "nan" with exit 0,
# stored by runs and rescore, and read by paired tests as an unscorable segment.
QE_HYPS = ["I am a student.", "The cat sleeps.", "Nice weather.", "A cat."]
QE_REFS = ["I am a student.", "A cat sleeps.", "Nice weather today.", "A dog."]
QE_SRCS = ["저는 학생입니다.", "고양이가 잔다.", "날씨가 좋네요.", "고양이."]


@pytest.fixture(scope="module")
def comet_overflowing_in_half(tmp_path_factory):
    """A tiny COMET checkpoint whose embedding of the subword "cat" is 1e10 times too large: finite
    in float32 (layer norm follows), inf in float16, so segments 2 and 4 score NaN at precision 16."""
    import torch
    import yaml
    from tiny_models import build_comet
    from transformers import AutoTokenizer

    ckpt = build_comet(tmp_path_factory.mktemp("comet-overflow"))
    tokenizer = AutoTokenizer.from_pretrained(yaml.safe_load(
        (ckpt.parents[1] / "hparams.yaml").read_text(encoding="utf-8"))["pretrained_model"])
    assert "cat" in tokenizer.tokenize("The cat sleeps.") and "cat" not in tokenizer.tokenize(QE_REFS[0])
    data = torch.load(ckpt, weights_only=False)
    embeddings = data["state_dict"]["encoder.model.embeddings.word_embeddings.weight"]
    embeddings[tokenizer.convert_tokens_to_ids("cat")] *= 1e10
    torch.save(data, ckpt)
    return ckpt.parents[1]


def test_comet_refuses_nan_segment_scores(comet_overflowing_in_half):
    from xling.errors import XlingError
    from xling.metrics import comet

    model = str(comet_overflowing_in_half)
    fine = comet(QE_HYPS, QE_REFS, QE_SRCS, model=model, gpus=0)     # float32: every score finite
    assert len(fine.segments) == 4 and all(abs(s) < 10 for s in fine.segments)
    with pytest.raises(XlingError, match=r"^COMET scored 2 of 4 segments as NaN/inf \(first: line 2\); at precision "
                                         r"16 the model overflows: score in float32 \(--precision 32\)$"):
        comet(QE_HYPS, QE_REFS, QE_SRCS, model=model, gpus=0, precision="16")
    # Scored on a subset: the line is the input's, not the subset's.
    with pytest.raises(XlingError, match=r"scored 1 of 2 segments as NaN/inf \(first: line 4\)"):
        comet(QE_HYPS, QE_REFS, QE_SRCS, model=model, gpus=0, precision="16", keep=[True, False, False, True])


def test_score_says_so_in_one_line_and_prints_no_table(comet_overflowing_in_half, tmp_path):
    for name, lines in (("src.ko", QE_SRCS), ("ref.en", QE_REFS), ("a.en", QE_HYPS), ("b.en", QE_HYPS[::-1])):
        (tmp_path / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = xling("score", "-r", tmp_path / "ref.en", "-i", tmp_path / "a.en", tmp_path / "b.en",
                   "-s", tmp_path / "src.ko", "--tgt-lang", "en", "-m", "comet", "--comet-model",
                   comet_overflowing_in_half, "--precision", "16", "--gpus", "0", "--paired-bs", "--format", "json")
    assert_error(result.returncode, result.stderr.decode(),
                 "COMET scored 2 of 4 segments as NaN/inf (first: line 2); at precision 16")
    assert result.stdout == b""


def test_rescore_stores_no_nan_score(comet_overflowing_in_half, tmp_path):
    from servers import FakeOpenAI

    from xling.errors import XlingError
    from xling.runs.config import build_config
    from xling.runs.records import read_run
    from xling.tasks.mt import rescore, run_mt

    (tmp_path / "t.ko").write_text("\n".join(QE_SRCS) + "\n", encoding="utf-8")
    (tmp_path / "t.en").write_text("\n".join(QE_REFS) + "\n", encoding="utf-8")
    server = FakeOpenAI(respond=lambda payload: "The cat sleeps.")
    try:
        config = build_config({"out": str(tmp_path / "run"), "data": f"text:{tmp_path}/t.{{lang}}",
                               "pairs": ["ko-en"], "metrics": ["chrf"], "model": "fake",
                               "backend": "http", "base_url": server.url})
        run_mt(config, progress=False)
    finally:
        server.close()
    with pytest.raises(XlingError, match=r"COMET scored 4 of 4 segments as NaN/inf \(first: line 1\)"):
        rescore(config.out, ["comet"], {"comet_model": str(comet_overflowing_in_half), "precision": "16"})
    assert "comet" not in read_run(config.out, fresh=True).direction("ko-en").metrics


def test_metricx_refuses_nan_segment_scores(tmp_path):
    """A MetricX model whose embedding of one subword is NaN: the segments holding it score NaN,
    which clipping to [0, 25] kept (torch.clamp(NaN) is NaN)."""
    from safetensors.torch import load_file, save_file
    from tiny_models import build_metricx
    from transformers import AutoTokenizer

    from xling.errors import XlingError
    from xling.metrics.metricx import metricx

    folder = build_metricx(tmp_path / "metricx-24-nan")
    encode = AutoTokenizer.from_pretrained(folder).encode
    elsewhere = {i for text in ("source: ", " candidate: ", " reference: ", QE_HYPS[0], QE_HYPS[2], *QE_REFS, *QE_SRCS)
                 for i in encode(text, add_special_tokens=False)}
    word = next(i for i in encode(" candidate: " + QE_HYPS[1], add_special_tokens=False) if i not in elsewhere)
    weights = load_file(folder / "model.safetensors")
    weights["shared.weight"][word] = float("nan")      # (the encoder's and decoder's embeddings)
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(XlingError, match=r"^MetricX scored \d of 4 segments as NaN/inf \(first: line 2\); in float32"):
        metricx(QE_HYPS, QE_REFS, QE_SRCS, model=str(folder), batch_size=2)
    assert metricx([QE_HYPS[0]], [QE_REFS[0]], [QE_SRCS[0]], model=str(folder)).segments[0] >= 0   # the rest is fine
