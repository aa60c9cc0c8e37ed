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
