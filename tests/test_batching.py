"""Batches sized for the hardware (issue 11): `--batch-size auto`, refilling rows freed by
finished ones (continuous batching), and out-of-memory retries that lose nothing. Outputs must
be the same whichever way the rows are batched (CPU, float32)."""
import dataclasses
import json

import pytest
from tiny_models import device_holding

from xling.backends import batching
from xling.backends.base import Sampling
from xling.backends.batching import Batching
from xling.data.languages import check_direction
from xling.errors import XlingError
from xling.translation.translator import Translator

SOURCES = ["나는 사과를 좋아한다.", "저는 학생입니다.", "바다가 조용하다.", "고양이가 창문 옆에서 잔다.",
           "새 문장.", "기차가 늦게 도착했다.", "물이 너무 차갑다.", "오늘은 비가 온다.",
           "우리는 내일 서울에 간다.", "책.", "그는 매일 아침 공원에서 달린다.", "꽃이 피었다."]


@pytest.fixture(scope="module")
def translator(tiny_causal_base):
    return Translator(str(tiny_causal_base), cache=False)


def _requests(translator, sources=SOURCES, src="ko", tgt="en"):
    return [r for r, _ in translator.requests(sources, *check_direction(src, tgt)).values()]


def test_refilled_batches_give_the_same_outputs(translator):
    backend, requests = translator.backend, _requests(translator)
    plain = backend.with_batching(Batching(3, refill=False)).generate(requests, translator.decoding)
    backend.batch_log.clear()
    seen = []
    refilled = backend.with_batching(Batching(3, refill=True)).generate(requests, translator.decoding,
                                                                       on_batch=lambda rows, texts: seen.extend(rows))
    assert refilled == plain
    assert sorted(seen) == list(range(len(requests)))            # each row reported once
    assert any(b.get("refill") for b in backend.batch_log)       # rows really joined a running batch
    assert all(b["rows"] <= 3 for b in backend.batch_log)


def test_refilled_batches_of_the_embedded_model_match_one_at_a_time(data_dir):
    """A real multilingual model and tokenizer on real FLORES sentences of varied lengths."""
    from xling.data.parallel import flores200

    translator = Translator(cache=False, quiet=True)
    sources = flores200("devtest", check_direction("ko", "en")[0], None)[:10]
    # Budgets capped to keep the test short; rows still end at different steps (line ends).
    requests = [dataclasses.replace(r, max_new_tokens=min(r.max_new_tokens, 24))
                for r in _requests(translator, sources)]
    single = translator.backend.with_batching(Batching(1)).generate(requests, translator.decoding)
    refilled = translator.backend.with_batching(Batching(4, refill=True)).generate(requests, translator.decoding)
    assert refilled == single


def test_auto_batch_size_gives_the_same_outputs_as_a_fixed_batch(translator):
    fixed = Translator(backend=translator.backend, batch_size=4, cache=False).translate(SOURCES, "ko", "en")
    auto = Translator(backend=translator.backend, batch_size="auto", cache=False)
    assert auto.translate(SOURCES, "ko", "en") == fixed
    plan = dict(translator.backend.batch_plan)
    assert plan.pop("attention")["sdpa_kernels"] == ["flash", "efficient", "math"]
    assert plan == {"batch_size": "auto", "rows": 32, "max_batch_tokens": None}


def test_candidates_are_the_same_refilled_or_not(translator):
    requests, sampling = _requests(translator, SOURCES[:5]), Sampling(seed=3, temperature=1.0)
    wanted = [[0, 1, 2]] * len(requests)
    plain = translator.backend.with_batching(Batching(4, refill=False)).candidates(requests, sampling, wanted)
    refilled = translator.backend.with_batching(Batching(4, refill=True)).candidates(requests, sampling, wanted)
    assert refilled == plain and all(len(c) == 3 for c in plain)


@pytest.mark.parametrize("decode_only", [False, True])
def test_out_of_memory_while_refilling_loses_nothing(translator, decode_only, capfd):
    backend, requests = translator.backend, _requests(translator)
    expected = backend.with_batching(Batching(1)).generate(requests, translator.decoding)
    seen = []
    with device_holding(backend.model, 2, decode_only):
        backend.batch_log.clear()
        out = backend.with_batching(Batching(6, refill=True)).generate(requests, translator.decoding,
                                                                      on_batch=lambda rows, texts: seen.extend(rows))
    assert out == expected
    assert sorted(seen) == list(range(len(requests)))           # nothing lost, nothing twice
    assert any(b.get("out_of_memory") for b in backend.batch_log)
    assert "out of memory with" in capfd.readouterr().err


def test_the_auto_plan_follows_the_model_shape_and_free_memory():
    from transformers import Qwen2Config

    # The 1.5B-shaped model: 28 layers, hidden 1536, 12 heads, 2 KV heads, 262k vocabulary.
    shape = batching.model_shape(Qwen2Config(hidden_size=1536, num_hidden_layers=28, num_attention_heads=12,
                                             num_key_value_heads=2, intermediate_size=8960, vocab_size=262144))
    assert batching.kv_bytes_per_token(shape, 2) == 28 * 2 * 128 * 2 * 2
    big, small = batching.auto_limits(76 * 2 ** 30, shape, 2), batching.auto_limits(20 * 2 ** 30, shape, 2)
    assert big["max_batch_tokens"] > 2 * small["max_batch_tokens"]
    for plan, free in ((big, 76 * 2 ** 30), (small, 20 * 2 ** 30)):
        per_token = plan["kv_bytes_per_token"] + plan["activation_bytes_per_token"]
        assert plan["rows"] * plan["logit_bytes_per_row"] + plan["max_batch_tokens"] * per_token <= free
    # On an 80 GB card a whole FLORES devtest direction (1,012 rows of ~200 tokens) is one batch.
    assert big["max_batch_tokens"] >= 1012 * 200 and big["rows"] >= 1012
    assert batching.auto_limits(0, shape, 2)["max_batch_tokens"] == 1    # never zero


@pytest.mark.parametrize("value", [0, -3, "big", "", 2.5, True])
def test_a_bad_batch_size_is_one_clear_error(value):
    with pytest.raises(XlingError, match="batch"):
        Translator(backend=object(), batch_size=value)


def test_batch_size_auto_on_the_command_line_and_in_configs(tmp_path):
    from click.testing import CliRunner

    from xling.cli import cli
    from xling.runs.config import MTEvalConfig, load_experiments

    assert MTEvalConfig(out=str(tmp_path), pairs=["ko-en"]).batch_size == "auto"
    path = tmp_path / "x.yaml"
    path.write_text(f"task: mt\nout: {tmp_path / 'run'}\npairs: [ko-en]\nbatch_size: auto\n")
    assert load_experiments(path)[0].batch_size == "auto"
    path.write_text(f"task: mt\nout: {tmp_path / 'run'}\npairs: [ko-en]\nbatch_size: lots\n")
    with pytest.raises(XlingError, match="'batch_size' must be a positive integer or 'auto'"):
        load_experiments(path)
    result = CliRunner().invoke(cli, ["translate", "--src", "ko", "--tgt", "en", "--batch-size", "many", "물."])
    assert result.exit_code == 2 and "batch size must be a positive integer or 'auto'" in result.output


def test_the_static_cache_meets_few_shapes_and_gives_the_same_outputs(tiny_causal_base, translator):
    dynamic = Translator(backend=translator.backend, batch_size=3, cache=False).translate(SOURCES, "ko", "en")
    static = Translator(str(tiny_causal_base), batch_size=3, static_cache=True, cache=False)
    assert static.translate(SOURCES, "ko", "en") == dynamic
    # Four batches of three rows (padded to four) of different widths share one cache shape.
    assert static.backend.static_shapes == [(4, 128)]
    assert static.translate(SOURCES[:5], "ko", "en") == dynamic[:5]    # 3 + 2 rows (padded to 4)
    assert static.backend.static_shapes == [(4, 128)]


def _gpt2_of_48_positions(folder):
    """A tiny GPT-2 whose learned positions end at 48 (a context window translations reach)."""
    import torch
    from tiny_models import build_tokenizer
    from transformers import GPT2Config, GPT2LMHeadModel

    tokenizer = build_tokenizer(folder)
    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_embd=48, n_layer=2, n_head=4, n_positions=48,
                               bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                               pad_token_id=tokenizer.pad_token_id)).save_pretrained(folder)


def test_the_static_cache_never_feeds_a_row_positions_past_a_learned_window(tmp_path, capsys):
    """(audit round 25) `model.generate` runs every row of a batch to its largest budget: a row
    whose own budget was cut to fit the window (prompt 20 + 28 = 48) went on to position 56 of
    GPT-2's 48 learned ones, an IndexError traceback. Such a row gets a batch of its own."""
    _gpt2_of_48_positions(tmp_path)
    sources = ["나는 사과를 좋아한다. 오늘은",
               "나는 사과를 좋아한다. 오늘은 비가 온다. 고양이가 창문 옆에서 잔다. 우리는 내일"]
    dynamic = Translator(str(tmp_path), template="mt-completion", batch_size=4, cache=False)
    requests = _requests(dynamic, sources)
    prompts = [dynamic.backend.prompt_tokens(r.prompt) for r in requests]
    assert prompts[1] + requests[1].max_new_tokens == 48 and prompts[1] + requests[0].max_new_tokens > 48
    static = Translator(str(tmp_path), template="mt-completion", batch_size=4, static_cache=True, cache=False)
    assert static.translate(sources, "ko", "en") == dynamic.translate(sources, "ko", "en")
    assert [b["rows"] for b in static.backend.batch_log] == [1, 1]
    assert "1 of 2 answer budgets were cut" in capsys.readouterr().err


def test_a_static_batch_the_window_cut_short_is_padded_to_its_own_rows(tmp_path):
    """(audit round 27) A batch the context window cut to one long row was still padded to the
    full batch's rows (each of the longest lines decoded as 4 copies of itself). Such a batch
    gets the smallest power of two that holds its rows; whole batches keep the run's shape."""
    _gpt2_of_48_positions(tmp_path)
    words = "나는 사과를 좋아한다. 오늘은 비가 온다. 고양이가 창문 옆에서 잔다. 우리는 내일".split()
    sources = [" ".join(words[:n]) for n in (12, 9, 2, 1)]
    dynamic = Translator(str(tmp_path), template="mt-completion", batch_size=4, cache=False)
    static = Translator(str(tmp_path), template="mt-completion", batch_size=4, static_cache=True, cache=False)
    assert static.translate(sources, "ko", "en") == dynamic.translate(sources, "ko", "en")
    assert [b["rows"] for b in static.backend.batch_log] == [1, 3]     # the longest line alone: the window
    assert static.backend.static_shapes == [(1, 128), (4, 128)]       # was [(4, 128)]: 1 row padded to 4


def test_a_checkpoints_generation_defaults_apply_to_no_path(tiny_causal_base, tmp_path):
    """generation_config.json's repetition settings (Qwen2.5 ships some) never reach
    `model.generate` (static cache, sampling): every path decodes as xling's own loop does."""
    import shutil

    model = tmp_path / "with-defaults"
    shutil.copytree(tiny_causal_base, model)
    config = json.loads((model / "generation_config.json").read_text()) \
        if (model / "generation_config.json").is_file() else {}
    config.update(repetition_penalty=2.0, no_repeat_ngram_size=2, top_k=1)
    (model / "generation_config.json").write_text(json.dumps(config))
    plain = Translator(str(tiny_causal_base), batch_size=3, cache=False).translate(SOURCES, "ko", "en")
    assert Translator(str(model), batch_size=3, cache=False).translate(SOURCES, "ko", "en") == plain
    assert Translator(str(model), batch_size=3, static_cache=True, cache=False).translate(SOURCES, "ko", "en") \
        == plain
    # Beam search keeps its beams but not the checkpoint's repetition settings.
    from xling.backends.base import GenerationRequest, Prompt, Sampling

    beams = lambda t: t.backend.candidates(   # noqa: E731
        [GenerationRequest(Prompt("한국어: 저는 학생입니다.\n영어:"), 12, stop_at_newline=True)],
        Sampling(method="beam"), [[0, 1, 2]])
    assert beams(Translator(str(model), cache=False)) == beams(Translator(str(tiny_causal_base), cache=False))


@pytest.mark.parametrize("extra", [{}, {"use_sliding_window": False}], ids=["window", "switch-ignored"])
def test_a_sliding_window_over_every_layer_decodes_as_generate_does(tmp_path, extra):
    """(audit round 19) Mistral, Phi-3 and Starcoder2 configs set one sliding window and no layer
    types: xling's decoding steps left the window out (each step saw the whole cache), and 7 of 8
    outputs differed from transformers' generate once prompt and answer outgrew it."""
    import torch
    from tiny_models import build_tokenizer
    from transformers import MistralConfig, MistralForCausalLM

    from xling.backends.base import Decoding, GenerationRequest, Prompt
    from xling.backends.hf import HFBackend

    tokenizer = build_tokenizer(tmp_path)
    torch.manual_seed(0)
    config = MistralConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                           num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                           sliding_window=4, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                           pad_token_id=tokenizer.pad_token_id, **extra)   # (Mistral windows whatever the switch)
    MistralForCausalLM(config).save_pretrained(tmp_path)
    requests = [GenerationRequest(Prompt(text=f"Korean: {s}\nEnglish:"), max_new_tokens=12)
                for s in ("사과.", "오늘은 비가 온다. 고양이가 창문 옆에서 잔다.", "The cat sleeps.", "He runs.")]
    backend = HFBackend(str(tmp_path), display="mistral", device="cpu", batching=Batching(size=3))
    lm = backend.lm
    expected = []
    with torch.inference_mode():
        for request in requests:
            ids = torch.tensor([lm.encode_prompt(request.prompt)])
            out = lm.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                    max_new_tokens=12, min_new_tokens=12, pad_token_id=tokenizer.pad_token_id)
            expected.append(lm.finish(request, out[0, ids.shape[1]:].tolist()))
    assert backend.generate(requests, Decoding()) == expected


def test_a_tokenizer_without_pad_and_eos_tokens_still_translates(tmp_path, tiny_causal_base):
    """(audit round 19) The pad token fell back on the EOS token, itself missing: a traceback in
    every HF path, at any batch size (plain generate runs such a model)."""
    import shutil

    from helpers import xling

    folder = tmp_path / "no-eos"
    shutil.copytree(tiny_causal_base, folder)
    for name in ("tokenizer_config.json", "special_tokens_map.json", "config.json", "generation_config.json"):
        path = folder / name
        if path.is_file():
            settings = json.loads(path.read_text(encoding="utf-8"))
            for key in ("eos_token", "pad_token", "eos_token_id", "pad_token_id"):
                settings.pop(key, None)
            path.write_text(json.dumps(settings), encoding="utf-8")
    result = xling("translate", "-m", str(folder), "-s", "ko", "-t", "en", "--no-cache", "-b", "2", "사과.", "고양이.")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.decode().splitlines()) == 2


def test_a_stop_string_in_byte_pieces_is_seen(tiny_causal_base):
    """(audit round 19) Only as many tokens as the stop string has characters were decoded: a
    Hangul stop string in a byte-level tokenizer's pieces (3 a syllable) was missed, and the row
    ran to its budget."""
    from xling.backends.base import GenerationRequest, Prompt
    from xling.backends.hf import HFBackend

    lm = HFBackend(str(tiny_causal_base), display="tiny", device="cpu").lm
    stop = "\n뷁꿻:"   # (syllables no tokenizer here has merged)
    ids = lm.tokenizer("The cat" + stop, add_special_tokens=False)["input_ids"]
    assert len(ids) > len(stop) + 2
    assert lm.hit_stop(GenerationRequest(Prompt(text="x"), 50, stop=(stop,)), ids)


def _ll_batches(backend, requests, **caps):
    """The items per log-likelihood pass, and the scores, of `scorer.score` under `caps`."""
    sizes = []
    run = backend.scorer._loglikelihood_batch
    backend.scorer._loglikelihood_batch = lambda split: (sizes.append(len(split)), run(split))[1]
    try:
        return sizes, backend.scorer.score(requests, caps.pop("rows", None), caps.pop("tokens", None), **caps)
    finally:
        del backend.scorer._loglikelihood_batch


def test_log_likelihood_batches_keep_each_cap_to_its_own_unit(tiny_causal_base, monkeypatch):
    """(audit round 21) A fixed --batch-size with --max-batch-tokens was read as that many scored
    positions: one item per pass (16 passes instead of 2). Rows of logits (auto on a GPU) count
    the scored positions where the head runs on them alone, and every padded option position
    of a model whose whole output is computed. The scores never change."""
    from xling.backends.hf import HFBackend

    requests = [(f"Korean: 사과 {i}.\nEnglish:", [" apple pie", " The cat sleeps by the window.", " no"])
                for i in range(16)]
    backend = HFBackend(str(tiny_causal_base), display="tiny", device="cpu")
    plain, expected = _ll_batches(backend, requests, rows=8)
    assert plain == [8, 8]
    assert _ll_batches(backend, requests, rows=8, tokens=4096) == ([8, 8], expected)
    options = [backend.lm.tokenizer(c, add_special_tokens=False)["input_ids"] for c in requests[0][1]]
    scored, padded = sum(map(len, options)), len(options) * max(map(len, options))
    assert scored < padded
    head_only, scores = _ll_batches(backend, requests, logit_rows=2 * scored)
    assert head_only == [2] * 8 and scores == [pytest.approx(e, abs=1e-4) for e in expected]
    monkeypatch.setattr(backend.lm, "model_type", "gpt2")   # whole-output logits
    assert not backend.scorer.head_only
    whole, scores = _ll_batches(backend, requests, logit_rows=2 * scored)
    assert max(whole) * padded <= 2 * scored and scores == [pytest.approx(e, abs=1e-4) for e in expected]


def test_encoder_decoder_batches_under_auto_keep_its_token_cap(tiny_seq2seq, monkeypatch):
    """(audit round 21) Under `auto` on a GPU an encoder-decoder model took auto's rows and
    ignored its token cap: long sources with large budgets in one batch. Batches now hold
    sources x beams x (longest source + budget) within it, with the same outputs."""
    from xling.backends.base import Decoding, GenerationRequest, Prompt
    from xling.backends.seq2seq import HFSeq2SeqBackend

    backend = HFSeq2SeqBackend(str(tiny_seq2seq), display="tiny", batching=Batching(size=batching.AUTO))
    sources = ["사과.", "오늘은 비가 온다. 고양이가 창문 옆에서 잔다.", "물이 너무 차갑다.", "저는 학생입니다.",
               "기차가 늦게 도착했다. 바다가 조용하다.", "그는 매일 아침 달린다."]
    requests = [GenerationRequest(Prompt(text=""), max_new_tokens=8 + n, source=s, source_lang="ko", target_lang="en")
                for n, s in enumerate(sources)]
    expected = backend.generate(requests, Decoding())
    lengths = {i: backend.count_tokens(s) for i, s in enumerate(sources)}
    cap = 3 * (max(lengths.values()) + 13)
    ran = []
    run = backend.lm.run_batches
    monkeypatch.setattr(backend.lm, "run_batches",
                        lambda batches, *a, **k: (ran.extend(batches), run(batches, *a, **k))[1])
    monkeypatch.setattr(backend.lm, "device", "cuda")   # (the plan's branch only: the weights stay on the CPU)
    monkeypatch.setattr(backend, "batch_limits", lambda: (64, cap))
    assert backend.generate(requests, Decoding()) == expected
    assert sorted(i for batch in ran for i in batch) == list(range(len(sources))) and len(ran) > 1
    for batch in ran:
        need = len(batch) * backend.beams() * (max(lengths[i] for i in batch) + max(8 + i for i in batch))
        assert need <= cap or len(batch) == 1


def test_a_pad_token_the_model_has_no_row_for_pads_nothing_out_of_range(tiny_causal_base, tmp_path):
    """(audit round 23) a pad token added to the tokenizer without resizing the embeddings (an
    id past its rows) crashed every batch of two rows or more with an IndexError traceback, in
    generation and in the log-likelihood scorer; padded columns are masked, so the EOS pads now."""
    import shutil

    from transformers import AutoTokenizer

    model = tmp_path / "added-pad"
    shutil.copytree(tiny_causal_base, model)
    tokenizer = AutoTokenizer.from_pretrained(model)
    tokenizer.add_special_tokens({"pad_token": "[PAD]"})
    tokenizer.save_pretrained(model)
    assert tokenizer.pad_token_id == len(tokenizer) - 1
    alone = Translator(str(tiny_causal_base), cache=False, batch_size=1)
    padded = Translator(str(model), cache=False, batch_size=4)
    assert padded.backend.lm.pad_id == tokenizer.eos_token_id
    assert padded.translate(SOURCES[:6], "ko", "en") == alone.translate(SOURCES[:6], "ko", "en")
    requests = [("고양이가", [" 잔다.", " 달린다 빨리."]), ("바다가 조용", ["하다.", "해요, 오늘은."])]
    flat = [x for scores in padded.backend.loglikelihood(requests) for x in scores]
    assert flat == pytest.approx([x for scores in alone.backend.loglikelihood(requests) for x in scores], abs=1e-4)


def test_a_lone_carriage_return_token_ends_a_line_bound_row(translator):
    """(audit round 23) byte-level BPE writes "\\r" as 'č': such a token did not end a row that
    stops at a line end, which decoded on to its budget (the answer was cut afterwards)."""
    lm = translator.backend.lm
    tokens = lm.tokenizer.convert_ids_to_tokens(list(range(len(lm.tokenizer))))
    carriage = [i for i, t in enumerate(tokens) if t == "č"]
    assert carriage and set(carriage) <= lm.newline_token_ids()


def test_static_cache_ignores_the_checkpoints_other_logit_settings_as_the_loop_does(tiny_causal_base, tmp_path):
    """(audit round 23) --static-cache runs `model.generate`, which applied a checkpoint's
    min_new_tokens and suppress_tokens that xling's own loop (and vLLM) never apply: other
    outputs on that path, served to the other through the cache (the key does not name it)."""
    import shutil

    model = tmp_path / "shaping"
    shutil.copytree(tiny_causal_base, model)
    config = json.loads((model / "generation_config.json").read_text(encoding="utf-8"))
    loop = Translator(str(model), cache=False, batch_size=4)
    plain = loop.translate(SOURCES, "ko", "en")
    tokenizer = loop.backend.lm.tokenizer   # every token of the plain outputs, suppressed
    used = sorted({i for text in plain for i in tokenizer(text, add_special_tokens=False)["input_ids"]})
    assert used
    config.update(min_new_tokens=6, suppress_tokens=used, begin_suppress_tokens=used)
    (model / "generation_config.json").write_text(json.dumps(config), encoding="utf-8")
    loop = Translator(str(model), cache=False, batch_size=4)
    static = Translator(str(model), cache=False, batch_size=4, static_cache=True)
    assert loop.translate(SOURCES, "ko", "en") == plain == static.translate(SOURCES, "ko", "en")


def test_an_empty_prompt_is_conditioned_on_a_start_token_alone_and_in_a_batch(translator):
    """(audit round 23) on a tokenizer without BOS an empty prompt was no token at all: alone a
    reshape error, beside another prompt a silent '' (a row of padding only)."""
    from xling.backends.base import Decoding, GenerationRequest, Prompt

    backend = translator.backend
    tokenizer = backend.lm.tokenizer
    assert backend.encode_prompt(Prompt(text="x")) == tokenizer("x", add_special_tokens=False)["input_ids"]
    assert backend.encode_prompt(Prompt(text="")) == [tokenizer.bos_token_id]   # (added to no text here)
    empty, other = GenerationRequest(Prompt(text=""), 5), GenerationRequest(Prompt(text="Korean: 책.\nEnglish:"), 5)
    alone = backend.generate([empty], Decoding())
    assert alone[0] and backend.generate([empty, other], Decoding())[0] == alone[0]


def test_an_answer_is_cut_at_the_earliest_stop_whichever_is_listed_first():
    """(round 24) stops were cut in list order: "C" before "ABC" left "xxAB" of "xxABCyy", where
    a server (and the HTTP backend's own cut) stops at "xx"."""
    from xling.backends.base import cut_at_stop

    assert cut_at_stop("xxABCyy", ["C", "ABC"]) == cut_at_stop("xxABCyy", ["ABC", "C"]) == "xx"
    assert cut_at_stop("one\ntwo", ["\n\n", "\n"]) == "one" and cut_at_stop("plain", ["X"]) == "plain"
