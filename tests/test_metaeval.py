"""`xling meta-eval` and `xling score --human` on the real WMT21 TED MQM judgments (zh→en), checked
against values derived here another way: Google's own per-segment MQM file for the human scores,
sacrebleu called directly for the metric scores, brute-force definitions for the meta-measures."""
import itertools
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import sacrebleu
from helpers import assert_one_line_error, xling

from xling.cli import main

# The names in Google's per-segment file for the error file's human translations.
SEGMENT_FILE_NAMES = {"ref": "ref-A", "refB": "ref-B"}


@pytest.fixture(scope="module")
def ted(data_dir) -> Path:
    folder = data_dir / "mqm_ted" / "zhen"
    if not (folder / "mqm_ted_zhen.tsv").is_file():
        pytest.skip(f"the MQM TED judgments are not in {data_dir} (mqm_ted/zhen/, see its SOURCE.md)")
    return folder


@pytest.fixture(scope="module")
def report(ted, tmp_path_factory):
    out = tmp_path_factory.mktemp("metaeval") / "run"
    code = main(["meta-eval", f"mqm:{ted / 'mqm_ted_zhen.tsv'}", "--reference", "ref", "--metrics",
                 "bleu,chrf,offtarget", "--format", "json", "--out", str(out), "--permutations", "200"])
    assert code == 0
    return json.loads((out / "report.json").read_text(encoding="utf-8")), out


def google_scores(ted: Path) -> dict[str, dict[str, float]]:
    """system -> seg_id -> negated MQM, from the data's own per-segment file."""
    scores: dict[str, dict[str, float]] = {}
    for line in (ted / "mqm_ted_zhen.avg_seg_scores.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        system, rest = line.split("\t")
        value, seg = rest.split(" ")
        if value != "None":
            scores.setdefault(system, {})[seg] = float(value)
    return scores


def texts(ted: Path) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """system -> seg_id -> output (marks removed), and seg_id -> source, read with csv here."""
    import csv

    outputs: dict[str, dict[str, str]] = {}
    sources = {}
    with open(ted / "mqm_ted_zhen.tsv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            outputs.setdefault(row["system"], {})[row["seg_id"]] = row["target"].replace("<v>", "").replace("</v>", "")
            sources[row["seg_id"]] = row["source"]
    return outputs, sources


def brute_pairwise_accuracy(metric, human):
    pairs = list(itertools.combinations(range(len(metric)), 2))
    agree = sum(np.sign(metric[i] - metric[j]) == np.sign(human[i] - human[j]) for i, j in pairs)
    return agree / len(pairs)


def test_meta_eval_on_ted_equals_an_independent_computation(ted, report):
    result, _ = report
    google = google_scores(ted)
    outputs, _ = texts(ted)
    systems = result["systems"]
    assert "ref" not in systems and len(systems) == 14 and "refB" in systems
    name = {s: SEGMENT_FILE_NAMES.get(s, s) for s in [*systems, "ref"]}
    segments = sorted(set.intersection(*(set(google[name[s]]) for s in [*systems, "ref"])), key=int)
    assert result["segments"] == len(segments) > 400
    human = np.array([np.mean([google[name[s]][g] for g in segments]) for s in systems])
    assert np.allclose([result["human"]["system"][s] for s in systems], human)
    refs = [outputs["ref"][g] for g in segments]
    bleu = np.array([sacrebleu.corpus_bleu([outputs[s][g] for g in segments], [refs]).score for s in systems])
    assert np.allclose([result["metric_system_scores"]["bleu"][s] for s in systems], bleu)
    measured = result["metrics"]["bleu"]["system"]
    assert measured["pearson"] == pytest.approx(np.corrcoef(bleu, human)[0, 1])
    assert measured["pairwise_accuracy"] == pytest.approx(brute_pairwise_accuracy(bleu, human))
    # Segment level: sentence BLEU with sacrebleu's defaults, against Google's segment scores.
    seg_bleu = np.array([[sacrebleu.sentence_bleu(outputs[s][g], [outputs["ref"][g]]).score for g in segments]
                         for s in systems])
    seg_human = np.array([[google[name[s]][g] for g in segments] for s in systems])
    assert result["metrics"]["bleu"]["segment"]["pearson"] == pytest.approx(
        np.corrcoef(seg_bleu.ravel(), seg_human.ravel())[0, 1])


def test_excluded_systems_are_left_out_of_every_measure(ted, capsys):
    """The other human translation was always scored as a system; ranked last by humans and
    metrics alike, it carried the system-level correlation (BLEU r 0.78 against refB; 0.33 for
    the 13 MT systems, as MT-metrics-eval computes with include_human=False)."""
    assert main(["meta-eval", f"mqm:{ted / 'mqm_ted_zhen.tsv'}", "-r", "refB", "-m", "bleu", "-x", "ref",
                 "-f", "json", "--permutations", "10"]) == 0
    result = json.loads(capsys.readouterr().out)
    google = google_scores(ted)
    outputs, _ = texts(ted)
    systems = result["systems"]
    assert "ref" not in systems and len(systems) == 13 and result["excluded_systems"] == ["ref"]
    name = {s: SEGMENT_FILE_NAMES.get(s, s) for s in [*systems, "refB"]}
    segments = sorted(set.intersection(*(set(google[name[s]]) for s in systems))
                      & set(outputs["refB"]), key=int)
    human = np.array([np.mean([google[name[s]][g] for g in segments]) for s in systems])
    refs = [outputs["refB"][g] for g in segments]
    bleu = np.array([sacrebleu.corpus_bleu([outputs[s][g] for g in segments], [refs]).score for s in systems])
    assert result["segments"] == len(segments)
    assert result["metrics"]["bleu"]["system"]["pearson"] == pytest.approx(np.corrcoef(bleu, human)[0, 1])
    assert result["metrics"]["bleu"]["system"]["pearson"] == pytest.approx(0.332, abs=5e-4)
    for args, words in ((["-x", "refB"], "--exclude names the reference 'refB'"),
                        (["-x", "nope"], "has no system 'nope'")):
        assert_one_line_error(xling("meta-eval", f"mqm:{ted / 'mqm_ted_zhen.tsv'}", "-r", "refB", *args), words)


def test_meta_eval_json_has_the_promised_shape_and_every_measure(report):
    result, out = report
    assert set(result) >= {"systems", "segments", "metrics"}
    for name in ("bleu", "chrf", "offtarget"):
        measured = result["metrics"][name]
        assert set(measured["system"]) == {"pearson", "kendall", "pairwise_accuracy", "soft_pairwise_accuracy"}
        assert set(measured["segment"]) == {"pearson", "kendall", "kendall_by_item", "acc_eq", "epsilon"}
        values = [*measured["system"].values(), measured["segment"]["pearson"], measured["segment"]["kendall"],
                  measured["segment"]["kendall_by_item"], measured["segment"]["acc_eq"]]
        assert all(v is None or -1 <= v <= 1 for v in values)
        if name != "offtarget":     # TED's outputs are all English: a constant rate has no correlation
            assert None not in values
    assert {p.name for p in out.iterdir()} >= {"report.json", "scores.json", "agreement.png", "systems.png"}


def test_adding_a_metric_scores_nothing_else_again(ted, report, capsys):
    _, out = report
    code = main(["meta-eval", f"mqm:{ted / 'mqm_ted_zhen.tsv'}", "--reference", "ref", "--metrics",
                 "bleu,chrf,offtarget,ter", "--out", str(out), "--permutations", "50"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "with TER" in err and "with BLEU" not in err and "with chrF" not in err


def test_score_human_ranks_systems_with_intervals(ted):
    result = xling("score", "--human", f"mqm:{ted / 'mqm_ted_zhen.tsv'}", "--human-reference", "ref", "-m", "bleu",
                   "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert len(report["systems"]) == 14
    for system in report["systems"].values():
        assert system["low"] <= system["score"] <= system["high"] <= 0
    assert set(report["metrics"]["bleu"]) == set(report["systems"])


def test_a_systems_human_interval_does_not_move_when_another_is_excluded(ted):
    """All systems drew from one stream in list order: `-x DIDI-NLP` moved SMU's interval from
    [-7.15, -1.75] to [-7.29, -1.93] with its scores unchanged."""
    from xling.tasks.metaeval import meta_evaluate

    spec = f"mqm:{ted / 'mqm_ted_zhen.tsv'}"
    every = meta_evaluate(spec, "ref", ["chrf"], progress=False)
    left_out = every["systems"][0]
    fewer = meta_evaluate(spec, "ref", ["chrf"], progress=False, exclude=(left_out,))
    assert left_out not in fewer["human"]["interval"] and len(fewer["systems"]) == len(every["systems"]) - 1
    assert all(fewer["human"]["interval"][s] == every["human"]["interval"][s] for s in fewer["systems"])


def test_an_unknown_reference_is_one_line(ted):
    assert_one_line_error(xling("meta-eval", f"mqm:{ted / 'mqm_ted_zhen.tsv'}", "--reference", "refZ"),
                          "has no system 'refZ'")


def test_score_without_outputs_or_judgments_is_one_line():
    assert_one_line_error(xling("score", "-t", "en"), "score needs system outputs (-i FILE ...)")


def test_score_human_without_texts_ranks_by_human_scores_alone(ted):
    """Google's per-segment file has scores only: a ranking with intervals, no metric."""
    result = xling("score", "--human", f"mqm-scores:{ted / 'mqm_ted_zhen.avg_seg_scores.tsv'}")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert lines[1].split()[:3] == ["rank", "system", "human"] and lines[2].split()[1] == "ref-B"


def test_meta_eval_never_writes_into_a_folder_it_did_not_make(ted, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    assert_one_line_error(xling("meta-eval", f"mqm:{ted / 'mqm_ted_zhen.tsv'}", "--reference", "ref", "-o",
                                str(tmp_path)), "is not an xling run folder")
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_the_reports_soft_pairwise_accuracy_does_not_depend_on_memory_layout():
    """A masked matrix arrives in Fortran order; float32 sums then round otherwise and MQM's
    exact ties flip (the report was up to 8e-5 off MTME's draws for the same seed)."""
    from xling.metaeval import measures

    rng = np.random.default_rng(3)
    human = np.round(rng.normal(size=(6, 400)), 1)    # MQM-like 0.1 grid: many exact ties
    metric = human + rng.normal(scale=0.5, size=human.shape).astype(np.float32)
    fortran = np.asfortranarray(metric), np.asfortranarray(human)
    assert measures.soft_pairwise_accuracy(*fortran, seed=4) == measures.soft_pairwise_accuracy(metric, human, seed=4)


def test_a_metric_that_orders_no_segment_has_no_kendall_by_item_and_no_p_value(ted, tmp_path):
    """MTME's 0.0 (no item has a tau) was shown as a measured 0.000 and tested against the best."""
    from xling.tasks.metaeval import MetricScores, agreement

    human = np.array([[1.0, 2.0], [2.0, 1.0], [0.0, 0.5]])
    constant = MetricScores("c", "", {s: 0.5 for s in "abc"}, {s: [0.5, 0.5] for s in "abc"})
    values = agreement(constant, human.mean(axis=1), human, list("abc"), samples=50)
    assert values["segment"]["kendall_by_item"] is None


def test_an_unknown_target_language_is_refused_before_the_folder_is_made(ted, tmp_path):
    assert_one_line_error(xling("meta-eval", f"mqm:{ted / 'mqm_ted_zhen.tsv'}", "--reference", "ref", "-m", "bleu",
                                "--tgt-lang", "xx", "-o", str(tmp_path / "out")), "unknown language code 'xx'")
    assert not (tmp_path / "out").exists()


def test_a_missing_metric_model_is_refused_before_the_folder_and_another_target_is_said(ted, tmp_path):
    """(round 17) A missing COMET model left a marked, empty --out; -t ko on zh-en judgments
    tokenized English as Korean (BLEU's system r 0.837 -> 0.366) without a word."""
    result = xling("meta-eval", f"mqm:{ted / 'mqm_ted_zhen.tsv'}", "--reference", "ref", "-m", "comet",
                   "--comet-model", str(tmp_path / "missing"), "--tgt-lang", "ko", "-o", str(tmp_path / "out"))
    assert result.returncode != 0 and "COMET model folder" in result.stderr.decode()
    assert "holds translations into English, and they are scored as Korean" in result.stderr.decode()
    assert not (tmp_path / "out").exists()


def test_scores_only_data_is_named_as_such_and_a_table_says_how_its_metrics_were_computed(ted, report):
    from xling.reporting.metaeval_figures import agreement_tables
    from xling.reporting.tables import render_all

    assert_one_line_error(xling("meta-eval", f"mqm-scores:{ted / 'mqm_ted_zhen.avg_seg_scores.tsv'}", "-r", "ref-B"),
                          "holds human scores only, no translations")
    data, _ = report
    text = render_all(agreement_tables(data), "text")
    assert data["signatures"]["bleu"] in text and f"xling {data['xling_version']}" in text


def test_meta_eval_and_runs_never_share_a_folder(ted, tmp_path):
    """Audit round 10: meta-eval -o wrote its report into an MT run's folder (and `eval mt -o`
    took a meta-eval folder)."""
    from xling.errors import XlingError
    from xling.runs.folder import MARKER, META_EVAL_MARKER, RunDir, RunHeader

    mt = RunDir(tmp_path / "mt")
    mt.prepare(RunHeader("mt", {"x": 1}, {}, ["en-ko"], model={"model": "hand"}))
    mt.release()
    before = sorted(p.name for p in mt.path.iterdir())
    assert_one_line_error(xling("meta-eval", f"mqm:{ted / 'mqm_ted_zhen.tsv'}", "--reference", "ref", "-o",
                                str(mt.path)), "holds a mt run; meta-eval writes a folder of its own")
    assert sorted(p.name for p in mt.path.iterdir()) == before
    (tmp_path / "meta").mkdir()
    (tmp_path / "meta" / MARKER).write_text(META_EVAL_MARKER, encoding="utf-8")
    with pytest.raises(XlingError, match="holds a meta-evaluation"):
        RunDir(tmp_path / "meta").prepare(RunHeader("mt", {"x": 1}, {}, ["en-ko"], model={"model": "hand"}))


def test_a_stored_score_made_by_other_rules_is_scored_again(ted, tmp_path, capsys):
    """The stored scores' key held the metric's options only: scores an older off-target
    detector made (another `rules`) were reused as they were, with no note."""
    data = f"mqm:{ted / 'mqm_ted_zhen.tsv'}"
    out = tmp_path / "run"
    args = ["meta-eval", data, "--reference", "ref", "-m", "offtarget", "--out", str(out), "--permutations", "20"]
    assert main(args) == 0
    capsys.readouterr()
    scores = out / "scores.json"
    entries = json.loads(scores.read_text(encoding="utf-8"))
    assert len(entries) == 1 and all('"rules": "rules' in key for key in entries)
    older = {re.sub(r'"rules": "rules\d+', '"rules": "rules1', key): value for key, value in entries.items()}
    scores.write_text(json.dumps(older), encoding="utf-8")
    assert main(args) == 0
    assert "with OffTarget%" in capsys.readouterr().err


def test_a_p_value_is_never_shown_below_what_its_permutations_can_tell(ted, capsys):
    """`--permutations 1` printed "p=0.0000*": significant from one permutation."""
    code = main(["meta-eval", f"mqm:{ted / 'mqm_ted_zhen.tsv'}", "--reference", "ref", "-m", "bleu,chrf",
                 "--permutations", "1"])
    out = capsys.readouterr().out
    assert code == 0 and "p=0.0000" not in out and "p<1.0000" in out and not re.search(r"p[<=][\d.]+\*", out)


def test_an_interrupted_metric_resumes_at_its_next_system(ted, tmp_path, capsys):
    """(audit round 19) Scores were kept only once every system was scored: an interrupt during
    a model metric (minutes per system) lost the systems already done."""
    out = tmp_path / "run"
    args = ["meta-eval", f"mqm:{ted / 'mqm_ted_zhen.tsv'}", "--reference", "ref", "-m", "ter", "--out", str(out),
            "--permutations", "20"]
    assert main(args) == 0
    scores = out / "scores.json"
    ((key, entry),) = json.loads(scores.read_text(encoding="utf-8")).items()
    first = list(entry["system"])[:3]   # as if interrupted after three systems (marked to be seen)
    kept = {s: {"system": entry["system"][s] + 1000, "segment": entry["segment"][s], "signature": entry["signature"]}
            for s in first}
    scores.write_text(json.dumps({f"{key} (systems so far)": kept}), encoding="utf-8")
    capsys.readouterr()
    assert main(args) == 0
    (again,) = json.loads(scores.read_text(encoding="utf-8")).values()   # the partial entry is gone
    assert [again["system"][s] for s in first] == [entry["system"][s] + 1000 for s in first]
    assert {s: v for s, v in again["system"].items() if s not in first} == \
        {s: v for s, v in entry["system"].items() if s not in first}
    assert list(again["system"]) == list(entry["system"])


def test_the_agreement_figure_centres_accuracies_on_chance_and_marks_n_a(report):
    """(audit round 22) correlations (-1..1) and accuracies (0..1, 0.5 chance) shared one colour
    scale fitted to the values: pairwise accuracy 0.00, the worst, was drawn as a correlation of 0
    in one figure and as the darkest colour in another; n/a cells were blank; column labels overlapped."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from xling.reporting.metaeval_figures import COLUMNS, agreement_colour, agreement_heatmap

    assert agreement_colour("pairwise_accuracy", 0.5) == 0.0 == agreement_colour("pearson", 0.0)
    assert agreement_colour("pairwise_accuracy", 0.0) == -1.0 == agreement_colour("kendall", -1.0)
    assert agreement_colour("soft_pairwise_accuracy", 0.36) < 0 < agreement_colour("acc_eq", 0.6)
    result = json.loads(json.dumps(report[0]))
    result["metrics"]["offtarget"]["system"]["pearson"] = None   # a constant metric's n/a
    figure = agreement_heatmap(result)
    axes = figure.axes[0]
    (image,) = axes.images
    assert (image.norm.vmin, image.norm.vmax) == (-1, 1)   # one fixed scale, whatever the values
    # TED's outputs are all English: the off-target rate's pairwise accuracy is below chance,
    # drawn below the scale's middle (no correlation), not as a mildly positive value
    row = list(result["metrics"]).index("offtarget")
    column = [measure for _, measure, _ in COLUMNS].index("pairwise_accuracy")
    accuracy = result["metrics"]["offtarget"]["system"]["pairwise_accuracy"]
    assert accuracy < 0.5 and image.get_array()[row, column] == pytest.approx(2 * accuracy - 1)
    written = {(round(t.get_position()[0]), round(t.get_position()[1])): t.get_text() for t in axes.texts}
    for j, (level, measure, _) in enumerate(COLUMNS):
        value = result["metrics"]["offtarget"][level][measure]
        assert written[(j, row)] == ("n/a" if value is None else f"{value:.2f}")
    assert written[(0, row)] == "n/a"
    # column labels turned so that neighbours, parallel, lie further apart than a line is high
    FigureCanvasAgg(figure).draw()
    spacing = axes.transData.transform((1, 0))[0] - axes.transData.transform((0, 0))[0]
    for label in axes.get_xticklabels():
        height = label.get_fontsize() * figure.dpi / 72
        assert spacing * math.sin(math.radians(label.get_rotation())) > 1.5 * height


def test_a_pair_reversing_the_file_names_is_refused_and_another_one_warned(ted, capsys):
    """(audit round 23) `mqm:mqm_ted_zhen.tsv:en-zh` scored the English outputs as Chinese (the
    off-target correlation changed sign) with nothing said, where `-t zh` is warned about: the
    name's pair reversed is refused, another pair than the name's is warned about."""
    from xling.data.human import load_mqm_scores

    for kind, name in (("mqm", "mqm_ted_zhen.tsv"), ("mqm-scores", "mqm_ted_zhen.avg_seg_scores.tsv")):
        assert_one_line_error(xling("meta-eval", f"{kind}:{ted / name}:en-zh", "-r", "ref", "-m", "bleu"),
                              f"{name} is named for Chinese (Simplified) to English, and the pair given (:en-zh) "
                              "is its reverse")
    assert_one_line_error(xling("score", "--human", f"mqm:{ted / 'mqm_ted_zhen.tsv'}:en-zh"), "is its reverse")
    scores = ted / "mqm_ted_zhen.avg_seg_scores.tsv"
    assert load_mqm_scores(scores, "s", "zh", "de").tgt_lang == "de"
    assert capsys.readouterr().err.strip() == (
        "xling: warning: mqm_ted_zhen.avg_seg_scores.tsv is named for Chinese (Simplified) to English, and it is "
        "read as Chinese (Simplified) to German (:zh-de: its outputs' tokenizer and off-target checks; if the "
        "name holds no language pair, ignore this)")
    assert load_mqm_scores(scores, "s", "zh", "en").tgt_lang == "en" and load_mqm_scores(scores, "s").src_lang == "zh"
    # (review C) a pair refining the name's (Traditional Chinese for a zhen file) is no other pair
    assert load_mqm_scores(scores, "s", "zh-Hant", "en").src_lang == "zh-Hant"
    assert capsys.readouterr().err == ""


def test_a_metric_giving_nan_or_inf_is_one_line_naming_it(ted, monkeypatch, capsys):
    """(audit round 26) a Python-registered metric with a NaN segment stopped with a measure's
    refusal naming no metric; with inf, soft pairwise accuracy came out as 0.581 (inf - inf)."""
    from xling.metrics import registry
    from xling.metrics.base import mean_result
    from xling.metrics.registry import MetricSpec

    def length_gap(bad):
        def compute(hyps, refs, srcs, tgt, **options):
            scores = [-abs(len(h) - len(r)) for h, r in zip(hyps, refs)]
            return mean_result("gap", [bad if i == 3 else s for i, s in enumerate(scores)], "gap|v:1")
        return compute

    monkeypatch.setattr(registry, "REGISTRY", dict(registry.REGISTRY))   # (this test's metrics leave with it)
    for name, bad in (("nangap", math.nan), ("infgap", math.inf)):
        registry.register(MetricSpec(name, name.capitalize(), length_gap(bad)))
        code = main(["meta-eval", f"mqm:{ted / 'mqm_ted_zhen.tsv'}", "--reference", "ref", "-m", f"bleu,{name}",
                     "--permutations", "20"])
        err = capsys.readouterr().err
        assert code == 2 and "Traceback" not in err
        assert re.search(rf"error: {name.capitalize()} on \S+ scored 1 of \d+ segments as NaN/inf \(first: line 4\)",
                         err), err


def test_a_damaged_score_file_entry_is_scored_again(ted, tmp_path):
    """(audit round 26) scores.json with a system left out of an entry, or a segment list cut
    short, gave a KeyError / ValueError traceback; an entry that is not whole is scored again."""
    out = tmp_path / "run"
    args = ["meta-eval", f"mqm:{ted / 'mqm_ted_zhen.tsv'}", "--reference", "ref", "-m", "ter", "--out", str(out),
            "--permutations", "20", "--format", "json"]
    assert main(args) == 0
    scores = out / "scores.json"
    whole = json.loads(scores.read_text(encoding="utf-8"))
    ((key, entry),) = whole.items()
    first, second = list(entry["system"])[:2]
    for damage in (lambda e: e["system"].pop(first), lambda e: e["segment"][second].pop(),
                   lambda e: e["segment"][first].__setitem__(0, "x"), lambda e: e.update(extra=1)):
        damaged = json.loads(json.dumps(whole))
        damage(damaged[key])
        scores.write_text(json.dumps(damaged), encoding="utf-8")
        assert main(args) == 0
        assert json.loads(scores.read_text(encoding="utf-8")) == whole


def ted_subset(ted: Path, path: Path, systems: int = 5, segments: int = 40) -> Path:
    """The TED file's rows of its first `systems` systems (ref and refB among them) on its first
    `segments` segments, written to `path`: the real data, small enough to score in a moment."""
    header, *rows = (ted / "mqm_ted_zhen.tsv").read_text(encoding="utf-8").splitlines()
    cells = [row.split("\t") for row in rows]
    names = ["ref", "refB", *[n for n in dict.fromkeys(c[0] for c in cells) if n not in ("ref", "refB")]][:systems]
    first = sorted({c[3] for c in cells}, key=int)[:segments]
    kept = [row for row, c in zip(rows, cells) if c[0] in names and c[3] in first]
    path.write_text("\n".join([header, *kept]) + "\n", encoding="utf-8")
    return path


def test_a_word_in_the_file_name_is_no_pair_and_a_pair_from_the_name_is_said(ted, tmp_path, capsys):
    """(audit round 28) `mqm_data.tsv` was read as Danish to Tamil ("data" = da + ta): every English
    output off-target, exit 0, nothing said; a pair taken from a name is now said in one note."""
    data = ted_subset(ted, tmp_path / "mqm_data.tsv")
    assert_one_line_error(xling("meta-eval", f"mqm:{data}", "-r", "refB", "-m", "bleu,offtarget"),
                          f"mqm:{data} does not say its target language (its file name holds no language pair): "
                          f"give the pair after the file, mqm:{data}:SRC-TGT, or pass --tgt-lang")
    args = ["-r", "refB", "-m", "bleu,offtarget", "-f", "json", "--permutations", "20"]
    assert main(["meta-eval", f"mqm:{data}:zh-en", *args]) == 0
    out, err = capsys.readouterr()
    given = json.loads(out)
    assert given["tgt_lang"] == "en" and set(given["metric_system_scores"]["offtarget"].values()) == {0.0}
    assert "from its name" not in err
    named = data.rename(tmp_path / "mqm_zhen.tsv")
    assert main(["meta-eval", f"mqm:{named}", *args]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["metric_system_scores"] == given["metric_system_scores"]
    notes = [line for line in err.splitlines() if "note" in line]
    assert notes == [f"xling: note: mqm_zhen.tsv is read as Chinese (Simplified) to English, from its name; to "
                     f"read it as another pair, give it after the file: mqm:{named}:SRC-TGT"], err
    # (said after every refusal)
    assert_one_line_error(xling("meta-eval", f"mqm:{named}", "-r", "nobody"), "has no system 'nobody'")


def test_a_failed_write_leaves_no_report_of_another_run_in_the_folder(ted, tmp_path, capsys):
    """(audit round 28) report.json was written first, then the figures and the page: an interrupt
    or a failed write between them left the earlier run's page and figures beside the new
    report.json. The earlier run's files go first and report.json comes last."""
    data = f"mqm:{ted_subset(ted, tmp_path / 'mqm_small_zhen.tsv')}"
    out = tmp_path / "run"
    args = ["meta-eval", data, "-r", "refB", "--out", str(out), "--permutations", "20"]
    assert main([*args, "-m", "bleu"]) == 0
    outputs = ("report.json", "report.html", "agreement.png", "agreement.pdf", "systems.png", "systems.pdf")
    earlier = {name: (out / name).read_bytes() for name in outputs}
    for blocked in ("systems.png", "report.html"):   # a folder where a file goes: its write fails
        (out / blocked).unlink(missing_ok=True)
        (out / blocked).mkdir()
        code, err = main([*args, "-m", "chrf"]), capsys.readouterr().err
        assert code == 2 and "Traceback" not in err and err.strip().splitlines()[-1].startswith(
            "xling: error: cannot write "), err
        left = [name for name in outputs if (out / name).is_file()]
        assert "report.json" not in left and (out / "scores.json").is_file()
        # what is left is this run's: none of the earlier run's files
        assert not [name for name in left if (out / name).read_bytes() == earlier[name]], left
        (out / blocked).rmdir()
    assert main([*args, "-m", "chrf", "-f", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert json.loads((out / "report.json").read_text(encoding="utf-8")) == report
    assert list(report["metrics"]) == ["chrf"] and all((out / name).is_file() for name in outputs)


def test_an_interrupt_promises_kept_work_only_once_a_score_is_kept(ted, tmp_path, monkeypatch, capsys):
    """(audit round 28) Ctrl-C before anything was scored said "finished work is kept in
    DIR/scores.json; run again to resume" of a file (and folder) that did not exist."""
    from xling.metrics import registry
    from xling.metrics.base import mean_result
    from xling.metrics.registry import MetricSpec

    def interrupted_at(call):   # a metric Ctrl-C stops at its call-th system
        calls = []

        def compute(hyps, refs, srcs, tgt, **options):
            calls.append(1)
            if len(calls) == call:
                raise KeyboardInterrupt
            return mean_result("gap", [-abs(len(h) - len(r)) for h, r in zip(hyps, refs)], "gap|v:1")
        return compute

    monkeypatch.setattr(registry, "REGISTRY", dict(registry.REGISTRY))   # (this test's metrics leave with it)
    data = f"mqm:{ted_subset(ted, tmp_path / 'mqm_small_zhen.tsv')}"
    for name, call, kept in (("firstgap", 1, False), ("secondgap", 2, True)):
        registry.register(MetricSpec(name, name.capitalize(), interrupted_at(call)))
        out = tmp_path / name
        code = main(["meta-eval", data, "-r", "refB", "-m", name, "--out", str(out)])
        last = capsys.readouterr().err.strip().splitlines()[-1]
        assert code == 130 and (out / "scores.json").is_file() == kept
        assert last == ("xling: interrupted" + (f" (finished work is kept in {out / 'scores.json'}; run again to "
                                                "resume)" if kept else "")), last


def test_excluded_systems_are_named_once_and_one_segment_is_singular(ted, tmp_path, capsys):
    """(audit round 28) `-x ref,ref` noted "left out by --exclude: ref, ref"; the notes said
    "on 1 segments"."""
    data = f"mqm:{ted_subset(ted, tmp_path / 'mqm_one_zhen.tsv', segments=1)}"
    assert main(["meta-eval", data, "-r", "refB", "-m", "bleu", "-x", "ref,ref", "--permutations", "20"]) == 0
    out = capsys.readouterr().out
    assert "left out by --exclude: ref\n" in out and " on 1 segment every system translated" in out
