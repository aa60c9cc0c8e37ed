"""A user's own WMT-shaped data (issue 25, item 6): `jsonl:` with `document_id`, `segment_id`
and `domain` beside the language keys, in any direction, so that `--unit document` and the
report's by-domain and document-level scores work. The fixture (tests/data/wmt_like_docs.jsonl)
is our own: three documents of 5-7 segments in three domains, in English, Korean and Japanese."""
import json
import re
from pathlib import Path

import pytest
from helpers import assert_one_line_error, xling

from xling.data.parallel import load_parallel
from xling.errors import XlingError

DOCS = Path(__file__).resolve().parent / "data" / "wmt_like_docs.jsonl"


def rows():
    return [json.loads(line) for line in DOCS.read_text(encoding="utf-8").splitlines()]


def test_jsonl_metadata_fields_travel_beside_the_languages():
    data = load_parallel(f"jsonl:{DOCS}")
    assert sorted(data.languages()) == ["en", "ja", "ko"] and data.has_documents
    assert data.ids == [str(i) for i in range(1, 19)]
    assert [m["document_id"] for m in data.meta].count("speech-school-opening") == 5
    assert data.meta[0] == {"document_id": "news-harbor-bridge", "segment_id": 1, "domain": "news"}
    assert data.text("ja")[0] == rows()[0]["ja"]
    # without metadata a file still has no documents, as before
    plain = DOCS.parent / "plain.jsonl"
    try:
        plain.write_text("".join(json.dumps({"ko": r["ko"], "en": r["en"]}, ensure_ascii=False) + "\n"
                                 for r in rows()), encoding="utf-8")
        assert not load_parallel(f"jsonl:{plain}").has_documents
    finally:
        plain.unlink()


@pytest.mark.parametrize("change, line, message", [
    ({"speaker": "x"}, 1, "key 'speaker' is neither a language code nor one of id, document_id, segment_id, domain"),
    ({"document_id": ""}, 2, "'document_id' must be a non-empty text"),
    ({"domain": None}, 2, "'domain' must be a non-empty text, not None"),
    ({"segment_id": 1}, 2, "segment_id 1 of document news-harbor-bridge was already used at"),
    ({"segment_id": True}, 2, "'segment_id' must be a whole number or a non-empty text"),
    ({"ko": ["a"]}, 2, "'ko' must be text"),
])
def test_bad_metadata_names_the_line(tmp_path, change, line, message):
    data = rows()
    data[line - 1] |= change
    if "speaker" in change:
        for row in data:
            row["speaker"] = "x"
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data), encoding="utf-8")
    with pytest.raises(XlingError, match=f"docs.jsonl:{line}: " + message.replace("(", r"\(")):
        load_parallel(f"jsonl:{path}")


@pytest.mark.parametrize("bad, message", [
    (None, "'id' must be a whole number or a non-empty text, not None"),
    ([1, 2], "'id' must be a whole number or a non-empty text, not \\[1, 2\\]"),
    (1.0, "'id' must be a whole number or a non-empty text, not 1.0"),
    ("a", "id 'a' was already used at line 1"),
])
def test_record_ids_are_whole_numbers_or_texts_and_unique(tmp_path, bad, message):
    data = [dict(r, id=f"{k}") for k, r in enumerate(rows())]
    data[0]["id"], data[1]["id"] = "a", bad
    path = tmp_path / "ids.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data), encoding="utf-8")
    with pytest.raises(XlingError, match="ids.jsonl:2: " + message):
        load_parallel(f"jsonl:{path}")


def test_document_runs_and_reports_by_domain_and_document_in_any_direction(tmp_path, tiny_causal_base):
    from xling.metrics import chrf
    from xling.reporting.report import build_report

    out = tmp_path / "doc"
    result = xling("eval", "mt", "-m", str(tiny_causal_base), "--data", f"jsonl:{DOCS}", "--pairs", "ko-ja,ja-en",
                   "--unit", "document", "--metrics", "bleu,chrf", "--max-new-tokens", "48", "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))["directions"]
    for direction in ("ko-ja", "ja-en"):
        records = [json.loads(line) for line in (out / "outputs" / f"{direction}.jsonl").open(encoding="utf-8")]
        assert [(r["document_id"], r["segment_id"], r["domain"]) for r in records] == \
            [(r["document_id"], r["segment_id"], r["domain"]) for r in rows()]
        chunks = {r["chunk"] for r in records}
        # chunks never cross documents, and every document has at least one
        assert {c.rsplit("#", 1)[0] for c in chunks} == {r["document_id"] for r in rows()}
        assert metrics[direction]["realignment"]["chunks"] == len(chunks)
    tables = {t.title: t for t in build_report([str(out)])}
    by_domain = tables["doc: ko-ja by domain"]
    assert by_domain.header == ["domain", "n", "BLEU", "chrF", "documents", "BLEU (doc)", "chrF (doc)"]
    cells = {row[0]: row for row in by_domain.rows}
    assert [cells[d][1] for d in ("all", "news", "speech", "literary")] == ["18", "6", "5", "7"]
    # documents are scored only where realigned in full (the column says how many when not all)
    records = [json.loads(line) for line in (out / "outputs" / "ko-ja.jsonl").open(encoding="utf-8")]
    for domain, n in (("news", 1), ("speech", 1), ("literary", 1), ("all", 3)):
        rows_of = [r for r in records if domain == "all" or r["domain"] == domain]
        docs = {r["document_id"] for r in rows_of}
        whole = docs - {r["document_id"] for r in rows_of if r.get("realigned") is False}
        assert cells[domain][4] == (str(n) if len(whole) == n else f"{len(whole)}/{n} realigned")
    # document-level chrF of a domain = chrF of its one document's joined outputs and references
    speech = [r for r in records if r["domain"] == "speech"]
    joined = chrf([" ".join(r["output"] for r in speech)], [" ".join(r["reference"] for r in speech)])
    realigned = all(r.get("realigned") is not False for r in speech)
    assert cells["speech"][6] == (f"{joined.score:.2f}" if realigned else "—")
    segments = chrf([r["output"] for r in speech], [r["reference"] for r in speech])
    assert cells["speech"][3] == f"{segments.score:.2f}"
    # the same file by segment: the report still has the domains (no document needed)
    result = xling("eval", "mt", "-m", str(tiny_causal_base), "--data", f"jsonl:{DOCS}", "--pairs", "en-ko",
                   "--metrics", "chrf", "--limit-per-domain", "2", "--max-new-tokens", "16",
                   "--out", str(tmp_path / "seg"))
    assert result.returncode == 0, result.stderr.decode()
    report = xling("report", str(tmp_path / "seg")).stdout.decode()
    assert "seg: en-ko by domain" in report and "literary" in report


def test_document_mode_on_a_file_without_documents_is_one_line(tmp_path, tiny_causal_base):
    path = tmp_path / "plain.jsonl"
    path.write_text("".join(json.dumps({"ko": r["ko"], "ja": r["ja"]}, ensure_ascii=False) + "\n"
                            for r in rows()), encoding="utf-8")
    result = xling("eval", "mt", "-m", str(tiny_causal_base), "--data", f"jsonl:{path}", "--pairs", "ko-ja",
                   "--unit", "document", "--out", str(tmp_path / "run"))
    assert_one_line_error(result, "has no documents")
    assert "document_id" in result.stderr.decode()
    assert not (tmp_path / "run").exists()


def test_documents_without_domains_still_get_document_scores(tmp_path, tiny_causal_base):
    from xling.reporting.report import build_report

    plain = tmp_path / "docs.jsonl"
    plain.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "domain"}, ensure_ascii=False) + "\n"
                             for r in rows()), encoding="utf-8")
    out = tmp_path / "doc"
    result = xling("eval", "mt", "-m", str(tiny_causal_base), "--data", f"jsonl:{plain}", "--pairs", "ko-en",
                   "--metrics", "chrf", "--max-new-tokens", "8", "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    table = {t.title: t for t in build_report([str(out)])}["doc: ko-en by document"]
    # (review C, round 28: renamed "segments" there, a CSV reader lost its column: one header for all data)
    assert table.header == ["domain", "n", "chrF", "documents", "chrF (doc)"]
    assert [row[:2] for row in table.rows] == [["all", "18"]] and table.rows[0][3] == "3"


def test_a_document_whose_segment_ids_run_backwards_is_read_in_order(tmp_path):
    """Document A's "[1] A second. [2] A first." was what the model was asked to translate."""
    records = [("A", 2, "A second."), ("B", 1, "B first."), ("A", 1, "A first."), ("B", 2, "B second.")]
    path = tmp_path / "inter.jsonl"
    path.write_text("".join(json.dumps({"document_id": d, "segment_id": n, "en": t, "de": t}) + "\n"
                            for d, n, t in records), encoding="utf-8")
    data = load_parallel(f"jsonl:{path}")
    assert data.text("en") == ["A first.", "A second.", "B first.", "B second."]
    assert data.ids == ["3", "1", "2", "4"]          # each record keeps its own id (its line)
    # a file in order (documents interleaved or not) is read as it is
    in_order = tmp_path / "ordered.jsonl"
    in_order.write_text("".join(json.dumps({"document_id": d, "segment_id": n, "en": t, "de": t}) + "\n"
                                for d, n, t in sorted(records, key=lambda r: r[1])), encoding="utf-8")
    assert load_parallel(f"jsonl:{in_order}").ids == ["1", "2", "3", "4"]


def test_a_segment_id_given_as_number_and_text_is_one_segment(tmp_path):
    """segment_id 1 and "1" in one document were two segments (document_id 5 and "5" are one)."""
    from xling.data.jsonl import load_jsonl

    path = tmp_path / "d.jsonl"
    path.write_text('{"en": "a", "ko": "A", "document_id": "d", "segment_id": 1}\n'
                    '{"en": "b", "ko": "B", "document_id": "d", "segment_id": "1"}\n', encoding="utf-8")
    with pytest.raises(XlingError, match=r":2: segment_id '1' of document d was already used"):
        load_jsonl(str(path), f"jsonl:{path}")


def test_two_spellings_of_one_segment_number_are_refused(tmp_path):
    """segment_ids "02" and "2" order as one number (their order in a document untold) but passed
    the duplicate check as two names; names that are not numbers stay apart ("02a", "2a")."""
    from xling.data.jsonl import load_jsonl

    path = tmp_path / "d.jsonl"
    path.write_text('{"en": "a", "ko": "A", "document_id": "d", "segment_id": "2"}\n'
                    '{"en": "b", "ko": "B", "document_id": "d", "segment_id": "02"}\n', encoding="utf-8")
    with pytest.raises(XlingError, match=r":2: segment_id '02' of document d was already used at .*:1"):
        load_jsonl(str(path), f"jsonl:{path}")
    path.write_text('{"en": "a", "ko": "A", "document_id": "d", "segment_id": "2a"}\n'
                    '{"en": "b", "ko": "B", "document_id": "d", "segment_id": "02a"}\n', encoding="utf-8")
    assert load_jsonl(str(path), f"jsonl:{path}").ids == ["1", "2"]


def test_a_shots_file_value_that_is_not_text_is_refused(tmp_path):
    """null, lists, objects and numbers went into the prompt as Python's None, ['x', 'y'], 3.5."""
    from xling.data.parallel import read_pair_file

    path = tmp_path / "shots.jsonl"
    path.write_text('{"source": "Hello.", "target": "안녕."}\n{"source": null, "target": ["x", "y"]}\n',
                    encoding="utf-8")
    with pytest.raises(XlingError, match=r"shots.jsonl:2: 'source' must be text, not None"):
        read_pair_file(path)


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_numeric_segment_ids_are_ordered_per_document_beside_text_ids(tmp_path):
    """(audit round 24, D1) A document with numeric ids that run backwards was sent as
    "[1] second of A\\n[2] first of A" as soon as another document used text ids ("intro"), and
    ids written as JSON strings ("2", "1") were never ordered."""
    from servers import FakeOpenAI

    mixed = _write(tmp_path / "mixid.jsonl", [
        {"document_id": "A", "segment_id": 2, "en": "second of A", "de": "y"},
        {"document_id": "A", "segment_id": 1, "en": "first of A", "de": "y"},
        {"document_id": "B", "segment_id": "intro", "en": "b text", "de": "w"},
        {"document_id": "B", "segment_id": "outro", "en": "b end", "de": "w"}])
    data = load_parallel(f"jsonl:{mixed}")
    assert data.text("en") == ["first of A", "second of A", "b text", "b end"]   # B's names: file order
    assert data.ids == ["2", "1", "3", "4"]
    texts = _write(tmp_path / "strid.jsonl", [
        {"document_id": "Q", "segment_id": "2", "en": "second of Q", "de": "y"},
        {"document_id": "Q", "segment_id": "1", "en": "first of Q", "de": "y"}])
    assert load_parallel(f"jsonl:{texts}").text("en") == ["first of Q", "second of Q"]
    prompts = []

    def answer(payload):
        prompts.append(payload["messages"][-1]["content"])
        return "[1] X\n[2] Y"

    server = FakeOpenAI(respond=answer)
    try:
        result = xling("eval", "mt", "--data", f"jsonl:{mixed}", "-p", "en-de", "--unit", "document",
                       "--backend", "http", "--base-url", server.url, "-m", "fake", "--metrics", "chrf",
                       "--out", str(tmp_path / "run"))
    finally:
        server.close()
    assert result.returncode == 0, result.stderr.decode()
    assert any("[1] first of A\n[2] second of A" in p for p in prompts), prompts


def test_a_document_mixing_numbers_and_names_whose_numbers_run_backwards_is_refused(tmp_path):
    """(audit round 24, D1) Its order cannot be told: --unit document gets one line naming the
    record, no run folder; a segment run, which needs no order, reads the file as before
    (review C: refused at load, it stranded such runs)."""
    path = _write(tmp_path / "mixed.jsonl", [
        {"document_id": "A", "segment_id": "intro", "en": "intro", "de": "y"},
        {"document_id": "A", "segment_id": 2, "en": "second", "de": "y"},
        {"document_id": "A", "segment_id": 1, "en": "first", "de": "y"}])
    data = load_parallel(f"jsonl:{path}")
    assert data.text("en") == ["intro", "second", "first"]
    assert re.match(r".*mixed.jsonl:3: segment_id 1 of document A comes after 2 in the file, "
                    r"and the document also has segment_id 'intro'", data.unordered)
    result = xling("eval", "mt", "--data", f"jsonl:{path}", "-p", "en-de", "--unit", "document",
                   "--backend", "http", "--base-url", "http://127.0.0.1:9/v1", "-m", "fake",
                   "--out", str(tmp_path / "run"))
    assert_one_line_error(result, "number every segment of it, or put its numbered records in order")
    assert not (tmp_path / "run").exists()
    # names alone, or numbers in order beside names, keep the file's order
    _write(path, [{"document_id": "A", "segment_id": "intro", "en": "intro", "de": "y"},
                  {"document_id": "A", "segment_id": 1, "en": "first", "de": "y"},
                  {"document_id": "A", "segment_id": 2, "en": "second", "de": "y"}])
    assert load_parallel(f"jsonl:{path}").text("en") == ["intro", "first", "second"]


def test_a_run_made_before_its_document_was_ordered_is_not_resumed(tmp_path, monkeypatch):
    """(audit round 24, D1) A run made when the file was read in its own order asked for other
    prompts: resuming it would mix them. Its data digest differs: refused, with the reason."""
    from click.testing import CliRunner
    from servers import FakeOpenAI

    from xling.cli import cli
    from xling.data import jsonl

    path = _write(tmp_path / "mixid.jsonl", [
        {"document_id": "A", "segment_id": 2, "en": "second of A", "de": "y"},
        {"document_id": "A", "segment_id": 1, "en": "first of A", "de": "y"},
        {"document_id": "B", "segment_id": "intro", "en": "b text", "de": "w"}])
    args = ["eval", "mt", "--data", f"jsonl:{path}", "-p", "en-de", "--unit", "document", "--backend", "http",
            "-m", "fake", "--metrics", "chrf", "--out", str(tmp_path / "run")]
    server = FakeOpenAI(respond=lambda payload: "[1] X\n[2] Y")
    try:
        with monkeypatch.context() as patched:   # as round 23 read it
            patched.setattr(jsonl, "_segment_order", lambda metas, where, unordered: None)
            old = CliRunner().invoke(cli, args + ["--base-url", server.url])
        assert old.exit_code == 0, old.output
        again = xling(*args, "--base-url", server.url)   # as a user runs it
    finally:
        server.close()
    assert_one_line_error(again, "holds a run with a different config (differs in: data_sha256): the data's texts")
    assert server.requests == 2   # (the refused run asked nothing)
