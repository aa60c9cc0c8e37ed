"""The SentencePiece models of spBLEU (sacrebleu's `flores200`, `flores101`, `spBLEU-1K`
tokenizers), found offline: a file the user names, or sacrebleu's own cache (where sacrebleu 2.x
looks before it downloads: `$SACREBLEU/models/`, default `~/.sacrebleu/models/`, under the
download URL's file name). Tokenizing is sacrebleu's own code either way."""
from __future__ import annotations

import os

from ..errors import XlingError
from ..store.filehash import file_digest as digest

SPM_TOKENIZERS = ("spm", "flores101", "flores200", "spBLEU-1K")


def _models():
    from sacrebleu.tokenizers import tokenizer_spm
    return tokenizer_spm


def cache_path(tokenize: str) -> str:
    """Where sacrebleu keeps (and looks for) the model of an SPM tokenizer."""
    module = _models()
    url = module.SPM_MODELS[tokenize]["url"]
    return os.path.join(module.SACREBLEU_DIR, "models", os.path.basename(url))


def file_digest(path: str) -> str:
    """sha256 of the model file, per version of the file (a file rewritten under the same name in a
    long process, a notebook, gets its new digest)."""

    return digest(path)


def file_version(path: str | None):
    """What changes when the file does (size, times, inode): a cache key for what was built from it."""
    if not path or not os.path.isfile(path):
        return None
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def tokenizer_from_file(tokenize: str, path: str):
    """sacrebleu's tokenizer for `tokenize`, its SentencePiece model read from `path` instead of
    sacrebleu's cache (its __call__ and signature stay sacrebleu's)."""
    module = _models()
    if not os.path.isfile(path):
        raise XlingError(f"SentencePiece model {path} does not exist (--spm-model, or spm_model= in Python)")
    import sentencepiece

    classes = {"flores101": module.Flores101Tokenizer, "flores200": module.Flores200Tokenizer,
               "spBLEU-1K": module.spBLEU1KTokenizer, "spm": module.TokenizerSPM}
    tokenizer = object.__new__(classes[tokenize])   # its __init__ would look in the cache only
    tokenizer.name = module.SPM_MODELS[tokenize]["signature"]
    tokenizer.sp = sentencepiece.SentencePieceProcessor()
    try:
        tokenizer.sp.Load(path)
    except (OSError, RuntimeError) as exc:
        raise XlingError(f"{path} is not a SentencePiece model ({' '.join(str(exc).split())[:200]})") from None
    return tokenizer


def missing_model(tokenize: str) -> XlingError:
    """The error for an SPM tokenizer whose model is neither cached nor downloadable."""
    url = _models().SPM_MODELS[tokenize]["url"]
    return XlingError(f"BLEU tokenizer {tokenize} needs sacrebleu's SentencePiece model, which is not "
                      f"at {cache_path(tokenize)} and could not be downloaded from {url} (offline?): "
                      "put the file there, or pass its path with --spm-model FILE (spm_model= in Python)")
