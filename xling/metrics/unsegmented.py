"""BLEU and TER on scripts written without spaces between words (Thai, Lao, Khmer, Burmese): a
whitespace tokenizer (13a, intl, none, zh, ...; TER's own) makes whole phrases single tokens
there, so the score says little. The warning that says so, read from a result's signature, so that `score`,
`eval` and `report` (stored runs included) give the same one. Light: no sacrebleu import."""
from __future__ import annotations

import sys

from ..data.languages import resolve

# ISO 15924 code -> script name, for the scripts that do not separate words by spaces.
UNSEGMENTED = {"Thai": "Thai", "Laoo": "Lao", "Khmr": "Khmer", "Mymr": "Burmese"}
# sacrebleu tokenizers (as their signatures name them) that cut such text below the space:
# characters, or SentencePiece pieces (spBLEU).
SEGMENTING = ("char", "flores101", "flores200", "spBLEU-1K")


def signature_tokenizer(signature: str) -> str | None:
    """The `tok:` field of a sacrebleu-style signature ("nrefs:1|...|tok:13a|..."), or None."""
    for part in signature.split("|"):
        key, _, value = part.partition(":")
        if key == "tok":
            return value
    return None


def bleu_warning(tokenizer: str | None, tgt_lang: str | None) -> str | None:
    """What to tell a user who computed BLEU with `tokenizer` on a target in an unsegmented
    script; None when nothing needs saying."""
    if not tokenizer or not tgt_lang or tokenizer in SEGMENTING:
        return None

    lang = resolve(tgt_lang)
    script = UNSEGMENTED.get(lang.script)
    if script is None:
        return None
    return (f"BLEU with tokenizer {tokenizer} on {lang.name} ({lang.code}) means little: {script} "
            f"script puts no spaces between words, so {tokenizer} takes whole phrases as tokens; "
            "trust chrF, spBLEU (-m spbleu) or COMET for this language")


BLEU_METRICS = ("bleu", "spbleu")


def result_warning(metric: str, signature: str, tgt_lang: str) -> str | None:
    """The warning for one stored or computed result of metric `metric` (a registry name)."""
    if metric == "ter" and "asian:yes" in signature and "norm:no" in signature \
            and tgt_lang.split("-")[0] in ("ja", "zh"):
        # stored before xling turned normalization on: sacrebleu's Asian support did nothing then
        return (f"a TER score into {tgt_lang} was computed without normalization ({signature}): an unspaced "
                "sentence was one token, so it is near an exact-match rate; `xling rescore RUN -m ter "
                "--recompute` recomputes it with norm:yes|asian:yes")
    if metric == "ter" and "asian:yes" in signature and resolve(tgt_lang).code == "ko":
        # stored before Korean took sacrebleu's default (asian_support splits no Hangul)
        return (f"a TER score into {tgt_lang} was computed with sacrebleu's Asian support ({signature}), which "
                "splits no Hangul: only its normalization acted, so it is not sacrebleu's default TER; `xling "
                "rescore RUN -m ter --recompute` recomputes it with asian:no|norm:no")
    if metric == "ter":   # TER's edits are over words split at spaces, whatever the signature says
        lang = resolve(tgt_lang)
        script = UNSEGMENTED.get(lang.script)
        return None if script is None else (
            f"TER on {lang.name} ({lang.code}) means little: {script} script puts no spaces between words, "
            "so TER's words are whole phrases and one wrong character costs a phrase; trust chrF or COMET "
            "for this language")
    if metric == "offtarget":
        from .langid import can_confirm  # (here: this module stays light)

        lang = resolve(tgt_lang)
        return None if can_confirm(lang.code) else (
            f"the off-target rate into {lang.name} ({lang.code}) catches only outputs in another script: no "
            f"language detector xling uses knows {lang.name}, so an output in another language of its script "
            "(English too) is undetermined, not off-target")
    if metric not in BLEU_METRICS:
        return None
    return bleu_warning(signature_tokenizer(signature), tgt_lang)


def warn(messages) -> None:
    """Print each distinct message once, as one `xling: warning:` line on stderr."""
    for message in dict.fromkeys(m for m in messages if m):
        print(f"xling: warning: {message}", file=sys.stderr)
