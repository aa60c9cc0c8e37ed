"""Which systems, segments and human scores `meta-eval` uses, as MT-metrics-eval (MTME) uses
them: the reference needs no human score, a system without any is left out, a cell without one
is left out of each measure (not its whole segment), and the data's own system-level scores
(MTME's LP.HUMAN.sys.score) are the system-level human scores. Checked on a hand-made MTME
folder against scipy and sacrebleu called here."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
import sacrebleu
from helpers import assert_one_line_error, xling
from scipy import stats

from xling.tasks.metaeval import meta_evaluate

REFERENCE = ["the cat sat on the mat", "a dog ran home today", "red hats are big",
             "we walked far away", "the sun is warm today", "birds sing in the morning"]
OUTPUTS = {
    "sys0": ["the cat sat on a mat", "a dog ran home", "red hats are large", "we walked far",
             "the sun is warm", "birds sing at morning"],
    "sys1": ["cat sat mat", "dog ran today", "hats red big", "walked away", "sun warm today", "birds morning"],
    "sys2": ["the cat is on the mat", "the dog went home today", "red hats are big", "we went far away",
             "the sun was warm today", "the birds sing in the morning"],
    "sys3": ["a cat", "a dog", "a hat", "a walk", "a sun", "a bird"],
}
SEGMENT_SCORES = {   # MQM, negated; None: not rated
    "sys0": [-1, -0.1, -1, -5, 0, -1],
    "sys1": [-10, -6, -5, -11, -5, -7],
    "sys2": [0, None, 0, None, -1, None],   # rated on half the segments
    "sys3": [None] * 6,                     # never rated: left out
    "refA": [None] * 6,                     # the reference: needs no score
}
SYSTEM_SCORES = {"sys0": -1.2, "sys1": -7.0, "sys2": -0.5}   # the data's own, not the segment means


def write_mtme(root: Path) -> Path:
    files = {"sources/de-en.txt": [f"Quelle {i}" for i in range(6)], "references/de-en.refA.txt": REFERENCE,
             "system-outputs/de-en/refA.txt": REFERENCE,
             **{f"system-outputs/de-en/{name}.txt": texts for name, texts in OUTPUTS.items()},
             "human-scores/de-en.mqm.seg.score": [f"{s}\t{v}" for s, values in SEGMENT_SCORES.items()
                                                  for v in values],
             "human-scores/de-en.mqm.sys.score": [f"{s}\t{v}" for s, v in SYSTEM_SCORES.items()] + ["sys3\tNone"]}
    for name, lines in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = write_mtme(tmp_path_factory.mktemp("wmt99"))
    return meta_evaluate(f"mtme:{root}:de-en", "refA", ["bleu"], samples=50, progress=False), root


def test_the_unrated_reference_is_not_needed_and_an_unrated_system_is_left_out(report):
    result, _ = report
    assert result["systems"] == ["sys0", "sys1", "sys2"] and result["unrated_systems"] == ["sys3"]
    assert result["segments"] == 6 and result["rated_cells"] == 6 + 6 + 3


def test_system_level_uses_the_datas_system_scores(report):
    result, _ = report
    systems = result["systems"]
    assert result["human"]["system"] == SYSTEM_SCORES
    assert "the data's system scores" in result["human"]["system_source"]
    bleu = [sacrebleu.corpus_bleu(OUTPUTS[s], [REFERENCE]).score for s in systems]
    assert result["metric_system_scores"]["bleu"] == pytest.approx(dict(zip(systems, bleu)))
    assert result["metrics"]["bleu"]["system"]["pearson"] == pytest.approx(
        stats.pearsonr(bleu, [SYSTEM_SCORES[s] for s in systems])[0])


def test_segment_level_leaves_out_unrated_cells_only(report):
    result, _ = report
    systems = result["systems"]
    cells = [(sacrebleu.sentence_bleu(OUTPUTS[s][i], [REFERENCE[i]]).score, SEGMENT_SCORES[s][i])
             for s in systems for i in range(6) if SEGMENT_SCORES[s][i] is not None]
    metric, human = zip(*cells)
    measured = result["metrics"]["bleu"]["segment"]
    assert measured["pearson"] == pytest.approx(stats.pearsonr(metric, human)[0])
    assert measured["kendall"] == pytest.approx(stats.kendalltau(metric, human)[0])
    taus = []
    for i in range(6):
        rated = [s for s in systems if SEGMENT_SCORES[s][i] is not None]
        tau = stats.kendalltau([sacrebleu.sentence_bleu(OUTPUTS[s][i], [REFERENCE[i]]).score for s in rated],
                               [SEGMENT_SCORES[s][i] for s in rated])[0]
        if not math.isnan(tau):
            taus.append(tau)
    assert measured["kendall_by_item"] == pytest.approx(np.mean(taus))


def test_score_human_with_an_unrated_reference_and_system(report):
    _, root = report
    result = xling("score", "--human", f"mtme:{root}:de-en", "--human-reference", "refA", "-m", "bleu",
                   "--format", "json")
    assert result.returncode == 0, result.stderr
    table = json.loads(result.stdout)
    assert set(table["systems"]) == {"sys0", "sys1", "sys2"} and table["unrated_systems"] == ["sys3"]
    assert table["systems"]["sys2"]["segments"] == 3
    # The human score is the one meta-eval correlates with (the data's); the segment mean beside it.
    assert {s: v["score"] for s, v in table["systems"].items()} == SYSTEM_SCORES
    assert table["systems"]["sys2"]["segment_mean"] == pytest.approx(np.mean([0, 0, -1]))
    assert table["human_source"] == "the data's system scores"
    plain = xling("score", "--human", f"mtme:{root}:de-en")    # no reference: every rated system
    assert plain.returncode == 0, plain.stderr
    text = plain.stdout.decode()
    assert "left out, no human score: refA, sys3" in text
    assert "segment mean" in text and "the data's system scores, as meta-eval takes them" in text
    assert [line.split()[1] for line in text.splitlines() if line[:1].isdigit()] == ["sys2", "sys0", "sys1"]


def test_too_few_rated_systems_is_one_line(tmp_path):
    root = write_mtme(tmp_path / "wmt99")
    lines = [f"{s}\t{v if s == 'sys0' else None}" for s, values in SEGMENT_SCORES.items() for v in values]
    (root / "human-scores" / "de-en.mqm.seg.score").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_one_line_error(xling("meta-eval", f"mtme:{root}:de-en", "-r", "refA", "-m", "bleu"),
                          "needs two systems with human scores besides the reference refA, not 1 "
                          "(no human score: sys1, sys2, sys3)")


def test_bad_data_leaves_no_folder_behind(tmp_path):
    out = tmp_path / "out"
    assert_one_line_error(xling("meta-eval", f"mtme:{tmp_path / 'missing'}:de-en", "-r", "refA", "-m", "bleu",
                                "-o", str(out)), "does not exist")
    assert not out.exists()


def test_a_judge_that_cannot_score_some_cells_is_refused_after_judging_every_system(tmp_path):
    """(audit round 18) The first system with an unreadable judge answer ended meta-eval, with "gives
    no score for every segment": neither the system, nor how many, and the others never judged."""
    from servers import FakeOpenAI

    root = write_mtme(tmp_path / "wmt99")
    unreadable = ("cat sat mat", "walked away", "the sun was warm today")   # sys1 twice, sys2 once
    server = FakeOpenAI(respond=lambda payload: "Score: 70—80" if any(
        text in json.dumps(payload) for text in unreadable) else "Score: 80")
    try:
        result = xling("meta-eval", f"mtme:{root}:de-en", "-r", "refA", "-m", "gemba-esa", "--judge-model", "fake",
                       "--judge-base-url", server.url, "--tgt-lang", "en", env={"XLING_CACHE": str(tmp_path / "c")})
    finally:
        server.close()
    err = result.stderr.decode()
    assert result.returncode == 2 and "Traceback" not in err and [line for line in err.splitlines()
                                                                  if line.startswith("xling: error:")] == [
        "xling: error: GEMBA-ESA gave no score for 2 of 6 segments of sys1, 1 of 6 segments of sys2 (answers it "
        "could not read); its agreement with the human scores is measured on every cell, so it needs a score for "
        "each: try a stronger judge model, or leave those systems out (meta-eval -x SYSTEM)"], err
    assert server.requests == 18   # sys0, sys1 and sys2 judged, each segment once


def test_soft_pairwise_accuracy_says_the_segments_it_is_on(report, tmp_path):
    """(audit round 28) SPA takes only the segments rated for every system (it pairs whole
    segments): it used 8 of 60 while the table said 60, and where none was its n/a blamed
    constant scores. report.json says how many (spa_segments), the notes say so where not all."""
    from xling.metaeval import measures
    from xling.reporting.metaeval_figures import agreement_tables

    result, _ = report
    full = [i for i in range(6) if all(SEGMENT_SCORES[s][i] is not None for s in result["systems"])]
    assert full == [0, 2, 4] and result["spa_segments"] == 3 and result["segments"] == 6
    metric = np.array([[sacrebleu.sentence_bleu(OUTPUTS[s][i], [REFERENCE[i]]).score for i in full]
                       for s in result["systems"]])
    human = np.array([[SEGMENT_SCORES[s][i] for i in full] for s in result["systems"]], dtype=float)
    assert result["metrics"]["bleu"]["system"]["soft_pairwise_accuracy"] == pytest.approx(
        measures.soft_pairwise_accuracy(metric, human, samples=50, seed=0))
    assert "SPA on 3 of 6 segments rated for every system" in agreement_tables(result)[0].notes[1]
    # each segment left unrated for one system: no segment for SPA, and the notes say why
    root = write_mtme(tmp_path / "wmt99")
    staggered = {s: [None if i % 3 == k else v for i, v in enumerate(SEGMENT_SCORES["sys0"])]
                 for k, s in enumerate(("sys0", "sys1", "sys2"))}
    (root / "human-scores" / "de-en.mqm.seg.score").write_text(
        "".join(f"{s}\t{v}\n" for s, values in staggered.items() for v in values), encoding="utf-8")
    out = tmp_path / "out"
    gaps = meta_evaluate(f"mtme:{root}:de-en", "refA", ["bleu"], samples=50, progress=False, out=out)
    assert gaps["spa_segments"] == 0 and gaps["metrics"]["bleu"]["system"]["soft_pairwise_accuracy"] is None
    said = "SPA n/a: no segment is rated for every system"
    assert said in agreement_tables(gaps)[0].notes[1] and said in (out / "report.html").read_text(encoding="utf-8")
    # every segment rated for all: nothing to say
    whole = {**gaps, "spa_segments": gaps["segments"]}
    assert not any("SPA on" in note or "SPA n/a" in note for note in agreement_tables(whole)[0].notes)
