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
