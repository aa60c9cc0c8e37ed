"""Quality estimation and MetricX: tiny real checkpoints (a COMET unified metric, a MetricX-shaped
mT5) scored through xling and through the oracles (unbabel-comet 2.2.7, mbrs 0.1.8, in the
reference venv), reference-free scoring from the shell, and clear errors for gated or offline
models."""

import json
import re

import pytest
from helpers import assert_one_line_error, xling

from xling.errors import XlingError

TRIPLES = [("저는 학생입니다.", "I am a student.", "I am a student."),
           ("물이 너무 차갑다.", "Water cold.", "The water is too cold."),
           ("바다가 조용하다.", "The sea is calm.", "The sea is calm."),
           ("기차가 늦게 도착했다.", "Train late arrive.", "The train arrived late."),
           ("이 책은 아주 재미있다.", "This book is very interesting.", "This book is very interesting.")]
SRCS, HYPS, REFS = map(list, zip(*TRIPLES))


@pytest.fixture(scope="module")
def tiny_xcomet(tmp_path_factory):
    from tiny_models import build_comet_unified
    return build_comet_unified(tmp_path_factory.mktemp("tiny-xcomet"), with_reference=True)


@pytest.fixture(scope="module")
def tiny_kiwi(tmp_path_factory):
    from tiny_models import build_comet_unified
    return build_comet_unified(tmp_path_factory.mktemp("tiny-kiwi"), with_reference=False)


@pytest.fixture(scope="module")
def tiny_metricx(tmp_path_factory):
    from tiny_models import build_metricx
    return build_metricx(tmp_path_factory.mktemp("tiny-metricx-24"))


@pytest.fixture(scope="module")
def tiny_regression(tmp_path_factory):
    """A reference-based COMET checkpoint (COMET-22-shaped): its folder."""
    from tiny_models import build_comet
    return build_comet(tmp_path_factory.mktemp("tiny-comet")).parents[1]


def _unbabel(oracle, checkpoint, batch_size=2, refs=None):
    return oracle("comet", checkpoint=str(checkpoint), batch_size=batch_size,
                  samples=[{"src": s, "mt": h} | ({"ref": refs[i]} if refs else {})
                           for i, (s, h) in enumerate(zip(SRCS, HYPS))])


def test_xcomet_qe_equals_unbabel_comet_and_keeps_error_spans(tiny_xcomet, oracle):
    from xling.metrics.registry import get

    theirs = _unbabel(oracle, tiny_xcomet)
    ours = get("xcomet-qe")(HYPS, None, SRCS, "en", model=str(tiny_xcomet), batch_size=2)
    assert ours.segments == pytest.approx(theirs["scores"], abs=1e-6)
    spans = ours.extra["error_spans"]
    assert [[{k: v for k, v in s.items() if k != "confidence"} for s in row] for row in spans] == \
        [[{k: v for k, v in s.items() if k != "confidence"} for s in row] for row in theirs["error_spans"]]
    assert len(spans) == 5 and any(spans)
    assert "refs:no" in ours.signature and ours.name == "xCOMET-QE"
    # With a reference the same unified model scores differently (it sees more).
    with_ref = get("comet")(HYPS, REFS, SRCS, "en", model=str(tiny_xcomet), batch_size=2)
    assert with_ref.segments == pytest.approx(_unbabel(oracle, tiny_xcomet, refs=REFS)["scores"], abs=1e-6)
    assert "refs:yes" in with_ref.signature and with_ref.segments != pytest.approx(ours.segments)


def test_cometkiwi_equals_unbabel_comet(tiny_kiwi, oracle):
    from xling.metrics.registry import get

    ours = get("cometkiwi")(HYPS, None, SRCS, "en", model=str(tiny_kiwi), batch_size=2)
    assert ours.segments == pytest.approx(_unbabel(oracle, tiny_kiwi)["scores"], abs=1e-6)
    assert ours.name == "CometKiwi" and "refs:no" in ours.signature


def _mbrs_direct(oracle, model_dir, refs, version="24", batch_size=2):
    return oracle("metricx", model_dir=str(model_dir), hyps=HYPS, refs=refs, srcs=SRCS,
                  version=version, batch_size=batch_size)


def test_metricx_through_xling_equals_mbrs(tiny_metricx, oracle):
    from xling.metrics.registry import get

    ours = get("metricx")(HYPS, REFS, SRCS, "en", model=str(tiny_metricx), batch_size=2)
    # padding differs: batches by length
    assert ours.segments == pytest.approx(_mbrs_direct(oracle, tiny_metricx, REFS), abs=1e-4)
    assert not ours.higher_is_better and all(0 <= s <= 25 for s in ours.segments)
    assert "version:metricx-24" in ours.signature and "refs:yes" in ours.signature
    qe = get("metricx-qe")(HYPS, REFS, SRCS, "en", model=str(tiny_metricx), batch_size=3)
    assert qe.segments == pytest.approx(_mbrs_direct(oracle, tiny_metricx, None), abs=1e-4)
    assert "refs:no" in qe.signature and qe.name == "MetricX-QE"


def test_metricx_version_is_never_guessed_from_a_folder_name(tiny_metricx, tmp_path):
    """The same weights scored as MetricX-23 or -24 by what their folder was called: a local
    folder whose name says neither needs --metricx-version."""
    import shutil

    from xling.errors import XlingError
    from xling.metrics.registry import get

    plain = tmp_path / "my-copy"
    shutil.copytree(tiny_metricx, plain)
    with pytest.raises(XlingError, match="says neither metricx-23 nor metricx-24; pass --metricx-version"):
        get("metricx")(HYPS, REFS, SRCS, "en", model=str(plain))
    ours = get("metricx")(HYPS, REFS, SRCS, "en", model=str(plain), version="24")
    assert ours.segments == pytest.approx(get("metricx")(HYPS, REFS, SRCS, "en", model=str(tiny_metricx)).segments)
    assert get("metricx")(HYPS, REFS, SRCS, "en", model=str(plain), version=24).segments == ours.segments  # from YAML
    # another tokenizer than the model's own is in the signature (other ids, other scores)
    retokenized = get("metricx")(HYPS, REFS, SRCS, "en", model=str(plain), version="24", tokenizer=str(tiny_metricx))
    assert f"|tok:{tiny_metricx}@local-" in retokenized.signature and "tok:" not in ours.signature
    assert "--metricx-version" in __import__("subprocess").run(
        [__import__("sys").executable, "-m", "xling.cli", "score", "--help"], capture_output=True, text=True).stdout


@pytest.mark.parametrize("version", ["24", "23"])
def test_metricx_scored_by_xling_equals_mbrs_segment_by_segment(tiny_metricx, version, oracle):
    from xling.metrics.registry import get

    ours = get("metricx")(HYPS, REFS, SRCS, "en", model=str(tiny_metricx), batch_size=1, version=version)
    assert ours.segments == pytest.approx(_mbrs_direct(oracle, tiny_metricx, REFS, version, batch_size=1), abs=1e-5)
    assert "impl:xling-" in ours.signature and f"version:metricx-{version}" in ours.signature
    if version == "24":   # (the tiny model clips every MetricX-23 input to 0: equal, but flat)
        assert len(set(round(s, 3) for s in ours.segments)) > 1


def test_metricx_tokenizes_as_mbrs_does_with_an_mt5_sentencepiece_model(tmp_path, oracle, data_dir):
    """The real MetricX tokenizer path (google/mt5-xl's layout: a SentencePiece model, no
    tokenizer.json): transformers 5 has no slow tokenizer, so the ids xling's MetricX gets must
    equal those mbrs's slow T5Tokenizer gives, on MetricX's prefixed inputs."""
    from tiny_models import build_mt5_tokenizer

    from xling.data.languages import resolve
    from xling.data.parallel import flores_pairs
    from xling.metrics.metricx import PREFIXES, load_tokenizer

    pairs = [p for lang in ("ko", "ja", "zh", "th", "de")
             for p in flores_pairs("dev", resolve("en"), resolve(lang), data_dir)[:60]]
    folder = build_mt5_tokenizer(tmp_path / "mt5", [t for pair in pairs for t in pair])
    test = [p for lang in ("ko", "ja", "zh", "th", "de")
            for p in flores_pairs("devtest", resolve("en"), resolve(lang), data_dir)[:20]]
    texts = [prefix + side for src, tgt in test for side in (src, tgt) for prefix in PREFIXES["24"].values()]
    texts += ["  two  spaces ", "ｆｕｌｌ－ｗｉｄｔｈ　ｔｅｘｔ", "tab\there", "</s> after a special", "", "①②",
              "e\u0301"]
    ours = load_tokenizer(str(folder))
    assert [ours.encode(t, add_special_tokens=False) for t in texts] == oracle("metricx_tokens",
                                                                                 tokenizer_dir=str(folder), texts=texts)


def test_score_without_references_from_the_shell(tiny_kiwi, tiny_metricx, tmp_path):
    (tmp_path / "src.ko").write_text("\n".join(SRCS) + "\n", encoding="utf-8")
    (tmp_path / "hyp.en").write_text("\n".join(HYPS) + "\n", encoding="utf-8")
    (tmp_path / "worse.en").write_text("x\n" * 5, encoding="utf-8")
    result = xling("score", "-i", str(tmp_path / "hyp.en"), str(tmp_path / "worse.en"), "-s", str(tmp_path / "src.ko"),
                   "--tgt-lang", "en", "-m", "cometkiwi", "metricx-qe", "--cometkiwi-model", str(tiny_kiwi),
                   "--metricx-model", str(tiny_metricx), "--metric-batch-size", "2", "--paired-bs",
                   "--paired-n", "100")
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "CometKiwi: model:" in out and "MetricX-QE: model:" in out and out.count("refs:no") == 2
    assert "lower is better: MetricX-QE" in out
    # No source: one clear line.
    assert_one_line_error(xling("score", "-i", str(tmp_path / "hyp.en"), "--tgt-lang", "en", "-m", "cometkiwi"),
                          "CometKiwi needs the source sentences")


def test_gated_or_offline_models_are_one_clear_line(tmp_path):
    (tmp_path / "src.ko").write_text("저는 학생입니다.\n", encoding="utf-8")
    (tmp_path / "hyp.en").write_text("I am a student.\n", encoding="utf-8")
    args = ["-i", str(tmp_path / "hyp.en"), "-s", str(tmp_path / "src.ko"), "--tgt-lang", "en"]
    assert_one_line_error(xling("score", *args, "-m", "cometkiwi"),
                          "COMET model 'Unbabel/wmt22-cometkiwi-da' is not a local checkpoint"
                          " and the Hugging Face hub cannot be reached")
    assert_one_line_error(xling("score", *args, "-m", "metricx-qe"),
                          "MetricX needs 'google/metricx-24-hybrid-large-v2p6'")
    # MetricX (reference-based) without references.
    with pytest.raises(XlingError, match="MetricX needs references"):
        from xling.metrics.registry import get
        get("metricx")(["a"], None, ["b"], "en")


def test_metricx_by_hub_name_scores_offline_from_the_hub_cache(tiny_metricx, tmp_path):
    """(audit round 22) the preflight took a cached MetricX, and loading refused it offline (after
    a run had translated everything); the mT5 tokenizer it also needs was never checked."""
    from tiny_models import put_in_hub_cache

    (tmp_path / "src.ko").write_text("저는 학생입니다.\n물이 차갑다.\n", encoding="utf-8")
    (tmp_path / "hyp.en").write_text("I am a student.\nWater cold.\n", encoding="utf-8")
    (tmp_path / "ref.en").write_text("I am a student.\nThe water is cold.\n", encoding="utf-8")
    args = ["-i", str(tmp_path / "hyp.en"), "-r", str(tmp_path / "ref.en"), "-s", str(tmp_path / "src.ko"),
            "--tgt-lang", "en", "-m", "metricx", "--format", "json"]
    put_in_hub_cache(tmp_path / "hub", "google/metricx-24-hybrid-large-v2p6", tiny_metricx)
    no_tokenizer = xling("score", *args, env={"HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1"})
    assert_one_line_error(no_tokenizer, "'google/mt5-xl', which is neither a local folder nor in the hub cache")
    put_in_hub_cache(tmp_path / "hub", "google/mt5-xl", tiny_metricx)   # (its folder holds the tokenizer)
    by_name = xling("score", *args, env={"HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1"})
    assert by_name.returncode == 0, by_name.stderr
    local = xling("score", *args, "--metricx-model", str(tiny_metricx))
    assert local.returncode == 0, local.stderr
    named, folder = (next(iter(json.loads(r.stdout)["systems"].values()))["metricx"] for r in (by_name, local))
    assert named["score"] == pytest.approx(folder["score"], abs=1e-6)
    assert "model:google/metricx-24-hybrid-large-v2p6|" in named["signature"]


def test_eval_and_rescore_take_qe_metrics(tiny_kiwi, tiny_metricx, tmp_path, capsys):
    from servers import FakeOpenAI

    from xling.runs.config import build_config
    from xling.runs.records import read_run
    from xling.tasks.mt import rescore, run_mt

    (tmp_path / "t.ko").write_text("저는 학생입니다.\n물이 너무 차갑다.\n", encoding="utf-8")
    (tmp_path / "t.en").write_text("I am a student.\nThe water is too cold.\n", encoding="utf-8")
    server = FakeOpenAI(respond=lambda payload: "I am a student.")
    try:
        config = build_config({"out": str(tmp_path / "run"), "data": f"text:{tmp_path}/t.{{lang}}",
                               "pairs": ["ko-en"], "metrics": ["chrf", "cometkiwi"], "model": "fake",
                               "cometkiwi_model": str(tiny_kiwi), "backend": "http", "base_url": server.url})
        run_mt(config, progress=False)
    finally:
        server.close()
    run = read_run(config.out, fresh=True)
    assert "refs:no" in run.direction("ko-en").metrics["cometkiwi"]["signature"]
    rescore(config.out, ["metricx-qe"], {"metricx_model": str(tiny_metricx)})
    entry = read_run(config.out).direction("ko-en").metrics["metricx-qe"]
    assert "refs:no" in entry["signature"] and len(entry["segments"]) == 2
    # Scores that exist are kept unless recomputed (here with another batch size, in the signature).
    rescore(config.out, ["metricx-qe"], {"metricx_model": str(tiny_metricx), "comet_batch_size": 1})
    assert read_run(config.out).direction("ko-en").metrics["metricx-qe"] == entry
    assert "MetricX-QE is kept as stored; --recompute recomputes it" in capsys.readouterr().err
    rescore(config.out, ["metricx-qe"], {"metricx_model": str(tiny_metricx), "comet_batch_size": 1},
            recompute=True)
    again = read_run(config.out).direction("ko-en").metrics["metricx-qe"]
    assert "bs:1" in again["signature"] and again["segments"] == pytest.approx(entry["segments"], abs=1e-4)
    # A stored score made with another model, or with other weights at the same path, is stale:
    # scored again with a note (it was kept, under the new model's name in config.json).
    import shutil

    from tiny_models import build_comet_unified

    kiwi = read_run(config.out).direction("ko-en").metrics["cometkiwi"]
    other = build_comet_unified(tmp_path / "other-kiwi", with_reference=False)
    torch_state = __import__("torch").load(other, weights_only=False)
    torch_state["state_dict"]["estimator.ff.0.bias"] += 1.0        # other weights, same shape
    __import__("torch").save(torch_state, other)
    capsys.readouterr()
    rescore(config.out, ["cometkiwi"], {"cometkiwi_model": str(other)})
    assert "is scored again: it was stored with another model\n" in capsys.readouterr().err
    rescored = read_run(config.out).direction("ko-en").metrics["cometkiwi"]
    assert rescored["segments"] != pytest.approx(kiwi["segments"])
    shutil.copyfile(tiny_kiwi, other)                                # the first weights, at the new path
    rescore(config.out, ["cometkiwi"], {"cometkiwi_model": str(other)})
    assert "stored with another model (its files changed)" in capsys.readouterr().err
    assert read_run(config.out).direction("ko-en").metrics["cometkiwi"]["segments"] == \
        pytest.approx(kiwi["segments"], abs=1e-3) != rescored["segments"]
    # a run's settings left at their defaults never undo what rescore scored with a model given
    # then (config.json keeps the run's own): kept, not scored with the default model
    again = read_run(config.out).direction("ko-en").metrics["cometkiwi"]
    rescore(config.out, ["cometkiwi"], {"comet_batch_size": 4})
    assert read_run(config.out).direction("ko-en").metrics["cometkiwi"] == again


def test_a_resumed_run_back_at_a_default_setting_scores_again(tiny_kiwi, tmp_path, capsys):
    """A run resumed without `--precision bf16` (the default, 32) kept its bf16 score while its
    config.json said 32: a setting set back to its default counted as not asked for."""
    from servers import FakeOpenAI

    from xling.runs.config import build_config
    from xling.runs.records import read_run
    from xling.tasks.mt import run_mt

    (tmp_path / "t.ko").write_text("저는 학생입니다.\n", encoding="utf-8")
    (tmp_path / "t.en").write_text("I am a student.\n", encoding="utf-8")
    server = FakeOpenAI(respond=lambda payload: "I am student.")
    settings = {"out": str(tmp_path / "run"), "data": f"text:{tmp_path}/t.{{lang}}", "pairs": ["ko-en"],
                "metrics": ["cometkiwi"], "model": "fake", "cometkiwi_model": str(tiny_kiwi),
                "backend": "http", "base_url": server.url}
    try:
        run_mt(build_config({**settings, "precision": "bf16"}), progress=False)
        assert read_run(settings["out"], fresh=True).direction("ko-en").metrics["cometkiwi"]["made_with"][
            "precision"] == "bf16"
        capsys.readouterr()
        run_mt(build_config(settings), progress=False)
    finally:
        server.close()
    assert "CometKiwi is scored again: it was stored with another precision" in capsys.readouterr().err
    stored = read_run(settings["out"], fresh=True)
    assert stored.direction("ko-en").metrics["cometkiwi"]["made_with"]["precision"] == "32"
    assert stored.run.read_config()["settings"]["precision"] == "32"


def test_metricx23_qe_input_is_chosen_by_the_models_own_name_not_a_folder_above_it(tiny_metricx, tmp_path):
    """A reference-based MetricX-23 kept under a folder named "qe-study" still gets "candidate:
    ... reference: ..." inputs (it was fed QE inputs, its reference ignored, and reported as MetricX)."""
    import shutil

    from xling.metrics.metricx import _names_qe
    from xling.metrics.registry import get

    under_qe = tmp_path / "qe-study" / "metricx-23-large-v2p0"
    shutil.copytree(tiny_metricx, under_qe)
    assert not _names_qe(str(under_qe)) and _names_qe("google/metricx-23-qe-large-v2p0")
    hub_cache = tmp_path / "models--google--metricx-23-qe-large-v2p0" / "snapshots" / "0123abc"
    hub_cache.mkdir(parents=True)
    assert _names_qe(str(hub_cache))
    ours = get("metricx")(HYPS, REFS, SRCS, "en", model=str(under_qe), batch_size=1)
    plain = tmp_path / "metricx-23-large-v2p0"
    shutil.copytree(tiny_metricx, plain)
    assert ours.segments == get("metricx")(HYPS, REFS, SRCS, "en", model=str(plain), batch_size=1).segments


def test_a_metricx23_qe_model_is_not_scored_as_reference_based(tiny_metricx, tmp_path, capsys):
    """(audit round 20) -m metricx with a metricx-23-qe model read no reference (QE inputs) and
    was labelled MetricX, refs:yes; --precision bf16 on the CPU was dropped without a word."""
    import shutil

    from xling.errors import XlingError
    from xling.metrics.registry import get

    qe = tmp_path / "metricx-23-qe-large-v2p0"
    shutil.copytree(tiny_metricx, qe)
    with pytest.raises(XlingError, match="is a QE model: it reads no reference.*-m metricx-qe"):
        get("metricx")(HYPS, REFS, SRCS, "en", model=str(qe), batch_size=1)
    scored = get("metricx-qe")(HYPS, REFS, SRCS, "en", model=str(qe), batch_size=1, precision="bf16")
    assert scored.name == "MetricX-QE" and "refs:no" in scored.signature and "prec:32" in scored.signature
    assert "MetricX runs in float32 on the CPU (precision bf16 applies on a GPU" in capsys.readouterr().err


def test_the_metricx_version_is_read_from_the_models_own_name_not_a_folder_above_it(tmp_path):
    """A MetricX-24 kept under "study-metricx-23-vs-24/" was scored with MetricX-23's inputs
    (0.00, signed version:metricx-23), as the QE guess once was."""
    from xling.errors import XlingError
    from xling.metrics.metricx import _version

    model = tmp_path / "study-metricx-23-vs-24" / "metricx-24-hybrid-large-v2p6"
    model.mkdir(parents=True)
    assert _version(str(model), None) == "24"
    assert _version("google/metricx-23-large-v2p0", None) == "23"
    hub_cache = tmp_path / "models--google--metricx-23-xl-v2p0" / "snapshots" / "0123abc"
    hub_cache.mkdir(parents=True)
    assert _version(str(hub_cache), None) == "23"
    unnamed = tmp_path / "metricx-24-runs" / "mine"
    unnamed.mkdir(parents=True)
    with pytest.raises(XlingError, match="says neither metricx-23 nor metricx-24"):
        _version(str(unnamed), None)


def test_comet_on_a_cometkiwi_checkpoint_says_it_read_no_reference(tiny_kiwi):
    """The scores ignore the references (as unbabel-comet's), but the signature said refs:yes."""
    from xling.metrics import comet

    with_refs = comet(HYPS, REFS, SRCS, model=str(tiny_kiwi), batch_size=2)
    without = comet(HYPS, None, SRCS, model=str(tiny_kiwi), batch_size=2)
    assert with_refs.segments == without.segments and "refs:no" in with_refs.signature


def test_xcomet_from_a_folder_of_any_name_is_named_xcomet_and_keeps_its_spans(tmp_path):
    """(audit round 19) The name was guessed from the path ("xcomet" in it): a local xCOMET
    checkpoint in a folder named otherwise was printed, stored and tabled as "COMET", beside
    the run's COMET column; and -m xcomet kept no error spans (only xcomet-qe did)."""
    from tiny_models import build_comet_variant

    from xling.metrics import comet, xcomet

    folder = build_comet_variant(tmp_path / "checkpoint-a", "BERT", xcomet=True, word_layer=2,
                                 layer_transformation="softmax")
    direct = comet(HYPS, REFS, SRCS, "en", model=str(folder), batch_size=2)
    assert direct.name == "xCOMET" and "error_spans" not in direct.extra
    through = xcomet(HYPS, REFS, SRCS, model=str(folder), batch_size=2)
    assert through.name == "xCOMET" and len(through.extra["error_spans"]) == len(HYPS)
    assert through.segments == direct.segments


def test_a_comet_checkpoint_given_as_the_metricx_model_is_named_as_one(tiny_kiwi, tiny_metricx, tmp_path):
    """(audit round 24) a COMET folder as --metricx-model was reported as google/mt5-xl's tokenizer
    being offline; the folder's kind is checked first, and the right option named."""
    from xling.metrics.preflight import check_metric_models
    from xling.metrics.registry import get

    folder = str(tiny_kiwi.parents[1])
    cure = "is a COMET checkpoint (hparams.yaml, checkpoints/model.ckpt), not a MetricX model (--metricx-model): " \
           "give it as --comet-model, --xcomet-model or --cometkiwi-model"
    with pytest.raises(XlingError, match=re.escape(cure)):
        get("metricx")(HYPS, REFS, SRCS, "en", model=folder)
    with pytest.raises(XlingError, match=re.escape(cure)):      # eval mt and rescore, before any work
        check_metric_models(["metricx-qe"], {"metricx_model": folder}, translating=False)
    (tmp_path / "src.ko").write_text("저는 학생입니다.\n", encoding="utf-8")
    (tmp_path / "hyp.en").write_text("I am a student.\n", encoding="utf-8")
    assert_one_line_error(xling("score", "-i", str(tmp_path / "hyp.en"), "-s", str(tmp_path / "src.ko"),
                                "--tgt-lang", "en", "-m", "metricx-qe", "--metricx-model", folder,
                                "--metricx-version", "24"), cure)
    # and the other way round: a MetricX folder as a COMET model is named a transformers model
    with pytest.raises(XlingError, match=re.escape("has no checkpoints/model.ckpt (--comet-model); it holds "
                                                   "config.json: a transformers model (MetricX: --metricx-model)")):
        check_metric_models(["comet"], {"comet_model": str(tiny_metricx)}, translating=False)


def test_a_mistyped_relative_comet_path_is_said_to_be_no_folder_either(tmp_path, monkeypatch):
    """(audit round 24) `--comet-model m/nothere` read as a hub name only: "the hub cannot be
    reached (offline?)", never that no such folder exists."""
    from xling.metrics import comet

    monkeypatch.chdir(tmp_path)
    (tmp_path / "m").mkdir()
    with pytest.raises(XlingError, match=r"cannot be reached to fetch it \(offline\?\) \(nor is there a local folder "
                                         r"'m/nothere': a mistyped path\?\); pass a local checkpoint"):
        comet(["a"], ["a"], ["a"], model="m/nothere")
    with pytest.raises(XlingError) as default:      # the default hub name is no mistyped path
        comet(["a"], ["a"], ["a"])
    assert "mistyped" not in str(default.value)
    with pytest.raises(XlingError) as hub:          # nor another well-formed hub id (no Unbabel/ here)
        comet(["a"], ["a"], ["a"], model="Unbabel/XCOMET-XXL")
    assert "mistyped" not in str(hub.value) and "offline" in str(hub.value)


def _fake_run(tmp_path, name: str, **settings):
    """A finished ko-en run of three segments translated by a fake OpenAI server (its folder)."""
    from servers import FakeOpenAI

    from xling.runs.config import build_config
    from xling.tasks.mt import run_mt

    server = FakeOpenAI(respond=lambda payload: "I am a student.")
    try:
        run_mt(build_config(_fake_settings(tmp_path, name, server.url, **settings)), progress=False)
    finally:
        server.close()
    return tmp_path / name


def _fake_settings(tmp_path, name: str, url: str, **settings) -> dict:
    """A ko-en run's settings: three segments, scored with chrF, translated by the server at `url`."""
    (tmp_path / "t.ko").write_text("저는 학생입니다.\n물이 너무 차갑다.\n바다가 조용하다.\n", encoding="utf-8")
    (tmp_path / "t.en").write_text("I am a student.\nThe water is too cold.\nThe sea is calm.\n", encoding="utf-8")
    return {"out": str(tmp_path / name), "data": f"text:{tmp_path}/t.{{lang}}", "pairs": ["ko-en"],
            "metrics": ["chrf"], "model": "fake", "backend": "http", "base_url": url, **settings}


def test_metricx_23_and_24_scores_of_one_model_are_never_paired(tiny_metricx, tmp_path, capsys):
    """(audit round 28) report ran a paired test between MetricX-23's and MetricX-24's scores of
    the same weights ("0.00 18.92 (+18.92, p=0.0010) worse*"): every `version:` field was dropped
    as sacrebleu's package version, and a local model's path with it, so nothing told them apart."""
    import shutil

    from helpers import run_cli

    from xling.metrics.significance import same_measure
    from xling.tasks.mt import rescore

    plain = tmp_path / "mx-plain"
    shutil.copytree(tiny_metricx, plain)
    r23 = _fake_run(tmp_path, "r23")
    r24 = tmp_path / "r24"
    shutil.copytree(r23, r24)
    for run, version in ((r23, "23"), (r24, "24")):
        rescore(str(run), ["metricx"], {"metricx_model": str(plain), "metricx_version": version})
    capsys.readouterr()
    code, out, err = run_cli(capsys, "report", r23, r24, "-m", "metricx")
    assert code == 0, err
    row = out[out.index("runs compared"):].splitlines()[2]   # (the table comparing the runs)
    assert row.startswith("ko-en") and row.endswith("(not comparable)") and "p=" not in row, out
    assert "no test is made across signatures" in out
    # signatures stored before: MetricX's version kept, sacrebleu's (and xling's) still run-only
    stored = "model:m|rev:local-0123|version:metricx-{}|prec:32|bs:8|refs:yes|impl:xling-0.1.0"
    assert not same_measure(stored.format(23), stored.format(24))
    assert same_measure(stored.format(24), stored.format(24).replace("bs:8", "bs:2").replace("0.1.0", "0.2.0"))
    chrf = "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:{}"
    assert same_measure(chrf.format("2.4.0"), chrf.format("2.6.0")) and same_measure(
        chrf.format("2.6.0"), chrf.format("2.5.0.dev1"))
    assert not same_measure(chrf.format("2.6.0"), chrf.format("2.6.0").replace("nc:6", "nc:4"))


def test_a_reference_based_checkpoint_given_to_a_qe_metric_is_named_so(tiny_regression, tmp_path):
    """(audit round 28) a reference-based COMET checkpoint as --cometkiwi-model (or --xcomet-model
    for xcomet-qe) said "give references (-r)", also with -r given: a QE metric never reads them."""
    from xling.metrics import comet
    from xling.metrics.registry import get

    model = str(tiny_regression)
    for metric, name in (("cometkiwi", "CometKiwi"), ("cometkiwi-xl", "CometKiwi-XL"), ("xcomet-qe", "xCOMET-QE")):
        with pytest.raises(XlingError) as refused:
            get(metric)(HYPS, REFS, SRCS, "en", model=model)
        assert str(refused.value) == (
            f"{name} model {model!r} is a reference-based COMET model, not a QE model: give a CometKiwi or xCOMET "
            "checkpoint, or score it with the metric comet (it needs references)")
    with pytest.raises(XlingError, match=r"reference-based regression model: give references \(-r\)"):
        comet(HYPS, None, SRCS, model=model)      # (comet() itself, without references: give them)
    for path, text in (("src.ko", SRCS), ("hyp.en", HYPS), ("ref.en", REFS)):
        (tmp_path / path).write_text("\n".join(text) + "\n", encoding="utf-8")
    assert_one_line_error(xling("score", "-i", tmp_path / "hyp.en", "-r", tmp_path / "ref.en", "-s",
                                tmp_path / "src.ko", "--tgt-lang", "en", "-m", "cometkiwi", "--cometkiwi-model",
                                model), "is a reference-based COMET model, not a QE model")


def test_a_wrong_kind_of_metric_model_is_refused_before_anything_is_translated(
        tiny_metricx, tiny_regression, tmp_path, capsys):
    """(audit round 28) a MetricX folder whose name says no version, a reference-based checkpoint
    for CometKiwi, an xCOMET folder with an empty hparams.yaml: found only after every segment
    was translated (README: every model is found before a run translates anything)."""
    import shutil

    from helpers import run_cli
    from servers import FakeOpenAI
    from tiny_models import put_in_hub_cache

    plain, qe23, empty = tmp_path / "mx-plain", tmp_path / "metricx-23-qe-large-v2p0", tmp_path / "emptyh"
    shutil.copytree(tiny_metricx, plain)
    shutil.copytree(tiny_metricx, qe23)
    shutil.copytree(tiny_regression, empty)
    (empty / "hparams.yaml").write_text("", encoding="utf-8")
    unknown = tmp_path / "unknown-class"
    shutil.copytree(tiny_regression, unknown)
    hparams = unknown / "hparams.yaml"
    hparams.write_text(hparams.read_text(encoding="utf-8").replace("regression_metric", "ranking_metric"),
                       encoding="utf-8")
    cases = [(["metricx", "--metricx-model", plain], "its name says neither metricx-23 nor metricx-24; "
              "pass --metricx-version 23 or 24"),
             (["metricx", "--metricx-model", qe23], "is a QE model: it reads no reference"),
             (["cometkiwi", "--cometkiwi-model", tiny_regression], f"CometKiwi model '{tiny_regression}' "
              "(--cometkiwi-model) is a reference-based COMET model, not a QE model"),
             (["xcomet", "--xcomet-model", empty], "is not a COMET hparams.yaml (it names no class_identifier)"),
             (["comet", "--comet-model", unknown], "cannot be scored by xling: its class 'ranking_metric'")]
    put_in_hub_cache(tmp_path / "hub", "Unbabel/wmt22-comet-da", tiny_regression)
    server = FakeOpenAI(respond=lambda payload: "I am a student.")
    try:
        settings = _fake_settings(tmp_path, "run", server.url)
        common = ["eval", "mt", "--data", settings["data"], "-p", "ko-en", "--model", "fake", "--backend", "http",
                  "--base-url", server.url, "--out", tmp_path / "run"]
        for args, message in cases:
            code, _, err = run_cli(capsys, *common, "--metrics", *args)
            assert code == 2 and err.splitlines() == [err.strip()] and message in err, err
            assert server.requests == 0 and not (tmp_path / "run").exists()
        # a hub name whose cached copy is reference-based (read from the cache, as a folder is)
        cached = xling(*map(str, common), "--metrics", "cometkiwi", "--cometkiwi-model", "Unbabel/wmt22-comet-da",
                       env={"HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1"})
        assert_one_line_error(cached, "CometKiwi model 'Unbabel/wmt22-comet-da' (--cometkiwi-model) is a "
                                      "reference-based COMET model, not a QE model")
        assert server.requests == 0 and not (tmp_path / "run").exists()
        # and a right one still runs
        code, _, err = run_cli(capsys, *common, "--metrics", "metricx", "--metricx-model", plain,
                               "--metricx-version", "24")
        assert code == 0 and server.requests == 3, err
    finally:
        server.close()


def test_xcomet_takes_the_target_language_as_every_metric_does(tiny_xcomet):
    """(audit round 28) xcomet(h, r, s, "en", model=...) was a TypeError (3 positional arguments),
    where comet() and every get(name)(hyps, refs, srcs, tgt_lang) take it."""
    from xling.metrics import xcomet

    model = str(tiny_xcomet.parents[1])
    ours = xcomet(HYPS, REFS, SRCS, "en", model=model, batch_size=2)
    assert ours.name == "xCOMET" and ours.segments == xcomet(HYPS, REFS, SRCS, model=model, batch_size=2).segments
    assert xcomet(HYPS, REFS, SRCS, tgt_lang="en", model=model, batch_size=2).segments == ours.segments
    with pytest.raises(XlingError, match=re.escape(f"xCOMET's fourth argument is the target language (tgt_lang), "
                                                   f"not {model!r}: name a checkpoint with model=...")):
        xcomet(HYPS, REFS, SRCS, model)


def test_model_metrics_take_one_reference_stream_and_say_what_a_missing_reference_is_to_them(
        tiny_metricx, tiny_regression):
    """(audit round 28) MetricX refused sacrebleu's one-stream layout [refs] as "not several
    reference streams" (comet() takes it); a None reference to COMET or MetricX was explained by
    BLEU's brevity penalty and TER."""
    from xling.metrics import comet, xcomet
    from xling.metrics.metricx import metricx
    from xling.metrics.registry import get

    model = str(tiny_metricx)
    ours = get("metricx")(HYPS, [REFS], SRCS, "en", model=model, batch_size=2)
    assert ours.segments == get("metricx")(HYPS, REFS, SRCS, "en", model=model, batch_size=2).segments
    assert ours.signature == metricx(HYPS, REFS, SRCS, model=tiny_metricx, batch_size=2).signature  # a pathlib folder
    with pytest.raises(XlingError, match=re.escape("MetricX takes one reference per segment, not 2 reference streams")):
        metricx(HYPS, [REFS, REFS], SRCS, model=model)
    missing = [*REFS[:-1], None]
    for score, name in ((lambda: metricx(HYPS, missing, SRCS, model=model), "MetricX"),
                        (lambda: metricx(HYPS, [missing], SRCS, model=model), "MetricX"),
                        (lambda: comet(HYPS, missing, SRCS, model=str(tiny_regression)), "COMET"),
                        (lambda: xcomet(HYPS, missing, SRCS, model=str(tiny_regression)), "xCOMET")):
        with pytest.raises(XlingError) as refused:
            score()
        assert str(refused.value).endswith(f"is None (NoneType), not text; {name} needs a reference for every "
                                           "segment"), refused.value


def test_score_refuses_a_wrong_kind_of_model_before_the_first_metric_scores(tiny_metricx, tiny_regression,
                                                                             tmp_path):
    """(audit round 28) `score` found a reference-based --cometkiwi-model only when it came to that
    metric, after the metrics before it had scored (MetricX's note on its precision came first)."""
    for path, text in (("src.ko", SRCS), ("hyp.en", HYPS), ("ref.en", REFS)):
        (tmp_path / path).write_text("\n".join(text) + "\n", encoding="utf-8")
    args = ["score", "-i", tmp_path / "hyp.en", "-r", tmp_path / "ref.en", "-s", tmp_path / "src.ko", "--tgt-lang",
            "en", "--precision", "bf16", "--metricx-model", tiny_metricx, "--cometkiwi-model", tiny_regression]
    assert_one_line_error(xling(*args, "-m", "metricx,cometkiwi"), "CometKiwi model")
