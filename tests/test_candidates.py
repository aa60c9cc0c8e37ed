"""N candidates per source, MBR and QE reranking: reproducible sampling, a candidate cache that
resumes and extends, MBR picks what a direct chrF computation says, reranking with a tiny real
COMET QE checkpoint, and the greedy path unchanged."""
import json

import pytest
from helpers import assert_one_line_error, xling

from xling.backends.base import Sampling
from xling.backends.batching import Batching
from xling.backends.cached import CachedBackend
from xling.errors import XlingError
from xling.store.cache import OutputCache
from xling.translation.translator import Translator

SOURCES = ["나는 사과를 좋아한다.", "오늘은 비가 온다.", "저는 학생입니다."]


@pytest.fixture(scope="module")
def translator(tiny_causal_base):
    return Translator(str(tiny_causal_base), cache=False)


def _candidates(translator, n, sampling, cache=None, batch_size=8):
    requests = [r for r, _ in translator.requests(SOURCES, *map(_lang, ("ko", "en"))).values()]
    return _first(CachedBackend(translator.backend.with_batching(Batching(batch_size)), cache), requests, sampling, n)


def _first(cached, requests, sampling, n, **options):
    """Candidates 0..n-1 of each request, as lists."""
    rows = cached.candidates(requests, sampling, [list(range(n))] * len(requests), **options)
    return [[row[k] for k in range(n)] for row in rows]


def _lang(code):
    from xling.data.languages import resolve
    return resolve(code)


def test_sampling_is_reproducible_and_each_candidate_independent_of_n_and_batch(translator):
    sampling = Sampling(seed=7, temperature=1.0, top_p=0.95, epsilon=0.01)
    first = _candidates(translator, 4, sampling)
    assert first == _candidates(translator, 4, sampling)                       # same seed, same draws
    assert [row[:4] for row in _candidates(translator, 6, sampling, batch_size=2)] == first
    assert _candidates(translator, 4, Sampling(seed=8, temperature=1.0)) != first
    assert all(len(row) == 4 for row in first)


def test_the_candidate_cache_resumes_after_an_interrupt_and_extends(translator, tmp_path):
    sampling = Sampling(seed=3)
    cache = OutputCache(str(tmp_path / "c.sqlite"))
    expected = _candidates(translator, 4, sampling)

    class Interrupting:      # the real backend, interrupted after its first source
        def __init__(self, backend):
            self.backend = backend

        def __getattr__(self, name):
            return getattr(self.backend, name)

        def candidates(self, requests, sampling, wanted, on_item=None):
            def stop_after_one(i, texts):
                on_item(i, texts)
                raise KeyboardInterrupt
            return self.backend.with_batching(Batching(1)).candidates(requests, sampling, wanted,
                                                                     on_item=stop_after_one)

    requests = [r for r, _ in translator.requests(SOURCES, _lang("ko"), _lang("en")).values()]
    with pytest.raises(KeyboardInterrupt):
        _first(CachedBackend(Interrupting(translator.backend), cache), requests, sampling, 4)
    resumed = CachedBackend(translator.backend, cache)
    assert _first(resumed, requests, sampling, 4) == expected
    assert resumed.last_generated == 8                  # the first source came from the cache
    assert [row[:4] for row in _first(resumed, requests, sampling, 6)] == expected
    assert resumed.last_generated == 6                  # only candidates 4 and 5 of each source


def test_mbr_with_chrf_picks_what_a_direct_computation_says():
    import sacrebleu

    from xling.translation.selection import mbr

    candidates = [["The cat sleeps by the window.", "The cat is sleeping near the window.",
                   "A dog runs in the park.", "The cat sleeps near a window."],
                  ["It rains.", "It is raining today.", "Today it is raining.", "Rain today."]]
    choices, evaluations = mbr(candidates, candidates, ["src a", "src b"], "en", "chrf")
    assert evaluations == 32
    for cands, choice in zip(candidates, choices):
        expected = [sum(sacrebleu.sentence_chrf(h, [r]).score for r in cands) / len(cands) for h in cands]
        assert choice.scores == pytest.approx(expected, abs=1e-9)
        assert expected[choice.index] == max(expected)


def test_mbr_with_a_lower_is_better_utility_minimises(tmp_path):
    from xling.translation.selection import mbr

    # TER is lower-is-better: the candidate closest to the others has the lowest expected TER.
    cands = [["the cat sat on the mat", "the cat sat on a mat", "completely different words here"]]
    (choice,), _ = mbr(cands, cands, ["s"], "en", "ter")
    assert choice.scores[choice.index] == min(choice.scores) and choice.index != 2


def test_rerank_with_a_tiny_comet_qe_checkpoint(tmp_path, oracle):
    from tiny_models import build_comet_unified

    from xling.translation.selection import rerank

    kiwi = build_comet_unified(tmp_path / "kiwi", with_reference=False)
    cands = [["I like apples.", "I like apple very.", "Apples."]]
    (choice,), evaluations = rerank(cands, ["나는 사과를 좋아한다."], "en", "cometkiwi",
                                    {"model": str(kiwi), "batch_size": 2})
    theirs = oracle("comet", checkpoint=str(kiwi), batch_size=2,
                    samples=[{"src": "나는 사과를 좋아한다.", "mt": h} for h in cands[0]])["scores"]
    assert choice.scores == pytest.approx(theirs, abs=1e-6) and evaluations == 3
    assert choice.index == max(range(3), key=lambda i: theirs[i])


def test_wrong_choosers_are_refused():
    from xling.translation.selection import mbr, rerank

    with pytest.raises(XlingError, match="cannot be an MBR utility"):
        mbr([["a", "b"]], [["a", "b"]], ["s"], "en", "cometkiwi")
    with pytest.raises(XlingError, match="needs a reference"):
        rerank([["a", "b"]], ["s"], "en", "chrf")


def test_a_chooser_of_the_wrong_kind_is_refused_before_any_candidate_or_folder(tmp_path):
    """They were refused only after every candidate was sampled, leaving a run folder."""
    from helpers import assert_one_line_error, xling

    assert_one_line_error(xling("translate", "-s", "ko", "-t", "en", "--select", "rerank", "--qe", "chrf", "-n", "2",
                                "안녕"), "chrF needs a reference")
    assert_one_line_error(xling("eval", "mt", "--pairs", "ko-en", "--limit", "2", "-n", "2", "--select", "mbr",
                                "--utility", "offtarget", "--out", str(tmp_path / "run")), "cannot be an MBR utility")
    assert not (tmp_path / "run").exists()


def _eval(tmp_path, out, model, *extra):
    from helpers import xling
    (tmp_path / "t.ko").write_text("\n".join(SOURCES) + "\n", encoding="utf-8")
    (tmp_path / "t.en").write_text("I like apples.\nIt is raining today.\nI am a student.\n", encoding="utf-8")
    return xling("eval", "mt", "--data", f"text:{tmp_path}/t.{{lang}}", "-p", "ko-en", "--out",
                 str(tmp_path / out), "-m", str(model), "--metrics", "chrf", *extra,
                 env={"XLING_CACHE": str(tmp_path / "cache")})


def test_eval_mt_with_mbr_keeps_every_candidate_and_greedy_is_unchanged(tiny_causal_base, tmp_path):
    greedy = _eval(tmp_path, "greedy", tiny_causal_base)
    assert greedy.returncode == 0, greedy.stderr
    again = _eval(tmp_path, "greedy-explicit", tiny_causal_base, "--candidates", "1", "--select", "greedy")

    def read(name):
        return [json.loads(line) for line in (tmp_path / name / "outputs" / "ko-en.jsonl").open(encoding="utf-8")]

    assert read("greedy") == read("greedy-explicit")
    assert "translating" not in again.stderr.decode()      # every output from the cache: same keys
    mbr = _eval(tmp_path, "mbr", tiny_causal_base, "-n", "4", "--select", "mbr", "--utility", "chrf",
                "--epsilon", "0.02")
    assert mbr.returncode == 0, mbr.stderr
    assert "4 candidates x 3 sources (12 generated, 0 cached); 48 chrf evaluations" in mbr.stderr.decode()
    for record in read("mbr"):
        assert len(record["candidates"]) == 4 and len(record["candidate_scores"]) == 4
        assert record["output"] == record["candidates"][record["chosen"]]
    metrics = json.loads((tmp_path / "mbr" / "metrics.json").read_text())
    generation = metrics["directions"]["ko-en"]["generation"]
    assert generation["utility_evaluations"] == 48 and generation["generated"] == 12
    # (audit round 19) config.json's "decoding" gave greedy settings (temperature 1.0, do_sample false)
    decoding = json.loads((tmp_path / "mbr" / "config.json").read_text())["decoding"]
    assert decoding["candidates"] == 4 and decoding["sampling"]["epsilon"] == 0.02 and "do_sample" not in decoding
    assert json.loads((tmp_path / "greedy" / "config.json").read_text())["decoding"]["do_sample"] is False
    assert generation["batches"]["max_rows"] <= 32 and generation["seconds"] > 0
    # The batch sizes chosen are recorded: `auto` (the default) is 32 rows on a CPU.
    plan = dict(generation["batches"]["plan"])
    assert plan.pop("attention")["sdpa_kernels"] == ["flash", "efficient", "math"]   # never cuDNN's
    assert plan == {"batch_size": "auto", "rows": 32, "max_batch_tokens": None}
    from helpers import xling
    report = xling("report", str(tmp_path / "greedy"), str(tmp_path / "mbr"), "-m", "chrf")
    assert report.returncode == 0 and "chrF: runs compared" in report.stdout.decode()
    # the metric that chose the outputs is named wherever it scores them (it favours its own choice)
    assert generation["chosen_by"] == {"select": "mbr", "metric": "chrf"}
    said = "mbr chose each output among candidates by chrF (mbr): its chrF is what the choice maximised"
    assert report.stdout.decode().count(said) == 2          # its own table and the comparison
    assert "chose each output" not in xling("report", str(tmp_path / "mbr"), "-m", "bleu").stdout.decode()
    # (round 25) the utility is kept by its registered name, as --metrics names are: "chrfpp" was
    # stored as typed, so a folder made with it refused --utility chrf++ ("differs in: utility");
    # a folder that stored a spelling resumes under the registered name
    from xling.runs.config import MTEvalConfig
    assert MTEvalConfig(out="x", pairs=["ko-en"], select="mbr", candidates=2, utility="chrfpp").utility == "chrf++"
    assert MTEvalConfig(out="x", pairs=["ko-en"], select="rerank", candidates=2, qe="KIWI").qe == "cometkiwi"
    config_path = tmp_path / "mbr" / "config.json"
    stored = json.loads(config_path.read_text())
    stored["identity"]["utility"] = "ChrF"   # as xling before round 25 kept --utility ChrF
    config_path.write_text(json.dumps(stored))
    again = _eval(tmp_path, "mbr", tiny_causal_base, "-n", "4", "--select", "mbr", "--utility", "CHRF",
                  "--epsilon", "0.02")
    assert again.returncode == 0, again.stderr
    assert "(0 generated, 12 cached)" in again.stderr.decode()


def test_bad_selection_settings_are_one_line(tiny_causal_base, tmp_path):
    from helpers import assert_one_line_error
    assert_one_line_error(_eval(tmp_path, "a", tiny_causal_base, "-n", "4"), "4 candidates need --select mbr or rerank")
    assert_one_line_error(_eval(tmp_path, "b", tiny_causal_base, "--select", "mbr"), "needs --candidates 2 or more")
    assert_one_line_error(_eval(tmp_path, "c", tiny_causal_base, "-n", "2", "--select", "mbr", "--utility", "nope"),
                          "unknown metric 'nope'")
    # the utility's model is found before any candidate is sampled, in eval and in translate
    missing = ["--select", "mbr", "-n", "3", "--utility", "comet", "--comet-model", str(tmp_path / "no-comet")]
    assert_one_line_error(_eval(tmp_path, "d", tiny_causal_base, *missing), "no-comet")
    from helpers import xling
    assert_one_line_error(xling("translate", "-s", "ko", "-t", "en", "-m", str(tiny_causal_base), *missing, "안녕"),
                          "no-comet")
    assert not (tmp_path / "d").exists()
    # the other chooser's setting was dropped unsaid (round 17)
    assert_one_line_error(_eval(tmp_path, "e", tiny_causal_base, "-n", "2", "--select", "mbr", "--qe", "offtarget"),
                          "--qe chooses in --select rerank; --select mbr takes --utility")
    assert_one_line_error(_eval(tmp_path, "f", tiny_causal_base, "-n", "2", "--select", "rerank", "--utility", "bleu"),
                          "--utility chooses in --select mbr; --select rerank takes --qe")


def _http_candidate_seeds(payload, sampling: Sampling, n: int) -> list[int]:
    """The seeds of candidates 0..n-1 of the prompt in `payload`: by index, salted by the prompt
    as the server receives it."""
    import hashlib
    seen = json.dumps([[m["role"], m["content"]] for m in payload["messages"]], ensure_ascii=False) \
        if "messages" in payload else payload["prompt"]
    salt = int(hashlib.sha256(seen.encode()).hexdigest()[:12], 16)
    return [(sampling.row_seed(k) ^ salt) % 2 ** 31 for k in range(n)]


def test_candidates_cut_at_their_token_budget_are_counted_and_said(tiny_causal_base, capsys):
    """Greedy counted and said its cut answers; MBR and rerank said nothing of theirs."""
    from xling.backends.base import Decoding, was_cut
    from xling.translation.selection import Selection

    translator = Translator(str(tiny_causal_base), cache=False, decoding=Decoding(max_new_tokens_cap=2))
    selection = Selection("mbr", 2, Sampling(seed=1), utility="chrf")
    results = translator.translate_candidates(SOURCES, "ko", "en", selection)
    cost = translator.last_cost
    chosen_cut = sum(was_cut(r.raw) for r in results)
    assert cost["cut_candidates"] >= chosen_cut >= 1 and cost["cut_at_budget"] == chosen_cut
    assert f"{cost['cut_candidates']} of 6 candidates stopped at their token budget" in capsys.readouterr().err


def test_beams_and_the_static_cache_leave_no_transformers_warning_and_beams_say_so(tiny_causal_base, tmp_path,
                                                                                  capfd):
    """(audit round 25) a checkpoint whose generation_config sets max_length (many do) printed
    transformers' "Both max_new_tokens and max_length seem to have been set" once per request on
    the beam and --static-cache paths, one beam its "flags are not valid: ['early_stopping']";
    beams were shown as "sampling candidates"."""
    import shutil

    import transformers

    from xling.backends.base import GenerationRequest, Prompt

    model = tmp_path / "max-length"
    shutil.copytree(tiny_causal_base, model)
    path = model / "generation_config.json"
    config = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    path.write_text(json.dumps(dict(config, max_length=5, do_sample=True, temperature=0.7)), encoding="utf-8")
    sources = ["나는 사과를 좋아한다.", "오늘은 비가 온다."]
    beams = xling("translate", "-s", "ko", "-t", "en", "-m", str(model), "--no-cache", "-n", "2", "--select", "mbr",
                  "--sampling", "beam", *sources)
    static = xling("translate", "-s", "ko", "-t", "en", "-m", str(model), "--no-cache", "--static-cache", *sources)
    for result in (beams, static):
        assert result.returncode == 0 and "[transformers]" not in result.stderr.decode(), result.stderr
        assert len(result.stdout.decode().splitlines()) == 2
    assert "beam search" in beams.stderr.decode() and "sampling candidates" not in beams.stderr.decode()
    transformers.utils.logging.warning_once.cache_clear()   # (said once per process: an earlier test's call hid it)
    one = Translator(str(model), cache=False).backend.candidates(
        [GenerationRequest(Prompt("Korean: 물.\nEnglish:"), 4)], Sampling("beam"), [[0]])
    assert len(one) == 1 and "[transformers]" not in capfd.readouterr().err


def test_translate_with_candidates_over_http_asks_each_candidate_by_its_own_seed(tmp_path):
    """Candidate k comes from a request seeded by k and its prompt alone, so it is the same
    whatever N is."""
    from helpers import xling
    from servers import FakeOpenAI

    seen = []

    def respond(payload):
        seeds = _http_candidate_seeds(payload, Sampling(), 3)
        seen.append((payload.get("n"), seeds.index(payload["seed"])))
        return ["The cat sleeps.", "The cat sleeps.", "A cat is sleeping."][seeds.index(payload["seed"])]

    server = FakeOpenAI(respond=respond)
    try:
        result = xling("translate", "-s", "ko", "-t", "en", "-n", "3", "--select", "mbr", "--backend", "http",
                       "--base-url", server.url, "-m", "fake", "--no-cache", "고양이가 잔다.")
    finally:
        server.close()
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == "The cat sleeps.\n" and sorted(seen) == [(None, 0), (None, 1), (None, 2)]
    # epsilon is no OpenAI parameter: refused before anything is asked, never dropped unsaid
    from helpers import assert_one_line_error
    assert_one_line_error(xling("translate", "-s", "ko", "-t", "en", "-n", "3", "--select", "mbr", "--epsilon", "0.02",
                                "--backend", "http", "--base-url", "http://127.0.0.1:9", "-m", "fake", "x"),
                          "epsilon sampling is not part of the OpenAI API")


def test_mbr_against_separate_pseudo_references(translator):
    from xling.translation.selection import Selection

    selection = Selection("mbr", 3, Sampling(seed=1), utility="chrf", pseudo_refs=5)
    results = translator.translate_candidates(SOURCES, "ko", "en", selection)
    assert translator.last_cost["utility_evaluations"] == 3 * 5 * 3      # candidates x pseudo-refs x sources
    # (pseudo-references were counted as candidates: "8 candidates x 3 sources")
    assert translator.last_cost["candidates"] == 3 * 3 and translator.last_cost["pseudo_refs"] == 5 * 3
    with pytest.raises(XlingError, match="--pseudo-refs are separate samples; --sampling beam draws none"):
        translator.translate_candidates(SOURCES, "ko", "en", Selection("mbr", 3, Sampling("beam"), pseudo_refs=5))
    for r in results:
        assert len(r.unit["candidates"]) == 3 and len(r.unit["pseudo_refs"]) == 5
        assert r.text == r.unit["candidates"][r.unit["chosen"]]


def test_http_candidates_of_several_sources_are_in_flight_together():
    import threading

    from servers import FakeOpenAI

    from xling.backends.base import GenerationRequest, Prompt
    from xling.backends.http import HTTPBackend

    lock, state, overlapped = threading.Lock(), {"now": 0, "most": 0}, threading.Event()
    seeds_of: dict[str, set] = {}

    def respond(payload):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
            if state["now"] > 1:
                overlapped.set()
        overlapped.wait(timeout=20)    # a request waits for another to arrive: none does if serial
        with lock:
            state["now"] -= 1
        source = payload["messages"][-1]["content"]
        with lock:
            seeds_of.setdefault(source, set()).add(payload["seed"])
        return f"{source} #{_http_candidate_seeds(payload, Sampling(seed=0), 2).index(payload['seed'])}"

    server = FakeOpenAI(respond=respond)
    try:
        backend = HTTPBackend("fake", server.url, concurrency=4)
        requests = [GenerationRequest(prompt=Prompt(messages=(("user", f"s{i}"),)), max_new_tokens=8)
                    for i in range(6)]
        seen = []
        out = backend.candidates(requests, Sampling(seed=0), [[0, 1]] * 6,
                                 on_item=lambda i, texts: seen.append(i))
    finally:
        server.close()
    assert out == [{0: f"s{i} #0", 1: f"s{i} #1"} for i in range(6)]    # each source its own answers
    assert sorted(seen) == list(range(6)) and state["most"] > 1
    # sources do not share draws: twelve requests, twelve seeds
    assert len(set().union(*seeds_of.values())) == 12


def test_pseudo_refs_outside_mbr_and_seq2seq_candidates_are_refused_before_anything(tmp_path, tiny_seq2seq,
                                                                                    tiny_causal_base):
    """--pseudo-refs under rerank drew 2/3 of the samples for nothing; an encoder-decoder model
    asked for candidates was refused only after its run folder was written."""
    out = tmp_path / "s2s"
    assert_one_line_error(xling("eval", "mt", "-p", "ko-en", "--limit", "2", "-m", str(tiny_seq2seq), "-n", "4",
                                "--select", "mbr", "--out", str(out), "--metrics", "chrf"),
                          "candidates (MBR, reranking) come from LLMs here")
    assert not out.exists()
    assert_one_line_error(xling("translate", "-m", str(tiny_causal_base), "-n", "2", "--select", "rerank", "--qe",
                                "offtarget", "--pseudo-refs", "6", "-s", "ko", "-t", "en", "안녕"),
                          "--pseudo-refs are MBR's pseudo-references; --select rerank would draw them for nothing")


def test_an_spbleu_utility_without_its_sentencepiece_file_is_refused_before_sampling(tmp_path, tiny_causal_base):
    """Offline without sacrebleu's FLORES-200 file, every candidate was sampled, then MBR failed."""
    result = xling("translate", "-m", str(tiny_causal_base), "-n", "2", "--select", "mbr", "--utility", "spbleu",
                   "-s", "ko", "-t", "en", "안녕", env={"HOME": str(tmp_path)})   # (offline, as CI is)
    assert_one_line_error(result, "needs sacrebleu's SentencePiece model")
    assert b"sampling" not in result.stderr


def test_candidate_settings_under_greedy_are_refused_not_dropped(tiny_causal_base):
    """--temperature/--sampling beam under greedy were dropped without a word (and still split
    the identity of two greedy runs with the same outputs)."""
    for option in (["--temperature", "0.5"], ["--sampling", "beam"], ["--utility", "bleu"]):
        assert_one_line_error(xling("translate", "-m", str(tiny_causal_base), *option, "-s", "ko", "-t", "en", "안녕"),
                              f"{option[0]} applies to candidates (--select mbr or rerank")
    # and sampling settings under beam search (audit round 10)
    assert_one_line_error(xling("translate", "-m", str(tiny_causal_base), "-n", "2", "--select", "mbr", "--sampling",
                                "beam", "--temperature", "0.5", "--top-p", "0.9", "-s", "ko", "-t", "en", "안녕"),
                          "--temperature, --top-p apply to sampled candidates; --sampling beam draws none")


def test_a_greedy_folder_made_with_candidate_settings_still_resumes(tmp_path, tiny_causal_base):
    """Greedy runs made when --temperature etc. were silently dropped held them in their identity;
    they are refused now, so such a folder must resume without them."""
    out = tmp_path / "run"
    args = ["eval", "mt", "-p", "ko-en", "--limit", "2", "-m", str(tiny_causal_base), "--out", str(out),
            "--metrics", "chrf"]
    assert xling(*args).returncode == 0
    config = json.loads((out / "config.json").read_text())
    assert not {"temperature", "sampling", "utility"} & set(config["identity"])
    config["identity"].update(temperature=0.7, sampling="sample", utility="bleu")   # as older xling wrote it
    (out / "config.json").write_text(json.dumps(config))
    again = xling(*args)
    assert again.returncode == 0, again.stderr


def test_a_beam_folder_made_with_sampling_settings_still_resumes(tmp_path, tiny_causal_base):
    """--temperature under --sampling beam did nothing and is refused now; a beam folder made
    with it held it in its identity, so it could be resumed neither with it nor without it."""
    out = tmp_path / "run"
    args = ["eval", "mt", "-p", "ko-en", "--limit", "1", "-m", str(tiny_causal_base), "--out", str(out),
            "--metrics", "chrf", "-n", "2", "--select", "mbr", "--sampling", "beam", "--max-new-tokens", "4"]
    assert xling(*args).returncode == 0
    # `xling prompt` says which candidate was chosen and why (it showed it as the only answer)
    record = json.loads((out / "outputs" / "ko-en.jsonl").read_text().splitlines()[0])
    shown = xling("prompt", out, record["id"])
    assert shown.returncode == 0, shown.stderr
    assert f"## chosen: candidate {record['chosen']} of 2 (mbr; expected utility " in shown.stdout.decode()
    config = json.loads((out / "config.json").read_text())
    assert not {"temperature", "top_p", "epsilon"} & set(config["identity"])
    assert config["identity"]["sampling"] == "beam"
    config["identity"].update(temperature=0.7, top_p=0.9)   # as older xling wrote it
    (out / "config.json").write_text(json.dumps(config))
    again = xling(*args)
    assert again.returncode == 0, again.stderr
    sampled = [a if a != "beam" else "sample" for a in args]   # another sampling is another run
    assert_one_line_error(xling(*sampled), "differs in: sampling")


def test_a_rerank_folder_resumes_whatever_the_mbr_utility_said(tmp_path, tiny_causal_base):
    """--utility changes no reranked output; once the identity held it at its default, a rerank
    folder made with --utility bleu was refused when resumed without it."""
    out = tmp_path / "run"
    args = ["eval", "mt", "-p", "ko-en", "--limit", "1", "-m", str(tiny_causal_base), "--out", str(out),
            "--metrics", "chrf", "-n", "2", "--select", "rerank", "--qe", "offtarget", "--max-new-tokens", "4"]
    made = xling(*args)
    assert made.returncode == 0, made.stderr
    assert "utility" not in json.loads((out / "config.json").read_text())["identity"]
    # as an older xling wrote it (--utility beside --select rerank is refused now)
    config = json.loads((out / "config.json").read_text())
    config["identity"]["utility"] = config["settings"]["utility"] = "bleu"
    (out / "config.json").write_text(json.dumps(config))
    again = xling(*args)
    assert again.returncode == 0, again.stderr


def test_candidate_draws_equal_torch_multinomial_from_the_same_streams():
    """(audit round 20) the sampler drew with torch.multinomial row by row (two host syncs per row
    per step on a GPU); its own draw must take the same tokens from each row's stream."""
    import torch

    from xling.backends.base import Sampling
    from xling.backends.decoding import CandidateSampler, sampling_probs

    sampler = CandidateSampler.__new__(CandidateSampler)
    sampler.torch, sampler.sampling = torch, Sampling(method="sample", temperature=0.7)
    sampler.streams = {row: torch.Generator().manual_seed(row) for row in (3, 5, 8)}
    mirror = {row: torch.Generator().manual_seed(row) for row in (3, 5, 8)}
    torch.manual_seed(1)
    for _ in range(4):
        logits = torch.randn(3, 97)
        probs = sampling_probs(logits.float(), sampler.sampling)
        expected = [torch.multinomial(probs[n], 1, generator=mirror[row]).item() for n, row in enumerate((3, 5, 8))]
        assert sampler(logits, [3, 5, 8]).tolist() == expected


def test_translate_reranks_with_the_judge_it_is_given(tiny_causal_base, tmp_path):
    """(round 25) `translate --qe gemba-esa` had no --judge-* options: the judge was always the
    embedded model, whatever the user meant; its judge model is now read (and a missing one
    refused before any candidate)."""
    result = xling("translate", "-s", "ko", "-t", "en", "-m", str(tiny_causal_base), "--select", "rerank", "-n", "2",
                   "--qe", "gemba-esa", "--judge-model", str(tmp_path / "no-judge"), "안녕")
    assert_one_line_error(result, f"model folder '{tmp_path / 'no-judge'}' does not exist")


def test_a_lower_is_better_utility_is_said_to_be_minimised():
    """(audit round 26) `report` said MBR by MetricX "maximised" it; the choice took the lowest."""
    from types import SimpleNamespace

    from xling.reporting.report import chosen_by

    for utility, verb in (("metricx", "minimised"), ("ter", "minimised"), ("chrf", "maximised")):
        run = SimpleNamespace(label="mbr", settings={"select": "mbr", "utility": utility})
        assert f"is what the choice {verb}, not an independent measure" in chosen_by(run, utility)
