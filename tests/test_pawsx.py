"""PAWS-X as a registered data set: yes/no paraphrase questions in each language, rows aligned
across languages, untranslated and unlabelled rows left out; through `xling eval mc`."""
import json

import pytest
from helpers import assert_one_line_error, xling

from xling.data.pawsx import pawsx_items
from xling.data.registry import DataOptions, load_dataset


@pytest.fixture(scope="module")
def root(data_dir):
    if not (data_dir / "pawsx" / "test" / "ko.tsv").is_file():
        pytest.skip(f"PAWS-X is not in {data_dir} (pawsx/, see its SOURCE.md)")
    return data_dir


def test_rows_are_aligned_and_untranslated_rows_left_out(root):
    ko, de = pawsx_items("test", "ko", root), pawsx_items("test", "de", root)
    # 2,000 rows; ko has 28 untranslated (NS) rows, de 32; 6 rows have no derived label
    assert 1960 <= len(ko) <= 1972 and 1960 <= len(de) <= 1968
    labels = {item.id: item.label for item in ko}
    shared = [item for item in de if item.id in labels]
    assert len(shared) > 1900 and all(labels[item.id] == item.label for item in shared)
    assert ko[0].fields["options"] == ["예", "아니요"] and ko[0].fields["stem"].endswith("같은 뜻입니까?")


def test_pawsx_is_listed_and_evaluated_as_multiple_choice(root, tiny_causal, tmp_path):
    assert "pawsx[:dev|test]" in xling("data").stdout.decode()
    out = tmp_path / "run"
    result = xling("eval", "mc", "-m", str(tiny_causal), "--data", "pawsx:test", "--langs", "ko,en", "--limit", "6",
                   "--shots", "1", "-o", str(out))
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["directions"]) == {"ko", "en"}
    assert_one_line_error(xling("eval", "nli", "--data", "pawsx:test", "--langs", "ko", "-o", str(tmp_path / "x")),
                          "pawsx:test is a multiple-choice data set: use `xling eval mc`")


def test_a_malformed_row_is_one_error_naming_the_line(tmp_path):
    (tmp_path / "pawsx" / "dev").mkdir(parents=True)
    (tmp_path / "pawsx" / "dev" / "en.tsv").write_text("A cat sat.\tA cat was sitting.\t1\nonly one field\n")
    source = load_dataset("pawsx:dev", DataOptions(tmp_path, task="multiple_choice"))
    with pytest.raises(Exception, match=r"en\.tsv:2: expected sentence1<TAB>sentence2"):
        source.items("en", "en")


def test_demonstrations_are_the_same_rows_in_every_language_and_never_depend_on_limit(root, tiny_causal, tmp_path):
    """Shots were drawn per language from its own usable rows, after leaving out the dev rows
    equal to the *evaluated* test items: French test-0001 scored differently at --limit 1 and 2."""
    from xling.prompts.choice import balanced_shots

    source = load_dataset("pawsx:test", DataOptions(root, task="multiple_choice"))
    drawn = {}
    for lang in ("en", "fr", "zh", "ko"):
        pool = source.own_dev_pool(lang, lang)
        tested = {item.fields["stem"] for item in pawsx_items("test", lang, root)}
        assert not any(item.fields["stem"] in tested for item in pool)   # zh: 14 dev rows are test rows
        drawn[lang] = [item.id for item in balanced_shots(pool, 4, 0, 2)]
    assert len(set(map(tuple, drawn.values()))) == 1, drawn

    def run(limit):
        out = tmp_path / f"fr{limit}"
        result = xling("eval", "mc", "-m", str(tiny_causal), "--data", "pawsx:test", "--langs", "fr", "--shots", "4",
                       "--limit", str(limit), "--mode", "ll", "-o", str(out), env={"XLING_DATA": str(root)})
        assert result.returncode == 0, result.stderr
        first = json.loads((out / "outputs" / "fr.jsonl").read_text(encoding="utf-8").splitlines()[0])
        return json.loads((out / "config.json").read_text(encoding="utf-8"))["demonstrations"], first["ll_scores"]
    assert run(1) == run(2)


@pytest.mark.parametrize("write, message", [
    (lambda d: None, "PAWS-X test labels are not here"),
    (lambda d: (d / "test_labels_derived.txt").write_bytes(b"\xef\xbb\xbf1\nyes\n"), "label 'yes' is not 1"),
    (lambda d: (d / "test_labels_derived.txt").write_text("NA\nNA\n"), "has no usable item for en"),
    (lambda d: (d / "test" / "en.tsv").write_bytes(b"caf\xe9\tx\nb\tc\n") or
     (d / "test_labels_derived.txt").write_text("1\n0\n"), "is not valid UTF-8"),
])
def test_paws_x_files_a_user_assembles_fail_in_one_line(tmp_path, write, message):
    folder = tmp_path / "pawsx"
    (folder / "test").mkdir(parents=True)
    (folder / "test" / "en.tsv").write_text("A cat sat.\tA cat was sitting.\nA dog ran.\tA dog slept.\n")
    write(folder)
    assert_one_line_error(xling("eval", "mc", "-m", "none", "--data", "pawsx:test", "--data-dir", str(tmp_path),
                                "--langs", "en", "--shots", "0", "-o", str(tmp_path / "run")), message)


def test_a_byte_order_mark_neither_drops_the_first_item_nor_enters_its_prompt(tmp_path):
    folder = tmp_path / "pawsx"
    (folder / "test").mkdir(parents=True)
    (folder / "test" / "en.tsv").write_bytes("\ufeffA cat sat.\tA cat was sitting.\nA dog ran.\tA dog slept.\n"
                                             .encode("utf-8"))
    (folder / "test_labels_derived.txt").write_bytes(b"\xef\xbb\xbf1\n0\n")
    items = pawsx_items("test", "en", tmp_path)
    assert [item.id for item in items] == ["test-0001", "test-0002"]
    assert items[0].fields["stem"].startswith("A cat sat.")


def test_korean_and_chinese_yes_and_no_beside_the_options_own_words_are_read(root):
    from xling.prompts.choice import parse_answer
    from xling.prompts.templates import load_template

    template = load_template("mc-qa")
    ko, zh = pawsx_items("test", "ko", root)[0], pawsx_items("test", "zh", root)[0]
    assert [parse_answer(template, t, ko) for t in ("네", "네, 같은 뜻입니다.", "아니오", "아뇨", "예", "아니요")] == \
        [0, 0, 1, 1, 0, 1]
    assert [parse_answer(template, t, zh) for t in ("不是", "是的", "否")] == [1, 0, 1]


def test_an_answer_with_the_other_option_in_brackets_names_none(root):
    """(audit round 25) "Yes (No)" was read as yes, while "A (No)" names no answer; its own
    option in brackets ("Yes (yes)") is read."""
    from xling.prompts.choice import parse_answer
    from xling.prompts.templates import load_template

    template = load_template("mc-qa")
    en, ko, zh = (pawsx_items("test", lang, root)[0] for lang in ("en", "ko", "zh"))
    assert [parse_answer(template, t, en) for t in ("Yes (No)", "No (Yes)", "Yes (B)", "Yes (yes)", "No (B)",
                                                    "Yes (no doubt)")] == [None, None, None, 0, 1, 0]
    assert [parse_answer(template, t, ko) for t in ("예 (아니오)", "네 (아니요)", "아니요 (예)", "네 (예)")] == \
        [None, None, None, 0]
    assert [parse_answer(template, t, zh) for t in ("是（否）", "相同（不相同）", "否（不相同）", "【否】")] == \
        [None, None, 1, 1]


def test_parser_9_korean_no_running_on_bracketed_lists_and_no_before_a_noun_name_none(root):
    """(audit round 26) "아니요가 아니라 예" ("not no but yes") was read as No (a Korean option of more
    than one syllable running on into a particle), "(Yes) or (No)" as Yes, "No difference" (a
    paraphrase) and "No doubt" as No, "はいでもいいえでもない" ("neither") and "是也不是" as Yes."""
    from xling.prompts.choice import parse_answer
    from xling.prompts.templates import load_template

    template = load_template("mc-qa")
    en, ko, ja, zh = (pawsx_items("test", lang, root)[0] for lang in ("en", "ko", "ja", "zh"))
    for item, texts in ((ko, ("아니요가 아니라 예", "아니요는 아닙니다", "아뇨가 아니라 예", "아니오가 아니고 예",
                              "(예) 또는 (아니요)")),
                        (en, ("(Yes) or (No)", "[Yes] or [No]", "No difference", "No difference in meaning", "No doubt",
                              "No doubt about it", "No question", "No change in meaning", "A (wrong)")),
                        (ja, ("はいでもいいえでもない", "はいともいいえとも言えない")), (zh, ("是也不是",))):
        for text in texts:
            assert parse_answer(template, text, item) is None, text
    for item, text, index in ((ko, "아니요", 1), (ko, "아니요.", 1), (ko, "아니요, 다릅니다", 1),
                              (ko, "아니요입니다", 1), (ko, "예입니다", 0), (en, "No way", 1), (en, "No, no.", 1),
                              (en, "Yes, no doubt", 0), (en, "B (No)", 1), (en, "No, they differ.", 1),
                              (ja, "はい、同じ意味です", 0), (ja, "いいえ、違います", 1),
                              (ja, "はい、違いはありません", 0), (zh, "是的", 0), (zh, "不，意思不同", 1)):
        assert parse_answer(template, text, item) == index, text


def test_parser_9_ordinary_answers_after_a_choice_still_read(root):
    """(review of round 26) "아니요가 정답입니다" ("no is the answer"), "아니요라고 생각합니다", "정답은
    아니요예요" (any particle after 아니요), "はい、間違いありません" ("no doubt") and "是，错不了" were read as
    none; a particle going on to the negating copula ("아니요가 아니라 예") still names none, and one-syllable
    예/네 still refuse any particle ("예를 들어": "for example"; "네가": "you")."""
    from xling.prompts.choice import parse_answer
    from xling.prompts.templates import load_template

    template = load_template("mc-qa")
    en, ko, ja, zh = (pawsx_items("test", lang, root)[0] for lang in ("en", "ko", "ja", "zh"))
    for item, text, index in ((ko, "아니요가 정답입니다.", 1), (ko, "아니요가 맞습니다.", 1),
                              (ko, "아니요라고 생각합니다.", 1),
                              (ko, "아니요로 답하겠습니다.", 1), (ko, "아니요를 선택합니다.", 1),
                              (ko, "정답은 아니요예요.", 1),
                              (ko, "아니요예요.", 1), (ko, "정답은 아니요이다.", 1),
                              (ko, "아니요이며, 의미가 다릅니다.", 1),
                              (ko, "아니요요.", 1), (ko, "아니오라고 답합니다.", 1),
                              (ja, "はい、間違いありません。", 0), (ja, "はい、間違いなく同じ意味です。", 0),
                              (ja, "はい、間違いなし。", 0), (ja, "はい、間違っていません。", 0),
                              (zh, "是，错不了。", 0),
                              (en, "Yes. Not that it matters, but the word order differs.", 0),
                              (en, "Yes. Wrong word order aside, they match.", 0)):
        assert parse_answer(template, text, item) == index, text
    for text in ("아니요가 아니라 예", "아니요는 아닙니다", "아니오가 아니고 예", "아니요가 아니에요",
                 "예를 들어 두 문장은", "예를 선택합니다.", "네가 맞습니다.", "예컨대 같은 뜻"):
        assert parse_answer(template, text, ko) is None, text


def _scripted_run(root, tmp_path, name, answer, *args):
    """`xling eval mc --mode gen` on PAWS-X through a scripted OpenAI-style server answering
    `answer(prompt)`: (the run's records, its config.json, the prompts the server was sent)."""
    from servers import FakeOpenAI

    server = FakeOpenAI(respond=lambda payload: answer(json.dumps(payload, ensure_ascii=False)))
    out = tmp_path / name
    try:
        result = xling("eval", "mc", "--backend", "http", "--base-url", server.url, "-m", "fake", "--data",
                       "pawsx:test", "--data-dir", str(root), "--mode", "gen", "--limit", "4", "--shots", "2",
                       "-o", str(out), *args)
    finally:
        server.close()
    assert result.returncode == 0, result.stderr
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    records = {path.stem: [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
               for path in (out / "outputs").glob("*.jsonl")}
    return records, config, [json.dumps(p, ensure_ascii=False) for p in server.payloads]


def test_prompt_language_asks_the_question_and_its_yes_and_no_in_that_language(root, tmp_path):
    """--prompt-lang en put only "Question:"/"Answer:" in English: the question and its options
    stayed German (also in the demonstrations), and an English "Yes" was no answer."""
    records, config, sent = _scripted_run(root, tmp_path, "en", lambda prompt: "Yes", "--langs", "de",
                                          "--prompt-lang", "en")
    demos = config["demonstrations"]["de"]["gen"]
    assert demos.count("Do these two sentences mean the same thing?\nA. Yes\nB. No\nAnswer:") == 2
    for record in records["de"]:
        assert record["prompt"]["gen"].endswith("Do these two sentences mean the same thing?\nA. Yes\nB. No\nAnswer:")
        assert record["options"] == ["Yes", "No"] and record["gen_pred"] == 0
    assert len(sent) == 4 and not any("Bedeuten" in p or "Nein" in p for p in sent)
    # the sentences stay German; a German answer to them is read too
    assert records["de"][0]["stem"].split("\n")[:2] == pawsx_items("test", "de", root)[0].fields["stem"].split("\n")[:2]
    from xling.data.choice import ChoiceItem
    from xling.prompts.choice import parse_answer
    from xling.prompts.templates import load_template
    item = ChoiceItem(id="x", label=0, fields={k: v for k, v in records["de"][0].items()
                                               if k in ("stem", "options", "also_accepted")})
    assert [parse_answer(load_template("mc-qa"), t, item) for t in ("Ja", "Nein", "No", "Yes or no")] == \
        [0, 1, 1, None]


def test_a_prompt_language_paws_x_has_no_question_in_is_one_line(root, tmp_path):
    # (refused before the model is asked anything: no server listens there)
    assert_one_line_error(xling("eval", "mc", "--backend", "http", "--base-url", "http://127.0.0.1:9/v1", "-m", "fake",
                                "--data", "pawsx:test", "--data-dir", str(root), "--langs", "de", "--prompt-lang", "it",
                                "--shots", "0", "-o", str(tmp_path / "r")),
                          "PAWS-X asks its question in de, en, es, fr, ja, ko, zh, not in Italian (it)")


# data_sha256 of these runs before PAWS-X followed --prompt-lang (round 24): a data-language run
# keeps its identity and resumes; a run under --prompt-lang en (German questions) is not resumed
# into English ones
DATA_LANGUAGE_SHA256 = "eb5bf754a941e417b7434d421c844ce64dd9727eb5ce015c0afef5f8963b0222"
OLD_ENGLISH_SHA256 = "cb8de78f7e687ed756d8ebc6787743158bb178e3df3aea70ce2fa6876ec9ff16"


def test_data_language_runs_keep_their_prompts_and_identity(root, tmp_path):
    records, config, _ = _scripted_run(root, tmp_path, "data", lambda prompt: "Nein", "--langs", "de,ko")
    assert config["identity"]["data_sha256"] == DATA_LANGUAGE_SHA256
    _, same, _ = _scripted_run(root, tmp_path, "same", lambda prompt: "Nein", "--langs", "de,ko", "--prompt-lang", "de")
    assert same["demonstrations"]["de"] == config["demonstrations"]["de"]
    _, english, _ = _scripted_run(root, tmp_path, "en", lambda prompt: "No", "--langs", "de", "--prompt-lang", "en")
    assert english["identity"]["data_sha256"] != OLD_ENGLISH_SHA256


def test_chinese_yes_and_no_words_are_read_and_a_longer_word_opening_with_no_is_not_no(root):
    """"不", "相同" and "不相同" were no answer; "不相同" holds "相同" (yes), and "不知道" (I don't
    know) opens with 不: neither may read as the other."""
    from xling.prompts.choice import parse_answer
    from xling.prompts.templates import load_template

    template = load_template("mc-qa")
    zh = pawsx_items("test", "zh", root)[0]
    answers = {"不": 1, "不。": 1, "不，意思不一样。": 1, "相同": 0, "相同。": 0, "不相同": 1, "意思不相同": None,
               "一样": 0, "不一样": 1, "不同": 1, "答案：不相同": 1, "是的": 0, "不是": 1, "否": 1,
               "不知道": None, "我不知道": None, "不确定": None, "不清楚": None, "不好说": None, "不一定": None,
               "相同，不相同": None, "相同还是不相同": None, "不相同或相同": None, "是或不": None, "不，不知道": None,
               # (review D) 不是 + 相同 was read as two options; the question echoed was yes
               "不是相同": 1, "不是一样。": 1, "相同吗？": None, "一样吗": None, "相同吗？不": None, "是吗？": None}
    assert {t: parse_answer(template, t, zh) for t in answers} == answers


def test_chinese_answers_through_a_run(root, tmp_path):
    records, _, _ = _scripted_run(root, tmp_path, "zh", lambda prompt: "不相同", "--langs", "zh")
    assert [record["gen_pred"] for record in records["zh"]] == [1, 1, 1, 1]
