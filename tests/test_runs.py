"""MT evaluation runs with a tiny real model and the real FLORES files: records, resume after
SIGKILL, content cache, re-scoring and reports."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from xling.errors import XlingError
from xling.runs.config import build_config, load_experiment
from xling.runs.folder import RunDir, RunHeader
from xling.tasks.mt import rescore, run_mt

LANGS = ["en", "ko", "ja", "zh"]


def config(tmp_path, model, **overrides):
    values = dict(out=str(tmp_path / "run"), model=str(model), langs=LANGS, limit=4,
                  batch_size=3, max_new_tokens=24, metrics=["bleu", "chrf", "offtarget"])
    values.update(overrides)
    return build_config(values)


def read_all(run_dir: Path) -> dict:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((run_dir / "outputs").glob("*.jsonl"))}


def test_direction_matrix_run_writes_complete_records(tmp_path, tiny_causal_base, data_dir, monkeypatch):
    monkeypatch.setenv("XLING_DATA", str(data_dir))
    run = run_mt(config(tmp_path, tiny_causal_base, shots=1), progress=False)
    cfg = run.read_config()
    assert len(cfg["directions"]) == 12
    assert cfg["template"]["name"] == "mt-completion" and len(cfg["template"]["hash"]) == 12
    assert cfg["model"]["revision"].startswith("local-") and "transformers" in cfg["packages"]
    assert cfg["settings"]["seed"] == 0 and cfg["identity"]["shots"] == 1
    flores = data_dir / "flores200" / "devtest"
    for direction in cfg["directions"]:
        records = run.read_outputs(direction)
        assert [r["id"] for r in records] == [f"devtest-{i:04d}" for i in range(1, 5)]
        for r in records:
            assert set(r) >= {"id", "source", "reference", "prompt_hash", "raw", "output", "lang"}
    ko = (flores / "kor_Hang.devtest").read_text(encoding="utf-8").splitlines()[:4]
    assert [r["reference"] for r in run.read_outputs("en-ko")] == ko
    metrics = run.read_metrics()["directions"]
    assert set(metrics) == set(cfg["directions"])
    assert all(set(m["metrics"]) == {"bleu", "chrf", "offtarget"} for m in metrics.values())
    assert "tok:ko-mecab" in metrics["en-ko"]["metrics"]["bleu"]["signature"]


def test_report_numbers_equal_direct_metric_calls(tmp_path, tiny_causal_base, data_dir, monkeypatch):
    from xling.metrics import bleu, chrf, off_target
    from xling.reporting.report import build_report

    monkeypatch.setenv("XLING_DATA", str(data_dir))
    run = run_mt(config(tmp_path, tiny_causal_base, langs=None, pairs=["ko-en", "en-ko"]), progress=False)
    stored = run.read_metrics()["directions"]
    for direction, tgt in (("ko-en", "en"), ("en-ko", "ko")):
        records = run.read_outputs(direction)
        hyps, refs = [r["output"] for r in records], [r["reference"] for r in records]
        assert stored[direction]["metrics"]["bleu"]["score"] == bleu(hyps, refs, tgt_lang=tgt).score
        assert stored[direction]["metrics"]["chrf"]["score"] == chrf(hyps, refs).score
        assert stored[direction]["metrics"]["offtarget"]["score"] == \
            off_target(hyps, tgt, [r["source"] for r in records]).score
    tables = build_report([str(run.path)])
    first = tables[0]
    row = next(r for r in first.rows if r[0] == "en-ko")
    assert row[2] == f"{stored['en-ko']['metrics']['bleu']['score']:.2f}"
    matrix = next(t for t in tables if "BLEU by direction" in t.title)
    assert matrix.header == ["src \\ tgt", "ko", "en"]
    for fmt in ("markdown", "csv", "latex"):
        assert "en-ko" in first.render(fmt)
    # every format keeps the notes (the CSV had no signature); lower-is-better is said for one run
    import csv as csv_module

    from xling.reporting.scores import OFF_TARGET_NOTE
    rendered = first.render("csv")
    noted = [line for line in rendered.splitlines() if line.startswith("# ")]   # comment lines, never quoted
    assert len(list(csv_module.reader(line for line in rendered.splitlines() if not line.startswith("#")))) \
        == 1 + len(first.rows)
    assert any(n.startswith("# BLEU: nrefs:1|") for n in noted) and "# " + OFF_TARGET_NOTE in noted
    assert "lower is better: OffTarget%" in first.notes
    # a line break in a folder name stays in the title's line (markdown, LaTeX comments)
    from xling.reporting.tables import Table
    broken = Table("run\n#1", ["a"], [["1"]], ["note\nmore"])
    assert broken.render("latex").splitlines()[0] == "% run #1" and "% note more" in broken.render("latex")
    assert broken.render("markdown").splitlines()[0] == "**run #1**"
    # The undetermined rate (issue 25) stands beside the off-target rate, in metrics.json, in the
    # direction table and as its own matrix.
    column = first.header.index("OffTarget%")
    assert first.header[column + 1] == "Undetermined%"
    stored_rate = stored["en-ko"]["metrics"]["offtarget"]["extra"]["undetermined_rate"]
    assert row[column + 1] == f"{stored_rate:.2f}"
    assert any("Undetermined% by direction" in t.title for t in tables)
    assert any(note.startswith("OffTarget%: outputs empty") for note in first.notes)
    # A run scored before the rate existed shows a blank cell, not an error.
    metrics = json.loads(run.metrics_path.read_text(encoding="utf-8"))
    for entry in metrics["directions"].values():
        del entry["metrics"]["offtarget"]["extra"]["undetermined_rate"]
    run.metrics_path.write_text(json.dumps(metrics), encoding="utf-8")
    older = build_report([str(run.path)])[0]
    assert next(r for r in older.rows if r[0] == "en-ko")[column + 1] == ""


def test_rescoring_adds_a_metric_without_the_model(tmp_path, tiny_causal_base, data_dir, monkeypatch):
    monkeypatch.setenv("XLING_DATA", str(data_dir))
    model = tmp_path / "model-copy"
    shutil.copytree(tiny_causal_base, model)
    run = run_mt(config(tmp_path, model, langs=None, pairs=["ko-en"], metrics=["bleu"]), progress=False)
    before = run.read_metrics()["directions"]["ko-en"]["metrics"]["bleu"]
    shutil.rmtree(model)   # the model is gone: re-scoring cannot generate
    rescore(str(run.path), ["chrf++", "offtarget"])
    after = run.read_metrics()["directions"]["ko-en"]["metrics"]
    assert after["bleu"] == before and set(after) == {"bleu", "chrf++", "offtarget"}
    assert "nw:2" in after["chrf++"]["signature"]


def test_cached_rerun_never_loads_weights_and_changed_template_regenerates(
        tmp_path, tiny_causal_base, data_dir, monkeypatch):
    from xling.backends import load_backend
    from xling.store.cache import OutputCache

    monkeypatch.setenv("XLING_DATA", str(data_dir))
    cfg = config(tmp_path, tiny_causal_base, langs=None, pairs=["ko-en", "ja-en"])
    run_mt(cfg, progress=False)
    first = read_all(Path(cfg.out))

    def answers() -> int:
        cache = OutputCache()
        return cache._db.execute("SELECT COUNT(*) FROM outputs WHERE key NOT LIKE 'cut:%'").fetchone()[0]

    entries = answers()
    fresh = load_backend(str(tiny_causal_base))
    run_mt(cfg, progress=False, backend=fresh)
    assert not fresh.weights_loaded                  # every output came from the cache
    assert read_all(Path(cfg.out)) == first and answers() == entries
    template = tmp_path / "arrow.yaml"
    template.write_text("format: completion\nexample: '{source} => {target}'\nquery: '{source} =>'\n",
                        encoding="utf-8")
    other = run_mt(config(tmp_path, tiny_causal_base, langs=None, pairs=["ko-en", "ja-en"],
                          template=str(template), out=str(tmp_path / "run2")), progress=False)
    # 2 directions x 4 segments regenerated (and a mark beside each answer its budget ended)
    assert answers() == entries + 8
    old = [r["prompt_hash"] for r in RunDir(cfg.out).read_outputs("ko-en")]
    assert old != [r["prompt_hash"] for r in other.read_outputs("ko-en")]


def test_a_different_config_in_the_same_folder_is_refused(tmp_path, tiny_causal_base, data_dir, monkeypatch):
    monkeypatch.setenv("XLING_DATA", str(data_dir))
    cfg = config(tmp_path, tiny_causal_base, langs=None, pairs=["ko-en"])
    run_mt(cfg, progress=False)
    snapshot = {p: p.read_bytes() for p in Path(cfg.out).rglob("*") if p.is_file()}
    with pytest.raises(XlingError, match=r"different config \(differs in: limit\)"):
        run_mt(config(tmp_path, tiny_causal_base, langs=None, pairs=["ko-en"], limit=5), progress=False)
    assert {p: p.read_bytes() for p in Path(cfg.out).rglob("*") if p.is_file()} == snapshot
    # Settings that change no output (metrics, batch size) may differ.
    run_mt(config(tmp_path, tiny_causal_base, langs=None, pairs=["ko-en"], batch_size=1,
                  metrics=["chrf"]), progress=False)
    run_mt(config(tmp_path, tiny_causal_base, langs=None, pairs=["ko-en"], limit=5), overwrite=True,
           progress=False)
    assert len(RunDir(cfg.out).read_outputs("ko-en")) == 5


def test_the_same_data_spec_over_edited_files_is_another_run(tmp_path, tiny_causal_base):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "test.ko").write_text("나는 학생이다.\n오늘은 맑다.\n", encoding="utf-8")
    (corpus / "test.en").write_text("I am a student.\nIt is sunny today.\n", encoding="utf-8")
    shots = tmp_path / "shots.tsv"
    shots.write_text("고양이\tcat\n개\tdog\n", encoding="utf-8")
    settings = dict(langs=None, pairs=["ko-en"], data=f"text:{corpus}/test.{{lang}}", limit=None,
                    shots=1, shots_file=str(shots), template="mt-completion")
    run_mt(config(tmp_path, tiny_causal_base, **settings), progress=False)
    run_mt(config(tmp_path, tiny_causal_base, **settings), progress=False)   # unchanged: resumes
    for path, text in ((corpus / "test.en", "I am a pupil.\nIt is sunny today.\n"),   # a reference edited
                       (shots, "고양이\tkitty\n개\tdog\n")):                          # the shots file edited
        original = path.read_text(encoding="utf-8")
        path.write_text(text, encoding="utf-8")
        with pytest.raises(XlingError, match=r"differs in: data_sha256\): the data's texts .* differ"):
            run_mt(config(tmp_path, tiny_causal_base, **settings), progress=False)
        path.write_text(original, encoding="utf-8")
    run_mt(config(tmp_path, tiny_causal_base, **settings), progress=False)   # as it was: resumes


def test_experiment_files_are_checked_with_key_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("task: mt\nout: x\nlangs: [ko, en]\nshot: 1\n", encoding="utf-8")
    with pytest.raises(XlingError, match=r"bad.yaml, line 4: unknown key 'shot'"):
        load_experiment(bad)
    bad.write_text("task: mt\nout: x\nlangs: [ko, en]\nlimit: many\n", encoding="utf-8")
    with pytest.raises(XlingError, match=r"line 4: 'limit' must be int or null, not str"):
        load_experiment(bad)
    bad.write_text("task: mt\nout: x\n", encoding="utf-8")   # FLORES has no default direction
    from xling.tasks.mt import directions_of
    with pytest.raises(XlingError, match="give pairs .* or langs"):
        directions_of(load_experiment(bad))
    bad.write_text("task: mt\nout: x\ndata: wmt24pp:en-ko_KR\n", encoding="utf-8")
    assert load_experiment(bad).pairs is None     # WMT24++ has one: English into the locale


def test_shipped_experiments_load():
    repo = Path(__file__).resolve().parent.parent
    t15 = load_experiment(repo / "experiments" / "hcx_table15.yaml")
    assert t15.shots == 1 and t15.data == "flores200:devtest" and "xcomet" in t15.metrics
    assert t15.pairs == ["en-ko", "ko-en", "ja-ko", "ko-ja", "zh-ko", "ko-zh"]
    matrix = load_experiment(repo / "experiments" / "direction_matrix.yaml", {"limit": 5})
    assert matrix.langs == LANGS and matrix.limit == 5


# Runs the real CLI in a process that kills itself (SIGKILL: no cleanup, no handlers) at a set
# point, the same on any machine whatever its speed. XLING_TEST_KILL: "outputs:N" kills it in the
# middle of writing direction N+1's outputs; "cache:N" right after the output cache first holds
# N generations.
KILL_AT_A_SET_POINT = """
import os, signal
from xling.data.textio import atomic_writer
from xling.runs.folder import RunDir
from xling.store.cache import OutputCache
where, count = os.environ["XLING_TEST_KILL"].split(":")
count, written = int(count), []
write_outputs, put_many = RunDir.write_outputs, OutputCache.put_many
def kill():
    os.kill(os.getpid(), signal.SIGKILL)
def killing_write_outputs(self, direction, records):
    if where == "outputs" and len(written) == count:
        with atomic_writer(self.outputs_path(direction)) as handle:
            handle.write("{\\"id\\": ")    # a record cut in two, left in the partial file
            handle.flush()
            kill()
    written.append(direction)
    return write_outputs(self, direction, records)
def killing_put_many(self, items):
    put_many(self, items)
    if where == "cache" and len(self) >= count:
        kill()
RunDir.write_outputs, OutputCache.put_many = killing_write_outputs, killing_put_many
from xling.cli import run
run()   # sys.argv[1:] are the command's arguments, as under `python -m xling.cli`
"""


def killable_run(tmp_path, model, data_dir):
    """A function starting `xling run` of a 12-direction experiment (6 segments each) as a
    process: run(out, cache, kill=None) -> Popen; kill="outputs:3" or "cache:12" makes the
    process kill itself at that point (see KILL_AT_A_SET_POINT)."""
    experiment = tmp_path / "exp.yaml"
    experiment.write_text(
        f"task: mt\nmodel: {model}\nlangs: [en, ko, ja, zh]\nlimit: 6\nbatch_size: 2\n"
        "max_new_tokens: 48\nmetrics: [bleu, chrf]\n", encoding="utf-8")
    env = dict(os.environ, XLING_DATA=str(data_dir))

    def run(out, cache, kill=None):
        command = ["-m", "xling.cli"] if kill is None else ["-c", KILL_AT_A_SET_POINT]
        return subprocess.Popen([sys.executable, *command, "run", str(experiment), "--out", str(out)],
                                env=dict(env, XLING_CACHE=str(cache), XLING_TEST_KILL=str(kill)),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return run


def test_killed_run_resumes_to_identical_records(tmp_path, tiny_causal_base, data_dir):
    run = killable_run(tmp_path, tiny_causal_base, data_dir)
    reference = run(tmp_path / "whole", tmp_path / "cache-whole")
    assert reference.wait(timeout=600) == 0, reference.stderr.read()

    victim = run(tmp_path / "killed", tmp_path / "cache-killed", kill="outputs:3")
    assert victim.wait(timeout=600) == -signal.SIGKILL, victim.stderr.read()
    outputs = tmp_path / "killed" / "outputs"
    assert len(list(outputs.glob("*.jsonl"))) == 3
    assert list(outputs.glob(".*.partial")), "the kill should have left a half-written file"
    resumed = run(tmp_path / "killed", tmp_path / "cache-killed")
    assert resumed.wait(timeout=600) == 0, resumed.stderr.read()
    assert read_all(tmp_path / "killed") == read_all(tmp_path / "whole")
    assert not list((tmp_path / "killed").rglob("*.partial"))
    for text in read_all(tmp_path / "killed").values():
        ids = [json.loads(line)["id"] for line in text.splitlines()]
        assert ids == sorted(set(ids)) and len(ids) == 6


def test_experiment_variants_run_into_their_own_folders(tmp_path):
    from xling.runs.config import load_experiments

    repo = Path(__file__).resolve().parent.parent
    segment, document = load_experiments(repo / "experiments" / "wmt24pp_matrix.yaml",
                                         {"out": str(tmp_path / "m"), "limit": 3})
    assert (segment.unit, document.unit) == ("segment", "document")
    assert (segment.out, document.out) == (str(tmp_path / "m" / "segment"), str(tmp_path / "m" / "document"))
    assert segment.pairs == document.pairs == ["en-ko", "en-ja", "en-zh"] and document.limit == 3
    with pytest.raises(XlingError, match="defines 2 variants"):
        load_experiment(repo / "experiments" / "wmt24pp_matrix.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("task: mt\nout: x\npairs: [en-ko]\nvariants:\n  a:\n    unit: page\n", encoding="utf-8")
    with pytest.raises(XlingError, match="variant a.*'unit' must be one of segment, document"):
        load_experiments(bad)


def test_settings_added_later_keep_older_run_folders_resumable():
    from xling.runs.config import MTEvalConfig

    plain = MTEvalConfig(out="x", pairs=["ko-en"]).identity()
    assert not {"unit", "candidates", "select", "reference"} & set(plain)   # as run folders made before them
    assert MTEvalConfig(out="x", pairs=["ko-en"], unit="document").identity()["unit"] == "document"


def test_a_candidate_setting_back_at_its_default_is_another_run(tmp_path):
    """Candidate settings were left out of an MBR run's identity at their default (they came
    later) and accepted when missing (greedy runs dropped them): an MBR folder made at
    --temperature 0.7 resumed at 1.0, mixing candidates of two temperatures in one run."""
    from xling.runs.config import MTEvalConfig

    made = MTEvalConfig(out="x", pairs=["ko-en"], candidates=4, select="mbr", temperature=0.7)
    again = MTEvalConfig(out="x", pairs=["ko-en"], candidates=4, select="mbr")
    assert again.at_default()["temperature"] == 1.0 and "temperature" not in again.identity()
    folder = RunDir(tmp_path / "run")
    folder.prepare(RunHeader("mt", made.identity(), {}, ["ko-en"], at_default=made.at_default()))
    folder.write_outputs("ko-en", [{"id": "1", "output": "x"}])
    with pytest.raises(XlingError, match="differs in: temperature"):
        folder.prepare(RunHeader("mt", again.identity(), {}, ["ko-en"], at_default=again.at_default()))
    # a key the run drops from its identity (a greedy run's candidate settings) still resumes
    folder.prepare(RunHeader("mt", again.identity(), {}, ["ko-en"]))


def test_a_local_model_is_one_model_however_its_folder_is_spelled(tmp_path, tiny_causal_base, data_dir, monkeypatch):
    """"tiny/" (a shell's completion), "./tiny" and "tiny" name one model to a run folder: it
    resumes under another spelling, where it was refused as another model. (Cache keys keep the
    name as typed, so that runs made before find their outputs.)"""
    (tmp_path / "tiny").symlink_to(tiny_causal_base)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XLING_DATA", str(data_dir))
    monkeypatch.setenv("XLING_CACHE", str(tmp_path / "cache"))
    run_mt(config(tmp_path, "tiny/", langs=["ko", "en"], limit=2, metrics=["chrf"]), progress=False)
    before = read_all(tmp_path / "run")
    again = run_mt(config(tmp_path, "./tiny", langs=["ko", "en"], limit=2, metrics=["chrf"]), progress=False)
    assert read_all(tmp_path / "run") == before and len(before) == 2

    # a folder made when the name was kept as typed resumes under another spelling
    old = {"backend": "hf", "model": "tiny/", "revision": "local-0123"}
    folder = RunDir(tmp_path / "old")
    folder.prepare(RunHeader("mt", {"model": "tiny/", "model_fingerprint": old}, {}, ["ko-en"]))
    folder.write_outputs("ko-en", [{"id": "1", "output": "x"}])
    folder.prepare(RunHeader("mt", {"model": "./tiny", "model_fingerprint": dict(old, model="tiny")}, {}, ["ko-en"]))
    with pytest.raises(XlingError, match="differs in: model"):   # (another model: another content digest)
        folder.prepare(RunHeader("mt", {"model": "other", "model_fingerprint": dict(old, model="other",
                                                                                    revision="local-4567")}, {},
                                 ["ko-en"]))
    assert again.read_config()["identity"]["model"] == "tiny/"


def test_languages_spelled_otherwise_are_the_same_run(tmp_path):
    """`--langs th` then `--langs tha` was refused as another config ("differs in: langs")."""
    folder = RunDir(tmp_path / "run")
    folder.prepare(RunHeader("nli", {"langs": ["th", "ko"]}, {}, ["th", "ko"]))
    folder.write_outputs("th", [{"id": "1", "gold": 0}])
    folder.prepare(RunHeader("nli", {"langs": ["tha", "kor_Hang"]}, {}, ["th", "ko"]))
    with pytest.raises(XlingError, match="differs in: langs"):
        folder.prepare(RunHeader("nli", {"langs": ["th", "ja"]}, {}, ["th", "ja"]))
    pairs = RunDir(tmp_path / "pairs")           # directions too ("th-en" is "tha-eng")
    pairs.prepare(RunHeader("mt", {"pairs": ["th-en", "zh-Hant-ko"]}, {}, ["th-en", "zh-Hant-ko"]))
    pairs.write_outputs("th-en", [{"id": "1", "output": "x"}])
    pairs.prepare(RunHeader("mt", {"pairs": ["tha-eng", "zho_Hant-kor"]}, {}, ["th-en", "zh-Hant-ko"]))
    with pytest.raises(XlingError, match="differs in: pairs"):
        pairs.prepare(RunHeader("mt", {"pairs": ["en-th", "zh-Hant-ko"]}, {}, ["en-th", "zh-Hant-ko"]))


def test_a_folder_from_before_the_fingerprint_held_a_dtype_resumes_as_it_was(tmp_path):
    # an HF run made on a GPU before the dtype was recorded ran in bfloat16, as it does now
    old = {"backend": "hf", "model": "m", "revision": "r"}
    run = RunDir(tmp_path / "run")
    run.prepare(RunHeader("mt", {"model_fingerprint": old, "limit": 2}, {}, ["ko-en"]))
    run.write_outputs("ko-en", [{"id": "1", "output": "x"}])
    run.prepare(RunHeader("mt", {"model_fingerprint": {**old, "dtype": "bfloat16"}, "limit": 2,
                                 "data_sha256": "abc"}, {}, ["ko-en"]))
    assert run.read_config()["identity"] == {"model_fingerprint": old, "limit": 2}   # kept as it was
    with pytest.raises(XlingError, match=r"differs in: model_fingerprint"):
        run.prepare(RunHeader("mt", {"model_fingerprint": {**old, "revision": "other"}, "limit": 2}, {}, ["ko-en"]))


def test_a_rerun_from_the_cache_keeps_the_generation_cost_recorded_when_outputs_were_made(tmp_path, tiny_causal_base,
                                                                                       data_dir, monkeypatch):
    import json

    monkeypatch.setenv("XLING_DATA", str(data_dir))
    monkeypatch.setenv("XLING_CACHE", str(tmp_path / "cache"))
    settings = dict(langs=["ko", "en"], limit=2, metrics=["chrf"])

    def cost():
        metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
        return {d: e["generation"] for d, e in metrics["directions"].items()}

    run_mt(config(tmp_path, tiny_causal_base, **settings), progress=False)
    first = cost()
    assert all(g["queue"]["generated"] > 0 and "from_cache" not in g for g in first.values())
    run_mt(config(tmp_path, tiny_causal_base, **settings), progress=False)
    assert cost() == first        # was seconds 0.0, generated 0
    # so do candidates chosen by MBR (their cost was overwritten: 79 s -> 0.47 s, 24 -> 0 generated)
    mbr = dict(settings, select="mbr", candidates=2, out=str(tmp_path / "mbr"))
    run_mt(config(tmp_path, tiny_causal_base, **mbr), progress=False)
    made = json.loads((tmp_path / "mbr" / "metrics.json").read_text(encoding="utf-8"))["directions"]
    assert all(e["generation"]["generated"] == 4 for e in made.values())
    run_mt(config(tmp_path, tiny_causal_base, **mbr), progress=False)
    again = json.loads((tmp_path / "mbr" / "metrics.json").read_text(encoding="utf-8"))["directions"]
    assert {d: e["generation"] for d, e in again.items()} == {d: e["generation"] for d, e in made.items()}


def test_a_sweep_given_another_seed_resumes_its_finished_units(tmp_path):
    """Seeds and shares choose a sweep's units (each kept under its own name), not what a unit
    is: adding the protocol's third seed was refused, and --overwrite retrained every unit."""
    from xling.runs.config import TuneRatioConfig

    one = TuneRatioConfig(out="x", model="m", seeds=[0], ratios=[0.0, 1.0]).identity()
    assert one == TuneRatioConfig(out="x", model="m", seeds=[0, 1, 2]).identity()
    assert one != TuneRatioConfig(out="x", model="m", seeds=[0], epochs=3).identity()
    old = RunDir(tmp_path / "sweep")     # a folder made when seeds were in the identity
    old.prepare(RunHeader("tune_ratio", {**one, "seeds": [0], "ratios": [0.0]}, {}, ["ratio-0_seed-0"]))
    old.write_outputs("ratio-0_seed-0", [{"id": "1", "answer": "x"}])
    old.prepare(RunHeader("tune_ratio", one, {}, ["ratio-0_seed-0", "ratio-0_seed-1"]))
    assert (tmp_path / "sweep" / "outputs" / "ratio-0_seed-0.jsonl").is_file()


def test_figure2_draws_past_a_unit_without_a_score():
    import math

    from xling.reporting.plots import moving_average
    from xling.runs.config import TuneRatioConfig
    from xling.tasks.tuning.sweep import figure2_points

    xs, ys = moving_average([(0, 0.30), (0.5, math.nan), (1, 0.40), (2, 0.50)])
    assert xs == [0, 1, 2] and all(math.isfinite(y) for y in ys)
    metrics = {"directions": {"a": {"ratio": 0.0, "preference_ko": math.nan},
                              "b": {"ratio": 0.1, "preference_ko": 0.5}}}
    points = figure2_points(metrics, TuneRatioConfig(out="x", model="m", metric="judge", judge_model="j"))
    assert list(points.values())[0]["ko"] == [[10.0, 0.5]]
    # drawn at the share trained on: 0.5% of 20 examples is none of them (it was drawn at 0.5%)
    metrics = {"directions": {"a": {"ratio": 0.005, "korean_share": 0.0, "preference_ko": 0.2}}}
    points = figure2_points(metrics, TuneRatioConfig(out="x", model="m", metric="judge", judge_model="j"))
    assert list(points.values())[0]["ko"] == [[0.0, 0.2]]


def test_command_line_values_an_experiment_cannot_take_are_named_as_options(tmp_path):
    from xling.runs.config import load_experiments

    sweep = tmp_path / "tr.yaml"
    sweep.write_text("task: tune_ratio\nout: x\nmodel: m\nbatch_size: 4\n", encoding="utf-8")
    with pytest.raises(XlingError, match=r"^--limit does not apply to tune_ratio experiments"):
        load_experiments(sweep, {"limit": 4})
    with pytest.raises(XlingError, match=r"^--batch-size sets inference batches; .* the training batch"):
        load_experiments(sweep, {"batch_size": "auto"})
    assert load_experiments(sweep, {"limit": None})[0].batch_size == 4


@pytest.mark.parametrize("text, overrides, message", [
    # --out sent every variant with its own out into one folder (the second replaced the first)
    ("task: mt\nout: r\npairs: [ko-en]\nvariants:\n  a: {out: ra}\n  b: {out: rb, shots: 1}\n", {"out": "o"}, None),
    ("task: mt\nout: r\npairs: [ko-en]\nvariants:\n  a: {out: same}\n  b: {out: same, shots: 1}\n", {},
     "two variants write into one folder"),
    # (audit round 21) refused only once the first variant had run, naming neither
    ("task: mt\nout: r\npairs: [ko-en]\nvariants:\n  a: {}\n  b: {out: r, shots: 1}\n", {},
     "variant a's folder .* is inside variant b's"),
    # -m tiny made variants qwen and llama two identical runs
    ("task: mt\nout: r\npairs: [ko-en]\nvariants:\n  qwen: {model: q}\n  llama: {model: l}\n", {"model": "tiny"},
     "variant qwen sets model, which the command line would override"),
    ("task: [mt]\nout: r\n", {}, "unknown task \\['mt'\\]"),
    ("task: mt\nout: r\npairs: [ko-en]\nvariants:\n  a: {}\n  b: {task: nli}\n", {},
     "variants compare runs of one task"),
    ("task: mt\nout: r\npairs: [ko-en]\n<<: {variants: {a: {shots: 0}, b: {shots: 1}}}\n", {}, None),
    # an unknown metric or language named the file only, not its key and line (round 19)
    ("task: mt\nout: r\npairs: [ko-en]\nvariants:\n  a: {}\n  b:\n    metrics: [chrff]\n", {},
     r"^e.yaml, variant b, line 7, metrics: unknown metric 'chrff'"),
    ("task: mt\nout: r\npairs: [ko-en, ko-xx]\n", {}, r"^e.yaml, line 3, pairs: unknown language code 'xx'"),
    ("task: nli\nout: r\nlangs: [ko]\npremise_langs: [ko]\nhypothesis_langs: [en, qq]\n", {},
     r"^e.yaml, line 5, hypothesis_langs: unknown language code 'qq'"),
    ("task: nli\nout: r\nlangs: [ko]\nprompt_lang: klingon\n", {}, r"^e.yaml, line 4, prompt_lang: unknown"),
])
def test_experiment_variants_are_checked_before_anything_runs(tmp_path, text, overrides, message):
    from xling.runs.config import load_experiments

    path = tmp_path / "e.yaml"
    path.write_text(text, encoding="utf-8")
    message = message and message.replace("e.yaml", re.escape(str(path)))
    if message is None:
        configs = load_experiments(path, overrides)
        assert len({c.out for c in configs}) == len(configs) == 2
        if "out" in overrides:
            assert [c.out for c in configs] == ["o/a", "o/b"]
        return
    with pytest.raises(XlingError, match=message):
        load_experiments(path, overrides)


def test_an_http_run_made_when_a_urls_setting_values_were_hidden_resumes(tmp_path):
    from xling.backends.http import HTTPBackend

    url = "https://gw.example/v1?api-version=2024-06-01&api_key=SECRETKEY1"
    new = HTTPBackend("gpt", url, max_retries=0).fingerprint
    old = dict(new, base_url="https://gw.example/v1?api-version=***&api_key=***")
    run = RunDir(tmp_path / "run")
    run.prepare(RunHeader("mt", {"base_url": old["base_url"], "model_fingerprint": old}, {}, ["ko-en"]))
    run.write_outputs("ko-en", [{"id": "1", "output": "x"}])
    run.prepare(RunHeader("mt", {"base_url": new["base_url"], "model_fingerprint": new}, {}, ["ko-en"]))
    other = HTTPBackend("gpt", url.replace("2024-06-01", "2023-05-15"), max_retries=0).fingerprint
    made_now = RunDir(tmp_path / "now")   # a folder made since tells two api-versions apart
    made_now.prepare(RunHeader("mt", {"base_url": new["base_url"], "model_fingerprint": new}, {}, ["ko-en"]))
    made_now.write_outputs("ko-en", [{"id": "1", "output": "x"}])
    with pytest.raises(XlingError, match="differs in"):
        made_now.prepare(RunHeader("mt", {"base_url": other["base_url"], "model_fingerprint": other}, {}, ["ko-en"]))


def test_an_experiments_empty_command_line_value_is_named_as_an_option(tmp_path):
    from xling.runs.config import load_experiments

    path = tmp_path / "e.yaml"
    path.write_text("task: mt\nout: r\npairs: [ko-en]\n", encoding="utf-8")
    with pytest.raises(XlingError, match="^--model is empty"):
        load_experiments(path, {"model": ""})


def test_a_float32_folder_is_not_resumed_in_bfloat16_nor_the_reverse(tmp_path):
    from xling.runs.folder import run_fingerprint

    cpu = run_fingerprint({"backend": "hf", "model": "m", "revision": "r"})
    assert cpu["dtype"] == "float32"        # written out in the run, though the cache keys leave it out
    for made, resumed in ((cpu, {**cpu, "dtype": "bfloat16"}), ({**cpu, "dtype": "bfloat16"}, cpu)):
        run = RunDir(tmp_path / made["dtype"])
        run.prepare(RunHeader("mt", {"model_fingerprint": made}, {}, ["ko-en"]))
        run.write_outputs("ko-en", [{"id": "1", "output": "x"}])
        with pytest.raises(XlingError, match="differs in: model_fingerprint"):
            run.prepare(RunHeader("mt", {"model_fingerprint": resumed}, {}, ["ko-en"]))
    assert run_fingerprint({"backend": "http", "model": "m"}) == {"backend": "http", "model": "m"}


def test_a_harmless_respelling_resumes_the_run(tmp_path):
    """Directions in another order, a language's other code, a local model named by another path
    (or copied: the same content digest) are the same run; another model's content is not."""
    local = {"backend": "hf", "model": "tiny", "revision": "local-abc", "dtype": "float32"}
    made = {"pairs": ["ko-en", "en-ja"], "langs": ["ko", "en"], "prompt_lang": "zh", "model": "tiny",
            "model_fingerprint": local}
    run = RunDir(tmp_path / "run")
    run.prepare(RunHeader("mt", made, {}, ["ko-en", "en-ja"]))
    run.write_outputs("ko-en", [{"id": "1", "output": "x"}])
    elsewhere = {"model": "/models/copy-of-tiny", "model_fingerprint": {**local, "model": "/models/copy-of-tiny"}}
    run.prepare(RunHeader("mt", {**made, "pairs": ["en-ja", "ko-en"], "langs": ["en", "ko"], "prompt_lang": "zh-Hans",
                                 **elsewhere}, {}, ["en-ja", "ko-en"]))
    assert run.read_config()["identity"]["pairs"] == ["ko-en", "en-ja"]   # kept as it was made
    with pytest.raises(XlingError, match=r"differs in: model, model_fingerprint"):
        other = {**local, "model": "/models/copy-of-tiny", "revision": "local-def"}
        run.prepare(RunHeader("mt", {**made, "model": other["model"], "model_fingerprint": other}, {}, ["ko-en"]))
    with pytest.raises(XlingError, match=r"differs in: pairs"):
        run.prepare(RunHeader("mt", {**made, "pairs": ["ko-en", "ja-en"]}, {}, ["ko-en", "ja-en"]))
    with pytest.raises(XlingError, match=r"differs in: prompt_lang"):
        run.prepare(RunHeader("mt", {**made, "prompt_lang": "zh-Hant"}, {}, ["ko-en", "en-ja"]))


def test_a_model_folder_rewritten_after_it_was_opened_is_refused_when_its_weights_load(tmp_path, tiny_causal_base):
    """A trainer saving into the folder between opening (the fingerprint) and loading (the
    weights): the new weights' outputs must not go into the cache under the old fingerprint."""
    from xling.translation.translator import Translator

    folder = tmp_path / "model"
    shutil.copytree(tiny_causal_base, folder)
    translator = Translator(str(folder), cache=str(tmp_path / "cache"))
    settings = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    (folder / "config.json").write_text(json.dumps({**settings, "saved_by": "a later epoch"}), encoding="utf-8")
    with pytest.raises(XlingError, match="changed after xling opened them"):
        translator.translate(["물은 맑다."], "ko", "en")


def test_an_nli_run_resumes_with_its_languages_in_another_order(tmp_path, tiny_causal_base, data_dir, capsys):
    """The data digest follows the cells' order: a resume with --langs fr,en of an en,fr folder
    was refused as other data (round 17's review)."""
    from xling.cli import main

    args = ["eval", "nli", "-m", str(tiny_causal_base), "--limit", "2", "--shots", "0", "--mode", "ll",
            "--out", str(tmp_path / "run")]
    assert main([*args, "--langs", "en,fr"]) == 0
    assert main([*args, "--langs", "fr,en"]) == 0, capsys.readouterr().err
    assert json.loads((tmp_path / "run" / "config.json").read_text(encoding="utf-8"))["directions"] == ["en", "fr"]


def test_a_template_the_user_changed_is_not_said_to_have_changed_by_itself():
    """(audit round 21) --template another one was refused as "its prompt template has changed
    since that run was made (edited, or rewritten by a newer xling)"."""
    from xling.runs.folder import _why

    assert "has changed since that run was made" in _why(["templates"])
    assert _why(["template", "templates"]) == ""



def test_another_model_is_not_said_to_be_an_edited_template():
    """(audit round 23) `eval mt -m tiny_s2s` into a folder made with a chat model (whose default
    template differs) was refused as "its prompt template has changed since that run was made
    (edited, or rewritten by a newer xling)": the user changed --model."""
    from xling.runs.folder import _why

    assert _why(["model", "model_fingerprint", "template_hash"]) == ""
    assert _why(["judge_model", "templates"]) == ""
    assert "has changed since that run was made" in _why(["model_fingerprint", "template_hash"])
