"""xling's own COMET scoring equals unbabel-comet 2.2.7 (the oracle) on tiny random checkpoints
of each shape a published regression or (word-level-free) unified model takes: BERT or XLM-R
encoders, a softmax or sparsemax layer mix with or without layer norm, one layer, each pooling,
and unified inputs mt+src or mt+src+ref, with and without references given."""
import pytest

from xling.metrics.comet import comet

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
}


def _oracle():
    try:
        from comet import load_from_checkpoint
    except ImportError as exc:   # pragma: no cover - the oracle comes with the dev extras
        pytest.skip(f"unbabel-comet (the COMET oracle) cannot be imported here: {exc}")
    return load_from_checkpoint


@pytest.fixture(scope="module", params=list(SHAPES))
def checkpoint(request, tmp_path_factory):
    from tiny_models import build_comet_variant

    _oracle()
    options = dict(SHAPES[request.param])
    return build_comet_variant(tmp_path_factory.mktemp(request.param), options.pop("encoder"), **options)


@pytest.mark.parametrize("batch_size", [1, 2, 16])
def test_scores_equal_unbabel_comet(checkpoint, batch_size):
    load_from_checkpoint = _oracle()
    oracle = load_from_checkpoint(str(checkpoint))
    srcs, hyps, refs = map(list, zip(*TRIPLES))
    # Unified models score with and without references; regression models always take them.
    for with_refs in [True] if oracle.requires_references() else [True, False]:
        theirs = oracle.predict([{"src": s, "mt": h} | ({"ref": r} if with_refs else {}) for s, h, r in TRIPLES],
                                batch_size=batch_size, gpus=0, progress_bar=False)
        ours = comet(hyps, refs if with_refs else None, srcs, model=str(checkpoint), batch_size=batch_size,
                     gpus=0, error_spans=True)
        assert ours.segments == pytest.approx(theirs.scores, abs=1e-5)
        assert ours.score == pytest.approx(theirs.system_score, abs=1e-5)
        assert "impl:xling-" in ours.signature and "unbabel" not in ours.signature
        assert len(set(round(s, 4) for s in ours.segments)) > 1      # the inputs really matter
        expected_spans = (theirs.get("metadata") or {}).get("error_spans")
        assert ("error_spans" in ours.extra) == (expected_spans is not None)
        if expected_spans is not None:                       # models that tag errors
            spans = ours.extra["error_spans"]
            assert [[(s["text"], s["severity"], s["start"], s["end"]) for s in row] for row in spans] == \
                [[(s["text"], s["severity"], s["start"], s["end"]) for s in row] for row in expected_spans]
            assert [s["confidence"] for row in spans for s in row] == \
                pytest.approx([s["confidence"] for row in expected_spans for s in row], abs=1e-5)
            assert any(spans)                                  # spans were really found


def test_sparsemax_equals_entmax():
    import torch

    from xling.metrics.comet_native import sparsemax

    entmax = pytest.importorskip("entmax")
    generator = torch.Generator().manual_seed(0)
    for _ in range(50):
        z = torch.randn(int(torch.randint(1, 30, (1,), generator=generator)), generator=generator) * 3
        assert torch.allclose(sparsemax(z), entmax.sparsemax(z, dim=0), atol=1e-6)


def test_only_regression_models_refuse_to_score_without_references(checkpoint):
    from xling.errors import XlingError
    from xling.metrics.comet_native import read_hparams

    if read_hparams(checkpoint)["class_identifier"] == "regression_metric":
        with pytest.raises(XlingError, match="reference-based regression model"):
            comet(["x"], None, ["y"], model=str(checkpoint))
    else:
        assert len(comet(["x"], None, ["y"], model=str(checkpoint)).segments) == 1
