import pytest

from xling.data.languages import resolve
from xling.translation.postprocess import clean_output, one_line

JA, KO = resolve("ja"), resolve("ko")


@pytest.mark.parametrize("raw, expected, kinds", [
    ("Here is the translation:\n私は学生です。", "私は学生です。", ["preamble"]),
    ("Sure! Here's the Japanese translation:\n\n「私は学生です。」", "私は学生です。", ["preamble", "quotes"]),
    ("번역: 저는 학생입니다.", "저는 학생입니다.", ["preamble"]),
    ("翻訳：私は学生です。", "私は学生です。", ["preamble"]),
    ("Japanese: 私は学生です。", "私は学生です。", ["preamble"]),
    ("<think>the user wants Japanese</think>\n私は学生です。", "私は学生です。", ["think"]),
    ("私は学生です。\n\nNote: this uses the polite form.", "私は学生です。", ["note"]),
    ("“私は学生です。”", "私は学生です。", ["quotes"]),
    ("私は学生です。", "私は学生です。", []),
])
def test_chatter_is_removed_and_recorded(raw, expected, kinds):
    cleaned = clean_output(raw, JA)
    assert cleaned.text == expected and cleaned.raw == raw
    assert [kind for kind, _ in cleaned.removed] == kinds


def test_content_is_never_mistaken_for_chatter():
    assert clean_output('"A" and "B" differ.', JA).text == '"A" and "B" differ.'
    assert clean_output("He said: come here.", JA).text == "He said: come here."
    # A quote that the source itself carries is the translation's, not the model's.
    assert clean_output('"안녕"', KO, source='"hello"').text == '"안녕"'
    # A preamble alone (nothing after it) is left as it is rather than emptied.
    assert clean_output("Translation:", JA).text == "Translation:"


def test_one_line_collapses_breaks():
    assert one_line("a\nb\r\n\nc ") == "a b c"


def test_a_label_the_source_carries_is_kept_in_its_translation():
    """Reliability round 4: a genuine leading "Translation:" (the source's own "번역:") stays."""
    EN = resolve("en")
    kept = clean_output("Translation: the title of the document", EN, source="번역: 문서의 제목")
    assert kept.text == "Translation: the title of the document" and kept.removed == []
    assert clean_output("Translation: the title", EN, source="문서의 제목").text == "the title"
