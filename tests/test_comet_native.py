"""xling's own COMET scoring equals unbabel-comet 2.2.7 (the oracle, run in the reference venv)
on tiny random checkpoints of each shape a published model takes: regression (with and without
references), unified (CometKiwi-shaped, with a reference, with word-level tags) and xCOMET; BERT,
XLM-R, XLM-R-XL, MiniLM and RemBERT encoders; a softmax or sparsemax layer mix with or without
layer norm, one layer, each pooling; with and without references given. Scores to 1e-5, error
spans equal."""
import json
import os
import subprocess
import sys

import pytest

from xling.metrics.comet_scoring import comet

TRIPLES = [("저는 학생입니다.", "I am a student.", "I am a student."),
           ("오늘 날씨가 좋네요.", "Nice weather today.", "The weather is nice today."),
           ("책을 읽고 있어요.", "reading book", "I am reading a book."),
           ("고양이가 창문 옆에서 잔다.", "The cat sleeps by the window.", "A cat sleeps next to the window."),
           ("새 문장.", "", "A new sentence.")]

SHAPES = {
    "comet22-shaped": dict(encoder="XLM-RoBERTa", layer_transformation="sparsemax", layer_norm=False),
    "xlmr-softmax-norm-cls": dict(encoder="XLM-RoBERTa", layer_transformation="softmax", layer_norm=True, pool="cls"),
    "bert-sparsemax-norm": dict(encoder="BERT", layer_transformation="sparsemax", layer_norm=True),
    "bert-one-layer-max": dict(encoder="BERT", layer=1, pool="max"),
    # unified models without word-level tags: CometKiwi-shaped (mt+src), and with a reference
    "kiwi-xlmr-sparsemax": dict(encoder="XLM-RoBERTa", input_segments=["mt", "src"],
                                layer_transformation="sparsemax", layer_norm=False, word_level_training=False),
    "kiwi-bert-softmax": dict(encoder="BERT", input_segments=["mt", "src"], layer_norm=True,
                              word_level_training=False),
    "unified-xlmr-with-ref": dict(encoder="XLM-RoBERTa", input_segments=["mt", "src", "ref"],
                                  word_level_training=False),
    "unified-bert-with-ref-one-layer": dict(encoder="BERT", input_segments=["mt", "src", "ref"],
                                            sent_layer=1, word_level_training=False),
    # word-level error tags: a unified model with spans, and xCOMET's own combination
    "unified-tags-bert": dict(encoder="BERT", input_segments=["mt", "src", "ref"], word_layer=2,
                              word_level_training=True, error_labels=["minor", "major"]),
    "xcomet-xlmr-sparsemax": dict(encoder="XLM-RoBERTa", xcomet=True, word_layer=2,
                                  layer_transformation="sparsemax", layer_norm=False),
    "xcomet-bert": dict(encoder="BERT", xcomet=True, word_layer=2, layer_transformation="softmax"),
    "xcomet-xl-shaped": dict(encoder="XLM-RoBERTa-XL", xcomet=True, word_layer=2,
                             layer_transformation="sparsemax", layer_norm=False),
    "kiwi-xl-shaped": dict(encoder="XLM-RoBERTa-XL", input_segments=["mt", "src"],
                           layer_transformation="sparsemax", layer_norm=False, word_level_training=False),
    "xlmr-xl-regression": dict(encoder="XLM-RoBERTa-XL", layer_transformation="softmax"),
    "rembert-regression": dict(encoder="RemBERT", layer_transformation="sparsemax", layer_norm=False),
    "rembert-unified-with-ref": dict(encoder="RemBERT", input_segments=["mt", "src", "ref"],
                                     layer_transformation="softmax", word_level_training=False),
    "minilm-regression": dict(encoder="MiniLM", layer_transformation="softmax", layer_norm=True),
    "referenceless-qe": dict(encoder="XLM-RoBERTa", referenceless=True, layer_transformation="softmax"),
    "sparsemax-patch": dict(encoder="BERT", layer_transformation="sparsemax_patch"),
}


@pytest.fixture(scope="module", params=list(SHAPES))
def checkpoint(request, tmp_path_factory, oracle):
    from conftest import oracle_hub_cache
    from tiny_models import build_comet_variant

    options = dict(SHAPES[request.param])
    return build_comet_variant(tmp_path_factory.mktemp(request.param), options.pop("encoder"),
                               hub_cache=oracle_hub_cache(tmp_path_factory), **options)


def _xling_scores(checkpoint, with_refs, batch_size, hub_cache):
    """xling's scores; a MiniLM model reads its tokenizer from the hub cache under COMET's
    name xlm-roberta-base, so it is scored in a process that sees the tests' hub cache."""
    srcs, hyps, refs = map(list, zip(*TRIPLES))
    refs = refs if with_refs else None
    if "MiniLM" not in (checkpoint.parents[1] / "hparams.yaml").read_text(encoding="utf-8"):
        return comet(hyps, refs, srcs, model=str(checkpoint), batch_size=batch_size, gpus=0, error_spans=True)
    code = ("import json, sys; from xling.metrics.comet_scoring import comet; a = json.load(sys.stdin); "
            "r = comet(a['hyps'], a['refs'], a['srcs'], model=a['model'], batch_size=a['bs'], gpus=0); "
            "print(json.dumps({'segments': r.segments, 'score': r.score, 'signature': r.signature}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          input=json.dumps(dict(hyps=hyps, refs=refs, srcs=srcs, model=str(checkpoint), bs=batch_size)),
                          env=os.environ | {"HF_HUB_CACHE": str(hub_cache), "HF_HUB_OFFLINE": "1"})
    values = json.loads(done.stdout)
    return type("Scored", (), dict(values, extra={}))


@pytest.mark.parametrize("batch_size", [1, 2, 16])
def test_scores_equal_unbabel_comet(checkpoint, batch_size, oracle, tmp_path_factory):
    from conftest import oracle_hub_cache

    from xling.metrics.comet_native import read_hparams

    kind = read_hparams(checkpoint)["class_identifier"]
    # Unified models score with and without references; regression models always take them,
    # referenceless ones never read them.
    for with_refs in [True] if kind == "regression_metric" else [True, False]:
        theirs = oracle("comet", checkpoint=str(checkpoint), batch_size=batch_size,
                        samples=[{"src": s, "mt": h} | ({"ref": r} if with_refs else {}) for s, h, r in TRIPLES])
        ours = _xling_scores(checkpoint, with_refs, batch_size, oracle_hub_cache(tmp_path_factory))
        assert ours.segments == pytest.approx(theirs["scores"], abs=1e-5)
        assert ours.score == pytest.approx(theirs["system_score"], abs=1e-5)
        assert "impl:xling-" in ours.signature and "unbabel" not in ours.signature
        assert len(set(round(s, 4) for s in ours.segments)) > 1      # the inputs really matter
        expected_spans = theirs["error_spans"]
        assert ("error_spans" in ours.extra) == (expected_spans is not None)
        if expected_spans is not None:                       # models that tag errors
            spans = ours.extra["error_spans"]
            assert [[(s["text"], s["severity"], s["start"], s["end"]) for s in row] for row in spans] == \
                [[(s["text"], s["severity"], s["start"], s["end"]) for s in row] for row in expected_spans]
            assert [s["confidence"] for row in spans for s in row] == \
                pytest.approx([s["confidence"] for row in expected_spans for s in row], abs=1e-5)
            assert any(spans)                                  # spans were really found


def test_sparsemax_equals_entmax(oracle):
    import torch

    from xling.metrics.comet_native import sparsemax

    generator = torch.Generator().manual_seed(0)
    vectors = [torch.randn(int(torch.randint(1, 30, (1,), generator=generator)), generator=generator,
                           dtype=torch.float64) * 3 for _ in range(50)]
    theirs = oracle("sparsemax", vectors=[v.tolist() for v in vectors])
    for z, expected in zip(vectors, theirs):
        assert sparsemax(z).tolist() == pytest.approx(expected, abs=1e-9)
    assert any(0.0 in e for e in theirs) and any(0.0 not in e for e in theirs)   # zeros and none


def test_only_regression_models_refuse_to_score_without_references(checkpoint):
    from xling.errors import XlingError
    from xling.metrics.comet_native import read_hparams

    if read_hparams(checkpoint)["class_identifier"] == "regression_metric":
        with pytest.raises(XlingError, match="reference-based regression model"):
            comet(["x"], None, ["y"], model=str(checkpoint))
    else:
        assert len(comet(["x"], None, ["y"], model=str(checkpoint)).segments) == 1


def test_the_layer_norm_of_a_layer_mix_holds_in_float16():
    """(audit round 20) `--precision 16` on a GPU: the count of 64 tokens x 1024 dims overflowed
    float16 (inf), and every score of a layer_norm checkpoint was NaN."""
    import torch

    from xling.metrics.comet_native import _masked_layer_norm

    torch.manual_seed(0)
    hidden = torch.randn(2, 80, 1024)
    mask = torch.ones(2, 80, dtype=torch.long)
    mask[1, 40:] = 0
    half = _masked_layer_norm(hidden.half(), mask)
    assert half.dtype == torch.float16 and not torch.isnan(half).any()
    assert torch.allclose(half.float(), _masked_layer_norm(hidden, mask), atol=1e-2)


def test_a_comet_head_that_does_not_fit_its_encoder_or_class_is_one_clear_error(tmp_path, capsys):
    """(audit round 26) The estimator's input width (the class's features of the encoder's width),
    each estimator bias, and xCOMET's hidden2tag (its width, and one row for O and each error
    label) went unchecked: a QE checkpoint labelled regression_metric (or the reverse), a short
    bias, or a hidden2tag of another width or row count crashed (a traceback) or, with 3 rows
    for 3 labels, scored without ever tagging a critical error. unbabel-comet refuses them all."""
    import shutil

    import torch
    import yaml
    from helpers import run_cli
    from tiny_models import build_comet_variant

    for name, text in (("src.ko", TRIPLES[0][0]), ("hyp.en", TRIPLES[0][1]), ("ref.en", TRIPLES[0][2])):
        (tmp_path / name).write_text(text + "\n", encoding="utf-8")
    shapes = {"reg": dict(hidden_sizes=[16]), "qe": dict(hidden_sizes=[16], referenceless=True),
              "xcomet": dict(xcomet=True, word_layer=2, layer_transformation="softmax")}
    models = {}
    for model, options in shapes.items():
        (tmp_path / model).mkdir()
        models[model] = build_comet_variant(tmp_path / model, "BERT", **options)
    capsys.readouterr()     # (the builds' progress bars)

    def damaged(name, model, kind=None, edits=None):
        folder = tmp_path / name
        shutil.copytree(models[model].parents[1], folder)
        if kind:
            path = folder / "hparams.yaml"
            path.write_text(yaml.safe_dump(yaml.safe_load(path.read_text()) | {"class_identifier": kind}))
        ckpt = folder / "checkpoints" / "model.ckpt"
        saved = torch.load(ckpt, weights_only=False)
        for key, edit in (edits or {}).items():
            saved["state_dict"][key] = edit(saved["state_dict"][key])
        torch.save(saved, ckpt)
        return folder

    def rows(n):      # hidden2tag (weight and bias) with n tags, where O and 3 labels need 4
        return {"hidden2tag.weight": lambda t: t[[i % 4 for i in range(n)]],
                "hidden2tag.bias": lambda t: t[[i % 4 for i in range(n)]]}

    cases = [(damaged("qe-as-reg", "qe", "regression_metric"),
              "its estimator takes 128 features; a regression_metric on a 32-wide encoder gives 192"),
             (damaged("reg-as-qe", "reg", "referenceless_regression_metric"),
              "its estimator takes 192 features; a referenceless_regression_metric on a 32-wide encoder gives 128"),
             (damaged("bias", "reg", edits={"estimator.ff.0.bias": lambda t: t[:7]}),
              "its estimator.ff.0.bias is (7,), which does not fit its weight's (16, 192)"),
             (damaged("tag-width", "xcomet", edits={"hidden2tag.weight": lambda t: t[:, :20]}),
              "hidden2tag is (4, 20) (bias (4,)); O and hparams.yaml's error labels ['minor', 'major', "
              "'critical'] on a 32-wide encoder need (4, 32)"),
             (damaged("tag-3", "xcomet", edits=rows(3)), "hidden2tag is (3, 32) (bias (3,))"),
             (damaged("tag-5", "xcomet", edits=rows(5)), "hidden2tag is (5, 32) (bias (5,))")]
    args = ["score", "-r", tmp_path / "ref.en", "-i", tmp_path / "hyp.en", "-s", tmp_path / "src.ko", "-t", "en",
            "-m", "comet", "--comet-model"]
    for folder, message in cases:
        code, out, err = run_cli(capsys, *args, folder)
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2 and not out and len(lines) == 1, err
        assert lines[0].startswith(f"xling: error: COMET checkpoint {folder}/checkpoints/model.ckpt: ") \
            and message in lines[0], err
    for ckpt in models.values():      # undamaged, they score
        assert run_cli(capsys, *args, ckpt.parents[1])[0] == 0
