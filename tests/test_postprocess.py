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


def test_an_empty_answer_records_no_cut():
    """An empty answer was recorded as a "> " quotation cut (all() of no lines is true)."""
    for raw in (" ", "", "\n\n"):
        assert clean_output(raw, source="월요일").removed == []
    assert clean_output("> Monday", source="월요일").removed == [("markdown", ">")]


def test_one_line_collapses_breaks():
    assert one_line("a\nb\r\n\nc ") == "a b c"


def test_a_label_the_source_carries_is_kept_in_its_translation():
    """Reliability round 4: a genuine leading "Translation:" (the source's own "번역:") stays."""
    EN = resolve("en")
    kept = clean_output("Translation: the title of the document", EN, source="번역: 문서의 제목")
    assert kept.text == "Translation: the title of the document" and kept.removed == []
    assert clean_output("Translation: the title", EN, source="문서의 제목").text == "the title"


@pytest.mark.parametrize("raw, tgt, source", [
    ("« Le train part à midi. »", "fr", '"The train leaves at noon."'),        # another quote style
    ("「電車は正午に出ます。」", "ja", '"The train leaves at noon."'),
    ('"기차는 정오에 떠납니다."', "ko", "“The train leaves at noon.”"),
    ("English: a language first written in England.", "en", "영어: 잉글랜드에서 처음 쓰인 언어."),
    ("Translation: the craft of carrying meaning across.", "en", "Traduzione: il mestiere di portare il senso."),
    ("How to book a seat:\nChoose a train, then a seat.", "en", "좌석 예약 방법:\n기차를 고른 뒤 좌석을 고릅니다."),
    ("The train leaves at noon.\nNote: bring your ticket.", "en", "기차는 정오에 떠납니다.\n참고: 표를 챙기세요."),
    ("Balisez le passage avec <think> puis fermez-le.", "fr", "Mark the passage with <think>, then close it."),
])
def test_what_translates_the_source_is_never_stripped(raw, tgt, source):
    cleaned = clean_output(raw, resolve(tgt), source=source)
    assert (cleaned.text, cleaned.removed) == (raw, [])


def test_lines_beyond_the_sources_are_still_chatter():
    cleaned = clean_output("Sure, here it is:\n기차는 정오에 떠납니다.\nNote: formal register.", KO,
                           source="The train leaves at noon.")
    assert cleaned.text == "기차는 정오에 떠납니다."
    assert [kind for kind, _ in cleaned.removed] == ["preamble", "note"]


def test_a_colon_in_the_source_is_not_a_label_and_merged_lines_keep_no_preamble():
    assert clean_output("Translation: 회의는 10:30에 시작합니다.", KO, source="The meeting starts at 10:30.").text \
        == "회의는 10:30에 시작합니다."
    assert clean_output("Korean: 점수는 2:1이었다.", KO, source="The score was 2:1.").text == "점수는 2:1이었다."
    merged = clean_output("Here is the Korean translation:\n회의는 길었다. 모두 지쳤다.", KO,
                          source="The meeting was long.\nEveryone was tired.")
    assert merged.text == "회의는 길었다. 모두 지쳤다." and merged.removed[0][0] == "preamble"


def test_a_first_line_about_translation_is_translated_not_a_preamble():
    """A source that opens with a line about translating (no colon) has it translated into a
    line that reads like a preamble: kept when the answer has no line beyond the source's."""
    kept = clean_output("파일 번역 방법:\n파일을 엽니다.", KO, source="How to translate files\nOpen the file.")
    assert kept.text == "파일 번역 방법:\n파일을 엽니다." and not kept.removed
    extra = clean_output("Here is the translation:\n파일 번역 방법\n파일을 엽니다.", KO,
                         source="How to translate files\nOpen the file.")
    assert extra.text == "파일 번역 방법\n파일을 엽니다."


def test_every_line_separator_of_an_answer_is_collapsed():
    """U+2028/U+2029/NEL/VT/FF from a model made 12 output lines read as 17 by str.splitlines."""
    from xling.translation.postprocess import one_line

    for answer in ("Line one\u2028line two", "Para\u2029graph", "Next\x85line", "Vertical\x0btab\x0cform", "A\r\nB\rC"):
        assert len(one_line(answer).splitlines()) == 1 and "  " not in one_line(answer)


@pytest.mark.parametrize("answer, tgt", [("**Translation:** Der Ausschuss gab es bekannt.", "de"),
                                         ("Translation (German): Der Ausschuss gab es bekannt.", "de"),
                                         ("German translation: Der Ausschuss gab es bekannt.", "de"),
                                         ("한국어 번역: 위원회가 발표했다.", "ko"), ("Chinese: 委员会宣布了。", "zh")])
def test_labels_with_emphasis_or_a_language_name_are_cut(answer, tgt):
    from xling.data.languages import resolve

    cleaned = clean_output(answer, resolve(tgt), "The committee announced it.")
    assert cleaned.removed and cleaned.removed[0][0] == "preamble"
    assert not cleaned.text.lower().startswith(("translation", "german", "chinese", "한국어", "*"))


@pytest.mark.parametrize("answer, tgt, bare", [
    # the word for "translation" in the target language, with an article or adjective around it
    ("Bản dịch: Hôm nay trời đẹp.", "vi", "Hôm nay trời đẹp."),
    ("الترجمة: الطقس جميل اليوم.", "ar", "الطقس جميل اليوم."),
    ("Traduzione: Oggi fa bel tempo.", "it", "Oggi fa bel tempo."),
    ("Çeviri: Bugün hava güzel.", "tr", "Bugün hava güzel."),
    ("คำแปล: วันนี้อากาศดี", "th", "วันนี้อากาศดี"),
    ("Deutsche Übersetzung: Das Wetter ist schön.", "de", "Das Wetter ist schön."),
    ("日本語訳：今日はいい天気です。", "ja", "今日はいい天気です。"),
    ("번역문: 오늘은 날씨가 좋습니다.", "ko", "오늘은 날씨가 좋습니다."),
    ("中文：今天天气很好。", "zh", "今天天气很好。"),
    ("हिंदी: आज मौसम अच्छा है।", "hi", "आज मौसम अच्छा है।"),
    ("Korean (한국어): 오늘은 날씨가 좋습니다.", "ko", "오늘은 날씨가 좋습니다."),
    ("Here's the Korean translation: 오늘은 날씨가 좋습니다.", "ko", "오늘은 날씨가 좋습니다."),
    ("The translation is: 오늘은 날씨가 좋습니다.", "ko", "오늘은 날씨가 좋습니다."),
    ("In Korean:\n오늘은 날씨가 좋습니다.", "ko", "오늘은 날씨가 좋습니다."),
    # markdown around the whole answer
    ("**오늘은 날씨가 좋습니다.**", "ko", "오늘은 날씨가 좋습니다."),
    ("```\n오늘은 날씨가 좋습니다.\n```", "ko", "오늘은 날씨가 좋습니다."),
    ("Sure, here's the translation:\n\n> 오늘은 날씨가 좋습니다.", "ko", "오늘은 날씨가 좋습니다."),
    ("„Das Wetter ist heute schön.“", "de", "Das Wetter ist heute schön."),
    # notes in the target language, fullwidth brackets, sign-offs and the rule a note leaves
    ("Das Wetter ist heute schön.\n\nAnmerkung: formell.", "de", "Das Wetter ist heute schön."),
    ("Il fait beau.\n\nRemarque : registre soutenu.", "fr", "Il fait beau."),
    ("Hace buen tiempo.\n\nNota: registro formal.", "es", "Hace buen tiempo."),
    ("今日はいい天気です。\n\n（注：丁寧語を使いました。）", "ja", "今日はいい天気です。"),
    ("今日はいい天気です。\n\nRomaji: Kyō wa ii tenki desu.", "ja", "今日はいい天気です。"),
    ("오늘은 날씨가 좋습니다.\n\n---\n\nExplanation: polite form.", "ko", "오늘은 날씨가 좋습니다."),
    ("The weather is nice today.\n\nI hope this helps!", "en", "The weather is nice today."),
    ("오늘은 날씨가 좋습니다.\n\nThis translation uses the polite form.", "ko", "오늘은 날씨가 좋습니다."),
    # audit round 12: the preambles cut on a line of their own were kept before the text on one
    # line (100 FLORES references wrapped so: BLEU 76-79, short ones off-target), and a note in
    # brackets at the end of the line stayed (BLEU 68-77)
    ("Sure! Here's the translation into Japanese: 今日はいい天気です。", "ja", "今日はいい天気です。"),
    ("Here is the Japanese version: 今日はいい天気です。", "ja", "今日はいい天気です。"),
    ("Translated text: Das Wetter ist heute schön.", "de", "Das Wetter ist heute schön."),
    ("In Japanese: 今日はいい天気です。", "ja", "今日はいい天気です。"),
    ("Sure, here you go: 오늘은 날씨가 좋습니다.", "ko", "오늘은 날씨가 좋습니다."),
    ("翻訳すると：今日はいい天気です。", "ja", "今日はいい天気です。"),
    ("以下は日本語訳です：今日はいい天気です。", "ja", "今日はいい天気です。"),
    ("今日はいい天気です。 (Note: polite register.)", "ja", "今日はいい天気です。"),
    ("Das Wetter ist heute schön. [Note: formal]", "de", "Das Wetter ist heute schön."),
    ("今日はいい天気です。（注：丁寧語）", "ja", "今日はいい天気です。"),
    # lines beyond a one-line source: a romanization in brackets, pinyin, an alternative
    ("今日はいい天気です。\n(Kyou wa ii tenki desu.)", "ja", "今日はいい天気です。"),
    ("今天天气很好。\n\n拼音：jīntiān tiānqì hěn hǎo", "zh", "今天天气很好。"),
    ("오늘은 날씨가 좋습니다.\n\nAlternative translation:\n오늘 날씨가 좋네요.", "ko", "오늘은 날씨가 좋습니다."),
    ("오늘은 날씨가 좋습니다.\n\nThis translates to \"The weather is nice\".", "ko", "오늘은 날씨가 좋습니다."),
    # (review 2) inline preambles with words between "translation" and the colon, a one-word gloss
    ("Here is the translation from English to German: Das Wetter ist schön.", "de", "Das Wetter ist schön."),
    ("The translation in German is: Das Wetter ist heute schön.", "de", "Das Wetter ist heute schön."),
    ("The translated sentence is: Das Wetter ist heute schön.", "de", "Das Wetter ist heute schön."),
    ("今日はいい天気です。\n(Kyou wa ii tenki)", "ja", "今日はいい天気です。"),
])
def test_chat_wrappers_in_many_languages_are_cut(answer, tgt, bare):
    """Audit round 10: a labelled answer in these languages scored ~8 BLEU below the same
    translation unlabelled (a perfect one 91.5 in vi)."""
    source = "Hoy hace buen tiempo." if tgt == "en" else "The weather is nice today."
    cleaned = clean_output(answer, resolve(tgt), source=source)
    assert cleaned.text == bare and cleaned.removed


@pytest.mark.parametrize("answer, tgt, source", [
    # a label the source opens with, written the CJK (fullwidth colon, no space) or French way
    ("Translation: a new method for machine translation", "en", "翻訳：機械翻訳の新しい手法"),
    ("English: an internationally used language", "en", "英语：一种国际通用语言"),
    ("Translation: Jean Dupont", "en", "Traduction : Jean Dupont"),
    # one end of a quotation that runs across segments: the quotes are the source's
    ("“유출하지 않았어요”", "ko", 'I didn\'t leak."'),
    ("「他對他自己很有信心。」", "zh-Hant", '"He\'s got a lot of confidence in himself.'),
    ("「北朝鮮と上手くやれている」", "ja", '"We\'re doing great with North Korea," he said.'),
    # markdown the source has
    ("**Achtung:** nicht berühren.", "de", "**Attention:** do not touch."),
    ("> zitiert", "de", "> quoted"),
    # a bracketed note the source ends with (in any words), a Latin aside into a Latin-script
    # language, an acronym line under a translation into another script
    ("Das ist gut. (Hinweis: nur intern)", "de", "This is good. (Note: internal only)"),
    ("This is good. (Note: internal use only)", "en", "Esto es bueno. (Aviso: solo para uso interno)"),
    ("Die Katze schläft.\n(Sie ist müde.)", "de", "The cat sleeps. She is tired."),
    ("世界保健機関\n(WHO)", "ja", "World Health Organization"),
    # sentences that only look like a preamble (the review of round 12: they were cut at the colon)
    ("The new version launches at 10:30 tomorrow.", "en", "새 버전은 내일 10:30에 출시됩니다."),
    ("The full version is available at: www.example.com", "en", "전체 버전은 www.example.com 에 있습니다."),
    ("Here is the latest version of the schedule: Monday at 9.", "en", "최신 일정은 월요일 9시입니다."),
    ("Here you are: the keys to your new home.", "en", "여기 새 집 열쇠입니다."),
    ("The Translation Bureau said: the contract is signed.", "en", "번역국은 계약이 체결되었다고 말했다."),
    # (review 3) the preamble's words stay within a sentence, and a colon the source has is no preamble's
    ("Here's the translated manual for the new machine. Note: descale it monthly.", "en",
     "새 기계의 번역된 설명서입니다. 참고: 매달 석회를 제거하세요."),
    ("Here is the translation of the contract, signed by both parties: see annex 2.", "en",
     "양측이 서명한 계약서 번역본입니다: 부록 2를 보십시오."),
    ("회의는 금요일입니다.\n(Appendix B 참조)", "ko", "The meeting is on Friday. (See Appendix B)"),
])
def test_what_the_source_has_is_kept_in_many_forms(answer, tgt, source):
    cleaned = clean_output(answer, resolve(tgt), source=source)
    assert (cleaned.text, cleaned.removed) == (answer, [])


@pytest.mark.parametrize("answer, tgt, source", [
    # words built on "translation" that are not labels (the review of round 10)
    ("内訳：人件費が半分。", "ja", "Breakdown of costs, half is staff."),
    ("Giao dịch: 5 triệu đồng.", "vi", "Transactions were worth 5 million dong."),
    ("Переводы: 5 тысяч рублей.", "ru", "Transfers came to 5 thousand rubles."),
    ("The problem with machine translation: it is hard.", "en", "機械翻訳の問題は難しいことだ。"),
    # comparisons and code, not markdown
    ("> 5 mm of rain fell.", "en", "5ミリ以上の雨が降った。"),
    (">50% of the vote", "en", "得票率50%超"),
    ("__init__", "en", "__init__ 메서드"),
])
def test_words_and_signs_that_only_look_like_chatter_are_kept(answer, tgt, source):
    cleaned = clean_output(answer, resolve(tgt), source=source)
    assert (cleaned.text, cleaned.removed) == (answer, [])


def test_a_colon_that_opens_a_quotation_is_speech_not_a_label():
    """他补充道：“…” and « Il a déclaré : « … » » introduce speech: the model's preamble is cut."""
    for source in ("他补充道：“下雨了。”", "« Il a déclaré : « c'est fini » »"):
        assert clean_output("Translation: he said it.", resolve("en"), source=source).text == "he said it."


def test_custom_completion_templates_stop_only_at_a_label_line():
    import dataclasses
    import json

    from xling.prompts.templates import load_template

    template = load_template("mt-completion")
    for query, stops in (('"{source}"\n{tgt_name}:', ("\n\n",)), ("- {source}\n{tgt_name}:", ("\n\n",)),
                         ("Source ({src_name}): {source}\nTarget:", ("\n\n", "\nSource (Korean):"))):
        custom = dataclasses.replace(template, body=json.dumps(dict(template.data, query=query)))
        assert custom.stops_for("a\nb", resolve("ko")) == (False, stops)
