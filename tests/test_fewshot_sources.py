"""Where few-shot demonstrations come from (issue 25, item 4): WMT24++ has no dev split, so its
shots come from FLORES-200 dev in each side's language and script (ko_KR -> kor_Hang, zh_TW ->
zho_Hant); the run's config.json says so, and --shots-file overrides it. The prompts are read
as a scripted server receives them; the data is the real WMT24++ and FLORES-200 files."""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import assert_one_line_error, xling
from servers import FakeOpenAI

from xling.cli import cli
from xling.data.parallel import flores_pairs, load_parallel


@pytest.fixture(scope="module")
def wmt24pp_root(data_dir):
    if not (data_dir / "wmt24pp" / "en-ko_KR.jsonl").is_file():
        pytest.skip("../shared/data/wmt24pp/en-ko_KR.jsonl not found")
    if not (data_dir / "flores200" / "dev").is_dir():
        pytest.skip("../shared/data/flores200/dev not found")
    return data_dir


@pytest.fixture
def recorder():
    """A served 'model' that answers "ok" and keeps every request's payload (`payloads`)."""
    server = FakeOpenAI(respond=lambda payload: "ok")
    yield server
    server.close()


def prompt_text(payload) -> str:
    if "messages" in payload:
        return "\n".join(m["content"] for m in payload["messages"])
    return payload["prompt"]


def _row(seg, doc, source, target, locale):
    return {"lp": f"en-{locale}", "domain": "news", "document_id": doc, "segment_id": seg,
            "is_bad_source": False, "source": source, "target": target, "original_target": target}


def traditional_root(tmp_path: Path, data_dir: Path, locale="zh_TW") -> Path:
    """A data folder holding the real FLORES-200 (linked) and a small en-zh_TW WMT24++ file of
    our own sentences (the shared data has no zh_TW)."""
    root = tmp_path / "data"
    (root / "wmt24pp").mkdir(parents=True)
    (root / "flores200").symlink_to(data_dir / "flores200")
    rows = [_row(0, "canary", "CANARY x", "CANARY x", locale) | {"domain": "canary", "is_bad_source": True},
            _row(1, "doc-1", "The library opens at nine.", "圖書館九點開門。", locale),
            _row(2, "doc-1", "Children read there after school.", "孩子們放學後在那裡讀書。", locale)]
    (root / "wmt24pp" / f"en-{locale}.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return root


def test_wmt24pp_demonstrations_are_flores_dev_in_the_same_language_and_script(wmt24pp_root, tmp_path):
    data = load_parallel("wmt24pp:en-ko_KR", wmt24pp_root)
    assert data.dev_pool("en", "ko") == flores_pairs("dev", "en", "ko", wmt24pp_root)
    assert data.dev_source([("en", "ko")])["languages"] == {"en-ko": ["eng_Latn", "kor_Hang"]}
    zh_tw = load_parallel("wmt24pp:en-zh_TW", traditional_root(tmp_path, wmt24pp_root))
    pool = zh_tw.dev_pool("en", "zh-Hant")
    assert pool == flores_pairs("dev", "en", "zh-Hant", wmt24pp_root)
    traditional = (wmt24pp_root / "flores200" / "dev" / "zho_Hant.dev").read_text(encoding="utf-8").splitlines()
    simplified = (wmt24pp_root / "flores200" / "dev" / "zho_Hans.dev").read_text(encoding="utf-8").splitlines()
    assert [t for _, t in pool] == traditional and traditional != simplified


def _eval(root, out, url, *extra):
    return CliRunner().invoke(cli, ["eval", "mt", "--data-dir", str(root), "--out", str(out),
                                    "--backend", "http", "--base-url", url, "-m", "fake",
                                    "--metrics", "chrf", "--limit", "3", *extra])


@pytest.mark.parametrize("locale, lang, flores", [("ko_KR", "ko", "kor_Hang"), ("zh_TW", "zh-Hant", "zho_Hant")])
def test_few_shot_wmt24pp_run_prompts_hold_flores_dev_pairs(wmt24pp_root, tmp_path, recorder, locale, lang, flores):
    root = wmt24pp_root if locale == "ko_KR" else traditional_root(tmp_path, wmt24pp_root, locale)
    out = tmp_path / "run"
    result = _eval(root, out, recorder.url, "--data", f"wmt24pp:en-{locale}", "--shots", "2")
    assert result.exit_code == 0, result.output
    dev = flores_pairs("dev", "en", lang, wmt24pp_root)
    test = load_parallel(f"wmt24pp:en-{locale}", root)
    assert recorder.payloads
    for payload in recorder.payloads:
        text = prompt_text(payload)
        shown = [(s, t) for s, t in dev if s in text and t in text]
        assert len(shown) == 2, text               # two FLORES dev pairs, both sides shown
    # only WMT24++ sources are translated, never a demonstration
    assert sum(test.text("en")[0] in prompt_text(p) for p in recorder.payloads) == 1
    shots = json.loads((out / "config.json").read_text(encoding="utf-8"))["shots"]
    assert shots["from"] == "flores200:dev"
    assert shots["languages"] == {f"en-{lang}": ["eng_Latn", flores]}
    assert "no dev split" in shots["note"]


def test_shots_files_are_one_per_direction_and_never_hold_a_sentence_of_the_data(wmt24pp_root, tmp_path, recorder):
    """Audit round 10: one shots file served every direction (en-ko demonstrations shown
    reversed to ko-en), and a file holding test sentences had its other test items shown as
    demonstrations (only the segments --limit kept were excluded)."""
    from xling.data.parallel import load_parallel

    test = load_parallel("wmt24pp:en-ko_KR", wmt24pp_root)
    own = [("The river is wide.", "강은 넓다."), ("My sister sings well.", "내 여동생은 노래를 잘한다."),
           ("We ate rice at noon.", "우리는 정오에 밥을 먹었다.")]
    leaked = (test.text("en")[10], test.text("ko")[10])      # item 11: past --limit 3
    (tmp_path / "shots.en-ko.tsv").write_text("".join(f"{s}\t{t}\n" for s, t in [*own, leaked]), encoding="utf-8")
    (tmp_path / "shots.ko-en.tsv").write_text("".join(f"{t}\t{s}\n" for s, t in own), encoding="utf-8")
    one = _eval(wmt24pp_root, tmp_path / "one", recorder.url, "--data", "wmt24pp:en-ko_KR", "-p", "en-ko,ko-en",
                "--shots", "3", "--shots-file", str(tmp_path / "shots.en-ko.tsv"))
    assert one.exit_code != 0 and "holds one direction's pairs and this run has 2 directions" in str(one.exception)
    assert not (tmp_path / "one").exists()
    out = tmp_path / "run"
    result = _eval(wmt24pp_root, out, recorder.url, "--data", "wmt24pp:en-ko_KR", "-p", "en-ko,ko-en",
                   "--shots", "3", "--shots-file", str(tmp_path / "shots.{src}-{tgt}.tsv"))
    assert result.exit_code == 0, result.output
    assert "1 pairs of " in result.output and "are sentences of wmt24pp:en-ko_KR" in result.output
    for payload in recorder.payloads:
        text = prompt_text(payload)
        assert leaked[1] not in text and all(s in text and t in text for s, t in own)
        # each direction its own file: the Korean side of a demonstration comes first into English
        first = [text.index(s) < text.index(t) for s, t in own]
        assert first in ([True] * 3, [False] * 3)
    files = json.loads((out / "config.json").read_text(encoding="utf-8"))["shots"]["files"]
    assert [(f["direction"], Path(f["path"]).name, f["pairs"], f["dropped"]) for f in files] == [
        ("en-ko", "shots.en-ko.tsv", 3, 1), ("ko-en", "shots.ko-en.tsv", 3, 0)]
    # `xling prompt` draws the same demonstrations again: the rebuilt prompt hashes as the run's
    for direction in ("en-ko", "ko-en"):
        first = json.loads((out / "outputs" / f"{direction}.jsonl").read_text(encoding="utf-8").splitlines()[0])
        shown = CliRunner().invoke(cli, ["prompt", str(out), first["id"], "--lang", direction])
        assert shown.exit_code == 0, shown.output
        assert "the rebuilt prompt hashes to it" in shown.output and leaked[1] not in shown.output


def test_shots_file_overrides_flores_and_is_recorded(wmt24pp_root, tmp_path, recorder):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("The river is wide.\t강은 넓다.\nMy sister sings well.\t내 여동생은 노래를 잘한다.\n"
                     "We ate rice at noon.\t우리는 정오에 밥을 먹었다.\n", encoding="utf-8")
    out = tmp_path / "run"
    result = _eval(wmt24pp_root, out, recorder.url, "--data", "wmt24pp:en-ko_KR", "--shots", "2",
                   "--shots-file", str(pairs))
    assert result.exit_code == 0, result.output
    own = [tuple(line.split("\t")) for line in pairs.read_text(encoding="utf-8").splitlines()]
    dev = flores_pairs("dev", "en", "ko", wmt24pp_root)
    for payload in recorder.payloads:
        text = prompt_text(payload)
        assert sum(s in text and t in text for s, t in own) == 2
        assert not any(t in text for _, t in dev)
    shots = json.loads((out / "config.json").read_text(encoding="utf-8"))["shots"]
    assert shots["from"] == "shots_file" and shots["path"] == str(pairs) and shots["pairs"] == 3
    assert len(shots["sha256"]) == 64
    # zero shots: nothing to say
    result = _eval(wmt24pp_root, tmp_path / "zero", recorder.url, "--data", "wmt24pp:en-ko_KR")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "zero" / "config.json").read_text(encoding="utf-8"))["shots"] is None


def test_flores_dev_without_the_language_is_one_error_line(wmt24pp_root, tmp_path):
    root = tmp_path / "data"
    (root / "flores200" / "dev").mkdir(parents=True)
    (root / "flores200" / "dev" / "eng_Latn.dev").symlink_to(wmt24pp_root / "flores200" / "dev" / "eng_Latn.dev")
    (root / "wmt24pp").mkdir()
    (root / "wmt24pp" / "en-ko_KR.jsonl").symlink_to(wmt24pp_root / "wmt24pp" / "en-ko_KR.jsonl")
    result = xling("eval", "mt", "--data", "wmt24pp:en-ko_KR", "--data-dir", str(root), "--shots", "1",
                   "--out", str(tmp_path / "run"), "--backend", "http", "--base-url", "http://127.0.0.1:9/v1",
                   "-m", "fake")
    assert_one_line_error(result, "wmt24pp:en-ko_KR has no dev split, so its few-shot examples come from "
                                  "FLORES-200 dev")
    assert "Korean" in result.stderr.decode() and "--shots-file" in result.stderr.decode()
    assert not (tmp_path / "run").exists()


def test_a_shots_files_header_is_no_demonstration(tmp_path):
    """(audit round 23) `source<TAB>target` as a first line (pandas' to_csv writes one) was shown
    to the model as the pair "source" -> "target"."""
    from xling.data.parallel import read_pair_file

    shots = tmp_path / "shots.tsv"
    shots.write_text("Source\tTarget\nThe river is wide.\t강은 넓다.\n", encoding="utf-8")
    assert read_pair_file(shots) == [("The river is wide.", "강은 넓다.")]
    shots.write_text("The river is wide.\t강은 넓다.\nsource\ttarget\n", encoding="utf-8")   # (not a header)
    assert read_pair_file(shots)[1] == ("source", "target")


def test_a_demonstration_a_completion_template_cannot_show_is_refused_by_file_and_line(tmp_path, recorder):
    """(audit round 25) a JSONL shots file can hold line breaks: a blank line split a demonstration
    into blocks at the completion template's own separator, and a target line "English: Dog" read
    as the template's line; exit 0, nothing said. The segments' rule, for translate and eval mt."""
    from helpers import write_corpus

    shots = tmp_path / "shots.jsonl"
    data = write_corpus(tmp_path, {"en": ["Hello.", "The cat."], "de": ["Hallo.", "Die Katze."]})
    backend = ["--backend", "http", "--base-url", recorder.url, "-m", "fake", "--template", "mt-completion",
               "--shots", "2", "--shots-file", str(shots)]
    good = {"source": "Good morning", "target": "Guten Morgen"}
    for bad, said in [({"source": "Good\n\nnight", "target": "Gute Nacht"},
                       "the demonstration's source holds a blank line, which ends a block of the completion "
                       "template 'mt-completion'"),
                      ({"source": "Cat", "target": "Katze\r\n\r\nHund"},
                       "the demonstration's target holds a blank line"),
                      ({"source": "Cat", "target": "Katze\nEnglish: Dog"},
                       "a line of the demonstration's target starts with 'English:', a label of the completion "
                       "template 'mt-completion'")]:
        shots.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
        assert_one_line_error(xling("translate", "-s", "en", "-t", "de", *backend, "Hello."), f"{shots}:2: {said}")
        assert_one_line_error(xling("eval", "mt", "-p", "en-de", "--data", data, "--metrics", "chrf", *backend,
                                    "--out", str(tmp_path / "run")), f"{shots}:2: {said}")
        assert not (tmp_path / "run").exists()
    assert recorder.payloads == []
    # a demonstration of several lines, as a segment may be, is shown (no rule stricter than theirs)
    shots.write_text(json.dumps(good) + "\n" + json.dumps({"source": "Dog\nhouse", "target": "Hund\nHaus"}) + "\n",
                     encoding="utf-8")
    result = xling("translate", "-s", "en", "-t", "de", *backend, "Hello.")
    assert result.returncode == 0 and result.stdout == b"ok\n", result.stderr
    assert "English: Dog\nhouse\nGerman: Hund\nHaus" in prompt_text(recorder.payloads[0])


def test_a_jsonl_data_path_starting_with_a_tilde_is_the_home_folder(tmp_path, monkeypatch):
    """(audit round 23) `jsonl:~/x.jsonl` said the file does not exist, where text:~/... reads it."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "x.jsonl").write_text('{"en": "A cat.", "ko": "고양이."}\n', encoding="utf-8")
    assert load_parallel("jsonl:~/x.jsonl").text("ko") == ["고양이."]


def test_a_data_dir_without_flores_says_what_leaving_it_out_reads(tmp_path, data_dir):
    """(audit round 23) it said "leave --data-dir out to read FLORES+ from the hub", where a
    checkout reads ../shared/data's FLORES-200."""
    from xling.data.parallel import data_root
    from xling.errors import XlingError

    with pytest.raises(XlingError) as caught:
        load_parallel("flores200:devtest", tmp_path)
    assert str(caught.value).endswith(f"or leave --data-dir out to read the data in {data_root(None)}")
