"""xling.metrics against the reference tools, on real FLORES-200 text."""
import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from xling.errors import XlingError
from xling.metrics import bleu, bootstrap_ci, chrf, chrfpp, comet, off_target, on_target_mask, paired_test, spbleu, ter


def devtest(data_dir, flores):
    return (data_dir / "flores200" / "devtest" / f"{flores}.devtest").read_text(encoding="utf-8").splitlines()


def degrade(lines, seed=0):
    """A deliberately damaged copy: drop words (or characters, for unspaced scripts)."""
    rng = random.Random(seed)
    out = []
    for line in lines:
        units = line.split() if " " in line else list(line)
        joiner = " " if " " in line else ""
        out.append(joiner.join(u for u in units if rng.random() > 0.25))
    return out


def sacrebleu_cli(ref: Path, hyp: Path, tgt: str, metric: str) -> dict:
    args = [sys.executable, "-m", "sacrebleu", str(ref), "-i", str(hyp), "-l", f"xx-{tgt}",
            "-m", metric, "-w", "4", "-f", "json"]
    if metric == "chrf++":
        args[args.index("chrf++")] = "chrf"
        args += ["--chrf-word-order", "2"]
    result = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


@pytest.mark.parametrize("tgt, ref_code, hyp_code, tokenizer", [
    ("ko", "kor_Hang", None, "ko-mecab"),
    ("ja", "jpn_Jpan", None, "ja-mecab"),
    ("zh", "zho_Hans", "zho_Hant", "tok:zh"),
    ("en", "eng_Latn", None, "tok:13a"),
])
def test_bleu_and_chrf_equal_sacrebleu_cli(data_dir, tmp_path, tgt, ref_code, hyp_code, tokenizer):
    refs = devtest(data_dir, ref_code)
    hyps = devtest(data_dir, hyp_code) if hyp_code else degrade(refs)
    ref_file, hyp_file = tmp_path / "ref.txt", tmp_path / "hyp.txt"
    ref_file.write_text("\n".join(refs) + "\n", encoding="utf-8")
    hyp_file.write_text("\n".join(hyps) + "\n", encoding="utf-8")
    for metric, ours in (("bleu", bleu(hyps, refs, tgt_lang=tgt)),
                         ("chrf", chrf(hyps, refs, tgt_lang=tgt)),
                         ("chrf++", chrfpp(hyps, refs, tgt_lang=tgt))):
        theirs = sacrebleu_cli(ref_file, hyp_file, tgt, metric)
        assert round(ours.score, 4) == theirs["score"], metric
        assert ours.signature == theirs["signature"], metric
        if metric == "bleu":
            assert tokenizer in ours.signature
            assert 0 < ours.score < 100


def test_ter_flags_from_numpy_sign_as_plain_flags():
    """(audit round 28) numpy's True reached sacrebleu, which writes yes/no only for a bool:
    "norm:True|asian:True"; and the cached scorer kept that spelling for a later plain True."""
    import numpy as np

    hyps, refs = ["the cat sat", "a dog ran"], ["the cat sat down", "the dog ran"]
    first = ter(hyps, refs, normalized=np.True_, asian_support=np.True_, case_sensitive=np.False_)
    assert "|case:lc|" in first.signature and "|norm:yes|" in first.signature and "|asian:yes|" in first.signature
    assert ter(hyps, refs, normalized=True, asian_support=True).signature == first.signature


@pytest.mark.parametrize("tokenize", ["", "  ", 13])
def test_an_empty_tokenizer_name_is_refused_as_on_the_command_line(tokenize):
    """(audit round 28) bleu(tokenize="") scored with the target language's tokenizer without a word."""
    with pytest.raises(XlingError, match="tokenize must name a BLEU tokenizer"):
        bleu(["a b c"], ["a b c"], tokenize=tokenize)


def test_signatures_name_the_cjk_tokenizers():
    refs = ["저는 학생입니다.", "오늘 비가 온다."]
    assert "tok:ko-mecab" in bleu(refs, refs, tgt_lang="kor_Hang").signature
    assert "tok:ja-mecab" in bleu(["私は学生です。"], ["私は学生です。"], tgt_lang="ja").signature
    assert "tok:zh|" in bleu(["我是学生。"], ["我是学生。"], tgt_lang="zh-Hant").signature
    assert "tok:13a" in bleu(refs, refs, tgt_lang="en", tokenize="13a").signature


def test_segments_and_json():
    refs = ["the cat sat on the mat", "a dog barked"]
    result = bleu(["the cat sat on the mat", "a cat meowed"], refs, tgt_lang="en")
    assert result.segments[0] == pytest.approx(100.0) and result.segments[1] < 50
    data = json.loads(result.to_json())
    assert data["name"] == "BLEU" and data["score"] == result.score and len(data["segments"]) == 2
    assert chrf(["abc"], ["abc"]).segments == [pytest.approx(100.0)]


def test_multiple_references():
    hyps = ["the cat is on the mat"]
    one = bleu(hyps, ["there is a cat on the mat"], tgt_lang="en")
    two = bleu(hyps, [["there is a cat on the mat"], ["the cat is on the mat"]], tgt_lang="en")
    assert two.score > one.score and "nrefs:2" in two.signature


def test_a_signature_names_its_own_references_when_threads_score_at_once():
    """The shared metric object's reference count was read for the signature after the lock
    was let go: ~2 in 3 signatures of two threads scoring at once named the other's nrefs."""
    import threading

    hyps = [f"the cat {i} sat on the mat number {i % 7}" for i in range(200)]
    one = [[h.replace("cat", "dog") for h in hyps]]
    two = [*one, [h.replace("mat", "rug") for h in hyps]]
    wrong = []

    def score(refs, tag):
        for j in range(40):
            changed = hyps[:j] + [hyps[j] + f" {tag}"] + hyps[j + 1:]   # no two calls alike
            for metric in (bleu, chrf, ter):
                signature = metric(changed, refs).signature
                if f"nrefs:{len(refs)}|" not in signature:
                    wrong.append(signature)

    threads = [threading.Thread(target=score, args=(refs, tag)) for refs, tag in ((one, "a"), (two, "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not wrong, wrong[:3]


def test_bad_inputs_are_clear_errors():
    with pytest.raises(XlingError, match="segment counts differ"):
        bleu(["a", "b"], ["a"], tgt_lang="en")
    with pytest.raises(XlingError, match="empty"):
        chrf([], [])
    with pytest.raises(XlingError, match="unknown language"):
        bleu(["a"], ["a"], tgt_lang="xx")
    with pytest.raises(XlingError, match="needs the source"):
        comet(["a"], ["a"], None)


def test_spbleu_offline_is_one_clear_error():
    from xling.metrics.spm import cache_path

    if Path(cache_path("flores200")).is_file():
        pytest.skip("sacrebleu's FLORES-200 SentencePiece model is cached here: spBLEU works offline")
    with pytest.raises(XlingError, match="could not be downloaded.*--spm-model"):
        spbleu(["a"], ["a"], tgt_lang="en")


# -- off-target ------------------------------------------------------------------------------
def test_japanese_scored_as_korean_is_off_target(data_dir):
    ja = devtest(data_dir, "jpn_Jpan")
    result = off_target(ja, "ko")
    assert result.score >= 95.0
    assert result.extra["detected"].get("ja", 0) >= 0.95 * len(ja)


def test_references_are_on_target(data_dir):
    assert off_target(devtest(data_dir, "kor_Hang"), "ko").score <= 2.0
    assert off_target(devtest(data_dir, "eng_Latn")[:200], "en").score <= 2.0
    assert off_target(devtest(data_dir, "zho_Hans"), "zh").score <= 2.0
    assert off_target(devtest(data_dir, "zho_Hant"), "zh-Hant").score <= 2.0


def test_chinese_in_the_other_script_is_off_target(data_dir):
    # zh_TW (Traditional) answered in Simplified, or the reverse: the right language, the wrong
    # script for the locale.
    for text, target in ((devtest(data_dir, "zho_Hans"), "zh-Hant"), (devtest(data_dir, "zho_Hant"), "zh")):
        result = off_target(text, target)
        counts = result.extra["counts"]
        assert result.score >= 99.0 and counts["wrong_language"] <= 2
        assert counts["wrong_script"] + counts["wrong_language"] == counts["off_target"]
        assert "zhscript:hanzidentifier-" in result.signature
        # The histogram names the script found: Traditional text is zh-Hant.
        found = "zh-Hant" if target == "zh" else "zh"
        assert result.extra["detected"].get(found, 0) >= 0.99 * len(text)


def test_foreign_names_addresses_and_short_texts_keep_the_target_language():
    # Our own sentences, shaped like WMT24++'s social and news segments.
    cases = [("서울역 앞 카페는 10 Main Street에 있다. 자세한 내용은 https://cafe.example.com/menu 참고.", "ko"),
             ("免费的 Green Garden 茶叶。", "zh"), ("この本は Penguin Books から出ました。", "ja"),
             ("#SummerTrip #Beach #Sunset", "de"), ("@friend42 네!", "ko"), ("第二章", "ja"),
             ("Daten von OpenStreetMap.", "de")]
    for text, target in cases:
        assert not off_target([text], target).extra["flags"][0]["off_target"], (text, target)
    # An answer wholly in another language still is off-target.
    for text, target in (("The weather is lovely and we walked along the river.", "de"),
                         ("I like apples very much.", "ko"), ("我们明天去市场买水果。", "ja")):
        assert off_target([text], target).extra["flags"][0]["off_target"], (text, target)


def test_copies_empties_and_masks(data_dir):
    src = devtest(data_dir, "eng_Latn")[:3]
    outputs = [src[0], "", "그는 어제 시장에 갔다."]
    result = off_target(outputs, "ko", srcs=src)
    flags = result.extra["flags"]
    assert flags[0]["copy"] and flags[0]["off_target"] and flags[0]["lang"] == "en"
    assert flags[1]["empty"] and flags[1]["off_target"]
    assert not flags[2]["off_target"] and not flags[2]["copy"]
    assert result.score == pytest.approx(200 / 3)
    assert on_target_mask(result) == [False, False, True]
    # Other metrics can be restricted to the on-target segments.
    refs = ["x", "y", "그는 어제 시장에 갔다."]
    kept = bleu(outputs, refs, tgt_lang="ko", keep=on_target_mask(result))
    assert kept.score == pytest.approx(100.0) and "subset:1/3" in kept.signature
    # Numbers alone cannot be judged: not counted against the output, nor as on-target.
    numbers = off_target(["2024"], "ko")
    assert numbers.score == 0.0 and numbers.extra["undetermined_rate"] == 100.0
    assert on_target_mask(numbers) == [False]


# -- significance --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def english(data_dir):
    refs = devtest(data_dir, "eng_Latn")[:300]
    return refs, degrade(refs, seed=1)


@pytest.mark.parametrize("test", ["bs", "ar"])
def test_system_against_itself_is_never_better_or_worse(english, test):
    refs, _ = english
    base = bleu(refs, refs, tgt_lang="en")
    (same,) = paired_test(base, {"same": base}, test=test, n_samples=200)
    assert same.delta == 0 and not same.better   # p is sacrebleu's (strictly greater differences)


@pytest.mark.parametrize("metric", [bleu, chrf])
@pytest.mark.parametrize("test", ["bs", "ar"])
def test_clearly_better_system_is_significant(english, metric, test):
    refs, worse = english
    good, bad = metric(refs, refs, tgt_lang="en"), metric(worse, refs, tgt_lang="en")
    (result,) = paired_test(good, {"worse": bad}, test=test, n_samples=300)
    assert result.p_value < 0.05 and result.delta < 0
    again = paired_test(good, {"worse": bad}, test=test, n_samples=300)[0]
    assert again == result                         # reproducible with the same seed
    assert "seed:12345" in result.signature and "n:300" in result.signature


def test_bootstrap_resamples_the_statistics_not_the_sentence_scores(english):
    """Corpus BLEU is not the mean of sentence BLEU: each resample must be recomputed from summed
    statistics, so the bootstrap mean sits near the corpus score."""
    refs, worse = english
    result = bleu(worse, refs, tgt_lang="en")
    mean_of_sentences = sum(result.segments) / len(result.segments)
    (paired,) = paired_test(bleu(refs, refs, tgt_lang="en"), {"worse": result}, n_samples=200)
    assert abs(paired.mean - result.score) < abs(mean_of_sentences - result.score)
    assert paired.ci_low < result.score < paired.ci_high


def test_segment_metrics_resample_segment_scores(data_dir):
    ko = devtest(data_dir, "kor_Hang")[:200]
    ja = devtest(data_dir, "jpn_Jpan")[:200]
    mixed = ko[:100] + ja[100:]
    (result,) = paired_test(off_target(ko, "ko"), {"mixed": off_target(mixed, "ko")}, n_samples=300)
    assert result.delta == pytest.approx(50.0, abs=1.0) and result.p_value < 0.05


def test_reference_layouts_sacrebleu_does_not_take_are_named():
    """Round 16: Hugging Face evaluate's layout (one list per segment) was "segment counts
    differ"; a None reference (sacrebleu's variable references) gave no way on; a keep mask cut
    a longer reference file to fit without a word."""
    hyps = ["The cat sat on the mat.", "A dog barked loudly.", "It rains."]
    refs = ["The cat is on the mat.", "The dog barked loudly.", "It is raining."]
    with pytest.raises(XlingError, match="look like one list per segment .Hugging Face evaluate's layout"):
        bleu(hyps, [[r] for r in refs])
    with pytest.raises(XlingError, match="'' is an empty reference, not a missing one"):
        bleu(hyps, [refs[0], None, refs[2]])
    # a segment lacking one of its references: sacrebleu's None, signed nrefs:var
    from sacrebleu.metrics import BLEU, CHRF, TER

    variable = [refs, ["A cat is on the mat.", None, "It rains a lot."]]
    for ours, theirs in ((bleu, BLEU()), (chrf, CHRF()), (ter, TER())):
        result = ours(hyps, variable)
        assert result.score == pytest.approx(theirs.corpus_score(hyps, variable).score)
        assert "nrefs:var" in result.signature
    with pytest.raises(XlingError, match="segment 1 has no reference"):
        bleu(hyps, [[refs[0], None, refs[2]], ["x", None, "y"]])
    with pytest.raises(XlingError, match="segment counts differ"):
        chrf(hyps[:2], refs, keep=[True, True])


# -- COMET ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_comet(tmp_path_factory):
    from tiny_models import build_comet
    return build_comet(tmp_path_factory.mktemp("tiny-comet"))


TRIPLES = [("저는 학생입니다.", "I am a student.", "I am a student."),
           ("물이 너무 차갑다.", "Water cold.", "The water is too cold."),
           ("바다가 조용하다.", "The sea is calm.", "The sea is calm."),
           ("기차가 늦게 도착했다.", "Train late arrive.", "The train arrived late."),
           ("이 책은 아주 재미있다.", "This book is very interesting.", "This book is very interesting.")]


def test_a_checkpoint_named_by_its_bare_file_name_is_found(tiny_comet, monkeypatch):
    # "model.ckpt" from inside checkpoints/ was an IndexError (a relative path has no parents)
    monkeypatch.chdir(tiny_comet.parent)   # (the fixture is MODEL/checkpoints/model.ckpt)
    srcs, hyps, refs = map(list, zip(*TRIPLES))
    here = comet(hyps, refs, srcs, model="model.ckpt", batch_size=2)
    assert here.segments == comet(hyps, refs, srcs, model=str(tiny_comet), batch_size=2).segments
    import numpy as np  # a notebook's numbers (refused as "not a whole number", "32 not one of 32")
    assert comet(hyps, refs, srcs, model="model.ckpt", batch_size=np.int64(2), precision=32).segments == here.segments
    # (audit round 28) a pathlib folder, as metricx and bleu's spm_model take it: "must be a hub
    # name or a local checkpoint folder, not PosixPath(...)"
    assert comet(hyps, refs, srcs, model=Path("model.ckpt"), batch_size=2).segments == here.segments


def test_a_checkpoint_given_as_the_fourth_argument_and_another_spelling_of_its_path(tiny_comet, monkeypatch):
    """(audit round 22) comet(h, r, s, "models/comet") took the path as tgt_lang and scored the
    default model; the same checkpoint typed as models/comet and ./models/comet was "not
    comparable" in paired tests."""
    from xling.metrics.significance import paired_test

    srcs, hyps, refs = map(list, zip(*TRIPLES))
    with pytest.raises(XlingError, match="fourth argument is the target language"):
        comet(hyps, refs, srcs, str(tiny_comet))
    monkeypatch.chdir(tiny_comet.parents[2])
    relative = str(tiny_comet.relative_to(tiny_comet.parents[2]))
    one = comet(hyps, refs, srcs, "en", model=relative)
    other = comet(refs, refs, srcs, "en", model="./" + relative)
    (result,) = paired_test(one, {"refs": other}, n_samples=100)
    assert 0 < result.p_value <= 1


def test_a_moved_or_damaged_comet_checkpoint_is_said_as_such(tiny_comet, tmp_path):
    """(audit round 22) an encoder folder that no longer exists got the hub's "Repo id must be in
    the form ..."; a truncated checkpoint "[Errno 22] Invalid argument"."""
    import shutil

    srcs, hyps, refs = map(list, zip(*TRIPLES))
    moved = tmp_path / "moved"
    shutil.copytree(tiny_comet.parents[1], moved)
    hparams = moved / "hparams.yaml"   # (its encoder named where the checkpoint was made)
    hparams.write_text(hparams.read_text().replace(str(tiny_comet.parents[1]), str(tmp_path / "gone")))
    with pytest.raises(XlingError, match="needs its encoder folder .* which does not exist here"):
        comet(hyps, refs, srcs, model=str(moved))
    damaged = tmp_path / "damaged"
    shutil.copytree(tiny_comet.parents[1], damaged)
    ckpt = damaged / "checkpoints" / "model.ckpt"
    ckpt.write_bytes(ckpt.read_bytes()[:5000])
    with pytest.raises(XlingError, match=r"\(damaged or incomplete\?\)"):
        comet(hyps, refs, srcs, model=str(damaged))


def test_comet_matches_unbabel_comet(tiny_comet, oracle):
    srcs, hyps, refs = map(list, zip(*TRIPLES))
    theirs = oracle("comet", checkpoint=str(tiny_comet), batch_size=2,
                    samples=[{"src": s, "mt": h, "ref": r} for s, h, r in TRIPLES])
    ours = comet(hyps, refs, srcs, model=str(tiny_comet), batch_size=2)
    assert ours.segments == pytest.approx(theirs["scores"], abs=1e-6)
    assert ours.score == pytest.approx(theirs["system_score"], abs=1e-6)
    for part in ("model:", "rev:sha256:", "prec:32", "bs:2", "impl:xling-"):   # scored by xling itself
        assert part in ours.signature
    # The model folder (COMET's layout) works as well as the checkpoint file.
    assert comet(hyps, refs, srcs, model=str(tiny_comet.parents[1])).segments == \
        pytest.approx(theirs["scores"], abs=1e-6)
    # Paired tests take COMET's segment scores.
    worse = comet(["x"] * 5, refs, srcs, model=str(tiny_comet))
    (result,) = paired_test(ours, {"worse": worse}, n_samples=100)
    assert 0 < result.p_value <= 1


def test_comet_errors(tiny_comet):
    with pytest.raises(XlingError, match="segment counts differ"):
        comet(["a"], ["a", "b"], ["a"], model=str(tiny_comet))
    with pytest.raises(XlingError, match="hub cannot be reached"):
        comet(["a"], ["a"], ["a"], model="Unbabel/wmt22-comet-da")


def test_comet_prints_at_its_own_decimals_and_takes_sacrebleus_reference_layout(tiny_comet):
    """Round 16: print() and paired intervals of COMET gave 2 decimals (0.8512 and 0.8549 both
    "0.85"), and comet() refused the [refs] that bleu/chrf/ter take."""
    srcs, hyps, refs = map(list, zip(*TRIPLES))
    ours = comet(hyps, [refs], srcs, model=str(tiny_comet))
    assert ours.segments == comet(hyps, refs, srcs, model=str(tiny_comet)).segments
    assert str(ours).startswith(f"COMET = {ours.score:.4f}  (")
    (result,) = paired_test(ours, {"worse": comet(["x"] * 5, refs, srcs, model=str(tiny_comet))}, n_samples=50)
    assert re.fullmatch(r"\[-?\d\.\d{4}, -?\d\.\d{4}\]", result.interval()), result.interval()
    with pytest.raises(XlingError, match="one reference per segment, not 2 reference streams"):
        comet(hyps, [refs, refs], srcs, model=str(tiny_comet))


@pytest.mark.parametrize("precision", ["16", "bf16"])
def test_comet_scores_at_half_precision_close_to_full(tiny_comet, precision):
    """The average-pooled (COMET-22-shaped) model at 16 and bf16 bits: a score near float32's,
    where the pooled embedding in float32 met the half-precision estimator (a traceback)."""
    srcs, hyps, refs = map(list, zip(*TRIPLES))
    full = comet(hyps, refs, srcs, model=str(tiny_comet), gpus=0)
    half = comet(hyps, refs, srcs, model=str(tiny_comet), precision=precision, gpus=0)
    assert half.segments == pytest.approx(full.segments, abs=0.05) and f"prec:{precision}" in half.signature


def test_a_damaged_comet_checkpoint_is_one_clear_error(tiny_comet, tmp_path):
    import shutil

    import torch
    import yaml

    def damaged(name, hparams=None, drop=None):
        folder = tmp_path / name
        shutil.copytree(tiny_comet.parents[1], folder)
        if hparams:
            path = folder / "hparams.yaml"
            path.write_text(yaml.safe_dump(yaml.safe_load(path.read_text()) | hparams))
        if drop:
            ckpt = folder / "checkpoints" / "model.ckpt"
            saved = torch.load(ckpt, weights_only=False)
            del saved["state_dict"][drop]
            torch.save(saved, ckpt)
        return str(folder)

    srcs, hyps, refs = map(list, zip(*TRIPLES))
    for folder, message in ((damaged("long", {"hidden_sizes": [16, 16]}), "do not fit hparams.yaml's hidden_sizes"),
                            (damaged("layer", {"layer": 99}), "asks for layer 99, but its encoder has layers"),
                            (damaged("lacks", drop="estimator.ff.0.bias"), "lacks the weight 'estimator.ff.0.bias'"),
                            (damaged("number", {"hidden_sizes": 16}), "hidden_sizes must be a list of layer sizes")):
        with pytest.raises(XlingError, match=message):
            comet(hyps, refs, srcs, model=folder)


def test_a_comet_checkpoint_is_known_by_what_shapes_its_scores(tiny_comet, tmp_path):
    """Only model.ckpt was hashed: hparams.yaml edited (its layer mix) scored otherwise under the
    same signature, and rescore kept the old score as current."""
    import shutil

    import yaml

    from xling.metrics.registry import get

    folder = tmp_path / "edited"
    shutil.copytree(tiny_comet.parents[1], folder)
    srcs, hyps, refs = map(list, zip(*TRIPLES))
    before = comet(hyps, refs, srcs, model=str(folder))
    made = get("comet").made_with({"comet_model": str(folder)})
    path = folder / "hparams.yaml"
    path.write_text(yaml.safe_dump(yaml.safe_load(path.read_text()) | {"layer_transformation": "softmax"}))
    after = comet(hyps, refs, srcs, model=str(folder))
    assert after.signature != before.signature
    assert get("comet").made_with({"comet_model": str(folder)}) != made


def test_comet_with_several_references_says_which_it_read(tiny_comet):
    """COMET reads the first reference set; swapping two changed its score under one signature."""
    from xling.tasks.score import score_systems

    srcs, hyps, refs = map(list, zip(*TRIPLES))
    report = score_systems({"sys": hyps}, [refs, hyps], ["comet", "bleu"], "en", srcs=srcs,
                           settings={"comet_model": str(tiny_comet)})
    assert report.systems["sys"]["comet"].signature.endswith("|ref:1-of-2")
    assert "nrefs:2" in report.systems["sys"]["bleu"].signature


def test_the_first_reference_note_speaks_of_string_metrics_only_where_one_is_asked_for(tiny_comet, capsys):
    """(audit round 28) `score -r a b -m metricx xcomet` said "string metrics use all 2", with no
    string metric asked for."""
    from xling.tasks.score import score_systems

    srcs, hyps, refs = map(list, zip(*TRIPLES))
    for metrics, note in ((["comet"], "COMET scores against the first reference only\n"),
                          (["comet", "offtarget"], "COMET scores against the first reference only\n"),
                          (["comet", "chrf"], "COMET scores against the first reference only; string metrics use "
                                              "all 2\n")):
        score_systems({"sys": hyps}, [refs, hyps], metrics, "en", srcs=srcs, settings={"comet_model": str(tiny_comet)})
        assert capsys.readouterr().err == f"xling: note: {note}", metrics


def test_ter_is_one_spec_and_equals_sacrebleu():
    import sacrebleu

    from xling.metrics.registry import get

    hyps = ["the cat sat on the mat", "hello world", "a b c d"]
    refs = ["the cat sat on a mat", "hello there world", "a b c d"]
    result = get("ter")(hyps, refs, tgt_lang="en")
    assert result.score == pytest.approx(sacrebleu.corpus_ter(hyps, [refs]).score)
    assert result.segments == pytest.approx([sacrebleu.sentence_ter(h, [r]).score for h, r in zip(hyps, refs)])
    assert not result.higher_is_better and "asian:no" in result.signature
    assert "asian:yes" in get("ter")(["我是学生"], ["我是学生。"], tgt_lang="zh").signature
    # Korean is spaced, and sacrebleu's Asian support splits no Hangul: its TER is sacrebleu's
    # default (round 16: norm:yes came with asian:yes and moved a Korean TER ~5x from sacrebleu's)
    korean = get("ter")(["저는 학생 이다 ."], ["저는 학생이다."], tgt_lang="ko")
    assert "asian:no" in korean.signature and "norm:no" in korean.signature
    assert korean.score == pytest.approx(sacrebleu.corpus_ter(["저는 학생 이다 ."], [["저는 학생이다."]]).score)


@pytest.mark.parametrize("lang", ["zh", "ja"])
def test_ter_on_cjk_targets_tokenizes_as_sacrebleus_asian_support(data_dir, lang):
    # sacrebleu's asian_support acts only with normalized on: alone, an unspaced Chinese or
    # Japanese sentence is one token and one lost character costs the whole sentence.
    from sacrebleu.metrics import TER

    from xling.data.parallel import load_parallel

    refs = load_parallel("flores200:devtest", data_dir).text(lang)[:40]
    hyps = [r[:len(r) // 2] + r[len(r) // 2 + 1:] for r in refs]    # one character left out
    result = ter(hyps, [refs], tgt_lang=lang)
    oracle = TER(normalized=True, asian_support=True)
    assert result.score == pytest.approx(oracle.corpus_score(hyps, [refs]).score)
    assert result.segments == pytest.approx([oracle.sentence_score(h, [r]).score for h, r in zip(hyps, refs)])
    assert "norm:yes" in result.signature and "asian:yes" in result.signature
    assert result.score < 10   # a character in ~40, not the whole sentence
    assert ter(hyps, [refs], tgt_lang=lang, normalized=False).signature.count("norm:no") == 1


def test_significance_follows_the_metric_direction():
    from xling.metrics.registry import get

    refs = [f"the weather is very nice today number {i}" for i in range(30)]
    close = [r.replace("very ", "") for r in refs]                  # a few edits
    far = [" ".join(reversed(r.split())) for r in refs]             # many edits
    for name in ("ter", "bleu"):
        spec = get(name)
        base, better = spec(far, refs, tgt_lang="en"), spec(close, refs, tgt_lang="en")
        (paired,) = paired_test(base, {"close": better}, "bs", 200)
        assert paired.better and spec.better(better.score, base.score)
        assert paired.p_value < 0.05
    ter = get("ter")
    assert ter(close, refs, tgt_lang="en").score < ter(far, refs, tgt_lang="en").score   # lower wins


def test_every_registered_metric_declares_what_it_needs():
    from xling.metrics.registry import REGISTRY, get

    assert get("chrfpp") is get("chrf++")
    for spec in REGISTRY.values():
        if spec.needs_refs:
            with pytest.raises(XlingError, match="needs references"):
                spec(["a"], None, ["a"], tgt_lang="en")
        if spec.needs_srcs:
            with pytest.raises(XlingError, match="needs the source"):
                spec(["a"], ["a"], None, tgt_lang="en")
    assert get("offtarget")(["안녕하세요"], None, None, tgt_lang="en").score == 100.0


def test_references_seen_before_give_sacrebleus_own_numbers():
    """A second system scored on the same references reuses their n-grams (as a report comparing
    runs does); scores, sentence statistics and signatures (nrefs) stay sacrebleu's own, also when
    the number of reference streams changes between calls."""
    from sacrebleu.metrics import BLEU, CHRF, TER

    from xling.metrics import ter

    refs = [["The cat sat on the mat.", "It rained all day long."],
            ["A cat was sitting on the mat.", "Rain fell the whole day."]]
    systems = [["The cat sat on a mat.", "It rained all day."], ["A dog sat on the mat.", "Sun all day long."]]
    for streams in (refs[:1], refs, refs[:1], refs):
        for hyps in systems:
            for ours, theirs in ((bleu(hyps, streams, "en"), BLEU()), (chrf(hyps, streams), CHRF()),
                                 (ter(hyps, streams, "en"), TER())):
                expected = theirs.corpus_score(hyps, streams)
                assert ours.score == pytest.approx(expected.score, abs=1e-9)
                assert ours.signature == theirs.get_signature().format()
                rows = [theirs._extract_corpus_statistics([h], [[s[i]] for s in streams])[0]
                        for i, h in enumerate(hyps)]
                assert ours.stats.tolist() == rows


def test_paired_tests_refuse_results_that_are_not_comparable():
    hyps_a = ["저는 어제 학교에 갔습니다.", "날씨가 정말 좋네요.", "이 책은 재미있어요."] * 10
    hyps_b = ["저는 학교에 갔어요.", "날씨가 좋아요.", "이 책은 정말 재미있습니다."] * 10
    refs = ["저는 어제 학교에 갔어요.", "오늘 날씨가 정말 좋네요.", "이 책은 아주 재미있어요."] * 10
    other_refs = [r + " 네." for r in refs]
    base = bleu(hyps_a, refs, tgt_lang="ko")
    cases = [
        (bleu(hyps_b, refs, tokenize="13a"), "computed the same way"),          # another tokenizer
        (chrf(hyps_b, refs, tgt_lang="ko"), "one metric: BLEU vs chrF"),
        (bleu(hyps_b, other_refs, tgt_lang="ko"), "the same references"),
    ]
    for system, message in cases:
        with pytest.raises(XlingError, match=message):
            paired_test(base, {"B": system})
    half = [True, False] * 15
    with pytest.raises(XlingError, match="another subset"):
        paired_test(bleu(hyps_a, refs, tgt_lang="ko", keep=half),
                    {"B": bleu(hyps_b, refs, tgt_lang="ko", keep=[not k for k in half])})
    (same,) = paired_test(bleu(hyps_a, refs, tgt_lang="ko", keep=half),
                          {"B": bleu(hyps_b, refs, tgt_lang="ko", keep=half)})
    assert same.samples == 1000


def test_judge_resamples_without_a_parsed_answer_are_left_out():
    import numpy as np

    from xling.metrics.judge import parsed_mean_result

    values = list(np.random.default_rng(2).uniform(40, 90, 20))
    system = parsed_mean_result("GEMBA-ESA", values, "judge:x")
    # the same judgments, 5 of 20 parsed: a resample may hold none of them (no baseline score)
    baseline = parsed_mean_result("GEMBA-ESA", [v if i % 4 == 0 else None for i, v in enumerate(values)], "judge:x")
    (bs,) = paired_test(baseline, {"sys": system}, "bs", 1000, seed=7)
    (ar,) = paired_test(baseline, {"sys": system}, "ar", 1000, seed=7)
    assert 0 < 1000 - bs.samples < 50          # the few resamples with no parsed baseline answer
    assert bs.p_value > 0.05 and bs.verdict is None, bs   # a small delta is not "significant"
    assert np.isfinite([bs.p_value, bs.mean, bs.ci_low, bs.ci_high]).all()
    assert ar.p_value > 0.05 and ar.samples <= 1000


def test_randomization_counts_ties_for_discrete_segment_scores():
    """Off-target is 0/1 per segment: a shuffle often ties the observed difference exactly. With
    5 segments that differ, all one way, the exact two-sided p is 2/32 = 0.0625; counting only
    strictly larger shuffles (sacrebleu's rule for its own metrics) gave 0.0001."""
    from xling.metrics.base import mean_result

    baseline = mean_result("OffTarget%", [100.0] * 5 + [0.0] * 195, "offtarget")
    system = mean_result("OffTarget%", [0.0] * 200, "offtarget")
    (ar,) = paired_test(baseline, {"sys": system}, "ar", 10000, seed=3)
    assert ar.p_value == pytest.approx(0.0625, abs=0.01) and ar.verdict is None
    (same,) = paired_test(baseline, {"sys": baseline}, "ar", 1000, seed=3)
    assert same.p_value == 1.0
    # the bootstrap too (round 17): 100% vs 50% off-target on 4 segments was p=0.0010 "better*";
    # two-sided about the observed -50: resamples of all four segments alike (2 in 16) are as far
    four = mean_result("OffTarget%", [100.0] * 4, "offtarget")
    half = mean_result("OffTarget%", [100.0, 0.0, 100.0, 0.0], "offtarget")
    for seed in range(10):    # (the fix's first form held for one seed: the resamples' mean decided)
        (bs,) = paired_test(four, {"half": half}, "bs", 1000, seed=seed)
        assert bs.p_value == pytest.approx(2 / 16, abs=0.035) and bs.verdict is None


def test_lower_is_better_metrics_say_so_when_called_directly():
    refs = ["the cat sat on the mat today", "a dog barked at the old man", "we went to the market early"]
    worse = ["cat mat", "dog", "market"]
    (paired,) = paired_test(ter(refs, refs), {"worse": ter(worse, refs)})
    assert paired.verdict == "worse" and not ter(worse, refs).higher_is_better
    good, off = off_target(["저는 학생입니다."] * 20, "ko"), off_target(["I am a student."] * 20, "ko")
    (paired,) = paired_test(good, {"english": off})
    assert paired.verdict == "worse"


def test_the_off_target_metric_honours_a_keep_mask():
    from xling.metrics.registry import get

    outputs = ["저는 학생입니다.", "I like apples very much.", "오늘 날씨가 좋네요.", "2000000"]
    result = get("offtarget")(outputs, tgt_lang="ko", keep=[True, False, True, False])
    assert result.score == 0.0 and result.signature.endswith("|subset:2/4")
    with pytest.raises(XlingError, match="keep holds 'yes'; pass true/false flags"):
        get("offtarget")(outputs, tgt_lang="ko", keep=["yes", "no", "yes", "no"])


def test_the_readme_metrics_example_runs_as_written(tmp_path):
    import re
    import subprocess
    import sys
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Metrics\n\n```python\n(.*?)```", readme, re.S).group(1)
    code = block + ("assert round(ot.score, 1) == 33.3 and not ter(hyps, refs, tgt_lang='ko').higher_is_better\n"
                    "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.stdout.strip() == "ok", result.stderr[-2000:]


def test_the_readme_python_blocks_use_only_names_they_define():
    """The README's Translator example used `lines` without defining it (a NameError even online)."""
    import ast
    import builtins
    import re
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for block in re.findall(r"```python\n(.*?)```", readme, re.S):
        tree = ast.parse(block)
        defined = {alias.asname or alias.name.split(".")[0] for node in ast.walk(tree)
                   if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
        defined |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)
                    and isinstance(node.ctx, ast.Store)}
        used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
        assert used - defined - set(dir(builtins)) == set(), block


def test_api_mistakes_are_one_clear_error(tmp_path):
    from xling.metrics.registry import parse_metric_names

    hyps = ["저는 학생입니다."]
    for call, message in ((lambda: bleu(hyps, []), "references: got an empty list"),
                          (lambda: paired_test(bleu(hyps, hyps), [bleu(hyps, hyps)]), "pass a dict of name"),
                          (lambda: on_target_mask(bleu(hyps, hyps)), "takes an off_target"),
                          (lambda: comet(hyps, hyps, hyps, batch_size=0), "batch_size must be a whole number"),
                          # "0" was a TypeError traceback, -1 ran on a GPU where the CLI refuses it
                          (lambda: comet(hyps, hyps, hyps, gpus="0"), "gpus must be a whole number"),
                          (lambda: comet(hyps, hyps, hyps, gpus=-1), "gpus must be a whole number"),
                          (lambda: comet(hyps, [hyps, hyps], hyps), "takes one reference per segment"),
                          # round 14: each of these was a numpy/lingua traceback or taken silently
                          (lambda: bootstrap_ci(bleu(hyps, hyps), seed=-1), "seed must be a whole number"),
                          (lambda: bootstrap_ci(bleu(hyps, hyps), seed="7"), "seed must be a whole number"),
                          (lambda: bootstrap_ci("x"), "result: got a str; pass a metric's result"),
                          (lambda: paired_test(bleu(hyps, hyps), {"a": None}), "system: got a NoneType"),
                          (lambda: off_target(["abc \ud800 def"], "en"), "hypotheses\\[0\\] holds a lone surrogate"),
                          (lambda: comet(hyps, hyps, None), "srcs; -s/--source on the command line"),
                          (lambda: comet(hyps, hyps, hyps, model=""), "COMET model must be a hub name"),
                          (lambda: comet(hyps, hyps, hyps, progress="no"), "progress must be True or False"),
                          (lambda: bleu(hyps, hyps, tgt_lang="ko", spm_model="/nonexistent.model"),
                           "spm_model applies to a SentencePiece tokenizer")):
        with pytest.raises(XlingError, match=message):
            call()
    assert parse_metric_names("bleu,chrf") == ["bleu", "chrf"]


def test_a_judge_with_no_parsed_answer_has_no_interval_and_no_verdict():
    import math

    from xling.metrics.judge import parsed_mean_result
    from xling.metrics.significance import bootstrap_ci

    nothing = parsed_mean_result("GEMBA-ESA", [None] * 5, "judge:x")
    some = parsed_mean_result("GEMBA-ESA", [70.0, 80.0, 60.0, 90.0, 75.0], "judge:x")
    assert all(math.isnan(v) for v in bootstrap_ci(nothing, 100))
    (paired,) = paired_test(nothing, {"some": some}, "bs", 100)
    assert math.isnan(paired.p_value) and paired.verdict is None and paired.samples == 0


def test_an_old_cjk_ter_score_gets_a_warning():
    from xling.metrics.unsegmented import result_warning

    old = "nrefs:1|case:lc|tok:tercom|norm:no|punct:yes|asian:yes|version:2.6.0"
    assert "near an exact-match rate" in result_warning("ter", old, "zh")
    assert result_warning("ter", old.replace("norm:no", "norm:yes"), "zh") is None
    assert result_warning("ter", old, "en") is None
    assert "splits no Hangul" in result_warning("ter", old.replace("norm:no", "norm:yes"), "ko")


def test_api_options_of_the_wrong_kind_are_one_clear_error():
    """lowercase="no" is a true string: it lowercased silently; a bad seed or word order raised
    ValueError/TypeError, or named "chrF+-1"."""
    hyps, refs = ["The cat"], [["the cat"]]
    for call, message in ((lambda: bleu(hyps, refs, lowercase="no"), "lowercase must be True or False"),
                          (lambda: chrf(hyps, refs, word_order=-1), "word_order must be a whole number"),
                          (lambda: chrf(hyps, refs, word_order="2"), "word_order must be a whole number"),
                          (lambda: paired_test(bleu(hyps, refs), {"b": bleu(hyps, refs)}, seed=-1),
                           "seed must be a whole number")):
        with pytest.raises(XlingError, match=message):
            call()


def test_an_alias_is_the_metric_it_names_never_a_second_column():
    """`rescore -m kiwi` beside `cometkiwi` made two "CometKiwi" columns (from two models, no
    stale-score note); old runs with alias keys read them under the registered name."""
    from xling.metrics.registry import canonical_keys, parse_metric_names

    assert parse_metric_names(["kiwi,cometkiwi", "chrfpp"]) == ["cometkiwi", "chrf++"]
    assert canonical_keys({"chrfpp": {"score": 1}, "bleu": {"score": 2}}) == {"chrf++": {"score": 1},
                                                                              "bleu": {"score": 2}}
    assert canonical_keys({"chrfpp": {"score": 1}, "chrf++": {"score": 3}}) == {"chrf++": {"score": 3}}


def test_transfer_delta_p_and_interval_never_disagree():
    """transfer printed p = 0.040 beside [-2.261, +0.069]: its p was a shift test, its interval
    percentiles. Both now come from the same resampled differences."""
    import numpy as np

    from xling.metrics.base import mean_result
    from xling.metrics.significance import delta_ci

    rng = np.random.default_rng(3)
    agree = 0
    for shift in np.linspace(0.0, 0.3, 31):
        base = rng.normal(0.5, 0.3, 150)
        system = base + shift + rng.normal(0, 0.8, 150)
        _, low, high, p = delta_ci(mean_result("COMET", list(base), ""), mean_result("COMET", list(system), ""))
        agree += (p < 0.05) == (low > 0 or high < 0)
    assert agree == 31
    # (round 24) at the edge: 25 of 1000 differences at or below 0 gave [+0.0041, +0.8424] beside
    # p = 0.052 (interpolated percentiles); now the interval and p agree there too
    for data_seed in (68, 191, *range(200, 260)):
        r = np.random.default_rng(data_seed)
        base = r.normal(0, 1, 20)
        system = base + r.normal(0.45, 1, 20)
        for n in (1000, 80, 79, 40):
            _, low, high, p = delta_ci(mean_result("X", list(base), ""), mean_result("X", list(system), ""), n, 12345)
            assert (p < 0.05) == (low > 0 or high < 0), (data_seed, n, low, high, p)
    with pytest.raises(XlingError, match="needs 40 resamples or more, not 39"):   # [min, max] beside p >= 0.05
        delta_ci(mean_result("X", [0.1, 0.5], ""), mean_result("X", [0.2, 0.6], ""), 39)
    same = mean_result("COMET", [0.1, 0.5, 0.9], "")
    assert delta_ci(same, same)[3] == 1.0


def test_a_dict_or_a_table_is_never_scored_by_its_keys_or_column_names():
    """bleu(df.hyp, df[["ref_a", "ref_b"]]) scored the column names (BLEU 0.00, nrefs:1);
    chrf({...}, refs) scored the dict's keys. sacrebleu refuses both."""
    from xling.translation.translator import source_texts

    hyps, refs = ["the cat sat on the mat", "a dog ran home today"], ["the cat sat on a mat", "a dog ran home"]
    with pytest.raises(XlingError, match="got a dict, whose iteration gives its keys"):
        chrf(dict(zip(["s1", "s2"], hyps)), refs)
    with pytest.raises(XlingError, match="got a dict"):
        source_texts({"s1": "안녕"})
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"hyp": hyps, "ref_a": refs, "ref_b": refs})
    with pytest.raises(XlingError, match="got a DataFrame"):
        bleu(frame.hyp, frame[["ref_a", "ref_b"]])
    # columns (a Series, an array) are reference streams
    assert bleu(frame.hyp, [frame.ref_a, frame.ref_b.values]).score == bleu(hyps, [refs, refs]).score


def test_ter_options_are_yes_or_no_values_never_strings():
    """normalized="no" scored with normalisation on, under a signature saying norm:no."""
    for option in ("normalized", "asian_support", "case_sensitive"):
        with pytest.raises(XlingError, match=f"{option} must be True or False, not 'no'"):
            ter(["a b"], ["a c"], tgt_lang="en", **{option: "no"})


def test_a_stored_score_is_found_under_any_spelling_of_its_metric():
    from xling.runs.records import DirectionScores

    scores = DirectionScores("ko-en", None, None, 2, {"chrf++": {"score": 3.0}, "bleu": {"score": 1.0}})
    assert (scores.score("chrfpp"), scores.score("BLEU"), scores.score("ter")) == (3.0, 1.0, None)


def test_a_metric_called_through_the_registry_refuses_an_option_no_metric_takes():
    """`get("bleu")(..., tokenise="char")` scored 13a BLEU and `get("chrf")(..., word_order=2)`
    plain chrF, the option dropped without a word; another metric's option still serves all."""
    from xling.metrics.registry import get

    hyps, refs = ["The cat sat."], ["The cat sat down."]
    with pytest.raises(XlingError, match="BLEU takes no option 'tokenise'"):
        get("bleu")(hyps, refs, None, "en", tokenise="char")
    with pytest.raises(XlingError, match="chrF takes no option 'word_order'"):
        get("chrf")(hyps, refs, None, "en", word_order=2)
    assert get("chrf")(hyps, refs, None, "en", tokenize="char").score == chrf(hyps, refs).score


def test_none_for_the_outputs_is_named_as_such():
    """`off_target(None, "en")` said "the inputs are empty"."""
    with pytest.raises(XlingError, match="hypotheses: got None"):
        off_target(None, "en")


def test_a_metric_called_by_name_with_the_target_where_its_sources_go_is_refused():
    """get("bleu")(hyps, refs, "ko") took "ko" as the sources, which BLEU ignores: 13a, 0.00 where
    bleu(hyps, refs, "ko") is 25.70 with ko-mecab (round 17)."""
    from xling.metrics.registry import get

    hyps, refs = ["저는 학생이에요."], ["저는 학생입니다."]
    with pytest.raises(XlingError, match=r"srcs \(the third argument, the source sentences\) is one string 'ko'; "
                                         r"give the target language as tgt_lang='ko'"):
        get("bleu")(hyps, refs, "ko")
    with pytest.raises(XlingError, match="2 source sentences for 1 hypotheses"):
        get("ter")(hyps, refs, ["a", "b"], "ko")
    assert get("bleu")(hyps, refs, None, "ko").score == bleu(hyps, refs, tgt_lang="ko").score


def test_tab_completion_sees_the_lazy_names():
    import xling
    import xling.metrics

    assert {"translate", "Translator"} <= set(dir(xling)) and {"bleu", "comet", "ter"} <= set(dir(xling.metrics))


def test_numpy_integers_and_a_numeric_precision_are_taken():
    """A notebook's np.int64 was refused as "not a whole number" (round 17)."""
    import numpy as np

    refs, hyps = ["the cat sat on the mat"], ["the cat sat on a mat"]
    assert chrf(hyps, refs, word_order=np.int64(2)).score == chrf(hyps, refs, word_order=2).score


def test_sources_passed_where_the_target_language_goes_are_named(capsys):
    """(audit round 19) bleu(hyps, refs, srcs) printed every source in a 136 KB "unknown
    language code" message; chrf took them without a word. A set has no order (it was said to
    be readable only once); a dict's values have the dict's (they were refused)."""
    hyps, refs = ["a b c d"] * 3, ["a b c d"] * 3
    for metric in (bleu, chrf, ter):
        with pytest.raises(XlingError, match=r"^tgt_lang \(the third argument\) is a language code such as 'ko', "
                                             r"not a list of 3 \(BLEU, chrF and TER take no sources"):
            metric(hyps, refs, ["x"] * 3)
    with pytest.raises(XlingError, match=r"not 5 \(BLEU"):
        bleu(hyps, refs, 5)
    with pytest.raises(XlingError) as caught:
        bleu(hyps, refs, "x" * 10_000)
    assert len(str(caught.value)) < 1000
    with pytest.raises(XlingError, match="got a set, which has no order"):
        bleu(set(hyps), refs)
    assert chrf(hyps, {i: r for i, r in enumerate(refs)}.values()).score == 100   # a dict's order
    assert bleu(hyps, refs, "ko").score == pytest.approx(100) and chrf(hyps, refs, "ko").score == 100


def test_a_keep_mask_that_drops_every_segment_says_so():
    """(audit round 20) keep=on_target_mask(...) with every output off-target said "the inputs
    are empty" of inputs that were not."""
    from xling.errors import XlingError
    from xling.metrics import chrf

    with pytest.raises(XlingError, match="keep drops all 2 segments"):
        chrf(["a b", "c d"], [["a b", "c d"]], keep=[False, False])


def test_off_target_given_references_second_says_its_signature():
    """(audit round 24) off_target(hyps, refs, "ko"), in the order every other metric takes, said
    "unknown language code ['x y z']"."""
    with pytest.raises(XlingError, match=r"^tgt_lang \(the second argument\) is a language code such as 'ko', "
                       r"not a list of 1; off_target takes \(hyps, tgt_lang, srcs=None\), no references$"):
        off_target(["a b c"], ["x y z"], "ko")
    with pytest.raises(XlingError, match="off_target needs the target language: tgt_lang, a code such as 'ko'"):
        off_target(["a b c"], None)
