"""Figures, transfer analysis and tokenizer efficiency: checked on the values drawn and on
hand-made run records."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from xling.errors import XlingError
from xling.reporting.figures import make_figures, run_drawings, run_figures, table_figure
from xling.reporting.paper import load_paper_table
from xling.reporting.tokens import efficiency, flores_documents, load_tokenizer
from xling.reporting.transfer import delta_table, language_scores, relative_table, score_x_to_y, transfer_tables
from xling.runs.folder import RunDir, RunHeader


def nli_run(path, accuracies: dict[str, list[int]], task="nli", note="", gen: dict[str, list[int]] | None = None,
            options: list[int] | None = None, **settings):
    """A hand-made NLI run: per language, 1/0 correctness of each item by log-likelihood
    (`accuracies`) and, where given, by generation (`gen`; `accuracies` None: generation only);
    `options`: each item's number of options (else 3), kept as a multiple-choice item's."""
    run = RunDir(path)
    settings = {"data": "xnli:test", "shots": 5} | settings
    langs = list(accuracies or gen or {})
    run.prepare(RunHeader(task, {"x": 1}, settings, langs,
                          model={"model": "hand", "revision": "0"}, data={"spec": settings["data"], "note": note}))
    metrics = {"directions": {}}
    for lang in langs:
        by_mode = {"ll": (accuracies or {}).get(lang), "gen": (gen or {}).get(lang)}
        n = len(next(c for c in by_mode.values() if c is not None))
        records = [{"id": f"test-{i}", "gold": 0} | ({"options": ["o"] * options[i]} if options else {})
                   for i in range(n)]
        entry: dict = {"n": n}
        for mode, correct in by_mode.items():
            if correct is None:
                continue
            for record, c in zip(records, correct):
                record |= {"ll_pred": 0 if c else 1, "ll_scores": [0] * len(record.get("options", "abc"))} \
                    if mode == "ll" \
                    else {"gen_pred": 0 if c else 1, "gen_answer": "x"}
            acc = float(np.mean(correct))
            entry[mode] = {"accuracy": acc, "ci_low": acc - 0.1, "ci_high": acc + 0.1, "n": n} \
                | ({"invalid_rate": 0.0} if mode == "gen" else {})
        run.write_outputs(lang, records)
        metrics["directions"][lang] = entry
    run.write_metrics(metrics)
    return run


def test_report_tables_are_drawn_with_the_printed_values(tmp_path):
    fig = table_figure("table13", [])
    drawn = fig.axes[0].images[0].get_array()
    paper = load_paper_table("table13")
    assert drawn.shape == (10, 7)
    assert drawn[9, 0] == pytest.approx(0.644) and drawn[9, 6] == pytest.approx(0.622)   # HCX-L ar, avg as printed
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert "0.622" in texts and paper.side["HCX-L"]["avg_as_printed"] == 0.622
    assert "0.23" in {t.get_text() for t in table_figure("table14", []).axes[0].texts}   # as printed
    bars = table_figure("table16", []).axes[0].patches
    assert sorted(round(b.get_height(), 4) for b in bars) == sorted(
        v for row in load_paper_table("table16").rows.values() for v in row.values())


def test_user_runs_become_extra_rows_with_intervals(tmp_path):
    run = nli_run(tmp_path / "mine", {"ar": [1, 0, 1, 1], "hi": [0, 0, 1, 0]})
    fig = table_figure("table13", [run])
    drawn = fig.axes[0].images[0].get_array()
    assert drawn.shape == (11, 7)
    assert drawn[10, 0] == pytest.approx(0.75) and drawn[10, 1] == pytest.approx(0.25)
    assert np.ma.is_masked(drawn[10, 2])                      # th: not in the run
    assert "0.750\n[0.65,0.85]" in {t.get_text() for t in fig.axes[0].texts}
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][-1] == "mine (yours)"


def test_a_run_with_none_of_a_tables_languages_is_said_not_drawn_as_an_empty_row(tmp_path, capsys):
    run = nli_run(tmp_path / "koen", {"ko": [1, 0], "en": [1, 1]})
    assert table_figure("table13", [run]).axes[0].images[0].get_array().shape == (10, 7)
    assert ("xling: note: koen (yours) has none of Table 13's languages (ar, hi, th, ur, vi, zh), "
            "so it is not drawn there (it has ko, en)") in capsys.readouterr().err


def test_only_runs_on_a_tables_protocol_are_drawn_beside_it(tmp_path, capsys):
    from xling.reporting.figures import table_drawing

    dev = nli_run(tmp_path / "dev0", {"ar": [1, 0]}, data="xnli:dev", shots=0)
    few = nli_run(tmp_path / "few", {"ar": [1, 0, 1, 1]}, limit=4)
    drawing = table_drawing("table13", [dev, few])
    labels = [t.get_text() for t in drawing.figure.axes[0].get_yticklabels()]
    assert labels[-1] == "few (yours, first 4 items)" and not any("dev0" in label for label in labels)
    # (audit round 19) a --limit-per-domain run was labelled as the whole test set
    per_domain = nli_run(tmp_path / "dom", {"ar": [1, 0, 1]}, limit_per_domain=1)
    labels = [t.get_text() for t in table_drawing("table13", [per_domain]).figure.axes[0].get_yticklabels()]
    assert labels[-1] == "dom (yours, first 1 per domain)"
    assert "dev0 is xnli:dev, 0-shot, so it is not drawn in Table 13 (xnli:test, 5-shot)" in capsys.readouterr().err
    # X-CSQA's third-party translations are said under the table the run is drawn in
    note = "X-CSQA: machine-translated here (third party)"
    xcsqa = nli_run(tmp_path / "xc", {"zh": [1, 0]}, task="multiple_choice", note=note, data="xcsqa:dev", shots=0)
    drawing = table_drawing("table14", [xcsqa])
    assert note in drawing.table.notes and drawing.figure.axes[0].get_yticklabels()[-1].get_text() == "xc (yours)"


def test_make_figures_writes_every_figure(tmp_path):
    run = nli_run(tmp_path / "mine", {"ko": [1, 0], "ko>th": [1, 1]})
    written = make_figures(tmp_path / "figs", [str(run.path)])
    names = {p.name for p in written}
    for stem in ("table13_xnli", "table14_xcsqa", "table15_xcomet", "table16_score_x_to_y",
                 "table01_tokens_per_doc", "figure2_language_ratio", "mine_accuracy_matrix"):
        assert {f"{stem}.png", f"{stem}.pdf"} <= names
    assert all(p.stat().st_size > 1000 for p in written)
    assert not list((tmp_path / "figs").glob(".*"))            # no temporary leftovers
    heat = run_figures(run)[0][1].axes[0].images[0].get_array()
    assert heat.tolist() == [[0.5, 1.0]]                        # premise ko x hypotheses ko, th
    # a run named twice is drawn once (its rows were doubled, its heatmap written twice)
    assert len(make_figures(tmp_path / "twice", [str(run.path), f"{run.path}/"])) == len(written)


def test_a_run_of_both_modes_draws_each_named_at_the_reports_decimals(tmp_path):
    """Round 16: a --mode both run drew its log-likelihood accuracy alone, unnamed, and the
    heatmaps' tables and labels gave 2 decimals (0.667 as 0.67) where the report gives 3."""
    run = nli_run(tmp_path / "both", {"en": [1, 1, 0]}, gen={"en": [1, 0, 0]})
    drawings = {d.stem: d for d in run_drawings(run)}
    assert list(drawings) == ["both_accuracy_matrix", "both_accuracy_matrix_gen"]
    ll, gen = drawings.values()
    assert "(log-likelihood)" in ll.title and "(generation)" in gen.title
    assert ll.table.rows == [["en", "0.667"]] and gen.table.rows == [["en", "0.333"]]
    assert [t.get_text() for t in ll.figure.axes[0].texts] == ["0.667"]


def test_figure_errors_are_clear(tmp_path):
    with pytest.raises(XlingError, match="not a run folder"):
        make_figures(tmp_path / "figs", [str(tmp_path)])
    run = RunDir(tmp_path / "odd")
    run.prepare({"task": "tune_something", "identity": {}, "directions": []})
    with pytest.raises(XlingError, match="figures take MT, NLI"):
        run_figures(run)
    assert not (tmp_path / "figs").exists()


def test_transfer_ratios_and_intervals(tmp_path):
    a = nli_run(tmp_path / "a", {"en": [1] * 8 + [0] * 2, "ko": [1] * 6 + [0] * 4, "th": [1] * 4 + [0] * 6})
    b = nli_run(tmp_path / "b", {"en": [1] * 8 + [0] * 2, "ko": [1] * 6 + [0] * 4, "th": [1] * 8 + [0] * 2})
    metric, scores = language_scores(a)
    rows = {r.lang: r for r in relative_table(scores)}
    assert metric == "accuracy"
    assert rows["th"].rel_targeted == pytest.approx(0.4 / 0.7) and rows["th"].rel_english == pytest.approx(0.5)
    assert rows["th"].script == "Thai" and not rows["th"].targeted and rows["ko"].targeted
    ratio = score_x_to_y(language_scores(b)[1], scores)
    assert ratio["th"] == pytest.approx(2.0) and ratio["en"] == pytest.approx(1.0)
    deltas = {r["cell"]: r for r in delta_table(a, b, n_samples=500)}
    assert deltas["en"]["delta"] == 0 and deltas["en"]["p_value"] == 1.0
    th = deltas["th"]
    assert th["delta"] == pytest.approx(0.4) and th["ci_low"] < 0.4 < th["ci_high"]
    assert th["ci_low"] > -0.1                       # 4 items flip from wrong to right, none back


def test_transfer_says_which_languages_only_one_run_has(tmp_path, capsys):
    """A five-language run against a three-language one gave a three-row table without a word."""
    a = nli_run(tmp_path / "a", {"en": [1, 0], "ko": [1, 1], "th": [0, 0]})
    b = nli_run(tmp_path / "b", {"en": [1, 1], "ko": [0, 1]})
    assert [r["cell"] for r in delta_table(a, b, n_samples=100)] == ["en", "ko"]
    assert f"xling: note: th: only in {tmp_path / 'a'}, left out of the comparison" in capsys.readouterr().err
    with pytest.raises(XlingError, match="share no language or direction"):
        delta_table(a, nli_run(tmp_path / "c", {"zh": [1, 0]}), n_samples=100)


def test_transfer_tells_apart_runs_whose_folders_share_a_name(tmp_path, capsys):
    """runs/modelA/xnli and runs/modelB/xnli were both "xnli": the comparison's columns read
    "xnli xnli" and the figure drew one bar group, the second run's values over the first's."""
    from xling.reporting.transfer import transfer_figure, transfer_tables

    a = nli_run(tmp_path / "modelA" / "xnli", {"en": [1, 1], "ko": [1, 0], "th": [0, 0]})
    b = nli_run(tmp_path / "modelB" / "xnli", {"en": [1, 1], "ko": [1, 1], "th": [1, 0]})
    tables = transfer_tables([str(a.path), str(b.path)])
    assert tables[-1].header[1:3] == ["modelA/xnli", "modelB/xnli"]
    assert tables[0].title.startswith("modelA/xnli: ") and tables[2].title.startswith("modelB/xnli: ")
    figure = transfer_figure([str(a.path), str(b.path)])
    assert sorted(t.get_text() for t in figure.axes[0].get_legend().get_texts()) == ["modelA/xnli", "modelB/xnli"]
    with pytest.raises(XlingError, match="is given twice"):
        transfer_tables([str(a.path), str(a.path)])
    # a run without ko or en has no bars: said, and a figure of nothing but such runs is refused
    c = nli_run(tmp_path / "c", {"th": [1, 0]})
    transfer_figure([str(a.path), str(c.path)])
    assert "xling: note: c has no bars: no targeted language (ko, en)" in capsys.readouterr().err
    with pytest.raises(XlingError, match="c: nothing to draw: no targeted language"):
        transfer_figure([str(c.path)])


def test_runs_compared_divide_by_the_targeted_languages_they_all_have(tmp_path, capsys):
    """Thai at 0.35 in both runs was 1.167 against 1.077 "÷ targeted": one run divided by the
    mean of ko and en, the other (without ko) by en alone, on one axis with no word."""
    from xling.reporting.transfer import transfer_figure, transfer_tables

    a = nli_run(tmp_path / "a", {"en": [1] * 3 + [0] * 7, "ko": [1] * 4 + [0] * 6, "th": [1] * 5 + [0] * 5})
    b = nli_run(tmp_path / "b", {"en": [1] * 3 + [0] * 7, "th": [1] * 5 + [0] * 5})
    tables = transfer_tables([str(a.path), str(b.path)])
    th = [next(row for row in table.rows if row[0] == "th") for table in (tables[0], tables[2])]
    assert th[0][6] == th[1][6] == f"{0.5 / 0.3:.3f}"
    assert "÷ targeted divides by en alone: ko is not in every run" in tables[0].notes
    transfer_figure([str(a.path), str(b.path)])
    assert "÷ targeted divides by en alone" in capsys.readouterr().err


def test_transfer_and_figures_never_compare_log_likelihood_with_generation(tmp_path, capsys):
    """Accuracy by log-likelihood and by generation are different measures: two runs are
    compared in a mode both scored, or refused; Tables 13/14 draw log-likelihood only."""
    from xling.reporting.transfer import transfer_tables

    right, wrong = [1] * 6 + [0] * 2, [1] * 2 + [0] * 6
    ll_only = nli_run(tmp_path / "ll", {"en": right, "th": right})
    both = nli_run(tmp_path / "both", {"en": right, "th": right}, gen={"en": wrong, "th": wrong})
    gen_only = nli_run(tmp_path / "gen", None, gen={"en": wrong, "th": wrong})
    assert {r["cell"]: r["delta"] for r in delta_table(ll_only, both, n_samples=100)} == {"en": 0, "th": 0}
    assert {r["cell"]: r["delta"] for r in delta_table(both, gen_only, n_samples=100)} == {"en": 0, "th": 0}
    with pytest.raises(XlingError, match="not comparable"):
        delta_table(ll_only, gen_only)
    from xling.reporting.report import choice_comparison_table
    from xling.runs.records import read_run

    table = choice_comparison_table([read_run(ll_only), read_run(gen_only)])
    assert not table.rows and "gen shares no cell and answer mode with ll (gen vs ll)" in table.notes[-1]
    titles = [t.title for t in transfer_tables([str(both.path), str(gen_only.path)])]
    assert all("(generation)" in t for t in titles[:2]) and "accuracy (generation)" in titles[-1]
    drawn = table_figure("table13", [gen_only, both]).axes[0].images[0].get_array()
    assert drawn.shape == (11, 7)                       # the paper's rows, and the run scored by ll
    assert "gen is scored by generation, so it is not drawn in Table 13" in capsys.readouterr().err
    # a record without its prediction is one clear error, not a KeyError
    lines = gen_only.outputs_path("th").read_text().splitlines()
    gen_only.outputs_path("th").write_text("\n".join(['{"id": "test-0", "gold": 0}'] + lines[1:]) + "\n")
    with pytest.raises(XlingError, match="lacks its gen_pred"):
        delta_table(both, gen_only)


def test_tokens_match_the_tokenizer_called_directly(data_dir):
    tokenizer = load_tokenizer("embedded")
    stats = efficiency(["embedded"], ["ko", "en"], root=data_dir)["embedded"]
    docs = flores_documents("ko", root=data_dir)
    assert stats["ko"].documents == len(docs) == 281 and stats["ko"].sentences == 1012
    direct = [len(tokenizer("\n".join(d), add_special_tokens=False)["input_ids"]) for d in docs]
    assert stats["ko"].tokens_per_doc == pytest.approx(np.mean(direct))
    # the total (and the cost relative to English) is the sentences' own: the newlines xling joins
    # them with are not the text's (731 per language pulled the ratio towards 1)
    own = [len(tokenizer(s, add_special_tokens=False)["input_ids"]) for d in docs for s in d]
    assert stats["ko"].tokens == sum(own) < sum(direct)
    assert stats["ko"].tokens / stats["ko"].sentences == pytest.approx(stats["ko"].tokens_per_sentence)
    # Gemma's real SentencePiece BPE, not a Unigram re-segmentation ("we", "ath", "er").
    assert tokenizer.tokenize("The weather is nice") == ["The", "▁weather", "▁is", "▁nice"]
    assert 3.5 < stats["en"].chars_per_token < 6
    # characters per token: the sentences' own, not the newlines joining them into documents
    sentences = [s for d in docs for s in d]
    assert stats["ko"].chars_per_token == pytest.approx(
        sum(map(len, sentences)) / sum(len(ids) for ids in tokenizer(sentences, add_special_tokens=False)["input_ids"]))


def test_table_1s_code_column_counts_whole_files_as_documents(tmp_path, data_dir):
    """Code has blank lines: a file was cut into one "document" per block (18 of 113 tokens
    where the file is one of 2,055), and "code" was refused as an unknown language."""
    tokenizer = load_tokenizer("embedded")
    source = tmp_path / "code"
    source.mkdir()
    texts = ["def f(x):\n    return x\n\n\ndef g(y):\n    return y\n", "import os\r\n\r\nprint(os.sep)\r\n"]
    for k, text in enumerate(texts):
        (source / f"m{k}.py").write_bytes(text.encode())
    stats = efficiency(["embedded"], ["code"], {"code": str(source)})["embedded"]["code"]
    # each file as it is: its last newline and CRLFs were dropped (one token per file short)
    direct = [len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
    assert stats.documents == 2 and stats.tokens == sum(direct)
    # (audit round 19) files under hidden folders (.git) were documents too, and a CRLF line's
    # \r counted in the per-sentence figures (the same code 25% more tokens per sentence)
    (source / ".git").mkdir()
    (source / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    (source / "m1.py").write_bytes(texts[1].replace("\r\n", "\n").encode())
    unix = efficiency(["embedded"], ["code"], {"code": str(source)})["embedded"]["code"]
    assert unix.documents == 2 and (unix.tokens_per_sentence, unix.chars_per_token) == \
        (stats.tokens_per_sentence, stats.chars_per_token)
    # a --file column named in -l or not (it was dropped without a word unless -l named it)
    for langs in (["--langs", "code"], ["--langs", "ko", "--data-dir", str(data_dir)]):
        result = subprocess.run([sys.executable, "-m", "xling.cli", "tokens", "embedded", *langs,
                                 "--file", f"code={source}", "--figure", str(tmp_path / "fig")], capture_output=True)
        assert result.returncode == 0, result.stderr
        assert "code 2" in result.stdout.decode()


def test_tokens_cli_with_a_tokenizer_built_here(tmp_path, tiny_causal_base, data_dir):
    result = subprocess.run([sys.executable, "-m", "xling.cli", "tokens", str(tiny_causal_base),
                             "embedded", "--langs", "ko,en", "--data-dir", str(data_dir), "-f", "csv"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Average tokens per document, FLORES-200 devtest" in result.stdout and "embedded" in result.stdout
    assert "the report's Table 1 counted 1,000 OSCAR documents" in result.stdout   # not the report's corpus
    import os
    missing = subprocess.run([sys.executable, "-m", "xling.cli", "tokens", "someorg/tok", "--data-dir",
                              str(data_dir)], capture_output=True, text=True,
                             env=dict(os.environ, HF_HUB_OFFLINE="1"))
    assert missing.returncode == 2 and "cannot be reached" in missing.stderr
    nolang = subprocess.run([sys.executable, "-m", "xling.cli", "tokens", "embedded", "--langs", "sw",
                             "--data-dir", str(data_dir)], capture_output=True, text=True)
    assert nolang.returncode == 2 and "no Swahili" in nolang.stderr


def test_relative_scores_follow_the_metric_direction():
    from xling.reporting.transfer import LanguageScore, relative_table

    ter = {"en": LanguageScore("en", 40.0), "ko": LanguageScore("ko", 60.0), "th": LanguageScore("th", 100.0)}
    rows = {r.lang: r for r in relative_table(ter, higher_is_better=False)}
    assert rows["th"].rel_targeted == pytest.approx(50.0 / 100.0)    # worse than targeted: < 1
    assert rows["th"].rel_english == pytest.approx(0.4)
    assert rows["en"].rel_targeted == pytest.approx(1.25)            # better than the mean: > 1
    assert score_x_to_y(ter, {"th": LanguageScore("th", 50.0)}, higher_is_better=False)["th"] == 0.5


def test_no_ratio_reads_backwards_and_a_group_keeps_its_perfect_languages():
    """GEMBA-MQM's penalties (<= 0): th at -10 against -2 read 5.000 (">1 = better"), a run twice
    as bad 2.000; an error rate's perfect 0 had no ratio and left its group's mean of ratios."""
    from xling.reporting.transfer import LanguageScore, grouped, relative, relative_table

    assert relative(-10.0, -2.0) is None and relative(-1.0, -2.0) is None and relative(3.0, 0.0) is None
    assert relative(0.0, 10.0, higher_is_better=False) is None and relative(5.0, 0.0, higher_is_better=False) is None
    offtarget = {"ko": LanguageScore("ko", 20.0), "en": LanguageScore("en", 0.0),
                 "de": LanguageScore("de", 0.0), "fr": LanguageScore("fr", 40.0)}
    rows = relative_table(offtarget, higher_is_better=False)
    (latin,) = [g for g in grouped(rows) if g[0] == "Latn"]
    assert latin == ("Latn", 20.0, pytest.approx(0.5), 2)      # anchor 10 / group mean 20, both languages


def test_drawing_leaves_a_notebooks_matplotlib_as_it_was(tmp_path):
    # a notebook's backend, rcParams and open figures are the user's: figures are drawn apart
    code = ("import matplotlib; matplotlib.use('svg'); import matplotlib.pyplot as plt\n"
            "before = (matplotlib.get_backend(), dict(matplotlib.rcParams), plt.get_fignums())\n"
            "from xling.reporting.plots import heatmap, render_figure\n"
            "fig = heatmap('t', ['a'], ['b'], [[1.0]], unit='x')\n"
            "assert fig.texts == [] and fig.axes[0].title.get_size() == 10   # drawn in xling's style\n"
            "assert set(render_figure(fig)) == {'png', 'pdf'}\n"
            "after = (matplotlib.get_backend(), dict(matplotlib.rcParams), plt.get_fignums())\n"
            "assert after == before, [k for k in before[1] if before[1][k] != after[1][k]]\n"
            "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.stdout.strip() == "ok", result.stderr[-2000:]


def mt_run(path, data: str, shots: int, xcomet: list[float], direction="en-ko", metric="xcomet", note="",
           template: tuple[str, str] | None = None):
    """A hand-made MT run with xCOMET (or another model metric's) segment scores for one direction
    (`note`: its data's; `template`: the prompt's name and hash, as an MT run keeps them)."""
    run = RunDir(path)
    run.prepare(RunHeader("mt", {"x": 1}, {"data": data, "shots": shots}, [direction],
                          model={"model": "hand", "revision": "0"}, data={"spec": data, "note": note},
                          details={"template": {"name": template[0], "hash": template[1]}} if template else {}))
    digest = run.write_outputs(direction, [{"id": str(i), "source": "s", "output": "o", "reference": "r"}
                                           for i in range(len(xcomet))])
    run.write_metrics({"directions": {direction: {"n": len(xcomet), "outputs_sha256": digest, "metrics": {
        metric: {"name": metric, "score": float(np.mean(xcomet)), "segments": xcomet, "signature": "hand"}}}}})
    return run


def test_table15_draws_only_flores_devtest_one_shot_runs(tmp_path, capsys):
    from xling.reporting.figures import table_drawing

    ntrex = mt_run(tmp_path / "ntrex", "ntrex128", 0, [0.9, 0.8])
    zero = mt_run(tmp_path / "zero", "flores200:devtest", 0, [0.9, 0.8])
    mine = mt_run(tmp_path / "mine", "flores200:devtest", 1, [0.7, 0.9])
    labels = [t.get_text() for t in table_drawing("table15", [ntrex, zero, mine]).figure.axes[0].get_yticklabels()]
    assert labels[-1] == "mine (yours)" and not any(name in " ".join(labels) for name in ("ntrex", "zero"))
    err = capsys.readouterr().err
    assert "ntrex is ntrex128, 0-shot, so it is not drawn in Table 15 (flores200:devtest, 1-shot)" in err
    assert "zero is flores200:devtest, 0-shot" in err


def test_table15_draws_no_run_that_chose_among_candidates_and_says_what_a_row_lacks(tmp_path, capsys):
    """An MBR run choosing by xCOMET (then scored by it) was drawn as a 1-shot run (94.1 beside
    the report's rows); a run of 2 of the 6 directions, or with one outside the table, said nothing."""
    from xling.reporting.figures import table_drawing

    mbr = mt_run(tmp_path / "mbr", "flores200:devtest", 1, [0.95, 0.93])
    config = json.loads((mbr.path / "config.json").read_text(encoding="utf-8"))
    config["settings"].update(select="mbr", utility="xcomet", candidates=8)
    (mbr.path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    partial = mt_run(tmp_path / "partial", "flores200:devtest", 1, [0.8, 0.9])
    outside = mt_run(tmp_path / "outside", "flores200:devtest", 1, [0.8, 0.9], direction="en-ja")
    drawing = table_drawing("table15", [mbr, partial, outside])
    labels = [t.get_text() for t in drawing.figure.axes[0].get_yticklabels()]
    assert labels[-1] == "partial (yours)" and not any("mbr" in label for label in labels)
    assert "mbr chose each translation among candidates (mbr, xcomet)" in capsys.readouterr().err
    assert any(n.startswith("partial (yours): no ko-en, ") and n.endswith("(blank)") for n in drawing.table.notes)


def test_a_stopped_runs_row_says_not_finished(tmp_path, capsys):
    """(audit round 20) a run stopped after ko-en read "no en-ko (blank)", as a run that never asked for it."""
    from xling.reporting.figures import table_drawing

    stopped = mt_run(tmp_path / "stopped", "flores200:devtest", 1, [0.8, 0.9], direction="ko-en")
    config = json.loads((stopped.path / "config.json").read_text(encoding="utf-8"))
    config["directions"] = ["ko-en", "en-ko"]
    (stopped.path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    drawing = table_drawing("table15", [stopped])
    labels = [t.get_text() for t in drawing.figure.axes[0].get_yticklabels()]
    assert labels[-1] == "stopped (yours, not finished)"
    note = next(n for n in drawing.table.notes if n.startswith("stopped (yours, not finished): "))
    assert "not finished: en-ko (blank)" in note and "no ja-ko" in note and "no en-ko" not in note


def test_table15_never_draws_one_row_from_two_xcomet_checkpoints(tmp_path, capsys):
    """An interrupted `rescore --xcomet-model B` left B's scores on some directions: the row mixed
    checkpoints several points apart without a word (transfer refused it); nor was the checkpoint named."""
    from xling.reporting.figures import table_drawing

    def run_of(path, models):
        run = RunDir(path)
        directions = list(models)
        run.prepare(RunHeader("mt", {"x": 1}, {"data": "flores200:devtest", "shots": 1}, directions,
                              model={"model": "hand", "revision": "0"}, data={"spec": "flores200:devtest"}))
        entries = {}
        for direction, model in models.items():
            digest = run.write_outputs(direction, [{"id": "0", "source": "s", "output": "o", "reference": "r"}])
            entries[direction] = {"n": 1, "outputs_sha256": digest, "metrics": {"xcomet": {
                "name": "xcomet", "score": 0.8, "segments": [0.8], "signature": "hand", "made_with": {"model": model}}}}
        run.write_metrics({"directions": entries})
        return run

    mixed = run_of(tmp_path / "mixed", {"ko-en": "Unbabel/XCOMET-XL", "ko-zh": "Unbabel/XCOMET-XXL"})
    alike = run_of(tmp_path / "alike", {"ko-en": "Unbabel/XCOMET-XL", "ko-zh": "Unbabel/XCOMET-XL"})
    drawing = table_drawing("table15", [mixed, alike])
    labels = [t.get_text() for t in drawing.figure.axes[0].get_yticklabels()]
    assert labels[-1] == "alike (yours)" and not any("mixed" in label for label in labels)
    assert "xcomet scores were made with different model (ko-en; ko-zh), so it is not drawn in Table 15" \
        in capsys.readouterr().err
    assert "alike (yours): xCOMET Unbabel/XCOMET-XL" in drawing.table.notes


def sweep_run(path, panel: str, identity: dict | None = None, score: float = 0.2):
    run = RunDir(path)
    seed = (identity or {}).get("seeds", [0])[0]
    run.prepare(RunHeader("tune_ratio", identity or {"x": 1}, {}, [f"ratio-0_seed-{seed}"],
                          model={"model": "hand", "revision": "0"}))
    run.write_metrics({"directions": {f"ratio-0_seed-{seed}": {"ratio": 0.0, "seed": seed}},
                       "figure2": {panel: {"ylabel": "Rouge-L", "ko": [[0.0, score]], "en": [[0.0, 0.4]]}}})
    return run


def test_figure2_averages_only_repeats_of_one_experiment_and_names_each_points_run(tmp_path):
    """Sweeps of two models (or training settings) were pooled into one line and one table."""
    from xling.reporting.figures import figure2_drawing

    panel = "train OpenOrca, test OpenOrca"
    one = sweep_run(tmp_path / "one", panel, {"model": "a", "epochs": 1, "seeds": [0]})
    again = sweep_run(tmp_path / "again", panel, {"model": "a", "epochs": 1, "seeds": [1]}, score=0.3)
    other = sweep_run(tmp_path / "other", panel, {"model": "a", "epochs": 6, "seeds": [0]})
    rows = figure2_drawing([one, again]).table.rows
    assert [r[-1] for r in rows if r[1] == "Korean"] == ["again", "one"] and len(rows) == 4
    with pytest.raises(XlingError, match="differ in epochs: their points would be averaged"):
        figure2_drawing([one, other])
    # round 16: one unit (share, seed) of one experiment in two folders weighed double
    copy = sweep_run(tmp_path / "copy", panel, {"model": "a", "epochs": 1, "seeds": [0]})
    with pytest.raises(XlingError, match="both hold share 0, seed 0 of one experiment .* it would count twice"):
        figure2_drawing([one, again, copy])


def test_figure2_keeps_the_reports_panel_letters_whatever_the_run_order(tmp_path):
    from xling.reporting.figures import figure2_drawing

    mine = sweep_run(tmp_path / "mine", "train Mine, test Mine")
    orca = sweep_run(tmp_path / "orca", "train OpenOrca, test OpenOrca")
    titles = [ax.get_title() for ax in figure2_drawing([mine, orca]).figure.axes if ax.get_title()]
    # the report's pairing keeps its letter; another takes a panel no run of the report's fills
    assert titles[0] == "(a) train OpenOrca, test OpenOrca" and titles[1] == "(b) train Mine, test Mine"


def test_transfer_gives_mt_languages_an_interval(tmp_path):
    from xling.metrics.base import mean_result
    from xling.metrics.significance import bootstrap_ci

    segments = [0.9, 0.2, 0.7, 0.4, 0.8, 0.6]
    metric, scores = language_scores(mt_run(tmp_path / "mt", "flores200:devtest", 1, segments), "xcomet")
    _, low, high = bootstrap_ci(mean_result("xCOMET", segments, ""), 1000, 12345)
    assert metric == "xcomet" and scores["ko"].score == pytest.approx(np.mean(segments))
    assert (scores["ko"].ci_low, scores["ko"].ci_high) == pytest.approx((low, high))


def test_transfer_of_a_crossed_only_run_says_why_it_has_no_rows(tmp_path):
    from xling.reporting.transfer import transfer_tables

    run = nli_run(tmp_path / "cross", {"ko>th": [1, 0], "en>th": [1, 1]})
    notes = " ".join(n for t in transfer_tables([str(run.path)]) for n in t.notes)
    assert "crossed cells (premise > hypothesis language) are left out here" in notes
    assert "no targeted language" not in notes


def test_text_report_tests_nli_runs_against_the_first(tmp_path):
    from xling.reporting.html_choice import mcnemar_exact
    from xling.reporting.report import build_report

    a = nli_run(tmp_path / "a", {"th": [0] * 8 + [1] * 2})
    b = nli_run(tmp_path / "b", {"th": [1] * 9 + [0]})
    table = build_report([str(a.path), str(b.path)])[-1]
    assert table.title == "runs compared with a"
    assert table.rows == [["th", "ll", "b", "0.200", "0.900", "+0.700", f"p={mcnemar_exact(1, 8):.4f} better*"]]


def test_cells_and_modes_one_nli_run_lacks_are_said_not_dropped(tmp_path):
    """The baseline's gen rows and the later run's extra language were left out of the comparison
    without a word (the table looked complete)."""
    from xling.reporting.report import build_report

    a = nli_run(tmp_path / "a", {"th": [1, 0, 1, 0]}, gen={"th": [1, 1, 0, 0]})
    b = nli_run(tmp_path / "b", {"th": [1, 1, 1, 0], "zh": [1, 0, 0, 0]})
    table = build_report([str(a.path), str(b.path)])[-1]
    assert [row[:3] for row in table.rows] == [["th", "ll", "b"]]
    assert "not compared: th (gen), which b did not score" in table.notes
    assert "not compared: zh (ll) of b, which a (the baseline) did not score; put a run that did first" in table.notes


def test_a_run_lacking_a_direction_or_metric_hides_no_other_runs_test(tmp_path):
    from xling.reporting.report import build_report

    a = mt_run(tmp_path / "a", "flores200:devtest", 1, [0.5, 0.6, 0.7, 0.4])
    b = mt_run(tmp_path / "b", "flores200:devtest", 1, [0.9, 0.8, 0.9, 0.7])
    other_direction = mt_run(tmp_path / "k", "flores200:devtest", 1, [0.5, 0.5, 0.5, 0.5], direction="ko-en")
    other_metric = mt_run(tmp_path / "c", "flores200:devtest", 1, [0.5, 0.5, 0.5, 0.5], metric="comet")
    tables = build_report([str(r.path) for r in (a, b, other_direction, other_metric)])
    compared = next(t for t in tables if t.title == "xCOMET: runs compared")
    (row,) = compared.rows
    assert row[0] == "en-ko" and row[2].startswith("0.8250 (+0.2750, p=") and row[3:] == ["—", "—"]
    assert "—: k has no xCOMET score for en-ko" in compared.notes
    assert "—: c has no xCOMET score for en-ko" in compared.notes
    # k's ko-en has no baseline to be tested against: said, not silently left out
    assert "not compared: ko-en, which a (the baseline) did not score with xCOMET; put a run that did first" \
        in compared.notes
    # (audit round 19) with two runs, what only the baseline has was left out without a word
    (alone,) = [t for t in build_report([str(a.path), str(other_direction.path)]) if t.title == "xCOMET: runs compared"]
    assert alone.notes[0].startswith("not compared: no run but a (the baseline) has a xCOMET score")
    (alone,) = [t for t in build_report([str(a.path), str(other_metric.path)]) if t.title == "xCOMET: runs compared"]
    assert alone.notes[0].startswith("not compared: no run but a (the baseline) has a xCOMET score")


def test_runs_with_one_folder_name_are_told_apart(tmp_path):
    from xling.reporting.report import build_report

    first = mt_run(tmp_path / "runs" / "A", "flores200:devtest", 1, [0.5, 0.6])
    second = mt_run(tmp_path / "other" / "A", "flores200:devtest", 1, [0.9, 0.8])
    compared = next(t for t in build_report([str(first.path), str(second.path)]) if t.title.endswith("runs compared"))
    assert compared.header == ["direction", "runs/A", "other/A"]
    written = make_figures(tmp_path / "figs", [str(first.path), str(second.path)])
    stems = {p.stem for p in written if p.suffix == ".png" and "matrix" in p.stem}
    assert stems == {"runs_A_xcomet_matrix", "other_A_xcomet_matrix"}


def test_a_judged_sweep_shows_its_preferences_and_unreadable_verdicts(tmp_path):
    """A `metric: judge` sweep printed Rouge-L only, and an empty Score(X->Y) with no reason."""
    import math

    from xling.reporting.report import tune_table
    from xling.runs.records import read_run

    run = RunDir(tmp_path / "judged")
    run.prepare(RunHeader("tune_ratio", {"x": 1}, {}, ["ratio-0_seed-0"], model={"model": "hand", "revision": "0"}))
    unit = {"ratio": 0.0, "seed": 0, "rougeL_ko": 0.1, "rougeL_en": 0.2, "losses": [1.0, 0.5],
            "preference_ko": math.nan, "unparseable_ko": 12, "preference_en": 0.5, "unparseable_en": 0}
    run.write_metrics({"directions": {"ratio-0_seed-0": unit}, "score_x_to_y": {}, "figure2": {}})
    table = tune_table(read_run(run))
    assert table.header[4:7] == ["preference ko", "preference en", "unreadable verdicts"]
    assert table.rows[0][4:7] == ["n/a", "0.500", "12"]
    assert table.notes[0].startswith("Score(X->Y): none (a setting needs")


def test_the_figures_page_keeps_the_printed_side_columns_of_tables_1_and_16():
    from xling.reporting.figures import table_drawing

    assert table_drawing("table01", []).table.header[-2:] == ["vocab_size (printed)", "average (printed)"]
    table16 = table_drawing("table16", []).table
    assert table16.header[-1] == "avg (printed)" and table16.rows[0][-1] == "0.1958"


def test_transfer_refuses_a_language_mean_over_directions_scored_unlike(tmp_path):
    """Audit round 10: an interrupted `rescore --comet-model B` left B's COMET on one direction and
    the old model's on another, and transfer averaged them into one score; a direction whose score
    was dropped (outputs edited) was left out of its language's mean silently."""
    from xling.errors import XlingError

    run = RunDir(tmp_path / "mt")
    run.prepare(RunHeader("mt", {"x": 1}, {"data": "flores200:devtest"}, ["en-ko", "ja-ko"],
                          model={"model": "hand", "revision": "0"}, data={"spec": "flores200:devtest"}))
    entries = {}
    for direction, model in (("en-ko", "comet-a"), ("ja-ko", "comet-b")):
        digest = run.write_outputs(direction, [{"id": "0", "source": "s", "output": "o", "reference": "r"}])
        entries[direction] = {"n": 1, "outputs_sha256": digest, "metrics": {"comet": {
            "name": "COMET", "score": 0.5, "segments": [0.5], "signature": model,
            "made_with": {"comet_model": model}}}}
    run.write_metrics({"directions": entries})
    with pytest.raises(XlingError, match=r"made with different comet_model \(en-ko; ja-ko\).*--recompute"):
        language_scores(run, "comet")
    entries["ja-ko"]["metrics"] = {}
    run.write_metrics({"directions": entries})
    with pytest.raises(XlingError, match=r"no comet score for ja-ko .*xling rescore"):
        language_scores(run, "comet")
    # a key only one score holds (stored by an older xling) is no difference, as on resume
    entries["ja-ko"]["metrics"] = {"comet": dict(entries["en-ko"]["metrics"]["comet"],
                                                 made_with={"comet_model": "comet-a", "precision": "fp32"})}
    run.write_metrics({"directions": entries})
    assert language_scores(run, "comet")[1]["ko"].n == 2
    # but the rules a score was read by count when one side has none (an interrupted rescore)
    entries["ja-ko"]["metrics"]["comet"]["made_with"] = {"comet_model": "comet-a", "rules": "parser2"}
    run.write_metrics({"directions": entries})
    with pytest.raises(XlingError, match=r"made with different rules"):
        language_scores(run, "comet")


def test_transfer_figures_go_to_an_existing_folder_outside_the_runs(tmp_path, capsys):
    """Audit round 10: transfer --figure made missing folders and drew into a run folder."""
    from helpers import assert_error, run_cli

    run = mt_run(tmp_path / "mt", "flores200:devtest", 1, [0.9, 0.2, 0.7])
    code, _, err = run_cli(capsys, "transfer", run.path, "-m", "xcomet", "--figure", tmp_path / "missing" / "x")
    assert_error(code, err, "does not exist")
    assert not (tmp_path / "missing").exists()
    code, _, err = run_cli(capsys, "transfer", run.path, "-m", "xcomet", "--figure", run.path / "metrics")
    assert_error(code, err, str(run.path))
    assert not list(run.path.glob("metrics.p*"))


def test_a_figure_named_with_a_dot_keeps_its_name_and_never_replaces_an_input(tmp_path, tiny_causal_base):
    """Path.with_suffix cut "notes.v1" to "notes": the check looked at notes.v1.png while the
    writer replaced notes.png, here the input text itself (and two runs "qwen2.5"/"qwen2.0"
    drew into one file)."""
    from xling.reporting.plots import figure_file

    assert figure_file("figs/qwen2.5-7b_bleu_matrix", "png") == Path("figs/qwen2.5-7b_bleu_matrix.png")
    assert figure_file("figs/fig.pdf", "png") == Path("figs/fig.png")
    notes = tmp_path / "notes.png"
    notes.write_text("Some English text here.\n\nAnother document.\n", encoding="utf-8")
    run = lambda stem: subprocess.run([sys.executable, "-m", "xling.cli", "tokens", str(tiny_causal_base), "-l", "en",   # noqa: E731
                                       "--file", f"en={notes}", "--figure", str(stem)], capture_output=True, text=True)
    refused = run(tmp_path / "notes")
    assert refused.returncode == 2 and "input" in refused.stderr
    drawn = run(tmp_path / "notes.v1")
    assert drawn.returncode == 0, drawn.stderr
    assert (tmp_path / "notes.v1.png").is_file() and (tmp_path / "notes.v1.pdf").is_file()
    assert notes.read_text(encoding="utf-8").startswith("Some English text")


def test_mt_runs_compared_average_the_directions_they_all_have(tmp_path, capsys):
    """Identical outputs gave Thai 0.357 and 0.454: one run averaged en-th and ko-th, the other
    had ko-th alone."""
    from xling.reporting.transfer import transfer_tables

    def run_of(path, scores: dict[str, list[float]]):
        run = RunDir(path)
        run.prepare(RunHeader("mt", {"x": 1}, {"data": "flores200:devtest", "shots": 0}, list(scores),
                              model={"model": "hand", "revision": "0"}, data={"spec": "flores200:devtest"}))
        entries = {}
        for direction, segments in scores.items():
            digest = run.write_outputs(direction, [{"id": str(i), "source": "s", "output": "o", "reference": "r"}
                                                   for i in range(len(segments))])
            entries[direction] = {"n": len(segments), "outputs_sha256": digest, "metrics": {"xcomet": {
                "name": "xcomet", "score": float(np.mean(segments)), "segments": segments, "signature": "hand"}}}
        run.write_metrics({"directions": entries})
        return run

    shared = {"en-ko": [0.9, 0.8], "ko-en": [0.8, 0.8], "ko-th": [0.5, 0.4]}
    a = run_of(tmp_path / "a", {**shared, "en-th": [0.2, 0.3]})
    b = run_of(tmp_path / "b", shared)
    tables = transfer_tables([str(a.path), str(b.path)], "xcomet")
    th = [next(row for row in table.rows if row[0] == "th") for table in (tables[0], tables[2])]
    assert th[0][4] == th[1][4] == "0.450"
    assert any(note.startswith("en-th: not in every run") for note in tables[0].notes)


def test_figures_of_a_run_with_nothing_finished_is_refused_and_a_partial_one_said(tmp_path, capsys):
    """figures drew an empty 0x0 heatmap (exit 0) for a run with nothing finished, and a partial
    run without a word, where report refuses / warns."""
    run = RunDir(tmp_path / "empty")
    run.prepare(RunHeader("nli", {"x": 1}, {"data": "xnli:test", "shots": 5}, ["th"],
                          model={"model": "hand", "revision": "0"}, data={"spec": "xnli:test"}))
    with pytest.raises(XlingError, match="has no finished outputs yet"):
        make_figures(tmp_path / "figs", [str(run.path)])
    assert not (tmp_path / "figs").exists()
    partial = nli_run(tmp_path / "partial", {"zh": [1, 0]})
    config = json.loads((partial.path / "config.json").read_text())
    (partial.path / "config.json").write_text(json.dumps(dict(config, directions=["zh", "th"])))
    make_figures(tmp_path / "figs", [str(partial.path)])
    assert "has finished 1 of its 2 directions" in capsys.readouterr().err
    # (audit round 19) and its heatmap said nothing of it: drawn as if the run were whole
    from xling.reporting.figures import run_drawings
    (drawing,) = run_drawings(partial)
    assert drawing.title.endswith("(not finished: th)") and any("not finished: th" in n for n in drawing.table.notes)


def test_one_language_on_other_items_leaves_only_itself_out_of_the_comparison(tmp_path, capsys):
    """One language run with another --limit refused the whole transfer analysis."""
    a = nli_run(tmp_path / "a", {"en": [1, 0, 1, 1], "th": [1, 0, 0, 1]})
    b = nli_run(tmp_path / "b", {"en": [1, 1, 1, 1], "th": [1, 0]})
    assert [r["cell"] for r in delta_table(a, b, n_samples=100)] == ["en"]
    assert "left out of the comparison: " in capsys.readouterr().err
    with pytest.raises(XlingError, match="scored different segments for th"):
        delta_table(nli_run(tmp_path / "c", {"th": [1, 0, 0, 1]}), nli_run(tmp_path / "d", {"th": [1, 0]}),
                    n_samples=100)
    # (audit round 19) with no cell paired, `transfer` printed nothing, not even each run's tables
    tables = transfer_tables([str(tmp_path / "c"), str(tmp_path / "d")])
    assert [t.title.split(":")[0] for t in tables][:4] == ["c", "c", "d", "d"]
    assert tables[-1].title.endswith("not compared") and "scored different segments for th" in tables[-1].rows[0][0]
    assert "xling: warning: the two runs are not compared" in capsys.readouterr().err
    # runs of two tasks are still refused (the review: they were tabled as one measure, exit 0)
    with pytest.raises(XlingError, match="different tasks|scored by its accuracy|is a 'mt' run|takes"):
        transfer_tables([str(tmp_path / "c"), str(mt_run(tmp_path / "mt", "flores200:devtest", 1, [0.5]).path)])
    # and the p of a comparison of accuracies is not said to be sacrebleu's
    (compared,) = [t for t in transfer_tables([str(tmp_path / "a"), str(tmp_path / "b")]) if "−" in t.title]
    assert any("exact McNemar test" in note for note in compared.notes)
    assert not any("sacrebleu" in note for note in compared.notes)


def mt_directions(path, scores: dict[str, list[float]], metric="xcomet", made: dict | None = None,
                  signature="hand", shots=1):
    """A hand-made FLORES devtest MT run of several directions (segment scores of `metric` each;
    `made`: a direction's made_with)."""
    run = RunDir(path)
    run.prepare(RunHeader("mt", {"x": 1}, {"data": "flores200:devtest", "shots": shots}, list(scores),
                          model={"model": "hand", "revision": "0"}, data={"spec": "flores200:devtest"}))
    entries = {}
    for direction, segments in scores.items():
        digest = run.write_outputs(direction, [{"id": str(i), "source": f"s{i}", "output": "o", "reference": f"r{i}"}
                                               for i in range(len(segments))])
        scored = [s for s in segments if s is not None]   # (a judge's unreadable answers: None)
        entry = {"name": metric, "score": float(np.mean(scored)), "segments": segments, "signature": signature}
        entries[direction] = {"n": len(segments), "outputs_sha256": digest, "metrics": {
            metric: entry | ({"made_with": made[direction]} if made and direction in made else {})}}
    run.write_metrics({"directions": entries})
    return run


def test_transfer_says_what_its_ratios_divide_by_and_average(tmp_path):
    """(audit round 21) A run without en divided "÷ targeted" by ko alone under a title naming
    (ko, en); a language's MT score averaged two directions unsaid; two runs' script groups
    averaged ar+ur in one beside ar alone in the other, reading equal where B was twice A on ar."""
    from xling.reporting.transfer import transfer_tables

    (table, _groups) = transfer_tables([str(nli_run(tmp_path / "noen", {"ko": [1, 1, 1, 0], "ar": [1, 0, 0, 0]}).path)])
    assert "relative to the targeted languages (ko) and to English" in table.title
    assert "÷ targeted divides by ko alone: en is not in this run" in table.notes
    assert "÷ English is blank: this run has no en" in table.notes
    mt = mt_directions(tmp_path / "mt", {"en-ko": [0.6, 0.6], "ja-ko": [0.7, 0.7], "ko-en": [0.8, 0.9],
                                         "ko-ja": [0.5, 0.5]})
    notes = transfer_tables([str(mt.path)])[0].notes
    assert "an MT language's score is the mean over the directions into it: ko 2, en 1, ja 1" in notes
    a = nli_run(tmp_path / "a", {"en": [1, 1, 0, 0], "ko": [1, 1, 0, 0], "ar": [1, 0, 0, 0]})
    b = nli_run(tmp_path / "b", {"en": [1, 1, 0, 0], "ko": [1, 1, 0, 0], "ar": [1, 1, 0, 0], "ur": [0, 0, 0, 0]})
    tables = transfer_tables([str(a.path), str(b.path)])
    groups = {t.title.split(":")[0]: t.rows for t in tables if "by script" in t.title}
    assert groups["a"] == [["Arab", "0.250", "0.500", "1", ""]] and groups["b"] == [["Arab", "0.500", "1.000", "1", ""]]
    assert any(n.startswith("ur: not in every run, left out of the groups") for n in tables[0].notes)


def test_transfer_figure_of_a_lower_is_better_metric_says_its_ratio_is_inverted(tmp_path):
    """(audit round 21) MetricX's inverted ratios (anchor ÷ score) were drawn under
    "score ÷ mean targeted-language score", read backwards; the metric was not named."""
    from xling.reporting.transfer import transfer_figure

    run = mt_directions(tmp_path / "mx", {"en-ko": [0.9, 0.7], "ko-en": [0.95, 0.75], "en-ja": [0.5, 0.5]},
                        metric="metricx")
    axes = transfer_figure([str(run.path)], "metricx").axes[0]
    assert axes.get_ylabel() == "mean targeted-language score ÷ score (lower metricx is better)"
    assert axes.get_title().startswith("metricx relative to the targeted languages")
    bars = {t.get_text(): None for t in axes.get_xticklabels()}
    assert list(bars) == ["ko", "en", "ja"]
    assert max(p.get_height() for p in axes.patches) == pytest.approx(0.825 / 0.5)


def test_two_mt_runs_scored_by_other_checkpoints_keep_their_own_tables(tmp_path, capsys):
    from xling.reporting.transfer import transfer_tables

    a = mt_directions(tmp_path / "a", {"en-ko": [0.9, 0.8], "ko-en": [0.7, 0.6]}, signature="XL")
    b = mt_directions(tmp_path / "b", {"en-ko": [0.9, 0.7], "ko-en": [0.7, 0.5]}, signature="XXL")
    tables = transfer_tables([str(a.path), str(b.path)], "xcomet")
    assert [t.title.split(":")[0] for t in tables][:4] == ["a", "a", "b", "b"]
    assert tables[-1].title.endswith("not compared") and "computed the same way" in tables[-1].rows[0][0]


def test_figures_say_a_direction_without_xcomet_and_a_heatmap_of_two_checkpoints(tmp_path, capsys):
    """(audit round 21) Table 15 called a direction translated but not scored by xCOMET "no ko-en";
    a run's heatmap drew two checkpoints' scores on one scale unsaid (Table 15 refuses it)."""
    from xling.reporting.figures import run_drawings, table_drawing

    run = mt_directions(tmp_path / "part", {"en-ko": [0.9, 0.8], "ko-en": [0.7, 0.6]})
    metrics = json.loads((run.path / "metrics.json").read_text(encoding="utf-8"))
    metrics["directions"]["ko-en"]["metrics"] = {"chrf": {"name": "chrf", "score": 50.0, "signature": "c"}}
    (run.path / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    notes = table_drawing("table15", [run]).table.notes
    (note,) = [n for n in notes if n.startswith("part (yours)")]
    assert "ko-en translated, without xCOMET segment scores (blank; `xling rescore <run> -m xcomet --recompute`" in note
    assert "no ko-en" not in note and "no ja-ko" in note
    mixed = mt_directions(tmp_path / "mixed", {"en-ko": [0.9, 0.8], "ko-en": [0.7, 0.6]},
                          made={"en-ko": {"model": "Unbabel/XCOMET-XL"}, "ko-en": {"model": "Unbabel/XCOMET-XXL"}})
    (drawing,) = run_drawings(mixed)
    assert drawing.title.endswith("(its xcomet scores were made with different model (en-ko; ko-en): not comparable)")


def test_figure2_panels_match_regardless_of_case_and_a_fifth_is_said(tmp_path, capsys):
    """(audit round 21) Two models' sweeps whose panel names differed in case were averaged into
    one line; a fifth pairing, with every panel taken, was dropped without a word."""
    from xling.reporting.figures import figure2_drawing

    one = sweep_run(tmp_path / "one", "train OpenOrca, test OpenOrca", {"model": "a", "epochs": 1, "seeds": [0]})
    two = sweep_run(tmp_path / "two", "train openorca,  test openorca", {"model": "b", "epochs": 3, "seeds": [0]})
    with pytest.raises(XlingError, match="differ in epochs, model: their points would be averaged"):
        figure2_drawing([one, two])
    runs = [one] + [sweep_run(tmp_path / name, panel) for name, panel in (
        ("b", "train Mine, test Mine"), ("c", "train Other, test Other"), ("d", "train Third, test Third"),
        ("e", "train Fourth, test Fourth"))]
    table = figure2_drawing(runs).table
    assert f"not drawn: {tmp_path / 'e'} ('train Fourth, test Fourth'): no free panel" in " ".join(table.notes)
    assert "no free panel (Figure 2 has four)" in capsys.readouterr().err
    # (review) an older sweep whose test_name named the other data set tested on its own held-out
    # pairs: drawn in-domain, said, never in the report's cross-dataset panel
    lima = sweep_run(tmp_path / "lima", "train LIMA, test OpenOrca", {"test_name": "OpenOrca", "seeds": [0]})
    again = sweep_run(tmp_path / "again", "train LIMA, test LIMA", {"seeds": [1]})   # (made since: no test_name)
    rows = figure2_drawing([lima, again]).table.rows
    assert {row[0] for row in rows} == {"(d) train LIMA, test LIMA"} and len(rows) == 4
    assert "is drawn as 'train LIMA, test LIMA', not 'train LIMA, test OpenOrca'" in capsys.readouterr().err


def english_only_tokenizer(folder, with_unknown: bool):
    """A whitespace tokenizer that knows only English letters: WordPiece with an unknown token
    ([UNK] for whatever else), or BPE without one (the rest is dropped)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    words = ["the cat sleeps by the window", "it is raining today", "we go to the market tomorrow"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]") if with_unknown else models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(words, trainers.WordPieceTrainer(vocab_size=200, special_tokens=["[UNK]"])
                            if with_unknown else trainers.BpeTrainer(vocab_size=200))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, **({"unk_token": "[UNK]"} if with_unknown else {}))
    fast.save_pretrained(folder)
    return str(folder)


def test_tokens_mark_a_tokenizer_that_cannot_write_the_text(tmp_path, data_dir, capsys):
    """(audit round 21) A tokenizer that maps a script to [UNK], or drops it, looked the most
    efficient on it (Thai at 0.15x English, 61% [UNK]); one that gave no token at all for a
    language was a ZeroDivisionError."""
    from helpers import run_cli

    wordpiece = english_only_tokenizer(tmp_path / "wp", with_unknown=True)
    dropping = english_only_tokenizer(tmp_path / "drop", with_unknown=False)
    code, out, err = run_cli(capsys, "tokens", wordpiece, "embedded", "-l", "ko,en", "--data-dir", data_dir,
                             "-f", "csv")
    assert code == 0, err
    rows = {(r[0], r[1]): r for r in csv.reader(line for line in out.splitlines() if not line.startswith("#"))
            if len(r) == 6}
    assert float(rows[wordpiece, "ko"][5]) > 50 and float(rows["embedded", "ko"][5]) == 0.0
    assert "more than 1% of the text unknown to the tokenizer" in err and f"{wordpiece} on ko" in err
    source = tmp_path / "ko.txt"
    source.write_text("안녕하세요 세계\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "tokens", dropping, "embedded", "-l", "ko", "--file", f"ko={source}")
    assert code == 0 and "Traceback" not in err
    assert "0.00 (n/a)*" in out.splitlines()[2] and "100.00" in out


def test_tokens_refuse_an_empty_name_and_an_unknown_reference_before_any_work(tmp_path, capsys, monkeypatch):
    from helpers import assert_error, run_cli

    monkeypatch.chdir(tmp_path)
    english_only_tokenizer(tmp_path, with_unknown=True)   # (the current folder: what "" loaded)
    source = tmp_path / "en.txt"
    source.write_text("the cat\n", encoding="utf-8")
    assert_error(*run_cli(capsys, "tokens", "", "-l", "en", "--file", f"en={source}")[::2], "a tokenizer name is empty")
    # (round 25) an empty PATH read the current folder: every file under it counted as English
    for given in ("en=", "en= ", f"={source}"):
        assert_error(*run_cli(capsys, "tokens", "embedded", "-l", "en", "--file", given)[::2],
                     f"--file takes LANG=PATH, both given, not {given!r}")
    code, _, err = run_cli(capsys, "tokens", "embedded", "-l", "en", "--file", f"en={source}", "--reference", "bpe")
    assert_error(code, err, "--reference 'bpe' is not among the tokenizers (embedded)")


def test_unknown_share_counts_what_a_normalizer_deletes(tmp_path):
    """(review of round 21) an accent an uncased tokenizer strips sat inside a token's span and
    counted as kept (Hindi: 10.8% reported of 18.9% stripped)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from xling.reporting.tokens import unrepresented

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents()])
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(["कुछ cafe"], trainers.WordPieceTrainer(vocab_size=100, special_tokens=["[UNK]"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]")
    sentences = ["कुछ", "cafe"]   # the vowel sign u (a nonspacing mark) stripped inside the word
    assert unrepresented(fast, sentences) == pytest.approx(1 / 7)
    # (review C) composing is not deleting: decomposed Hangul under an NFC normalizer loses nothing
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(["가나"], trainers.BpeTrainer(vocab_size=300,
                                                         initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    nfc = PreTrainedTokenizerFast(tokenizer_object=tok)
    decomposed = ["\u1100\u1161\u1102\u1161"]   # 가나 as jamo
    assert unrepresented(nfc, decomposed) == 0.0


def test_stored_judge_scores_are_compared_on_the_segments_judged_for_both(tmp_path, capsys):
    """(review of round 21) a run whose judge read every answer was loaded as a plain mean beside
    one with unreadable answers: refused as "the same segments (8 vs 8)", so the comparison on
    the segments judged for both never ran in transfer or report."""
    from xling.reporting.report import build_report

    a = mt_directions(tmp_path / "a", {"en-ko": [40.0] * 4 + [90.0] * 4}, metric="gemba-esa", signature="j|parsed:8/8")
    b = mt_directions(tmp_path / "b", {"en-ko": [None] * 4 + [85.0] * 4}, metric="gemba-esa", signature="j|parsed:4/8")
    (row,) = delta_table(a, b, "gemba-esa", n_samples=200)
    assert row["delta"] == pytest.approx(-5.0)
    tables = build_report([str(a.path), str(b.path)], ["gemba-esa"])
    text = " ".join(" ".join(map(str, r)) for t in tables for r in t.rows)
    assert "(-5.00 on the 4/8 segments judged for both, p=" in text
    (*_, compared) = transfer_tables([str(a.path), str(b.path)], "gemba-esa")
    assert "a judge's Δ, interval and p are over the segments judged for both runs (en-ko 4/8)" in " ".join(
        compared.notes)


def test_transfer_of_accuracies_states_chance_and_corrects_for_it(tmp_path, capsys):
    """(audit round 23) A model at chance in every language (XNLI, 0.333) read "÷ targeted 1.000",
    full transfer, with no word of chance; and 0.6 beside a 0.85 anchor read 0.706 where it keeps
    about half of the above-chance accuracy."""
    from xling.reporting.transfer import transfer_figure, transfer_tables

    guess = nli_run(tmp_path / "guess", {lang: [1, 0, 0] * 4 for lang in ("ko", "en", "th")})
    table, groups = transfer_tables([str(guess.path)])
    assert table.header[-3:] == ["÷ targeted", "÷ English", "above chance ÷ targeted"]
    assert [row[6:] for row in table.rows] == [["1.000", "1.000", ""]] * 3   # (the old columns as they were)
    assert any(n.startswith("chance (guessing): accuracy 0.333, 1 ÷ 3 options;") for n in table.notes)
    assert any(n.startswith("above chance ÷ targeted is blank: the targeted languages' accuracy (ko, en: 0.333, 95% CI")
               for n in table.notes)
    assert groups.rows == [["Thai", "0.333", "1.000", "1", ""]]
    # above chance: (0.6 - 1/3) / (0.85 - 1/3), in the table and its group by script
    good = nli_run(tmp_path / "good", {"en": [1] * 18 + [0] * 2, "ko": [1] * 16 + [0] * 4, "th": [1] * 12 + [0] * 8})
    table, groups = transfer_tables([str(good.path)])
    th = next(row for row in table.rows if row[0] == "th")
    assert th[6:] == [f"{0.6 / 0.85:.3f}", f"{0.6 / 0.9:.3f}", f"{(0.6 - 1 / 3) / (0.85 - 1 / 3):.3f}"]
    assert groups.rows == [["Thai", "0.600", f"{0.6 / 0.85:.3f}", "1", f"{(0.6 - 1 / 3) / (0.85 - 1 / 3):.3f}"]]
    assert not any("is blank" in n for n in table.notes)
    # an anchor above chance whose 95% interval still reaches chance (6 items each) has no above-chance ratio
    thin = nli_run(tmp_path / "thin", {"en": [1, 1, 1, 0, 0, 0], "ko": [1, 1, 1, 0, 0, 0], "th": [1, 1, 0, 0, 0, 0]})
    from xling.reporting.transfer import chance_level
    from xling.runs.records import read_run

    chance = chance_level(read_run(thin), ["en", "ko", "th"], ["ko", "en"], "ll")
    assert chance is not None and chance.anchor_ci is not None and chance.anchor_ci[0] <= 1 / 3 < 0.5
    assert [row[-1] for row in transfer_tables([str(thin.path)])[0].rows] == ["", "", ""]
    # chance from the items' own options: 2 and 4 alternately, the mean of 1/2 and 1/4
    mixed = nli_run(tmp_path / "mixed", {"en": [1, 1, 1, 0], "ko": [1, 1, 0, 1]}, task="multiple_choice",
                    data="xcsqa:dev", shots=0, options=[2, 4, 2, 4])
    notes = transfer_tables([str(mixed.path)])[0].notes
    assert any(n.startswith("chance (guessing): accuracy 0.375, 1 ÷ options, averaged over the items (2 to 4 options)")
               for n in notes)
    # an MT metric has no chance level: its table is as before
    mt = mt_directions(tmp_path / "mt", {"en-ko": [0.6, 0.6], "ko-en": [0.8, 0.9]})
    assert transfer_tables([str(mt.path)])[0].header[-1] == "÷ English"
    # the figure: a model guessing everywhere reads chance ÷ targeted (here 1.0), drawn and said
    axes = transfer_figure([str(guess.path)]).axes[0]
    assert [line.get_ydata()[0] for line in axes.lines] == [pytest.approx(1.0)]
    assert "guess: chance (guessing) is accuracy 0.333, 1.000 ÷ targeted (dashed line)" in capsys.readouterr().err


def test_table15_names_each_rows_prompt_where_they_differ(tmp_path):
    """(audit round 23) A run prompted by mt-chat (direction_matrix, `eval mt` without --template)
    was drawn beside an mt-completion row of the same model, 22.46 against 35.29, without a word;
    the report used one prompt for all models."""
    from xling.reporting.figures import table_drawing

    t15 = mt_run(tmp_path / "t15", "flores200:devtest", 1, [0.4, 0.3], template=("mt-completion", "aea0bc1d595f"))
    chat = mt_run(tmp_path / "chat", "flores200:devtest", 1, [0.2, 0.25], template=("mt-chat", "bdcd00e8bfd8"))
    notes = table_drawing("table15", [t15, chat]).table.notes
    assert ("rows made with different prompts: t15 mt-completion, chat mt-chat; the report used one prompt "
            "for all models") in notes
    # one prompt edited between the runs: its hash tells them apart
    edited = mt_run(tmp_path / "edited", "flores200:devtest", 1, [0.3, 0.3], template=("mt-completion", "0123456789ab"))
    notes = table_drawing("table15", [t15, edited]).table.notes
    assert ("rows made with different prompts: t15 mt-completion (aea0bc1d595f), edited mt-completion "
            "(0123456789ab); the report used one prompt for all models") in notes
    same = mt_run(tmp_path / "same", "flores200:devtest", 1, [0.3, 0.3], template=("mt-completion", "aea0bc1d595f"))
    assert not any("different prompts" in n for n in table_drawing("table15", [t15, same]).table.notes)


def test_table15_passes_on_each_runs_data_note(tmp_path):
    """(audit round 23) Tables 13/14 pass on a run's data note; Table 15 dropped it, so a row on
    FLORES+ from the hub (a revised text) and one on local FLORES-200 looked alike."""
    from xling.data.parallel import FLORES_HUB_NOTE
    from xling.reporting.figures import table_drawing

    local = mt_run(tmp_path / "local200", "flores200:devtest", 1, [0.8, 0.9])
    hub = mt_run(tmp_path / "hubplus", "flores200:devtest", 1, [0.7, 0.9], note=FLORES_HUB_NOTE)
    notes = table_drawing("table15", [local, hub]).table.notes
    assert f"hubplus (yours): {FLORES_HUB_NOTE}" in notes
    assert not any(n.startswith("local200 (yours): FLORES") for n in notes)


def test_a_run_of_targeted_languages_only_says_why_its_group_table_is_empty(tmp_path):
    """(audit round 25, left then) a run of ko and en only printed an empty "untargeted languages
    by script" table with no word."""
    run = nli_run(tmp_path / "ko-en", {"en": [1, 0], "ko": [1, 1]})
    groups = transfer_tables([str(run.path)])[1]
    assert "untargeted languages by script" in groups.title and groups.rows == []
    assert any("no untargeted language in this run" in note for note in groups.notes)
