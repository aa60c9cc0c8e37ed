"""COMET checkpoints scored by xling itself, without unbabel-comet, Lightning or their pins:
the checkpoint as published (hparams.yaml + checkpoints/model.ckpt), the encoder its
`pretrained_model` names built with transformers (BERT, XLM-R and InfoXLM, XLM-R-XL, MiniLM,
RemBERT), and unbabel-comet 2.2.7's scoring arithmetic done here.

Regression models (COMET-22 DA; referenceless COMET-QE):
- each of source, translation and reference is encoded alone (truncated at the encoder's
  positions - 4, as COMET does) and every layer's hidden states are kept;
- the layers are mixed by a learned scalar mix (softmax or sparsemax of the weights, optionally
  each layer normalised over its unmasked positions first) times gamma, or one layer is taken;
- tokens are pooled (mean over the attention mask, max over non-padding, or the first token);
- the features [mt, ref, mt*ref, |mt-ref|, mt*src, |mt-src|] (referenceless: [mt, src, mt*src,
  |mt-src|]) go through the feed-forward estimator.
Each distinct text is encoded once, in batches of similar token length.

Unified models (CometKiwi 22/23, xCOMET-XL/XXL): translation, source and reference joined in one
sequence, the first token's mixed embedding through the estimator; with a reference, the mean
(xCOMET: a weighted sum with the error spans' MQM score) of three passes; word-level error tags
decoded into spans. See UnifiedScorer.

Verified equal to unbabel-comet 2.2.7, run in its own venv, on tiny random checkpoints of each
shape (tests/test_comet_native.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ..data.hub import quieted
from ..errors import XlingError

if TYPE_CHECKING:
    import torch

@dataclass(frozen=True)
class EncoderSpec:
    model: str            # transformers classes
    config: str
    tokenizer: str
    separator: int        # separator tokens between two joined segments (</s></s> is 2)
    token_types: bool     # BERT: token type 0 for the translation, 1 after (COMET's quirk)
    tokenizer_from: str | None = None    # where the tokenizer comes from, if not pretrained_model


# COMET's encoder names (hparams `encoder_model`), built as unbabel-comet 2.2.7 builds them.
# MiniLM is a BERT read with XLM-R's tokenizer, which COMET fetches by the hub name
# xlm-roberta-base; RemBERT is joined with one separator and, as COMET calls it, no token types.
ENCODERS = {"BERT": EncoderSpec("BertModel", "BertConfig", "BertTokenizerFast", 1, True),
            "XLM-RoBERTa": EncoderSpec("XLMRobertaModel", "XLMRobertaConfig", "XLMRobertaTokenizerFast", 2, False),
            "XLM-RoBERTa-XL": EncoderSpec("XLMRobertaXLModel", "XLMRobertaXLConfig", "XLMRobertaTokenizerFast", 2,
                                          False),
            "MiniLM": EncoderSpec("BertModel", "BertConfig", "XLMRobertaTokenizerFast", 2, False, "xlm-roberta-base"),
            "RemBERT": EncoderSpec("RemBertModel", "RemBertConfig", "RemBertTokenizerFast", 1, False)}
# A layer transformation written by unbabel-comet 2.2.4's bug fix: it loads those models with
# softmax (unbabel-comet's load_from_checkpoint), and so does xling.
TRANSFORMS = {"softmax": "softmax", "sparsemax": "sparsemax", "sparsemax_patch": "softmax"}
POOLS = ("avg", "max", "cls")


# The hyper-parameters that decide a score, with the defaults each unbabel-comet 2.2.7 class
# gives them (what a checkpoint's hparams.yaml leaves out means these).
_REGRESSION = dict(encoder_model="XLM-RoBERTa", pretrained_model="xlm-roberta-large", pool="avg",
                   layer="mix", layer_transformation="softmax", layer_norm=True,
                   hidden_sizes=[3072, 1024], activations="Tanh", final_activation=None)
DEFAULTS = {
    "regression_metric": _REGRESSION,
    "referenceless_regression_metric": _REGRESSION | dict(hidden_sizes=[2048, 1024]),
    "unified_metric": dict(encoder_model="XLM-RoBERTa", pretrained_model="microsoft/infoxlm-large",
                           sent_layer="mix", layer_transformation="sparsemax", layer_norm=True,
                           word_layer=24, hidden_sizes=[3072, 1024], activations="Tanh",
                           final_activation=None, input_segments=["mt", "src", "ref"],
                           word_level_training=False, error_labels=["minor", "major"]),
    "xcomet_metric": dict(encoder_model="XLM-RoBERTa-XL", pretrained_model="facebook/xlm-roberta-xl",
                          sent_layer="mix", layer_transformation="sparsemax", layer_norm=False,
                          word_layer=36, hidden_sizes=[2560, 1280], activations="Tanh",
                          final_activation=None, input_segments=["mt", "src", "ref"],
                          word_level_training=True, error_labels=["minor", "major", "critical"]),
}


def read_hparams(ckpt: Path) -> dict:
    """hparams.yaml beside checkpoints/ (COMET's layout, which unbabel-comet requires too),
    completed with its class's defaults; unified models' `sent_layer` is also given as `layer`."""
    import yaml

    path = ckpt.absolute().parents[1] / "hparams.yaml"   # (a bare "model.ckpt" has no parents)
    if not path.is_file():
        raise XlingError(f"COMET checkpoint {ckpt} has no hparams.yaml beside its checkpoints/ "
                         "folder (COMET's layout: MODEL/hparams.yaml, MODEL/checkpoints/model.ckpt)")
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise XlingError(f"cannot read {path}: {' '.join(str(exc).split())}") from exc
    if not isinstance(values, dict) or "class_identifier" not in values:
        raise XlingError(f"{path} is not a COMET hparams.yaml (it names no class_identifier)")
    hparams = DEFAULTS.get(values["class_identifier"], {}) | values
    if "sent_layer" in hparams:
        hparams["layer"] = hparams["sent_layer"]
    return hparams


def unsupported(hparams: dict) -> str | None:
    """Why xling cannot score a checkpoint with these hyper-parameters, or None."""
    kind = hparams.get("class_identifier")
    if kind not in DEFAULTS:
        return f"its class {kind!r} (xling scores {', '.join(DEFAULTS)})"
    if hparams["encoder_model"] not in ENCODERS:
        return f"its encoder {hparams['encoder_model']!r} (xling builds {', '.join(ENCODERS)})"
    if hparams["layer_transformation"] not in TRANSFORMS:
        return f"its layer transformation {hparams['layer_transformation']!r}"
    if kind.endswith("regression_metric") and hparams["pool"] not in POOLS:
        return f"its pooling {hparams['pool']!r}"
    segments = list(hparams["input_segments"] or []) if kind == "unified_metric" else ["mt", "src"]
    if segments[:2] != ["mt", "src"] or not set(segments) <= {"mt", "src", "ref"}:
        return f"its input segments {segments}"
    if hparams.get("decoding_threshold") is not None:    # unset in every published model
        return "its decoding_threshold"
    return None


def supports(hparams: dict) -> bool:
    return unsupported(hparams) is None


def load_scorer(ckpt: Path, precision: str = "32", device: str | None = None,
                local_files_only: bool = True):
    """The scorer for a supported checkpoint (see supports())."""
    hparams = read_hparams(ckpt)
    cls = RegressionScorer if hparams["class_identifier"].endswith("regression_metric") else UnifiedScorer
    return cls.load(ckpt, hparams, precision, device, local_files_only)


@quieted
def _tokenizer(spec: EncoderSpec, source: str, local_files_only: bool):
    """The encoder's tokenizer as unbabel-comet's stack (transformers 4.x) builds it: the
    class's special tokens, and the tokenizer.json pipeline as written when there is one.
    (transformers 5 rebuilds some pipelines from the vocabulary instead, which moves character
    offsets, and so error spans, by a space.)"""
    import transformers
    from tokenizers import Tokenizer

    name = spec.tokenizer_from or source
    tokenizer = getattr(transformers, spec.tokenizer).from_pretrained(name, local_files_only=local_files_only)
    path = Path(name).expanduser() / "tokenizer.json"
    if not Path(name).expanduser().is_dir():
        from huggingface_hub import hf_hub_download

        try:
            path = Path(hf_hub_download(name, "tokenizer.json", local_files_only=local_files_only))
        except Exception:  # noqa: BLE001 - a sentencepiece-only repo: the class's pipeline
            return tokenizer
    if path.is_file():
        tokenizer._tokenizer = Tokenizer.from_file(str(path))
    return tokenizer


def sparsemax(z):
    """Sparsemax of a 1-D tensor (Martins & Astudillo 2016): the Euclidean projection onto the
    simplex, which gives exact zeros."""
    import torch

    ordered, _ = torch.sort(z, descending=True)
    cumulative = ordered.cumsum(0)
    k = torch.arange(1, len(z) + 1, dtype=z.dtype, device=z.device)
    support = (1 + k * ordered) > cumulative
    size = int(support.sum())
    tau = (cumulative[size - 1] - 1) / size
    return torch.clamp(z - tau, min=0)


@dataclass
class RegressionScorer:
    model: Any              # the transformers encoder
    tokenizer: Any
    weights: torch.Tensor | None    # normalised layer weights (None: one layer)
    gamma: torch.Tensor | None
    estimator: torch.nn.Sequential
    hparams: dict
    device: str
    tagger: torch.nn.Linear | None = None    # word-level head (hidden2tag) of unified models that tag errors

    @classmethod
    def load(cls, ckpt: Path, hparams: dict, precision: str = "32", device: str | None = None,
             local_files_only: bool = True) -> "RegressionScorer":
        import torch
        import transformers
        from torch import nn

        spec = ENCODERS[hparams["encoder_model"]]
        source = hparams["pretrained_model"]
        from ..data.hub import looks_like_path
        if looks_like_path(str(source)) and not Path(source).expanduser().is_dir():   # (moved, or made elsewhere)
            raise XlingError(f"COMET checkpoint {ckpt} needs its encoder folder {source!r} (its hparams.yaml's "
                             "pretrained_model), which does not exist here")
        try:
            tokenizer = _tokenizer(spec, source, local_files_only)
            config = getattr(transformers, spec.config).from_pretrained(source, local_files_only=local_files_only)
        except Exception as exc:  # noqa: BLE001 - offline or missing: one line
            raise XlingError(f"COMET checkpoint {ckpt} needs its encoder {source!r} (config and "
                             f"tokenizer), which cannot be loaded: {exc}".splitlines()[0]) from exc
        with _no_init():    # every weight comes from the checkpoint: skip the random init
            model = getattr(transformers, spec.model)(config, add_pooling_layer=False)
        try:
            state = _State(torch.load(ckpt, map_location="cpu", weights_only=False)["state_dict"])
        except Exception as exc:  # noqa: BLE001 - a damaged checkpoint is the user's to fix
            raise XlingError(f"cannot load COMET checkpoint {ckpt} (damaged or incomplete?): {exc}".splitlines()[0]) \
                from exc
        state.ckpt = ckpt
        prefix = "encoder.model."
        encoder_state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        missing, unexpected = model.load_state_dict(encoder_state, strict=False)
        missing = [k for k in missing if not k.endswith("position_ids")]
        # COMET builds MiniLM and RemBERT with a pooler, which no score reads
        unexpected = [k for k in unexpected if not k.endswith("position_ids") and not k.startswith("pooler.")]
        if missing or unexpected:
            raise XlingError(f"COMET checkpoint {ckpt} does not fit its encoder {source!r} "
                             f"(missing {missing[:3]}, unexpected {list(unexpected)[:3]})")
        for key in ("layer", "word_layer") if hparams.get("word_level_training") else ("layer",):
            layer = hparams.get(key, "mix")   # (word_layer is read only by word-level models)
            if layer != "mix" and not (str(layer).isdigit() and int(layer) <= config.num_hidden_layers):
                raise XlingError(f"COMET checkpoint {ckpt}: its hparams.yaml asks for {key} {layer!r}, "
                                 f"but its encoder has layers 0-{config.num_hidden_layers}")
        weights = gamma = None
        if hparams.get("layer", "mix") == "mix":
            raw = torch.cat([state[f"layerwise_attention.scalar_parameters.{i}"]
                             for i in range(config.num_hidden_layers + 1)])
            transform = sparsemax if TRANSFORMS[hparams["layer_transformation"]] == "sparsemax" else \
                (lambda w: torch.softmax(w, dim=0))
            weights, gamma = transform(raw), state["layerwise_attention.gamma"]
        # Layers above the highest one the mix (or the chosen layer) reads change nothing: drop
        # them, which is exact (each layer sees only the ones below it).
        top = int(hparams["layer"]) if weights is None else int(weights.nonzero().max())
        if hparams.get("word_level_training"):
            top = max(top, int(hparams["word_layer"]))      # the error-span head reads it
        if top < len(model.encoder.layer) and hasattr(model.encoder, "LayerNorm"):
            # XLM-R-XL normalises only after its last layer: once that is dropped, so is the norm
            model.encoder.LayerNorm = nn.Identity()
        model.encoder.layer = model.encoder.layer[:max(top, 0)]
        model.config.num_hidden_layers = len(model.encoder.layer)
        if weights is not None:
            weights = weights[:top + 1]
        estimator = _estimator(state, hparams, config.hidden_size)
        tagger = None
        if "hidden2tag.weight" in state:     # word-level error tags (xCOMET and its kind)
            weight, bias = state["hidden2tag.weight"], state["hidden2tag.bias"]
            # one row per tag ("O" and each error label) over the encoder's width, as
            # unbabel-comet's strict loading requires: another shape crashed or never tagged a label
            expected = (len(_error_labels(hparams)) + 1, config.hidden_size)
            if tuple(weight.shape) != expected or tuple(bias.shape) != expected[:1]:
                raise XlingError(f"COMET checkpoint {ckpt}: its word-level head hidden2tag is {tuple(weight.shape)} "
                                 f"(bias {tuple(bias.shape)}); O and hparams.yaml's error labels "
                                 f"{_error_labels(hparams)} on a {config.hidden_size}-wide encoder need {expected}")
            tagger = nn.Linear(weight.shape[1], weight.shape[0])
            with torch.no_grad():
                tagger.weight.copy_(weight)
                tagger.bias.copy_(bias)
            tagger.to(device=device or ("cuda" if torch.cuda.is_available() else "cpu"),
                      dtype={"32": torch.float32, "16": torch.float16, "bf16": torch.bfloat16}[precision])
        dtype = {"32": torch.float32, "16": torch.float16, "bf16": torch.bfloat16}[precision]
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        model.to(device=device, dtype=dtype).eval()
        estimator.to(device=device, dtype=dtype).eval()
        if weights is not None and gamma is not None:   # both come with a layer mix
            weights, gamma = weights.to(device=device, dtype=dtype), gamma.to(device=device, dtype=dtype)
        return cls(model, tokenizer, weights, gamma, estimator, hparams, device, tagger)

    # -- the arithmetic ----------------------------------------------------------------------
    def _layers(self, input_ids, mask):
        out = self.model(input_ids=input_ids, attention_mask=mask, output_hidden_states=True)
        layers = out.hidden_states
        if self.weights is None:
            return layers[int(self.hparams["layer"])]
        if self.hparams.get("layer_norm", False):
            layers = [_masked_layer_norm(t, mask) for t in layers]
        mixed = sum(w * t for w, t in zip(self.weights.split(1), layers))
        return self.gamma * mixed

    def _pool(self, input_ids, embeddings, mask):
        pad = self.tokenizer.pad_token_id
        pool = self.hparams.get("pool", "avg")
        if pool == "cls":
            return embeddings[:, 0, :]
        padding = input_ids.eq(pad).unsqueeze(-1)
        if pool == "max":
            return embeddings.float().masked_fill(padding, float("-inf")).type_as(embeddings).max(dim=1)[0]
        summed = embeddings.float().masked_fill(padding, 0.0).type_as(embeddings).sum(1)
        # as COMET divides (in float32), then back to the estimator's precision (16/bf16)
        return (summed / mask.unsqueeze(-1).expand(embeddings.size()).float().sum(1)).type_as(embeddings)

    def embed(self, texts: list[str], batch_size: int = 16, bar=None):
        """Sentence embeddings of `texts` (one row each). Each distinct text is encoded once, in
        batches of texts of similar token length (a sentence's embedding does not depend on
        its batch, up to float rounding), which wastes less padding than COMET's batches of
        whole (src, mt, ref) triples sorted by the source alone."""
        import torch

        limit = self.model.config.max_position_embeddings - 4
        unique = list(dict.fromkeys(texts))
        lengths = self.tokenizer(unique, truncation=True, max_length=limit)["input_ids"]
        order = sorted(range(len(unique)), key=lambda i: len(lengths[i]))
        rows: dict[str, torch.Tensor] = {}
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chunk = [unique[i] for i in order[start:start + batch_size]]
                batch = self.tokenizer(chunk, return_tensors="pt", padding=True, truncation=True, max_length=limit)
                ids, mask = batch["input_ids"].to(self.device), batch["attention_mask"].to(self.device)
                for text, row in zip(chunk, self._pool(ids, self._layers(ids, mask), mask)):
                    rows[text] = row
                if bar is not None:
                    bar.update(len(chunk))
        return torch.stack([rows[t] for t in texts])

    @property
    def takes_references(self) -> bool:
        return self.hparams["class_identifier"] != "referenceless_regression_metric"

    def predict(self, srcs: Sequence[str], hyps: Sequence[str], refs: Sequence[str] | None,
                batch_size: int = 16, progress: bool = False) -> list[float]:
        """Segment scores in input order (a referenceless model reads no references)."""
        import torch

        from ..progress import bar as progress_bar

        if self.takes_references and refs is None:
            raise XlingError("this COMET model is reference-based: it needs references")
        sides = [[str(t) for t in side]
                 for side in (srcs, hyps) + ((refs,) if self.takes_references and refs is not None else ())]
        with progress_bar(total=sum(len(set(side)) for side in sides), desc="COMET", unit="text",
                          disable=not progress, leave=False) as bar:
            src, mt, *ref = (self.embed(side, batch_size, bar) for side in sides)
        scores = []
        with torch.inference_mode():
            for start in range(0, len(src), batch_size):
                part = slice(start, start + batch_size)
                s, m = src[part], mt[part]
                if ref:
                    r = ref[0][part]
                    features = torch.cat((m, r, m * r, torch.abs(m - r), m * s, torch.abs(m - s)), dim=1)
                else:
                    features = torch.cat((m, s, m * s, torch.abs(m - s)), dim=1)
                scores += self.estimator(features).view(-1).float().tolist()
        return scores


class UnifiedScorer(RegressionScorer):
    """unbabel-comet's UnifiedMetric without word-level tags (CometKiwi 22/23 and its kind):
    translation and source (and the reference, when the model takes one and it is given) are
    joined into one sequence with the encoder's separators; the first token's mixed embedding
    goes through the estimator. With a reference, the score is the mean of three such passes:
    mt+src, mt+ref and mt+src+ref."""

    def _joined(self, parts: list[list[list[int]]]):
        """COMET's concatenation of one batch: each part's ids (pads removed) joined with the
        tokenizer's special tokens, cut at the encoder's positions when too long; BERT-like
        encoders get token type 0 for the translation and 1 everywhere after (padding too)."""
        import torch

        tok = self.tokenizer
        limit = self.model.config.max_position_embeddings - 2
        spec = ENCODERS[self.hparams["encoder_model"]]
        separator = spec.separator
        rows, types = [], []
        for i in range(len(parts[0])):
            pieces = [[t for t in part[i] if t != tok.pad_token_id] for part in parts]
            # each piece is <cls> text <sep>; joined: <cls> a <sep>*separator b ... <sep>
            sequence = pieces[0][:-1]
            for piece in pieces[1:]:
                sequence = sequence + [tok.sep_token_id] * separator + piece[1:-1]
            sequence.append(tok.sep_token_id)
            if sum(len(p) - 2 for p in pieces) > limit - (1 + len(pieces) * separator):
                sequence = sequence[:limit]
            rows.append(sequence)
            types.append(len(pieces[0]))
        width = max(len(r) for r in rows)
        ids = torch.tensor([r + [tok.pad_token_id] * (width - len(r)) for r in rows])
        mask = torch.arange(width)[None, :] < torch.tensor([len(r) for r in rows])[:, None]
        token_types = None
        if spec.token_types:
            token_types = torch.tensor([[0] * n + [1] * (width - n) for n in types])
        return ids, mask.long(), token_types

    def _score(self, parts):
        """Sentence scores of one joined batch, and word-level tag logits (or None)."""
        ids, mask, token_types = self._joined(parts)
        ids, mask = ids.to(self.device), mask.to(self.device)
        extra = {"token_type_ids": token_types.to(self.device)} if token_types is not None else {}
        out = self.model(input_ids=ids, attention_mask=mask, output_hidden_states=True, **extra)
        layers = out.hidden_states
        logits = self.tagger(layers[int(self.hparams["word_layer"])]) if self.tagger is not None else None
        if self.weights is None:
            embeddings = layers[int(self.hparams["layer"])]
        else:
            if self.hparams.get("layer_norm", False):
                layers = [_masked_layer_norm(t, mask) for t in layers]
            embeddings = self.gamma * sum(w * t for w, t in zip(self.weights.split(1), layers))
        return self.estimator(embeddings[:, 0, :]).view(-1), logits

    @property
    def is_xcomet(self) -> bool:
        return self.hparams.get("class_identifier") == "xcomet_metric"

    def predict(self, srcs: Sequence[str], hyps: Sequence[str], refs: Sequence[str] | None,
                batch_size: int = 16, progress: bool = False, spans: list | None = None) -> list[float]:
        """Segment scores in input order; batches of similar source length (COMET's order).
        Models that tag errors append each segment's error spans to `spans` (in input order)."""
        import numpy as np
        import torch

        from ..progress import bar as progress_bar

        segments = ["mt", "src", "ref"] if self.is_xcomet else self.hparams["input_segments"]
        use_ref = refs is not None and "ref" in segments
        limit = self.model.config.max_position_embeddings - 4
        order = np.argsort([len(s) for s in srcs])
        scores: list[float] = [0.0] * len(srcs)
        found: list = [None] * len(srcs)
        with torch.inference_mode():
            for start in progress_bar(iterable=range(0, len(order), batch_size), desc="COMET", disable=not progress,
                                      leave=False):
                rows = [int(i) for i in order[start:start + batch_size]]
                encoded = self.tokenizer([str(hyps[i]) for i in rows], truncation=True, max_length=limit)
                mt = encoded["input_ids"]
                src = self.tokenizer([str(srcs[i]) for i in rows], truncation=True, max_length=limit)["input_ids"]
                passes = [[mt, src]]
                if use_ref and refs is not None:
                    ref = self.tokenizer([str(refs[i]) for i in rows], truncation=True, max_length=limit)["input_ids"]
                    passes = [[mt, src], [mt, ref], [mt, src, ref]]
                outputs = [self._score(p) for p in passes]
                values = self._combine(outputs, mt, encoded, [str(hyps[i]) for i in rows], found, rows)
                for i, value in zip(rows, values.float().tolist()):
                    scores[i] = value
        if spans is not None and self.tagger is not None:
            spans.extend(found)
        return scores

    # unbabel-comet 2.2.7's constants for three passes: how much each pass's tag probabilities
    # count, and xCOMET's weights of the three clipped scores and of the spans' MQM score.
    SPAN_WEIGHTS = (0.1667, 0.3333, 0.5)
    XCOMET_WEIGHTS = (0.12, 0.33, 0.33, 0.22)
    MQM = {"minor": 1, "major": 5, "critical": 10}

    def _combine(self, outputs, mt, encoded, texts, found, rows):
        import torch

        scores = [score for score, _ in outputs]
        if self.tagger is None:
            return torch.stack(scores).mean(dim=0)
        width = max(len(ids) for ids in mt)          # the longest translation, specials included
        probs = [torch.softmax(logits, dim=2)[:, :width, :] for _, logits in outputs]
        if len(outputs) == 3:
            probs = torch.stack([p * w for p, w in zip(probs, self.SPAN_WEIGHTS)]).sum(dim=0)
        else:
            probs = probs[0]
        spans = [self._decode(probs[k], mt[k], encoded[k].offsets) for k in range(len(mt))]
        for k, i in enumerate(rows):
            found[i] = spans[k]
        if not self.is_xcomet:
            return torch.stack(scores).mean(dim=0)
        penalty = torch.tensor([min(25, sum(self.MQM.get(s["severity"], 0) for s in row)) for row in spans])
        mqm = ((penalty * -1 + 25) / 25).to(scores[0].device)
        clipped = [torch.where(s > 1.0, 1.0, s) for s in scores]
        if len(clipped) == 3:
            regression = torch.stack([c * w for c, w in zip(clipped, self.XCOMET_WEIGHTS[:3])]).sum(dim=0)
        else:
            regression = clipped[0] * sum(self.XCOMET_WEIGHTS[:3])
        return regression + mqm * self.XCOMET_WEIGHTS[3]

    def _decode(self, probs, ids: list[int], offsets) -> list[dict]:
        """Error spans of one translation: runs of subwords whose most likely tag is an error
        label (I-minor, I-major, ...), each with its text, mean probability, severity and
        character offsets."""
        import torch

        labels = ["O"] + [f"I-{label}" for label in _error_labels(self.hparams)]
        spans: list[dict[str, Any]] = []
        current: dict[str, Any] | None = None
        for token, p, offset in zip(ids, probs[:len(offsets)], offsets):
            probability, index = torch.topk(p, 1)
            label = labels[int(index[0])]
            if label.startswith("I"):
                if current is None:
                    current = {"tokens": [token], "severity": label.split("-")[1], "offset": list(offset),
                               "confidence": [probability]}
                else:
                    current["tokens"].append(token)
                    current["confidence"].append(probability)
                    current["offset"][1] = offset[1]
            elif current is not None:
                spans.append(current)
                current = None
        return [{"text": self.tokenizer.decode(span["tokens"]),
                 "confidence": torch.concat(span["confidence"]).mean().item(),
                 "severity": span["severity"], "start": span["offset"][0], "end": span["offset"][1]}
                for span in spans]


def _error_labels(hparams: dict) -> list:
    """The error severities a word-level head tags (after "O")."""
    return hparams.get("error_labels") or ["minor", "major", "critical"]


def _no_init():
    """transformers' context that skips random weight init (its place moved between 4.x and
    5.x); a no-op where it is not found."""
    from contextlib import nullcontext

    for module, name in (("transformers.modeling_utils", "no_init_weights"),
                         ("transformers.initialization", "no_init_weights")):
        try:
            return getattr(__import__(module, fromlist=[name]), name)()
        except (ImportError, AttributeError):
            continue
    return nullcontext()


def _masked_layer_norm(tensor, mask):
    """One layer normalised by the mean and variance of its unmasked positions (per row), in
    float32 as COMET's float mask makes it: in float16 the count of 64 tokens x 1024 dims is inf
    (every score NaN)."""
    mask = mask.float()
    broadcast = mask.unsqueeze(-1)
    masked = tensor * broadcast
    rows, _, dim = tensor.size()
    count = mask.sum(1) * dim
    mean = (masked.view(rows, -1).sum(1) / count).view(rows, 1, 1)
    variance = (((masked - mean) * broadcast) ** 2).view(rows, -1).sum(1) / count
    return ((tensor - mean) / (variance + 1e-12).sqrt().view(rows, 1, 1)).to(tensor.dtype)


class _State(dict):
    """A checkpoint's state dict: a weight it lacks is the user's damaged file, said in one line."""
    ckpt: Path | None = None

    def __missing__(self, key):
        raise XlingError(f"COMET checkpoint {self.ckpt} lacks the weight {key!r}: it is not a complete "
                         "checkpoint of its class")


def _estimator(state: dict, hparams: dict, hidden_size: int):
    """The feed-forward estimator as a Sequential of the checkpoint's linear layers (positions
    0, 3, 6, ... in COMET's `estimator.ff`), activations between, the final one if any: as
    many as hparams.yaml's hidden_sizes say, taking the class's features of a `hidden_size`-wide
    encoder and ending in one output (as unbabel-comet's strict loading requires)."""
    import torch
    from torch import nn

    def activation(name: str) -> nn.Module:
        if not hasattr(nn, name.title()):
            raise XlingError(f"COMET estimator activation {name!r} is not a torch activation")
        return getattr(nn, name.title())()

    hidden = hparams.get("hidden_sizes") or [3072, 1024]
    if not isinstance(hidden, list) or not all(isinstance(n, int) and not isinstance(n, bool) for n in hidden):
        raise XlingError(f"COMET checkpoint {getattr(state, 'ckpt', '')}: hparams.yaml's hidden_sizes must be a "
                         f"list of layer sizes, not {hidden!r}")
    stored = sorted(int(k.split(".")[2]) for k in state if k.startswith("estimator.ff.") and k.endswith(".weight"))
    if stored and stored != [3 * n for n in range(len(hidden) + 1)]:
        raise XlingError(f"COMET checkpoint {getattr(state, 'ckpt', '')}: its estimator has {len(stored)} linear "
                         f"layers, which do not fit hparams.yaml's hidden_sizes {hidden}")
    modules: list[nn.Module] = []
    for n in range(len(hidden) + 1):
        name = f"estimator.ff.{3 * n}"
        weight, bias = state[f"{name}.weight"], state[f"{name}.bias"]
        if weight.dim() != 2 or tuple(bias.shape) != tuple(weight.shape[:1]):
            raise XlingError(f"COMET checkpoint {getattr(state, 'ckpt', '')}: its {name}.bias is "
                             f"{tuple(bias.shape)}, which does not fit its weight's {tuple(weight.shape)}")
        linear = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            linear.weight.copy_(weight)
            linear.bias.copy_(bias)
        modules.append(linear)
        if n < len(hidden):
            modules.append(activation(hparams.get("activations", "Tanh")))
    shapes = [tuple(m.weight.shape) for m in modules if isinstance(m, nn.Linear)]
    if shapes[-1][0] != 1 or any(a[0] != b[1] for a, b in zip(shapes, shapes[1:])):
        raise XlingError(f"COMET checkpoint {getattr(state, 'ckpt', '')}: its estimator's layers "
                         f"{shapes} do not chain into one score per segment")
    # COMET's feature vectors (see RegressionScorer.predict); unified models read one embedding
    kind = hparams["class_identifier"]
    features = hidden_size * {"regression_metric": 6, "referenceless_regression_metric": 4}.get(kind, 1)
    if shapes[0][1] != features:
        raise XlingError(f"COMET checkpoint {getattr(state, 'ckpt', '')}: its estimator takes {shapes[0][1]} "
                         f"features; a {kind} on a {hidden_size}-wide encoder gives {features} "
                         "(another class's checkpoint?)")
    if hparams.get("final_activation"):
        modules.append(activation(hparams["final_activation"]))
    return nn.Sequential(*modules)
