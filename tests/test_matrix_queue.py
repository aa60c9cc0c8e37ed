"""A run of several directions translates them from one queue (batches stay full across
direction boundaries): the same records as translating direction by direction, one queue in
metrics.json, and a run killed inside the queue resumes from the output cache to the same
records."""
import json
import signal
import sqlite3

from test_runs import config, killable_run, read_all

from xling.backends.base import Decoding
from xling.tasks.mt import queue_groups, run_mt
from xling.translation.translator import Translator


def test_queued_directions_equal_direction_by_direction(tmp_path, tiny_causal_base, data_dir, monkeypatch, capfd):
    monkeypatch.setenv("XLING_DATA", str(data_dir))
    langs = ["en", "ko", "ja"]
    settings = config(tmp_path, tiny_causal_base, langs=langs, limit=5, batch_size=4, refill=True)
    run = run_mt(settings, progress=True)
    assert "en-ko, en-ja, ko-en, ko-ja, ja-en, ja-ko: 30 segments in one queue" in capfd.readouterr().err
    metrics = run.read_metrics()["directions"]
    queues = {json.dumps(m["generation"]["queue"], sort_keys=True) for m in metrics.values()}
    (queue,) = queues                          # one queue, recorded with every direction
    queue = json.loads(queue)
    assert queue["directions"] == 6 and queue["segments"] == queue["generated"] == 30
    # batches spanned directions: fewer fresh batches than directions (the rest were refills)
    assert queue["batches"]["max_rows"] <= 4 and queue["batches"]["count"] < 6 and queue["batches"]["refills"]
    # run again: every segment from the cache, so each direction keeps the cost recorded when it
    # was made (a re-run charged nothing and reported 0 s)
    again = run_mt(settings, progress=False).read_metrics()["directions"]
    assert {name: m["generation"] for name, m in again.items()} == \
        {name: m["generation"] for name, m in metrics.items()}
    # the same outputs as one direction at a time, through a fresh translator and no cache
    alone = Translator(str(tiny_causal_base), batch_size=1, cache=False, quiet=True,
                       decoding=Decoding(max_new_tokens_cap=24))
    for name in metrics:
        src, tgt = name.split("-")
        records = run.read_outputs(name)
        assert [r["raw"] for r in records] == [t.raw for t in alone.translate_records(
            [r["source"] for r in records], src, tgt)], name


def test_a_run_killed_inside_its_queue_resumes_to_identical_records(tmp_path, tiny_causal_base, data_dir):
    run = killable_run(tmp_path, tiny_causal_base, data_dir)

    def cached(cache) -> int:
        try:
            with sqlite3.connect(cache / "outputs.sqlite", timeout=1) as db:
                return db.execute("SELECT COUNT(*) FROM outputs").fetchone()[0]
        except sqlite3.Error:
            return 0

    reference = run(tmp_path / "whole", tmp_path / "cache-whole")
    assert reference.wait(timeout=600) == 0, reference.stderr.read()

    victim = run(tmp_path / "killed", tmp_path / "cache-killed", kill="cache:12")
    assert victim.wait(timeout=600) == -signal.SIGKILL, victim.stderr.read()
    assert 12 <= cached(tmp_path / "cache-killed") < 72, "the run should have been killed inside its queue"
    assert not list((tmp_path / "killed" / "outputs").glob("*.jsonl"))    # no direction was written yet
    resumed = run(tmp_path / "killed", tmp_path / "cache-killed")
    assert resumed.wait(timeout=600) == 0, resumed.stderr.read()
    assert read_all(tmp_path / "killed") == read_all(tmp_path / "whole")
    assert len(read_all(tmp_path / "killed")) == 12


def test_directions_are_queued_in_groups_of_about_equal_segments():
    assert queue_groups([1012] * 12) == [list(range(12))]                  # FLORES' matrix: one queue
    groups = queue_groups([1000] * 55)                                     # WMT24++: a few queues
    assert len(groups) == 4 and sorted(sum(groups, [])) == list(range(55))
    assert max(map(len, groups)) - min(map(len, groups)) <= 1
    assert queue_groups([20000, 10, 10]) == [[0], [1, 2]]
    assert queue_groups([5]) == [[0]]
