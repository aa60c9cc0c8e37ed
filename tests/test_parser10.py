"""Parser 10 (audit round 27): self-corrections, another letter in brackets, a letter before a bracket
with no space (full-width in Chinese and Japanese), and NLI "Yes, no doubt"; with a table of ordinary
answers whose reading must not change (composed here, over made-up items of each task's shape)."""
from xling.data.choice import ChoiceItem
from xling.prompts.choice import CHOICE_PARSER, parse_answer
from xling.prompts.templates import load_template

MC, NLI, COPA = load_template("mc-qa"), load_template("nli-generate"), load_template("copa")
FIVE = ChoiceItem("q", 2, {"stem": "Where would an injured child be taken?",
                           "options": ["the park", "a library", "hospital", "school", "office building"],
                           "letters": ["A", "B", "C", "D", "E"]})
FIVE_ZH = ChoiceItem("z", 1, {"stem": "受伤的孩子会被送到哪里？",
                              "options": ["公园", "医院", "图书馆", "学校", "办公室"],
                              "letters": ["A", "B", "C", "D", "E"]})
FIVE_JA = ChoiceItem("j", 1, {"stem": "けがをした子供はどこに運ばれますか？",
                              "options": ["公園", "病院", "図書館", "学校", "事務所"],
                              "letters": ["A", "B", "C", "D", "E"]})
TWICE = ChoiceItem("t", 2, {"stem": "Where are books?", "options": ["doctor", "market", "library", "table", "library"],
                            "letters": ["A", "B", "C", "D", "E"]})
TWO = ChoiceItem("c", 0, {"premise": "The pond froze.", "relation": "cause",
                          "options": ["The night was cold.", "The sun came out."]})
YES_NO = ChoiceItem("p", 0, {"stem": "Same meaning?", "options": ["Yes", "No"]})
YES_NO_ZH = ChoiceItem("pz", 0, {"stem": "意思相同吗？", "options": ["是", "否"],
                                 "also_accepted": (["相同"], ["不是", "不同"])})
YES_NO_KO = ChoiceItem("pk", 0, {"stem": "같은 뜻입니까?", "options": ["예", "아니요"],
                                 "also_accepted": (["네"], ["아니오", "아뇨"])})


def test_parser_10_a_choice_corrected_to_another_names_none():
    """"A. No wait, C is right." and "A, I mean C." were read as A, while "A. Wait, C." names none."""
    for item, text in ((FIVE, "A. No wait, C is right."), (FIVE, "A, I mean C."), (FIVE, "A, I mean, C"),
                       (FIVE, "A. Wait, no, C."), (FIVE, "A, no, C."), (FIVE, "A - sorry, C."),
                       (FIVE, "A. Oops, C is correct."), (FIVE, "A. Actually, C is the answer."),
                       (FIVE, "A, actually C."), (FIVE, "A. Wait, hospital."), (FIVE, "A. Wait, C because it fits."),
                       (FIVE, "the park. No wait, C is right."), (FIVE, "A, ich meine C."),
                       (FIVE, "A, je veux dire C."), (FIVE, "A, quiero decir C."), (FIVE_ZH, "A，我是说B。"),
                       (FIVE_JA, "A。いや、Bです。"), (FIVE, "A. 아니, C가 맞습니다."),
                       (YES_NO, "Yes, I mean no."), (YES_NO, "Yes. Actually no, they differ."),
                       (YES_NO, "No. Wait, yes."), (YES_NO_ZH, "是，我是说否。"), (TWO, "A, I mean B.")):
        assert parse_answer(MC, text, item) is None, text
    for text in ("Yes. Wait, no.", "Yes, I mean no.", "No. Actually, maybe.", "Maybe. No wait, yes.",
                 "是，我是说否。"):
        assert parse_answer(NLI, text, None) is None, text
    # a correction back to the same choice, or a "no" before another choice it rejects, answers
    for item, text, index in ((FIVE, "C. No, seriously, it's C.", 2), (FIVE, "C. Wait, C is right.", 2),
                              (FIVE, "C. No, A is wrong.", 2), (FIVE, "C. No, A, B and D are wrong.", 2),
                              (FIVE, "C, I mean hospital.", 2),
                              (FIVE, "C. Actually, A could work, but C is better.", 2),
                              (FIVE, "C. No other option fits.", 2), (YES_NO, "No, no.", 1),
                              (TWICE, "C, I mean library.", 2),   # (E's text too)
                              (YES_NO, "Yes. No doubt about it.", 0)):
        assert parse_answer(MC, text, item) == index, text
    for text, label in (("No. No, it does not.", 2), ("No, no.", 2), ("Yes. Yes, it does.", 0)):
        assert parse_answer(NLI, text, None) == label, text


def test_parser_10_another_letter_in_brackets_names_none_a_bracket_after_no_space_answers():
    """"A (B)" was read as A while "A（B）" and "A (library)" name none; "B（密歇根州）"-like answers (a
    letter, then a full-width bracket) were none, as was "B(hospital)"; "A (or B)" was A."""
    for item, text in ((FIVE, "A (C)"), (FIVE, "A（C）"), (FIVE, "A(C)"), (FIVE, "A ( C )"), (FIVE, "A (or C)"),
                       (FIVE, "the park (or hospital)"), (FIVE, "A (hospital)"), (TWO, "A (B)"),
                       (YES_NO, "Yes (or no)"), (YES_NO, "A (B)")):
        assert parse_answer(MC, text, item) is None, text
    assert parse_answer(NLI, "Yes (or No)", None) is None
    for item, text, index in ((FIVE_ZH, "B（医院）", 1), (FIVE_ZH, "B（最可能的地方）", 1), (FIVE_JA, "B（病院）", 1),
                              (FIVE_JA, "B（最も可能性が高い）", 1), (FIVE, "C(hospital)", 2),
                              (FIVE, "C（the hospital）", 2),
                              (FIVE, "A (the park)", 0), (FIVE, "C (a place for the injured)", 2),
                              (FIVE, "C (A is wrong)", 2), (FIVE, "C (not A)", 2), (FIVE, "C (c)", 2),
                              (FIVE, "C (or so I think)", 2), (TWO, "A（因为天气冷）", 0)):
        assert parse_answer(MC, text, item) == index, text


def test_parser_10_nli_yes_before_a_no_phrase_is_yes_and_c_no_stays_none():
    """NLI read "Yes, no doubt" as no answer (the multiple-choice parser reads it Yes); "C. No." names
    none unless C's own text is No (PAWS-X "B. No.")."""
    for text, label in (("Yes, no doubt", 0), ("Yes, no doubt about it.", 0), ("Yes; no question.", 0),
                        ("Maybe, no idea.", 1), ("No, no doubt.", 2), ("Maybe. No idea.", 1)):
        assert parse_answer(NLI, text, None) == label, text
    for text in ("Yes, no.", "Yes, no, I don't know", "Maybe, yes", "Yes, maybe not"):
        assert parse_answer(NLI, text, None) is None, text
    assert parse_answer(MC, "C. No.", FIVE) is None and parse_answer(MC, "A. No.", YES_NO) is None
    assert parse_answer(MC, "B. No.", YES_NO) == 1 and parse_answer(MC, "B. 아니요.", YES_NO_KO) == 1
    assert parse_answer(MC, "B. 否。", YES_NO_ZH) == 1


# Ordinary answers: (template, item, text, reading), composed for this table: parser 9 read each the same.
ORDINARY = [
    (MC, FIVE, "C", 2), (MC, FIVE, " C", 2), (MC, FIVE, "C.", 2), (MC, FIVE, "C)", 2), (MC, FIVE, "(C)", 2),
    (MC, FIVE, "**C**", 2), (MC, FIVE, "[C]", 2), (MC, FIVE, "C. hospital", 2), (MC, FIVE, "C) hospital", 2),
    (MC, FIVE, "C: hospital", 2), (MC, FIVE, "hospital", 2), (MC, FIVE, "Hospital.", 2), (MC, FIVE, "C (hospital)", 2),
    (MC, FIVE, "C - hospital", 2), (MC, FIVE, "C, because injured children need care.", 2),
    (MC, FIVE, "C is correct.", 2), (MC, FIVE, "C\n\nExplanation: injured children need doctors.", 2),
    (MC, FIVE, "The answer is (C) because doctors are there.", 2), (MC, FIVE, "Answer: C", 2),
    (MC, FIVE, "The correct answer is C.", 2), (MC, FIVE, "C, not A.", 2), (MC, FIVE, "C (not A)", 2),
    (MC, FIVE, "C (A is wrong)", 2), (MC, FIVE, "C. A is wrong.", 2), (MC, FIVE, "C. A and B don't fit.", 2),
    (MC, FIVE, "C. No, A is wrong.", 2), (MC, FIVE, "C. Wait, C is right.", 2),
    (MC, FIVE, "C. Actually, A could also work, but C is better.", 2), (MC, FIVE, "C (because of the injury)", 2),
    (MC, FIVE, "C. No doubt.", 2), (MC, FIVE, "C. I mean it.", 2), (MC, FIVE, "C, I mean hospital.", 2),
    (MC, FIVE, "C. Sorry, I cannot explain further.", 2), (MC, FIVE, "C. Actually, it is obvious.", 2),
    (MC, FIVE, "C. Wait, why not A? Because it is a park.", 2), (MC, FIVE, "hospital, not the park.", 2),
    (MC, FIVE, "hospital (where doctors work)", 2), (MC, FIVE, "C. Rather obvious.", 2),
    (MC, FIVE, "C. Not A, not B.", 2), (MC, FIVE, "C. No, A, B and the rest are wrong.", 2),
    (MC, FIVE, "La respuesta es C.", 2), (MC, FIVE, "Die Antwort ist C.", 2), (MC, FIVE, "Réponse : C", 2),
    (MC, FIVE, "Câu trả lời là C", 2), (COPA, TWO, "Jibu ni B", 1), (COPA, TWO, "คำตอบคือ A", 0),
    (COPA, TWO, "Cevap: B", 1),
    (MC, FIVE, "Ответ: C", 2), (MC, FIVE, "Option C", None), (MC, FIVE, "C. No.", None),
    (MC, FIVE, "A or C", None), (MC, FIVE, "A. Wait, C.", None), (MC, FIVE, "A -> C", None),
    (MC, FIVE, "A (wrong)", None), (MC, FIVE, "C?", None),
    (MC, FIVE_ZH, "答案是B", 1), (MC, FIVE_ZH, "答案：B。", 1), (MC, FIVE_ZH, "答案是医院。", 1),
    (MC, FIVE_ZH, "B。这是最合理的。", 1), (MC, FIVE_ZH, "B、医院", 1), (MC, FIVE_ZH, "医院", 1),
    (MC, FIVE_ZH, "B，不是A", 1), (MC, FIVE_ZH, "A。不对，是B。", None), (MC, FIVE_ZH, "医院不对", None),
    (MC, FIVE_JA, "答えはBです。", 1), (MC, FIVE_JA, "正解はBです。", 1), (MC, FIVE_JA, "Bです。", 1),
    (MC, FIVE_JA, "病院です。", 1), (MC, FIVE_JA, "B。最も適切だからです。", 1), (MC, FIVE_JA, "B、病院", 1),
    (MC, FIVE, "정답은 C입니다.", 2), (MC, FIVE, "C입니다.", 2),
    (MC, TWO, "A", 0), (MC, TWO, "The night was cold.", 0), (MC, TWO, "A. The night was cold.", 0),
    (MC, TWO, "B) The sun came out", 1), (MC, TWO, "A, because ponds freeze in the cold.", 0),
    (MC, TWO, "A (B is wrong)", 0), (MC, TWO, "A. B is unrelated.", 0), (MC, TWO, "A or B", None),
    (MC, YES_NO, "Yes", 0), (MC, YES_NO, "No.", 1), (MC, YES_NO, "Yes, they mean the same.", 0),
    (MC, YES_NO, "No, they differ in meaning.", 1), (MC, YES_NO, "Yes, no doubt.", 0),
    (MC, YES_NO, "Yes, no difference in meaning.", 0), (MC, YES_NO, "Answer: No", 1), (MC, YES_NO, "B. No", 1),
    (MC, YES_NO, "A) Yes", 0), (MC, YES_NO, "No (they differ)", 1), (MC, YES_NO, "Yes or no", None),
    (MC, YES_NO, "No doubt", None), (MC, YES_NO, "Yes. Wait, no.", None),
    (MC, YES_NO_KO, "예, 같은 뜻입니다", 0), (MC, YES_NO_KO, "아니요입니다.", 1),
    (MC, YES_NO_KO, "정답은 예입니다.", 0),
    (MC, YES_NO_ZH, "是，意思相同", 0), (MC, YES_NO_ZH, "否。意思不同。", 1), (MC, YES_NO_ZH, "答案是否。", 1),
    (NLI, None, "Yes", 0), (NLI, None, "Maybe.", 1), (NLI, None, "No, it does not follow.", 2),
    (NLI, None, "Answer: Maybe", 1), (NLI, None, "Yes (entailment)", 0), (NLI, None, "Contradiction.", 2),
    (NLI, None, "Yes. The premise says so.", 0), (NLI, None, "No, no doubt about it.", 2),
    (NLI, None, "Maybe, I'm not sure.", 1), (NLI, None, "Yes - no doubt", 0), (NLI, None, "Yes, maybe", None),
    (NLI, None, "Yes. No.", None), (NLI, None, "No contradiction", None),
    (NLI, None, "예입니다.", 0), (NLI, None, "정답은 아니요", 2), (NLI, None, "아마도, 확실하지 않습니다.", 1),
    (NLI, None, "答えは「いいえ」です。", 2), (NLI, None, "たぶん", 1), (NLI, None, "答案是是", 0),
    (NLI, None, "否。", 2),
]


# The answers parser 10 reads otherwise: (template, item, text, parser 9's reading, parser 10's).
CHANGED = [
    (MC, FIVE, "C. No wait, A is right.", 2, None), (MC, FIVE, "C, I mean A.", 2, None),
    (MC, FIVE, "C. Wait, A is correct.", 2, None), (MC, FIVE, "C, no, A.", 2, None),
    (MC, FIVE, "C - sorry, A.", 2, None),
    (MC, FIVE, "C. Actually, A is the answer.", 2, None), (MC, FIVE, "C, actually A.", 2, None),
    (MC, FIVE, "hospital. No wait, A is right.", 2, None), (MC, FIVE, "C, ich meine A.", 2, None),
    (MC, FIVE_ZH, "B，我是说A。", 1, None), (MC, FIVE, "C. 아니, A가 맞습니다.", 2, None),
    (COPA, TWO, "A. Wait, B is right.", 0, None), (MC, YES_NO, "Yes, I mean no.", 0, None),
    (MC, YES_NO, "No, actually yes.", 1, None), (MC, FIVE, "C (A)", 2, None), (MC, FIVE, "C (or A)", 2, None),
    (MC, FIVE, "hospital (or the park)", 2, None), (MC, YES_NO, "Yes (or no)", 0, None),
    (MC, FIVE_ZH, "B（医院）", None, 1), (MC, FIVE_ZH, "B（最可能的地方）", None, 1),
    (MC, FIVE_JA, "B（病院）", None, 1),
    (MC, FIVE, "C(hospital)", None, 2), (MC, FIVE, "C（where doctors work）", None, 2),
    (NLI, None, "Yes, no doubt.", None, 0), (NLI, None, "Yes; no question.", None, 0),
    (NLI, None, "Maybe, no idea.", None, 1),
    (NLI, None, "Yes. Wait, no.", 0, None), (NLI, None, "No, I mean maybe.", 2, None),
    (NLI, None, "Maybe (or No)", 1, None),
]


def test_parser_10_ordinary_answers_read_as_before_and_the_changed_ones_as_intended():
    assert CHOICE_PARSER == 10   # (runs record it: a report asks for runs read by an older parser to be re-read)
    wrong = [(text, parse_answer(t, text, item), want) for t, item, text, want in ORDINARY
             if parse_answer(t, text, item) != want]
    wrong += [(text, parse_answer(t, text, item), now) for t, item, text, _, now in CHANGED
              if parse_answer(t, text, item) != now]
    assert not wrong, wrong


def test_parser_10_a_committed_answer_explained_with_other_options_keeps_its_choice():
    """(review B of round 27) the first parser 10 read these as corrected (no answer): options listed
    after a "No"/"Actually"/"I mean" while explaining, an affirmation not ending its clause ("A is true
    in a narrow sense, but"), a rhetorical "Wait, A? No", Italian/French "E, non C" ("not C")."""
    for item, text, index in (
            (FIVE, "C. I mean, office building, the park and school are places too, but hospital fits best.", 2),
            (FIVE, "hospital. No, school, office building do not fit.", 2),
            (FIVE, "C. Actually, the park, while possible, is less likely than hospital.", 2),
            (FIVE, "C. Wait — school, office building are distractors.", 2),
            (FIVE, "C. Actually D is true in a narrow sense, but C is better.", 2),
            (FIVE, "C. No, B is one possibility, but a hospital is more common.", 2),
            (FIVE, "C. Actually, A is the answer many models give, but it is wrong.", 2),
            (FIVE, "C. Wait, the park? No, hospital.", 2),
            (FIVE, "C. Wait, A? No, C is right.", 2),
            (FIVE, "E, non C.", 4), (FIVE, "La risposta è A, non D.", 0), (FIVE, "B, non A.", 1),
            (FIVE_ZH, "B。不，公园、学校都不对。", 1), (FIVE_ZH, "B。等等，A？不对，B更合理。", 1),
            (FIVE_JA, "B。いや、公園、学校は違います。", 1),
            (TWO, "A. Actually, the sun came out, which would melt ice, so B is wrong.", 0)):
        assert parse_answer(MC, text, item) == index, text
    # the corrections themselves still name none
    for item, text in ((FIVE, "A. No wait, C is right."), (FIVE, "A, I mean C."), (FIVE, "A, nein, C."),
                       (YES_NO, "Yes. Actually no, they differ."), (FIVE_ZH, "A，我是说B。")):
        assert parse_answer(MC, text, item) is None, text


def test_parser_10_chinese_paws_x_words_correct_before_a_comma_as_english_yes_no_do():
    """(review D of round 27) 不一样/不同/不相同 (PAWS-X zh's accepted No words) were missing from the
    labels a comma may follow: "是。等等，不一样，意思不同。" read Yes where "Yes. Actually no, they differ."
    is none."""
    from xling.data.pawsx import ALSO_ACCEPTED
    item = ChoiceItem("pz2", 0, {"stem": "意思相同吗？", "options": ["是", "否"],
                                 "also_accepted": tuple(ALSO_ACCEPTED["zh"])})
    for text in ("是。等等，不一样，意思不同。", "相同。等等，不同，第二句改变了意思。",
                 "是。等等，不相同，意思变了。"):
        assert parse_answer(MC, text, item) is None, text
    for text, index in (("是，意思相同。", 0), ("否，不一样。", 1), ("相同。", 0), ("不同，第二句多了一个人。", 1)):
        assert parse_answer(MC, text, item) == index, text
