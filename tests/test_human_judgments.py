"""Readers of human MT judgments (xling.data.human): Google's MQM TSV and segment-score files,
MT-metrics-eval's folder layout. Fixtures are written here; the real MQM data is only read from
the shared data folder."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xling.data.human import HumanJudgments, load_mqm, load_mqm_scores
from xling.data.registry import DataOptions, load_dataset
from xling.errors import XlingError

REPO = Path(__file__).resolve().parent.parent
JUDGMENTS = DataOptions(task="judgments")
HEADER = "system\tdoc\tdoc_id\tseg_id\trater\tsource\ttarget\tcategory\tseverity"


def mqm_dir() -> Path:
    for candidate in (os.environ.get("XLING_DATA"), REPO.parent / "shared" / "data"):
        if candidate and (Path(candidate) / "mqm_ted" / "zhen" / "mqm_ted_zhen.tsv").is_file():
            return Path(candidate) / "mqm_ted" / "zhen"
    pytest.skip("Google's MQM TED zh-en files not found: set XLING_DATA or provide "
                "../shared/data/mqm_ted/zhen (mqm_ted_zhen.tsv, mqm_ted_zhen.avg_seg_scores.tsv)")


def test_real_mqm_scores_equal_googles_segment_scores():
    folder = mqm_dir()
    errors = load_dataset(f"mqm:{folder / 'mqm_ted_zhen.tsv'}", JUDGMENTS)
    google = load_dataset(f"mqm-scores:{folder / 'mqm_ted_zhen.avg_seg_scores.tsv'}", JUDGMENTS)
    assert (errors.src_lang, errors.tgt_lang) == (google.src_lang, google.tgt_lang) == ("zh", "en")
    assert len(errors.systems()) == len(google.systems()) == 15
    names = {"ref": "ref-A", "refB": "ref-B"}     # the two files name the human translations apart
    at = {seg: i for i, seg in enumerate(google.segment_ids)}
    compared = 0
    for system in errors.systems():
        for i, seg in enumerate(errors.segment_ids):
            mine = errors.scores[system][i]
            assert mine is not None and errors.outputs[system][i]   # every system rated every segment
            assert mine == google.scores[names.get(system, system)][at[seg]], (system, seg)
            compared += 1
    rated = sum(score is not None for scores in google.scores.values() for score in scores)
    assert compared == rated == 15 * 529
    assert len(google.segment_ids) == 843 and len(errors.segment_ids) == 529
    assert errors.common_segments(errors.systems()) == list(range(529))
    assert "<v>" not in "".join(errors.sources) + "".join(o or "" for o in errors.outputs["ref"])
    assert google.common_segments(["ref-A"]) == []      # scores only: no texts


def write_mqm(tmp_path: Path, rows: list[str], name: str = "mqm_test_ende.tsv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def row(system, seg, rater, target, category, severity, source="Quelle", doc="d1"):
    return "\t".join([system, doc, "1", str(seg), rater, source, target, category, severity])


def test_mqm_weights(tmp_path):
    rows = [
        row("A", 1, "r1", "a <v>b</v> c", "Accuracy/Mistranslation", "Major"),
        row("A", 1, "r1", "a b <v>c</v>", "Fluency/Punctuation", "Minor"),
        row("A", 1, "r1", "<v>a</v> b c", "Fluency/Punctuation", "Major"),
        row("A", 2, "r1", "x y", "No-error", "No-error", source="<v>Zwei</v>"),
        row("A", 3, "r1", "<v>z</v>", "Style/Awkward", "Minor", source="Drei"),
        row("A", 3, "r1", "<v>z</v>", "Other", "Neutral", source="Drei"),
        row("B", 1, "r2", "<v>garbled</v>", "Non-translation!", "Major"),
        row("B", 1, "r2", "<v>garbled</v>", "Fluency/Grammar", "Minor"),
        row("B", 2, "r2", "q", "Source error", "minor", source="Zwei"),
        *[row("B", 3, "r2", "w", "Fluency/Grammar", s, source="Drei")
          for s in ("Minor", "Major", "Minor", "Major", "Minor", "Major", "Minor")],
    ]
    data = load_mqm(write_mqm(tmp_path, rows), "mqm:test")
    assert isinstance(data, HumanJudgments)
    assert (data.src_lang, data.tgt_lang) == ("en", "de")
    assert data.segment_ids == ["1", "2", "3"] and data.documents == ["d1"] * 3
    assert data.sources == ["Quelle", "Zwei", "Drei"]
    assert data.outputs["A"] == ["a b c", "x y", "z"]
    assert data.scores["A"] == [-10.1, 0.0, -1.0]      # Major punctuation counts 5; Neutral 0
    # Non-translation replaces the segment's other errors; seven errors: the five heaviest count.
    assert data.scores["B"] == [-25.0, -1.0, -17.0]
    assert data.systems() == ["A", "B"] and data.system_scores is None
    assert data.common_segments(["A", "B"]) == [0, 1, 2]
    # as MT-metrics-eval's converter: a Minor punctuation subcategory is 0.1, a Non-translation
    # other than Major an ordinary error (it was -25 whatever its severity)
    rows = [row("C", 1, "r1", "<v>a</v>", "Fluency/Punctuation/Quotes", "Minor"),
            row("C", 2, "r1", "<v>b</v>", "Non-translation!", "Minor"),
            row("C", 3, "r1", "<v>c</v>", "Non-translation!", "Neutral")]
    assert load_mqm(write_mqm(tmp_path, rows, name="more.tsv"), "mqm:more").scores["C"] == [-0.1, -1.0, 0.0]


def test_mqm_sums_are_exact_and_languages_can_be_given(tmp_path):
    rows = [row("A", 7, "r1", "t", "Fluency/Punctuation", "Minor")] * 3
    rows.append(row("B", 7, "r1", "u", "No-error", "No-error"))
    path = write_mqm(tmp_path, rows, name="annotations.tsv")
    data = load_dataset(f"mqm:{path}:zh-en", JUDGMENTS)
    assert data.scores == {"A": [-0.3], "B": [0.0]} and (data.src_lang, data.tgt_lang) == ("zh", "en")
    assert load_dataset(f"mqm:{path}", JUDGMENTS).src_lang is None


def test_mqm_rows_with_a_comment_column(tmp_path):
    path = tmp_path / "mqm.tsv"
    path.write_text(HEADER + "\tcomment\n" + row("A", 1, "r", "t", "Other", "Minor") + "\tsee note\n", encoding="utf-8")
    assert load_mqm(path, "mqm").scores == {"A": [-1.0]}


def expect_one_line_error(call, where: str, words: str):
    with pytest.raises(XlingError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message and where in message and words in message, message


@pytest.mark.parametrize("rows,line,words", [
    ([row("A", 1, "r1", "t", "Accuracy/Omission", "Critical")], 2, "unknown severity 'Critical'"),
    ([row("A", 1, "r1", "t", "Other", "Minor"), row("A", 1, "r2", "t", "Other", "Major")], 3,
     "rated by r2 here and by r1 at line 2"),
    ([row("A", 1, "r1", "t", "No-error", "No-error"), row("A", 1, "r1", "t", "Other", "Major")], 3,
     "scored twice by one rater"),
    ([row("A", 1, "r1", "t", "Other", "Major"), row("A", 1, "r1", "t", "No-error", "No-error")], 3,
     "scored twice by one rater"),
    ([row("A", 1, "r1", "t", "Other", "Major"), "A\td1\t1\t2\tr1\tsource only"], 3, "6 tab-separated columns"),
    ([row("A", 1, "r1", "<v>one</v>", "Other", "Major"), row("A", 1, "r1", "two", "Other", "Minor")], 3,
     "target differs from line 2"),
    ([row("A", 1, "r1", "t", "Other", "Major"), row("B", 1, "r1", "t", "Other", "Major", source="other")], 3,
     "source differs"),
])
def test_mqm_bad_data_is_one_error_naming_file_and_line(tmp_path, rows, line, words):
    path = write_mqm(tmp_path, rows)
    expect_one_line_error(lambda: load_mqm(path, "mqm"), f"{path}:{line}:", words)


def test_mqm_bad_header(tmp_path):
    path = tmp_path / "x.tsv"
    path.write_text("system\tseg_id\tscore\nA\t1\t0\n", encoding="utf-8")
    expect_one_line_error(lambda: load_mqm(path, "mqm"), f"{path}:1:", "not an MQM TSV header")


def write_scores(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "mqm_x_zhen.avg_seg_scores.tsv"
    path.write_text("system mqm_avg_score seg_id\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_mqm_segment_scores(tmp_path):
    path = write_scores(tmp_path, ["A\t-1.100000 1", "A\tNone 2", "B\t0.000000 2", "B\t-25.000000 1"])
    data = load_dataset(f"mqm-scores:{path}", JUDGMENTS)
    assert (data.src_lang, data.tgt_lang) == ("zh", "en") and data.segment_ids == ["1", "2"]
    assert data.scores == {"A": [-1.1, None], "B": [-25.0, 0.0]}
    assert data.outputs == {"A": [None, None], "B": [None, None]} and data.sources == ["", ""]
    old = tmp_path / "old.tsv"      # newstest2020's files use spaces throughout
    old.write_text("system mqm_avg_score seg_id\nHuman-A.0 -2.333333 1\n", encoding="utf-8")
    assert load_mqm_scores(old, "s").scores == {"Human-A.0": [-2.333333]}


@pytest.mark.parametrize("lines,line,words", [
    (["A\t-1.0 1", "B\tNone 1", "B\tNone 2"], 3, "system B has no rated segment (None-only system)"),
    (["A\t-1.0 1", "A\t-2.0 1"], 3, "A segment 1 scored twice (also line 2)"),
    (["A\tbad 1"], 2, "neither a number nor None"),
    (["A\t-1.0"], 2, "expected SYSTEM<TAB>SCORE SEG_ID"),
])
def test_mqm_segment_scores_bad_data(tmp_path, lines, line, words):
    path = write_scores(tmp_path, lines)
    expect_one_line_error(lambda: load_mqm_scores(path, "s"), f"{path}:{line}:", words)


def write_mtme(root: Path, *, seg_lines: list[str] | None = None, docs: bool = True) -> Path:
    """A tiny MT-metrics-eval test set: zh-en, three segments, two systems, two references
    (refA also copied into system-outputs, as MTME does for a scored reference)."""
    files = {
        "sources/zh-en.txt": "一\n二\n三\n",
        "references/zh-en.refA.txt": "one\ntwo\nthree\n",
        "references/zh-en.refB.txt": "One.\nTwo.\nThree.\n",
        "system-outputs/zh-en/refA.txt": "one\ntwo\nthree\n",
        "system-outputs/zh-en/sysX.txt": "won\n[No translation supplied]\ntree  \n",
        "system-outputs/zh-en/sysY.txt": "one\ntoo\nthree\n",
        "human-scores/zh-en.mqm.seg.score": "\n".join(seg_lines or [
            "sysX\t-5", "sysX\tNone", "sysX\t-1", "sysY\t0", "sysY\t-0.1", "sysY\t0",
            "refA\t0", "refA\t0", "refA\tNone"]) + "\n",
        "human-scores/zh-en.mqm.sys.score": "sysX\t-3\nsysY\t-0.05\nrefA\tNone\n",
        "human-scores/zh-en.wmt-z.seg.score": "sysX 0.1\nsysX 0.2\nsysX 0.3\n",
    }
    if docs:
        files["documents/zh-en.docs"] = "news doc1\nnews doc1\nted doc2\n"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_mtme_layout(tmp_path):
    root = write_mtme(tmp_path / "wmt99")
    data = load_dataset(f"mtme:{root}:zh-en", JUDGMENTS)
    assert (data.src_lang, data.tgt_lang) == ("zh", "en")
    assert data.segment_ids == ["1", "2", "3"] and data.sources == ["一", "二", "三"]
    assert data.documents == ["doc1", "doc1", "doc2"]
    assert set(data.systems()) == {"refA", "refB", "sysX", "sysY"}
    assert data.outputs["sysX"] == ["won", None, "tree"] and data.outputs["refB"] == ["One.", "Two.", "Three."]
    assert data.scores["sysX"] == [-5.0, None, -1.0] and data.scores["refB"] == [None, None, None]
    assert data.system_scores == {"sysX": -3.0, "sysY": -0.05}
    assert data.human_systems == ("refA", "refB")    # the references, scored as systems too
    assert data.common_segments(["sysX", "sysY"]) == [0, 2]
    assert data.common_segments(["sysY", "refA"]) == [0, 1]
    other = load_dataset(f"mtme:{root}:zh-en:wmt-z", JUDGMENTS)
    assert other.scores["sysX"] == [0.1, 0.2, 0.3] and other.scores["sysY"] == [None] * 3
    assert other.system_scores is None
    assert load_dataset(f"mtme:{write_mtme(tmp_path / 'nodocs', docs=False)}:zh-en", JUDGMENTS).documents is None


@pytest.mark.parametrize("seg_lines,line,words", [
    (["sysX\t-5", "sysX\t-1"], 2, "sysX has 2 seg scores, the source has 3"),
    (["sysZ\t-5"], 1, "system 'sysZ' has no output"),
    (["sysX\t-5", "sysX\tfive"], 2, "neither a number nor None"),
    (["sysX -5 extra"], 1, "expected SYSTEM SCORE"),
])
def test_mtme_bad_scores(tmp_path, seg_lines, line, words):
    root = write_mtme(tmp_path / "wmt99", seg_lines=seg_lines)
    seg_file = root / "human-scores" / "zh-en.mqm.seg.score"
    expect_one_line_error(lambda: load_dataset(f"mtme:{root}:zh-en", JUDGMENTS), f"{seg_file}:{line}:", words)


def test_mtme_missing_things(tmp_path):
    root = write_mtme(tmp_path / "wmt99")
    with pytest.raises(XlingError, match="no zh-en.esa.seg.score; human scores for zh-en: mqm, wmt-z"):
        load_dataset(f"mtme:{root}:zh-en:esa", JUDGMENTS)
    with pytest.raises(XlingError, match="does not exist"):
        load_dataset(f"mtme:{tmp_path / 'nowhere'}:zh-en", JUDGMENTS)
    with pytest.raises(XlingError, match="mtme:ROOT:LP"):
        load_dataset(f"mtme:{root}", JUDGMENTS)
    (root / "system-outputs" / "zh-en" / "sysY.txt").write_text("one\n", encoding="utf-8")
    with pytest.raises(XlingError, match="sysY.txt: 1 lines, the source has 3"):
        load_dataset(f"mtme:{root}:zh-en", JUDGMENTS)


def test_judgments_are_their_own_task(tmp_path):
    path = write_mqm(tmp_path, [row("A", 1, "r", "t", "Other", "Minor")])
    with pytest.raises(XlingError, match="is a human-judgment data set"):
        load_dataset(f"mqm:{path}", DataOptions(task="mt"))
    with pytest.raises(XlingError, match="is a translation data set"):
        load_dataset("flores200:dev", JUDGMENTS)


def test_xling_data_lists_the_judgment_families():
    out = subprocess.run([sys.executable, "-m", "xling.cli", "data"], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    for grammar in ("mqm:FILE.tsv[:SRC-TGT]", "mqm-scores:FILE.tsv[:SRC-TGT]", "mtme:ROOT:LP[:HUMAN]"):
        line = next((x for x in out.stdout.splitlines() if x.startswith(grammar)), None)
        assert line is not None and "judgments" in line, out.stdout


def test_a_seg_id_that_is_no_number_is_refused_not_a_segment_of_its_own(tmp_path):
    """A typo ("five") made a segment only one system had, moving its mean (-7.5 -> -6.2)."""
    path = write_mqm(tmp_path, [row("A", 1, "r1", "Ziel", "no-error", "no-error"),
                                row("A", "five", "r1", "Ziel", "Accuracy/Omission", "Minor")])
    with pytest.raises(XlingError, match=r":3: seg_id 'five' is not a segment number"):
        load_mqm(path, "mqm")


def test_systems_a_metric_scores_alike_share_a_rank(tmp_path, capsys):
    """Two systems with the same BLEU were ranked 1 and 2: the table said BLEU preferred one."""
    from xling.cli import main

    text = "we walk to the river today"   # every system the same words: BLEU 100 each
    path = write_mqm(tmp_path, [row(s, seg, "r1", text, "no-error" if s != "B" else "Fluency/Grammar",
                                    "no-error" if s != "B" else "Minor", source=f"Quelle {seg}")
                                for s in ("ref", "A", "B") for seg in (1, 2)])
    assert main(["score", "--human", f"mqm:{path}", "--human-reference", "ref", "-m", "bleu", "-t", "en"]) == 0
    out = capsys.readouterr().out
    assert out.count("100.00 (1)") == 2 and "(2)" not in out


def test_a_file_name_with_two_language_pairs_is_refused(tmp_path):
    """(audit round 20) `mqm_zhen_data.tsv` was read as Danish-Tamil ("data" = da + ta): every
    output counted off-target, OffTarget% then 'correlated' with the judgments. Two pairs in a name
    are refused; (audit round 28) "data" is a word, no pair, so that name is zh-en (this test
    refused it as two pairs before)."""
    rows = [row("sysA", 1, "r1", "Ein Satz", "No-error", "No-error")]
    path = write_mqm(tmp_path, rows, name="mqm_zhen_ende.tsv")
    with pytest.raises(XlingError, match=r"two language pairs \(zhen, ende\).*:SRC-TGT"):
        load_dataset(f"mqm:{path}", JUDGMENTS)
    chosen = load_dataset(f"mqm:{path}:zh-en", JUDGMENTS)
    assert (chosen.src_lang, chosen.tgt_lang) == ("zh", "en")
    for name in ("mqm_zhen_test.tsv", "mqm_zhen_data.tsv"):
        plain = load_dataset(f"mqm:{write_mqm(tmp_path, rows, name=name)}", JUDGMENTS)
        assert (plain.src_lang, plain.tgt_lang) == ("zh", "en")


@pytest.mark.parametrize("name", ["mqm_data.tsv", "data_mqm.tsv", "mqm_date.tsv", "mqm_path.tsv", "mqm_html.tsv",
                                  "mqm_note.tsv", "mqm_task_test.tsv", "mqm_dada.tsv"])
def test_a_word_in_a_file_name_is_no_language_pair(tmp_path, name):
    """(audit round 28) `mqm_data.tsv` was read as Danish to Tamil ("data" = da + ta) with nothing
    said: every English output off-target, exit 0. An English word, or one language twice, is no pair."""
    rows = [row("sysA", 1, "r1", "Ein Satz", "No-error", "No-error")]
    data = load_dataset(f"mqm:{write_mqm(tmp_path, rows, name=name)}", JUDGMENTS)
    assert (data.src_lang, data.tgt_lang) == (None, None)
    assert data.languages_note == ""


@pytest.mark.parametrize("name, pair", [("mqm_newstest2021_rude.tsv", ("ru", "de")), ("mqm_then.tsv", ("th", "en")),
                                        ("mqm_teen.tsv", ("te", "en")), ("mqm_hide.tsv", ("hi", "de"))])
def test_a_direction_that_spells_a_word_is_still_a_pair(tmp_path, name, pair):
    """(review A, round 28) the word list first taken out of names held real directions too: th-en,
    te-en, ru-de and hi-de files were refused as naming no pair."""
    rows = [row("sysA", 1, "r1", "Ein Satz", "No-error", "No-error")]
    data = load_dataset(f"mqm:{write_mqm(tmp_path, rows, name=name)}", JUDGMENTS)
    assert (data.src_lang, data.tgt_lang) == pair and "from its name" in data.languages_note


def test_a_pair_read_from_the_file_name_is_said_and_one_given_is_not(tmp_path):
    """(audit round 28) the pair taken from a name was never said: a wrong one was found only in
    the numbers."""
    rows = [row("sysA", 1, "r1", "Ein Satz", "No-error", "No-error")]
    path = write_mqm(tmp_path, rows, name="mqm_ted_deen.tsv")
    data = load_dataset(f"mqm:{path}", JUDGMENTS)
    assert (data.src_lang, data.tgt_lang) == ("de", "en")
    assert data.languages_note == (f"mqm_ted_deen.tsv is read as German to English, from its name; to read it as "
                                   f"another pair, give it after the file: mqm:{path}:SRC-TGT")
    assert load_dataset(f"mqm:{path}:de-en", JUDGMENTS).languages_note == ""
    scores = write_scores(tmp_path, ["A\t-1.0 1"])
    assert "mqm_x_zhen.avg_seg_scores.tsv is read as Chinese (Simplified) to English, from its name" in \
        load_dataset(f"mqm-scores:{scores}", JUDGMENTS).languages_note


def test_spaces_around_system_rater_and_document_are_dropped(tmp_path):
    """(audit round 28) "Facebook-AI " on one row made a system of its own: the system shown twice
    and every measure on the one segment both had, exit 0."""
    clean = [row(s, seg, "r1", f"{s} {seg}", "Other", "Minor", source=f"Quelle {seg}") for s in ("A", "B")
             for seg in (1, 2, 3)]
    plain = load_mqm(write_mqm(tmp_path, clean, name="clean.tsv"), "mqm")
    for spaces in ({"system": "A "}, {"rater": " r1"}, {"doc": "d1 "}):
        cells = {"system": "A", "rater": "r1", "doc": "d1", **spaces}
        spaced = [*clean]
        spaced[1] = row(cells["system"], 2, cells["rater"], "A 2", "Other", "Minor", source="Quelle 2",
                        doc=cells["doc"])
        data = load_mqm(write_mqm(tmp_path, spaced, name="spaced.tsv"), "mqm")
        assert data.systems() == plain.systems() == ["A", "B"]
        assert (data.scores, data.outputs, data.documents) == (plain.scores, plain.outputs, plain.documents)
        assert data.common_segments(["A", "B"]) == [0, 1, 2]


def test_a_header_line_repeated_by_joining_two_files_is_said_so(tmp_path):
    """(audit round 28) `cat a.tsv b.tsv` said "seg_id 'seg_id' is not a segment number"."""
    rows = [row("A", 1, "r1", "t", "Other", "Minor"), HEADER, row("A", 2, "r1", "u", "Other", "Minor")]
    path = write_mqm(tmp_path, rows)
    expect_one_line_error(lambda: load_mqm(path, "mqm"), f"{path}:3:", "the header line again (files joined")
