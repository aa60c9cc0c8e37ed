"""Results that were silently wrong, and messages that misled (reliability round 3, cases 4, 9,
11-14, 16, 17): unpaired data is never tested as paired, judge scores out of range are not
scores, segments that cannot fit the model are refused the same way in both units, bad WMT24++
rows are named, and a run with no outputs says so."""
import json
import subprocess
import sys

import pytest
from helpers import assert_error, run_cli, write_corpus

from xling.cli import main
from xling.errors import XlingError
from xling.runs.folder import RunDir


def _mt_run(capsys, tmp_path, model, name, sources, *extra):
    corpus_dir = tmp_path / f"{name}-data"
    corpus_dir.mkdir()
    corpus = write_corpus(corpus_dir, sources)
    out = tmp_path / name
    code, _, err = run_cli(capsys, "eval", "mt", "-p", "ko-en", "-m", model, "--data", corpus, "--out", out,
                           "--metrics", "chrf", *extra)
    assert code == 0, err
    return out


# -- case 9: paired significance on unpaired data -------------------------------------------------
def test_runs_on_different_segments_with_the_same_ids_are_not_paired(tmp_path, capsys, tiny_causal_base):
    first = _mt_run(capsys, tmp_path, tiny_causal_base, "RD1",
                    {"ko": ["저는 학생입니다.", "책을 읽고 있어요."],
                     "en": ["I am a student.", "I am reading a book."]})
    second = _mt_run(capsys, tmp_path, tiny_causal_base, "RD2",
                     {"ko": ["오늘 날씨가 좋네요.", "고양이가 잔다."],
                      "en": ["The weather is nice.", "The cat sleeps."]})
    assert [r["id"] for r in RunDir(first).read_outputs("ko-en")] == \
        [r["id"] for r in RunDir(second).read_outputs("ko-en")]
    code, out, err = run_cli(capsys, "report", first, second)
    # not tested, and said; each run's own tables stay (the whole report was refused)
    assert code == 0, err
    assert "scored different segments for ko-en: item 00001 has another source" in out and "p=" not in out
    assert f"RD1: {tiny_causal_base}" in out and f"RD2: {tiny_causal_base}" in out
    code, out, err = run_cli(capsys, "report", first, first)      # the same segments: compared
    assert code == 0 and "p=" in out, err


def test_a_metric_only_a_later_run_has_is_said_not_dropped(tmp_path, capsys, tiny_causal_base):
    sources = {"ko": ["저는 학생입니다.", "책을 읽고 있어요."], "en": ["I am a student.", "I am reading a book."]}
    first = _mt_run(capsys, tmp_path, tiny_causal_base, "M1", sources)
    second = _mt_run(capsys, tmp_path, tiny_causal_base, "M2", sources, "--metrics", "chrf,bleu")
    code, out, err = run_cli(capsys, "report", first, second)
    assert code == 0, err
    assert "BLEU: runs compared" in out and "not compared: M1 (the baseline) has no BLEU score" in out


# -- case 11: GEMBA-ESA scores out of range ---------------------------------------------------------
@pytest.mark.parametrize("answer", ["Score: 1e999", "Score: 1000", "Score: -50", "Score: 100.5", "Score: 1e3",
                                    "Errors: none\n-3"])
def test_an_esa_score_out_of_range_is_unparseable(answer):
    from xling.metrics.judge import parse_esa

    assert parse_esa(answer) is None


@pytest.mark.parametrize("answer,score", [("Score: 0", 0.0), ("Score: 100", 100.0), ("Score: 85/100", 85.0),
                                          ("**Score:** 72.5", 72.5), ("Minor - x\nScore: 40.", 40.0),
                                          ("No errors\n90", 90.0)])
def test_an_esa_score_in_range_is_read_whole(answer, score):
    from xling.metrics.judge import parse_esa

    assert parse_esa(answer)[1] == score


def test_out_of_range_judge_answers_are_counted_unparseable():
    from servers import FakeOpenAI

    from xling.backends.http import HTTPBackend
    from xling.metrics.judge import judge

    answers = {"Der Hund bellt.": "Score: 1e999", "Die Katze schläft.": "Score: 1000", "Es regnet.": "Score: 70"}
    server = FakeOpenAI(respond=lambda p: next(a for h, a in answers.items() if h in json.dumps(p, ensure_ascii=False)))
    try:
        result = judge(list(answers), ["The dog barks.", "The cat sleeps.", "It rains."], "de", kind="esa",
                       src_lang="en", backend=HTTPBackend("judge", server.url, max_retries=0))
    finally:
        server.close()
    assert result.extra["unparseable"] == 2
    assert result.segments == [None, None, 70.0]
    assert result.score == 70.0


# -- cases 12 and 16: segments the model cannot hold ----------------------------------------------------
def test_a_segment_longer_than_the_context_window_is_refused_in_segment_mode(tmp_path, capsys, tiny_causal_base):
    huge = tmp_path / "huge.ko"
    huge.write_text("가나다라 마바사 " * 1_250_000 + "\n", encoding="utf-8")     # one 10 MB line
    out = tmp_path / "out.en"
    code, _, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "-m", tiny_causal_base, "-i", huge, "-o", out)
    assert_error(code, err, "segment 1 (over 2,048 tokens of prompt and answer) does not fit the model's "
                            "context window of 2,048 tokens")
    assert not out.exists()


def test_segment_and_document_units_refuse_the_same_segment(tmp_path, capsys, tiny_causal_base):
    long = " ".join(["The bridge opened today."] * 200)          # about 3,000 tokens
    rows = [{"lp": "en-ko_KR", "domain": "news", "document_id": "d", "segment_id": i, "is_bad_source": False,
             "source": text, "target": "x", "original_target": "x"} for i, text in enumerate(["Hello.", long], 1)]
    (tmp_path / "wmt24pp").mkdir()
    (tmp_path / "wmt24pp" / "en-ko_KR.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    base = ["eval", "mt", "--data", "wmt24pp:en-ko_KR", "--data-dir", tmp_path, "-m", tiny_causal_base]
    code, _, err = run_cli(capsys, *base, "--out", tmp_path / "seg")
    assert_error(code, err, "segment 2 (")
    assert "does not fit the model's context window of 2,048" in err
    code, _, err = run_cli(capsys, *base, "--out", tmp_path / "doc", "--unit", "document")
    assert_error(code, err, "document d: its segment 2 of 2 alone needs")


def _with_bos(model, folder):
    """A copy of a tiny model whose tokenizer puts <s> before plain text, as Llama's and Gemma's do."""
    import shutil

    from tokenizers import Tokenizer, processors

    shutil.copytree(model, folder)
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    bos = tokenizer.token_to_id("<s>")
    tokenizer.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A $B",
                                                             special_tokens=[("<s>", bos)])
    tokenizer.save(str(folder / "tokenizer.json"))
    return folder


def test_an_answer_budget_past_the_window_is_cut_to_it_and_counted(tmp_path, capsys, tiny_causal_base):
    from xling.data.languages import check_direction
    from xling.translation.translator import Translator

    translator = Translator(str(_with_bos(tiny_causal_base, tmp_path / "bos")), cache=False)
    text = "가나다라 마바사 " * 110    # a prompt that fits, with a budget (2.5 x tokens + 20) that does not
    (request, _), = translator.requests([text], *check_direction("ko", "en")).values()
    # the ids the model is fed, BOS included (counted without it, prompt + answer was 2,049: a
    # model with learned positions failed with an IndexError)
    prompt = len(translator.backend.encode_prompt(request.prompt))
    assert prompt == translator.backend.count_tokens(translator.backend.render(request.prompt)) + 1
    assert prompt < 2048 < prompt + translator.budget(text)
    assert prompt + request.max_new_tokens == 2048
    assert translator.clipped_budgets == 1
    assert capsys.readouterr().err.startswith("xling: note: 1 of 1 answer budgets were cut")


# -- case 13: WMT24++ rows of the wrong shape ------------------------------------------------------------
GOOD = {"lp": "en-ko_KR", "domain": "news", "document_id": "d1", "segment_id": 1, "is_bad_source": False,
        "source": "Hello.", "target": "안녕.", "original_target": "안녕."}


@pytest.mark.parametrize("change,message", [
    ({"segment_id": 1}, "en-ko_KR.jsonl:2: segment_id 1 was already used at"),
    ({"is_bad_source": "no"}, "en-ko_KR.jsonl:2: 'is_bad_source' must be true or false, not 'no'"),
    ({"domain": None}, "en-ko_KR.jsonl:2: 'domain' must be text, not None"),
    ({"segment_id": "abc"}, "en-ko_KR.jsonl:2: 'segment_id' must be a whole number, not 'abc'"),
    ({"segment_id": True}, "en-ko_KR.jsonl:2: 'segment_id' must be a whole number"),
    ({"document_id": " "}, "en-ko_KR.jsonl:2: 'document_id' is empty"),
    ({"lp": "en-ja_JP"}, "en-ko_KR.jsonl:2: its lp is 'en-ja_JP', not en-ko_KR"),
], ids=["duplicate", "bad-bool", "null-domain", "text-id", "bool-id", "empty-doc", "another-locale"])
def test_bad_wmt24pp_rows_are_named_with_their_line(tmp_path, change, message):
    from xling.data.parallel import load_parallel

    second = {**GOOD, "segment_id": 2, **change}
    (tmp_path / "wmt24pp").mkdir()
    (tmp_path / "wmt24pp" / "en-ko_KR.jsonl").write_text(json.dumps(GOOD) + "\n" + json.dumps(second) + "\n",
                                                         encoding="utf-8")
    with pytest.raises(XlingError) as caught:
        load_parallel("wmt24pp:en-ko_KR", tmp_path)
    assert message in str(caught.value)


def test_data_holding_only_the_canary_says_so(tmp_path, capsys, tiny_causal_base):
    canary = dict(GOOD, domain="canary", document_id="canary", segment_id=0, is_bad_source=True)
    (tmp_path / "wmt24pp").mkdir()
    (tmp_path / "wmt24pp" / "en-ko_KR.jsonl").write_text(json.dumps(canary) + "\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "eval", "mt", "--data", "wmt24pp:en-ko_KR", "--data-dir", tmp_path,
                           "-m", tiny_causal_base, "--out", tmp_path / "R", "--unit", "document")
    assert_error(code, err, "holds no segment to translate: only the canary")


def test_the_real_wmt24pp_files_pass_the_checks(data_dir):
    from xling.data.parallel import load_parallel

    data = load_parallel("wmt24pp:en-*", data_dir)
    assert len(set(data.ids)) == len(data.ids) > 900


# -- case 14: reports of runs without (all) their outputs -------------------------------------------------
def test_report_of_a_run_with_no_outputs_says_how_to_resume_it(tmp_path, capsys, tiny_causal_base):
    out = _mt_run(capsys, tmp_path, tiny_causal_base, "R",
                  {"ko": ["저는 학생입니다."], "en": ["I am a student."]}, "--langs", "ko,en")
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    del metrics["directions"]["en-ko"]                # killed while translating its second direction
    (out / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    (out / "outputs" / "en-ko.jsonl").unlink()
    code, text, err = run_cli(capsys, "report", out)
    assert code == 0 and "ko-en" in text
    assert "has finished 1 of its 2 directions" in err and "run the command that made it again" in err
    (out / "metrics.json").unlink()                   # killed before any direction finished
    for path in (out / "outputs").iterdir():
        path.unlink()
    code, _, err = run_cli(capsys, "report", out)
    assert_error(code, err, "has no finished outputs yet: it was stopped before it finished; run the command")
    holder = subprocess.Popen([sys.executable, "-c", "import time; from xling.runs.folder import RunDir\n"
                               f"run = RunDir({str(out)!r}).claim(); print('locked', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"locked"
        code, _, err = run_cli(capsys, "report", out)
        assert_error(code, err, "is being written by another xling process now")
    finally:
        holder.kill()
        holder.wait()


# -- case 17: messages that named the wrong thing ----------------------------------------------------------
@pytest.mark.parametrize("pair", ["ko-xx", "xx-ko", "zh-Hant-xx"])
def test_an_unknown_language_in_a_pair_is_named(tmp_path, capsys, pair):
    code, _, err = run_cli(capsys, "eval", "mt", "-p", pair, "--out", tmp_path / "R")
    assert_error(code, err, "unknown language code 'xx'")


@pytest.mark.parametrize("args, said", [(("-p", "ko-en-ja"), "a direction is SRC-TGT, one language on each side"),
                                        (("-l", "ko"), "--langs ko: give two or more languages")])
def test_a_direction_of_three_languages_or_one_language_alone_is_named_as_such(tmp_path, capsys, args, said):
    # (round 17: "unknown language code 'en-ja'", and "no translation directions" for -l ko)
    code, _, err = run_cli(capsys, "eval", "mt", *args, "--out", tmp_path / "R")
    assert_error(code, err, said)


def test_a_model_that_needs_remote_code_is_one_line(tmp_path, capsys, tiny_causal_base):
    import shutil

    model = tmp_path / "custom"
    shutil.copytree(tiny_causal_base, model)
    config = json.loads((model / "config.json").read_text(encoding="utf-8"))
    config.update(model_type="xling-custom", auto_map={"AutoConfig": "configuration_custom.CustomConfig"})
    (model / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (model / "configuration_custom.py").write_text(
        "from transformers import LlamaConfig\n\nclass CustomConfig(LlamaConfig):\n    model_type = 'xling-custom'\n",
        encoding="utf-8")
    code, _, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "-m", model, "안녕")
    line = assert_error(code, err, "needs its own Python code (remote code) to load")
    assert "--trust-remote-code" in line and "hf.co" not in err and len(err.strip().splitlines()) == 1


# -- case 4: many candidates are bounded work, with a bar ---------------------------------------------------
def test_mbr_in_bounded_groups_chooses_as_in_one(monkeypatch):
    from xling.translation import selection

    candidates = [[f"the cat {w} on the mat" for w in ("sat", "sits", "lay", "sat down")],
                  ["a dog barks", "the dog barks", "dogs bark loudly"], ["rain", "it rains", "rain falls"]]
    sources = ["s1", "s2", "s3"]
    whole, n_whole = selection.mbr(candidates, candidates, sources, "en", "chrf")
    monkeypatch.setattr(selection, "PAIRS_PER_CALL", 5)      # several calls, one source split too
    grouped, n_grouped = selection.mbr(candidates, candidates, sources, "en", "chrf")
    assert n_whole == n_grouped == 16 + 9 + 9
    assert [(c.index, c.scores) for c in whole] == [(c.index, c.scores) for c in grouped]


def test_candidates_from_the_shell_show_their_progress(capsys, tiny_causal_base):
    code, out, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "-m", tiny_causal_base, "-n", "3",
                             "--select", "mbr", "안녕하세요")
    assert code == 0, err
    assert "sampling candidates" in err and "MBR (chrf)" in err and len(out.splitlines()) == 1
    code, _, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "-m", tiny_causal_base, "-n", "200000",
                           "--select", "mbr", "안녕하세요")
    assert_error(code, err, "'--candidates' / '-n': must be at most 1,024")


def test_a_run_stopped_between_two_metrics_of_a_direction_is_not_reported_as_finished(tmp_path, capsys,
                                                                                      tiny_causal_base,
                                                                                      monkeypatch):
    """(audit round 26) metrics.json is saved after each metric, and a direction in it counted
    as finished: a run stopped between two metrics of its last direction was reported whole
    (exit 0, no word), with blank cells for the metrics never computed."""
    corpus_dir = tmp_path / "data"
    corpus_dir.mkdir()
    corpus = write_corpus(corpus_dir, {"ko": ["저는 학생입니다."], "en": ["I am a student."]})
    write_metrics = RunDir.write_metrics

    def stopped_after_its_first_metric(self, stored):
        write_metrics(self, stored)
        if "chrf" in stored["directions"].get("en-ko", {}).get("metrics", {}):
            raise KeyboardInterrupt

    monkeypatch.setattr(RunDir, "write_metrics", stopped_after_its_first_metric)
    args = ("eval", "mt", "-p", "ko-en,en-ko", "-m", tiny_causal_base, "--data", corpus, "--out", tmp_path / "R",
            "--metrics", "chrf,ter")
    assert main([str(a) for a in args]) == 130   # (Ctrl-C)
    monkeypatch.undo()
    capsys.readouterr()
    code, text, err = run_cli(capsys, "report", tmp_path / "R")
    assert code == 0 and "has finished 1 of its 2 directions" in err and "run the command that made it again" in err
    code, _, err = run_cli(capsys, *args)   # the resume scores what is missing: a whole run again
    assert code == 0, err
    code, text, err = run_cli(capsys, "report", tmp_path / "R")
    assert code == 0 and "has finished" not in err
    stored = json.loads((tmp_path / "R" / "metrics.json").read_text(encoding="utf-8"))["directions"]
    assert all("scoring" not in e and set(e["metrics"]) == {"chrf", "ter"} for e in stored.values())


def test_a_run_stopped_while_a_direction_scores_its_first_metric_is_reported_unfinished(tmp_path, capsys,
                                                                                        tiny_causal_base, monkeypatch):
    """(audit round 27) stopped during a direction's first metric (Table 15's xCOMET: minutes), the
    run had that direction's outputs and no metrics entry: `report` and `figures` refused the run
    ("metrics missing; rescore") instead of warning that it is not finished."""
    from xling.metrics import registry

    corpus_dir = tmp_path / "data"
    corpus_dir.mkdir()
    corpus = write_corpus(corpus_dir, {"ko": ["저는 학생입니다."], "en": ["I am a student."]})
    spec = registry.get("chrf")
    call = type(spec).__call__

    def stopped_in_en_ko(self, hyps, refs, srcs, tgt, **kwargs):
        if tgt == "ko":
            raise KeyboardInterrupt
        return call(self, hyps, refs, srcs, tgt, **kwargs)

    monkeypatch.setattr(type(spec), "__call__", stopped_in_en_ko)
    args = ("eval", "mt", "-p", "ko-en,en-ko", "-m", tiny_causal_base, "--data", corpus, "--out", tmp_path / "R",
            "--metrics", "chrf,ter")
    assert main([str(a) for a in args]) == 130   # (Ctrl-C)
    monkeypatch.undo()
    capsys.readouterr()
    code, text, err = run_cli(capsys, "report", tmp_path / "R")
    assert code == 0 and "has finished 1 of its 2 directions" in err, err
    code, _, err = run_cli(capsys, *args)
    assert code == 0, err
    code, text, err = run_cli(capsys, "report", tmp_path / "R")
    assert code == 0 and "has finished" not in err


def test_scores_of_a_direction_the_config_no_longer_names_are_said_to_be_so(tmp_path, capsys, tiny_causal_base):
    """(audit round 26) with config.json edited to drop a direction, the report said its outputs
    file was missing while it was there."""
    out = _mt_run(capsys, tmp_path, tiny_causal_base, "R", {"ko": ["저는 학생입니다."], "en": ["I am a student."]},
                  "--langs", "ko,en")
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    (out / "config.json").write_text(json.dumps(dict(config, directions=["ko-en"])), encoding="utf-8")
    code, _, err = run_cli(capsys, "report", out)
    assert_error(code, err, "has scores and outputs for en-ko, which its config.json does not name")


def test_a_rescore_stopped_between_two_metrics_leaves_the_run_finished(tmp_path, capsys, tiny_causal_base,
                                                                      monkeypatch):
    """(review B of round 26) the mark of a direction stopped mid-scoring was written by rescores
    too: a finished run whose `rescore -m ter,bleu` was stopped after TER was refused by `report`
    as having no finished outputs."""
    out = _mt_run(capsys, tmp_path, tiny_causal_base, "R", {"ko": ["저는 학생입니다."], "en": ["I am a student."]})
    write_metrics = RunDir.write_metrics

    def stopped_after_ter(self, stored):
        write_metrics(self, stored)
        if "ter" in stored["directions"]["ko-en"]["metrics"]:
            raise KeyboardInterrupt

    monkeypatch.setattr(RunDir, "write_metrics", stopped_after_ter)
    assert main(["rescore", str(out), "-m", "ter,bleu"]) == 130
    monkeypatch.undo()
    capsys.readouterr()
    code, text, err = run_cli(capsys, "report", out)
    assert code == 0 and "has finished" not in err and "TER" in text


def test_cli_mistakes_of_audit_round_27(tmp_path, capsys, tiny_causal_base):
    """(audit round 27) a run made before the marker had its outputs replaced by `translate -o`
    (and figures drawn inside it); a model's folder read as a run was "damaged, --overwrite it"
    (which --overwrite refuses); another task's or data set's template blamed on an edited one;
    a missing option value sent to `xling --help`; a direction given twice kept in the identity
    (a resume naming it once refused); an empty --data-dir read as $XLING_DATA."""
    out = _mt_run(capsys, tmp_path, tiny_causal_base, "R", {"ko": ["저는 학생입니다."], "en": ["I am a student."]})
    (out / ".xling-run").unlink()   # as a run made before the marker
    target = out / "outputs" / "ko-en.jsonl"
    before = target.read_bytes()
    code, _, err = run_cli(capsys, "translate", "-m", tiny_causal_base, "-s", "ko", "-t", "en", "-o", target, "안녕")
    assert_error(code, err, "is inside the run folder")
    assert target.read_bytes() == before
    code, _, err = run_cli(capsys, "figures", "-o", out / "figs")
    assert_error(code, err, "run folder")
    code, _, err = run_cli(capsys, "report", tiny_causal_base)
    last = assert_error(code, err, "is not an xling run folder")
    assert "--overwrite" not in last
    code, _, err = run_cli(capsys, "eval", "mt", "-p", "ko-en", "-m", tiny_causal_base, "--data", "flores200:dev",
                           "--out", out, "--metrics", "chrf", "--limit", "1")
    assert "differs in: data" in err and "its prompt template has changed" not in err
    for args, where in ((("translate", "-s"), "xling translate --help"),
                        (("eval", "mt", "-o"), "xling eval mt --help")):
        code, _, err = run_cli(capsys, *args)
        assert_error(code, err, f"(see `{where}`)")
    code, _, err = run_cli(capsys, "eval", "mt", "-p", "en-ko,eng_Latn-kor_Hang", "-m", tiny_causal_base,
                           "--out", tmp_path / "twice")
    assert_error(code, err, "names en-ko twice")
    assert not (tmp_path / "twice").exists()
    for command in (("data",), ("tokens",)):
        code, _, err = run_cli(capsys, *command, "--data-dir", "")
        assert_error(code, err, "'--data-dir': is empty")
