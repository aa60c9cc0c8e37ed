"""Encoder-decoder MT models are told the languages as their family says, or refuse in one line
(audit round 15): a source language the tokenizer has no code for went in under the last code
set (Norwegian as English, or as the previous batch's Japanese); M2M100 took zh-Hant as __zh__;
a multi-target Marian model without a token for the target got none (the model chose); and
the answer's budget was cut as if the source took the decoder's positions."""
import re

import pytest
import torch

from xling.data.languages import resolve
from xling.errors import XlingError
from xling.translation.translator import Translator

SOURCE = "The weather is nice today and we walk to the river."


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from tiny_models import build_language_coded_seq2seq

    root = tmp_path_factory.mktemp("coded-seq2seq")
    return {family: build_language_coded_seq2seq(root / family, family)
            for family in ("nllb", "m2m100", "marian", "marian-en-de")}


def test_a_source_language_without_a_code_is_refused_never_tagged_as_the_last_one(models):
    translator = Translator(str(models["nllb"]), cache=False)
    assert translator.translate(["こんにちは。"], "ja", "ko")   # the tokenizer's source code is now jpn_Jpan
    with pytest.raises(XlingError, match=r"no language code for .*sr-Latn.* as a source"):
        translator.translate(["Dobar dan."], "sr-Latn", "ko")


def test_a_script_the_models_language_token_does_not_write_is_refused(models):
    translator = Translator(str(models["m2m100"]), cache=False)
    assert translator.translate([SOURCE], "en", "ko")
    for src, tgt in (("en", "zh-Hant"), ("zh-Hant", "en")):
        with pytest.raises(XlingError, match=r"its __zh__ is zh in another script"):
            translator.translate(["你好。"], src, tgt)


def test_a_multi_target_marian_model_gets_its_chinese_token_or_refuses(models):
    translator = Translator(str(models["marian"]), cache=False)
    with pytest.raises(XlingError, match=r"no target token for Japanese"):
        translator.translate([SOURCE], "en", "ja")
    (output,) = translator.translate([SOURCE], "en", "zh")
    assert translator.last_cut == [1]      # a random model never ends: its budget did (EOS forced after it)
    # the greedy output of transformers' generate with OPUS-MT's prefix, at xling's own budget (and
    # the EOS its config forces after it)
    tok, model = translator.backend.tokenizer, translator.backend.model
    request, _ = translator.request(SOURCE, resolve("en"), resolve("zh"), [])
    ids = tok([f">>cmn_Hans<< {SOURCE}"], return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(**ids, max_new_tokens=request.max_new_tokens + 1, do_sample=False, num_beams=1)
    assert out[0, -1] == tok.eos_token_id and out.shape[1] == request.max_new_tokens + 2   # (start, budget, EOS)
    assert output == " ".join(tok.decode(out[0], skip_special_tokens=True).split())


def test_an_encoder_decoder_models_answer_keeps_the_decoders_positions(models):
    translator = Translator(str(models["nllb"]), cache=False)
    long_source = " ".join([SOURCE] * 2)
    source_tokens = translator.backend.prompt_tokens(translator.request(long_source, resolve("en"), resolve("ko"),
                                                                        [])[0].prompt)
    assert 64 < source_tokens < 128
    request, _ = translator.request(long_source, resolve("en"), resolve("ko"), [])
    assert request.max_new_tokens == 128 - 2          # not 128 minus the source's tokens


@pytest.mark.parametrize("family, tgt", [("m2m100", "ko"), ("marian", "zh")])
def test_a_beam_search_checkpoints_translation_does_not_depend_on_its_batch(models, tmp_path, family, tgt, capsys):
    """(audit round 18) M2M100, mBART-50 and OPUS-MT checkpoints ask for beam search in their
    generation_config.json; a batch ran to its longest row's budget, and a beam's result depends
    on where generation stops: a short sentence's translation changed with its batch mates."""
    import json
    import shutil

    beamed = tmp_path / f"{family}-beams"
    shutil.copytree(models[family], beamed)
    path = beamed / "generation_config.json"
    config = json.loads(path.read_text()) if path.is_file() else {}
    path.write_text(json.dumps({**config, "num_beams": 4}))
    sources = [" ".join([SOURCE] * 2), SOURCE, "Hi.", "A cat sleeps."]   # four answer budgets
    outputs = [[r.raw for r in Translator(str(beamed), batch_size=size, cache=False).translate_records(
        sources, "en", tgt)] for size in (1, 4)]
    assert outputs[0] == outputs[1]
    assert "decodes with beam search (num_beams=4" in capsys.readouterr().err


def test_filipino_gets_m2m100s_tagalog_token(models):
    """(audit round 18) `-t fil` was refused on M2M100 (and mBART-50), which write Tagalog, the
    language of FLORES' tgl_Latn, as __tl__ (tl_XX): the token was looked up as "fil"."""
    backend = Translator(str(models["m2m100"]), cache=False).backend
    assert backend._lang_token(resolve("fil")) == ("__tl__", "force")


def test_a_one_pair_marian_model_refuses_other_languages_before_the_run_folder(models, tmp_path, capsys):
    """(audit round 20) Korean through an English-German OPUS-MT model was translated and scored
    (chrF 11.5, exit 0); T5-style models and NLI with an MT model were refused only after the run
    folder was written."""
    from helpers import assert_error, run_cli, write_corpus

    translator = Translator(str(models["marian-en-de"]), cache=False)
    assert translator.translate([SOURCE], "en", "de")
    for src, tgt, said in (("ko", "de", "translates from English (en) only"), ("en", "fr", "into German (de) only")):
        with pytest.raises(XlingError, match=re.escape(said)):
            translator.translate([SOURCE], src, tgt)
    corpus = write_corpus(tmp_path, {"ko": ["안녕하세요."], "de": ["Hallo."]})
    code, _, err = run_cli(capsys, "eval", "mt", "-p", "ko-de", "-m", models["marian-en-de"], "--data", corpus,
                           "--out", tmp_path / "R", "--metrics", "chrf")
    assert_error(code, err, "translates from English (en) only")
    assert not (tmp_path / "R").exists()
    code, _, err = run_cli(capsys, "eval", "nli", "-m", models["nllb"], "-d", "xnli:test", "-l", "en", "--limit", "2",
                           "--out", tmp_path / "N")
    assert_error(code, err, "encoder-decoder MT model")
    assert not (tmp_path / "N").exists()
    translated = translator.backend   # the record names what ran: no query heads to fold in Marian
    assert translated.stats()["plan"]["attention"]["gqa_decode"].startswith("none")
