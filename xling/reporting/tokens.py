"""Tokenizer efficiency, as in the report's Table 1: average tokens per document and per
sentence, characters per token, the ratio to a reference tokenizer, and how many more tokens the
same (parallel) FLORES sentences cost in each language than in English."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import AbstractSet

import numpy as np

from ..backends.embedded import embedded_model_dir
from ..data import hub
from ..data.languages import is_language, resolve
from ..data.parallel import flores200, flores_dir
from ..data.textio import decode_utf8, read_lines
from ..errors import XlingError
from .plots import grouped_bars
from .tables import Table

# A folder holding none of these has no tokenizer for AutoTokenizer to find.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "spiece.model",
                   "sentencepiece.bpe.model", "vocab.json", "vocab.txt")


@hub.quieted
def load_tokenizer(name: str):
    """"embedded" (the embedded model's tokenizer), a local folder, or a hub name."""
    from transformers import AutoTokenizer

    if not name.strip():   # (Path("") is the current folder: its tokenizer was loaded, "ratio to ")
        raise XlingError("a tokenizer name is empty")
    if name == "embedded":
        return AutoTokenizer.from_pretrained(embedded_model_dir())
    path = Path(name).expanduser()
    if path.exists():
        if path.is_dir() and not any((path / f).is_file() for f in TOKENIZER_FILES):
            raise XlingError(f"folder {name} holds no tokenizer (none of {', '.join(TOKENIZER_FILES)})")
        try:
            return AutoTokenizer.from_pretrained(path)
        except Exception as exc:  # noqa: BLE001
            why = " ".join(str(exc).split())   # (its first line stopped mid-sentence)
            raise XlingError(f"cannot load a tokenizer from {name}: {why[:400]}{'...' if len(why) > 400 else ''}") \
                from exc

    hub.check_name(name, "tokenizer")
    if not hub.reachable() and not hub.cached(name):
        raise hub.error_for(name, what="tokenizer")
    try:
        return AutoTokenizer.from_pretrained(name)
    except Exception as exc:  # noqa: BLE001
        raise hub.error_for(name, exc, what="tokenizer") from exc


def flores_documents(lang: str, split: str = "devtest", root: Path | None = None) -> list[list[str]]:
    """FLORES-200 sentences grouped into their source documents (the metadata's URL column);
    without the metadata (a FLORES+ folder), each sentence alone, said."""
    import sys

    sentences = flores200(split, lang, root)
    meta = flores_dir(root) / f"metadata_{split}.tsv"
    if not meta.is_file():
        print(f"xling: warning: no {meta}: each {lang} sentence is counted as a document of its own "
              "(tokens per document are then tokens per sentence)", file=sys.stderr)
        return [[s] for s in sentences]
    urls = [line.split("\t")[0] for line in read_lines(meta)[1:]]
    if len(urls) != len(sentences):
        raise XlingError(f"{meta} does not match the {split} split ({len(urls)} vs {len(sentences)} lines)")
    docs: list[list[str]] = []
    for i, (url, sentence) in enumerate(zip(urls, sentences)):
        if i == 0 or url != urls[i - 1]:
            docs.append([])
        docs[-1].append(sentence)
    return docs


def file_documents(path: str) -> list[list[str]]:
    """A user's file: one sentence per line, documents separated by blank lines; or a folder:
    each file one document, whole (source code and web pages keep their blank lines)."""
    from pathlib import Path

    if Path(path).is_dir():
        root = Path(path)   # (hidden files and folders left out: .git, .github are no sample's text)
        files = [f for f in sorted(root.rglob("*"))
                 if f.is_file() and not any(part.startswith(".") for part in f.relative_to(root).parts)]
        # split at "\n" only, so that joined again (token_stats) each file is its text as it is:
        # its last newline and its CRLFs are tokens too
        docs = [lines for lines in (_whole(f).split("\n") for f in files) if any(map(str.strip, lines))]
        if not docs:
            raise XlingError(f"{path} holds no text file")
        return docs
    docs, current = [], []
    for line in read_lines(path):
        if line.strip():
            current.append(line)
        elif current:
            docs.append(current)
            current = []
    if current:
        docs.append(current)
    if not docs:
        raise XlingError(f"{path} holds no text")
    return docs


def _whole(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise XlingError(f"cannot read {path}: {exc.strerror}") from exc
    return decode_utf8(data, str(path)).removeprefix("\ufeff")


@dataclass
class TokenStats:
    tokens_per_doc: float
    tokens_per_sentence: float
    chars_per_token: float
    documents: int
    sentences: int
    tokens: int
    unknown: float | None = None   # share of the text no token but the unknown one holds (see `unrepresented`)


UNKNOWN_WARNING = 0.01   # of the text unknown to a tokenizer, above which its counts are marked


def unrepresented(tokenizer, sentences: list[str]) -> float | None:
    """The share of the sentences' non-space characters that no token holds but the unknown
    token: mapped to [UNK], or dropped (a tokenizer without one). Such a tokenizer looks the most
    efficient on the very scripts it cannot write (Thai at 0.15x English, 61% [UNK]). None for a
    tokenizer without character offsets (a slow one). Characters its normalizer deletes (marks
    an uncased tokenizer strips, Hindi's matras among them) are lost too: counted from the
    normalized text, since a deleted mark inside a word is aligned to that word's token."""
    # Counted on the NFC form (what a normalizer composes, decomposed Hangul's jamo, is no loss)
    sentences = [_nfc(s) for s in sentences]
    encoded = tokenizer(sentences, add_special_tokens=False)
    if getattr(encoded, "encodings", None) is None:
        return None
    unk = tokenizer.unk_token_id
    normalizer = getattr(getattr(tokenizer, "backend_tokenizer", None), "normalizer", None)
    lost = total = 0
    for row, (sentence, ids) in enumerate(zip(sentences, encoded["input_ids"])):
        unknown = dropped = count = 0
        for position, char in enumerate(sentence):
            if not char.isspace():
                count += 1
                token = encoded.char_to_token(row, position)
                dropped += token is None
                unknown += token is not None and ids[token] == unk
        deleted = max(0, count - _visible(_nfc(normalizer.normalize_str(sentence)))) if normalizer is not None else 0
        # (a mark deleted at a word's edge is also one without a token: counted once; one deleted
        # inside an unknown word is counted twice, at most the sentence's characters)
        lost += min(count, unknown + max(dropped, deleted))
        total += count
    return lost / total if total else 0.0


def _nfc(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFC", text)


def _visible(text: str) -> int:
    return sum(not char.isspace() for char in text)


def token_stats(tokenizer, docs: list[list[str]], joined_here: bool = True) -> TokenStats:
    """Documents are tokenized whole (sentences joined by newlines), without special tokens.
    Characters per token are the sentences' own; so is the token total (and the costs relative
    to English) where xling joined them (`joined_here`: FLORES, whose 731 joining newlines per
    language pulled the ratios towards 1); a user's file keeps its own line breaks."""
    texts = ["\n".join(doc) for doc in docs]
    # (a whole file keeps its blank lines, and its CRLFs: a sentence is a line without its end)
    sentences = [s.removesuffix("\r") for doc in docs for s in doc if s.strip()]
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()   # ("longer than the maximum ... indexing errors": no model runs here)
    try:
        doc_counts = [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
        encoded = tokenizer(sentences, add_special_tokens=False)
    finally:
        hf_logging.set_verbosity(verbosity)
    sent_counts = [len(ids) for ids in encoded["input_ids"]]
    chars, sentence_tokens = sum(len(s) for s in sentences), sum(sent_counts)
    return TokenStats(float(np.mean(doc_counts)), float(np.mean(sent_counts)),
                      chars / sentence_tokens if sentence_tokens else 0.0, len(docs), len(sentences),
                      sentence_tokens if joined_here else sum(doc_counts),
                      unrepresented(tokenizer, sentences))


def efficiency(tokenizers: list[str], langs: list[str], files: dict[str, str] | None = None,
               split: str = "devtest", root=None) -> dict[str, dict[str, TokenStats]]:
    corpora = {}
    for lang in langs:
        code = lang if files and lang in files else resolve(lang).code   # a column of its own: code
        corpora[code] = file_documents(files[code]) if files and code in files else flores_documents(code, split, root)
    loaded = {name: load_tokenizer(name) for name in tokenizers}
    own = set(files or ())
    return {name: {code: token_stats(tok, docs, joined_here=code not in own) for code, docs in corpora.items()}
            for name, tok in loaded.items()}


def _source(langs, own_files: AbstractSet[str], split: str) -> str:
    flores = [lang for lang in langs if lang not in own_files]
    return ", ".join(([f"FLORES-200 {split}"] if flores else []) + (["your files"] if len(flores) < len(langs) else []))


def efficiency_tables(stats: dict[str, dict[str, TokenStats]], reference: str | None = None,
                      own_files: AbstractSet[str] = frozenset(), split: str = "devtest") -> list[Table]:
    """`own_files`: languages read from the user's files, which are not the same sentences as
    FLORES's: no cost relative to English is computed across the two."""
    names = list(stats)
    reference = reference or names[0]
    langs = list(next(iter(stats.values())))
    notes = ["documents per language: " + ", ".join(f"{lang} {stats[reference][lang].documents}" for lang in langs)]
    if any(lang not in own_files for lang in langs):   # not the report's corpus: said beside its numbers
        notes.append(f"FLORES-200 {split} documents (sentences of one article, joined by line breaks); the "
                     "report's Table 1 counted 1,000 OSCAR documents per language and code from the Stack: "
                     "give such files with --file LANG=PATH")
    marked = {(n, lang) for n in names for lang in langs if (stats[n][lang].unknown or 0) > UNKNOWN_WARNING}
    mark = lambda n, lang: "*" if (n, lang) in marked else ""   # noqa: E731
    warning = [f"*: more than {UNKNOWN_WARNING:.0%} of the text is unknown to the tokenizer (held by its unknown "
               "token, or dropped): its counts understate what the language costs (see unknown %)"] if marked else []
    if marked:
        import sys
        print(f"xling: warning: {', '.join(f'{n} on {lang}' for n, lang in sorted(marked))}: more than "
              f"{UNKNOWN_WARNING:.0%} of the text unknown to the tokenizer; its counts understate the cost",
              file=sys.stderr)

    def ratio(value: float, to: float) -> str:
        return f"{value / to:.2f}" if to else "n/a"   # (a tokenizer that dropped every character: no tokens)

    main = Table(f"Average tokens per document, {_source(langs, own_files, split)} (ratio to {reference})",
                 ["tokenizer"] + langs,
                 [[n] + [f"{stats[n][lang].tokens_per_doc:.2f} "
                         f"({ratio(stats[n][lang].tokens_per_doc, stats[reference][lang].tokens_per_doc)})"
                         f"{mark(n, lang)}" for lang in langs] for n in names], notes + warning)
    detail = Table("Tokens per sentence and characters per token", ["tokenizer", "language", "tokens/sentence",
                                                                    "chars/token", "tokens", "unknown %"],
                   [[n, lang, f"{stats[n][lang].tokens_per_sentence:.2f}", f"{stats[n][lang].chars_per_token:.2f}",
                     str(stats[n][lang].tokens),
                     _percent(stats[n][lang].unknown)]
                    for n in names for lang in langs],
                   ["unknown %: of the sentences' non-space characters, those no token holds but the unknown one "
                    "([UNK], <unk>) or none (dropped); n/a: a tokenizer without character offsets"]
                   + ([] if not own_files else ["tokens: a file's total includes its line breaks, a folder's its "
                                                "files whole; FLORES's are its sentences' own"]))
    tables = [main, detail]
    # Relative costs only among languages read from the same sentences: all from FLORES, or the
    # user's files that can be parallel to English's: a language (not a `code` column) with as
    # many sentences (OSCAR samples of each language, as Table 1's, are unrelated texts)
    same = [lang for lang in langs if (lang in own_files) == ("en" in own_files)]
    if "en" in own_files:
        english = stats[names[0]]["en"].sentences
        same = [lang for lang in same if is_language(lang) and stats[names[0]][lang].sentences == english]
    if "en" in langs and len(same) > 1:
        mixed = [lang for lang in langs if lang not in same]
        notes = ["meaningful for parallel text (FLORES): the same content in every language"
                 + ("; your files are taken as parallel where they hold as many sentences as English's: "
                    "read this table only if they are translations of each other" if "en" in own_files else "")]
        if mixed:
            notes.append(f"left out: {', '.join(mixed)} (not the sentences English was counted on: another source, "
                         "another number of sentences, or not a language)")
        tables.append(Table("Cost relative to English on the same sentences (tokens ÷ English tokens)",
                            ["tokenizer"] + same,
                            [[n] + [(f"{ratio(stats[n][lang].tokens, stats[n]['en'].tokens)}x"
                                     if stats[n]["en"].tokens else "n/a") + mark(n, lang) for lang in same]
                             for n in names], notes + warning))
    return tables


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{100 * share:.2f}"


def efficiency_figure(stats: dict[str, dict[str, TokenStats]], own_files: AbstractSet[str] = frozenset(),
                      split: str = "devtest"):
    langs = list(next(iter(stats.values())))
    series = {name: [per[lang].tokens_per_doc for lang in langs] for name, per in stats.items()}
    return grouped_bars(f"Average tokens per document ({_source(langs, own_files, split)})", langs, series,
                        unit="tokens per document", xlabel="language")
