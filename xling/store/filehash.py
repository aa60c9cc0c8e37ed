"""Content digests of (large) files, remembered by path, size, inode and change times.

A local model's identity must follow its weights' *content*: a checkpoint retrained into the
same folder keeps its file sizes, so sizes alone would serve a stale model's outputs from the
cache. Hashing gigabytes on every load would be slow, so each digest is stored with the file's
stat signature and reused until the file changes: a write changes the mtime and the ctime (which
no user can set back), an atomic save also the inode.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..data.resources import cache_dir
from .cache import KeyValueStore

_CHUNK = 8 << 20
_memory: dict[str, str] = {}   # per process (also where the store cannot be written)
_stores: dict[Path, KeyValueStore] = {}


class _DigestStore(KeyValueStore):
    TABLE = "digests"


def _stat_key(path: Path) -> str:
    st = path.stat()
    return json.dumps([str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev])


def file_digest(path: str | Path) -> str:
    """sha256 of the file's bytes, computed once per version of the file."""
    path = Path(path)
    key = _stat_key(path)
    if key in _memory:
        return _memory[key]
    where = cache_dir() / "file-digests.sqlite"
    store = _stores.get(where)
    if store is None:   # (one per cache folder: a disabled one is not opened, and warned of, again)
        store = _stores.setdefault(where, _DigestStore(where))
    found = store.get_many([key]).get(key)
    if found is None:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        found = digest.hexdigest()
        if _stat_key(path) == key:   # unchanged while we read it: safe to remember
            store.put_many({key: found})
    _memory[key] = found
    return found


def folder_fingerprint(folder: str | Path, text_files: tuple[str, ...], weight_suffixes: set[str]) -> str:
    """One digest over a checkpoint folder's top level (what from_pretrained reads): the named
    small files by content, every weight file (by suffix) by its remembered content digest."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).iterdir() if p.is_file()):
        if path.name in text_files:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        elif path.suffix in weight_suffixes:
            digest.update(f"{path.name}\0{file_digest(path)}".encode())
    return digest.hexdigest()


def model_fingerprint(folder: Path) -> str:
    """A content fingerprint for a local checkpoint: config and tokenizer files, the weights'
    bytes (hashed once per file version, so a checkpoint retrained in place never serves the old
    model's cached outputs; a changed tokenizer changes outputs too), and the model's own code
    (`*.py` beside it, run with --trust-remote-code)."""
    digest = folder_fingerprint(folder, ("config.json", "tokenizer.json", "tokenizer_config.json",
                                         "vocab.json", "merges.txt", "generation_config.json",
                                         "tokenizer.model", "special_tokens_map.json",
                                         "chat_template.jinja", "chat_template.json",
                                         "added_tokens.json", "adapter_config.json",
                                         # seq2seq SentencePiece models (Marian, NLLB/M2M100, T5)
                                         "source.spm", "target.spm", "sentencepiece.bpe.model",
                                         "spiece.model",
                                         # separate target vocabularies (Marian's separate_vocabs,
                                         # FSMT's two): what decoding maps ids to
                                         "target_vocab.json", "vocab-src.json", "vocab-tgt.json",
                                         # WordPiece and other SentencePiece encoders (BERT, RemBERT,
                                         # DeBERTa-v3: COMET's encoders in a local folder)
                                         "vocab.txt", "sentencepiece.model", "spm.model"),
                                {".safetensors", ".bin", ".pt", ".pth", ".gguf", ".py"})
    return "local-" + digest[:16]
