"""The prompts of runs translated by document (xling/reporting/document_prompts.py), rebuilt and
checked against the records' prompt_hash: real document-mode runs of the tiny causal model (its
chat template, and the base model's completion template with two demonstrations) and of a scripted
OpenAI-compatible server (the messages as JSON), each document cut into several chunks of one or
more segments."""
from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import pytest
from servers import FakeOpenAI

from xling.cli import main
from xling.reporting.document_prompts import document_prompt_view
from xling.reporting.mt_prompts import PromptRebuilder
from xling.runs.records import read_run
from xling.translation.documents import mark

DOCS = Path(__file__).parent / "data" / "wmt_like_docs.jsonl"
SHOTS = [("The shop opens at nine.", "가게는 아홉 시에 연다."), ("It snowed all night.", "밤새 눈이 내렸다.")]


def _cli(*args) -> None:
    code = main([str(a) for a in args])
    assert code == 0, f"xling {' '.join(map(str, args))} exited {code}"


def _numbered(payload) -> str:
    """A scripted translator that answers each numbered segment of the chunk it is given."""
    asked = payload["messages"][-1]["content"]
    count = len(re.findall(r"^\[\d+\]", asked, re.M))
    return "\n".join(f"[{k}] 번역 {k}" for k in range(1, count + 1))


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_causal, tiny_causal_base) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("document-prompts")
    shots = root / "shots.tsv"
    shots.write_text("".join(f"{en}\t{ko}\n" for en, ko in SHOTS), encoding="utf-8")
    common = ["eval", "mt", "--data", f"jsonl:{DOCS}", "--pairs", "en-ko", "--unit", "document",
              "--max-new-tokens", "256", "--metrics", "chrf"]    # chunks of 1 to 2 segments
    server = FakeOpenAI(respond=_numbered)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("XLING_CACHE", str(root / "cache"))
            mp.setenv("HF_HUB_OFFLINE", "1")
            _cli(*common, "-m", tiny_causal, "-o", root / "chat")
            _cli(*common, "-m", tiny_causal_base, "--shots", "2", "--shots-file", shots, "-o", root / "completion")
            _cli(*common, "-m", "fake", "--backend", "http", "--base-url", server.url, "--shots", "1",
                 "--shots-file", shots, "-o", root / "http")
    finally:
        server.close()
    return {name: root / name for name in ("chat", "completion", "http")}


def _view(path: Path, records: list[dict] | None = None):
    run = read_run(str(path), fresh=True)
    records = run.run.read_outputs("en-ko") if records is None else records
    return run, records, document_prompt_view(run, "en-ko", records, PromptRebuilder(run))


@pytest.mark.parametrize("kind", ["chat", "completion", "http"])
def test_every_record_is_checked_against_its_chunks_prompt(runs, kind):
    run, records, (view, ok) = _view(runs[kind])
    assert ok == [True] * len(records), view.get("status")
    assert view["verified"] == view["checked"] == len(records)
    assert view["unit"] == "document" and view["status"].startswith("translated by document")
    chunks: dict[str, list[dict]] = {}
    for r in records:
        chunks.setdefault(r["chunk"], []).append(r)
    assert list(view["chunks"]) == list(chunks)
    assert len(chunks) > len({r["document_id"] for r in records})     # documents cut into several chunks
    assert max(len(members) for members in chunks.values()) > 1         # of several segments
    for name, members in chunks.items():
        shown = view["chunks"][name]
        assert shown["hash"] == members[0]["prompt_hash"]
        numbered = mark([r["source"] for r in members])
        if kind == "http":      # the server got (and the hash covers) the messages
            assert set(shown) == {"messages", "hash"}
            assert shown["messages"][-1] == ["user", shown["messages"][-1][1]] and numbered in shown["messages"][-1][1]
        else:
            assert set(shown) == {"input", "hash"} and numbered in shown["input"]
    json.dumps(view, allow_nan=False)      # page data


def test_each_prompt_is_there_once_with_its_demonstrations(runs):
    run, records, (view, _) = _view(runs["completion"])
    assert view["template"] == "mt-document-completion" and view["shots"] == 2
    for shown in view["chunks"].values():
        assert all(f"[1] {en}" in shown["input"] and f"[1] {ko}" in shown["input"] for en, ko in SHOTS)
    _, _, (chat, _) = _view(runs["chat"])
    assert chat["template"] == "mt-document-chat" and chat["shots"] == 0
    assert "the model's chat template" in chat["status"]
    _, _, (http, _) = _view(runs["http"])
    assert http["shots"] == 1 and "server applied its own chat template" in http["status"]


@pytest.mark.parametrize("kind", ["chat", "completion", "http"])
def test_an_altered_hash_or_source_fails_the_check(runs, kind):
    _, records, _ = _view(runs[kind])
    altered = copy.deepcopy(records)
    altered[3]["prompt_hash"] = "0" * 16
    _, _, (view, ok) = _view(runs[kind], altered)
    assert ok == [k != 3 for k in range(len(records))]
    assert view["verified"] == len(records) - 1 and view["checked"] == len(records)
    # A source changed after the run changes its chunk's prompt: every record of that chunk fails.
    edited = copy.deepcopy(records)
    edited[5]["source"] += " (edited)"
    _, _, (_, ok) = _view(runs[kind], edited)
    assert ok == [r["chunk"] != records[5]["chunk"] for r in records]
    # A record without a prompt_hash is not checked.
    edited = copy.deepcopy(records)
    edited[0]["prompt_hash"] = ""
    _, _, (view, ok) = _view(runs[kind], edited)
    assert ok[0] is None and view["checked"] == len(records) - 1


def test_what_cannot_be_rebuilt_says_why(runs, tmp_path):
    run, records, _ = _view(runs["chat"])
    segment_records = [{k: v for k, v in r.items() if k not in ("chunk", "realigned", "chunk_raw")} for r in records]
    view, ok = document_prompt_view(run, "en-ko", segment_records, PromptRebuilder(run))
    assert set(view) == {"status"} and "names no document chunk" in view["status"] and ok == [None] * len(records)
    # a template that changed since the run
    copy_dir = tmp_path / "chat"
    shutil.copytree(runs["chat"], copy_dir)
    config = json.loads((copy_dir / "config.json").read_text(encoding="utf-8"))
    config["template"]["hash"] = "0" * 16
    (copy_dir / "config.json").write_text(json.dumps(config), encoding="utf-8")
    _, _, (view, ok) = _view(copy_dir)
    assert "changed since the run" in view["status"] and ok == [None] * len(records)


@pytest.mark.parametrize("unit", ["document", "segment"])
def test_a_blank_segment_is_said_to_be_unsent_not_shown_its_chunks_prompt(tmp_path, capsys, unit):
    """(audit round 28, item 5) `xling prompt RUN ID` of a blank segment printed its chunk's whole
    prompt (which leaves it out) and "prompt_hash (none): not checked", never saying it was not sent."""
    data = tmp_path / "docs.jsonl"
    data.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in (
        {"document_id": "d", "segment_id": 1, "en": "The bridge opened.", "ko": "다리가 개통했다."},
        {"document_id": "d", "segment_id": 2, "en": "  ", "ko": "빈"},
        {"document_id": "d", "segment_id": 3, "en": "It rained.", "ko": "비가 왔다."})), encoding="utf-8")
    server = FakeOpenAI(respond=_numbered if unit == "document" else lambda payload: "번역")
    try:
        _cli("eval", "mt", "--data", f"jsonl:{data}", "--pairs", "en-ko", "--unit", unit, "--metrics", "chrf",
             "-m", "fake", "--backend", "http", "--base-url", server.url, "-o", tmp_path / "run")
    finally:
        server.close()
    capsys.readouterr()
    assert main(["prompt", str(tmp_path / "run"), "2"]) == 0
    shown = capsys.readouterr().out
    assert "## its source is blank: it was not sent to the model" in shown and "its output is empty" in shown
    assert ("its document chunk d#0's numbered prompt leaves it out" in shown) == (unit == "document")
    assert "prompt_hash" not in shown and "The bridge opened." not in shown and "## messages" not in shown
    assert main(["prompt", str(tmp_path / "run"), "3"]) == 0   # a segment that was sent: as before
    shown = capsys.readouterr().out
    assert "## messages" in shown and "the rebuilt prompt hashes to it" in shown
