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


def _one_pair_copy(models, folder, **pair):
    """A copy of the English-German OPUS-MT model with other tokenizer_config.json entries."""
    import json
    import shutil

    shutil.copytree(models["marian-en-de"], folder)
    path = folder / "tokenizer_config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **pair}))
    return folder


def test_a_separate_target_vocabulary_is_part_of_the_models_fingerprint(models, tmp_path):
    """(audit round 23) An OPUS-MT model with separate_vocabs decodes through target_vocab.json,
    which was not in the fingerprint: a target vocabulary changed in place kept the revision and
    the cache keys, and the old model's outputs were served as cached."""
    import json

    folder = _one_pair_copy(models, tmp_path / "sep", separate_vocabs=True)
    vocab = json.loads((folder / "vocab.json").read_text())
    (folder / "target_vocab.json").write_text(json.dumps(vocab))
    before = Translator(str(folder), cache=False)
    (output,) = before.translate([SOURCE], "en", "de")
    specials = ("</s>", "<unk>", "<pad>")
    pieces = [k for k in vocab if k not in specials]   # the pieces reversed over the same ids
    (folder / "target_vocab.json").write_text(json.dumps(
        {**dict(zip(pieces, reversed([vocab[k] for k in pieces]))), **{k: vocab[k] for k in specials}}))
    after = Translator(str(folder), cache=False)
    assert after.translate([SOURCE], "en", "de") != [output]   # the file changes what the model writes
    assert after.backend.fingerprint["revision"] != before.backend.fingerprint["revision"]


def test_a_multi_target_marian_models_prefix_is_counted_against_its_window(models):
    """(audit round 23) The too-long check counted the bare source, but a multi-target OPUS-MT
    model's encoder gets the >>xxx<< prefix too: a source of window-1 tokens passed and crashed mid-run
    with an IndexError traceback (Marian's position table has exactly the window's rows)."""
    translator = Translator(str(models["marian"]), cache=False)
    words = ("The cat sleeps by the window. We go to the market tomorrow. " * 30).split()
    count = translator.backend.count_tokens
    source = next(s for k in range(1, len(words)) for s in (" ".join(words[:k]) + extra for extra in ("", " a", " I"))
                  if count(s) == 127)   # the window (128) less one
    with pytest.raises(XlingError, match=r"segment 1 \(128 tokens of source\) does not fit the model's context "
                                         r"window of 128 tokens"):
        translator.translate([source], "en", "zh")
    # one token shorter fits, and translates: the encoder gets all its 128 positions (with its EOS)
    shorter = " ".join(source.split()[:-1])
    assert count(shorter) < 127 and translator.translate([shorter], "en", "zh")


def test_a_one_pair_marian_model_writes_its_targets_script_only(models, tmp_path):
    """(audit round 23) An OPUS-MT model declaring target_lang zh (Simplified) or sr (Cyrillic)
    translated `-t zh-Hant` and `-t sr-Latn` as if asked for its own script, where M2M100 refuses;
    a source in another script is still read (a zh-en model reads Traditional)."""
    backend = Translator(str(_one_pair_copy(models, tmp_path / "zh-sr", source_lang="zh", target_lang="sr")),
                         cache=False).backend
    assert backend.direction_problem("zh", "sr") is None
    assert backend.direction_problem("zh-Hant", "sr") is None
    assert "it writes Cyrl script, not Latn" in backend.direction_problem("zh", "sr-Latn")
    backend = Translator(str(_one_pair_copy(models, tmp_path / "en-zh", source_lang="en", target_lang="zh")),
                         cache=False).backend
    assert backend.direction_problem("en", "zh") is None
    assert "translates into Chinese (Simplified) (zh) only" in backend.direction_problem("en", "zh-Hant")


def test_a_direction_the_model_cannot_take_is_refused_before_any_generation(models, capsys):
    """(audit round 23) A mixed queue generated every earlier direction (and `xling translate`
    loaded the weights) before the refusal of a language the model has no code for."""
    from helpers import assert_error, run_cli

    translator = Translator(str(models["nllb"]), cache=False)
    with pytest.raises(XlingError, match=r"no language code for .*sr-Latn.* as a source"):
        translator.translate_many([([SOURCE] * 4, "en", "ko"), (["Dobar dan."], "sr-Latn", "ko")])
    assert not translator.backend.weights_loaded and translator.backend.tokens_generated == 0
    code, _, err = run_cli(capsys, "translate", "-s", "sr-Latn", "-t", "ko", "-m", models["nllb"], "Dobar dan.")
    assert_error(code, err, "as a source")
    assert "xling: backend hf" not in err    # (said as the weights load)


@pytest.mark.parametrize("family, direction, told, model_input", [
    ("m2m100", "en-ko", "source code __en__ (before the source), forced first token __ko__", SOURCE),
    ("nllb", "en-ko", "source code eng_Latn (before the source), forced first token kor_Hang", SOURCE),
    ("marian", "en-ko", "target prefix >>kor<< (before the source)", f">>kor<< {SOURCE}"),
    ("marian-en-de", "en-de", "no language tokens (a model of one language pair)", SOURCE),
], ids=["m2m100", "nllb", "marian", "marian-en-de"])
def test_xling_prompt_shows_the_language_tokens_the_model_got(models, tmp_path, capsys, family, direction, told,
                                                              model_input):
    """(audit round 23) `xling prompt` showed the FLORES pair (kor_Hang>eng_Latn) as the model's
    input of an encoder-decoder run, not the language tokens it was given."""
    from helpers import run_cli, write_corpus

    src, tgt = direction.split("-")
    corpus = write_corpus(tmp_path, {src: [SOURCE], tgt: ["x"]})
    code, _, err = run_cli(capsys, "eval", "mt", "-p", direction, "-m", models[family], "--data", corpus,
                           "--out", tmp_path / "R", "--metrics", "chrf")
    assert code == 0, err
    code, out, err = run_cli(capsys, "prompt", tmp_path / "R", "00001", "-l", direction)
    assert code == 0, err
    shown = out.split("## the model's input\n", 1)[1].splitlines()
    assert shown[:2] == [f"language tokens: {told}", model_input]
    assert "_Latn>" not in out and "the rebuilt prompt hashes to it" in out


@pytest.fixture(scope="module")
def small_window_models(tmp_path_factory):
    from tiny_models import build_language_coded_seq2seq

    root = tmp_path_factory.mktemp("seq2seq-32")
    return {family: build_language_coded_seq2seq(root / family, family, window=32)
            for family in ("nllb", "m2m100", "marian")}


@pytest.mark.parametrize("family", ["nllb", "m2m100", "marian"])
def test_an_encoder_decoder_models_generate_refuses_what_its_positions_cannot_hold(small_window_models, family):
    """(audit round 27) Called directly (a judge's, a script's requests: no translator before it),
    a source past the encoder's 32 positions ran on silently (NLLB's, M2M100's sinusoidal
    positions) or crashed in an IndexError (Marian, whose >>kor<< prefix counts too), as did an
    answer budget past the decoder's. Each is refused first, by the translator's own rule."""
    from xling.backends.base import Decoding, GenerationRequest, Prompt
    from xling.errors import ItemTooLong

    backend = Translator(str(small_window_models[family]), cache=False).backend

    def request(text, budget=8):
        return GenerationRequest(Prompt(text), budget, source=text, source_lang="en", target_lang="ko")

    words = SOURCE.split()
    fits = ""   # the longest prefix of repeated SOURCE words whose source takes at most 31 tokens
    for n in range(1, 40):
        text = " ".join((words * 4)[:n])
        if backend.source_tokens(request(text)) >= 32:
            break
        fits = text
    assert 24 <= backend.source_tokens(request(fits)) <= 31
    with pytest.raises(ItemTooLong, match=r"^item 2 \(\d+ tokens of source\) does not fit the model's context "
                                          r"window of 32 tokens"):
        backend.generate([request(fits), request(text)], Decoding())
    with pytest.raises(ItemTooLong, match=r"^item 1 \(31 tokens of answer\) does not fit the 30 positions"):
        backend.generate([request("The weather is nice.", budget=31)], Decoding())
    # the largest source and answer the rule lets through run to their end
    (answer,) = backend.generate([request(fits, budget=30)], Decoding())
    assert isinstance(answer, str)
