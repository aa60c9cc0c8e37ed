"""Dataset loaders on the real files in ../shared/data (or $XLING_DATA)."""
import json
import re

import pytest

from xling.data.parallel import load_parallel
from xling.errors import XlingError


@pytest.mark.parametrize("split", ["dev", "devtest"])
def test_flores_every_language_is_aligned(data_dir, split):
    data = load_parallel(f"flores200:{split}", data_dir)
    files = sorted((data_dir / "flores200" / split).glob(f"*.{split}"))
    assert len(data.languages()) == len(files) >= 14
    for code in data.languages():
        lines = data.text(code)
        assert len(lines) == len(data.ids) == {"dev": 997, "devtest": 1012}[split]
        assert all(line.strip() for line in lines)
    # Line i is the same segment in every language: numbers survive translation.
    en, de = data.text("en"), data.text("de")
    with_digits = [i for i, line in enumerate(en) if any(c.isdigit() for c in line)]
    agree = sum(any(c.isdigit() for c in de[i]) for i in with_digits)
    assert agree / len(with_digits) > 0.9


def test_flores_dev_pool_is_the_other_split(data_dir):
    data = load_parallel("flores200:devtest", data_dir)
    pool = data.dev_pool("ko", "en")
    assert len(pool) == 997 and pool[0][0] not in set(data.text("ko"))


def test_ntrex_crlf_and_language_codes(data_dir):
    data = load_parallel("ntrex128", data_dir)
    assert {"en", "ko", "ja", "zh", "zh-Hant", "ar"} <= set(data.languages())
    ko = data.text("ko")
    assert len(ko) == len(data.text("en")) == 1997
    assert not any(line.endswith("\r") for line in ko)


def test_every_ntrex_language_listed_is_read_from_the_file_it_was_listed_from(tmp_path):
    """Serbian's two files (srp-Cyrl, srp-Latn) were listed as sr and sr-Latn, then both read
    from newstest2019-ref.srp.txt, which NTREX-128 does not have."""
    folder = tmp_path / "ntrex128"
    folder.mkdir()
    (folder / "newstest2019-src.eng.txt").write_text("One.\nTwo.\n", encoding="utf-8")
    (folder / "newstest2019-ref.srp-Cyrl.txt").write_text("Један.\nДва.\n", encoding="utf-8")
    (folder / "newstest2019-ref.srp-Latn.txt").write_text("Jedan.\nDva.\n", encoding="utf-8")
    (folder / "newstest2019-ref.zho-CN.txt").write_text("一。\n二。\n", encoding="utf-8")
    # round 16: NTREX's regional files (fra-CA sorts before fra) were read for French
    (folder / "newstest2019-ref.fra-CA.txt").write_text("Un (CA).\nDeux (CA).\n", encoding="utf-8")
    (folder / "newstest2019-ref.fra.txt").write_text("Un.\nDeux.\n", encoding="utf-8")
    (folder / "newstest2019-ref.por-BR.txt").write_text("Um.\nDois.\n", encoding="utf-8")
    data = load_parallel("ntrex128", tmp_path)
    assert sorted(data.languages()) == ["en", "fr", "pt", "sr", "sr-Latn", "zh"]
    assert (data.text("sr"), data.text("sr-Latn"), data.text("zh")) == (["Један.", "Два."], ["Jedan.", "Dva."],
                                                                       ["一。", "二。"])
    assert data.text("fr") == ["Un.", "Deux."] and data.text("pt") == ["Um.", "Dois."]   # (only a regional file)
    # (audit round 18) the regional files set aside are said, and English (eng-GB, eng-US: references
    # of the source) is listed once, here and in `xling data`
    (folder / "newstest2019-ref.eng-GB.txt").write_text("One (GB).\nTwo (GB).\n", encoding="utf-8")
    data = load_parallel("ntrex128", tmp_path)
    assert sorted(data.languages()) == ["en", "fr", "pt", "sr", "sr-Latn", "zh"]
    assert data.note.endswith("(regional references not read: eng-GB, fra-CA)")
    from xling.data.parallel import _ntrex_languages
    assert sorted(_ntrex_languages(tmp_path)) == ["en", "fr", "pt", "sr", "sr-Latn", "zh"]
    # (audit round 26) `xling data --data-dir .../ntrex128` listed none, where the loader reads it
    assert sorted(_ntrex_languages(folder)) == ["en", "fr", "pt", "sr", "sr-Latn", "zh"]


def test_plain_text_and_jsonl(tmp_path):
    (tmp_path / "test.ko").write_text("하나\n둘\n", encoding="utf-8")
    (tmp_path / "test.eng").write_text("one\ntwo\n", encoding="utf-8")
    data = load_parallel(f"text:{tmp_path}/test.{{lang}}")
    assert sorted(data.languages()) == ["en", "ko"] and data.pairs("ko", "en")[1] == ("둘", "two")
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in
                               [{"id": "a", "ko": "하나", "ja": "一"}, {"id": "b", "ko": "둘", "ja": "二"}]),
                     encoding="utf-8")
    data = load_parallel(f"jsonl:{jsonl}")
    assert data.ids == ["a", "b"] and data.text("ja") == ["一", "二"]
    # "zho" is Chinese (Simplified) only: Traditional needs its own file (zh-Hant, zho_Hant)
    (tmp_path / "test.zho").write_text("我们\n他们\n", encoding="utf-8")
    assert sorted(load_parallel(f"text:{tmp_path}/test.{{lang}}").languages()) == ["en", "ko", "zh"]
    (tmp_path / "test.zho_Hant").write_text("我們\n他們\n", encoding="utf-8")
    data = load_parallel(f"text:{tmp_path}/test.{{lang}}")
    assert data.text("zh-Hant") == ["我們", "他們"] and data.text("zh") == ["我们", "他们"]


def test_misaligned_text_files_are_named_with_the_longer_one(tmp_path):
    """The message named a language, and blamed the right file (the other had a blank line more)."""
    (tmp_path / "t.en").write_text("a\nb\n\n", encoding="utf-8")
    (tmp_path / "t.ko").write_text("가\n나\n", encoding="utf-8")
    with pytest.raises(XlingError) as error:
        load_parallel(f"text:{tmp_path}/t.{{lang}}").text("ko")
    assert f"{tmp_path}/t.ko has 2 lines, {tmp_path}/t.en has 3 (files not aligned: {tmp_path}/t.en is the " \
           "longer and ends with a blank line)" in str(error.value)


def test_an_empty_or_misaligned_flores_folder_is_one_line(tmp_path, data_dir):
    """An empty split folder was an IndexError; demonstrations for `translate --shots` zipped a
    dev file that had lost a line with the other (every pair after it wrong)."""
    from xling.data.parallel import flores_pairs

    (tmp_path / "flores200" / "devtest").mkdir(parents=True)
    with pytest.raises(XlingError, match="holds no FLORES-200 language file"):
        load_parallel("flores200:devtest", tmp_path)
    dev = tmp_path / "flores200" / "dev"
    dev.mkdir()
    flores = data_dir / "flores200" / "dev"
    (dev / "eng_Latn.dev").write_bytes((flores / "eng_Latn.dev").read_bytes())
    (dev / "kor_Hang.dev").write_text("".join((flores / "kor_Hang.dev").read_text(encoding="utf-8")
                                              .splitlines(keepends=True)[1:]), encoding="utf-8")
    with pytest.raises(XlingError, match="English has 997 lines, Korean 996 .files not aligned."):
        flores_pairs("dev", "en", "ko", tmp_path)


def test_wmt24pp_options_are_refused_for_other_data(tmp_path):
    from helpers import assert_one_line_error, xling

    result = xling("eval", "mt", "--data", "flores200:devtest", "--pairs", "en-ko", "--reference", "original",
                   "--limit", "1", "--out", str(tmp_path / "run"))
    assert_one_line_error(result, "--reference applies to WMT24++ data (wmt24pp:...), not to flores200:devtest")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("spec, lang, message", [
    ("flores200:test", "ko", "no split 'test'; available: dev, devtest"),
    ("wmt19", "ko", "unknown dataset"),
    ("flores200:devtest", "sw", "has no Swahili (sw); available: ar, de, en"),
    ("ntrex128:dev", "ko", "one split: test"),
])
def test_missing_things_say_what_exists(data_dir, spec, lang, message):
    with pytest.raises(XlingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_parallel(spec, data_dir).text(lang)


def test_what_flores_and_ntrex_say_of_their_segments_travels_with_them(data_dir):
    from collections import Counter

    flores = load_parallel("flores200:devtest", data_dir)
    assert Counter(m["domain"] for m in flores.meta) == {"wikibooks": 351, "wikinews": 341, "wikivoyage": 320}
    ntrex = load_parallel("ntrex128", data_dir)
    documents = [m["document_id"] for m in ntrex.meta]
    assert ntrex.has_documents and len(set(documents)) == 123 and documents[0] == "bbc.381790"


def _xcsqa_record(id_, stem, options, key):
    return json.dumps({"id": id_, "question": {"stem": stem, "choices": [
        {"label": letter, "text": text} for letter, text in zip("ABC", options)]}, "answerKey": key})


def test_x_csqa_files_are_joined_by_id_and_items_with_an_empty_answer_are_left_out_and_said(tmp_path):
    """The official files order each language's answers their own way: a crossed cell was refused
    as "not aligned". An empty answer (CLiKA ru has one) scored as a bare space won every
    log-likelihood comparison."""
    from xling.data.choice import choice_source

    for lang, rows in (("en", [_xcsqa_record("q1", "Where?", ["home", "shop", "park"], "B"),
                               _xcsqa_record("q2", "Who?", ["cat", "dog", "cow"], "A")]),
                       ("de", [_xcsqa_record("q2", "Wer?", ["Kuh", "Katze", "Hund"], "B"),
                               _xcsqa_record("q1", "Wo?", ["Laden", "", "Park"], "A")]),
                       # a bare "." (three CLiKA German items) won every comparison too (audit round 22)
                       ("fr", [_xcsqa_record("q1", "Où ?", ["magasin", ".", "parc"], "A"),
                               _xcsqa_record("q2", "Qui ?", ["vache", "chat", "chien"], "B")])):
        (tmp_path / "xcsqa" / lang).mkdir(parents=True)
        (tmp_path / "xcsqa" / lang / "dev.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    source = choice_source("xcsqa", str(tmp_path), "multiple_choice")
    crossed = source.items("en", "de")
    assert [(i.id, i.fields["stem"], i.fields["options"][i.label]) for i in crossed] == [("q2", "Who?", "Katze")]
    assert [i.id for i in source.items("en", "en")] == ["q1", "q2"]
    assert source.note.endswith("en>de: 1 item(s) with an empty (or punctuation-only) answer option left out (q1)")
    assert [i.id for i in source.items("fr", "fr")] == ["q2"]


@pytest.mark.parametrize("bad, line, message", [
    ("ja", '{"id": "q1", "question": {"stem": "x", "choices": [{"label": "A", "text": "a"}]}}', "no answerKey"),
    ("ja", '{"id": "q1", "stem": "x"}', "expected an X-CSQA record: question.stem"),
    ("en", '["q1"]', 'with an "id"'),
    ("en", "{bad", "en/dev.jsonl:1"),
])
def test_an_x_csqa_record_xling_cannot_read_is_one_line(tmp_path, bad, line, message):
    """(The English file gives the order, so its ids are read when another language is.)"""
    from xling.data.choice import xcsqa_items

    for lang in ("en", "ja"):
        (tmp_path / "xcsqa" / lang).mkdir(parents=True)
        (tmp_path / "xcsqa" / lang / "dev.jsonl").write_text(
            (line if lang == bad else _xcsqa_record("q1", "x", ["a"], "A")) + "\n", encoding="utf-8")
    with pytest.raises(XlingError, match=message):
        xcsqa_items("ja", tmp_path)


def test_a_korean_xnli_file_beside_the_others_is_read_when_kornli_is_absent(tmp_path, data_dir):
    from xling.data.choice import nli_items, xnli_languages

    (tmp_path / "xnli" / "test").mkdir(parents=True)
    for lang in ("en", "ko"):
        (tmp_path / "xnli" / "test" / f"{lang}.tsv").write_text(f"{lang} p\t{lang} h\tneutral\n", encoding="utf-8")
    assert xnli_languages(tmp_path, "test") == ["en", "ko"]
    assert nli_items("test", "ko", root=tmp_path)[0].fields == {"premise": "ko p", "hypothesis": "ko h"}
    assert xnli_languages(data_dir, "test").count("ko") == 1


@pytest.mark.parametrize("langs", [dict(langs=["ko", "en"]), dict(langs=["ar"]),
                                   dict(premise_langs=["ko"], hypothesis_langs=["en"])])
def test_kornli_is_korean_only(tmp_path, data_dir, langs):
    """(audit round 23) `--data kornli:test --langs en,ar` scored English and Arabic XNLI and
    labelled every table "kornli:test": kornli names KorNLI's Korean XNLI alone."""
    from xling.data.choice import choice_source
    from xling.runs.config import ChoiceEvalConfig
    from xling.tasks.choice import run_choice

    with pytest.raises(XlingError, match=r"kornli:test is KorNLI's Korean XNLI \(ko only\), not (English|Arabic): "
                                         r"the other languages are under xnli \(xnli:test\)"):
        run_choice(ChoiceEvalConfig(out=str(tmp_path / "run"), data="kornli:test", limit=2,
                                    data_dir=str(data_dir), **langs), progress=False)
    assert not (tmp_path / "run").exists()
    korean = choice_source("kornli:test", str(data_dir), "nli").items("ko", "ko")
    assert korean == choice_source("xnli:test", str(data_dir), "nli").items("ko", "ko")


def test_multiple_choice_without_a_demonstration_split_is_told_to_run_zero_shot(tmp_path):
    from xling.data.choice import choice_source

    with pytest.raises(XlingError, match=r"xcopa:val has no split to draw few-shot examples from "
                                         r"\(xcopa:test draws them from val\); use --shots 0"):
        choice_source("xcopa:val", str(tmp_path), "multiple_choice").dev_pool("en", "en")


@pytest.mark.parametrize("endpoint, port", [("http://mirror.internal", 80), ("https://mirror.internal", 443),
                                            ("http://mirror.internal:8080", 8080)])
def test_a_hub_mirror_is_probed_on_its_schemes_port(monkeypatch, endpoint, port):
    """An http:// mirror without a port was probed on 443: judged offline, every hub loader refused."""
    from xling.data import hub

    probed = []
    monkeypatch.setattr(hub, "_probe", lambda host, p, timeout: probed.append((host, p)) or True)
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    assert hub.reachable() and probed == [("mirror.internal", port)]


def test_flores_plus_from_the_hub_tries_its_renamed_codes(monkeypatch):
    """FLORES+ names some languages otherwise than FLORES-200 (cmn_Hans for zho_Hans): such a
    language failed from the hub. (The hub is out of reach here: `load_dataset` stands in for it,
    knowing only FLORES+'s names.)"""
    import sys
    import types

    from xling.data import hub
    from xling.data.parallel import _flores_hub

    served = {"eng_Latn": ["one", "two"], "cmn_Hans": ["一", "二"]}

    def load_dataset(repo, name, split):
        if name not in served:
            raise ValueError(f"BuilderConfig '{name}' not found")
        return [{"text": t} for t in served[name]]

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    monkeypatch.setattr(hub, "reachable", lambda timeout=3.0: True)
    data = _flores_hub("dev", "flores200:dev")
    assert data.text("zh") == ["一", "二"]
    with pytest.raises(XlingError, match="FLORES\\+ kor_Hang dev could not be loaded"):
        data.text("ko")


def test_a_local_folder_laid_out_as_flores_plus_is_read_by_its_own_file_names(tmp_path, data_dir):
    """FLORES+ names Chinese cmn_Hans: such a local folder listed zh, then refused every
    direction (zh sorted first and was read to count the segments)."""
    devtest = tmp_path / "flores200" / "devtest"
    devtest.mkdir(parents=True)
    shared = data_dir / "flores200" / "devtest"
    for name, as_name in (("eng_Latn", "eng_Latn"), ("kor_Hang", "kor_Hang"), ("zho_Hans", "cmn_Hans"),
                          ("eng_Latn", "ekk_Latn")):   # (Estonian is not in the shared data: any aligned text)
        (devtest / f"{as_name}.devtest").write_bytes((shared / f"{name}.devtest").read_bytes())
    data = load_parallel("flores200:devtest", tmp_path)
    assert sorted(data.languages()) == ["en", "et", "ko", "zh"]
    assert data.pairs("en", "zh") == load_parallel("flores200:devtest", data_dir).pairs("en", "zh")
    assert data.text("et") == data.text("en")
    # (audit round 23) recorded as such: FLORES+ is not FLORES-200's text
    assert data.note.startswith("a local FLORES+ folder (cmn_Hans.devtest, ekk_Latn.devtest by FLORES+'s names)")
    assert load_parallel("flores_plus:devtest", tmp_path).note == data.note
    assert load_parallel("flores200:devtest", data_dir).note == ""


@pytest.mark.parametrize("name", ["flores_plus", "flores+"])
def test_flores_plus_never_reads_flores_200_under_its_name(data_dir, name):
    """(audit round 23) `-d flores_plus` read the local FLORES-200 (2022) without a word, and the
    run's identity said flores_plus: FLORES-200 numbers labelled FLORES+."""
    with pytest.raises(XlingError, match=f"^{re.escape(name)} names FLORES\\+, a revised release of FLORES-200; "
                                         ".*flores200 holds files by FLORES-200's names: ask for flores200, "
                                         ".*set XLING_DATA to a folder without flores200/ to read FLORES\\+ "
                                         "from the hub$"):
        load_parallel(f"{name}:devtest", data_dir)


def test_flores_plus_from_the_hub_says_so_and_a_named_folder_never_falls_through_to_it(monkeypatch, tmp_path):
    """FLORES+ is a revised release: a run on it was recorded exactly as one on FLORES-200, and a
    --data-dir without flores200/ (a typo) went to the hub without a word."""
    import sys
    import types

    from xling.data import hub
    from xling.data.parallel import FloresDev

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(
        load_dataset=lambda repo, name, split: [{"text": f"{name} {i}"} for i in range(3)]))
    monkeypatch.setattr(hub, "reachable", lambda timeout=3.0: True)
    (tmp_path / "FLORES-200").mkdir()
    with pytest.raises(XlingError, match="holds no flores200/ folder"):
        load_parallel("flores200:devtest", tmp_path)
    monkeypatch.setenv("XLING_DATA", str(tmp_path))
    data = load_parallel("flores200:devtest")
    assert "FLORES+" in data.note and "hub" in data.note
    assert FloresDev(tmp_path, "wmt24pp:en-ko_KR").spec == "flores_plus:dev (hub)"


@pytest.mark.parametrize("endpoint", ["https://mirror.internal:abc", "https://[bad", "mirror.internal"])
def test_a_malformed_hub_endpoint_is_one_line(monkeypatch, endpoint):
    from xling.data import hub

    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(XlingError, match="HF_ENDPOINT .* is not a URL"):
        hub.reachable()


@pytest.mark.parametrize("record, message", [
    ('{"en": "a", "fr": 3.50}', "3.50 reads as 3.5"),
    ('{"en": "a", "fr": "b", "en": "z"}', "key 'en' is given twice"),
])
def test_a_jsonl_value_xling_would_change_is_refused(tmp_path, record, message):
    path = tmp_path / "set.jsonl"
    path.write_text('{"en": "x", "fr": "y"}\n' + record + "\n", encoding="utf-8")
    with pytest.raises(XlingError, match=f"set.jsonl:2: .*{message}"):
        load_parallel(f"jsonl:{path}").text("fr")


def test_an_nli_file_ending_in_a_blank_line_is_read(tmp_path):
    from xling.data.choice import read_nli_file

    path = tmp_path / "nli.tsv"
    path.write_bytes(b"P1\tH1\tentailment\r\nP2\tH2\tneutral\r\n\r\n")
    assert [item.label for item in read_nli_file(path)] == [0, 1]


def test_a_jsonl_key_id_in_capitals_and_a_missing_language_say_how_to_key_them(tmp_path, tiny_causal_base):
    """(audit round 19) "ID" was read as Indonesian text (the ids then counted by position), and
    `eval mt` named a missing language without the spellings its files could have."""
    from helpers import assert_one_line_error, xling

    upper = tmp_path / "upper.jsonl"
    upper.write_text('{"ID": "a", "en": "x", "ko": "가"}\n', encoding="utf-8")
    with pytest.raises(XlingError, match="key 'ID': a record's id is keyed 'id' \\(lower case\\); key Indonesian"):
        load_parallel(f"jsonl:{upper}").text("en")
    upper.write_text('{"id": "a", "ID": "bahasa", "en": "x"}\n', encoding="utf-8")   # beside an id: Indonesian
    assert load_parallel(f"jsonl:{upper}").text("id") == ["bahasa"]
    (tmp_path / "t.en").write_text("x\n", encoding="utf-8")
    result = xling("eval", "mt", "-m", str(tiny_causal_base), "-d", f"text:{tmp_path}/t.{{lang}}", "-p", "en-fr",
                   "-o", str(tmp_path / "run"))
    assert_one_line_error(result, "has no French (fr) (a file is named by fr, fra or fra_Latn)")
    assert_one_line_error(xling("eval", "mt", "-m", str(tiny_causal_base), "-d", "wmt24pp", "-o", str(tmp_path / "r")),
                          "error: wmt24pp: WMT24++ is English into a locale")


def test_the_xcsqa_note_names_where_each_language_came_from(tmp_path):
    """(audit round 20) official files put at xcsqa/<lang>/dev.jsonl (as hcx_table14.yaml says)
    were still called CLiKA's machine translations in the note, config.json and Table 14."""
    from xling.data.choice import xcsqa_note

    (tmp_path / "xcsqa" / "ja").mkdir(parents=True)
    (tmp_path / "xcsqa" / "ja" / "dev.jsonl").write_text("", encoding="utf-8")
    note = xcsqa_note({"en", "ja", "zh"}, tmp_path)
    assert "ja from the official X-CSQA files" in note and "zh here are machine translations" in note
    assert "CLiKA" not in xcsqa_note({"en", "ja"}, tmp_path)


def test_xling_data_lists_each_splits_languages_and_a_wrong_root_is_named(tmp_path, capsys):
    """(audit round 20) a folder holding FLORES dev alone listed no language; XCOPA listed en,
    which only its test split has; a data root without xnli/ said "no English; available: "."""
    from helpers import assert_error, run_cli

    from xling.data.registry import families, local_languages

    (tmp_path / "flores200" / "dev").mkdir(parents=True)
    for name in ("kor_Hang.dev", "eng_Latn.dev"):
        (tmp_path / "flores200" / "dev" / name).write_text("x\n", encoding="utf-8")
    (tmp_path / "xcopa" / "third_party_en").mkdir(parents=True)
    for name in ("xcopa/test.et.jsonl", "xcopa/val.et.jsonl", "xcopa/third_party_en/test.en.jsonl"):
        (tmp_path / name).write_text("", encoding="utf-8")
    assert local_languages(families()["flores200"], tmp_path) == ["en", "ko"]
    assert local_languages(families()["xcopa"], tmp_path) == ["en (test only)", "et"]
    code, _, err = run_cli(capsys, "eval", "nli", "-m", "embedded", "-d", "xnli", "-l", "en", "--data-dir", tmp_path,
                           "--out", tmp_path / "R")
    assert_error(code, err, f"no xnli/ (or kornli_xnli_ko/) folder under {tmp_path}")
    # (round 24) the FLORES folder itself as the root: it loads, and it is listed too
    assert local_languages(families()["flores200"], tmp_path / "flores200") == ["en", "ko"]
    code, out, err = run_cli(capsys, "data", "--data-dir", tmp_path / "xcopa" / "third_party_en")
    assert code == 0 and "no data set found in" in err and "one folder per data set" in err
    code, out, err = run_cli(capsys, "data", "--data-dir", tmp_path)
    assert code == 0 and err == ""
    # (round 25) the names --data also takes are listed; wmt24pp's argument is a locale, not a split
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "(also --data flores, flores+, flores_plus)" in rows["flores200[:dev|devtest]"]
    assert "(also --data wmt24++)" in rows["wmt24pp:en-LOCALE"] and " test " not in rows["wmt24pp:en-LOCALE"]


def test_a_cut_file_of_another_language_blocks_no_run_and_is_named(tmp_path, data_dir):
    """(audit round 23) the segment count came from the first file by name (arb_Arab): a cut
    Arabic file refused an en-ko run and blamed the metadata or English; a damaged dev folder
    refused zero-shot devtest runs, which read no demonstration."""
    folder = tmp_path / "flores200"
    shared = data_dir / "flores200"
    (folder / "devtest").mkdir(parents=True)
    (folder / "dev").mkdir()
    for name in ("arb_Arab", "eng_Latn", "kor_Hang"):
        (folder / "devtest" / f"{name}.devtest").write_bytes((shared / "devtest" / f"{name}.devtest").read_bytes())
    cut = folder / "devtest" / "arb_Arab.devtest"
    cut.write_text("".join(line + "\n" for line in cut.read_text(encoding="utf-8").splitlines()[:1011]),
                   encoding="utf-8")
    (folder / "metadata_devtest.tsv").write_bytes((shared / "metadata_devtest.tsv").read_bytes())
    (folder / "dev" / "eng_Latn.dev").write_text("One line.\n", encoding="utf-8")   # a damaged dev
    data = load_parallel("flores200:devtest", tmp_path)
    assert len(data.pairs("en", "ko")) == 1012 and len(data.meta) == 1012
    with pytest.raises(XlingError, match=re.escape(f"flores200:devtest: {cut} (Arabic) has 1011 segments, "
                                                   "expected 1012 (files not aligned)")):
        data.text("ar")
    with pytest.raises(XlingError, match="flores200:dev has no Korean"):   # read when drawn from
        data.dev_pool("en", "ko")


def test_a_text_files_warning_is_said_once(tmp_path, capsys):
    """(audit round 26) the first file of a text: spec was read twice (its line count, then its
    lines): a NUL byte in it was warned about twice."""
    from xling.data.parallel import load_parallel

    (tmp_path / "t.en").write_bytes(b"one\x00\ntwo\n")
    (tmp_path / "t.ko").write_text("하나\n둘\n", encoding="utf-8")
    data = load_parallel(f"text:{tmp_path}/t.{{lang}}")
    assert data.text("en") == ["one\x00", "two"] and data.text("ko") == ["하나", "둘"]
    assert capsys.readouterr().err.count("NUL byte") == 1


def test_a_direction_written_with_an_underscore_is_named(capsys):
    """(audit round 26) `-p ko_en` (or `-p ko`) said only "unknown pair set"."""
    from helpers import assert_error, run_cli

    code, _, err = run_cli(capsys, "eval", "mt", "-p", "ko_en", "-m", "x", "--out", "never")
    assert_error(code, err, "unknown pair set 'ko_en'; known: direction_matrix, hcx_table15, ko_centric (a direction "
                            "is SRC-TGT: did you mean ko-en?)")
