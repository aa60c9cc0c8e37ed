"""Run folders written before the components step (registries, config in sections) resume
unchanged: same identity, nothing generated again, outputs byte for byte.

tests/data/run_before_registries/ was written by `xling eval mt` and `xling eval nli` at commit
7910974 with a tiny model committed beside it (tests/data/frozen_tiny_causal: its files, and so
its fingerprint, never change with the installed transformers); cache/ is the output cache
those commands filled: an MT run resumes through it (its keys must not change)."""
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from xling.cli import main

ROOT = Path(__file__).resolve().parent.parent
OLD = ROOT / "tests" / "data" / "run_before_registries"
MODEL = "tests/data/frozen_tiny_causal"

# The exact commands that wrote the folders (paths relative to the repository root, as stored).
COMMANDS = {
    "mt": ["eval", "mt", "-m", MODEL, "--data", "jsonl:tests/data/wmt_like_docs.jsonl",
           "--pairs", "en-ko,ko-ja", "--limit", "3", "--metrics", "bleu,chrf,offtarget"],
    "nli": ["eval", "nli", "-m", MODEL, "--data",
            "nli-file:tests/data/nli_ja_test.tsv,tests/data/nli_ja_dev.tsv", "--langs", "ja",
            "--limit", "4", "--shots", "2"],
}


def cached_answers(cache: Path) -> int:
    with sqlite3.connect(cache / "outputs.sqlite") as db:
        return db.execute("select count(*) from outputs").fetchone()[0]


@pytest.mark.parametrize("task", sorted(COMMANDS))
def test_run_folder_from_before_the_registries_resumes_unchanged(task, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    cache = tmp_path / "cache"
    shutil.copytree(OLD / "cache", cache)
    answers = cached_answers(cache)
    monkeypatch.setenv("XLING_CACHE", str(cache))
    run = tmp_path / task
    shutil.copytree(OLD / task, run)
    before = {p.relative_to(run): p.read_bytes() for p in (run / "outputs").iterdir()}
    old_identity = json.loads((OLD / task / "config.json").read_text(encoding="utf-8"))["identity"]

    assert main([*COMMANDS[task], "-o", str(run)]) == 0, capsys.readouterr().err

    after = {p.relative_to(run): p.read_bytes() for p in (run / "outputs").iterdir()}
    assert after == before                                        # byte-identical, nothing added
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    assert config["identity"] == old_identity
    assert cached_answers(cache) == answers > 0                   # every answer came from the cache
    assert "translating" not in capsys.readouterr().err
