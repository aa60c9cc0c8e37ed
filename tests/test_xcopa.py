"""XCOPA as a registered data set: items aligned by idx across languages (premise from one
language, alternatives from another), its own `copa` template (the premise, a connective, each
alternative lowercased as the option's language does it), demonstrations from val, through
`xling eval mc` and `xling prompt`."""
import json

import numpy as np
import pytest
from browser import check_quiet, open_page, page_data
from helpers import assert_one_line_error, xling

from xling.data.registry import DataOptions, load_dataset
from xling.data.xcopa import xcopa_items
from xling.errors import XlingError
from xling.prompts.choice import generation_parts, loglikelihood_parts, lower_first, parse_answer
from xling.prompts.templates import load_template


@pytest.fixture(scope="module")
def root(data_dir):
    if not (data_dir / "xcopa" / "test.zh.jsonl").is_file():
        pytest.skip(f"XCOPA is not in {data_dir} (xcopa/, see its SOURCE.md)")
    return data_dir


def test_items_are_aligned_by_idx_and_cross_lingual_cells_take_the_other_languages_options(root):
    zh, it = xcopa_items("test", "zh", root=root), xcopa_items("test", "it", root=root)
    assert len(zh) == len(it) == 500
    assert [(i.id, i.label, i.fields["relation"]) for i in zh] == [(i.id, i.label, i.fields["relation"]) for i in it]
    crossed = xcopa_items("test", "zh", "it", root=root)
    assert [c.fields["premise"] for c in crossed] == [z.fields["premise"] for z in zh]
    assert [c.fields["options"] for c in crossed] == [i.fields["options"] for i in it]
    assert crossed[0].option_lang == "it" and set(x.fields["relation"] for x in zh) == {"cause", "effect"}
    assert len(xcopa_items("val", "tr", root=root)) == 100


def test_what_an_item_asks_is_the_relation_the_languages_agree_on(root):
    # Thai's file marks every test item "effect", Turkish's 51 causes too; English, zh and et agree.
    raw_th = [json.loads(line)["question"] for line in (root / "xcopa" / "test.th.jsonl").open(encoding="utf-8")]
    assert set(raw_th) == {"effect"}
    en, th, tr = (xcopa_items("test", lang, root=root) for lang in ("en", "th", "tr"))
    assert [i.fields["relation"] for i in th] == [i.fields["relation"] for i in en] \
        == [i.fields["relation"] for i in tr] == [i.fields["relation"] for i in xcopa_items("test", "et", root=root)]
    assert sum(i.fields["relation"] == "cause" for i in th) == 250
    _, context, _ = loglikelihood_parts(load_template("copa"), tr[0], "tr")
    assert en[0].fields["relation"] == "cause" and context.endswith(" çünkü")
    source = load_dataset("xcopa:test", DataOptions(root, task="multiple_choice"))
    source.items("th", "th")
    assert source.note.startswith("XCOPA test th: its question field gives 250 of 500 items another relation")
    source.own_dev_pool("th", "th")     # the demonstrations' split is checked too
    assert "XCOPA val th: its question field gives 52 of 100" in source.note
    assert source.shots_source(2) == {"from": "xcopa:val"}


def test_relations_come_from_the_reference_files_whatever_else_the_folder_holds(root, tmp_path):
    def folder(name, langs):
        (tmp_path / name / "xcopa").mkdir(parents=True)
        for lang in langs:
            (tmp_path / name / "xcopa" / f"test.{lang}.jsonl").write_bytes(
                (root / "xcopa" / f"test.{lang}.jsonl").read_bytes())
        return tmp_path / name

    truth = [i.fields["relation"] for i in xcopa_items("test", "et", root=root)]
    # Thai and Turkish would outvote Estonian on Turkish's 51 wrong items: Estonian decides
    few = folder("few", ["th", "tr", "et"])
    assert [i.fields["relation"] for i in xcopa_items("test", "tr", root=few)] == truth
    # no reference file: the file's own field, and the note says it could not be checked
    alone = folder("alone", ["th"])
    assert {i.fields["relation"] for i in xcopa_items("test", "th", root=alone)} == {"effect"}
    source = load_dataset("xcopa:test", DataOptions(alone, task="multiple_choice"))
    source.items("th", "th")
    assert "500 of 500 items' relations could not be checked" in source.note


def test_lowercasing_follows_the_options_language():
    assert lower_first("It was fragile.", "en") == "it was fragile."
    assert lower_first("I found a weapon.", "en") == "I found a weapon."      # the pronoun keeps its capital
    assert lower_first("I'm tired.", "en") == "I'm tired."
    assert lower_first("I bambini giocavano.", "it") == "i bambini giocavano."   # Italian's article does not
    assert lower_first("TV was on.", "en") == "TV was on."                    # an acronym keeps its capitals
    assert lower_first("İnsanlar onu dışladı.", "tr") == "insanlar onu dışladı."
    assert lower_first("Irmak taştı.", "tr") == "ırmak taştı."
    assert lower_first("İnsanlar", "de") == "i̇nsanlar"                     # other languages: Unicode's rule
    assert lower_first("它很小。", "zh") == "它很小。"


def test_copa_prompts_in_english_chinese_and_turkish(root):
    copa = load_template("copa")
    en = xcopa_items("test", "en", root=root)
    _, context, options = loglikelihood_parts(copa, en[0], "en")
    assert en[0].fields["relation"] == "cause"
    assert context == en[0].fields["premise"][:-1] + " because"
    assert options == [" " + o[0].lower() + o[1:] for o in en[0].fields["options"]]
    effect = next(i for i in en if i.fields["relation"] == "effect" and i.fields["options"][0].startswith("I "))
    _, context, options = loglikelihood_parts(copa, effect, "en")
    assert context.endswith(" so") and options[0].startswith(" I ")
    zh = xcopa_items("test", "zh", root=root)[0]
    _, context, options = loglikelihood_parts(copa, zh, "zh")
    assert context == zh.fields["premise"][:-1] + "，因为" and options == zh.fields["options"]
    # a Chinese prompt with English alternatives: a space after the connective
    _, context, options = loglikelihood_parts(copa, xcopa_items("test", "zh", "en", root=root)[0], "zh")
    assert context.endswith("，因为") and options == [" it was fragile.", " it was small."]
    # a Thai premise (no full stop) asked in Japanese gets Japanese's own full stop
    th = xcopa_items("test", "th", root=root)[0]
    assert not th.fields["premise"].endswith(".")
    assert loglikelihood_parts(copa, th, "ja")[1] == th.fields["premise"] + "。なぜなら、"
    tr = [i for i in xcopa_items("test", "tr", root=root) if any(o.startswith("İ") for o in i.fields["options"])]
    _, _, options = loglikelihood_parts(copa, tr[0], "tr")
    assert all("̇" not in o for o in options) and any(o.startswith(" i") for o in options)
    # generation lists the alternatives with letters and asks the question in the prompt language
    _, own = generation_parts(copa, zh, "en")
    assert own.startswith(zh.fields["premise"] + " What was the cause?\nA. ") and own.endswith("\nAnswer:")
    assert parse_answer(copa, " B", zh) == 1


def test_a_template_without_a_field_the_items_need_is_one_error(root):
    item = xcopa_items("test", "qu", root=root)[0]
    with pytest.raises(XlingError, match=r"names \{stem\}.*choose another template"):
        loglikelihood_parts(load_template("mc-qa"), item, "en")
    with pytest.raises(XlingError, match=r"names \{ask\}"):
        generation_parts(load_template("copa"), item, "qu")    # Quechua has connectives, no question


def test_xcopa_through_eval_mc_prompt_and_the_html_report(root, tiny_causal, tmp_path, browser):
    assert "xcopa[:test|val]" in xling("data").stdout.decode()
    out = tmp_path / "run"
    result = xling("eval", "mc", "-m", str(tiny_causal), "--data", "xcopa:test", "--langs", "tr",
                   "--premise-langs", "zh", "--hypothesis-langs", "it", "--limit", "6", "--shots", "2",
                   "--mode", "both", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "premise \\ options" in result.stdout.decode()     # a COPA cell crosses premise and alternatives
    assert "generating" in result.stderr.decode()   # (audit round 19: the gen pass showed no bar)
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))["directions"]
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert set(metrics) == {"tr", "zh>it"} and metrics["tr"]["ll"]["n"] == 6
    assert "copa" in json.dumps(config)
    records = [json.loads(line) for line in (out / "outputs" / "tr.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(r["ll_pred"] == int(np.argmax(r["ll_scores"])) and len(r["ll_scores"]) == 2 for r in records)
    shown = xling("prompt", str(out), records[0]["id"], "--lang", "tr", "--mode", "ll")
    assert shown.returncode == 0, shown.stderr
    crossed = xling("prompt", str(out), records[0]["id"], "--lang", "ZHO>ita", "--mode", "ll")   # any spelling
    assert crossed.returncode == 0 and "cell zh>it, item" in crossed.stdout.decode(), crossed.stderr
    text = shown.stdout.decode()
    # the demonstrations come from val, each ending with its right alternative, then the item
    assert text.count(" çünkü") + text.count(" bu yüzden") == 3
    assert records[0]["prompt"]["ll"]["context"] in text
    # the HTML report rebuilds every item's prompts (both modes) and checks each one
    page = tmp_path / "xcopa.html"
    assert xling("report", str(out), "--format", "html", "-o", str(page)).returncode == 0
    assert page_data(page)["choice"]["prompts"] == {"verified": 2 * 6, "exact": 0}   # 2 cells x 6 items
    open_page(browser, page)
    check_quiet(browser, page)
    # a config.json that lost its demonstrations shows no prompt without them (audit round 22)
    del config["demonstrations"]["tr"]
    (out / "config.json").write_text(json.dumps(config), encoding="utf-8")
    assert_one_line_error(xling("prompt", str(out), records[0]["id"], "--lang", "tr", "--mode", "gen"),
                          "config.json has no demonstrations for cell tr")


def test_bad_xcopa_requests_are_one_line(root, tmp_path):
    base = ("eval", "mc", "--data-dir", str(root), "-o", str(tmp_path / "x"))
    assert_one_line_error(xling(*base, "--data", "xcopa:test", "--langs", "en", "--shots", "1"),
                          "no English validation items")
    assert_one_line_error(xling(*base, "--data", "xcopa:test", "--langs", "ko"), "XCOPA test has no Korean")
    assert_one_line_error(xling(*base, "--data", "xcopa:train", "--langs", "zh"), "no split 'train'")
    assert_one_line_error(xling(*base, "--data", "xcopa:test", "--langs", "qu", "--mode", "gen"),
                          "names {ask}")


def test_a_malformed_row_is_one_error_naming_the_line(tmp_path):
    (tmp_path / "xcopa").mkdir()
    good = {"premise": "The glass fell.", "choice1": "It broke.", "choice2": "It sang.", "question": "effect",
            "label": 0, "idx": 0}
    bad = dict(good, question="why", idx=1)
    (tmp_path / "xcopa" / "val.it.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(XlingError, match=r"val\.it\.jsonl:2: question must be cause or effect"):
        xcopa_items("val", "it", root=tmp_path)


def test_the_shipped_experiment_builds_every_cell(root):
    from pathlib import Path

    from xling.runs.config import load_experiment
    from xling.tasks.choice import cells_of

    config = load_experiment(Path(__file__).resolve().parent.parent / "experiments" / "xcopa.yaml")
    source = load_dataset(config.data, DataOptions(root, task=config.task))
    cells = cells_of(config)
    assert len(cells) == 12 + 12 and source.template == "copa"    # 12 languages, 4 x 4 crossed less 4 repeated
    assert all(len(source.items(p, h)) == 500 for p, h in cells)


def test_parser_9_an_option_negated_after_it_or_listed_in_brackets_names_none(root):
    """(audit round 26) "มันเล็กไม่ใช่คำตอบ" ("it was small is not the answer"), "它很小不对",
    "Kilikuwa kidogo si jibu", "Li te piti pa vre" and "A. ผิด" ("A. wrong") were read as the option
    they reject, "(A) หรือ (B)" as A."""
    copa = load_template("copa")
    th, zh, sw, ht = (xcopa_items("test", lang, root=root)[0] for lang in ("th", "zh", "sw", "ht"))
    for item, text in ((th, "มันเล็กไม่ใช่คำตอบ"), (th, "มันเล็ก ไม่ใช่คำตอบ"), (th, "A. ผิด"), (th, "(A) หรือ (B)"),
                       (zh, "它很小不对"), (zh, "它很小是错的"), (zh, "(A)或(B)"), (sw, "Kilikuwa kidogo si jibu"),
                       (ht, "Li te piti pa vre")):
        assert parse_answer(copa, text, item) is None, text
    for item, text, index in ((th, "มันเล็ก", 1), (th, "A. มันบอบบาง", 0), (zh, "它很小。", 1),
                              (sw, "B. Kilikuwa kidogo.", 1), (ht, "Li te piti", 1)):
        assert parse_answer(copa, text, item) == index, text


def test_parser_9_ordinary_answers_after_a_choice_still_read(root):
    """(review of round 26) "มันบอบบาง ผิดปกติมาก" (ผิด opening "unusually"), "A. Si jibu B." and "A. Pa bon
    pou di B." (a new sentence) were read as none; the negation must end its clause, or follow the
    option's own words."""
    copa = load_template("copa")
    th, sw, ht = (xcopa_items("test", lang, root=root)[0] for lang in ("th", "sw", "ht"))   # A fragile, B small
    for item, text, index in ((th, "มันบอบบาง ผิดปกติมาก", 0), (sw, "A. Si jibu B.", 0), (ht, "A. Pa bon pou di B.", 0),
                              (sw, "A, si B.", 0), (th, "A. ข้อ B ไม่ถูกต้อง", 0)):
        assert parse_answer(copa, text, item) == index, text
    for item, text in ((th, "มันเล็ก ผิด"), (th, "A ผิด"), (sw, "Kilikuwa kidogo si jibu"), (ht, "Li te piti pa vre")):
        assert parse_answer(copa, text, item) is None, text
