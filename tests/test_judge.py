"""LLM judges (GEMBA-MQM, GEMBA-ESA): parsing real answer shapes, the MQM arithmetic, judging
through the HTTP backend (a scripted server, and the real `transformers serve`), the cache, and
samples that report the judge's own spread."""
import json
import re
from pathlib import Path

import pytest
from helpers import assert_one_line_error, xling
from servers import FakeOpenAI

from xling.errors import XlingError
from xling.metrics.judge import ErrorSpan, mqm_score, parse_esa, parse_mqm

# Ten answers written for these tests, in the shapes judges really give.
MQM_ANSWERS = {
    "as asked": ('Critical:\nno-error\nMajor:\naccuracy/mistranslation - "bank"\nMinor:\n'
                 'fluency/punctuation - "!"', [("major", "accuracy/mistranslation", "bank"),
                                             ("minor", "fluency/punctuation", "!")]),
    "markdown and bullets": ('**Critical:**\n- no-error\n**Major:**\n- accuracy/omission - "the second clause"\n'
                             '- terminology - "CPU"\n**Minor:**\n- no-error',
                             [("major", "accuracy/omission", "the second clause"), ("major", "terminology", "CPU")]),
    "inline headings": ('Critical: no-error\nMajor: accuracy/addition - "very"\nMinor: style/awkward - "in order to"',
                        [("major", "accuracy/addition", "very"), ("minor", "style/awkward", "in order to")]),
    "no errors at all": ("No errors.", []),
    "critical only": ('Critical:\naccuracy/untranslated - "Hello world"\nMajor:\nno-error\nMinor:\nno-error',
                      [("critical", "accuracy/untranslated", "Hello world")]),
    "headings with 'errors' and CJK quotes": ('Major errors:\naccuracy/mistranslation - 「銀行」\nMinor errors:\nnone',
                                             [("major", "accuracy/mistranslation", "銀行")]),
    "preamble then layout": ('Here is my annotation.\n\nCritical:\nno-error\nMajor:\nno-error\nMinor:\n'
                             'fluency/grammar - "a apples"', [("minor", "fluency/grammar", "a apples")]),
    "the prompt echoed after the layout": ('Critical:\nno-error\nMajor:\nno-error\nMinor:\n'
                                           'style/awkward - "in order to"\n\nEnglish source:\nThe cat sleeps.\n'
                                           'Korean translation:\nThe cat is sleeping by the window today.',
                                           [("minor", "style/awkward", "in order to")]),
    # GEMBA counts every line under a severity that does not say "no error" (its parser, fetched)
    "errors in prose": ("Critical:\nno-error\nMajor:\nOmission of 'the supply'\nMinor:\nThere are no errors.",
                        [("major", "", "Omission of 'the supply'")]),
    # a blank line between severities (a base model's answer was cut there: "no errors", 0)
    "blank lines between severities": ('Critical:\nno-error\n\nMajor:\naccuracy/mistranslation - "x"\n'
                                       'accuracy/omission - "y"\n\nMinor:\nno-error',
                                       [("major", "accuracy/mistranslation", "x"),
                                        ("major", "accuracy/omission", "y")]),
    "blank lines between items": ('Major:\n\n- accuracy/omission - "a"\n\n- fluency/grammar - "b"\n\nOverall fine.',
                                  [("major", "accuracy/omission", "a"), ("major", "fluency/grammar", "b")]),
    # counts, not errors: "Critical: 0" was an error whose words were "0" (-25)
    "counts of none": ("Critical: 0\nMajor errors: 0\nMinor: 0", []),
    "a count without its errors": ("Critical: 0\nMajor: 1\nMinor: 0", None),
    "a count with its errors": ('Critical: 0\nMajor: 1\n- accuracy/omission - "x"\nMinor: 0',
                                [("major", "accuracy/omission", "x")]),
    "none in Korean, Japanese, Chinese": ("Critical:\n없음\nMajor:\nなし\nMinor:\n无错误", []),
    "the judge's own total and an explanation": ('Critical:\nno-error\nMajor:\nno-error\nMinor:\nno-error\n'
                                                 'MQM score: 0\n\n**Explanation:** The translation is fluent.', []),
    "apostrophes inside a span": ('Major:\naccuracy/mistranslation - "l\'homme qu\'il a vu"\nMinor:\n'
                                  "fluency/grammar - 'don't'",
                                  [("major", "accuracy/mistranslation", "l'homme qu'il a vu"),
                                   ("minor", "fluency/grammar", "don't")]),
    # (the review of round 12) an item after a blank line in any shape is still an item; a count
    # is compared with the severity the error was listed under (a non-translation is critical)
    "items in prose after a blank line": ("Major:\nMistranslation - 'x'\n\nThe date '5 May' is omitted.\n"
                                          "Minor:\nno-error",
                                          [("major", "mistranslation", "x"),
                                           ("major", "", "The date '5 May' is omitted.")]),
    "a count and a non-translation": ("Critical: 0\nMajor: 1\n- non-translation - 'x'\nMinor: 0",
                                      [("critical", "non-translation", "x")]),
    # (audit round 18) a count other than the errors listed under it: which are missing, or extra?
    "a count above the errors listed": ('Critical: 0\nMajor: 3\naccuracy/mistranslation - "a"\nMinor: 0', None),
    "a count below the errors listed": ('Critical: 0\nMajor: 1\naccuracy/mistranslation - "a"\n'
                                        'accuracy/omission - "b"\nMinor: 0', None),
    "a quoted span with a Korean particle": ("Major:\naccuracy/mistranslation - '사과'를 잘못 번역함",
                                             [("major", "accuracy/mistranslation", "사과")]),
    # (review 2) what a chat judge writes after the list is no error
    "a correction and a total after the list": ('Critical:\nno-error\nMajor:\naccuracy/mistranslation - "Bank"\n'
                                                'Minor:\nno-error\n\nCorrected translation: Die Bank ist zu.\n'
                                                'Total: -5\n\nI hope this helps!\n\n---',
                                                [("major", "accuracy/mistranslation", "Bank")]),
    "the prompt echoed after a blank line": ('Major:\naccuracy/mistranslation - "Bank"\n\nSource: The bank is closed.',
                                             [("major", "accuracy/mistranslation", "Bank")]),
    "a Ukrainian apostrophe inside a quoted word": ("Major:\naccuracy/mistranslation - 'сім'я' is wrong",
                                                    [("major", "accuracy/mistranslation", "сім'я")]),
    # (review 3) items after a blank line by their shape, remarks after the list by theirs
    "numbered (1) (2) after a blank line": ("Major:\n(1) accuracy/omission - x\n\n(2) fluency/grammar - y",
                                            [("major", "accuracy/omission", "x"), ("major", "fluency/grammar", "y")]),
    "categories in Korean": ("Major:\n정확성/오역 - 사과\n\n정확성/누락 - 배",
                             [("major", "", "정확성/오역 - 사과"), ("major", "", "정확성/누락 - 배")]),
    "a category's grade after the list": ('Major:\naccuracy/mistranslation - "bank"\nMinor:\nno-error\n\n'
                                          'Accuracy: 4/5\nFluency: 5/5\n\n- Corrected translation: Die Bank.',
                                          [("major", "accuracy/mistranslation", "bank")]),
    "a category said to have none": ("Critical:\nnon-translation: none\nMajor:\naccuracy/mistranslation: \"bank\"\n"
                                     "Minor:\nfluency/grammar: none",
                                     [("major", "accuracy/mistranslation", "bank")]),
    "an explanation under an item": ('Major:\naccuracy/mistranslation - "bank"\nExplanation: should be Geldinstitut\n'
                                     'Minor:\nno-error', [("major", "accuracy/mistranslation", "bank")]),
    # round 16: headings in another language were skipped and the "keine" under one of them made
    # the answer read as "no errors" (0, perfect); errors listed under no heading the same
    "headings in German": ('Kritisch:\nkeine\nSchwer:\nGenauigkeit/Fehlübersetzung - "Birnen"\nLeicht:\nkeine', None),
    "headings in Korean": ('치명적:\n없음\n주요:\n정확성/오역 - "사과"\n경미:\n없음', None),
    "an error after 'no errors'": ('No errors.\naccuracy/mistranslation - "x"', None),
    # (the review) a preamble, an echo, a remark or GEMBA's own "no-error" beside "no errors" is none
    "GEMBA's no-error alone": ("no-error", []),
    "a preamble before no errors": ("Here is the annotation:\nNo errors.", []),
    "the prompt echoed before no errors": ("Source: Der Hund bellt.\nTranslation: The dog barks.\n\nNo errors.", []),
    "a remark after no errors": ('No errors.\n\nNote: "Hund" could also be translated as "hound".', []),
    "errors: none": ("Errors:\nNone", []),
    "none under every German heading": ("Kritisch:\nkeine\nSchwer:\nkeine\nLeicht:\nkeine", []),
    "two headings left empty": ("Major:\nMinor:\n", []),
    # (the third review) a quoted error in prose before "no other errors", errors under an unknown
    # heading whatever their first word; the prompt echoed in GEMBA's multi-line layout
    "a quoted error before 'no other errors'": ('"Bank" is mistranslated as "bench".\nNo other errors.', None),
    "an error under an unknown heading opening with 'Translation'": (
        'Severe errors:\nnone\nModerate errors:\n- Translation of "bank" as "bench" is wrong\n'
        'Small errors:\nnone', None),
    "the prompt echoed on several lines": ("Source:\nDer Hund bellt.\nTranslation:\nThe dog barks.\n\nNo errors.", []),
    "a remark after no errors under a preamble": ("Here is the annotation:\nNo errors.\n\nExplanation: fluent.", []),
    # a base model that ended at the template's "Critical:\n" prefix said nothing (was 0, perfect)
    "the answer prefix alone": ("Critical:\n", None),
    "every heading, nothing under any": ("Critical:\nMajor:\nMinor:\n", []),
    "counts in words": ("Critical: zero\nMajor: zero\nMinor: zero", []),
    "a count in words without its error": ("Critical: zero\nMajor: one\nMinor: zero", None),
    "prose refusal": ("I cannot evaluate this translation without more context.", None),
    "empty": ("", None),
    "a rating instead": ("The translation quality is 7/10.", None),
    # (audit round 21) the list number of the next line was an error under the one before: -25
    "numbered severities": ("1. Critical: no-error\n2. Major: no-error\n3. Minor: no-error", []),
    "numbered, bold": ("**1. Critical:** no-error\n**2. Major:** no-error\n**3. Minor:** no-error", []),
    "lettered with errors": ('a) Major: accuracy/mistranslation - "Bank"\nb) Minor: fluency/punctuation - "!"',
                             [("major", "accuracy/mistranslation", "Bank"), ("minor", "fluency/punctuation", "!")]),
    "dashes as none": ("Critical:\n—\nMajor:\n–\nMinor:\n-", []),
}


@pytest.mark.parametrize("name", MQM_ANSWERS)
def test_mqm_answers_are_parsed_or_refused(name):
    answer, expected = MQM_ANSWERS[name]
    errors = parse_mqm(answer)
    if expected is None:
        assert errors is None
    else:
        assert [(e.severity, e.category, e.span) for e in errors] == expected


def test_mqm_arithmetic():
    def e(severity):
        return ErrorSpan(severity, "accuracy", "x")

    assert mqm_score([]) == 0
    assert mqm_score([e("minor"), e("minor"), e("major")]) == -7
    assert mqm_score([e("critical")]) == -25
    assert mqm_score([e("critical"), e("major")]) == -25          # floored at -25
    assert mqm_score([e("major")] * 4 + [e("minor")] * 3) == -21   # only the first five count
    assert mqm_score([e("minor")] * 7) == -5
    assert mqm_score([e("minor")] * 3 + [e("major")] * 2) == -13   # most severe counted first
    assert mqm_score([e("minor")] * 6 + [e("major")]) == -9


def test_a_non_translation_error_is_critical_under_any_heading():
    for answer in ('Critical:\nno-error\nMajor:\nno-error\nMinor:\nnon-translation - "Hello"',
                   'Minor: non-translation - "Hello"', "Major:\nNon-translation"):
        errors = parse_mqm(answer)
        assert [e.severity for e in errors] == ["critical"], answer
        assert mqm_score(errors) == -25


def test_esa_answers():
    spans, score = parse_esa('major - "bank"\nminor - "!"\nScore: 62')
    assert score == 62 and [(s.severity, s.span) for s in spans] == [("major", "bank"), ("minor", "!")]
    assert parse_esa("no-error\n**Score:** 95/100")[1] == 95
    assert parse_esa("no-error\n88")[1] == 88
    assert parse_esa("The translation is good.") is None
    assert parse_esa("") is None and parse_esa(" \n ") is None   # (round 18's review: an IndexError)
    assert parse_esa("Score: 140") is None                       # out of range: never clipped


def _mqm_judge(payload):
    """A scripted judge: one major error for translations containing 'bank', none otherwise,
    and an unparseable answer for 'gibberish'."""
    user = payload["messages"][-1]["content"]
    translation = user.rsplit("translation:\n", 1)[1]
    if "gibberish" in translation:
        return "I am not sure what to say."
    if "bank" in translation:
        return 'Critical:\nno-error\nMajor:\naccuracy/mistranslation - "bank"\nMinor:\nno-error'
    if "many" in translation:   # seven errors: only the first five (most severe first) count
        words = "many errors sit in one long line".split()
        return ('Critical:\nno-error\nMajor:\n' + "".join(f'accuracy/omission - "{w}"\n' for w in words[:2])
                + 'Minor:\n' + "\n".join(f'fluency/grammar - "{w}"' for w in words[2:]))
    if "untranslated" in translation:
        return 'Critical:\nno-error\nMajor:\nno-error\nMinor:\nnon-translation - "untranslated"'
    return "Critical:\nno-error\nMajor:\nno-error\nMinor:\nno-error"


@pytest.fixture
def judge_server():
    server = FakeOpenAI(respond=_mqm_judge)
    yield server
    server.close()


def _files(tmp_path, hyps):
    (tmp_path / "src.en").write_text("I went to the river side.\nHello.\nGood morning.\n", encoding="utf-8")
    (tmp_path / "hyp.ko").write_text("\n".join(hyps) + "\n", encoding="utf-8")
    return ["-i", str(tmp_path / "hyp.ko"), "-s", str(tmp_path / "src.en"), "--src-lang", "en", "-t", "ko"]


def test_a_judge_over_http_scores_parses_and_caches(judge_server, tmp_path):
    args = _files(tmp_path, ["나는 bank 에 갔다.", "안녕하세요.", "gibberish"])
    env = {"XLING_CACHE": str(tmp_path / "cache")}
    result = xling("score", *args, "-m", "gemba-mqm", "--judge-model", "judge",
                   "--judge-base-url", judge_server.url, "-f", "json", env=env)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)["systems"][str(tmp_path / "hyp.ko")]["gemba-mqm"]
    assert out["score"] == pytest.approx(-2.5)                   # (-5 + 0) / 2 parsed segments
    assert out["extra"]["unparseable"] == 1
    assert [j["score"] for j in out["extra"]["judgments"]] == [-5, 0, None]
    assert out["extra"]["judgments"][2]["answers"] == ["I am not sure what to say."]
    assert "parsed:2/3" in out["signature"] and "weights:critical=25,major=5,minor=1,floor=-25" in out["signature"]
    assert judge_server.requests == 3
    again = xling("score", *args, "-m", "gemba-mqm", "--judge-model", "judge",
                  "--judge-base-url", judge_server.url, "-f", "json", env=env)
    assert again.returncode == 0 and json.loads(again.stdout) == json.loads(result.stdout)
    assert judge_server.requests == 3                             # every answer from the cache


def test_gemba_rules_through_a_scripted_judge(judge_server, tmp_path):
    """Seven errors count as the first five, most severe first (2 x 5 + 3 x 1); a
    non-translation listed as minor counts as critical; both rules are in the signature."""
    args = _files(tmp_path, ["many errors sit in one long line", "untranslated", "안녕하세요."])
    result = xling("score", *args, "-m", "gemba-mqm", "--judge-model", "judge",
                   "--judge-base-url", judge_server.url, "-f", "json",
                   env={"XLING_CACHE": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)["systems"][str(tmp_path / "hyp.ko")]["gemba-mqm"]
    assert [j["score"] for j in out["extra"]["judgments"]] == [-13, -25, 0]
    assert [e["severity"] for e in out["extra"]["judgments"][1]["errors"]] == ["critical"]
    assert "rules:first5+non-translation=critical" in out["signature"]


def test_an_answer_that_repeats_the_templates_example_is_not_a_judgment(tmp_path):
    from xling.backends.http import HTTPBackend
    from xling.metrics.judge import judge

    parrot = FakeOpenAI(respond=lambda payload: 'Critical:\nno-error\nMajor:\naccuracy/mistranslation - '
                                                '"the wrong words"\nMinor:\nno-error')
    try:
        backend = HTTPBackend("judge", parrot.url, max_retries=0)
        with pytest.raises(XlingError, match="no parseable GEMBA-MQM answer for any of 2 segments"):
            judge(["안녕.", "고양이."], ["Hello.", "Cat."], "ko", src_lang="en", backend=backend)
    finally:
        parrot.close()


def test_judge_samples_report_the_spread(judge_server, tmp_path):
    from xling.backends.http import HTTPBackend
    from xling.metrics.judge import judge

    backend = HTTPBackend("judge", judge_server.url, max_retries=0)
    result = judge(["나는 bank 에 갔다.", "안녕."], ["I went to the river side.", "Hello."], "ko",
                   src_lang="en", samples=3, backend=backend)
    assert judge_server.requests == 6 and result.score == pytest.approx(-2.5)
    assert result.extra["judge_std"] == [0.0, 0.0] and "samples:3" in result.signature
    assert result.extra["judgments"][0]["sample_scores"] == [-5, -5, -5]


def test_a_judge_with_nothing_parseable_is_one_clear_error(tiny_causal, tmp_path):
    # The real `transformers serve` with a tiny random chat model: it answers, but never in the
    # asked layout.
    from servers import TransformersServer

    # A short judge template of our own: the tiny model's context is 2,048 positions.
    template = tmp_path / "short-mqm.yaml"
    template.write_text("format: judge\nkind: mqm\nuser: 'Errors of {translation} ({source})?'\n",
                        encoding="utf-8")
    server = TransformersServer()
    server.warm(str(tiny_causal))
    try:
        args = _files(tmp_path, ["나는 강가에 갔다.", "안녕하세요.", "좋은 아침."])
        result = xling("score", *args, "-m", "gemba-mqm", "--judge-model", str(tiny_causal),
                       "--judge-base-url", server.url, "--judge-template", str(template))
    finally:
        server.close()
    assert_one_line_error(result, "gave no parseable GEMBA-MQM answer for any of 3 segments")


def test_a_judge_whose_prompt_and_answer_pass_its_window_is_one_clear_error(tiny_causal_base, tmp_path):
    """(audit round 25) a judge's requests were never checked against its context window: one
    of 48 positions wrote 512 tokens past it and was then told to raise --judge-max-tokens (with
    learned positions: a traceback)."""
    import shutil

    judge_model = tmp_path / "w48"
    shutil.copytree(tiny_causal_base, judge_model)
    config = json.loads((judge_model / "config.json").read_text())
    (judge_model / "config.json").write_text(json.dumps(dict(config, max_position_embeddings=48)))
    args = _files(tmp_path, ["나는 강가에 갔다.", "안녕하세요.", "좋은 아침."])
    result = xling("score", *args, "-m", "gemba-esa", "--judge-model", str(judge_model))
    assert_one_line_error(result, "of answer) does not fit the model's context window of 48 tokens")
    assert re.search(r"error: item 1 \(\d+ tokens of prompt and 512 of answer\)", result.stderr.decode())


def test_judge_templates_need_source_and_translation(tmp_path):
    from xling.prompts.templates import load_template

    bad = tmp_path / "my-judge.yaml"
    bad.write_text("format: judge\nkind: mqm\nuser: 'Rate {translation}'\n", encoding="utf-8")
    with pytest.raises(XlingError, match="must contain {source}"):
        load_template(str(bad))
    bad.write_text("format: judge\nkind: stars\nuser: '{source} {translation}'\n", encoding="utf-8")
    with pytest.raises(XlingError, match="'kind' must be one of mqm, esa"):
        load_template(str(bad))


def test_lower_is_better_metrics_pick_the_right_winner():
    from xling.metrics.base import mean_result
    from xling.metrics.significance import paired_test

    # MetricX-like segment scores (0 best): the second system is clearly lower, so better.
    base = mean_result("MetricX", [8.0, 9.0, 7.5, 8.5, 9.5, 8.0, 7.0, 9.0] * 4, "m")
    other = mean_result("MetricX", [3.0, 2.5, 3.5, 2.0, 3.0, 2.5, 3.0, 2.0] * 4, "m")
    base.higher_is_better = other.higher_is_better = False
    (p,) = paired_test(base, {"new": other}, "bs", 200, 1)
    assert p.delta < 0 and p.better and p.p_value < 0.05


def test_a_judge_template_is_not_a_translation_template():
    from xling.translation.translator import Translator

    with pytest.raises(XlingError, match="is a judge template, not a translation template"):
        Translator(backend=object(), template="gemba-mqm")


def test_a_judge_server_gets_the_runs_timeout_and_retries(tmp_path, monkeypatch):
    """A judge that never answers fails after the run's own timeout and retry count (not the
    defaults of 120 s and 5 retries)."""
    from xling.errors import XlingError
    from xling.metrics.registry import get

    monkeypatch.setenv("XLING_CACHE", str(tmp_path / "cache"))
    stalled = FakeOpenAI(stall=30)
    try:
        with pytest.raises(XlingError, match="after 1 retries"):
            get("gemba-mqm")(["안녕하세요."], None, ["Hello."], "ko", model="judge", base_url=stalled.url,
                             src_lang="en", request_timeout=0.3, max_retries=1, concurrency=1)
    finally:
        stalled.close()
    assert stalled.requests == 2


def test_a_judge_template_shows_its_demonstration_turns(tmp_path):
    """GEMBA-MQM's prompt is 3-shot: a judge template had system and user only (other keys were
    accepted and never sent, yet changed the template's hash)."""
    from xling.backends.http import HTTPBackend
    from xling.data.languages import resolve
    from xling.metrics.judge import judge
    from xling.prompts.templates import load_template

    template = tmp_path / "fewshot-mqm.yaml"
    template.write_text("""format: judge
kind: mqm
system: You annotate errors.
shots:
  - user: "Source: Guten Morgen. Translation: Good evening."
    assistant: |-
      Critical:
      no-error
      Major:
      accuracy/mistranslation - "evening"
      Minor:
      no-error
user: "Source: {source} Translation: {translation}"
""", encoding="utf-8")
    seen = []
    server = FakeOpenAI(respond=lambda payload: seen.append(payload["messages"]) or
                        "Critical:\nno-error\nMajor:\nno-error\nMinor:\nno-error")
    try:
        result = judge(["안녕."], ["Hello."], "ko", src_lang="en", template=str(template),
                       backend=HTTPBackend("judge", server.url, max_retries=0))
    finally:
        server.close()
    assert [(m["role"], m["content"]) for m in seen[0]] == [
        ("system", "You annotate errors."), ("user", "Source: Guten Morgen. Translation: Good evening."),
        ("assistant", 'Critical:\nno-error\nMajor:\naccuracy/mistranslation - "evening"\nMinor:\nno-error'),
        ("user", "Source: Hello. Translation: 안녕.")]
    assert result.score == 0
    # as text for a base model: each demonstration answered, then the judged one
    text = load_template(str(template)).render_judgment(resolve("en"), resolve("ko"), "Hello.", "안녕.",
                                                        chat=False).text
    assert text.index("Good evening.\n\nAnswer:\nCritical:") < text.index("Source: Hello.")
    template.write_text("format: judge\nkind: mqm\nshots: [{user: 'x'}]\nuser: '{source} {translation}'\n",
                        encoding="utf-8")
    with pytest.raises(XlingError, match="'shots' is a list of turns"):
        load_template(str(template))


def test_stored_judge_and_off_target_scores_of_older_rules_are_made_again():
    """The parser's rules changed scores ("Critical: 0" was -25) under one signature, and stored
    scores were kept on resume and rescore."""
    from xling.metrics.registry import get

    for name in ("gemba-mqm", "offtarget"):
        spec = get(name)
        current = spec.made_with({})
        assert "rules" in current and spec.stale(current, current) == []
        assert spec.stale({k: v for k, v in current.items() if k != "rules"}, current) == [
            f"version of its rules (not recorded then; now {current['rules']})"]
        assert spec.stale(dict(current, rules="old1"), current) == [
            f"version of its rules (old1; now {current['rules']})"]


def test_a_base_model_judge_is_not_stopped_at_a_blank_line():
    """Its answer was cut at the first blank line: the errors after it were lost and the
    segment scored 0 ("no errors"), counted as parsed."""
    from xling.metrics.judge import _base_model_stops
    from xling.prompts.templates import load_template

    stops = _base_model_stops(load_template("gemba-mqm"))
    assert "\n\n" not in stops and "\nCritical:" in stops and "\nAnswer:" in stops
    assert "\nFind the errors in the" in stops          # the template's first words: a new prompt


@pytest.mark.parametrize("nothing", ["None found.", "No major errors.", "No critical errors", "No issues found.",
                                     "None identified.", "(none)", "Nothing to report.", "No mistakes.",
                                     "There are no major errors.", "None - the translation is accurate."])
def test_a_judge_saying_there_is_nothing_in_its_own_words_marks_no_error(nothing):
    """"Critical:\\nNo critical errors." was one critical error (-25, the floor) for a perfect translation."""
    errors = parse_mqm(f"Critical:\n{nothing}\nMajor:\n{nothing}\nMinor:\n{nothing}")
    assert errors == [] and mqm_score(errors) == 0
    assert mqm_score(parse_mqm(f'Critical:\n{nothing}\nMajor:\naccuracy/omission - "the cat"\nMinor:\n{nothing}')) == -5


@pytest.mark.parametrize("answer", ["Score: 70-80", "Score: 85–90", "My score: 70 to 80", "Score: 85\nScore: 40",
                                    "Score: 0.85",
                                    # (audit round 18) other dashes, words, two numbers, a revised one
                                    "Score: 70—80", "Score: 70~80", "Score: 70 bis 80", "Score: 70 或 80",
                                    "Score: 85, 90", "Score: 85 90", "Score: 85 (90)", "Score: 85 and 90",
                                    "Score: 85/100 (revised: 70/100)", "85\n90", "Score: 85, 90 points"])
def test_an_esa_range_or_two_scores_or_a_fraction_is_no_score(answer):
    assert parse_esa(answer) is None


def test_an_esa_score_line_is_not_replaced_by_a_later_mention_in_prose():
    assert parse_esa("no-error\nScore: 85\nThis translation would score 20 if it dropped the verb.")[1] == 85


def test_an_error_span_that_also_occurs_in_the_instructions_is_a_judgment(tmp_path):
    """"clear" and "text" are words of the template's instructions, not its example span: an
    answer marking them was thrown away as a repeated instruction (score biased to no error)."""
    from xling.backends.http import HTTPBackend
    from xling.metrics.judge import judge

    answers = {"Good.": "Critical:\nno-error\nMajor:\nno-error\nMinor:\nno-error",
               "The sky is blue.": 'Critical:\nno-error\nMajor:\naccuracy/omission - "clear"\nMinor:\nno-error',
               "Read the message.": 'Critical:\nno-error\nMajor:\naccuracy/mistranslation - "text"\nMinor:\nno-error'}
    server = FakeOpenAI(respond=lambda payload: answers[payload["messages"][-1]["content"].rsplit("\n", 1)[1]])
    try:
        result = judge(list(answers), ["좋다.", "하늘이 맑고 파랗다.", "문자를 읽어라."], "en", src_lang="ko",
                       backend=HTTPBackend("judge", server.url, max_retries=0))
    finally:
        server.close()
    assert result.segments == [0, -5, -5] and "parsed:3/3" in result.signature


def test_a_judge_template_edited_in_place_makes_its_stored_scores_stale(tmp_path):
    """rescore kept the old prompt's GEMBA scores after the template file was edited (models were
    compared by content, the template by path only)."""
    from xling.metrics.registry import get

    spec = get("gemba-mqm")
    builtin = (Path(__file__).parent.parent / "xling" / "prompts" / "builtin" / "gemba-mqm.yaml").read_text()
    mine = tmp_path / "my.yaml"
    mine.write_text(builtin.replace("name: gemba-mqm", "name: my-mqm"), encoding="utf-8")
    stored = spec.made_with({"judge_template": str(mine)})
    mine.write_text(mine.read_text().replace("Find the errors", "Find all the errors"), encoding="utf-8")
    now = spec.made_with({"judge_template": str(mine)})
    assert spec.stale(stored, now) == ["template (its files changed)"]
    assert spec.stale(now, spec.made_with({"judge_template": str(mine)})) == []


@pytest.mark.parametrize("line", ["None of the numbers match the source.", "Nothing of the second clause is translated",
                                  'No issues, but a style problem: "x"'])
def test_an_error_line_opening_with_no_or_none_is_still_an_error(line):
    assert mqm_score(parse_mqm(f"Critical:\nno-error\nMajor:\n{line}\nMinor:\nno-error")) == -5


@pytest.mark.parametrize("answer, score", [("Score: 85 out of 100", 85), ("Score: 85 (out of 100)", 85),
                                           ("- Score: 90", 90), ("1. Score: 75", 75), ("Translation score: 80", 80),
                                           ("ESA Score: 85", 85), ("Score: 90 (only 1 minor issue)", 90),
                                           ("Score: 85 (0-100)", 85), ("Score: 85. 2 minor errors.", 85),
                                           ("Score: 85 (2 minor errors)", 85), ("Score: 85, 2 minor errors", 85),
                                           ("Score: 85/100 — 2 minor errors", 85), ("Score: 95 (0 errors)", 95),
                                           ("Score: 70 (12 minor errors)", 70), ("Score: 85 (100 = perfect)", 85)])
def test_common_score_lines_are_read(answer, score):
    assert parse_esa(f"no-error\n{answer}")[1] == score


def test_another_scale_written_out_is_no_score():
    assert parse_esa("Score: 8 out of 10") is None


@pytest.mark.parametrize("answer", [
    "Critical: no-error, Major: no-error, Minor: no-error",          # one line: was read as one critical error
    "Critical: none. Major: none. Minor: none.",
    "Critical:\nKeine\nMajor:\nKeine\nMinor:\nKeine",                 # the target's own "none": three errors (-25)
    "Critical:\nAucune\nMajor:\nНет\nMinor:\nNinguno",
    "Critical:\n0\nMajor:\n0\nMinor:\n0",                             # a count on the next line
    "Critical:\nno-error\nMajor:\nno-error\nMinor:\nNone that I can see.",
    "Critical:\nno-error\nMajor:\nno-error\nMinor:\nNot applicable.",
    "Critical:\nno-error\nMajor:\nno-error\nMinor:\nno-error\n\nPerfect.",   # praise after a clean list
])
def test_a_perfect_translation_said_otherwise_has_no_error(answer):
    assert parse_mqm(answer) == []


def test_errors_on_one_line_or_after_a_clean_list_still_count():
    assert mqm_score(parse_mqm('Critical: no-error, Major: accuracy/mistranslation - "x", Minor: no-error')) == -5
    assert mqm_score(parse_mqm('Critical:\nno-error\nMajor:\nno-error\nMinor:\nno-error\n\n'
                               'fluency/grammar - "y"')) == -1


@pytest.mark.parametrize("answer", ["Score: 85\nRevised score: 60", "Score: 9\nActually, Score: 7",
                                    "Score: 85; Score: 40", "Score: 85 or 90", "Score: 85 (or 90)",
                                    "Score: 85 - but honestly 40", "Final score: 70 but honestly it's more like 65",
                                    "Score: 70 out of 100, but 75 if lenient", "Score: 85\nMy score: 40"])
def test_an_esa_answer_revising_or_hedging_its_score_is_no_score(answer):
    """The first of two stated scores was taken ("Score: 9\\nActually, Score: 7" scored 9)."""
    assert parse_esa(answer) is None
    assert parse_esa("Score: 85\nFinal score: 85")[1] == 85


def test_a_judge_template_showing_a_reference_needs_one_and_says_it_read_it(tmp_path):
    """Without -r the judge was shown an empty reference, and scored."""
    from xling.backends.http import HTTPBackend
    from xling.metrics.judge import judge

    builtin = (Path(__file__).parent.parent / "xling" / "prompts" / "builtin" / "gemba-esa.yaml").read_text()
    assert "  {translation}" in builtin
    mine = tmp_path / "esa-ref.yaml"
    mine.write_text(builtin.replace("name: gemba-esa", "name: esa-ref").replace(
        "  {translation}", "  {translation}\n\n  Reference: {reference}", 1), encoding="utf-8")
    seen = []
    server = FakeOpenAI(respond=lambda payload: seen.append(payload["messages"][-1]["content"]) or "Score: 80")
    try:
        backend = HTTPBackend("judge", server.url, max_retries=0)
        with pytest.raises(XlingError, match="shows a reference .*give references"):
            judge(["안녕."], ["Hello."], "ko", kind="esa", src_lang="en", template=str(mine), backend=backend)
        result = judge(["안녕."], ["Hello."], "ko", kind="esa", src_lang="en", refs=["안녕하세요."],
                       template=str(mine), backend=backend)
    finally:
        server.close()
    assert result.score == 80 and "|ref:yes" in result.signature and "Reference: 안녕하세요." in seen[-1]


def test_a_judge_answer_cut_at_its_token_limit_is_not_scored_as_complete(tiny_causal):
    """An MQM answer that stopped before "Minor:" scored as if it had listed every error."""
    from xling.backends.http import HTTPBackend
    from xling.metrics.judge import judge

    cut = 'Critical:\nno-error\nMajor:\naccuracy/omission - "the cat"\nExplanation: the word is'
    server = FakeOpenAI(respond=lambda payload: cut if "고양이" in payload["messages"][-1]["content"]
                        else "Critical:\nno-error\nMajor:\nno-error\nMinor:\nno-error")
    try:
        backend = HTTPBackend("judge", server.url, max_retries=0, tokenizer=str(tiny_causal), chat=True)
        assert backend.count_tokens(cut) > 12
        result = judge(["안녕.", "고양이."], ["Hello.", "The cat."], "ko", src_lang="en", backend=backend,
                       max_new_tokens=max(12, backend.count_tokens(cut)))
    finally:
        server.close()
    assert result.segments == [0, None] and result.extra["truncated"] == 1 and "parsed:1/2" in result.signature


def test_a_judge_whose_every_answer_was_cut_is_told_to_raise_its_token_limit():
    """(audit round 19) The error quoted "Score: 85" as unparseable and said to try a stronger
    judge: every answer had reached its token limit (the server said so)."""
    from xling.backends.http import HTTPBackend
    from xling.metrics.judge import judge

    server = FakeOpenAI(respond=lambda payload: ("Score: 85", "length"))
    try:
        backend = HTTPBackend("judge", server.url, max_retries=0, chat=True)
        with pytest.raises(XlingError, match=r"any of 2 segments \(e.g. 'Score: 85'\); 2 of its 2 answers reached 16 "
                                             r"tokens \(cut answers are unparseable\): raise --judge-max-tokens"):
            judge(["안녕.", "고양이."], ["Hello.", "The cat."], "ko", src_lang="en", backend=backend,
                  kind="esa", max_new_tokens=16)
    finally:
        server.close()


def test_a_judge_whose_answers_a_content_filter_stopped_is_not_told_to_raise_its_token_limit(capsys):
    """(audit round 26) answers a server's content filter stopped (finish_reason content_filter)
    were said to have reached the token limit, with the advice to raise it, and counted as
    truncated; the reason holds for answers read back from the cache too."""
    from xling.backends.http import HTTPBackend
    from xling.metrics.judge import judge

    server = FakeOpenAI(respond=lambda payload: ("Score: 85", "content_filter"))
    for run in range(2):   # the second from the cache, the server gone
        with pytest.raises(XlingError) as refused:
            judge(["안녕.", "고양이."], ["Hello.", "The cat."], "ko", src_lang="en", kind="esa", max_new_tokens=16,
                  backend=HTTPBackend("judge", server.url, max_retries=0, chat=True))
        server.close()
        assert "2 of its 2 answers were stopped by the server's content filter (finish_reason content_filter): " \
               "a larger --judge-max-tokens cannot help" in str(refused.value)
        assert "reached 16 tokens" not in str(refused.value) and "raise --judge-max-tokens" not in str(refused.value)
    assert server.requests == 2
    # one answer filtered beside a readable one: counted apart from the answers the budget cut
    server = FakeOpenAI(respond=lambda payload: ("Score: 40", "content_filter")
                        if "고양이" in payload["messages"][-1]["content"] else "Score: 90")
    try:
        result = judge(["안녕.", "고양이."], ["Hello.", "The cat."], "ko", kind="esa", src_lang="en",
                       backend=HTTPBackend("judge", server.url, max_retries=0, chat=True))
    finally:
        server.close()
    assert result.segments == [90, None] and result.extra["filtered"] == 1 and "truncated" not in result.extra
    assert "(1 stopped by the server's content filter)" in capsys.readouterr().err


@pytest.mark.parametrize("heading", ["Other errors:", "Severe:", "Blocker:", "Additional errors:",
                                     "However, there is one issue:"])
def test_errors_under_a_heading_xling_cannot_read_beside_known_ones_are_unparseable(heading):
    """(audit round 26) once any severity heading was known, the errors under one xling could
    not read were dropped: 'Critical:\nno-error\nOther errors:\naccuracy/... - "x"\nMinor:\nno-error'
    scored 0, counted as parsed."""
    from xling.metrics.judge import final_answer

    error = 'accuracy/mistranslation - "x"'
    for answer in (f"Critical:\nno-error\n{heading}\n{error}\nMinor:\nno-error",
                   f"Critical:\nno-error\nMajor:\nno-error\nMinor:\nno-error\n\n{heading}\n- {error}",
                   f"{heading}\n{error}\nCritical:\nno-error\nMajor:\nno-error\nMinor:\nno-error"):
        assert parse_mqm(final_answer(answer)) is None, answer
    # a category as a heading of its own, the words under it
    assert parse_mqm('Critical:\nno-error\nMajor:\naccuracy/mistranslation:\n"x" for "y"\nMinor:\nno-error') is None
    # a remark or the prompt echoed under a heading of its own stays no error
    for aside in ("Source:", "Explanation:", "Corrected translation:", "Notes:", "Summary:"):
        assert parse_mqm(f'Critical:\nno-error\nMajor:\nno-error\nMinor:\nno-error\n{aside}\n"x" is right') == []
    assert parse_mqm("Critical:\nno-error\nMajor:\nno-error\nMinor:\nno-error\n\nHere is why:\nIt reads well.") == []


@pytest.mark.parametrize("heading", ["Major errors:", "Major issues:", "Major (1):", "Major Error(s):",
                                     "Major (continued):", "**Major issues:**", "MAJOR ERRORS"])
def test_a_severity_heading_in_other_words_is_read_as_that_severity(heading):
    """(audit round 26) "Major issues:", "Major (1):" and the like were headings xling could not
    read: their errors were dropped beside known headings."""
    from xling.metrics.judge import final_answer

    answer = f'Critical:\nno-error\n{heading}\naccuracy/mistranslation - "x"\nMinor issues:\nno-error'
    assert parse_mqm(final_answer(answer)) == [ErrorSpan("major", "accuracy/mistranslation", "x")]
    assert parse_mqm('Critical: no-error, Major issues: accuracy/omission - "x", Minor errors: no-error') == [
        ErrorSpan("major", "accuracy/omission", "x")]
    # a count in brackets is a count: two said, one listed
    assert parse_mqm('Critical:\nno-error\nMajor (2):\naccuracy/omission - "x"\nMinor:\nno-error') is None


@pytest.mark.parametrize("label", ["Explanation:", "Notes:", "Comment:", "Suggestions:"])
def test_a_remark_label_alone_on_its_line_makes_no_error_of_the_remark(label):
    """(audit round 26) "Explanation:" alone on its line under a severity left the severity open:
    the remark on the next line was an error (a perfect translation scored -1)."""
    from xling.metrics.judge import final_answer

    remark = "The translation is accurate and fluent."
    assert parse_mqm(final_answer(f"Critical:\nno-error\nMajor:\nno-error\nMinor:\nno-error\n{label}\n{remark}")) == []
    major = [ErrorSpan("major", "accuracy/mistranslation", "x")]
    assert parse_mqm(f'Critical:\nno-error\nMajor:\naccuracy/mistranslation - "x"\n{label}\nThe word x means y.\n'
                     "Minor:\nno-error") == major
    # the list the remark interrupted goes on after a blank line
    grammar = ErrorSpan("major", "fluency/grammar", "z")
    assert parse_mqm(f'Critical:\nno-error\nMajor:\naccuracy/mistranslation - "x"\n{label}\nThe word x means y.\n'
                     '\nfluency/grammar - "z"\nMinor:\nno-error') == [*major, grammar]
    from xling.metrics.settings import JUDGE_PARSER

    assert JUDGE_PARSER >= 8   # stored judgments read under the old rules are read again


@pytest.mark.parametrize("option, message", [
    (["--judge-template", "/nonexistent/j.yaml"], "does not exist"),
    (["--judge-template", "mt-chat"], "is not a MQM judge template"),
    (["--judge-model", "/nonexistent/judge"], "does not exist"),
])
def test_a_bad_judge_setting_is_refused_before_any_translation(tmp_path, tiny_causal_base, data_dir, option, message):
    """Found only after the whole translation, with the run folder written."""
    out = tmp_path / "run"
    result = xling("eval", "mt", "-m", str(tiny_causal_base), "-p", "en-ko", "--limit", "2", "--data-dir",
                   str(data_dir), "--metrics", "chrf,gemba-mqm", *option, "--out", str(out),
                   env={"XLING_CACHE": str(tmp_path / "cache")})
    assert result.returncode == 2 and message in result.stderr.decode(), result.stderr
    assert not out.exists()


@pytest.mark.parametrize("answer", [
    'Critical:\nno-error\nMajor:\naccuracy/mistranslation - "keine"\nMinor:\nno-error',   # the negation got wrong
    'Critical:\nno-error\nMajor:\naccuracy/mistranslation - rien\nMinor:\nno-error',
    'Critical: no-error\nMajor: accuracy/mistranslation - "the minor: a child" rendered as adult\nMinor: no-error',
    'Critical: no-error, Major: fluency/grammar - 5" screen, Minor: no-error',   # an inch mark is no quote
])
def test_an_errors_span_that_reads_like_none_or_a_heading_is_still_one_error(answer):
    """(the review of round 14: "none" in other languages dropped such errors, and the one-line
    split cut inside a quoted span)"""
    assert mqm_score(parse_mqm(answer)) == -5


@pytest.mark.parametrize("answer, score", [
    ("Adequacy score: 80\nFluency score: 90\nOverall score: 85", 85),
    ("Fluency score: 9/10\nAccuracy score: 8/10\nScore: 85", 85),
    ("Score: 85 (fluent, but 2 minor errors)", 85),
    ("Score: 92 - excellent, maybe 1 stylistic nit", 92),
    ('Errors:\n1. minor - "Score: 3:1" rendered as "3 to 1"\nScore: 90', 90),
])
def test_aspect_scores_and_remarks_with_numbers_keep_the_esa_score(answer, score):
    assert parse_esa(answer)[1] == score


def test_an_esa_answers_none_under_a_severity_is_no_error_span():
    assert parse_esa("Major: keine\nMinor: нет\nScore: 90") == ([], 90.0)


def test_a_judge_template_needs_no_task_line(tmp_path):
    """(the review of round 19) A task: line became needed: a judge file without one was taken
    for a translation template and refused."""
    from xling.prompts.templates import load_template

    path = tmp_path / "j.yaml"
    path.write_text("format: judge\nkind: esa\nuser: 'Score {source} -> {translation}'\n", encoding="utf-8")
    assert load_template(str(path)).task == "judge"


def test_a_reasoning_judges_think_block_and_full_width_colons_are_no_part_of_its_answer():
    """(audit round 21) Errors drafted and taken back in <think> were counted (its "</think" a
    major error, -15 for a clean list); a drafted "Score: 40" made the final "Score: 85"
    unreadable; "Score：85" of a judge answering in Chinese was unreadable."""
    from xling.metrics.judge import final_answer

    clean = "Critical:\nno-error\nMajor:\nno-error\nMinor:\nno-error"
    think = '<think>\nMajor:\naccuracy/mistranslation - "Mäuse"\nHmm, no: it is right.\n</think>\n\n' + clean
    assert parse_mqm(final_answer(think)) == [] and parse_mqm(final_answer("drafting...</think>\n" + clean)) == []
    assert parse_esa(final_answer("<think>Maybe Score: 40. Hmm.</think>\nScore: 85")) == ([], 85.0)
    assert parse_esa(final_answer("<think>Score: 40, or more")) is None   # never closed: all reasoning
    assert parse_esa(final_answer("Score：85")) == ([], 85.0)
    # (review C) a template that opens <think> itself: drafted headings and scores before the
    # stray end are reasoning too; a quoted "</think>" of a source about tags stays a span
    assert parse_mqm(final_answer('Major:\naccuracy - "x"\nNo, fine.\n</think>\n' + clean)) == []
    assert parse_esa(final_answer("Score: 40?\n</think>\nScore: 85")) == ([], 85.0)
    assert [e.severity for e in parse_mqm(final_answer(
        'Critical: no-error\nMajor: markup - "</think>"\nMinor: fluency/grammar - "x"'))] == ["major", "minor"]
    assert parse_mqm(final_answer('Critical：no-error, Major：accuracy - "价格：100元", Minor：no-error')) \
        == [ErrorSpan("major", "accuracy", "价格：100元")]
    assert parse_mqm(final_answer('Critical：\nno-error\nMajor：\naccuracy/mistranslation - "x"\nMinor：\nno-error')) \
        == [ErrorSpan("major", "accuracy/mistranslation", "x")]


def test_paired_tests_of_a_judge_use_the_segments_judged_for_both():
    """(audit round 21) Each system's judge score is the mean of its own readable segments:
    where the judge failed on B's four hard segments, B was "better*" (p = 0.005) though worse
    on every segment both had a score for (85 vs 90)."""
    from xling.metrics.judge import parsed_mean_result
    from xling.metrics.significance import delta_ci, paired_test

    a = parsed_mean_result("GEMBA-ESA", [40.0] * 4 + [90.0] * 4, "judge:j")
    b = parsed_mean_result("GEMBA-ESA", [None] * 4 + [85.0] * 4, "judge:j")
    assert (a.score, b.score) == (65.0, 85.0)
    for test in ("bs", "ar"):
        (p,) = paired_test(a, {"b": b}, test, 200, 1)
        assert p.judged_both == "4/8" and p.delta == pytest.approx(-5.0) and p.verdict != "better"
    assert delta_ci(a, b, 200, 1)[0] == pytest.approx(-5.0)
    from xling.reporting.scores import ScoreReport, format_text

    # (the review) the cell says on which segments the test ran

    text = format_text(ScoreReport({"a": {"gemba-esa": a}, "b": {"gemba-esa": b}}, {"gemba-esa": [p]}))
    assert "85.00 (p=" in text and "on the 4/8 segments judged for both: 85.00 vs 90.00)" in text
    c = parsed_mean_result("GEMBA-ESA", [70.0] * 4 + [None] * 4, "judge:j")
    (none,) = paired_test(a, {"c": parsed_mean_result("GEMBA-ESA", [None] * 4 + [80.0] * 4, "judge:j")}, "bs", 200, 1)
    text = format_text(ScoreReport({"c": {"gemba-esa": c}, "d": {"gemba-esa": b}},
                                   {"gemba-esa": paired_test(c, {"d": b}, "bs", 200, 1)}))
    assert none.judged_both == "4/8" and "65.00" not in text and "(no test: no segment judged for both)" in text
    (same,) = paired_test(a, {"a2": parsed_mean_result("GEMBA-ESA", [41.0] * 4 + [91.0] * 4, "judge:j")}, "bs", 200, 1)
    assert same.judged_both is None and same.delta == pytest.approx(1.0)


def test_a_judge_url_without_its_model_names_the_judge_option(tmp_path):
    """(audit round 21) the error named --backend http, --base-url and --model, none of them given."""
    text = tmp_path / "hyp.de"
    text.write_text("Hallo.\n", encoding="utf-8")
    assert_one_line_error(xling("score", "-i", str(text), "-s", str(text), "-t", "de", "-m", "gemba-esa",
                                "--judge-base-url", "http://127.0.0.1:9/v1"),
                          "--judge-base-url needs --judge-model (the model name the judge server serves)")


def test_an_encoder_decoder_model_as_the_judge_is_refused_before_any_translation(tiny_seq2seq, tmp_path, capsys):
    """(audit round 23) `--judge-model <an NLLB/M2M100/Marian folder>` passed the preflight: every
    direction was translated and the run folder written, then the judge failed with a message
    about translation templates that named no judge (`xling score` and judge() alike)."""
    from helpers import assert_error, run_cli, write_corpus

    from xling.metrics.judge import judge

    said = f"the judge {tiny_seq2seq} is an encoder-decoder MT model; GEMBA-ESA judges need a causal LM"
    corpus = write_corpus(tmp_path, {"en": ["Hello."], "ko": ["안녕하세요."]})
    code, _, err = run_cli(capsys, "eval", "mt", "-p", "en-ko", "-m", tiny_seq2seq, "--data", corpus, "--out",
                           tmp_path / "R", "--metrics", "chrf,gemba-esa", "--judge-model", tiny_seq2seq)
    assert_error(code, err, said)
    assert not (tmp_path / "R").exists() and "translating" not in err
    with pytest.raises(XlingError, match=re.escape(said)):   # the judge's own check (no preflight before it)
        judge(["안녕."], ["Hello."], "ko", src_lang="en", model=str(tiny_seq2seq), kind="esa")


@pytest.mark.parametrize("answer", [
    "Score: 90\nCorrection: 60/100", "Score: 90\nOn reflection, I'd give it 60 out of 100.", "Score: 90\nRevised: 60",
    "Score: 90\nUpdated score - 60", "Score: 90\n\nFinal answer: 60", "Score: 85 (I'd say 80)",
    "no-error\nScore: 90\nCorrection: 60/100"])
def test_an_esa_score_restated_otherwise_than_score_n_is_no_score(answer):
    """(audit round 24, D2) a later score not written "Score: N" was ignored: the first was kept."""
    from xling.metrics.judge import final_answer
    from xling.metrics.settings import JUDGE_PARSER

    assert parse_esa(final_answer(answer)) is None
    for same in ("Score: 90\nI'd give it 90 out of 100.", "Score: 90\nFluency: 70/100",
                 "Score: 90\nCorrection: 3 apples", 'minor - "60/100 rating"\nScore: 90',
                 "Score: 90/100\nFinal answer: 90"):
        assert parse_esa(same)[1] == 90, same
    assert JUDGE_PARSER >= 7   # stored judgments read under the old rules are read again


def test_an_esa_answer_a_content_filter_stopped_is_not_scored():
    """(audit round 24, D1) 'minor - "x"\\nScore: 40' ended by finish_reason content_filter was
    scored 40 and counted as parsed."""
    from xling.backends.http import HTTPBackend
    from xling.metrics.judge import judge

    server = FakeOpenAI(respond=lambda payload: ('minor - "x"\nScore: 40', "content_filter")
                        if "고양이" in payload["messages"][-1]["content"] else "no-error\nScore: 90")
    try:
        result = judge(["안녕.", "고양이."], ["Hello.", "The cat."], "ko", kind="esa", src_lang="en",
                       backend=HTTPBackend("judge", server.url, max_retries=0))
    finally:
        server.close()
    assert result.segments == [90, None] and "parsed:1/2" in result.signature


def test_a_base_model_judge_over_http_sends_at_most_four_stops_and_keeps_its_answers():
    """(audit round 24, D7) gemba-mqm's 5 stop strings went to the server (OpenAI's
    /v1/completions refuses more than 4); the one left unsent still ends the answer here."""
    from xling.backends.http import HTTPBackend
    from xling.metrics.judge import _base_model_stops, judge
    from xling.prompts.templates import load_template

    system = load_template("gemba-mqm").data["system"].split("\n")[0]
    assert len(_base_model_stops(load_template("gemba-mqm"))) == 5
    # an answer that runs on into a new prompt's system line, and errors after it
    server = FakeOpenAI(respond=lambda payload: f'no-error\nMajor:\nno-error\nMinor:\nno-error\n{system}\n'
                                                'Major:\naccuracy/mistranslation - "x"')
    try:
        result = judge(["안녕."], ["Hello."], "ko", src_lang="en",
                       backend=HTTPBackend("judge", server.url, max_retries=0, chat=False))
    finally:
        server.close()
    assert all(len(p["stop"]) <= 4 for p in server.payloads) and result.segments == [0]


# (review of audit round 24's D2 fix) answers the parser read right before it, the scores they
# give: prose mentions of the scale, a quote in curly quotes, a hedge that agrees
_ESA_READ = {
    "Score: 85\n\nThe translation is accurate overall; the fluency is good, 85/100 fluency.": 85,
    "Score: 70 (out of 100)": 70,
    "minor - \"quickly\"\nScore: 80\n\nThe translation is good but not a perfect 100/100 because of one awkward "
    "word.": 80,
    "major - \"bank\" translated as riverbank\nScore: 45\n\nA perfect translation would get 100 out of 100; this one "
    "loses points for the major error.": 45,
    "Score: 92\n\nNearly flawless. I deducted 8 points from 100/100 for a slightly unnatural phrase.": 92,
    "Score: 60\n\nExplanation: The meaning is mostly preserved, but one major error. On the 0-100 scale, 60 reflects "
    "this.": 60,
    "no-error\nScore: 100\n\nThe translation is perfect: 100/100.": 100,
    "Errors:\nminor - \"the\"\nScore: 90/100": 90,
    "minor - \"3 out of 100 patients\" rendered as \"3 patients\"\nScore: 75": 75,
    "minor - “3 out of 100 patients” rendered as “3 patients”\nScore: 75": 75,
    "Score: 88\n\nThe translation conveys the meaning well. If there were no minor error it would be 95/100.": 88,
    "**Error spans:**\n- minor - \"somewhat\"\n\n**Score:** 87": 87,
    "Score: 78\n\nI'd say this is a solid translation with one minor issue.": 78,
    "Score: 65\n\nThe final 2 sentences are slightly awkward.": 65,
    "Score: 95 — I think that's fair.": 95,
    "Score: 80\nThe translation is accurate. Overall I would give it 80 out of 100.": 80,
    "Score: 55\n\nThe source says \"up 50/100 basis points\" but the translation says otherwise.": 55,
    "Score: 72\n\nNote: scores above 90/100 are reserved for near-perfect translations.": 72,
    "Score: 40\n\nMajor errors in meaning. The translation gets roughly half of it right, maybe 50 out of 100 "
    "words are correct.": 40,
    "major - \"not\" omitted\nScore: 30\n\nThe translation reverses the meaning. Correction needed.": 30,
    "Score: 85\nRationale: good fluency and accuracy.": 85,
    "minor - \"ist\"\nminor - \"das\"\nScore: 82": 82,
    "Score: 90\n\nFinal answer: 90": 90,
    "Score: 68\n\nThe translation omits the number 100 from the source.": 68,
    "Score: 50\n\nThe source's \"out of 100\" is translated literally as \"from 100\", which is odd.": 50,
    "Score: 85\n\nThe translation scored 85/100 because of one minor error.": 85,
    "Score: 75\n\nWhile a native speaker might rate it 80/100, the terminology error lowers it.": 75,
    "Score: 97\n\n(For reference, 100/100 means a perfect translation.)": 97,
    "Score: 60\n\nThe update 2 of the text is missing.": 60,
    "Score: 80\n\nOverall: 80/100": 80,
    "Score: 70\nThe translation is decent, I'd say 70.": 70,
    "Score: 88\nThe English is fluent; I think 88 is fair.": 88,
    "Score: 85/100\n\nBreakdown: accuracy 45/50, fluency 40/50.": 85,
    "Score: 93\n\nThe translation correctly converts 'ninety out of 100' into the target phrasing.": 93,
    "Score: 70\n\nThe revised version of the sentence would be: \"He paid 20 out of 100 dollars.\"": 70,
    "minor - \"im Jahr 2020\"\nScore: 90\n\nThe rest is fine; not quite 100/100.": 90,
    # hedges that agree, a saying of another scale, a revision to the same score
    "Score: 85 (I'd say 85)": 85, "Score: 85 — I'd say a solid 85.": 85, "Score: 70 — say 70.": 70,
    "Score: 90 - as they say, 10 out of 10": 90, "Score: 90\nRevised: 90": 90,
    # the audit's D2 controls
    "Score: 90\nI'd give it 90 out of 100.": 90, "Score: 90\nFluency: 70/100": 90,
    "Score: 90\nCorrection: 3 apples": 90,
    'minor - "60/100 rating"\nScore: 90': 90, "Score: 90/100\nFinal answer: 90": 90,
    # a second score is a conflict: the audit's D2 answers, and revisions that name their reason
    "Score: 90\nCorrection: 60/100": None, "Score: 90\nOn reflection, I'd give it 60 out of 100.": None,
    "Score: 90\nRevised: 60": None, "Score: 90\nUpdated score - 60": None, "Score: 90\n\nFinal answer: 60": None,
    "Score: 85 (I'd say 80)": None, "no-error\nScore: 90\nCorrection: 60/100": None,
    "Score: 90\nRevised: 60 (one major error)": None, "Score: 90\nCorrection: given the meaning error, 60/100": None,
    "Score: 90\nOn reflection, because of the accuracy error I'd give it 60 out of 100.": None,
    "Score: 90\nRevised score (after checking the terminology): 60": None, "Score: 90\nFinal answer: **60**": None,
    "Score: 90\nFinal verdict: 60": None, "Score: 90\n60/100": None,
    # (review F) explanations holding a share, another scale, a range, a sum or a list's number
    "Score: 85\n\nI'd say 90% of the meaning is preserved.": 85, "Score: 80\nOverall: 4/5": 80,
    "Score: 70\nOverall: 100 - 25 (major) - 5 (minor) = 70": 70, "Score: 80\nI'd say 2-3 words are off.": 80,
    "Score: 80\nI'd say 5 points off for style.": 80, "Score: 80\nI think 1) the terms are right": 80,
    "Score: 90\n(Honestly I'd give it 60)": None,
}


@pytest.mark.parametrize("answer", list(_ESA_READ))
def test_an_esa_score_is_refused_only_for_another_score_given(answer):
    from xling.metrics.judge import final_answer
    from xling.metrics.settings import JUDGE_PARSER

    parsed = parse_esa(final_answer(answer))
    assert (parsed and parsed[1]) == _ESA_READ[answer]
    assert JUDGE_PARSER >= 7


def test_a_local_judge_sampling_below_vllms_floor_takes_transformers_on_a_gpu(tiny_causal_base, tmp_path,
                                                                              monkeypatch, capsys):
    """(audit round 26) a local judge's backend was chosen without its samples' temperature: on a
    GPU with vLLM, `--judge-samples 3 --judge-temperature 0.005` picked vLLM, which refused the
    temperature only when scoring, after every translation was made."""
    from xling.backends import choice
    from xling.metrics.judge import judge

    monkeypatch.setattr(choice, "_said", set())
    monkeypatch.setattr(choice, "_pending", {})
    # (the choice as on a GPU machine with vLLM; the judge itself then runs here)
    monkeypatch.setattr(choice, "choose_backend", lambda: ("vllm", "a CUDA device and vLLM are present"))
    template = tmp_path / "short-esa.yaml"
    template.write_text("format: judge\nkind: esa\nuser: 'Score {translation} ({source})'\n", encoding="utf-8")
    with pytest.raises(XlingError, match="gave no parseable"):   # a random model's answers
        judge(["안녕."], ["Hello."], "ko", kind="esa", src_lang="en", model=str(tiny_causal_base),
              template=str(template), samples=2, temperature=0.005, max_new_tokens=4, progress=True)
    assert "backend hf (auto: temperature 0.005 (below vLLM's 0.01) is transformers' path" in capsys.readouterr().err


_MQM_LIST = 'Critical:\nno-error\nMajor:\naccuracy/mistranslation - "bank"\nMinor:\nno-error'
_BANK = [ErrorSpan("major", "accuracy/mistranslation", "bank")]
_OMISSION = ErrorSpan("major", "accuracy/omission", "the river")
_QUICKLY = ErrorSpan("major", "accuracy/omission", "quickly")


@pytest.mark.parametrize("answer, expected", [
    # commentary set apart after the list under a heading xling does not know: the list ended
    *[(f"{_MQM_LIST}\n\n{heading}\n{body}", _BANK)
      for heading in ("The corrected translation would be:", "A better translation would be:",
                      "Here is a corrected version:", "Correct version:", "Proposed correction:", "Possible fix:",
                      "Fix:", "Alternative:", "Recommendation:", "Improvements:", "Observations:", "Evaluation:",
                      "Rationale:", "Feedback:", "Remarks:", "Details:", "Why:", "Error summary:",
                      "Error explanation:", "Error categories:", "Key points:", "Result:", "Verdict:", "For example:",
                      "Here's the corrected translation:", "Improved version:", "To fix this:")
      for body in ('"Er saß am Ufer."', 'The word "bank" means Ufer here.', '- Replace "Bank" with "Ufer".')],
    (f"{_MQM_LIST}\n\nError categories:\n- accuracy/mistranslation: 1", _BANK),
    # a preamble naming categories in prose
    ("Let me evaluate the translation:\nAccuracy: mostly preserved.\nFluency: good.\n\n" + _MQM_LIST, _BANK),
    # a remark block ends at the next error, not only at a blank line or a heading
    ('Critical:\nno-error\nMajor:\naccuracy/mistranslation - "bank"\nExplanation:\nThe source means the river shore.\n'
     'accuracy/omission - "the river"\nMinor:\nno-error', [*_BANK, _OMISSION]),
    ('Critical:\nno-error\n\nMajor:\n1. accuracy/mistranslation - "bank"\n   Explanation:\n   The source means the '
     'riverbank.\n2. accuracy/omission - "quickly"\n   Explanation:\n   The adverb is missing.\n\nMinor:\nno-error',
     [*_BANK, _QUICKLY]),
    ('Critical:\nno-error\nMajor:\n- accuracy/mistranslation - "bank"\n  Explanation:\n  riverbank intended\n'
     '- accuracy/omission - "quickly"\nMinor:\nno-error', [*_BANK, _QUICKLY]),
    ('Critical:\nno-error\nMajor:\n1. accuracy/mistranslation - "bank"\nExplanation:\nriverbank intended\n'
     '2. "quickly" is missing\nMinor:\nno-error', [*_BANK, ErrorSpan("major", "", '"quickly" is missing')]),
    # (kept) a severity heading in other words is read; errors under one xling cannot read are lost
    ('Critical:\nno-error\nMajor issues:\naccuracy/mistranslation - "bank"\nMinor:\nno-error', _BANK),
    ('Critical:\nno-error\nMajor:\nno-error\nMinor:\nno-error\nOther errors:\naccuracy/omission - "x"', None),
    ('Critical:\nno-error\nMajor:\nno-error\nMinor:\nno-error\n\nOther errors:\naccuracy/omission - "x"', None),
    ('Severe:\naccuracy/mistranslation - "x"', None),
    ('Severe:\naccuracy/mistranslation - "x"\nMinor:\nno-error', None),
    ('Critical:\nno-error\nMajor:\nno-error\nMinor:\nno-error\n\nSevere:\naccuracy/mistranslation - "x"', None),
    ('Critical:\nno-error\nMajor:\nno-error\nMinor:\nno-error\n\nSevere:\nstyle - awkward wording', None),
])
def test_mqm_commentary_after_the_list_and_remarks_between_items_keep_the_score(answer, expected):
    """(review of round 26) a correction or remark under a heading of its own after the list
    ("A better translation would be:\n"Er saß am Ufer."") made a scored answer unparseable, so did
    a preamble's "Accuracy: mostly preserved."; a remark block ("Explanation:" alone on its line)
    swallowed the error after it when no blank line came between."""
    from xling.metrics.judge import final_answer

    assert parse_mqm(final_answer(answer)) == expected


# (audit round 28) markdown's marks were stripped from the whole line, the quoted words included:
# the stored span was "configv2.yaml", "x  5", "C", and the page could not mark it in the output
QUOTED_MARKS = {'"config_v2.yaml"': "config_v2.yaml", '"x > 5"': "x > 5", '"C#"': "C#", "'C#'": "C#",
                '"</script><sc"': "</script><sc", '"__init__"': "__init__", '"*args"': "*args",
                "“# of items”": "# of items",
                # the judge's own bold or code around the whole quote, inside or outside it, is no span
                '"**bank**"': "bank", '**"bank"**': "bank", '"`a_b`"': "a_b", '`"bank"`': "bank"}


@pytest.mark.parametrize("quoted", QUOTED_MARKS)
def test_markdown_marks_inside_quoted_words_are_the_translations_own(quoted):
    span = QUOTED_MARKS[quoted]
    for answer in (f'Critical:\nno-error\nMajor:\naccuracy/mistranslation - {quoted}\nMinor:\nno-error\n',
                   f'**Critical:**\n- no-error\n**Major:**\n- **accuracy/mistranslation** - {quoted}\n'
                   f'**Minor:**\n> no-error', f'# Major: accuracy/mistranslation - {quoted}\n## Minor: no-error'):
        assert parse_mqm(answer) == [ErrorSpan("major", "accuracy/mistranslation", span)], answer
    assert parse_esa(f"- **major** - {quoted}\n**Score:** 70") == ([ErrorSpan("major", "", span)], 70)


@pytest.mark.parametrize("middle, minor", [
    ('"bank" (the river\'s edge is meant), **Minor:** fluency/grammar - \'a apple\'', "a apple"),
    ('"bank" (it\'s the river), **Minor:** fluency/grammar - "the students\' books"', "the students' books"),
    ('"bank" isn\'t right. __Minor__: fluency/grammar - \'shore\'', "shore")])
def test_an_apostrophe_before_a_marked_heading_opens_no_quote(middle, minor):
    """(review A, round 28) an apostrophe ("river's", "isn't") was read as a quote's opening that ran
    past the next **Minor:** heading, keeping its marks: the Minor error was read into the Major one."""
    answer = f"**Critical:** no-error, **Major:** accuracy/mistranslation - {middle}"
    assert parse_mqm(answer) == [ErrorSpan("major", "accuracy/mistranslation", "bank"),
                                 ErrorSpan("minor", "fluency/grammar", minor)]


def test_a_judges_quoted_words_with_markdown_marks_are_stored_and_placed_as_quoted(tmp_path):
    """Through a scripted judge and `xling score`: the stored span is the quoted words, which
    the HTML report finds in the output."""
    from xling.reporting.html_spans import locate_quote

    outputs = ["config_v2.yaml 파일을 여세요.", "x > 5 이면 C# 을 쓴다."]
    answers = {outputs[0]: '**Major:**\n- **accuracy/mistranslation** - "config_v2.yaml"\n**Minor:**\nno-error',
               outputs[1]: 'Critical:\nno-error\nMajor:\n> fluency/grammar - "x > 5"\nMinor:\n* style/awkward - "C#"'}
    server = FakeOpenAI(respond=lambda payload: next((a for o, a in answers.items()
                                                      if o in payload["messages"][-1]["content"]), "No errors."))
    try:
        result = xling("score", *_files(tmp_path, outputs + ["안녕하세요."]), "-m", "gemba-mqm",
                       "--judge-model", "judge", "--judge-base-url", server.url, "-f", "json",
                       env={"XLING_CACHE": str(tmp_path / "cache")})
    finally:
        server.close()
    assert result.returncode == 0, result.stderr
    judgments = json.loads(result.stdout)["systems"][str(tmp_path / "hyp.ko")]["gemba-mqm"]["extra"]["judgments"]
    spans = [[e["span"] for e in j["errors"]] for j in judgments[:2]]
    assert spans == [["config_v2.yaml"], ["x > 5", "C#"]]
    assert [j["score"] for j in judgments[:2]] == [-5, -6]
    assert locate_quote(outputs[0], spans[0][0]) == (0, 14)
    assert [locate_quote(outputs[1], s) for s in spans[1]] == [(0, 5), (9, 11)]


# -- a judge called from Python: its options checked as the command line checks them (audit round 28) --
@pytest.mark.parametrize("option, message", [
    ({"samples": "3"}, "'samples' must be int, not str ('3')"),
    ({"samples": 2.5}, "'samples' must be int, not float (2.5)"),
    ({"samples": True}, "'samples' must be int, not bool (True)"),
    ({"samples": 101}, "'samples' must be at most 100, not 101"),
    ({"temperature": "hot"}, "'temperature' must be float, not str ('hot')"),
    ({"temperature": 0}, "'temperature' must be above 0, not 0"),
    ({"max_new_tokens": "512"}, "'max_new_tokens' must be int, not str ('512')"),
    ({"max_new_tokens": 0}, "'max_new_tokens' must be at least 1, not 0"),
    ({"max_new_tokens": -3}, "'max_new_tokens' must be at least 1, not -3"),
    ({"template": ""}, "'template' is empty; leave it out, or give a value"),
])
def test_a_judge_option_from_python_is_checked_as_its_setting_is_before_any_request(judge_server, option, message):
    """get("gemba-esa")(...) passed its options to the judge unchecked: samples="3" and a text
    temperature or token limit were TypeErrors deep inside, 0 or -3 tokens went to the server as
    max_tokens (the command line refuses them), samples=True judged once."""
    from xling.metrics.registry import get

    with pytest.raises(XlingError) as refused:
        get("gemba-esa")(["안녕."], None, ["Hello."], "ko", src_lang="en", model="judge",
                         base_url=judge_server.url, **option)
    assert str(refused.value) == f"GEMBA-ESA: {message}"
    assert judge_server.requests == 0


def test_a_judge_takes_numpy_numbers_as_the_command_line_takes_numbers(judge_server):
    """A notebook's numpy integers and floats are the numbers they hold (JSON-ready, checked)."""
    import numpy as np

    from xling.metrics.registry import get

    result = get("gemba-mqm")(["나는 bank 에 갔다.", "안녕."], None, ["I went to the river side.", "Hello."], "ko",
                              src_lang="en", model="judge", base_url=judge_server.url, samples=np.int64(2),
                              temperature=np.float32(0.5), max_new_tokens=np.int64(64), max_retries=0)
    assert result.score == pytest.approx(-2.5) and "samples:2" in result.signature
    assert {p["max_tokens"] for p in judge_server.payloads} == {64} and judge_server.requests == 4
    with pytest.raises(XlingError, match=r"^GEMBA-MQM: 'max_new_tokens' must be at least 1, not 0$"):
        get("gemba-mqm")(["안녕."], None, ["Hello."], "ko", model="judge", base_url=judge_server.url,
                         max_new_tokens=np.int64(0))
