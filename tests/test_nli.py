"""Cross-lingual NLI and multiple choice with a tiny real model and the real XNLI/KorNLI/X-CSQA."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from xling.backends import Batching, load_backend
from xling.data.choice import NLI_LABELS, ChoiceItem, nli_items, read_nli_file, xcsqa_items
from xling.errors import XlingError
from xling.prompts.choice import balanced_shots, parse_answer, render_generation, render_loglikelihood
from xling.prompts.templates import load_template
from xling.runs.config import build_config, load_experiment
from xling.tasks.choice import run_choice, summarize


@pytest.fixture(scope="module")
def backend(tiny_causal_base):
    return load_backend(str(tiny_causal_base))


def test_shared_prefix_loglikelihoods_equal_naive(backend, data_dir):
    template = load_template("xnli-rightq")
    dev = nli_items("dev", "ko", root=data_dir)
    requests = [render_loglikelihood(template, item, "ko", dev[:3])
                for item in nli_items("test", "ko", root=data_dir)[:4]]
    requests.append(("Korean: 바다가", [" 조용하다.", " x", " 고양이가 창문 옆에서 잔다."]))
    naive = backend.loglikelihood_unshared(requests)
    for batch_size in (1, 2, 8):   # one item per pass, and several items padded into one pass
        shared = backend.with_batching(Batching(batch_size)).loglikelihood(requests)
        assert np.allclose(shared, naive, atol=1e-4, rtol=0), batch_size
    assert all(len(s) == len(r[1]) for s, r in zip(shared, requests))


def test_run_predictions_follow_the_highest_score(tmp_path, tiny_causal_base, data_dir):
    config = build_config(dict(task="nli", out=str(tmp_path / "run"), model=str(tiny_causal_base),
                               data_dir=str(data_dir), langs=["ar", "ko"], shots=2, limit=6,
                               mode="both", prompt_lang="en", bootstrap=200))
    run = run_choice(config, progress=False)
    metrics = run.read_metrics()["directions"]
    for lang in ("ar", "ko"):
        records = run.read_outputs(lang)
        assert all(r["ll_pred"] == int(np.argmax(r["ll_scores"])) for r in records)
        assert all(len(r["ll_scores"]) == 3 and "gen_raw" in r for r in records)
        acc = np.mean([r["ll_pred"] == r["gold"] for r in records])
        assert metrics[lang]["ll"]["accuracy"] == pytest.approx(acc)
        assert metrics[lang]["ll"]["ci_low"] <= acc <= metrics[lang]["ll"]["ci_high"]
        assert sum(map(sum, metrics[lang]["ll"]["confusion"])) == 6
        assert 0.0 <= metrics[lang]["gen"]["invalid_rate"] <= 1.0
        # the sizes chosen are recorded, each pass's own under --mode both (8 items, 32 rows on a CPU)
        batches = metrics[lang]["batches"]
        assert batches["ll"]["batch_size"] == batches["gen"]["batch_size"] == "auto"
        assert (batches["ll"]["rows"], batches["gen"]["rows"]) == (8, 32)
    # A re-run is answered from the cache: identical records.
    before = run.outputs_path("ko").read_text(encoding="utf-8")
    run_choice(config, progress=False, backend=load_backend(str(tiny_causal_base)))
    assert run.outputs_path("ko").read_text(encoding="utf-8") == before
    # and the batch sizes the first process chose stay recorded (a resumed run dropped them)
    assert run.read_metrics()["directions"]["ko"]["batches"] == metrics["ko"]["batches"]
    # the attention the weights loaded with is named from the first batch (it was not, before they loaded)
    assert all("implementation" in metrics[lang]["batches"][p]["attention"] for lang in metrics for p in ("ll", "gen"))
    # (audit round 19) a cell with one pass all cached (here: the log-likelihoods) kept a flat plan
    other = dataclasses.replace(config, out=str(tmp_path / "run2"), max_new_tokens=config.max_new_tokens + 1)
    batches = run_choice(other, progress=False, backend=load_backend(str(tiny_causal_base))).read_metrics()[
        "directions"]["ko"]["batches"]
    assert batches["ll"] is None and batches["gen"]["rows"] == 32


def test_generated_answers_parse_in_every_prompt_language():
    template = load_template("nli-generate")
    cases = {" Yes": 0, "maybe.": 1, "No, it does not": 2, " 예": 0, "아마도": 1, "아니요.": 2,
             "はい": 0, "たぶん": 1, "いいえ、違います": 2, "是": 0, "也许": 1, "否": 2,
             "neutral": 1, "": None, "I cannot tell": None, "Yesterday": None,
             # the choices listed, joined by "and" in any language, name none (each was its first)
             " Yes and No": None, " Yes & No": None, " 是和否": None, " はいといいえ": None,
             " 예 아니면 아니요": None, " Maybe and No": None, " Maybe, yes": None, " No, yes": None,
             " Maybe/yes": None, " Contradiction, entailment": None,
             " Yes - the premise says so": 0, " Yes - no doubt": 0, " Yes — no contradiction here": 0,
             " No, and the premise says why": 2,
             # (audit round 18) the cue repeated with its Chinese or Japanese copula
             "答案是：否": 2, "答案是否": 2, "答案是是": 0, "答案是": None, "答えはいいえ": 2,
             "答えは「いいえ」です": 2,
             # (audit round 22) a No opening a refusal is none; a doubt after another label is that label
             "No, I don't know.": None, "いいえ、わかりません": None, "Maybe, I'm not sure": 1,
             "Maybe. I can't tell from the premise": 1, "Neutral, I'm not sure": 1}
    for text, expected in cases.items():
        assert parse_answer(template, text, None) == expected, text
    records = [{"gold": 0, "gen_pred": 0}, {"gold": 1, "gen_pred": None}, {"gold": 2, "gen_pred": 1},
               {"gold": 2, "gen_pred": None}]
    summary = summarize(records, "gen", 3, 100, 0)
    assert summary["invalid_rate"] == 0.5 and summary["accuracy"] == 0.25   # invalid = wrong
    assert summary["confusion"][1][3] == 1 and summary["predicted"] == [1, 1, 0]


def test_multiple_choice_letters_and_texts(data_dir):
    template = load_template("mc-qa")
    item = xcsqa_items("en", data_dir)[0]
    assert parse_answer(template, " C", item) == 2
    assert parse_answer(template, "hospital", item) == 2
    assert parse_answer(template, "Z", item) is None
    prompt = render_generation(template, item, "ja")
    assert prompt.startswith("質問: ") and "\nC. hospital\n" in prompt and prompt.endswith("答え:")


def test_an_answer_repeating_an_option_is_that_option_not_a_letter():
    template = load_template("mc-qa")
    options = ["a table", "a chair", "a chair leg", "no idea"]
    item = ChoiceItem("q", 1, {"stem": "Where do you sit?", "options": options})
    assert parse_answer(template, " a chair", item) == 1          # text, not the letter A
    assert parse_answer(template, "A drop", item) is None          # an article, not surely the letter
    assert parse_answer(template, "a house", item) is None
    assert parse_answer(template, "e.g. C", item) is None and parse_answer(template, "A and C", item) is None
    assert parse_answer(template, "C.", item) == 2 and parse_answer(template, "B: a chair", item) == 1
    for text in ("**B**", "B, because people sit on chairs.", "B is correct", "B - a chair", "B (a chair)",
                 "B。", "B：a chair"):   # chat answers and CJK punctuation keep their letter
        assert parse_answer(template, text, item) == 1, text
    assert parse_answer(template, "A chair leg, surely.", item) == 2   # the longest option said
    assert parse_answer(template, "A", item) == 0
    for text in ("答案是B", "答案是：B", "正确答案是B", "答えはBです", "Bです", "B입니다"):   # (audit round 18)
        assert parse_answer(template, text, item) == 1, text
    assert parse_answer(template, "Bですか？", item) is None   # a question, not an answer
    # a letter followed by another option's text contradicts itself (audit round 22: it was A)
    assert parse_answer(template, "A) a chair", item) is None and parse_answer(template, "A) a table", item) == 0
    assert parse_answer(template, "D", item) == 3
    yes_no = ChoiceItem("p", 0, {"stem": "Same meaning?", "options": ["Yes", "No"]})
    assert parse_answer(template, "Not sure", yes_no) is None     # "no" does not end in "not"
    assert parse_answer(template, "No.", yes_no) == 1
    han = ChoiceItem("z", 0, {"stem": "?", "options": ["医院", "学校"]})
    assert parse_answer(template, "学校里", han) == 1               # no spaces: the word ends there


def test_an_nli_answer_naming_several_labels_is_invalid():
    """The model repeating the choices ("Yes, Maybe or No.", 12 of 40 embedded-model answers)
    names no answer: invalid, not the first label (it was scored as entailment)."""
    template = load_template("nli-generate")
    item = ChoiceItem("n", 0, {"premise": "p", "hypothesis": "h"})
    for text in ("Yes, Maybe or No.", "Yes or No", "Yes/No", "是否", "예를 들어 그렇다"):
        assert parse_answer(template, text, item) is None, text
    for text, label in (("Yes, it does.", 0), ("No, it is not.", 2), ("是的", 0), ("아니요", 2), ("Maybe.", 1),
                        ("Yes, nothing in the premise contradicts it.", 0), ("Maybe, yesterday is not said", 1),
                        ("아니요, 예상과 다릅니다.", 2)):   # a later word that starts like a label
        assert parse_answer(template, text, item) == label, text


def test_a_multiple_choice_answer_listing_the_choices_names_none():
    """The multiple-choice parser had no listing rule: a model answering "Yes or no" scored
    0.525 on PAWS-X with 0% invalid (each listing was read as its first choice, favouring A);
    quoted or bold NLI choices ("「はい」か「いいえ」") were read as the first label too."""
    template = load_template("mc-qa")
    item = ChoiceItem("q", 1, {"stem": "Where?", "options": ["shelf", "bed", "oven"]})
    for text in ("A) shelf B) bed C) oven", "A (shelf) or B (bed)", "A, B", "A/B", "shelf or bed"):
        assert parse_answer(template, text, item) is None, text
    for text, index in (("A) shelf", 0), ("A, because the shelf is high", 0), ("B. A is too high", 1),
                        ("**A**", 0), ("A\nB is wrong", 0), ("Bed, since", 1), ("B, A is wrong", 1),
                        ("B) bed c.f. oven", 1)):   # another choice opening a phrase lists nothing
        assert parse_answer(template, text, item) == index, text
    yes_no = ChoiceItem("p", 0, {"stem": "Same meaning?", "options": ["Yes", "No"]})
    for text in ("Yes or no", "Yes/No", "Yes, no", "Yes or no depending on the context"):
        assert parse_answer(template, text, yes_no) is None, text
    chinese = ChoiceItem("p", 0, {"stem": "?", "options": ["是", "否"]})
    assert parse_answer(template, "是或否取决于语境", chinese) is None   # after "or": listed whatever follows
    for text in ("Yes, they mean the same.", "Yes (no doubt)", "Yes, no doubt.", "Yes; no differences."):
        assert parse_answer(template, text, yes_no) == 0, text
    korean = ChoiceItem("p", 0, {"stem": "?", "options": ["예", "아니요"]})
    for text in ("예 또는 아니요", "예를 들어 같다"):      # "예" in "예를": no answer
        assert parse_answer(template, text, korean) is None, text
    assert parse_answer(template, "예, 같습니다", korean) == 0 and parse_answer(template, "아니요", korean) == 1
    assert parse_answer(template, "예입니다", korean) == 0        # "it is yes": the copula, not a longer word
    nli = load_template("nli-generate")
    for text in ("「はい」か「いいえ」", "「はい」「たぶん」「いいえ」", '"Yes" or "No"', "**Yes** or **No**"):
        assert parse_answer(nli, text, None) is None, text
    assert parse_answer(nli, "「はい」", None) == 0 and parse_answer(nli, "**Yes**", None) == 0


def test_common_answer_words_beside_the_prompted_ones_are_read_without_changing_the_hash(tmp_path):
    """Korean answers "네" as often as the prompted "예"; it was invalid. `also_accepted` words
    widen reading only, so the template's hash (a run's identity) is the one without them."""
    template = load_template("nli-generate")
    item = ChoiceItem("n", 0, {"premise": "p", "hypothesis": "h"})
    for text, label in (("네.", 0), ("네, 맞습니다", 0), ("아니오", 2), ("아뇨, 다릅니다", 2), ("不是", 2)):
        assert parse_answer(template, text, item) == label, text
    assert parse_answer(template, "네 아니오", item) is None
    plain = Path(template.path).read_text(encoding="utf-8").split("also_accepted:")[0]
    (tmp_path / "mine.yaml").write_text(plain.replace("name: nli-generate", "name: mine"), encoding="utf-8")
    (tmp_path / "wider.yaml").write_text(Path(template.path).read_text(encoding="utf-8")
                                         .replace("name: nli-generate", "name: mine"), encoding="utf-8")
    narrow, wide = load_template(str(tmp_path / "mine.yaml")), load_template(str(tmp_path / "wider.yaml"))
    assert narrow.hash == wide.hash
    assert parse_answer(narrow, "네", item) is None and parse_answer(wide, "네", item) == 0
    (tmp_path / "bad.yaml").write_text(plain + "also_accepted: {ko: {yes: [네]}}\n", encoding="utf-8")
    with pytest.raises(XlingError, match="also_accepted: ko"):
        load_template(str(tmp_path / "bad.yaml"))


def test_templates_of_another_kind_or_label_order_are_one_line(tmp_path, data_dir):
    from xling.runs.config import ChoiceEvalConfig
    from xling.tasks.choice import run_choice

    def run(**settings):
        return run_choice(ChoiceEvalConfig(out=str(tmp_path / "run"), langs=["en"], limit=2,
                                           data_dir=str(data_dir), **settings), progress=False)

    for settings, message in ((dict(mode="gen", gen_template="xnli-rightq"), "is not a generation"),
                              (dict(mode="ll", template="nli-generate"), "is not a log-likelihood"),
                              (dict(mode="gen", gen_template="mc-qa"), "is a multiple_choice template, not a nli"),
                              (dict(premise_langs=["zh"]), "give both --premise-langs and --hypothesis-langs")):
        with pytest.raises(XlingError, match=message):
            run(**settings)
    assert not (tmp_path / "run").exists()
    swapped = tmp_path / "swapped.yaml"
    swapped.write_text((Path(load_template("xnli-rightq").path).read_text(encoding="utf-8")
                        .replace("labels: [entailment, neutral, contradiction]",
                                 "labels: [contradiction, neutral, entailment]")), encoding="utf-8")
    with pytest.raises(XlingError, match="'labels' must be \\['entailment', 'neutral', 'contradiction'\\]"):
        load_template(str(swapped))


def test_shots_come_from_dev_are_balanced_and_reproducible(data_dir):
    dev = nli_items("dev", "en", root=data_dir)
    test_ids = {i.id for i in nli_items("test", "en", root=data_dir)}
    shots = balanced_shots(dev, 6, seed=3, n_labels=3)
    assert sorted(s.label for s in shots) == [0, 0, 1, 1, 2, 2]
    assert all(s.id.startswith("dev-") and s.id not in test_ids for s in shots)
    assert balanced_shots(dev, 6, seed=3, n_labels=3) == shots
    assert balanced_shots(dev, 6, seed=4, n_labels=3) != shots
    with pytest.raises(XlingError, match="only 4"):
        balanced_shots(dev[:4], 5, seed=0, n_labels=3)


def test_cross_language_items_take_aligned_rows(data_dir):
    crossed = nli_items("test", "ko", "th", root=data_dir)
    ko = (data_dir / "kornli_xnli_ko" / "xnli.test.ko.tsv").read_text(encoding="utf-8").splitlines()[1:]
    th = (data_dir / "xnli" / "test" / "th.tsv").read_text(encoding="utf-8").splitlines()
    for i in (0, 1234, 5009):
        assert crossed[i].fields["premise"] == ko[i].split("\t")[0]
        assert crossed[i].fields["hypothesis"] == th[i].split("\t")[1]
        assert NLI_LABELS[crossed[i].label] == th[i].split("\t")[2]


def test_xcsqa_joins_languages_by_id(data_dir):
    en, ja = xcsqa_items("en", data_dir), xcsqa_items("ja", data_dir)
    assert [i.id for i in en] == [i.id for i in ja] and len(en) == 1000
    assert en[0].fields["options"][en[0].label] == "hospital" and ja[0].fields["options"][ja[0].label] == "病院"


def test_xcsqa_crossed_cells_ask_in_one_language_and_answer_in_another(data_dir, tmp_path):
    from xling.data.choice import choice_source
    from xling.runs.config import ChoiceEvalConfig
    from xling.tasks.choice import run_choice

    en, zh = xcsqa_items("en", data_dir), xcsqa_items("zh", data_dir)
    crossed = choice_source("xcsqa:dev", str(data_dir), "multiple_choice").items("en", "zh")
    assert [i.id for i in crossed] == [i.id for i in en]
    assert crossed[0].fields["stem"] == en[0].fields["stem"] and crossed[0].option_lang == "zh"
    assert crossed[0].fields["options"] == zh[0].fields["options"] and crossed[0].label == zh[0].label
    # PAWS-X items are one language's sentence pair each: a crossed cell is refused, not scored
    # as the premise language under a crossed name.
    config = ChoiceEvalConfig(out=str(tmp_path / "run"), task="multiple_choice", data="pawsx:test",
                              data_dir=str(data_dir), premise_langs=["en"], hypothesis_langs=["zh"])
    with pytest.raises(XlingError, match=r"one language each, so it has no crossed cells \(en>zh\)"):
        run_choice(config)
    assert not (tmp_path / "run").exists()


def test_bad_inputs(tmp_path, data_dir):
    with pytest.raises(XlingError, match=r"no Korean \(ko\) here; available: ar, de"):
        xcsqa_items("ko", data_dir)
    with pytest.raises(XlingError, match="XNLI test has no Japanese"):
        nli_items("test", "ja", root=data_dir)
    bad = tmp_path / "mine.tsv"
    bad.write_text("a\tb\tentailment\nc\td\tmaybe\n", encoding="utf-8")
    with pytest.raises(XlingError, match=r"mine.tsv:2: label 'maybe' is not one of"):
        read_nli_file(bad)
    root = tmp_path / "data"
    (root / "xnli" / "test").mkdir(parents=True)
    (root / "xnli" / "test" / "en.tsv").write_text("p\th\tneutral\np2\th2\tneutral\n", encoding="utf-8")
    (root / "xnli" / "test" / "de.tsv").write_text("p\th\tneutral\n", encoding="utf-8")
    with pytest.raises(XlingError, match=r"differ in length \(2 vs 1\)"):
        nli_items("test", "en", "de", root=root)
    config = build_config(dict(task="nli", out=str(tmp_path / "r"), data_dir=str(data_dir),
                               langs=["ko"], shots=3000, limit=2))
    with pytest.raises(XlingError, match="dev pool has only 2490"):
        run_choice(config, progress=False)
    assert not (tmp_path / "r").exists()   # nothing written before the checks pass


def test_shipped_experiments():
    from pathlib import Path
    repo = Path(__file__).resolve().parent.parent
    t13 = load_experiment(repo / "experiments" / "hcx_table13.yaml")
    assert (t13.task, t13.shots, t13.data, t13.langs) == ("nli", 5, "xnli:test", ["ar", "hi", "th", "ur", "vi", "zh"])
    t14 = load_experiment(repo / "experiments" / "hcx_table14.yaml")
    assert (t14.task, t14.shots, t14.data) == ("multiple_choice", 0, "xcsqa:dev")


def test_batched_loglikelihoods_of_the_embedded_model_equal_naive(data_dir):
    """A real Gemma 3 (262k vocabulary, LM head on the scored positions only) and its tokenizer."""
    backend = load_backend(None, quiet=True)
    template = load_template("xnli-rightq")
    dev = nli_items("dev", "zh", root=data_dir)
    requests = [render_loglikelihood(template, item, "zh", dev[:2])
                for item in nli_items("test", "zh", root=data_dir)[:3]]
    naive = backend.loglikelihood_unshared(requests)
    assert np.allclose(backend.with_batching(Batching("auto")).loglikelihood(requests), naive, atol=1e-4, rtol=0)
    assert backend.model_type == "gemma3_text"


def test_out_of_memory_in_a_loglikelihood_batch_halves_it_and_keeps_the_scores(backend, data_dir):
    from tiny_models import device_holding

    template = load_template("xnli-rightq")
    requests = [render_loglikelihood(template, item, "ko") for item in nli_items("test", "ko", root=data_dir)[:6]]
    backend = backend.with_batching(Batching(6))
    expected = backend.loglikelihood(requests)
    seen = []
    with device_holding(backend.model, 3):   # one item's options at most
        scores = backend.loglikelihood(requests, on_item=lambda i, s: seen.append(i))
    assert np.allclose(scores, expected, atol=1e-5) and sorted(seen) == list(range(6))


def test_report_prints_predicted_labels_and_the_confusion_matrix(tmp_path, tiny_causal_base, data_dir, capsys):
    """Fidelity round 2, item 9: what the model answered is printed, not only stored."""
    from helpers import run_cli

    config = build_config(dict(task="nli", out=str(tmp_path / "run"), model=str(tiny_causal_base),
                               data_dir=str(data_dir), langs=["en", "ko"], shots=0, limit=6, mode="ll",
                               bootstrap=50))
    run = run_choice(config, progress=False)
    code, out, err = run_cli(capsys, "report", run.path)
    assert code == 0, err
    assert "predicted labels (ll), % of items" in out and "confusion (ll), all languages" in out
    metrics = run.read_metrics()["directions"]
    confusion = [[sum(metrics[lang]["ll"]["confusion"][g][k] for lang in ("en", "ko")) for k in range(4)]
                 for g in range(3)]
    block = out[out.index("confusion (ll)"):]
    for gold, row in zip(("entailment", "neutral", "contradiction"), confusion):
        line = next(row for row in block.splitlines() if row.startswith(gold))
        assert line.split()[1:] == [str(v) for v in row]
    predicted = [sum(r[k] for r in metrics["en"]["ll"]["confusion"]) for k in range(4)]
    line = next(row for row in out[out.index("predicted labels"):].splitlines() if row.startswith("en "))
    assert line.split()[1:] == [f"{100 * v / 6:.1f}" for v in predicted]
    # the gold shares of these 12 items, not a claim about XNLI as a whole ("about 33.3% each")
    gold = [sum(row) for row in confusion]
    assert "gold labels of these items: " + ", ".join(
        f"{name} {100 * g / 12:.1f}%" for name, g in zip(("entailment", "neutral", "contradiction"), gold)) in out


def test_a_dev_item_with_a_test_items_text_is_never_its_demonstration():
    """PAWS-X zh: 14 test pairs are word for word dev pairs (3 with another label): excluded by
    text as well as by id, whatever the data set."""
    from types import SimpleNamespace

    from xling.data.choice import exclusions

    fields = {"stem": "같은 뜻인가?", "options": ["예", "아니요"]}
    test = [ChoiceItem("test-1918", 1, dict(fields))]
    pool = [ChoiceItem("dev-0244", 0, dict(fields)), ChoiceItem("dev-0001", 0, {**fields, "stem": "다른 문장"})]
    kept, ids = exclusions(SimpleNamespace(user_pool=None), test, pool)
    assert [x.id for x in kept] == ["dev-0001"] and ids == {"test-1918"}


def test_generation_prompts_longer_than_the_window_are_refused_before_any_answer(tmp_path, tiny_causal_base):
    long = tmp_path / "long.tsv"
    long.write_text(" ".join(["The cat sleeps by the window."] * 400) + "\tThe cat sleeps.\tentailment\n",
                    encoding="utf-8")
    config = build_config({"task": "nli", "out": str(tmp_path / "run"), "data": f"nli-file:{long}",
                           "langs": ["en"], "mode": "gen", "model": str(tiny_causal_base)})
    with pytest.raises(XlingError, match="en: item 1's prompt is .* more than the model's context window"):
        run_choice(config, progress=False)
    # (audit round 21) log-likelihood's "item 1 needs ... tokens" did not say which language's
    config = build_config({"task": "nli", "out": str(tmp_path / "run-ll"), "data": f"nli-file:{long}",
                           "langs": ["en"], "mode": "ll", "model": str(tiny_causal_base)})
    with pytest.raises(XlingError, match="^en: item 1 needs .* more than the model's context window"):
        run_choice(config, progress=False)


def test_a_context_ending_in_whitespace_gives_it_to_each_option_as_lm_eval_does():
    """SentencePiece-style tokenizers encode "Answer: " as [▁Answer:, ▁] and "Answer: Yes" as
    [▁Answer:, ▁Yes]; the option was scored after a lone "▁" (Gemma: -13.63 against -1.61 over
    HTTP, and 12 of 12 items predicted neutral). The whitespace now goes with each option."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from xling.backends.loglik import split_tokens

    pieces = [("<unk>", 0.0), ("▁Answer:", -1.0), ("▁", -2.0), ("▁Yes", -1.0), ("Yes", -3.0), ("▁No", -1.0),
              ("No", -3.0)] + [(c, -5.0) for c in "AnswerYesNo:"]
    model = Tokenizer(models.Unigram(pieces, unk_id=0))
    model.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    model.decoder = decoders.Metaspace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=model, unk_token="<unk>")
    names = tokenizer.convert_ids_to_tokens
    ctx, conts = split_tokens(tokenizer, "Answer: ", ["Yes", "No"])
    assert names(ctx) == ["▁Answer:"] and [names(c) for c in conts] == [["▁Yes"], ["▁No"]]
    assert split_tokens(tokenizer, "Answer:", [" Yes", " No"]) == (ctx, conts)


def test_an_empty_context_is_scored_after_the_tokenizers_bos_or_eos(tiny_causal):
    """A template in lm-eval's XNLI shape (empty context, the whole sentence as the option) was a
    tensor-reshape traceback on tokenizers that add no BOS (Qwen): lm-eval conditions on its
    prefix token, and so does xling now."""
    from transformers import AutoTokenizer

    from xling.backends import load_backend
    from xling.backends.loglik import split_tokens

    tokenizer = AutoTokenizer.from_pretrained(tiny_causal)
    assert tokenizer("", add_special_tokens=True)["input_ids"] == []      # no BOS: the case
    ctx, conts = split_tokens(tokenizer, "", ["I like apples.", "It rains."])
    assert ctx == [tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id]
    assert conts[0] == tokenizer("I like apples.", add_special_tokens=False)["input_ids"]
    (scores,) = load_backend(str(tiny_causal), quiet=True).loglikelihood([("", ["I like apples.", "It rains."])])
    assert len(scores) == 2 and all(s < 0 for s in scores)


def test_an_option_merging_with_its_context_is_scored_as_the_whole_text_is_split():
    """Gemma writes "因为它" as one token: XCOPA zh's "…因为"+"它很易碎。" (108 of 1,000 zh options)
    was scored as "它" after "因为", a split the model never sees. Now log p(context + option) -
    log p(context), each as the tokenizer splits it, computed here with one forward pass per text."""
    import torch

    from xling.backends.loglik import merges

    backend = load_backend(None, quiet=True)
    tokenizer, model = backend.scorer.lm.tokenizer, backend.scorer.lm.model
    context, options = "该物品用气泡包装纸包着，因为", ["它很易碎。", "它很小。"]
    assert merges(tokenizer, context, options) and not merges(tokenizer, "The cat", [" sat."])

    def whole(text):
        ids = tokenizer(text, add_special_tokens=True)["input_ids"]
        with torch.inference_mode():
            logprobs = model(input_ids=torch.tensor([ids])).logits[0].float().log_softmax(-1)
        return sum(logprobs[i - 1, t].item() for i, t in enumerate(ids) if i)

    expected = [whole(context + o) - whole(context) for o in options]
    (ours, plain) = backend.with_batching(Batching("auto")).loglikelihood([(context, options), ("The cat", [" sat."])])
    assert np.allclose(ours, expected, atol=1e-3, rtol=0)
    assert np.allclose(backend.loglikelihood_unshared([(context, options)])[0], expected, atol=1e-3, rtol=0)
    assert plain[0] == pytest.approx(whole("The cat sat.") - whole("The cat"), abs=1e-3)
    # cached scores of such items made before are not reused: their key says how they were split
    from xling.backends.cached import CachedBackend, content_key

    cached = CachedBackend(backend, None)
    assert cached.loglikelihood_key(context, options) == content_key(
        kind="loglikelihood", context=context, options=options, model=backend.fingerprint, boundary=3)
    assert cached.loglikelihood_key("The cat", [" sat."]) == content_key(
        kind="loglikelihood", context="The cat", options=[" sat."], model=backend.fingerprint)


def test_an_empty_option_is_refused_and_an_item_without_options_scores_nothing(tiny_causal):
    """An empty option scored 0.0 (the best) beside others, or left its item unscored (KeyError)."""
    from xling.errors import XlingError

    backend = load_backend(str(tiny_causal), quiet=True)
    with pytest.raises(XlingError, match="option 1 of an item is empty"):
        backend.loglikelihood([("The cat", ["", " sat."])])
    seen = []
    assert backend.loglikelihood([("The cat", [" sat."]), ("x", [])], on_item=lambda i, s: seen.append(i))[1] == []
    assert sorted(seen) == [0, 1]


def test_choices_listed_as_sentences_or_rejected_name_no_answer_and_a_repeated_cue_is_read():
    """Audit round 15: choices listed with full stops ("A. B. C.", "Yes. No.", "はい。いいえ。")
    and unspaced ("是否" on PAWS-X) were read as the first choice (a guess favouring A / yes),
    "B is incorrect" as B; and clear answers were invalid: an option's text without its full
    stop ("It was fragile"), the prompt's cue repeated ("Answer: B", "答案：是")."""
    mc, nli = load_template("mc-qa"), load_template("nli-generate")
    item = ChoiceItem("q", 1, {"stem": "Where?", "options": ["shelf", "bed", "oven"]})
    yes_no = ChoiceItem("p", 0, {"stem": "Same meaning?", "options": ["Yes", "No"]})
    zh = ChoiceItem("z", 0, {"stem": "?", "options": ["是", "否"]})
    copa = ChoiceItem("c", 0, {"stem": "?", "options": ["It was fragile.", "It was small."]})
    nli_item = ChoiceItem("n", 0, {"premise": "p", "hypothesis": "h"})
    for template, it, text in [(mc, item, "A. B. C."), (mc, item, "A. B"), (mc, yes_no, "Yes. No."),
                               (mc, yes_no, "Yes No"), (mc, yes_no, "Yes B"), (mc, zh, "是否"),
                               (mc, item, "B is incorrect"), (mc, item, "A is wrong, C is right"),
                               (mc, item, "B) bed but maybe C"), (mc, copa, "It was fragile. It was small."),
                               (nli, nli_item, "Yes. No."), (nli, nli_item, "はい。いいえ。"),
                               (nli, nli_item, "Yes. Maybe. No."), (nli, nli_item, "Yes, but maybe no"),
                               (nli, nli_item, "是。否。也许。"), (mc, item, "A。B。C。"), (mc, item, "A. B, C."),
                               (mc, item, "A) shelf. B) bed. C) oven."), (nli, nli_item, "Yes. No, maybe.")]:
        assert parse_answer(template, text, it) is None, text
    for template, it, text, label in [
            (mc, item, "B. A bed is where you sleep.", 1), (mc, item, "B is correct", 1),
            (mc, yes_no, "Yes. No doubt about it.", 0), (mc, yes_no, "No. They differ.", 1),
            (mc, copa, "It was fragile", 0), (mc, item, "Answer: B", 1), (mc, item, "The answer is (B)", 1),
            (mc, item, "答え：B", 1), (nli, nli_item, "Answer: Yes", 0), (nli, nli_item, "答案：是", 0),
            (nli, nli_item, "정답은 예", 0), (nli, nli_item, "Yes. No doubt about it.", 0),
            (mc, item, "C. A and B are wrong.", 2), (mc, item, "C. E.g. a shelf is not", 2),
            (mc, ChoiceItem("a", 0, {"stem": "?", "options": ["Answer the phone", "Hang up"]}), "Answer the phone", 0)]:
        assert parse_answer(template, text, it) == label, text


def test_parser_4_a_letter_before_another_choice_a_negated_label_and_invisible_characters():
    """(audit round 19) "A: B" was read as A (the Q/A format's cue taken for the answer), "No
    contradiction" as contradiction, "B?" as B (while "Bですか？" was no answer), and a
    zero-width space before an answer made it invalid."""
    mc = load_template("mc-qa")
    item = ChoiceItem("q", 1, {"stem": "Where?", "options": ["shelf", "bed", "oven"]})
    for text in ("A: B", "A: The answer is B", "A: bed", "B?", "A, or B?", "A) shelf, or B?"):
        assert parse_answer(mc, text, item) is None, text
    for text, index in (("A: shelf", 0), ("B: a bed", 1), ("\u200bB", 1), ("B\u2060", 1), ("A: because", 0)):
        assert parse_answer(mc, text, item) == index, text
    yes_no = ChoiceItem("p", 0, {"stem": "Same meaning?", "options": ["Yes", "No"]})
    assert parse_answer(mc, "A: No", yes_no) is None and parse_answer(mc, "A: Yes", yes_no) == 0
    nli = load_template("nli-generate")
    for text in ("No contradiction", "Yes entailment", "No neutral"):
        assert parse_answer(nli, text, None) is None, text
    for text, label in (("\u200bYes", 0), ("\ufeffNo.", 2), ("No, contradiction.", 2), ("contradiction", 2),
                        ("No\n\nContradiction: the premise says otherwise", 2), ("Yes\nEntailment", 0)):
        assert parse_answer(nli, text, None) == label, text


def test_a_tokenizer_that_appends_eos_scores_and_prompts_as_one_that_does_not(backend, tiny_causal_base, tmp_path):
    """(audit round 20) a tokenizer adding EOS to every encoding made each context end in EOS:
    options were scored as log p(option + EOS | context) - log p(EOS | context), 6 nats off and
    unevenly, and generation prompts asked the model to go on after the end of a text."""
    import json
    import shutil

    appending = tmp_path / "appends-eos"
    shutil.copytree(tiny_causal_base, appending)
    path = appending / "tokenizer.json"
    spec = json.loads(path.read_text(encoding="utf-8"))
    eos = next(t["id"] for t in spec["added_tokens"] if t["content"] == "</s>")
    text, end = {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}
    spec["post_processor"] = {"type": "TemplateProcessing", "single": [text, end],
                              "pair": [text, {"Sequence": {"id": "B", "type_id": 1}}],
                              "special_tokens": {"</s>": {"id": "</s>", "ids": [eos], "tokens": ["</s>"]}}}
    path.write_text(json.dumps(spec), encoding="utf-8")
    other = load_backend(str(appending))
    assert other.tokenizer("바다가", add_special_tokens=True)["input_ids"][-1] == eos   # (it does append)
    requests = [("Korean: 바다가", [" 조용하다.", " x", "고양이가 잔다."]), ("A: 因为", ["它", "他们"])]
    for mine, plain in zip(other.loglikelihood(requests), backend.loglikelihood(requests)):
        assert np.allclose(mine, plain, atol=1e-5, rtol=0)
    from xling.backends.base import Prompt

    prompt = Prompt(text="Korean: 바다가 조용하다.\nEnglish:")
    assert other.lm.encode_prompt(prompt) == backend.lm.encode_prompt(prompt)


def test_cues_letters_and_refusals_are_read_as_what_they_say():
    """(audit round 22) An option whose text is the cue's word (X-CSQA's "answer", "答案") took every
    cued answer; a letter followed by another option's text was the letter; "No sé" and "No idea"
    were the answer No (PAWS-X's gold on 55% of items); the cue's copula was read in four
    languages only; a Turkish dotted İ never matched."""
    from xling.prompts.templates import load_template

    qa, copa = load_template("mc-qa"), load_template("copa")
    cue_word = ChoiceItem("q", 1, {"stem": "?", "options": ["a park", "hang up", "a bus", "answer", "a phone"]})
    assert parse_answer(qa, "Answer: B", cue_word) == 1 and parse_answer(qa, "Answer: hang up", cue_word) == 1
    assert parse_answer(qa, "Answer", cue_word) == 3 and parse_answer(qa, "answer.", cue_word) == 3
    assert parse_answer(qa, "Answer: I am not sure", cue_word) is None
    han = ChoiceItem("z", 0, {"stem": "?", "options": ["答案", "问题", "学校"]})
    assert parse_answer(qa, "答案：C", han) == 2 and parse_answer(qa, "答案是B", han) == 1
    assert parse_answer(qa, "答案", han) == 0
    article = ChoiceItem("a", 1, {"stem": "?", "options": ["ال", "بيت", "كتاب"]})   # a prefix of الجواب
    assert parse_answer(qa, "الجواب: B", article) == 1
    yes_no = ChoiceItem("p", 1, {"stem": "?", "options": ["Yes", "No"]})
    for options, refusals, answers in (
            (["Yes", "No"], ("No idea", "No idea.", "No clue", "No, I don't know", "No, I'm not sure.",
                             "No, I don't know the answer.", "No, I cannot answer that.", "No idea, sorry.",
                             "No idea?", "No clue, to be honest.", "No, I don't know, sorry.", "No? I don't know."),
             ("No", "No.", "No, they differ.", "No, the second adds a date", "No, I can't say they mean the same",
              "Yes, I can't tell them apart", "Yes, I'm not sure", "No idea why, but they differ.")),
            (["Sí", "No"], ("No sé", "No lo sé", "No estoy seguro", "No, no lo sé.", "No puedo saber.",
                            "No puedo determinar si son iguales."),
             ("No se parecen", "No, estoy seguro de que no", "Sí, estoy seguro", "Sí, sé que sí")),
            (["Ja", "Nein"], ("Nein, ich weiß es nicht", "Nein, weiß ich nicht.", "Nein, ich bin mir nicht sicher.",
                              "Nein, ich bin mir nicht ganz sicher."),
             ("Nein, der zweite fügt etwas hinzu",)),
            (["Oui", "Non"], ("Non, je ne sais pas", "Non so", "Non, je sais pas.", "Non, je ne suis pas certain.",
                              "Non, aucune idée."),
             ("Non, la seconde ajoute une date",)),
            (["是", "否"], ("否，我不知道。", "否，无法确定。", "否，我不清楚。", "否，我无法确定。"),
             ("否，意思不同",)),
            (["예", "아니요"], ("아니요, 잘 모르겠어요.", "아니요, 모르겠네요."), ("아니요, 다릅니다",)),
            (["はい", "いいえ"], ("いいえ。わかりません。", "いいえ、よくわかりません。"), ("いいえ、違います",))):
        item = ChoiceItem("p", 1, {"stem": "?", "options": options})
        for refusal in refusals:
            assert parse_answer(qa, refusal, item) is None, refusal
        for answer in answers:
            assert parse_answer(qa, answer, item) == (0 if answer.startswith(options[0]) else 1), answer
    assert parse_answer(qa, "A. No", yes_no) is None and parse_answer(qa, "A (No)", yes_no) is None
    assert parse_answer(qa, "B. No", yes_no) == 1 and parse_answer(qa, "A (Yes)", yes_no) == 0
    cause = ChoiceItem("c", 0, {"premise": "p", "question": "cause",
                                "options": ["It was fragile.", "It was small."]})
    assert parse_answer(copa, "A. It was small.", cause) is None
    assert parse_answer(copa, "B. It was small.", cause) == 1 and parse_answer(copa, "A. It broke easily.", cause) == 0
    for cued in ("La risposta è B", "Vastus on B", "Jibu ni B", "Trả lời là B", "Jawaban adalah B", "คำตอบคือ B"):
        assert parse_answer(copa, cued, cause) == 1, cued
    turkish = ChoiceItem("t", 0, {"premise": "p", "question": "effect", "options": ["İp atladı.", "Koştu."]})
    assert parse_answer(copa, "ip atladı.", turkish) == 0


def test_parser_8_a_choice_with_another_in_brackets_names_none_and_more_quotes_are_stepped_over():
    """(audit round 25) "No (entailment)" was read as contradiction and "Yes (contradiction)" as
    entailment, while "No contradiction" names none; «Yes», 【是】, 《是》, `Yes`, "• Yes" and
    "> Yes" were invalid while "“是”", "**Yes**" and "(Yes)" were read."""
    nli = load_template("nli-generate")
    for text in (" No (entailment)", " Yes (contradiction)", " Yes（contradiction）", " Yes [neutral]", " Yes (No)",
                 " 是（否）", " entailment (contradiction)", " Maybe (Yes)"):
        assert parse_answer(nli, text, None) is None, text
    # its own label in brackets, or a bracket that names no other label, is the answer
    for text, label in ((" Yes (entailment)", 0), (" No (contradiction).", 2), (" Maybe (neutral)", 1),
                        (" Yes (no doubt)", 0), (" No (not entailment)", 2), (" 是（不是很确定）", 0), (" (Yes)", 0),
                        # (review) a bracket opening an explanation with a label's name answers
                        (" No (entailment does not hold)", 2), (" Maybe (entailment is unclear)", 1),
                        (" Yes (contradiction is ruled out)", 0)):
        assert parse_answer(nli, text, None) == label, text
    for text, label in (("«Yes»", 0), ("【是】", 0), ("《是》", 0), ("`Yes`", 0), ("• Yes", 0), ("> No", 2),
                        ("Answer: «No»", 2), ("`Maybe`.", 1)):
        assert parse_answer(nli, text, None) == label, text
    # the marks stepped over between listed choices too (a quoted sentence each, as "Yes. No.")
    for text in ("«Yes» or «No»", "【是】或【否】", "`Yes` or `No`", "• Yes\n• No", "> Yes\n> No", "«Yes». «No».",
                 "「はい」。「いいえ」。", "**Yes**. **No**."):
        assert parse_answer(nli, text, None) is None, text
    assert parse_answer(nli, 'Yes. "No doubt".', None) == 0
    mc = load_template("mc-qa")
    item = ChoiceItem("q", 0, {"stem": "Where?", "options": ["shelf", "bed", "oven", "shelf unit"]})
    for text in ("shelf (bed)", "shelf (C)", "shelf (shelf unit)", "«A». «B».", "**A**. **B**.", "shelf. «bed»."):
        assert parse_answer(mc, text, item) is None, text
    for text, index in (("shelf (a)", 0), ("shelf (shelf)", 0), ("shelf unit", 3), ("bed (where you sleep)", 1),
                        ("«B»", 1), ("【B】", 1), ("《oven》", 2), ("`D`", 3), ("• B", 1), ("> C", 2),
                        ('A. "B is wrong"', 0)):
        assert parse_answer(mc, text, item) == index, text


def test_parser_9_bracketed_lists_negated_choices_and_corrections_name_none(data_dir):
    """(audit round 26) "(A) or (C)" was read as A (no opening bracket was stepped over after a
    joiner), "town is wrong", "A (wrong)", "A, no.", "镇不对" and "町じゃない" as the choice they reject,
    "A. Wait, C." and "A -> C" as A; NLI "No doubt" as contradiction, "はいでもいいえでもない" and "是也不是"
    ("neither", "both") as entailment, and "不是矛盾" (while "No contradiction" names none) as contradiction."""
    mc, nli = load_template("mc-qa"), load_template("nli-generate")
    en, ja, zh = (xcsqa_items(lang, data_dir)[0] for lang in ("en", "ja", "zh"))   # A town, B Michigan, C hospital
    for text in ("(A) or (C)", "[A] or [C]", "(A), (C)", "(A) (C)", "(A)/(C)", "(town) or (hospital)", "(A) oder (C)",
                 "(A)、(C)", "(A)か(C)", "(A) 또는 (C)", "town is wrong", "town isn't right", "town (incorrect)",
                 "town - incorrect", "A (wrong)", "A: incorrect", "A - wrong", "A — not this one", "A, no.",
                 "A, definitely not", "A's wrong", "A is never right", "A. Wait, C.", "A... actually C", "A -> C"):
        assert parse_answer(mc, text, en) is None, text
    for text in ("町じゃない", "町ではありません", "町は違う", "病院じゃなくて町"):
        assert parse_answer(mc, text, ja) is None, text
    for text in ("镇不对", "镇是错的", "镇？不，是医院"):
        assert parse_answer(mc, text, zh) is None, text
    # a bracket after a space alone, a "not" rejecting another choice, a tag or rhetorical question answer
    for item, text, index in ((en, "C (hospital)", 2), (en, "C, not A", 2), (en, "hospital, not town", 2),
                              (en, "C (not A)", 2), (en, "B. No, A is wrong", 1), (en, "A, isn't it?", 0),
                              (en, "C. Actually, A and B are wrong.", 2), (en, "town is not wrong", 0),
                              (ja, "病院ではないでしょうか", 2), (zh, "医院不错", 2), (zh, "医院，不是镇", 2)):
        assert parse_answer(mc, text, item) == index, text
    for text in ("(Yes) or (No)", "No doubt", "No question about it", "はいでもいいえでもない",
                 "はいともいいえとも言えない", "是也不是", "不是矛盾", "不是蕴含", "答案：不是矛盾"):
        assert parse_answer(nli, text, None) is None, text
    for text, label in (("Yes (no doubt)", 0), ("Yes - no doubt", 0), ("也许", 1), ("いいえ、矛盾ではない", 2),
                        ("No, the premise does not support it", 2)):
        assert parse_answer(nli, text, None) == label, text
    assert parse_answer(nli, "是、也许还是否", None) is None   # (也许 is no joiner 也)


def test_parser_9_ordinary_answers_after_a_choice_still_read(data_dir):
    """(review of round 26) The negation check read ordinary answers as none: "C、間違いなく病院です"
    ("no doubt"), "C。間違っている選択肢はEです", "C。错误选项：E。", "C，错不了", "C. Wrong answers: E does not
    fit.", "C - incorrect options are A, B, D and E.", "C. Not that E is impossible"."""
    mc, nli = load_template("mc-qa"), load_template("nli-generate")
    en, ja, zh = (xcsqa_items(lang, data_dir)[0] for lang in ("en", "ja", "zh"))   # A town, B Michigan, C hospital
    for item, texts in ((ja, ("C、間違いなく病院です。", "C。間違いありません。", "C。間違っている選択肢はEです。",
                              "病院、間違いない。", "病院。間違いなし。", "病院が間違いなく正しいです。",
                              "C。違う選択肢は合いません。",
                              "C：病院。Eは間違いです。", "C。他は違います。", "病院で間違いありません。")),
                        (zh, ("C。错误选项：E。", "C，错误的是E", "C。错的是E。", "C，错不了", "C，不对的话请指正",
                              "C，错误率最低", "C。不对的选项是E", "C。错误答案：E", "C，错了就不是医院了", "C，没错")),
                        (en, ("C. Wrong answers: E does not fit.", "C. Incorrect: E.",
                              "C. Incorrect options: E and the rest.",
                              "C - incorrect options are A, B, D and E.", "hospital. Wrong answers: town.",
                              "C. Not that E is impossible, but C fits better.",
                              "C. Not that it matters, but E is close.",
                              "C. Not it, I mean E isn't it.", "C. False options like E can be ruled out.",
                              "C. Wrong would be E.", "C. Wrong-headed reasoning might pick E.", "C, not that A is bad",
                              "C. No, seriously, it's C.", "C: wrong answers A, B, D, E", "C. Not the town."))):
        for text in texts:
            assert parse_answer(mc, text, item) == 2, text
    # a negation ending its clause still names none
    for item, texts in ((ja, ("病院は間違い", "病院は間違いです。", "病院は違う", "病院は違います。",
                              "病院は間違っています", "C。違います。")),
                        (zh, ("医院不对", "医院是错的", "医院错了", "C。错。", "C，不对。")),
                        (en, ("C. Wrong.", "C - incorrect", "C: no", "C — not this one", "C. Not right.",
                              "C! Incorrect!"))):
        for text in texts:
            assert parse_answer(mc, text, item) is None, text
    for text, label in (("はい、間違いありません。", 0), ("はい、間違いなし。", 0), ("Yes. Not that it matters.", 0),
                        ("是，错不了。", 0)):
        assert parse_answer(nli, text, None) == label, text


def test_the_report_names_the_prompt_language_and_draws_each_modes_crossed_matrix(tmp_path, tiny_causal_base,
                                                                                  data_dir, capsys):
    """(audit round 23) Two runs differing only in --prompt-lang had the same header in text,
    markdown and csv ("xnli:test, MODEL, 0-shot"), and `report A B` paired them without a word; a
    --mode both run with crossed cells drew the premise x hypothesis matrix of ll only."""
    from helpers import run_cli

    paths = {}
    for name, prompts in (("a", "data"), ("b", "en")):
        config = build_config(dict(task="nli", out=str(tmp_path / name), model=str(tiny_causal_base),
                                   data_dir=str(data_dir), langs=["en"], premise_langs=["ko"],
                                   hypothesis_langs=["en"], shots=0, limit=2, mode="both", prompt_lang=prompts,
                                   bootstrap=20))
        paths[name] = run_choice(config, progress=False).path
    code, out, err = run_cli(capsys, "report", paths["a"], paths["b"])
    assert code == 0, err
    heads = [line for line in out.splitlines() if line.startswith(("a: xnli:test", "b: xnli:test"))]
    assert [h.endswith(", 0-shot") for h in heads] == [True, False]
    assert heads[1].endswith(", 0-shot, prompts in English")
    for name in "ab":
        for mode in ("ll", "gen"):
            assert f"{name}: accuracy ({mode}) by premise (rows) x hypothesis (columns) language" in out
    code, out, err = run_cli(capsys, "report", paths["b"], "--format", "csv")
    assert code == 0 and "0-shot, prompts in English" in out, err
