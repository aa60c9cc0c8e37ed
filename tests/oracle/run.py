"""The oracle: unbabel-comet 2.2.7 and mbrs 0.1.8 answering xling's tests, run with the
reference venv's Python (tests/oracle/build.sh), never with xling's.

One JSON request per line on stdin, one JSON answer per line on stdout ({"result": ...} or
{"error": "..."}), so that a test session starts it once and asks it many times. It does not
import xling: it reads the same checkpoints and inputs and computes with the reference code."""
import json
import logging
import sys
import traceback
import warnings


def comet(checkpoint, samples, batch_size):
    """unbabel-comet's load_from_checkpoint + predict on the CPU; `seconds` is the time the two
    took (the benchmark's baseline)."""
    import time

    from comet import load_from_checkpoint

    start = time.perf_counter()
    model = load_from_checkpoint(checkpoint)
    prediction = model.predict(samples, batch_size=batch_size, gpus=0, progress_bar=False, num_workers=0)
    seconds = time.perf_counter() - start
    metadata = prediction.get("metadata") or {}
    return {"scores": list(prediction.scores), "system_score": prediction.system_score,
            "error_spans": metadata.get("error_spans"), "seconds": seconds,
            "requires_references": model.requires_references()}


def metricx(model_dir, hyps, refs, srcs, version, batch_size):
    """mbrs's MetricX scorer on a local folder (its constructor takes only hub names, so its
    attributes are set as the constructor would)."""
    import torch
    from mbrs.metrics.metricx import MetricMetricX, MT5ForRegression
    from transformers import PreTrainedTokenizerFast

    metric = MetricMetricX.__new__(MetricMetricX)
    metric.cfg = MetricMetricX.Config(model=model_dir, batch_size=batch_size, cpu=True)
    metric.scorer = MT5ForRegression.from_pretrained(model_dir).eval()
    # the tests' tokenizer is saved by transformers 5 (a class 4.x does not know): read its
    # tokenizer.json, which is the whole of it
    metric.tokenizer = PreTrainedTokenizerFast.from_pretrained(model_dir)
    metric.metricx_version = getattr(MetricMetricX.MetricXVersion, f"metricx_{version}")
    metric.max_length = MetricMetricX.METRICX_INPUT_LENGTH_MAP[metric.metricx_version]
    metric.input_prefix = MetricMetricX.METRICX_INPUT_PREFIX_MAP[metric.metricx_version]
    with torch.inference_mode():
        return metric.scores(hyps, refs, srcs).tolist()


def metricx_tokens(tokenizer_dir, texts):
    """Token ids of each text from the tokenizer mbrs's MetricX uses (google/mt5-xl's slow
    sentencepiece T5Tokenizer, legacy=False), here read from a local folder of that layout."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir, legacy=False, use_fast=False)
    return [tokenizer.encode(text, add_special_tokens=False) for text in texts]


def _precomputed(higher, referenceless):
    """An mbrs metric whose scores are given: the decoders then choose from them alone."""
    from mbrs.metrics import base

    if referenceless:
        class Given(base.MetricReferenceless):
            HIGHER_IS_BETTER = higher

            def score(self, hypothesis, source):
                raise NotImplementedError

            def scores(self, hypotheses, sources):
                return self.values
    else:
        class Given(base.Metric):
            HIGHER_IS_BETTER = higher

            def score(self, hypothesis, reference, source=None):
                raise NotImplementedError

            def pairwise_scores(self, hypotheses, references, source=None):
                return self.values
    metric = Given.__new__(Given)
    metric.cfg = None
    return metric


def mbr(matrices, higher):
    """mbrs's DecoderMBR choice for each utility matrix (hypotheses x pseudo-references)."""
    return _choices(matrices, higher, referenceless=False)


def rerank(vectors, higher):
    """mbrs's DecoderRerank choice for each vector of QE scores."""
    return _choices(vectors, higher, referenceless=True)


def mbr_chrf(candidates):
    """mbrs's own choice with its chrF metric (MetricChrF, sacrebleu's defaults), the candidates
    their own pseudo-references: its scores and expectations as mbrs computes them."""
    from mbrs import decoders
    from mbrs.metrics import MetricChrF

    decoder = decoders.DecoderMBR(decoders.DecoderMBR.Config(), MetricChrF(MetricChrF.Config()))
    return [int(decoder.decode(cands, cands, "src", nbest=1).idx[0]) for cands in candidates]


def _choices(values, higher, referenceless):
    import torch
    from mbrs import decoders

    metric = _precomputed(higher, referenceless)
    kind = decoders.DecoderRerank if referenceless else decoders.DecoderMBR
    decoder = kind(kind.Config(), metric)
    chosen = []
    for given in values:
        metric.values = torch.tensor(given, dtype=torch.float64)
        hypotheses = [f"h{i}" for i in range(len(given))]
        if referenceless:
            output = decoder.decode(hypotheses, "src", nbest=1)
        else:
            output = decoder.decode(hypotheses, [f"r{j}" for j in range(len(given[0]))], "src", nbest=1)
        chosen.append(int(output.idx[0]))
    return chosen


def sparsemax(vectors):
    """entmax's sparsemax (the one unbabel-comet uses) of each vector."""
    import torch
    from entmax import sparsemax as reference

    return [reference(torch.tensor(v, dtype=torch.float64), dim=0).tolist() for v in vectors]


def versions():
    from importlib.metadata import version

    return {name: version(name) for name in ("unbabel-comet", "mbrs", "transformers", "numpy", "torch")}


TASKS = {f.__name__: f for f in (comet, metricx, metricx_tokens, mbr, mbr_chrf, rerank, sparsemax, versions)}


def main():
    import comet  # noqa: F401 - imported before the first request, so no answer waits on it
    import mbrs  # noqa: F401

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    out = sys.stdout
    sys.stdout = sys.stderr          # whatever the libraries print stays off the answer channel
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = {"result": TASKS[request.pop("task")](**request)}
        except Exception:  # noqa: BLE001 - the test shows the oracle's own traceback
            answer = {"error": traceback.format_exc()}
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
