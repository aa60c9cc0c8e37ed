"""Few-shot NLI on a user's own files (issue 25, item 5): demonstrations from `--shots-file`
(config `shots_file`) or `nli-file:TEST,DEV`, drawn balanced across labels, never an item of the
test file, and recorded in config.json. The files are our own Japanese sentences
(tests/data/nli_ja_test.tsv: 30 items; nli_ja_dev.tsv: 9 demonstrations)."""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import assert_one_line_error, xling
from servers import FakeOpenAI

from xling.cli import cli
from xling.data.choice import read_nli_file

DATA = Path(__file__).resolve().parent / "data"
TEST, DEV = DATA / "nli_ja_test.tsv", DATA / "nli_ja_dev.tsv"


@pytest.fixture
def recorder():
    """A served 'model' that answers はい and keeps every prompt it is sent."""
    prompts = []

    def respond(payload):
        prompts.append(payload.get("prompt") or "\n".join(m["content"] for m in payload["messages"]))
        return "はい"

    server = FakeOpenAI(respond=respond)
    server.prompts = prompts
    yield server
    server.close()


def _eval(out, url, *extra):
    return CliRunner().invoke(cli, ["eval", "nli", "--langs", "ja", "--mode", "gen", "--out", str(out),
                                    "--backend", "http", "--base-url", url, "-m", "fake", *extra])


def shown(prompt: str, items) -> list:
    return [i for i in items if i.fields["premise"] in prompt and i.fields["hypothesis"] in prompt]


@pytest.mark.parametrize("how", ["shots-file", "spec"])
def test_demonstrations_from_the_users_file_reach_every_prompt(tmp_path, recorder, how):
    data = f"nli-file:{TEST}" if how == "shots-file" else f"nli-file:{TEST},{DEV}"
    extra = ["--shots-file", str(DEV)] if how == "shots-file" else []
    result = _eval(tmp_path / "run", recorder.url, "--data", data, "--shots", "3", *extra)
    assert result.exit_code == 0, result.output
    dev, test = read_nli_file(DEV), read_nli_file(TEST)
    assert len(recorder.prompts) == 30
    first = shown(recorder.prompts[0], dev)
    assert len(first) == 3 and sorted(i.label for i in first) == [0, 1, 2]   # one of each label
    for prompt in recorder.prompts:
        assert shown(prompt, dev) == first                 # the same three everywhere
        assert len(shown(prompt, test)) == 1               # and only the item itself from the test file
    config = json.loads((tmp_path / "run" / "config.json").read_text(encoding="utf-8"))
    shots = config["shots"]
    assert shots["from"] == ("shots_file" if how == "shots-file" else "nli-file dev")
    assert shots["path"] == str(DEV) and len(shots["sha256"]) == 64


def test_zero_shot_prompts_hold_no_demonstration(tmp_path, recorder):
    result = _eval(tmp_path / "run", recorder.url, "--data", f"nli-file:{TEST}")
    assert result.exit_code == 0, result.output
    assert all(len(shown(p, read_nli_file(TEST))) == 1 for p in recorder.prompts)
    assert json.loads((tmp_path / "run" / "config.json").read_text(encoding="utf-8"))["shots"] is None


def test_a_demonstrations_file_that_repeats_test_items_never_shows_them(tmp_path, recorder):
    mixed = tmp_path / "mixed.tsv"
    mixed.write_text(TEST.read_text(encoding="utf-8").splitlines(keepends=True)[0]
                     + DEV.read_text(encoding="utf-8"), encoding="utf-8")
    result = _eval(tmp_path / "run", recorder.url, "--data", f"nli-file:{TEST}", "--shots", "9",
                   "--shots-file", str(mixed))
    assert result.exit_code == 0, result.output   # 10 in the file, 9 usable: the test item is left out
    test_first = read_nli_file(TEST)[0]
    assert all(p.count(test_first.fields["premise"]) <= 1 for p in recorder.prompts)
    result = _eval(tmp_path / "run2", recorder.url, "--data", f"nli-file:{TEST}", "--shots", "10",
                   "--shots-file", str(mixed))
    assert result.exit_code != 0 and "the dev pool has only 9 (1 of its 10 repeat an evaluated item)" in \
        str(result.exception)   # (audit round 18: why the pool is short)


def test_nli_file_without_demonstrations_and_bad_files_are_one_line(tmp_path):
    common = ["eval", "nli", "--langs", "ja", "--out", str(tmp_path / "run"), "--backend", "http",
              "--base-url", "http://127.0.0.1:9/v1", "-m", "fake"]
    result = xling(*common, "--data", f"nli-file:{TEST}", "--shots", "2")
    assert_one_line_error(result, "has no separate split to draw few-shot examples from")
    assert "--shots-file" in result.stderr.decode() and "nli-file:TEST,DEV" in result.stderr.decode()
    result = xling(*common, "--data", f"nli-file:{TEST},{tmp_path / 'missing.tsv'}", "--shots", "2")
    assert_one_line_error(result, "missing.tsv")
    bad = tmp_path / "bad.tsv"
    bad.write_text("前提\t仮説\tmaybe\n", encoding="utf-8")
    result = xling(*common, "--data", f"nli-file:{TEST}", "--shots", "1", "--shots-file", str(bad))
    assert_one_line_error(result, "label 'maybe' is not one of entailment, neutral, contradiction")
    assert not (tmp_path / "run").exists()


def test_shots_file_is_for_nli_only(tmp_path):
    from xling.errors import XlingError
    from xling.runs.config import build_config
    from xling.tasks.choice import run_choice

    config = build_config(dict(task="multiple_choice", out=str(tmp_path / "r"), langs=["en"],
                               data="xcsqa:dev", shots=1, shots_file=str(DEV)))
    with pytest.raises(XlingError, match="for `xling eval nli`"):
        run_choice(config, progress=False)


def test_a_tiny_model_run_with_file_demonstrations_resumes_and_old_runs_keep_their_identity(
        tmp_path, tiny_causal_base):
    from xling.runs.config import build_config

    def config(**extra):
        return build_config(dict(task="nli", out=str(tmp_path / "run"), model=str(tiny_causal_base),
                                 data=f"nli-file:{TEST}", langs=["ja"], limit=4, bootstrap=50, **extra))

    # a run made before shots_file existed has no such key in its identity: still the same run
    assert "shots_file" not in config().identity()
    assert config(shots=3, shots_file=str(DEV)).identity()["shots_file"] == str(DEV)
    result = xling("eval", "nli", "--langs", "ja", "--data", f"nli-file:{TEST}", "--shots", "3",
                   "--shots-file", str(DEV), "--limit", "4", "-m", str(tiny_causal_base),
                   "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr.decode()
    records = [json.loads(line) for line in (tmp_path / "run" / "outputs" / "ja.jsonl").open(encoding="utf-8")]
    assert len(records) == 4 and all(len(r["ll_scores"]) == 3 for r in records)
