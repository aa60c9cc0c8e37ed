"""The language-ratio experiment on this CPU: a tiny chat model and our own paired data."""
import dataclasses
import json
from pathlib import Path

import pytest

from xling.errors import XlingError
from xling.metrics.rouge import rouge_l, tokenize
from xling.runs.config import build_config
from xling.tasks.tuning.judge import JUDGE_RULE, judge_pairwise, parse_verdict
from xling.tasks.tuning.mixes import DEFAULT_RATIOS, build_mix, check_ratios, split_pairs, without_held_out_text
from xling.tasks.tuning.paired import load_pairs
from xling.tasks.tuning.sweep import run_tune_ratio

PAIRED = Path(__file__).parent / "data" / "paired_small.jsonl"


def test_pairs_load_and_validate(tmp_path):
    pairs, report = load_pairs(paired=str(PAIRED))
    assert report["pairs"] == len(pairs) == 24 and pairs[0].ko[1] == "사과는 빨갛습니다."
    en, ko = tmp_path / "en.jsonl", tmp_path / "ko.jsonl"
    en.write_text('{"id": 1, "instruction": "a", "response": "b"}\n{"id": 2, "instruction": "c", "response": "d"}\n')
    ko.write_text('{"id": 1, "instruction": "가", "response": "나"}\n')
    with pytest.raises(XlingError, match="1 id\\(s\\) have no Korean side"):
        load_pairs(str(en), str(ko))
    ko.write_text('{"id": 1, "instruction": "가", "response": "나"}\n'
                  '{"id": 1, "instruction": "다", "response": "라"}\n')
    with pytest.raises(XlingError, match="id '1' appears more than once"):
        load_pairs(str(en), str(ko))
    ko.write_text("")
    with pytest.raises(XlingError, match="is empty"):
        load_pairs(str(en), str(ko))
    ko.write_text('{"id": 1, "instruction": "가", "response": ""}\n{"id": 2, "instruction": "다", "response": "라"}\n')
    assert load_pairs(str(en), str(ko))[1] == {"en_records": 2, "ko_records": 2, "pairs": 1, "dropped_empty": 1}


def test_mixes_have_the_requested_shares_and_never_both_languages():
    pairs, _ = load_pairs(paired=str(PAIRED))
    train, test = split_pairs(pairs, 4, seed=0)
    assert not {p.id for p in train} & {p.id for p in test}
    assert len(DEFAULT_RATIOS) == 15 and 0.005 in DEFAULT_RATIOS
    for ratio in (0.0, 0.25, 0.5, 1.0):
        mix = build_mix(train, ratio, seed=3)
        ids = [pid for pid, _, _, _ in mix.examples]
        assert len(ids) == len(set(ids)) == len(train)         # each pair once, one language
        assert mix.korean_share == pytest.approx(round(ratio * len(train)) / len(train))
        assert build_mix(train, ratio, seed=3).examples == mix.examples   # reproducible
    with pytest.raises(XlingError, match=r"in \[0, 1\]"):
        check_ratios([0.5, 1.5])
    # (audit round 19) a share given twice, or two told apart past 6 digits, trained one unit
    for twice in ([0.5, 0.5], [0.1, 0.1000001]):
        with pytest.raises(XlingError, match="names the Korean share 0.5 twice|names the Korean share 0.1 twice"):
            check_ratios(twice)
    assert check_ratios([0, 0.25, 1]) == [0.0, 0.25, 1.0]


def test_rouge_l_keeps_hangul():
    assert tokenize("고양이가 창문 옆에서 잔다.") == ["고양이가", "창문", "옆에서", "잔다"]
    # LCS("고양이가 창문 옆에서 잔다", "고양이가 방에서 잔다") = 2 tokens; P = 2/4, R = 2/3.
    assert rouge_l("고양이가 창문 옆에서 잔다.", "고양이가 방에서 잔다") == \
        pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert rouge_l("사과", "바나나") == 0.0 and rouge_l("같다", "같다") == 1.0
    # CJK characters are tokens; Latin letters written against them stay one word
    assert tokenize("東京タワーis tall") == tokenize("東京タワー is tall") == [*"東京タワー", "is", "tall"]
    # a word keeps its combining marks (vowel signs): `\w` alone cut "हिन्दी" into ह न द
    assert tokenize("हिन्दी भाषा") == ["हिन्दी", "भाषा"] and tokenize("ภาษาไทย ดี") == ["ภาษาไทย", "ดี"]


def test_the_sweep_table_shows_the_share_trained_on(tmp_path):
    """0.125 of 20 examples trains on 2 Korean ones (10%): the table said 12.5%."""
    from xling.reporting.report import tune_table
    from xling.runs.folder import RunDir
    from xling.runs.records import TuneRun

    units = [{"ratio": 0.125, "korean_share": 0.1, "seed": 0, "rougeL_ko": 0.5, "rougeL_en": 0.4, "losses": [2, 1]},
             {"ratio": 0.5, "korean_share": 0.5, "seed": 0, "rougeL_ko": 0.5, "rougeL_en": 0.4, "losses": [2, 1]}]
    table = tune_table(TuneRun(run=RunDir(tmp_path), config={}, task="tune_ratio", units=units))
    assert [row[0] for row in table.rows] == ["10.0% (asked 12.5%)", "50.0%"]


class ScriptedJudge:
    """A judge with fixed behaviour: prefers the answer containing "good" when it is shown first,
    and answers nonsense for instructions containing "?!" (to count unparseable verdicts)."""
    has_chat_template = True
    fingerprint = {"backend": "scripted"}

    def generate(self, requests, decoding, batch_size=8, on_batch=None):
        out = []
        for r in requests:
            text = r.prompt.messages[-1][1]
            first = text.split("Answer 1:\n")[1].split("\n\nAnswer 2:")[0]
            second = text.split("Answer 2:\n")[1].split("\n\n")[0]
            if "?!" in text:
                out.append("hmm, hard to say")
            elif "good" in first and "good" in second:
                out.append("tie")
            else:
                out.append("1" if "good" in first else "2")
        return out


def test_judge_swaps_order_and_scores_half_per_win():
    judge = ScriptedJudge()
    result = judge_pairwise(judge, ["q1", "q2", "q3", "q4?!"], ["good", "bad", "good", "x"],
                            ["bad", "good", "good too", "y"])
    assert result.verdicts[0] == ("1", "2")         # A first wins, then B first: A wins again
    assert result.scores == [1.0, 0.0, 0.5, None]   # a tie is half a win; unreadable ones none
    assert result.unparseable == 2 and result.preference == pytest.approx(1.5 / 3)
    assert [parse_verdict(t) for t in ("1", " Answer 2.", "TIE", "maybe")] == ["1", "2", "tie", None]


def test_judge_through_a_tiny_real_model(tiny_causal):
    from xling.backends import load_backend

    result = judge_pairwise(load_backend(str(tiny_causal)), ["물이 너무 차갑다."], ["a"], ["b"])
    assert len(result.verdicts) == 1 and len(result.verdicts[0]) == 2      # raw verdicts kept
    parsed = [parse_verdict(v) for v in result.verdicts[0]]
    assert result.unparseable == parsed.count(None)


def test_two_ratio_sweep_trains_evaluates_and_resumes(tmp_path, tiny_causal):
    config = build_config(dict(task="tune_ratio", out=str(tmp_path / "sweep"), model=str(tiny_causal),
                               train_paired=str(PAIRED), ratios=[0.0, 1.0], test_size=4, epochs=3,
                               learning_rate=0.003, batch_size=4, max_new_tokens=12,
                               train_name="Tiny", test_name="Tiny"))
    run = run_tune_ratio(config, progress=False)
    metrics = run.read_metrics()
    assert set(metrics["directions"]) == {"ratio-0_seed-0", "ratio-1_seed-0"}
    for entry in metrics["directions"].values():
        losses = entry["losses"]
        assert len(losses) >= 3 and losses[-1] < losses[0]                 # it learns
        assert 0.0 <= entry["rougeL_ko"] <= 1.0 and 0.0 <= entry["rougeL_en"] <= 1.0
    records = run.read_outputs("ratio-1_seed-0")
    assert {r["lang"] for r in records} == {"ko", "en"} and len(records) == 8
    # Equation 1 appears where the monolingual score is not zero.
    assert set(metrics["score_x_to_y"]) <= {"en->ko", "ko->en"}
    panel = metrics["figure2"]["train Tiny, test Tiny"]
    assert sorted(x for x, _ in panel["ko"]) == [0.0, 100.0]
    assert not (run.path / "models").exists() or not any((run.path / "models").iterdir())
    from xling.reporting.figures import figure2
    fig = figure2([run])
    drawn = [ax for ax in fig.axes if ax.collections]
    assert len(drawn) == 1 and drawn[0].get_title().endswith("train Tiny, test Tiny")
    xs = sorted(x for c in drawn[0].collections for x, _ in c.get_offsets())
    assert xs == [0.0, 0.0, 100.0, 100.0]                # ko and en points at 0% and 100% Korean
    # Resuming skips finished ratios: nothing is trained again.
    before = {p: p.stat().st_mtime_ns for p in (run.path / "outputs").glob("*.jsonl")}
    run_tune_ratio(config, progress=False)
    assert {p: p.stat().st_mtime_ns for p in (run.path / "outputs").glob("*.jsonl")} == before
    # the training batch size is part of the sweep: resuming with another is refused
    with pytest.raises(XlingError, match=r"differs in: batch_size"):
        run_tune_ratio(dataclasses.replace(config, batch_size=2), progress=False)


def test_a_judged_sweep_gives_the_monolingual_model_half_against_itself(tmp_path, tiny_causal):
    config = build_config(dict(task="tune_ratio", out=str(tmp_path / "sweep"), model=str(tiny_causal),
                               train_paired=str(PAIRED), ratios=[0.0, 1.0], test_size=2, epochs=1,
                               batch_size=4, max_new_tokens=6, metric="judge", judge_model=str(tiny_causal)))
    metrics = run_tune_ratio(config, progress=False).read_metrics()
    korean, english = metrics["directions"]["ratio-1_seed-0"], metrics["directions"]["ratio-0_seed-0"]
    # Score(X->Y) divides by the model tuned in Y against itself: 0.5 by definition, whatever a
    # judge says of two identical answers (a tiny model's verdicts are noise)
    assert korean["preference_ko"] == english["preference_en"] == 0.5
    assert korean["judge_rule"] == english["judge_rule"] == JUDGE_RULE
    assert not (tmp_path / "sweep" / "outputs" / "judge_ratio-1_seed-0_ko.jsonl").exists()
    for setting, value in metrics["score_x_to_y"].items():
        tuned = english["preference_ko"] if setting == "en->ko" else korean["preference_en"]
        assert value == pytest.approx(tuned / 0.5)


def test_score_x_to_y_follows_equation_1():
    from xling.tasks.tuning.sweep import score_x_to_y

    def unit(ratio, seed, ko, en):
        return {"ratio": ratio, "seed": seed, "rougeL_ko": ko, "rougeL_en": en}

    metrics = {"directions": {str(i): u for i, u in enumerate([
        unit(0.0, 0, 0.10, 0.50), unit(0.0, 1, 0.20, 0.70), unit(1.0, 0, 0.40, 0.20),
        unit(1.0, 1, 0.40, 0.20), unit(0.25, 0, 0.30, 0.60), unit(0.5, 0, 0.35, 0.55),
        unit(0.75, 0, 0.40, 0.30)])}}
    scores = score_x_to_y(metrics)
    assert scores["en->ko"] == pytest.approx(0.15 / 0.40)      # tuned en, tested ko / tuned ko, tested ko
    assert scores["ko->en"] == pytest.approx(0.20 / 0.60)
    assert scores["en+ko->ko"] == pytest.approx((0.30 + 0.35 + 0.40) / 3 / 0.40)
    assert scores["en+ko->en"] == pytest.approx((0.60 + 0.55 + 0.30) / 3 / 0.60)


def test_bad_sweeps(tmp_path, tiny_causal_base, tiny_causal):
    base = dict(task="tune_ratio", out=str(tmp_path / "s"), train_paired=str(PAIRED), test_size=4)
    # prompts that fill max_length leave nothing to learn: refused before any unit trains
    with pytest.raises(XlingError, match=r"no training pair keeps a response token within max_length 8"):
        run_tune_ratio(build_config(dict(base, model=str(tiny_causal), max_length=8)), progress=False)
    assert not (tmp_path / "s").exists()
    with pytest.raises(XlingError, match="no chat template"):
        run_tune_ratio(build_config(dict(base, model=str(tiny_causal_base))), progress=False)
    with pytest.raises(XlingError, match=r"in \[0, 1\]"):
        run_tune_ratio(build_config(dict(base, model=str(tiny_causal_base), ratios=[-0.1])), progress=False)
    with pytest.raises(XlingError, match="'model' required"):
        build_config(base)
    # round 14: these trained first, then failed (or left a folder saying it "was stopped")
    for extra, message in ((dict(ratios=[0.5], metric="judge", judge_model=str(tiny_causal)), "must include 0 and 1"),
                           (dict(seeds=[]), "seeds must name at least one seed"),
                           (dict(ratios=[]), "ratios must name at least one"),
                           # round 16: found after the folder was made (which then said "resume")
                           (dict(train_size=500), "train_size 500 exceeds the"),
                           # round 17: a train_hub left beside it won over the user's own file, unsaid
                           (dict(train_hub="openorca"), "one training source: .* names train_hub, train_paired"),
                           (dict(train_en="en.jsonl"), "one training source: .* names train_paired, train_en")):
        with pytest.raises(XlingError, match=message):
            run_tune_ratio(build_config(dict(base, model=str(tiny_causal), **extra)), progress=False)
        assert not (tmp_path / "s").exists()
    # round 16: weights missing or cut short (the base's: a traceback after the folder was made;
    # the judge's: found after every unit had trained) are one line before anything is written
    import shutil

    for broken, cut in (("no-weights", False), ("cut-weights", True)):
        folder = tmp_path / broken
        shutil.copytree(tiny_causal, folder)
        for weights in folder.glob("*.safetensors"):
            if cut:
                weights.write_bytes(weights.read_bytes()[:40])
            else:
                weights.unlink()
        for extra in (dict(model=str(folder)), dict(model=str(tiny_causal), ratios=[0.0, 1.0], metric="judge",
                                                     judge_model=str(folder))):
            with pytest.raises(XlingError, match=f"cannot load model weights from '{folder}'"):
                run_tune_ratio(build_config(dict(base, **extra)), progress=False)
            assert not (tmp_path / "s").exists()


def test_hub_rows_are_joined_by_id_never_by_chance():
    from datasets import Dataset

    from xling.tasks.tuning.paired import join_hub_rows

    # OpenOrca's layout: the Korean set is a sample of the English one, in its own order
    english = Dataset.from_dict({"id": ["niv.1", "t0.2", "cot.3"], "question": ["Q one", "Q two", "Q three"],
                                 "response": ["A one", "A two", "A three"]})
    korean = Dataset.from_dict({"id": ["cot.3", "niv.1", "flan.9"],
                                "instruction": ["질문 셋", "질문 하나", "질문 아홉"],
                                "output": ["답 셋", "답 하나", "답 아홉"]})
    pairs, report = join_hub_rows(english, korean, None)
    assert [(p.id, p.en[0], p.ko[0]) for p in pairs] == [("cot.3", "Q three", "질문 셋"),
                                                         ("niv.1", "Q one", "질문 하나")]
    assert report["joined_by"] == "id" and report["unmatched_ids"] == 1
    # LIMA's layout: conversations, no ids, as many rows: by position
    lima = Dataset.from_dict({"conversations": [["Q", "A"], ["Q2", "A2"]]})
    ko_lima = Dataset.from_dict({"conversations": [["질문", "답"], ["질문2", "답2"]]})
    pairs, report = join_hub_rows(lima, ko_lima, 1)
    assert [(p.en, p.ko) for p in pairs] == [(("Q", "A"), ("질문", "답"))] and report["joined_by"] == "position"
    with pytest.raises(XlingError, match=r"\(2 rows\) and .* \(3 rows\) have no `id` column .* cannot be paired"):
        join_hub_rows(lima, Dataset.from_dict({"conversations": [["a", "b"]] * 3}), None)
    # a limit counts usable pairs: one with an empty side is skipped, not counted (the sweep
    # asked for exactly train + test rows and refused when one was empty)
    lima3 = Dataset.from_dict({"conversations": [["Q", "A"], ["Q2", ""], ["Q3", "A3"]]})
    ko3 = Dataset.from_dict({"conversations": [["질문", "답"], ["질문2", "답2"], ["질문3", "답3"]]})
    pairs, report = join_hub_rows(lima3, ko3, 2)
    assert [p.en[0] for p in pairs] == ["Q", "Q3"] and report["dropped_empty"] == 1


def test_a_unit_killed_after_its_model_was_saved_is_not_trained_again(tmp_path, tiny_causal, monkeypatch):
    """Audit round 10: a kill while the trained model answered its test set (or was judged) threw
    the fine-tune away: the resumed unit trained again (hours of GPU on a real model)."""
    from xling.tasks.tuning import sweep

    config = build_config(dict(task="tune_ratio", out=str(tmp_path / "sweep"), model=str(tiny_causal),
                               train_paired=str(PAIRED), ratios=[1.0], test_size=2, epochs=1,
                               batch_size=4, max_new_tokens=6))
    real = sweep.answer

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep, "answer", killed)
    with pytest.raises(KeyboardInterrupt):
        run_tune_ratio(config, progress=False)
    unit = tmp_path / "sweep" / "models" / "ratio-1_seed-0"
    losses = json.loads((unit / "trained.json").read_text())["stats"]["losses"]
    # the folder resumed with other settings (--overwrite): that model is not this unit's
    trained_again = []
    real_tune = sweep.fine_tune
    monkeypatch.setattr(sweep, "fine_tune", lambda *a, **k: trained_again.append(1) or real_tune(*a, **k))
    with pytest.raises(KeyboardInterrupt):
        run_tune_ratio(dataclasses.replace(config, epochs=2), progress=False, overwrite=True)
    assert trained_again == [1]
    with pytest.raises(KeyboardInterrupt):    # and back: the epochs=2 model is not this config's either
        run_tune_ratio(config, progress=False, overwrite=True)
    assert trained_again == [1, 1]
    assert json.loads((unit / "trained.json").read_text())["stats"]["losses"] == losses   # deterministic here
    monkeypatch.setattr(sweep, "answer", real)
    monkeypatch.setattr(sweep, "fine_tune", lambda *a, **k: pytest.fail("trained again"))
    metrics = run_tune_ratio(config, progress=False).read_metrics()
    assert metrics["directions"]["ratio-1_seed-0"]["losses"] == losses and not unit.exists()


def test_a_sweep_whose_pairs_or_base_model_changed_is_not_resumed(tmp_path, tiny_causal):
    """The sweep's identity held its settings only: a paired file edited in place, or other weights
    at the model's path, resumed and tabled old and new units together."""
    import shutil

    paired = tmp_path / "paired.jsonl"
    shutil.copy(PAIRED, paired)
    model = tmp_path / "model"
    shutil.copytree(tiny_causal, model)
    config = build_config(dict(task="tune_ratio", out=str(tmp_path / "sweep"), model=str(model),
                               train_paired=str(paired), ratios=[1.0], test_size=2, epochs=1,
                               batch_size=4, max_new_tokens=4))
    run_tune_ratio(config, progress=False)
    run_tune_ratio(config, progress=False)   # unchanged: resumes
    paired.write_text(paired.read_text(encoding="utf-8").replace("a", "b", 1), encoding="utf-8")
    with pytest.raises(XlingError, match=r"differs in: data_sha256"):
        run_tune_ratio(config, progress=False)
    shutil.copy(PAIRED, paired)
    weights = next(model.glob("*.safetensors"))
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(XlingError, match=r"differs in: base_model_content.*the model's files"):
        run_tune_ratio(config, progress=False)


def test_a_stopped_sweep_draws_its_finished_units(tmp_path, tiny_causal, monkeypatch):
    """Figure 2's points were written at the end of a sweep only: a stopped one drew nothing."""
    from xling.tasks.tuning import sweep

    config = build_config(dict(task="tune_ratio", out=str(tmp_path / "sweep"), model=str(tiny_causal),
                               train_paired=str(PAIRED), ratios=[0.0, 1.0], test_size=2, epochs=1,
                               batch_size=4, max_new_tokens=4))
    real, answered = sweep.answer, []

    def stop_at_the_second_unit(*args, **kwargs):
        answered.append(1)
        if len(answered) > 2:   # (each unit answers in ko, then en)
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(sweep, "answer", stop_at_the_second_unit)
    with pytest.raises(KeyboardInterrupt):
        run_tune_ratio(config, progress=False)
    panel = json.loads((tmp_path / "sweep" / "metrics.json").read_text())["figure2"]["train train, test train"]
    assert [x for x, _ in panel["ko"]] == [0.0] and [x for x, _ in panel["en"]] == [0.0]


def test_a_unit_of_a_sweep_made_before_its_identity_grew_is_not_trained_again(tmp_path, tiny_causal, monkeypatch):
    """(the review of round 14) A sweep killed after training a unit under the older identity
    (no data or model content in it) trained that unit again."""
    from xling.tasks.tuning import sweep

    config = build_config(dict(task="tune_ratio", out=str(tmp_path / "sweep"), model=str(tiny_causal),
                               train_paired=str(PAIRED), ratios=[1.0], test_size=2, epochs=1,
                               batch_size=4, max_new_tokens=4))
    real = sweep.answer
    monkeypatch.setattr(sweep, "answer", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        run_tune_ratio(config, progress=False)
    added = ("data_sha256", "base_model_content", "judge_model_content")
    folder = tmp_path / "sweep"
    stored = json.loads((folder / "config.json").read_text())
    stored["identity"] = {k: v for k, v in stored["identity"].items() if k not in added}
    (folder / "config.json").write_text(json.dumps(stored))
    trained = folder / "models" / "ratio-1_seed-0" / "trained.json"
    made = json.loads(trained.read_text())
    made["identity"] = {k: v for k, v in made["identity"].items() if k not in added}
    trained.write_text(json.dumps(made))
    monkeypatch.setattr(sweep, "answer", real)
    monkeypatch.setattr(sweep, "fine_tune", lambda *a, **k: pytest.fail("trained again"))
    run_tune_ratio(config, progress=False)


def test_a_seed_given_twice_is_refused_before_any_training(tmp_path):
    from helpers import assert_one_line_error, xling

    paired = Path(__file__).parent / "data" / "paired_small.jsonl"
    experiment = tmp_path / "t.yaml"
    experiment.write_text(f"task: tune_ratio\nout: {tmp_path / 'R'}\ntrain_paired: {paired}\ntest_size: 4\n"
                          "model: /no/such/model\nseeds: [0, 0]\n", encoding="utf-8")
    assert_one_line_error(xling("tune-ratio", str(experiment)), "seeds names a seed twice ([0, 0])")


def test_a_test_set_name_other_than_the_training_data_is_refused(tmp_path):
    """(audit round 21) test items are always held out of the training pairs: test_name only
    named Figure 2's panel, so in-domain LIMA points were filed under "(b) train LIMA, test
    OpenOrca", the report's cross-dataset panel."""
    from helpers import assert_one_line_error, xling

    from xling.runs.config import TuneRatioConfig

    with pytest.raises(XlingError, match="a sweep tests on pairs held out of its training data"):
        TuneRatioConfig(out=str(tmp_path / "r"), model="m", train_name="LIMA", test_name="OpenOrca")
    assert TuneRatioConfig(out="r", model="m", train_name="OpenOrca", test_name="openorca").test_name == "openorca"
    # (review) only the panel's name: no part of a sweep's identity (older folders resume without it)
    assert "test_name" not in TuneRatioConfig(out="r", model="m", test_name="train").identity()
    experiment = tmp_path / "sweep.yaml"
    experiment.write_text(f"task: tune_ratio\nmodel: m\ntrain_name: LIMA\ntest_name: OpenOrca\nout: {tmp_path / 'r'}\n",
                          encoding="utf-8")
    assert_one_line_error(xling("tune-ratio", str(experiment)), "'test_name' is 'OpenOrca', but a sweep tests")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("reply", ["1 and 2 are equally good", "1 and 2 tie", "1 = 2", "1 ≈ 2", "1 (tie)", "1 < 2",
                                   "1 or 2", "1/2", "1, 2", '"1" or "2"', "Answer 1 and Answer 2 are",
                                   "2 is the same as 1", "1 - both are fine"])
def test_a_leading_digit_that_goes_on_to_a_tie_or_the_other_answer_is_no_verdict(reply):
    """(audit round 24, D3) Any reply starting with 1 or 2 was that verdict, even one saying
    they tie: a tie judged in both orders scored 1.0 for A."""
    assert parse_verdict(reply) is None
    assert [parse_verdict(t) for t in ("2 is better", "1 - more helpful", "1.", "Answer 2")] == ["2", "1", "1", "2"]
    assert JUDGE_RULE == 3   # stored sweeps judged under the old reading are judged again


def test_a_judge_server_saying_tie_in_both_orders_is_no_win_for_a():
    from servers import FakeOpenAI

    from xling.backends.http import HTTPBackend

    def respond(payload):
        text = payload["messages"][-1]["content"]
        return "1 and 2 are equally good." if text.index("ALPHA") < text.index("BETA") else "Both are equally good."

    server = FakeOpenAI(respond=respond)
    try:
        result = judge_pairwise(HTTPBackend("judge", server.url, max_retries=0), ["Say hi."], ["ALPHA hi"],
                                ["BETA hello"])
    finally:
        server.close()
    assert result.scores == [None] and result.unparseable == 2


# (review of audit round 24's D3 fix) realistic explained verdicts were refused: the whole reply
# could name no other answer, number or tie word
_EXPLAINED_VERDICTS = {
    "1": "1", "2": "2", "tie": "tie", '"2"': "2", "**1**": "1", "Answer 2": "2",
    "2. Both are fluent, but 2 is better": "2",
    "2\n\nAnswer 2 is more helpful and correct.": "2",
    "1\n\nAnswer 1 follows the instruction more closely.": "1",
    "1\n\nExplanation: The first answer directly addresses the question, while the second is vague.": "1",
    "2\n\nThe second answer is more complete.": "2",
    "2 - it is more detailed and accurate than Answer 1.": "2",
    "1 — Answer 1 is correct; Answer 2 contains a factual error.": "1",
    "1. The first answer is more helpful.": "1",
    "2\nReason: Answer 2 gives the correct translation, while Answer 1 mistranslates the idiom.": "2",
    "1\n\nBoth answers are fluent, but Answer 1 is more accurate.": "1",
    "2 (Answer 2 is more concise and correct)": "2",
    "1 because it lists 3 steps while the other lists only 2.": "1",
    "2\n\nAnswer 1 misses the second half of the instruction.": "2",
    "1 - more helpful": "1",
    "2 is better": "2",
    "1\n\nIt answers the question directly.": "1",
    "2: more accurate and complete.": "2",
    "1\n\nAnswer 1 is better.": "1",
    "2, since answer 2 correctly uses the past tense.": "2",
    "1 (the same facts, but clearer)": "1",
    "1\n\nWhile both are correct, the first is clearer.": "1",
    "2\n\nAnswer 2 correctly states that the meeting is at 2 pm.": "2",
    "1\n\nThe instruction asked for a list of 5 items; answer 1 gives 5.": "1",
    "2 — answer 1 is in the wrong language.": "2",
    "1.\n\nAnswer 1 is accurate and follows the format requested.": "1",
    "2\n\nAnswer 2 is more helpful: it explains step by step.": "2",
    "1\n\nThe first response is better.": "1",
    "Answer 1 is better.": "1",
    "2\n\n**Explanation:** Answer 2 provides a correct and complete response.": "2",
    "1 (it is equally fluent but more accurate)": "1",
    # the audit's D3 replies (a tie, both answers named) and a later sentence undoing the verdict
    "1 and 2 are equally good": None, "1 and 2 tie": None, "1 = 2": None, "1 ≈ 2": None, "1 (tie)": None,
    "1 < 2": None, "1 or 2": None, "1/2": None, "1, 2": None, '"1" or "2"': None,
    "Answer 1 and Answer 2 are": None, "2 is the same as 1": None, "1 - both are fine": None,
    "1\n\nAnswer 2 is better.": None, "2. It is a tie.": None, "1\nBoth are equally good.": None,
    "1\n\nThe second one is better.": None, "1 (answer 2 is better)": None, "1. Actually I prefer 2": None,
    # (review F) the other answer praised in one respect, or said not to be better, is no preference
    "1\n\nThe second answer is not better: it drops a clause.": "1",
    "2\n\nAnswer 1 is better formatted, but Answer 2 is correct.": "2",
    "1\n\nAnswer 2 seems better at first glance but contains an error.": "1",
}


@pytest.mark.parametrize("reply", list(_EXPLAINED_VERDICTS))
def test_an_explained_verdict_is_read_by_its_opening(reply):
    assert parse_verdict(reply) == _EXPLAINED_VERDICTS[reply]
    assert JUDGE_RULE == 3


def test_a_held_out_prompt_past_the_window_is_refused_before_any_training(tmp_path, tiny_causal):
    """(audit round 25, left then) a held-out instruction whose prompt and max_new_tokens passed
    the model's window was refused only when answering, after every unit had trained."""
    config = build_config(dict(task="tune_ratio", out=str(tmp_path / "s"), model=str(tiny_causal),
                               train_paired=str(PAIRED), ratios=[0.0, 1.0], test_size=4, max_new_tokens=2040))
    with pytest.raises(XlingError, match=r"held-out pair .* of prompt and 2,040 of answer\) does not fit the "
                                         r"model's context window of 2,048 tokens"):
        run_tune_ratio(config, progress=False)
    assert not (tmp_path / "s").exists()


def test_a_held_out_instruction_repeated_under_another_id_never_trains(tmp_path, tiny_causal, capsys):
    rows = [json.loads(line) for line in PAIRED.read_text(encoding="utf-8").splitlines()]
    twins = [dict(r, id="twin-" + r["id"], en={"instruction": "  " + r["en"]["instruction"].replace(" ", "  "),
                                               "response": "another answer"}) for r in rows[:12]]
    paired = tmp_path / "paired.jsonl"
    paired.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows + twins), encoding="utf-8")
    pairs, _ = load_pairs(paired=str(paired))
    train, test = split_pairs(pairs, 6, seed=0)
    clean = without_held_out_text(train, test)
    held = {" ".join(p.en[0].split()) for p in test}
    assert len(clean) < len(train) and not any(" ".join(p.en[0].split()) in held for p in clean)
    assert without_held_out_text(train[:3], []) == train[:3]
    config = build_config(dict(task="tune_ratio", out=str(tmp_path / "sweep"), model=str(tiny_causal),
                               train_paired=str(paired), ratios=[1.0], test_size=6, epochs=1,
                               learning_rate=0.003, batch_size=4, max_new_tokens=4))
    run = run_tune_ratio(config, progress=True)
    dropped = len(train) - len(clean)
    assert f"{dropped} repeating a held-out instruction" in capsys.readouterr().err
    assert json.loads((run.path / "config.json").read_text())["data"]["dropped_held_out_text"] == dropped
