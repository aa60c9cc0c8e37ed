"""WMT24++ and document-level translation: the loader on the real files, paragraphs whose line
breaks survive, document mode realigned (or counted) through a scripted server, reports by
domain, and sacrebleu's own test sets."""
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import assert_one_line_error, xling
from servers import FakeOpenAI

from xling.cli import cli
from xling.data.languages import resolve
from xling.data.parallel import load_parallel
from xling.data.textio import join_paragraphs, paragraphs
from xling.data.wmt import locale_language
from xling.errors import XlingError
from xling.reporting.document_prompts import document_prompt_view
from xling.reporting.mt_prompts import PromptRebuilder
from xling.runs.records import read_run


@pytest.fixture(scope="module")
def wmt24pp_root(data_dir):
    if not (data_dir / "wmt24pp" / "en-ko_KR.jsonl").is_file():
        pytest.skip("../shared/data/wmt24pp not found")
    return data_dir


def test_wmt24pp_loader_on_the_real_files(wmt24pp_root):
    rows = [json.loads(line) for line in (wmt24pp_root / "wmt24pp" / "en-ko_KR.jsonl").open(encoding="utf-8")]
    assert len(rows) == 998
    data = load_parallel("wmt24pp:en-ko_KR", wmt24pp_root)
    assert len(data.ids) == 960 and data.default_pairs == ["en-ko"]
    assert "dropped the canary and 37 rows marked is_bad_source (38 in all)" in data.note
    assert Counter(m["domain"] for m in data.meta) == {"social": 494, "literary": 206, "news": 149, "speech": 111}
    assert len({m["document_id"] for m in data.meta}) == 170
    kept = [r for r in rows if not r["is_bad_source"]]
    assert data.text("en") == [r["source"] for r in kept]
    assert data.text("ko") == [r["target"] for r in kept]          # the post-edit by default
    original = load_parallel("wmt24pp:en-ko_KR", wmt24pp_root, reference="original")
    assert original.text("ko") == [r["original_target"] for r in kept] != data.text("ko")
    assert len(load_parallel("wmt24pp:en-ko_KR", wmt24pp_root, keep_bad_sources=True).ids) == 997
    every = load_parallel("wmt24pp:en-*", wmt24pp_root)
    assert {"en-ko", "en-ja", "en-zh"} <= set(every.default_pairs)


def test_saudi_post_edits_are_said_to_be_a_regional_variety(wmt24pp_root):
    if not (wmt24pp_root / "wmt24pp" / "en-ar_SA.jsonl").is_file():
        pytest.skip("no en-ar_SA.jsonl in the shared WMT24++ folder")
    note = load_parallel("wmt24pp:en-ar_SA", wmt24pp_root).note
    assert "post-edits in a regional variety (ar_SA: Saudi Arabic)" in note
    assert "regional" not in load_parallel("wmt24pp:en-ar_SA", wmt24pp_root, reference="original").note


def test_locales_map_to_languages_and_bad_ones_are_named():
    assert locale_language("ko_KR").code == "ko"
    assert locale_language("zh_TW").code == "zh-Hant" and locale_language("zh_CN").code == "zh"
    assert locale_language("zh_TW").bleu_tokenizer == "zh"
    assert locale_language("de_DE").code == "de"
    with pytest.raises(XlingError, match="xling has no language 'xx'"):
        locale_language("xx_YY")
    with pytest.raises(XlingError, match="not a WMT24\\+\\+ locale"):
        locale_language("korean")


def _write_wmt24pp(folder: Path, rows: list[dict], locale="ko_KR") -> Path:
    (folder / "wmt24pp").mkdir(parents=True, exist_ok=True)
    with (folder / "wmt24pp" / f"en-{locale}.jsonl").open("w", encoding="utf-8") as f:
        for row in rows:   # (each row names its file's locale, as the published files do)
            f.write(json.dumps(dict(row, lp=f"en-{locale}"), ensure_ascii=False) + "\n")
    return folder


def _row(seg, doc, domain, source, target, bad=False):
    return {"lp": "en-ko_KR", "domain": domain, "document_id": doc, "segment_id": seg,
            "is_bad_source": bad, "source": source, "target": target, "original_target": target}


# Our own small WMT24++-shaped fixture: two documents in two domains, a canary, a bad source.
ROWS = [_row(0, "canary", "canary", "CANARY x", "CANARY x", bad=True),
        _row(1, "doc-a", "news", "The bridge opened today.", "다리가 오늘 개통했다."),
        _row(2, "doc-a", "news", "Thousands crossed it on foot.", "수천 명이 걸어서 건넜다."),
        _row(3, "doc-a", "news", "BROKEN-NONE", "없음", bad=True),
        _row(4, "doc-a", "news", "The mayor spoke at noon.", "시장은 정오에 연설했다."),
        _row(5, "doc-b", "literary", "She closed the old book.", "그녀는 낡은 책을 덮었다."),
        _row(6, "doc-b", "literary", "Rain tapped on the glass.", "비가 유리창을 두드렸다.")]


def test_rows_missing_fields_and_unknown_locales_are_clear(tmp_path):
    bad = [dict(ROWS[1])]
    del bad[0]["document_id"]
    root = _write_wmt24pp(tmp_path, bad)
    with pytest.raises(XlingError, match=r"en-ko_KR.jsonl:1: a WMT24\+\+ row needs document_id"):
        load_parallel("wmt24pp:en-ko_KR", root)
    with pytest.raises(XlingError, match=r"has no en-ja_JP.jsonl \(present: ko_KR\).*hub cannot be reached"):
        load_parallel("wmt24pp:en-ja_JP", root)
    with pytest.raises(XlingError, match="English into a locale"):
        load_parallel("wmt24pp:ko_KR-en", root)
    # (audit round 22) a locale's "file" that is a folder: said so (it said "has no en-ja_JP.jsonl
    # (present: ja_JP, ko_KR)"), by name and in en-*
    (root / "wmt24pp" / "en-ja_JP.jsonl").mkdir()
    for spec in ("wmt24pp:en-ja_JP", "wmt24pp:en-*"):
        with pytest.raises(XlingError, match=r"^WMT24\+\+ locale ja_JP: \S+en-ja_JP.jsonl is a folder, not a JSON "
                                             r"lines file$"):
            load_parallel(spec, root)


def test_every_published_locale_maps_and_en_star_loads_beside_two_locales_of_a_language(tmp_path):
    """WMT24++ as published: 55 locales, four languages in two locales each (ar, fr, pt, sw):
    since round 27 each of those a regional variety of its own, which en-* loads beside the other."""
    published = ("ar_EG ar_SA bg_BG bn_IN ca_ES cs_CZ da_DK de_DE el_GR es_MX et_EE fa_IR fi_FI fil_PH "
                 "fr_CA fr_FR gu_IN he_IL hi_IN hr_HR hu_HU id_ID is_IS it_IT ja_JP kn_IN ko_KR lt_LT "
                 "lv_LV ml_IN mr_IN nl_NL no_NO pa_IN pl_PL pt_BR pt_PT ro_RO ru_RU sk_SK sl_SI sr_RS "
                 "sv_SE sw_KE sw_TZ ta_IN te_IN th_TH tr_TR uk_UA ur_PK vi_VN zh_CN zh_TW zu_ZA").split()
    codes = {loc: locale_language(loc).code for loc in published}
    assert len(set(codes.values())) == 55 and codes["fil_PH"] == "fil" and codes["no_NO"] == "no"
    for loc in ("ko_KR", "fr_CA", "fr_FR", "sr_RS"):
        _write_wmt24pp(tmp_path, ROWS, loc)
    every = load_parallel("wmt24pp:en-*", tmp_path)
    # (the fixture's references are not Latin: Cyrillic Serbian)
    assert every.default_pairs == ["en-fr_CA", "en-fr_FR", "en-ko", "en-sr"]
    assert "left out" not in every.note
    assert load_parallel("wmt24pp:en-fr_FR", tmp_path).default_pairs == ["en-fr_FR"]
    # Serbian in Latin letters is the Latin variant (its own off-target language and few-shot code)
    latin = [dict(r, target="Most je danas otvoren.", original_target="Most je danas otvoren.") for r in ROWS]
    _write_wmt24pp(tmp_path, latin, "sr_RS")
    assert load_parallel("wmt24pp:en-sr_RS", tmp_path).default_pairs == ["en-sr-Latn"]


def test_paragraph_blocks_round_trip():
    lines = ["first line", "second line", "", "  ", "", "next block", "", "third", "with", "three"]
    blocks = paragraphs(lines)
    assert blocks == ["first line\nsecond line", "next block", "third\nwith\nthree"]
    assert join_paragraphs(blocks) == "first line\nsecond line\n\nnext block\n\nthird\nwith\nthree\n"
    # A blank line inside a translation would split its block: it becomes one line break.
    assert join_paragraphs(["a\n\n\nb", "c"]) == "a\nb\n\nc\n"
    # (audit round 20) a model's other line breaks: a file whose blocks splitlines() reads alike
    written = join_paragraphs(["a\rb\u2028c", "d\u2029\u2029e\x85f", "g\r\rh"])
    assert written == "a\nb\nc\n\nd\ne\nf\n\ng\nh\n"
    assert paragraphs(written.splitlines()) == ["a\nb\nc", "d\ne\nf", "g\nh"]


def _user_text(payload) -> str:
    if "messages" in payload:
        return payload["messages"][-1]["content"].split("\n\n", 1)[1]
    return payload["prompt"]


def _scripted_translator(payload) -> str:
    """A 'model' that translates each line by upper-casing it and keeps [k] numbers — except for
    documents that contain BROKEN, where it forgets the second number."""
    text = _user_text(payload)
    if "BROKEN" in text:
        text = re.sub(r"^\[2\] ", "", text, flags=re.M)
    return "\n".join(line.upper() for line in text.split("\n"))


@pytest.fixture
def scripted():
    server = FakeOpenAI(respond=_scripted_translator)
    yield server
    server.close()


def test_paragraphs_keep_their_line_breaks_from_input_to_output_file(scripted, tmp_path):
    source = tmp_path / "letters.en"
    source.write_text("Dear Ana,\nthank you for the book.\n\nSee you soon,\nBo\n", encoding="utf-8")
    out = tmp_path / "letters.ko"
    result = CliRunner().invoke(cli, ["translate", "-s", "en", "-t", "ko", "--paragraphs", "-i", str(source),
                                      "-o", str(out), "--backend", "http", "--base-url", scripted.url,
                                      "-m", "fake", "--no-cache"])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == "DEAR ANA,\nTHANK YOU FOR THE BOOK.\n\nSEE YOU SOON,\nBO\n"
    assert scripted.requests == 2          # one request per block, not per line


def test_paragraphs_of_separate_text_arguments_stay_separate(scripted):
    """Two TEXT arguments were one block (the arguments were flattened into lines first)."""
    result = CliRunner().invoke(cli, ["translate", "-s", "en", "-t", "ko", "--paragraphs", "The cat sleeps.",
                                      "It rains.\nStill.", "--backend", "http", "--base-url", scripted.url,
                                      "-m", "fake", "--no-cache"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "THE CAT SLEEPS.\n\nIT RAINS.\nSTILL.\n" and scripted.requests == 2


def test_a_block_translated_to_nothing_is_said(tmp_path):
    server = FakeOpenAI(respond=lambda payload: "" if "skip" in _user_text(payload) else
                        "\u200b" if "hide" in _user_text(payload) else "BLOCK")
    source = tmp_path / "blocks.en"
    source.write_text("one\n\nskip this\n\nthree\n\nhide this\n", encoding="utf-8")
    try:
        result = CliRunner().invoke(cli, ["translate", "-s", "en", "-t", "ko", "--paragraphs", "-i", str(source),
                                          "-o", str(tmp_path / "out.ko"), "--backend", "http", "--base-url",
                                          server.url, "-m", "fake", "--no-cache"])
    finally:
        server.close()
    assert result.exit_code == 0, result.output
    assert "1 of 4 blocks were translated to nothing (block 2); the output has that many fewer" in result.output
    # (audit round 19) a block of invisible characters alone stays a block, and was said nowhere
    assert "1 of 4 blocks were translated to nothing (block 4); it stays in the output" in result.output


def test_empty_answers_are_counted_on_stderr(tmp_path):
    # a base model that opens its answer with a line break ends it there (a completion template
    # stops at the line end): every output is empty, and the run says so
    server = FakeOpenAI(respond=lambda payload: "\nBonjour")
    (tmp_path / "t.en").write_text("Hello.\nGood night.\n", encoding="utf-8")
    (tmp_path / "t.fr").write_text("Bonjour.\nBonne nuit.\n", encoding="utf-8")
    try:
        result = CliRunner().invoke(cli, ["eval", "mt", "--data", f"text:{tmp_path}/t.{{lang}}", "-p", "en-fr",
                                          "--out", str(tmp_path / "run"), "--template", "mt-completion",
                                          "--backend", "http", "--base-url", server.url, "-m", "fake",
                                          "--metrics", "chrf"])
    finally:
        server.close()
    assert result.exit_code == 0, result.output
    assert "2 of 2 outputs are empty" in result.output


def test_a_completion_template_ends_multi_line_segments_at_the_blank_line(tiny_causal_base):
    from xling.translation.translator import Translator

    translator = Translator(tiny_causal_base, cache=False)
    ko, en = resolve("ko"), resolve("en")
    (request, _), = translator.requests(["나는 사과를 좋아한다.\n오늘은 비가 온다."], ko, en).values()
    # or at the next block's source label (a base model going on with the pattern, audit round 10)
    assert request.stop == ("\n\n", "\nKorean:") and not request.stop_at_newline
    (single, _), = translator.requests(["저는 학생입니다."], ko, en).values()
    assert single.stop == () and single.stop_at_newline
    raw = translator.translate_records(["나는 사과를 좋아한다.\n오늘은 비가 온다."], "ko", "en")[0].raw
    assert "\n\n" not in raw and "\nKorean:" not in raw


def test_translate_documents_takes_language_codes_and_refuses_bad_document_ids(scripted):
    """(audit round 22) The call form Translator's own error names, with codes as every other
    entry point takes them, failed with AttributeError ('str' object has no attribute 'name')."""
    from xling.backends import load_backend
    from xling.translation.documents import translate_documents
    from xling.translation.translator import Translator

    translator = Translator(backend=load_backend("fake", backend="http", base_url=scripted.url),
                            unit="document", cache=False)
    results, summary = translate_documents(translator, ["Hello.", "World."], ["d", "d"], "en", "ko")
    assert [r.text for r in results] == ["HELLO.", "WORLD."] and summary["chunks"] == 1
    for ids, said in ((["d", 7], "document ids: item 1 is 7 (int), not a string"),
                      ("dd", "document ids: got str; pass a list of strings"),
                      (["d"], "each segment needs its document id")):
        with pytest.raises(XlingError, match=re.escape(said)):
            translate_documents(translator, ["Hello.", "World."], ids, "en", "ko")
    with pytest.raises(XlingError, match="unknown language code 'xx'"):
        translate_documents(translator, ["Hello."], ["d"], "xx", "ko")
    assert scripted.requests == 1


def test_a_paragraph_answer_ends_where_a_base_model_starts_the_next_block(tmp_path):
    """The embedded model turned a 2-line block into 8 lines, 7 of them "Korean: ..." /
    "English: ..." scaffolding that was scored as translation."""
    server = FakeOpenAI(respond=lambda payload: "I like apples.\nIt rains today.\nKorean: 다음 문장.\nEnglish: Next.")
    try:
        source = tmp_path / "in.ko"
        source.write_text("나는 사과를 좋아한다.\n오늘은 비가 온다.\n", encoding="utf-8")
        result = CliRunner().invoke(cli, ["translate", "-s", "ko", "-t", "en", "--paragraphs", "-i", str(source),
                                          "--backend", "http", "--base-url", server.url, "-m", "fake",
                                          "--template", "mt-completion", "--no-cache"])
    finally:
        server.close()
    assert result.exit_code == 0, result.output
    assert result.stdout == "I like apples.\nIt rains today.\n"


def _eval(root, out, url, *extra):
    return CliRunner().invoke(cli, ["eval", "mt", "--data", "wmt24pp:en-ko_KR", "--data-dir", str(root),
                                    "--out", str(out), "--backend", "http", "--base-url", url,
                                    "-m", "fake", "--metrics", "chrf,bleu", *extra])


def test_document_mode_realigns_segments_and_counts_failures(scripted, tmp_path):
    rows = ROWS[:3] + [_row(3, "doc-a", "news", "BROKEN sentence here.", "깨진 문장.")] + ROWS[4:]
    root = _write_wmt24pp(tmp_path, rows)
    result = _eval(root, tmp_path / "doc", scripted.url, "--unit", "document")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (tmp_path / "doc" / "outputs" / "en-ko.jsonl").open(encoding="utf-8")]
    assert [r["id"] for r in records] == ["0001", "0002", "0003", "0004", "0005", "0006"]
    assert [r["domain"] for r in records] == ["news"] * 4 + ["literary"] * 2
    # doc-a's answer lost its [2]: all four of its segments are empty, never shifted.
    assert [r["realigned"] for r in records] == [False] * 4 + [True] * 2
    assert [r["output"] for r in records] == ["", "", "", "", "SHE CLOSED THE OLD BOOK.", "RAIN TAPPED ON THE GLASS."]
    metrics = json.loads((tmp_path / "doc" / "metrics.json").read_text())
    assert metrics["directions"]["en-ko"]["realignment"] == {"chunks": 2, "failed_chunks": 1, "failed_segments": 4}
    assert "1 of 2 chunks could not be split back into segments (4 segments scored as empty)" in result.output
    assert scripted.requests == 2          # one prompt per document
    # (audit round 20) `xling prompt` of a failed chunk's later segment: the note and the chunk's
    # whole answer, as the HTML page shows them (it printed an empty raw answer alone)
    shown = CliRunner().invoke(cli, ["prompt", str(tmp_path / "doc"), "0002"])
    assert shown.exit_code == 0 and "could not be split back into segments" in shown.output
    assert "## the chunk's raw answer" in shown.output and "BROKEN SENTENCE HERE." in shown.output


def test_a_document_cut_by_the_limit_is_said_at_run_time_and_in_the_report(scripted, tmp_path):
    """(audit round 20) --limit 2 takes 2 of doc-a's 3 segments: the report counted it as a whole
    document and scored it so, without a word."""
    root = _write_wmt24pp(tmp_path, ROWS)
    result = _eval(root, tmp_path / "doc", scripted.url, "--unit", "document", "--limit", "2")
    assert result.exit_code == 0, result.output
    assert "take 1 document(s) in part: each part is translated as a whole document" in result.output
    assert json.loads((tmp_path / "doc" / "config.json").read_text())["documents_cut"] == 1
    shown = CliRunner().invoke(cli, ["report", str(tmp_path / "doc")])
    assert "1 document(s) cut short by --limit/--limit-per-domain" in shown.output
    whole = _eval(root, tmp_path / "whole", scripted.url, "--unit", "document")
    assert "in part" not in whole.output
    assert "documents_cut" not in json.loads((tmp_path / "whole" / "config.json").read_text())


def test_an_answer_that_leaves_a_number_empty_is_a_realignment_failure(tmp_path):
    """A model that writes segment 2's text after [1] and leaves [2] empty has the right numbers;
    splitting it would score segment 1's output against segment 2's reference."""
    def shifted(payload):
        lines = [line for line in _user_text(payload).split("\n") if line.startswith("[")]
        return "[1] " + " ".join(line.split("] ", 1)[1].upper() for line in lines) + "\n[2]"

    server = FakeOpenAI(respond=shifted)
    try:
        rows = [_row(1, "doc-a", "news", "One.", "하나."), _row(2, "doc-a", "news", "Two.", "둘.")]
        result = _eval(_write_wmt24pp(tmp_path, rows), tmp_path / "doc", server.url, "--unit", "document")
    finally:
        server.close()
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (tmp_path / "doc" / "outputs" / "en-ko.jsonl").open(encoding="utf-8")]
    assert [r["output"] for r in records] == ["", ""] and not any(r["realigned"] for r in records)
    metrics = json.loads((tmp_path / "doc" / "metrics.json").read_text())
    assert metrics["directions"]["en-ko"]["realignment"] == {"chunks": 1, "failed_chunks": 1, "failed_segments": 2}


def _document_run(tmp_path, rows, answer):
    """A WMT24++-shaped en-ko file translated by document by a scripted server: its records, and
    the server (its request count)."""
    server = FakeOpenAI(respond=answer)
    try:
        result = _eval(_write_wmt24pp(tmp_path, rows), tmp_path / "doc", server.url, "--unit", "document")
    finally:
        server.close()
    assert result.exit_code == 0, result.output
    with (tmp_path / "doc" / "outputs" / "en-ko.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines], server


def test_a_chunk_answer_the_token_budget_ended_is_counted_and_its_segments_marked(tmp_path):
    """Round 16: a numbered answer cut at its budget (finish_reason "length") was split back and
    scored as complete, its last segment short, with no note and no count (segment mode has both)."""
    budgets = []

    def cut_short(payload):
        lines = _user_text(payload).split("\n")
        text = "\n".join(line.upper() for line in lines if line.startswith("["))
        if "TWO" in text:
            budgets.append(payload["max_tokens"])
            return text[:-6], "length"
        return text

    rows = [_row(1, "doc-a", "news", "One.", "하나."), _row(2, "doc-a", "news", "Two words here.", "둘."),
            _row(3, "doc-b", "news", "Three.", "셋.")]
    server = FakeOpenAI(respond=cut_short)
    try:
        result = _eval(_write_wmt24pp(tmp_path, rows), tmp_path / "doc", server.url, "--unit", "document")
    finally:
        server.close()
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (tmp_path / "doc" / "outputs" / "en-ko.jsonl").open(encoding="utf-8")]
    assert [r["output"] for r in records] == ["ONE.", "TWO WORDS", "THREE."]
    assert [r.get("cut", False) for r in records] == [True, True, False]
    metrics = json.loads((tmp_path / "doc" / "metrics.json").read_text())
    assert metrics["directions"]["en-ko"]["generation"]["cut_at_budget"] == 2
    assert "1 of 2 chunk answers stopped at their token budget (2 segments" in result.output
    # (audit round 22) the budget the chunk had, not the cap (it said "at most 512 tokens a chunk")
    assert len(budgets) == 1 and budgets[0] < 512
    assert f"(2 segments; a budget of {budgets[0]} tokens a chunk)" in result.output


def test_a_chunk_its_budget_ended_before_its_last_number_is_said_to_be_the_budgets_doing(tmp_path):
    """(audit round 26) Such a chunk fails realignment, its segments scored as empty, yet the note
    said "their last segments are cut short" and the run's last line "A larger model follows the
    numbered layout better"; `xling report` never said outputs were cut at their budget."""
    long = "A sentence long enough that its own answer budget reaches the cap of a hundred tokens, " * 2

    def answer(payload):
        text = _user_text(payload)
        if "Three." in text:   # (the budget is the segments' own: 3 x 26 tokens, under the cap)
            return "[1] ONE.\n[2] TWO.", "length"
        if "Six." in text:
            return "[1] FIVE.\n[2] SI", "length"
        return "<think>\nThe user wants Korean. First", "length"   # the cap ended its reasoning

    rows = [_row(1, "doc-a", "news", "One.", "하나."), _row(2, "doc-a", "news", "Two.", "둘."),
            _row(3, "doc-a", "news", "Three.", "셋."), _row(4, "doc-b", "news", long.strip(), "긴 문장."),
            _row(5, "doc-c", "news", "Five.", "다섯."), _row(6, "doc-c", "news", "Six.", "여섯.")]
    server = FakeOpenAI(respond=answer)
    try:
        result = _eval(_write_wmt24pp(tmp_path, rows), tmp_path / "doc", server.url, "--unit", "document",
                       "--max-new-tokens", "100")
    finally:
        server.close()
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (tmp_path / "doc" / "outputs" / "en-ko.jsonl").open(encoding="utf-8")]
    assert [r["output"] for r in records] == ["", "", "", "", "FIVE.", "SI"]
    assert ("3 of 3 chunk answers stopped at their token budget (6 segments; a budget of 52 to 100 tokens a chunk): "
            "1 split back, their last segments cut short; 2 ended before their last number and could not be split "
            "back: their 4 segments are scored as empty (a larger --max-new-tokens (now 100) or context window gives "
            "them room; the model wrote past 2.5 x the source's tokens + 20 a segment: a repetition loop, or "
            "reasoning)") in result.output
    last = [line for line in result.output.splitlines() if line.strip()][-1]
    assert last.startswith("xling: warning: 4 of 6 segments could not be realigned from their document's "
                           "translation and are scored as empty (4 in chunk answers that stopped at their token "
                           "budget before their last number: 2.5 x the source's tokens + 20 a segment, at most "
                           "--max-new-tokens (100)")
    assert "layout" not in result.output and "larger model" not in result.output
    shown = CliRunner().invoke(cli, ["report", str(tmp_path / "doc")])
    assert ("en-ko: 6 segments from chunk answers that stopped at the token budget (scored as cut, or as empty "
            "where not split back)") in shown.output


def test_a_chunk_a_content_filter_stopped_is_counted_as_the_filters_doing(tmp_path):
    """(audit round 27) Document mode counted a chunk a server's content filter ended (finish_reason
    content_filter) as stopped at its token budget, in its note, metrics.json's cut_at_budget, the
    realignment warning and `xling report`, though a larger budget cannot help; segment mode
    counts such outputs as cut_by_content_filter."""
    def answer(payload):
        text = _user_text(payload)
        if "One." in text:
            return "[1] ONE.\n[2] TW", "content_filter"    # split back, its last segment cut short
        if "Five." in text:
            return "[1] FIVE.", "content_filter"            # ended before its last number
        return "[1] THREE."

    rows = [_row(1, "doc-a", "news", "One.", "하나."), _row(2, "doc-a", "news", "Two.", "둘."),
            _row(3, "doc-b", "news", "Three.", "셋."),
            _row(5, "doc-c", "news", "Five.", "다섯."), _row(6, "doc-c", "news", "Six.", "여섯.")]
    server = FakeOpenAI(respond=answer)
    try:
        result = _eval(_write_wmt24pp(tmp_path, rows), tmp_path / "doc", server.url, "--unit", "document")
    finally:
        server.close()
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (tmp_path / "doc" / "outputs" / "en-ko.jsonl").open(encoding="utf-8")]
    assert [r["output"] for r in records] == ["ONE.", "TW", "THREE.", "", ""]
    assert [r.get("cut", False) for r in records] == [True, True, False, True, True]
    assert [r.get("content_filter", False) for r in records] == [True, True, False, True, True]
    generation = json.loads((tmp_path / "doc" / "metrics.json").read_text())["directions"]["en-ko"]["generation"]
    assert generation["cut_by_content_filter"] == 4 and "cut_at_budget" not in generation
    assert ("2 of 3 chunk answers were stopped by the server's content filter (finish_reason content_filter; "
            "4 segments; a larger budget cannot help): 1 split back, their last segments cut short; 1 ended before "
            "their last number and could not be split back: their 2 segments are scored as empty") in result.output
    assert "token budget" not in result.output and "layout" not in result.output
    assert ("2 of 5 segments could not be realigned from their document's translation and are scored as empty "
            "(2 in chunk answers the server's content filter stopped before their last number)") in result.output
    shown = CliRunner().invoke(cli, ["report", str(tmp_path / "doc")])
    assert ("en-ko: 4 segments from chunk answers that the server's content filter stopped (scored as cut, or as "
            "empty where not split back)") in shown.output
    assert "token budget" not in shown.output


def test_the_report_says_how_many_outputs_stopped_at_their_budget(tmp_path):
    """(audit round 26) metrics.json counted them (generation.cut_at_budget); `xling report` scored
    them with no word."""
    server = FakeOpenAI(respond=lambda payload: ("그녀는", "length") if "book" in _user_text(payload) else "비가.")
    try:
        result = _eval(_write_wmt24pp(tmp_path, ROWS[4:]), tmp_path / "seg", server.url)
    finally:
        server.close()
    assert result.exit_code == 0, result.output
    shown = CliRunner().invoke(cli, ["report", str(tmp_path / "seg")])
    assert "en-ko: 1 output stopped at the token budget (scored as cut)" in shown.output


def test_a_fullwidth_or_unspaced_colon_after_a_number_is_removed(tmp_path):
    """"[1]：訳文" (as CJK text is typed) and "[2]:text" kept their colon in the output: perfect
    translations so answered scored chrF 94, BLEU 74."""
    def answer(payload):
        lines = _user_text(payload).split("\n")
        return "\n".join(re.sub(r"^\[(\d+)\] ", lambda m: f"[{m.group(1)}]{'：' if m.group(1) == '1' else ':'}",
                                line).upper() for line in lines)

    rows = [_row(1, "doc-a", "news", "One.", "하나."), _row(2, "doc-a", "news", "Two.", "둘."),
            _row(3, "doc-a", "news", ": a colon first.", ": 콜론.")]
    records, _ = _document_run(tmp_path, rows, answer)
    assert [r["output"] for r in records] == ["ONE.", "TWO.", ":: A COLON FIRST."]
    assert ["mark separator", "："] in records[0]["removed"] and ["mark separator", ":"] in records[1]["removed"]


def test_a_note_between_segments_costs_only_the_note(tmp_path):
    """The whole answer was cleaned before it was split: a "Note: ..." line after [2] cut [3]
    and [4] with it, and all four segments were scored as empty."""
    def answer(payload):
        lines = [line.upper() for line in _user_text(payload).split("\n") if line.startswith("[")]
        return "\n".join(lines[:2] + ["Note: the second sentence is idiomatic."] + lines[2:])

    rows = [_row(i, "doc-a", "news", f"Sentence {i}.", f"문장 {i}.") for i in range(1, 5)]
    records, _ = _document_run(tmp_path, rows, answer)
    assert [r["output"] for r in records] == [f"SENTENCE {i}." for i in range(1, 5)]
    assert all(r["realigned"] for r in records)
    assert any("Note: the second sentence is idiomatic." in str(piece) for piece in records[1]["removed"])


def test_a_reasoning_blocks_numbered_lines_are_never_read_as_segments(tmp_path):
    """(audit round 26) An answer whose cleaned text did not split was split as the raw answer,
    <think> block and all: its "[1] bridge = 다리" glossary line was scored as segment 1's
    translation and segment 2 got the whole translation, "realigned", no failure counted."""
    rows = [_row(1, "doc-a", "news", "The bridge opened today.", "다리가 오늘 개통했다."),
            _row(2, "doc-a", "news", "Thousands crossed it on foot.", "수천 명이 걸어서 건넜다.")]
    answer = ("<think>\n[1] bridge = 다리\n[2] on foot = 걸어서\n</think>\n"
              "다리가 오늘 개통했다. 수천 명이 걸어서 건넜다.")
    records, _ = _document_run(tmp_path, rows, lambda payload: answer)
    assert [r["output"] for r in records] == ["", ""] and [r["realigned"] for r in records] == [False, False]
    metrics = json.loads((tmp_path / "doc" / "metrics.json").read_text())
    assert metrics["directions"]["en-ko"]["realignment"]["failed_segments"] == 2
    # what the raw answer is split for stays: cleaning that cut the end off (a note after [1])
    noted = "<think>\n[1] bridge = 다리\n</think>\n[1] 다리가 오늘 개통했다.\nNote: a gloss.\n[2] 수천 명이 건넜다."
    records, _ = _document_run(tmp_path / "noted", rows, lambda payload: noted)
    assert [r["output"] for r in records] == ["다리가 오늘 개통했다.", "수천 명이 건넜다."]
    assert ["think", "<think>\n[1] bridge = 다리\n</think>"] in records[0]["removed"]


def test_numbers_written_otherwise_realign_and_shifting_answers_still_fail():
    """(audit round 26) Answers no segment of which could be shifted were counted as failures and
    scored as empty: fullwidth or spaced brackets, bold numbers, "\r" or U+2028 line breaks, a
    no-break space, a one-segment answer without its [1]
    (WMT24++ chunks are mostly one segment)."""
    from xling.translation.documents import split_marked

    two = ["하나.", "둘."]
    for answer in ("［1］하나.\n［2］둘.", "[ 1 ] 하나.\n[ 2 ] 둘.", "**[1]** 하나.\n**[2]** 둘.", "[1] 하나.\r[2] 둘.",
                   "[1] 하나.\u2028[2] 둘.", "\u00a0[1] 하나.\n\u00a0[2]\u00a0둘."):
        assert split_marked(answer, 2) is not None and split_marked(answer, 2)[0] == two, answer
    assert split_marked("Sure:\n[1] 하나.\n[2] 둘.", 2) == (two, "Sure:")
    assert split_marked("하나.", 1) == (["하나."], "")
    # never shifted: repeated, out of order, missing, inline or empty numbers; a last number with
    # text may be a segment split in two ("[2] 둘." segment 1's second half, "[3]" segment 2's)
    for answer in ("[1] 하나.\n[1] 둘.", "[2] 둘.\n[1] 하나.", "[1] 하나. 둘.", "[1] 하나. [2] 둘.", "[1] 하나.\n[2]",
                   "[1] 하나.\n[2] 둘.\n[3] 셋.", "[1] 하나.\n[2] 둘.\n[3] (end)\n[4] (end)", "하나. 둘.",
                   # (review B) a last number of the model's own, even empty or a remark: segment 1
                   # split in two lines would shift "(박수)"'s reference onto "합니다."
                   "[1] 하나.\n[2] 둘.\n[3]", "[1] 감사\n[2] 합니다.\n[3] (박수)",
                   "**[1] 하나.\n**[2] 둘.", "［1］하나.\n[2] 둘.\n［2］셋."):
        assert split_marked(answer, 2) is None, answer
    assert split_marked("[2] 하나.", 1) is None and split_marked("  ", 1) is None


def test_a_one_segment_chunk_answered_without_its_number_is_scored(tmp_path):
    """(audit round 26) WMT24++ documents come in chunks of mostly one segment: each one answered
    without "[1]" was scored as empty; fullwidth numbers (as ja/zh text is typed) lost every chunk."""
    def answer(payload):
        lines = [line for line in _user_text(payload).split("\n") if line.startswith("[")]
        if len(lines) == 1:
            return lines[0].split("] ", 1)[1].upper()
        return "\n".join(re.sub(r"^\[(\d+)\] ", r"［\1］", line).upper() for line in lines)

    rows = [_row(1, "doc-a", "news", "One.", "하나."), _row(2, "doc-a", "news", "Two.", "둘."),
            _row(3, "doc-b", "news", "Three.", "셋.")]
    records, _ = _document_run(tmp_path, rows, answer)
    assert [r["output"] for r in records] == ["ONE.", "TWO.", "THREE."] and all(r["realigned"] for r in records)


def test_empty_segments_are_not_numbered_and_separators_after_numbers_are_removed(tmp_path):
    """An empty source segment is translated as empty without taking a number (a model that
    skipped it lost the whole chunk); "[1]: text" loses its ":" unless the source has it."""
    def answer(payload):
        lines = _user_text(payload).split("\n")
        return "\n".join(re.sub(r"^\[(\d+)\] (?!-)", r"[\1]: ", line).upper() for line in lines)

    rows = [_row(1, "doc-a", "news", "One.", "하나."), _row(2, "doc-a", "news", "", ""),
            _row(3, "doc-a", "news", "- a list item.", "- 목록."),
            _row(4, "doc-b", "news", "", "")]
    records, server = _document_run(tmp_path, rows, answer)
    assert [r["output"] for r in records] == ["ONE.", "", "- A LIST ITEM.", ""]
    assert all(r["realigned"] for r in records) and ["mark separator", ":"] in records[0]["removed"]
    assert server.requests == 1            # doc-b holds only an empty segment: nothing to ask
    shown = CliRunner().invoke(cli, ["prompt", str(tmp_path / "doc"), "0001"])
    assert shown.exit_code == 0 and "[2] - a list item." in shown.output and "[3]" not in shown.output


def test_an_invisible_only_segment_is_left_out_of_the_rebuilt_prompt_as_it_was_sent(tmp_path):
    """(audit round 22) A zero-width-space or BOM segment is not numbered (documents.numbered):
    `xling prompt` and the HTML report rebuilt the prompt with it, and said every other segment's
    prompt "does NOT hash to it"."""
    rows = [_row(1, "doc-a", "news", "One.", "하나."), _row(2, "doc-a", "news", "\u200b", "빈."),
            _row(3, "doc-a", "news", "Two.", "둘."), _row(4, "doc-a", "news", "\ufeff", "빈.")]
    records, server = _document_run(tmp_path, rows, lambda payload: _user_text(payload).upper())
    assert [r["output"] for r in records] == ["ONE.", "", "TWO.", ""] and server.requests == 1
    for record in ("0001", "0003"):
        shown = CliRunner().invoke(cli, ["prompt", str(tmp_path / "doc"), record])
        assert shown.exit_code == 0, shown.output
        assert "[1] One.\n[2] Two." in shown.output and "[3]" not in shown.output
        assert "the rebuilt prompt hashes to it" in shown.output
    run = read_run(str(tmp_path / "doc"), fresh=True)
    view, ok = document_prompt_view(run, "en-ko", records, PromptRebuilder(run))
    assert view["verified"] == view["checked"] == 2 and ok == [True, None, True, None]


def test_a_blank_line_in_a_segment_is_refused_before_the_run_folder_is_made(tmp_path):
    rows = [_row(1, "doc-a", "news", "First part.\n\nSecond part.", "첫째.\n\n둘째.")]
    result = xling("eval", "mt", "--data", "wmt24pp:en-ko_KR", "--data-dir", _write_wmt24pp(tmp_path, rows),
                   "--out", tmp_path / "doc", "--backend", "http", "--base-url", "http://127.0.0.1:9/v1",
                   "-m", "fake", "--unit", "document", "--template", "mt-document-completion")
    assert_one_line_error(result, "document doc-a: its segment 1 of 1 holds a blank line")
    assert b"--paragraphs" not in result.stderr
    assert not (tmp_path / "doc").exists()


def test_a_first_segment_that_reads_like_a_preamble_is_kept_and_talk_before_it_recorded(tmp_path):
    server = FakeOpenAI(respond=lambda payload: "Sure! Here you go\n" + _scripted_translator(payload))
    try:
        rows = [_row(1, "doc-a", "news", "Translation services we offer:", "제공하는 번역 서비스:"),
                _row(2, "doc-a", "news", "Documents and websites.", "문서와 웹사이트.")]
        result = _eval(_write_wmt24pp(tmp_path, rows), tmp_path / "doc", server.url, "--unit", "document")
    finally:
        server.close()
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (tmp_path / "doc" / "outputs" / "en-ko.jsonl").open(encoding="utf-8")]
    assert [r["output"] for r in records] == ["TRANSLATION SERVICES WE OFFER:", "DOCUMENTS AND WEBSITES."]
    assert all(r["realigned"] for r in records)
    assert ["preamble", "Sure! Here you go"] in records[0]["removed"]


def test_a_direction_the_data_was_not_made_for_is_named(scripted, tmp_path):
    result = _eval(_write_wmt24pp(tmp_path, ROWS), tmp_path / "rev", scripted.url, "--pairs", "ko-en,en-ko")
    assert result.exit_code == 0, result.output
    assert "note: ko-en is not a direction wmt24pp:en-ko_KR was made for (en-ko): the source side is a " \
           "translation" in result.output


def test_long_documents_are_cut_into_chunks_that_fit(scripted, tmp_path):
    rows = ROWS[:1] + [_row(i, "doc-long", "speech", f"Sentence number {i} of a long speech.", f"문장 {i}.")
                       for i in range(1, 9)]
    root = _write_wmt24pp(tmp_path, rows)
    # Each segment's own budget is about 2.5 x its tokens + 20; a cap of 100 holds two of them.
    result = _eval(root, tmp_path / "long", scripted.url, "--unit", "document", "--max-new-tokens", "100")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (tmp_path / "long" / "outputs" / "en-ko.jsonl").open(encoding="utf-8")]
    chunks = Counter(r["chunk"] for r in records)
    assert len(chunks) > 1 and all(r["realigned"] for r in records)
    assert [r["output"] for r in records] == [f"SENTENCE NUMBER {i} OF A LONG SPEECH." for i in range(1, 9)]


def test_a_segment_too_long_for_the_context_window_is_a_clear_error(tiny_causal_base, tmp_path):
    long = " ".join(["The bridge opened today."] * 200)          # far over 2048 positions
    root = _write_wmt24pp(tmp_path, ROWS[:1] + [_row(1, "d", "news", long, "x")])
    result = xling("eval", "mt", "--data", "wmt24pp:en-ko_KR", "--data-dir", str(root),
                   "--out", str(tmp_path / "r"), "-m", str(tiny_causal_base), "--unit", "document")
    assert_one_line_error(result, "document d: its segment 1 of 1 alone needs")
    assert re.search(r"needs \d+ tokens of prompt, which leaves no room for an answer in the model's context window of "
                     r"2,?048", result.stderr.decode())
    assert not (tmp_path / "r").exists()


def test_a_chunk_budget_the_context_window_cut_is_said_on_stderr(tiny_causal, tmp_path):
    """(audit round 22) Segment mode says on stderr when the context window cuts an answer
    budget; document mode counted it in metrics.json without a word."""
    import shutil

    narrow = tmp_path / "narrow"
    shutil.copytree(tiny_causal, narrow)
    config = json.loads((narrow / "config.json").read_text())
    (narrow / "config.json").write_text(json.dumps(dict(config, max_position_embeddings=400)))
    # a prompt that fits the 400 positions, with a budget (2.5 x its tokens + 20) that does not
    root = _write_wmt24pp(tmp_path, ROWS[:1] + [_row(1, "d", "news", "The bridge opened today. " * 4, "x")])
    result = xling("eval", "mt", "--data", "wmt24pp:en-ko_KR", "--data-dir", str(root), "--out", str(tmp_path / "r"),
                   "-m", str(narrow), "--unit", "document", "--max-new-tokens", "1000", "--metrics", "chrf")
    assert result.returncode == 0, result.stderr.decode()
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["directions"]["en-ko"]["generation"]["clipped_budgets"] == 1
    assert ("xling: note: 1 of 1 chunk answer budgets were cut to what the model's context window of 400 "
            "tokens leaves after the prompt") in result.stderr.decode()


def test_document_mode_needs_documents(scripted, tmp_path):
    (tmp_path / "t.en").write_text("one\n", encoding="utf-8")
    (tmp_path / "t.ko").write_text("하나\n", encoding="utf-8")
    result = xling("eval", "mt", "--data", f"text:{tmp_path}/t.{{lang}}", "-p", "en-ko",
                   "--out", str(tmp_path / "r"), "--backend", "http", "--base-url", scripted.url,
                   "-m", "fake", "--unit", "document")
    assert_one_line_error(result, "has no documents: --unit document needs a data set")


def test_report_by_domain_with_document_scores_and_significance(scripted, tmp_path):
    root = _write_wmt24pp(tmp_path, ROWS)
    assert _eval(root, tmp_path / "seg", scripted.url).exit_code == 0
    doc = _eval(root, tmp_path / "doc", scripted.url, "--unit", "document")
    assert doc.exit_code == 0, doc.output
    result = CliRunner().invoke(cli, ["report", str(tmp_path / "seg"), str(tmp_path / "doc"), "-m", "chrf",
                                      "--paired-n", "200"])
    assert result.exit_code == 0, result.output
    table = result.output[result.output.index("seg: en-ko by domain"):]
    lines = table.splitlines()
    assert lines[1].split() == ["domain", "n", "chrF", "documents", "chrF", "(doc)"]
    assert [line.split()[:2] for line in lines[2:5]] == [["all", "5"], ["news", "3"], ["literary", "2"]]
    assert "chrF: runs compared" in result.output
    assert re.search(r"^en-ko news\s", result.output, re.M) and re.search(r"^en-ko literary\s", result.output, re.M)
    # The undetermined rate stands beside the off-target rate by domain too (issue 25).
    result = CliRunner().invoke(cli, ["rescore", str(tmp_path / "seg"), "-m", "offtarget"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["report", str(tmp_path / "seg"), "-m", "offtarget"])
    lines = result.output[result.output.index("seg: en-ko by domain"):].splitlines()
    assert lines[1].split() == ["domain", "n", "OffTarget%", "Undetermined%", "Ref", "OffTarget%", "Ref",
                                "Undetermined%"]   # the references' own rates beside (issue 31)
    assert all(len(line.split()) == 6 for line in lines[2:5])


def test_sacrebleu_sets_from_sacrebleus_cache_and_a_clear_error_offline(tmp_path):
    # sacrebleu reads $SACREBLEU when imported, so each check runs in its own process.
    cache = tmp_path / "sacrebleu"
    folder = cache / "multi30k" / "2016"
    folder.mkdir(parents=True)
    (folder / "multi30k_2016.en-de.src").write_text("A dog runs.\nTwo birds sing.\n", encoding="utf-8")
    (folder / "multi30k_2016.en-de.ref").write_text("Ein Hund rennt.\nZwei Vögel singen.\n", encoding="utf-8")
    code = ("from xling.data.parallel import load_parallel\n"
            "from xling.errors import XlingError\n"
            "import sys\n"
            "try:\n"
            "    d = load_parallel(sys.argv[1])\n"
            "    print(d.default_pairs, d.text('en'), d.text('de'))\n"
            "except XlingError as e:\n"
            "    print('error:', e)\n")
    env = dict(os.environ, SACREBLEU=str(cache), https_proxy="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9")

    def run(spec):
        return subprocess.run([sys.executable, "-c", code, spec], env=env, capture_output=True,
                              text=True, timeout=120).stdout

    assert run("sacrebleu:multi30k/2016:en-de") == \
        "['en-de'] ['A dog runs.', 'Two birds sing.'] ['Ein Hund rennt.', 'Zwei Vögel singen.']\n"
    offline = run("sacrebleu:wmt24:en-ja")
    assert offline.startswith("error: sacrebleu test set wmt24 (en-ja) is not in sacrebleu's cache")
    assert str(cache / "wmt24") in offline and "$SACREBLEU" in offline
    assert not (cache / "wmt24").exists()     # sacrebleu's lock file and folders of the failed download
    assert run("sacrebleu:wmt24:en-ko").startswith("error: sacrebleu test set wmt24 has no pair en-ko")


WMT_XML = """<?xml version="1.0" encoding="utf-8"?>
<dataset id="wmttest2023"><collection id="general">
<doc id="d7" origlang="en" domain="speech">
<src lang="en"><p><seg id="1">The bus is late.</seg><seg id="2">It rains.</seg></p></src>
<ref lang="he" translator="refA"><p><seg id="1">first-ref-1</seg><seg id="2">first-ref-2</seg></p></ref>
<ref lang="he" translator="refB"><p><seg id="1">chosen-ref-1</seg><seg id="2">chosen-ref-2</seg></p></ref>
<hyp system="SomeSystem" language="he"><p><seg id="1">system-out-1</seg><seg id="2">system-out-2</seg></p></hyp>
<hyp system="id" language="he"><p><seg id="1">system-id-1</seg><seg id="2">system-id-2</seg></p></hyp>
</doc></collection></dataset>
"""


def test_a_sacrebleu_xml_set_gives_sacrebleus_reference_and_no_system_outputs(tmp_path):
    """wmt23 en-he: sacrebleu scores against refB (the set's designated reference); xling took
    whichever ref column came first, an order that changed with Python's hash seed, and copied
    every submitted system's output into the records' metadata."""
    raw = tmp_path / "sacrebleu" / "wmt23" / "raw"
    (raw / "wmt23-news-systems-v.0.1" / "xml").mkdir(parents=True)
    (raw / "wmt23.v.0.1.tar.gz").write_text("already fetched")
    (raw / "wmt23-news-systems-v.0.1" / "xml" / "wmttest2023.en-he.all.xml").write_text(WMT_XML, encoding="utf-8")
    code = ("from xling.data.parallel import load_parallel\n"
            "d = load_parallel('sacrebleu:wmt23:en-he')\n"
            "print(d.text('he'), d.meta[0], d.note)\n")
    for seed in ("0", "3", "11"):
        env = dict(os.environ, SACREBLEU=str(tmp_path / "sacrebleu"), PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
        assert out.stdout.startswith("['chosen-ref-1', 'chosen-ref-2'] {'document_id': 'd7', 'origlang': 'en', "
                                     "'domain': 'speech'} sacrebleu wmt23 en-he: reference ref:refB"), out.stderr
    # sacrebleu's own score of the chosen reference against the set is 100
    sacre = subprocess.run([sys.executable, "-m", "sacrebleu", "-t", "wmt23", "-l", "en-he", "-m", "chrf", "-b"],
                           input="chosen-ref-1\nchosen-ref-2\n", env=env, capture_output=True, text=True, timeout=120)
    assert sacre.stdout.strip() == "100.0", sacre.stderr


def test_a_segment_with_its_own_bracketed_numbers_is_refused_in_document_mode(tmp_path):
    """"[2] Jones, 2021." on a line of its own read as xling's segment number: every chunk with
    such a segment failed for a perfect model, and the warning blamed the model."""
    rows = [_row(1, "doc-a", "news", "Sources used:\n[1] Smith, 2020.\n[2] Jones, 2021.",
                 "출처:\n[1] 스미스.\n[2] 존스.")]
    result = xling("eval", "mt", "--data", "wmt24pp:en-ko_KR", "--data-dir", _write_wmt24pp(tmp_path, rows),
                   "--out", tmp_path / "doc", "--backend", "http", "--base-url", "http://127.0.0.1:9/v1",
                   "-m", "fake", "--unit", "document")
    assert_one_line_error(result, "document doc-a: its segment 1 of 1 has a line starting with a number in "
                                  "square brackets")
    assert not (tmp_path / "doc").exists()


def test_a_segment_that_opens_with_a_line_break_is_checked_as_it_is_sent(tmp_path):
    """(audit round 24, D2) "\\n[2] Jones, 2021." and "\\n\\nfoo bar" passed the checks, which
    stripped the text; mark() sends it unstripped: "[1] \\n[2] Jones" lost the chunk for a perfect
    model, and the blank line left a run folder behind with a message naming no segment."""
    rows = [_row(1, "doc-a", "news", "The bridge opened.", "x"), _row(2, "doc-a", "news", "\n[2] Jones, 2021.", "y"),
            _row(3, "doc-a", "news", "The mayor spoke.", "z")]
    result = xling("eval", "mt", "--data", "wmt24pp:en-ko_KR", "--data-dir", _write_wmt24pp(tmp_path / "a", rows),
                   "--out", tmp_path / "doc", "--backend", "http", "--base-url", "http://127.0.0.1:9/v1",
                   "-m", "fake", "--unit", "document")
    assert_one_line_error(result, "document doc-a: its segment 2 of 3 has a line starting with a number in "
                                  "square brackets")
    assert not (tmp_path / "doc").exists()
    rows = [_row(1, "doc-b", "news", "\n\nfoo bar", "x")]
    result = xling("eval", "mt", "--data", "wmt24pp:en-ko_KR", "--data-dir", _write_wmt24pp(tmp_path / "b", rows),
                   "--out", tmp_path / "doc", "--backend", "http", "--base-url", "http://127.0.0.1:9/v1",
                   "-m", "fake", "--unit", "document", "--template", "mt-document-completion")
    assert_one_line_error(result, "document doc-b: its segment 1 of 1 holds a blank line")
    assert b"--paragraphs" not in result.stderr and b"translate by segment" not in result.stderr
    assert not (tmp_path / "doc").exists()


def test_a_blank_line_under_a_completion_template_in_segment_mode_names_the_segment(tmp_path):
    """(audit round 24, D5) `eval mt --unit segment`: the template's own check said "split it into
    paragraphs (--paragraphs)", an option of `xling translate` only, named no segment of 960, and
    ran after the run folder was made."""
    path = tmp_path / "cblank.jsonl"
    path.write_text(json.dumps({"document_id": "a", "segment_id": 1, "en": "fine", "de": "x"}) + "\n"
                    + json.dumps({"document_id": "a", "segment_id": 2, "en": "\n\nfoo bar", "de": "x"}) + "\n",
                    encoding="utf-8")
    result = xling("eval", "mt", "--data", f"jsonl:{path}", "-p", "en-de", "--unit", "segment",
                   "--template", "mt-completion", "--backend", "http", "--base-url", "http://127.0.0.1:9/v1",
                   "-m", "fake", "--metrics", "chrf", "--out", tmp_path / "run")
    assert_one_line_error(result, "segment 2 (document a, segment_id 2) holds a blank line, which ends an answer "
                                  "under the completion template 'mt-completion'")
    assert b"--paragraphs" not in result.stderr
    assert not (tmp_path / "run").exists()
    # the template's own check (the Python API) names no option of any one command either
    from xling.prompts.templates import load_template

    with pytest.raises(XlingError, match="holds a blank line") as error:
        load_template("mt-completion").stops_for("foo\n\nbar")
    assert "--paragraphs" not in str(error.value)


def _narrow_model(model: Path, folder: Path, window: int) -> Path:
    import shutil

    shutil.copytree(model, folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps(dict(config, max_position_embeddings=window)))
    return folder


def _window_for(model: Path, texts: list[str], extra: int) -> tuple[int, int]:
    """A context window the round-23 planner fills with one chunk of `texts` (all of one
    document), `extra` tokens to spare, and the chunk's answer budget."""
    from xling.data.languages import resolve
    from xling.translation.documents import MARK_TOKENS
    from xling.translation.translator import Translator

    with Translator(str(model)) as translator:
        backend = translator.backend
        empty = backend.prompt_tokens(translator.template.render_translation(resolve("en"), resolve("ko"), "", []))
        answer = sum(translator.budget(t) + MARK_TOKENS for t in texts)
        return empty + 2 + sum(backend.count_tokens(t) + MARK_TOKENS for t in texts) + answer + extra, answer


def test_chunks_count_the_tokens_of_two_digit_segment_numbers(tiny_causal_base, tmp_path):
    """(audit round 24, D3) The planner counted 4 tokens for every "[k] ", and "\n[12] I" takes 5
    on a tokenizer that splits digits: 30 segments cost 260 tokens of prompt, planned as 240, and
    a chunk planned to fit ran past the context window (its answer budget cut)."""
    from xling.backends.base import Decoding
    from xling.translation.documents import MARK_TOKENS, mark, prepare
    from xling.translation.translator import Translator

    src, tgt = resolve("en"), resolve("ko")
    texts, docs = ["I like apples."] * 30, ["d"] * 30
    window, answer = _window_for(tiny_causal_base, texts, 5)
    narrow = Translator(str(_narrow_model(tiny_causal_base, tmp_path / "narrow", window)),
                        decoding=Decoding(max_new_tokens_cap=answer))
    backend = narrow.backend
    assert backend.context_window == window
    assert backend.count_tokens("\n[12] I") - backend.count_tokens("I") == 5 > MARK_TOKENS
    shots, chunks = prepare(narrow, texts, docs, src, tgt)
    assert len(chunks) == 2 and not chunks[0].as_before   # (the old planner made one, said apart)
    for chunk in chunks:
        segments = [texts[p] for p in chunk.positions]
        prompt = backend.prompt_tokens(narrow.template.render_translation(src, tgt, mark(segments), shots))
        budget = min(answer, sum(narrow.budget(s) + MARK_TOKENS for s in segments))
        assert prompt + budget <= window, (prompt, budget, window)
    # a document of nine segments or fewer is cut as before
    assert all(c.as_before for c in prepare(narrow, texts[:9], docs[:9], src, tgt)[1])
    narrow.close()


def test_a_document_run_cut_otherwise_than_before_gets_another_identity(tiny_causal_base, tmp_path):
    """(audit round 24, D3) Chunks planned otherwise send other prompts: such a run's data digest
    differs (a run stored before is refused, as RunDir's `_why` says) and nothing is clipped; a run
    whose chunks did not change keeps its digest."""
    texts = ["I like apples."] * 12
    window, answer = _window_for(tiny_causal_base, texts, 1)
    narrow = _narrow_model(tiny_causal_base, tmp_path / "narrow", window)
    root = _write_wmt24pp(tmp_path, ROWS[:1] + [_row(i, "d", "news", t, "x") for i, t in enumerate(texts, 1)])

    def run(out, *extra):
        result = xling("eval", "mt", "--data", "wmt24pp:en-ko_KR", "--data-dir", str(root), "--out", str(out),
                       "-m", str(narrow), "--metrics", "chrf", "--max-new-tokens", str(answer), *extra)
        assert result.returncode == 0, result.stderr.decode()
        identity = json.loads((out / "config.json").read_text())["identity"]["data_sha256"]
        return identity, json.loads((out / "metrics.json").read_text())["directions"]["en-ko"]

    segment, _ = run(tmp_path / "seg")
    document, metrics = run(tmp_path / "doc", "--unit", "document")
    assert document != segment and metrics["realignment"]["chunks"] == 2
    assert metrics["generation"].get("clipped_budgets", 0) == 0
    # nine segments: cut as before, the digest the data alone gives
    assert run(tmp_path / "nine", "--unit", "document", "--limit", "9")[0] == run(tmp_path / "seg9", "--limit", "9")[0]


def test_the_saudi_note_is_said_only_of_runs_with_arabic_and_demonstrations_only_with_shots(scripted, tmp_path):
    """(audit round 24, D4) A `wmt24pp:en-*` run of en-ko named ar_SA's regional post-edits and
    "demonstrations from FLORES-200 arb_Arab" with no Arabic run and no shots."""
    from xling.data.wmt import run_note

    rows = ROWS[1:3]
    _write_wmt24pp(tmp_path, rows)
    _write_wmt24pp(tmp_path, [dict(r, target="عربي", original_target="عربي") for r in rows], locale="ar_SA")
    data = load_parallel("wmt24pp:en-*", tmp_path)
    ko, ar = (resolve("en"), resolve("ko")), (resolve("en"), resolve("ar_SA"))   # (round 27: a variety)
    assert "Saudi" not in run_note(data, [ko], 0) and "Saudi" not in run_note(data, [ko], 2)
    assert "(ar_SA: Saudi Arabic)" in run_note(data, [ar], 0) and "demonstrations" not in run_note(data, [ar], 0)
    assert "demonstrations from FLORES-200 arb_Arab" in run_note(data, [ko, ar], 2)
    result = xling("eval", "mt", "--data", "wmt24pp:en-*", "--data-dir", str(tmp_path), "-p", "en-ko",
                   "--out", str(tmp_path / "run"), "--backend", "http", "--base-url", scripted.url,
                   "-m", "fake", "--metrics", "chrf")
    assert result.returncode == 0, result.stderr.decode()
    assert b"Saudi" not in result.stderr and b"WMT24++ (ar_SA, ko_KR)" in result.stderr
    assert "Saudi" not in json.loads((tmp_path / "run" / "config.json").read_text())["data"]["note"]


# -- audit round 28 -------------------------------------------------------------------------------
def _two_references(tmp_path) -> Path:
    """ROWS whose original references (before post-editing) differ from the post-edits."""
    return _write_wmt24pp(tmp_path, [r if r["domain"] == "canary" else dict(r, original_target=r["target"] + " 원본")
                                     for r in ROWS])


DROPPED = ("data (wmt24pp:en-ko_KR): WMT24++ (ko_KR): 5 of 7 segments; dropped the canary and 1 row marked "
           "is_bad_source (2 in all); references: ")


def test_the_report_says_what_each_run_dropped_and_which_references_it_scored(scripted, tmp_path):
    """(audit round 28, item 1) Two runs differing only in --reference were headed alike in every
    format, and nothing said which rows were dropped; the only hint was a comparison cell's "item
    0001 has another reference in each"."""
    root = _two_references(tmp_path)
    assert _eval(root, tmp_path / "pe", scripted.url).exit_code == 0
    assert _eval(root, tmp_path / "orig", scripted.url, "--reference", "original").exit_code == 0
    paths = [str(tmp_path / "pe"), str(tmp_path / "orig")]
    for fmt in ("text", "markdown", "csv", "latex"):
        shown = CliRunner().invoke(cli, ["report", *paths, "--format", fmt, "--paired-n", "100"])
        assert shown.exit_code == 0, shown.output
        out = shown.output.replace("\\", "")   # (markdown's escapes)
        assert out.count(DROPPED) == 2, out   # one line per run, under its own table
        post_edits = out.index(DROPPED + "post-edits ('target'); English is the original side")
        originals = out.index(DROPPED + "original references, before post-editing ('original_target')")
        assert post_edits < out.index("orig: fake") < originals, out
        assert "pe and orig were scored against different references: post-edit vs original (--reference)" in out
    # runs on the same references say nothing of them
    assert _eval(root, tmp_path / "pe2", scripted.url, "--limit", "4").exit_code == 0
    shown = CliRunner().invoke(cli, ["report", paths[0], str(tmp_path / "pe2"), "--paired-n", "100"])
    assert shown.exit_code == 0 and "different references" not in shown.output, shown.output


def test_a_data_note_of_other_data_is_one_line_and_none_is_no_line(scripted, tmp_path, data_dir):
    """(audit round 28, item 1) NTREX's note reads as one line under its run's table; FLORES-200
    (local) has none, and its table gets no note for it."""
    from xling.reporting.report import build_report

    for name, spec in (("ntrex", "ntrex128:test"), ("flores", "flores200:devtest")):
        result = CliRunner().invoke(cli, ["eval", "mt", "--data", spec, "--data-dir", str(data_dir), "-p", "en-ko",
                                          "--limit", "2", "--out", str(tmp_path / name), "--backend", "http",
                                          "--base-url", scripted.url, "-m", "fake", "--metrics", "chrf"])
        assert result.exit_code == 0, result.output
    ntrex, flores = (build_report([str(tmp_path / name)])[0].notes for name in ("ntrex", "flores"))
    assert [n for n in ntrex if n.startswith("data")] == \
        ["data (ntrex128:test): English is the original; other sides are translations of it"]
    assert not [n for n in flores if n.startswith("data")], flores


def test_the_note_of_wmt24pp_into_english_says_the_post_edits_are_the_source(scripted, tmp_path):
    """(audit round 28, item 4) ko-en on wmt24pp:en-ko_KR was said to be scored against the
    post-edits with English the original side: its post-edits are the source, English the reference."""
    from xling.data.wmt import run_note

    root = _two_references(tmp_path)
    result = _eval(root, tmp_path / "rev", scripted.url, "-p", "ko-en")
    assert result.exit_code == 0, result.output
    note = json.loads((tmp_path / "rev" / "config.json").read_text())["data"]["note"]
    assert note.endswith("(2 in all); source: the post-edits ('target'); references: the English originals"), note
    assert note in result.output
    data = load_parallel("wmt24pp:en-ko_KR", root, reference="original")
    en, ko = resolve("en"), resolve("ko")
    assert run_note(data, [(ko, en)], 0).endswith(
        "; source: the translations before post-editing ('original_target'); references: the English originals")
    assert run_note(data, [(en, ko), (ko, en)], 0).endswith(
        "; en-ko: references: original references, before post-editing ('original_target'), English is the "
        "original side; ko-en: source: the translations before post-editing ('original_target'), references: "
        "the English originals")
    assert run_note(data, [(en, ko)], 0) == data.note   # out of English: as before
    assert data.note.endswith("; references: original references, before post-editing ('original_target'); "
                              "English is the original side")


def test_switching_the_unit_on_a_run_folder_is_not_blamed_on_an_edited_template(scripted, tmp_path):
    """(audit round 28, item 2) --unit segment on a document run's folder (or back) was refused as
    "its prompt template has changed since that run was made (edited, or rewritten by a newer xling)"."""
    root = _write_wmt24pp(tmp_path, ROWS)
    for first, then in (("document", "segment"), ("segment", "document")):
        out = tmp_path / first
        assert _eval(root, out, scripted.url, "--unit", first).exit_code == 0
        result = xling("eval", "mt", "--data", "wmt24pp:en-ko_KR", "--data-dir", str(root), "--out", str(out),
                       "--backend", "http", "--base-url", scripted.url, "-m", "fake", "--metrics", "chrf,bleu",
                       "--unit", then)
        assert_one_line_error(result, "holds a run with a different config (differs in: template_hash, unit); "
                                      "pass --overwrite")
        assert "prompt template has changed" not in result.stderr.decode()


@pytest.mark.parametrize("template, instead", [("mt-chat", "mt-document-chat"),
                                               ("mt-chat-target-lang", "mt-document-chat"),
                                               ("mt-completion", "mt-document-completion")])
def test_a_segment_template_in_document_mode_is_refused(scripted, tmp_path, template, instead):
    """(audit round 28, item 3) --unit document --template mt-chat ran (exit 0, no note) with a
    prompt that never asks to keep the [k] numbers: a real model's answers could not be split back
    and were scored as empty. (The reverse, a document template by segment, was refused already.)"""
    result = xling("eval", "mt", "--data", "wmt24pp:en-ko_KR", "--data-dir", str(_write_wmt24pp(tmp_path, ROWS)),
                   "--out", str(tmp_path / "r"), "--backend", "http", "--base-url", scripted.url, "-m", "fake",
                   "--unit", "document", "--template", template)
    assert_one_line_error(result, f"template {template!r} translates single segments and never asks to keep "
                                  f"the [1], [2], ... numbers --unit document splits answers by: use {instead}")
    assert not (tmp_path / "r").exists() and scripted.requests == 0


def test_a_users_own_template_in_document_mode_is_theirs(scripted, tmp_path):
    """(audit round 28, item 3) A template of the user's (here one that asks for the numbers in its
    own words, named as a built-in one is) is used as given: only xling's segment templates are refused."""
    own = tmp_path / "templates"
    own.mkdir()
    (own / "mt-chat.yaml").write_text(
        "name: mt-chat\ntask: translation\nformat: chat\nuser: |-\n  Into {tgt_name}, keeping each [k] at the "
        "start of its line:\n\n  {source}\nassistant: '{target}'\n", encoding="utf-8")
    result = xling("eval", "mt", "--data", "wmt24pp:en-ko_KR", "--data-dir", str(_write_wmt24pp(tmp_path, ROWS)),
                   "--out", str(tmp_path / "r"), "--backend", "http", "--base-url", scripted.url, "-m", "fake",
                   "--unit", "document", "--template", "mt-chat", "--metrics", "chrf",
                   env={"XLING_TEMPLATES": str(own)})
    assert result.returncode == 0, result.stderr.decode()
    assert "keeping each [k]" in scripted.payloads[0]["messages"][-1]["content"]
    records = [json.loads(line) for line in (tmp_path / "r" / "outputs" / "en-ko.jsonl").open(encoding="utf-8")]
    assert all(r["realigned"] for r in records)


def test_translate_documents_refuses_a_translator_of_single_segments(scripted):
    """(audit round 28, item 3) translate_documents with a Translator of the default unit sent its
    numbered chunks under mt-chat's prompt, which never asks to keep the numbers."""
    from xling.backends import load_backend
    from xling.translation.documents import translate_documents
    from xling.translation.translator import Translator

    backend = load_backend("fake", backend="http", base_url=scripted.url)
    with pytest.raises(XlingError, match=re.escape("translate_documents needs a Translator made with "
                                                   "unit='document'") + r".*\(template 'mt-chat'\)"):
        translate_documents(Translator(backend=backend, cache=False), ["Hello.", "World."], ["d", "d"], "en", "ko")
    with pytest.raises(XlingError, match="template 'mt-chat' translates single segments"):
        Translator(backend=backend, template="mt-chat", unit="document", cache=False)
    assert scripted.requests == 0


def test_counts_of_one_chunk_and_one_segment_read_in_the_singular(tmp_path):
    """(audit round 28, item 5) "realignment failed for 1 chunks (1 segments, scored as empty)", and
    the report's "1 of 2 chunks could not be split back into segments (1 segments scored as empty)"."""
    def lonely_left_empty(payload):
        text = _user_text(payload)
        return "[1]" if "Lonely" in text else "\n".join(line.upper() for line in text.split("\n"))

    rows = ROWS[:1] + [_row(1, "doc-a", "news", "Lonely sentence.", "외로운 문장."),
                       _row(2, "doc-b", "news", "The bridge opened today.", "다리가 오늘 개통했다.")]
    server = FakeOpenAI(respond=lonely_left_empty)
    try:
        result = _eval(_write_wmt24pp(tmp_path, rows), tmp_path / "doc", server.url, "--unit", "document")
    finally:
        server.close()
    assert result.exit_code == 0, result.output
    assert "xling: 2 documents in 2 chunks (context window" in result.output
    assert "realignment failed for 1 chunk (1 segment, scored as empty)" in result.output
    shown = CliRunner().invoke(cli, ["report", str(tmp_path / "doc")])
    assert "1 of 2 chunks could not be split back into segments (1 segment scored as empty)" in shown.output
