"""NLI prompts that can be read back and read naturally (issue 25, item 8): records keep each
item's own part of its prompt, config.json the cell's demonstrations once, and `xling prompt RUN
ID` prints the exact text the model was given; the log-likelihood verbalizers of Japanese,
Chinese and Korean use their own punctuation; a run folder made with the old wording is refused
with a message that says why."""
import json
from pathlib import Path

import pytest
from helpers import assert_one_line_error, xling

from xling.data.choice import ChoiceItem, read_nli_file
from xling.prompts.choice import render_generation, render_loglikelihood
from xling.prompts.templates import load_template

DATA = Path(__file__).resolve().parent / "data"
TEST, DEV = DATA / "nli_ja_test.tsv", DATA / "nli_ja_dev.tsv"


def item(premise, hypothesis, label=0):
    return ChoiceItem("x", label, {"premise": premise, "hypothesis": hypothesis})


def test_japanese_chinese_and_korean_verbalizers_use_their_own_punctuation():
    template = load_template("xnli-rightq")
    context, options = render_loglikelihood(template, item("田中さんは毎朝走っている。", "田中さんは運動をする。"),
                                            "ja")
    assert context == "田中さんは毎朝走っている。そうですよね？"
    assert options == ["はい、田中さんは運動をする。", "また、田中さんは運動をする。", "いいえ、田中さんは運動をする。"]
    # a premise without its full stop gets one, so the question is its own sentence
    assert render_loglikelihood(template, item("田中さんは毎朝走っている", "x"), "ja")[0] == \
        "田中さんは毎朝走っている。そうですよね？"
    assert render_loglikelihood(template, item("小明每天跑步。", "小明运动。"), "zh") == \
        ("小明每天跑步。对吗？", ["是的，小明运动。", "而且，小明运动。", "不是，小明运动。"])
    assert render_loglikelihood(template, item("小明每天跑步", "小明運動。"), "zh-Hant")[0] == "小明每天跑步。對嗎？"
    assert render_loglikelihood(template, item("철수는 매일 달린다.", "철수는 운동한다."), "ko") == \
        ("철수는 매일 달린다. 맞죠?", [" 네, 철수는 운동한다.", " 또한, 철수는 운동한다.", " 아니요, 철수는 운동한다."])
    # with demonstrations, nowhere an ASCII comma after a full stop
    shots = read_nli_file(DEV)[:3]
    for lang in ("ja", "zh", "ko"):
        context, options = render_loglikelihood(template, read_nli_file(TEST)[0], lang, shots)
        text = context + "".join(options)
        assert "。," not in text and "., " not in text and "?," not in text, lang
    # English keeps lm-evaluation-harness's formulation exactly
    assert render_loglikelihood(template, item("The cat sat.", "A cat sat."), "en") == \
        ("The cat sat., right?", [" Yes, A cat sat.", " Also, A cat sat.", " No, A cat sat."])


@pytest.fixture(scope="module")
def run(tmp_path_factory, tiny_causal_base):
    out = tmp_path_factory.mktemp("nli") / "run"
    result = xling("eval", "nli", "--langs", "ja", "--data", f"nli-file:{TEST}", "--shots", "3",
                   "--shots-file", str(DEV), "--limit", "3", "--mode", "both", "-m", str(tiny_causal_base),
                   "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    return out


def test_records_keep_the_prompt_and_config_the_demonstrations_once(run):
    records = [json.loads(line) for line in (run / "outputs" / "ja.jsonl").open(encoding="utf-8")]
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    demos = config["demonstrations"]["ja"]
    ll, gen = load_template("xnli-rightq"), load_template("nli-generate")
    from xling.prompts.choice import balanced_shots
    shots = balanced_shots(read_nli_file(DEV), 3, 0, 3)
    for record, test_item in zip(records, read_nli_file(TEST)):
        context, options = render_loglikelihood(ll, test_item, "ja", shots)
        assert demos["ll"] + record["prompt"]["ll"]["context"] == context
        assert record["prompt"]["ll"]["options"] == options
        assert demos["gen"] + record["prompt"]["gen"] == render_generation(gen, test_item, "ja", shots)
    # the demonstrations are written once, in config.json, never once per record
    outputs = (run / "outputs" / "ja.jsonl").read_text(encoding="utf-8")
    for shot in shots:
        assert shot.fields["premise"] not in outputs
        assert demos["ll"].count(shot.fields["premise"]) == 1


def test_xling_prompt_prints_the_exact_prompt_by_record_id(run):
    records = [json.loads(line) for line in (run / "outputs" / "ja.jsonl").open(encoding="utf-8")]
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    demos = config["demonstrations"]["ja"]
    record = records[1]
    result = xling("prompt", str(run), record["id"])
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode()
    assert demos["ll"] + record["prompt"]["ll"]["context"] in out
    assert demos["gen"] + record["prompt"]["gen"] in out
    for option in record["prompt"]["ll"]["options"]:
        assert repr(option) in out
    assert f"log-likelihood {record['ll_scores'][0]:.4f}" in out and "gold" in out and "predicted" in out
    assert "template xnli-rightq" in out and "template nli-generate" in out
    only = xling("prompt", str(run), record["id"], "--mode", "gen").stdout.decode()
    assert "log-likelihood prompt" not in only and "generation prompt" in only
    assert_one_line_error(xling("prompt", str(run), "nope"), "has no item 'nope'")
    assert_one_line_error(xling("prompt", str(run), record["id"], "--lang", "ko"), "has no cell 'ko'")


def test_an_old_run_folder_is_refused_with_the_reason_and_old_records_are_named(run, tmp_path, tiny_causal_base):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(run, old)
    config = json.loads((old / "config.json").read_text(encoding="utf-8"))
    config["identity"]["templates"][0] = "0123456789ab"        # as the old wording hashed
    (old / "config.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    before = (old / "outputs" / "ja.jsonl").read_bytes()
    result = xling("eval", "nli", "--langs", "ja", "--data", f"nli-file:{TEST}", "--shots", "3",
                   "--shots-file", str(DEV), "--limit", "3", "--mode", "both", "-m", str(tiny_causal_base),
                   "--out", str(old))
    assert_one_line_error(result, "differs in: templates")
    assert "prompt template has changed since that run was made" in result.stderr.decode()
    assert (old / "outputs" / "ja.jsonl").read_bytes() == before
    # records written before prompts were kept: `xling prompt` says so in one line
    lines = [json.loads(line) for line in before.decode().splitlines()]
    (old / "outputs" / "ja.jsonl").write_text("".join(
        json.dumps({k: v for k, v in r.items() if k != "prompt"}, ensure_ascii=False) + "\n" for r in lines),
        encoding="utf-8")
    assert_one_line_error(xling("prompt", str(old), lines[0]["id"]), "written before records kept their prompts")


def test_xling_prompt_on_an_mt_run_prints_the_segments_checked_prompt(tmp_path, tiny_causal_base):
    (tmp_path / "c.en").write_text("one\n", encoding="utf-8")
    (tmp_path / "c.ko").write_text("하나\n", encoding="utf-8")
    out = tmp_path / "mt"
    assert xling("eval", "mt", "-m", str(tiny_causal_base), "--data", f"text:{tmp_path}/c.{{lang}}", "-p", "en-ko",
                 "--metrics", "chrf", "--max-new-tokens", "4", "--out", str(out)).returncode == 0
    result = xling("prompt", str(out), "00001")
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode()
    assert "direction en-ko, segment 00001" in text and "one" in text
    assert ": the rebuilt prompt hashes to it" in text
    assert_one_line_error(xling("prompt", str(out), "00009"), "has no segment '00009'")


def test_a_log_likelihood_run_resumes_whatever_the_unused_generation_template(tmp_path, tiny_causal_base):
    """(audit round 21) an --mode ll run kept the generation template's hash in its identity: an
    edit of that template (a newer xling's nli-generate) refused every such folder, "resuming
    would mix answers to two different prompts", though no generation prompt was ever built."""
    args = ["eval", "nli", "--langs", "ja", "--data", f"nli-file:{TEST}", "--shots", "0", "--limit", "2",
            "--mode", "ll", "-m", str(tiny_causal_base), "--out", str(tmp_path / "ll")]
    assert xling(*args).returncode == 0
    config = json.loads((tmp_path / "ll" / "config.json").read_text(encoding="utf-8"))
    assert config["identity"]["templates"][1] is None
    config["identity"]["templates"][1] = "0123456789ab"   # as a folder made before, holding both
    (tmp_path / "ll" / "config.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    resumed = xling(*args)
    assert resumed.returncode == 0, resumed.stderr.decode()
    config["identity"]["templates"][0] = "0123456789ab"   # the template it does run: still refused
    (tmp_path / "ll" / "config.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    assert_one_line_error(xling(*args), "differs in: templates")
