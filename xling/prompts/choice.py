"""Prompts for NLI and multiple-choice items from templates (xnli-rightq, nli-generate, mc-qa, copa),
balanced few-shot sampling, and the parser for generated answers."""
from __future__ import annotations

import random
import re
import unicodedata
from typing import AbstractSet, Sequence

from ..data.choice import ChoiceItem
from ..data.languages import resolve
from ..data.pawsx import ALSO_ACCEPTED
from ..errors import XlingError
from .templates import Template


def words_for(template: Template, lang: str) -> dict:
    table = {resolve(k).code: v for k, v in template.data.get("words", {}).items()}
    code = resolve(lang).code
    if code not in table:
        raise XlingError(f"template {template.name!r} has no wording for {resolve(lang).name}; it has: "
                         f"{', '.join(sorted(table))} (choose another prompt language)")
    return table[code]


def _letters(item: ChoiceItem) -> list[str]:
    return item.fields.get("letters") or [chr(ord("A") + i) for i in range(len(item.fields["options"]))]


# Marks that end a sentence (or close a quoted one); a premise ending otherwise gets the
# language's own full stop where its wording asks for one (`end`: 。 for ja and zh).
SENTENCE_ENDS = frozenset(".!?。！？．…」』”’\")）")


# How a sentence's first word is lowercased when it continues another sentence (`{option_lower}`,
# COPA's alternatives after "because"): English keeps the pronoun I; Turkish and Azerbaijani
# pair dotless I with ı and dotted İ with i (str.lower would give "i̇", i + a combining dot).
KEEP_CAPITAL = {"en": frozenset({"I"})}
DOTTED_I = frozenset({"tr", "az"})
# The full stops a premise loses when a connective follows it (`{clause}`).
FULL_STOPS = ".。．"
# Languages written without spaces between words: after a Chinese or Japanese connective, an
# alternative in one of these follows directly, any other after a space (`{gap}`).
JOINED = frozenset({"zh", "ja", "yue"})


def lower_first(text: str, lang: str) -> str:
    """The text with its first letter lowercased, unless its first word keeps its capital (an
    acronym, or a word the language always capitalizes)."""
    word = re.split(r"[\s'’]", text, maxsplit=1)[0]
    if not text or word in KEEP_CAPITAL.get(lang, ()) or (len(word) > 1 and word.isupper()):
        return text
    if lang in DOTTED_I and text[0] in "Iİ":
        return ("ı" if text[0] == "I" else "i") + text[1:]
    return text[0].lower() + text[1:]


def _fields(item: ChoiceItem, words: dict) -> dict:
    fields = dict(item.fields)
    end = words.get("end")
    if end and "premise" in fields:
        premise = fields["premise"].rstrip()
        fields["premise"] = premise if premise and premise[-1] in SENTENCE_ENDS else premise + end
    relation = fields.get("relation")     # a COPA item asks for its premise's cause or effect
    if relation is not None and "premise" in fields:
        fields["clause"] = item.fields["premise"].rstrip().rstrip(FULL_STOPS).rstrip()
        fields["gap"] = "" if item.option_lang in JOINED else " "
        for key, word in (("connective", relation), ("ask", f"ask_{relation}")):
            if word in words:
                fields[key] = words[word]
    return fields


def _fill(template: Template, text: str, values: dict) -> str:
    """A template text filled in; a field that neither the item nor the wording has is one error."""
    try:
        return text.format_map(values)
    except KeyError as exc:
        have = ", ".join(sorted(k for k, v in values.items() if isinstance(v, str)))
        raise XlingError(f"template {template.name!r} names {{{exc.args[0]}}}, which these items and "
                         f"this language's wording lack (they have: {have}); choose another template "
                         "(--template, --gen-template) or prompt language") from None


def options_of(template: Template, item: ChoiceItem, words: dict) -> list[str]:
    """The continuation texts scored for each answer (log-likelihood mode). A language's
    wording may give its own `continuation` (and `context`) format: Japanese and Chinese join
    with their own punctuation (「はい、」), not lm-eval's ASCII ", "."""
    data = template.data
    continuation = words.get("continuation", data["continuation"])
    values = {**words, **_fields(item, words)}
    if template.task == "nli":
        return [_fill(template, continuation, {**values, "label": words[name]}) for name in data["labels"]]
    return [_fill(template, continuation, {**values, "option": o, "option_lower": lower_first(o, item.option_lang)})
            for o in item.fields["options"]]


def _context(template: Template, item: ChoiceItem, words: dict) -> str:
    return _fill(template, words.get("context", template.data["context"]), {**words, **_fields(item, words)})


# A prompt is the cell's demonstrations (the same for every item of a cell) followed by the
# item's own part; runs store the two apart (config.json, records) and `xling prompt` joins them.
def loglikelihood_parts(template: Template, item: ChoiceItem, lang: str,
                        shots: Sequence[ChoiceItem] = ()) -> tuple[str, str, list[str]]:
    """(demonstrations, the item's context, continuations): the scored context is the first two
    joined."""
    words = words_for(template, lang)
    sep = template.data.get("shot_separator", "\n\n")
    demos = [_context(template, s, words) + options_of(template, s, words)[s.label] for s in shots]
    prefix = sep.join(demos) + sep if demos else ""
    return prefix, _context(template, item, words), options_of(template, item, words)


def render_loglikelihood(template: Template, item: ChoiceItem, lang: str,
                         shots: Sequence[ChoiceItem] = ()) -> tuple[str, list[str]]:
    """(context, continuations): few-shot demonstrations and the item's shared part form the
    context, which the backend encodes once for all options."""
    prefix, context, options = loglikelihood_parts(template, item, lang, shots)
    return prefix + context, options


def generation_parts(template: Template, item: ChoiceItem, lang: str,
                     shots: Sequence[ChoiceItem] = ()) -> tuple[str, str]:
    """(demonstrations, the item's own prompt): the prompt is the two joined."""
    words = words_for(template, lang)
    data = template.data
    sep = data.get("shot_separator", "\n\n")

    def one(x: ChoiceItem, with_answer: bool) -> str:
        if template.task == "nli":
            text = _fill(template, data["prompt"], {**words, **x.fields})
            return text + (data["target"].format(label=words[data["labels"][x.label]]) if with_answer else "")
        options = "\n".join(f"{letter}. {o}" for letter, o in zip(_letters(x), x.fields["options"]))
        text = _fill(template, words.get("generate_prompt", data["generate_prompt"]),
                     {**words, **_fields(x, words), "options": options})
        return text + (f" {_letters(x)[x.label]}" if with_answer else "")

    demos = [one(s, True) for s in shots]
    return (sep.join(demos) + sep if demos else ""), one(item, False)


def render_generation(template: Template, item: ChoiceItem, lang: str,
                      shots: Sequence[ChoiceItem] = ()) -> str:
    prefix, own = generation_parts(template, item, lang, shots)
    return prefix + own


def balanced_shots(pool: Sequence[ChoiceItem], k: int, seed: int, n_labels: int,
                   exclude_ids: AbstractSet[str] = frozenset(), repeats: int = 0) -> list[ChoiceItem]:
    """k demonstrations with the labels as evenly represented as possible, fixed by seed."""
    if k <= 0:
        return []
    usable = [x for x in pool if x.id not in exclude_ids]
    repeats += len(pool) - len(usable)   # (`repeats`: those taken out of `pool` already)
    if k > len(usable):
        why = f" ({repeats} of its {len(usable) + repeats} repeat an evaluated item)" if repeats else ""
        raise XlingError(f"asked for {k} few-shot examples but the dev pool has only {len(usable)}{why}")
    rng = random.Random(seed)
    groups = {label: [x for x in usable if x.label == label] for label in range(n_labels)}
    for members in groups.values():
        rng.shuffle(members)
    order = list(range(n_labels))
    rng.shuffle(order)
    picked: list[ChoiceItem] = []
    while len(picked) < k:
        for label in order:
            if groups[label] and len(picked) < k:
                picked.append(groups[label].pop())
    rng.shuffle(picked)
    return picked


# -- parsing generated answers ---------------------------------------------------------------------
# The parser's version, in each run's generation summary: 2 reads choices listed by sentences
# ("A. B.", "Yes. No."), an option's text without its full stop, "Answer: B", "B is wrong";
# 3: the cue's Chinese and Japanese copula ("答案是B", "答えはいいえ"), a letter before です/입니다;
# 4: "A: B" and "No contradiction" name no answer, nor does "B?"; invisible format characters
# (zero-width space, word joiner, BOM) are stepped over; 5: a repeated cue is read before an
# option whose text is the cue's word (X-CSQA's "answer", "答案"), a letter followed by another
# option's text ("A. No") and a choice word opening a refusal ("No sé", "No idea") name no
# answer, the cue's copula in more languages ("La risposta è B"), Turkish dotted İ; 6: nli-generate
# reads Japanese 多分 (the kanji of the prompted たぶん) as neutral; 7: an accepted word that opens
# longer words (Chinese 不) is read only standing alone, not in 不知道 (PAWS-X zh accepts 不, 相同, 不相同);
# 8: a choice followed by another label or option in brackets names no answer ("No (entailment)",
# PAWS-X "Yes (No)"; "Yes (entailment)" is read), «» 【】 《》 ` • > around an answer are stepped over;
# 9: choices listed in brackets ("(A) or (C)", "(Yes) or (No)"), a Korean option running on into a
# particle ("아니요가 아니라 예"), a choice negated after it ("A (wrong)", "town is wrong", "镇不对"), a No
# word before a noun ("No doubt", "No difference"), "neither"/"both" in Japanese and Chinese ("はいでも
# いいえでもない", "是也不是"), "不是矛盾", a choice corrected ("A. Wait, C.") or an arrow ("A -> C") name none
# (a negation only ending its clause: "C、間違いなく病院", "C。错误选项：E", "C. Wrong answers: E ..." answer).
# 10: "A, I mean C", "A. No wait, C is right", "A (B)", "A (or B)" name none; "B(…)", "B（…）", "Yes, no doubt" answer
CHOICE_PARSER = 10


def _norm(text: str) -> str:
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")   # ("\u200bYes" was no answer)
    # (casefold turns the Turkish İ into i and a combining dot: "İp" would never match "ip")
    text = unicodedata.normalize("NFKC", text).casefold().replace("i\u0307", "i").strip()
    return re.sub(r"^[\s\"'“”‘’「」『』«»《》【】`*:：\-–—•>(（\[]+", "", text)


def _option_text(option: str) -> str:
    """An option as an answer may repeat it: without its sentence's full stop ("It was fragile")."""
    return _norm(option).rstrip(".。．")


def _cue_end(template: Template, norm: str) -> int:
    """Where a leading copy of the prompt's answer cue ends in an answer ("Answer: B", "The answer
    is (B)", "答案：是", "정답은 예", "La risposta è B"): the prompt ends with that cue, and models
    repeat it. 0: none."""
    words = {_norm(w["answer"]) for w in template.data.get("words", {}).values() if w.get("answer")}
    words |= {"the answer", "the correct answer", "correct answer", "the final answer", "final answer", "정답",
              "正确答案", "正確答案", "正解", "正しい答え"}
    # (the copula before something only: "答案是否" is "the answer is no", "答案是" alone no answer)
    cue = re.match(r"(?:(?:la|le|el|il|die|der|câu)\s+)?"   # an article: "la risposta è", "câu trả lời là"
                   r"(?:" + "|".join(map(re.escape, sorted(words, key=len, reverse=True))) + r")"
                   r"(?:\s*[:：]|\s+(?:is|est|ist|es|è|on|ni|là|adalah|ialah)\b|은|는"
                   r"|\s*(?:是|为|為|は|คือ)\s*[:：]?(?=\S))\s*", norm)
    return cue.end() if cue else 0


def _without_cue(template: Template, norm: str) -> str:
    """An answer without a leading copy of the prompt's answer cue (see _cue_end)."""
    end = _cue_end(template, norm)
    return _norm(norm[end:]) if end else norm


# A No word that opens a refusal rather than answering No: joined to the verb it negates
# ("No sé", "No lo sé", "No estoy seguro", "No idea", "Non lo so"), or followed by a refusal that
# is the whole rest of the answer ("No, I don't know.", "Nein, ich weiß es nicht."). PAWS-X's No is
# the gold answer of 55% of its items: such refusals were scored right. ("No, estoy seguro de
# que no", "No, I can't say they mean the same", "Yes, I'm not sure", "Maybe, I can't tell" answer.)
_NO_WORDS = frozenset({"no", "nein", "non", "nee", "nej", "não", "nao", "нет", "いいえ", "아니요", "아니오", "아뇨",
                       "否", "不是", "不", "hayır", "không", "tidak", "hapana", "ei"})
# ("No se parecen", "they are not alike", answers: only sé with its accent, or "lo se", refuses)
# (English "No idea"/"No clue" not going on with a word: "No idea why, but they differ" answers)
# A No word before a noun it quantifies opens no answer No either: "No doubt", "No difference (in
# meaning)" (a paraphrase: PAWS-X's Yes), "No question about it", "No problem" (none is guessed)
_JOINED_REFUSAL = re.compile(r"[ \t]+(?:(?:idea|clue|comment)(?:\s+at\s+all)?\s*(?:$|[,，.!?。！？;:)])"
                             r"|(?:real\s+|significant\s+)?(?:doubt|question|difference|change|problem|issue)s?"
                             r"(?![^\W\d_])"
                             r"|(?:sé|lo\s+s[eé]|estoy\s+segur[oa]|tengo\s+(?:ni\s+)?idea|lo\s+so|sono\s+sicur[oa]"
                             r"|puedo\s+(?:saber|determinar))(?![^\W\d_]))")
# (the refusal ends there, or at a punctuation mark: "No, I don't know, sorry."; "No, I can't say
# that follows" goes on with words: it answers)
_WHOLE_REFUSAL = re.compile(
    r"[\s,，、.:;!?。！？\-–—]+(?:"
    r"i\s+(?:don['’]?t|do\s+not|can['’]?t|cannot)\s+(?:know|tell|say|answer)(?:\s+(?:for\s+sure|the\s+answer|that|this))?"
    r"|i\s*(?:am|['’]m)\s+not\s+(?:sure|certain)|not\s+sure|(?:ich\s+)?wei(?:ss|ß)\s+(?:es\s+)?nicht"
    r"|(?:das\s+)?wei(?:ss|ß)\s+ich\s+nicht|keine\s+ahnung|(?:ich\s+)?bin\s+mir\s+nicht\s+(?:ganz\s+)?sicher"
    r"|je\s+(?:ne\s+)?sais\s+pas|je\s+ne\s+suis\s+pas\s+(?:s[uû]re?|certaine?)|aucune\s+idée"
    r"|no\s+(?:lo\s+)?s[eé]|no\s+estoy\s+segur[oa]|non\s+(?:lo\s+)?so|(?:よく)?(?:わかりません|分かりません)|知りません"
    r"|わからない|我?不知道|我?不确定|我?不確定|我?无法确定|我?無法確定|我?无法判断|我?無法判斷|我?不清楚"
    r"|(?:잘\s*)?모르겠(?:습니다|어요|네요|다))"
    r"\s*(?=$|[,，、.!?。！？;:])")


def _refuses(word: str, rest: str) -> bool:
    """Whether an answer opening with `word` (an option's or label's text) and going on with
    `rest` is a refusal (or a phrase: "No doubt") that opens with a No word, not the answer No."""
    return word in _NO_WORDS and bool(_JOINED_REFUSAL.match(rest) or _WHOLE_REFUSAL.match(rest)
                                      or word == "non" and re.match(r"[ \t]+so(?![^\W\d_])", rest))   # "Non so"


# NLI's label names in Chinese and Japanese, written with no space after a word ("不是矛盾": "no contradiction")
_CJK_LABEL_NAME = re.compile(r"[ \t]*(?:蕴含|蘊含|蕴涵|蘊涵|含意|中立|中性|矛盾)")


def answer_vocabulary(template: Template) -> dict[str, int]:
    """Every label word of every language the template knows, plus the label names."""
    vocab: dict[str, int] = {}
    labels = template.data.get("labels", [])
    for words in template.data.get("words", {}).values():
        for index, name in enumerate(labels):
            if name in words:
                vocab.setdefault(_norm(words[name]), index)
    for extra in template.data.get("also_accepted", {}).values():
        for name, accepted in extra.items():
            for word in accepted:
                vocab.setdefault(_norm(word), labels.index(name))
    for index, name in enumerate(labels):
        vocab.setdefault(name, index)
    return vocab


# Scripts written without spaces between words (Han, Kana, Thai, Lao, Khmer, Myanmar) or with
# particles attached to words (Hangul): an option's text ends a word there wherever it ends.
_UNSPACED = ((0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x3040, 0x30FF),
             (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF))


def _runs_on(last: str, following: str) -> bool:
    """Whether `following` continues the word that `last` ends ("no" in "not", not "医院" in "医院里")."""
    def spaced(ch: str) -> bool:
        return ch.isalnum() and not any(lo <= ord(ch) <= hi for lo, hi in _UNSPACED)
    return bool(following) and spaced(last) and spaced(following)


def parse_answer(template: Template, text: str, item: ChoiceItem) -> int | None:
    """The answer index a generated text gives, or None (invalid: never guessed)."""
    norm = _norm(text)
    if not norm:
        return None
    if template.task == "nli":
        norm = _without_cue(template, norm)
        # Longest words first so that "不是" is not read as "是".
        vocabulary = sorted(answer_vocabulary(template).items(), key=lambda kv: -len(kv[0]))
        labels = set(template.data.get("labels", []))

        def says(text: str, word: str) -> bool:   # the text opens with the word, not a longer one
            rest = text[len(word):]
            return text.startswith(word) and not (rest and (
                rest[0].isalnum() and word.isascii() and rest[0].isascii()     # "no" in "not"
                or _hangul_goes_on(word, rest)))                               # "예" in "예를 들어"

        for word, index in vocabulary:
            if says(norm, word):
                # the choices repeated ("Yes, Maybe or No", "是否") name no answer, nor do they
                # as sentences ("Yes. No.", "はい。いいえ。"; not "Yes. No doubt about it.")
                # (another label opening a phrase, "Yes, no doubt", "Maybe, no idea", lists nothing: as in _refuses)
                listed = _LISTING.sub("", norm[len(word):], count=1)
                if any(other_index != index and says(listed, other) and not (
                        other in _NO_WORDS and _JOINED_REFUSAL.match(listed[len(other):]))
                       for other, other_index in vocabulary):
                    return None
                # nor does one corrected to another ("Yes. Wait, no.", "Yes, I mean no")
                if any(other_index != index and says(fixed, other) and _CORRECTED_WORD_END.match(fixed[len(other):])
                       for fixed in _correction_after(norm[len(word):]) for other, other_index in vocabulary):
                    return None
                # a word before a label's name ("No contradiction": there is none) answers nothing
                named = re.match(r"[ \t]+(\w+)", norm[len(word):])   # (not "No\nContradiction: ...")
                names = named and named.group(1) in labels or _CJK_LABEL_NAME.match(norm[len(word):])
                if word not in labels and names or _refuses(word, norm[len(word):]):
                    return None
                # nor does one with another choice alone in brackets ("No (entailment)", "Yes (No)"); one
                # opening an explanation answers ("Yes (no doubt)", "No (entailment does not hold)")
                inner = _bracketed(norm[len(word):])
                if inner is not None and any(other_index != index and says(inner, other) and _CLOSING.match(
                        inner[len(other):]) for other, other_index in vocabulary):
                    return None
                sentence = _SENTENCE.match(norm[len(word):])
                after = norm[len(word) + sentence.end():] if sentence else ""
                if any(other_index != index and says(after, other) and (
                        _SENTENCE_ENDS.match(after[len(other):])
                        or any(third_index != other_index and says(_LISTING.sub("", after[len(other):], count=1), third)
                               for third, third_index in vocabulary))
                       for other, other_index in vocabulary):
                    return None
                return index
        return None
    # An answer repeating an option's text is that option, tried before letters: "a chair" or
    # "A drop of blood formed..." is an option's text, not the letter A. Of options that are
    # prefixes of one another ("chair", "chair leg") the longest the answer starts with wins.
    options = [(i, _option_text(o)) for i, o in enumerate(item.fields["options"])]
    # words read as an option besides its text (PAWS-X Korean 네 for 예)
    options += [(i, _norm(w)) for i, words in enumerate(item.fields.get("also_accepted", ())) for w in words]
    # A repeated cue is read first ("Answer: B" where an option is "answer": X-CSQA's "答案",
    # "正解"), unless an option's own text opens with the whole cue ("The answer is in the box")
    cut = _cue_end(template, norm)
    if cut and not any(o and o.startswith(norm[:cut].rstrip()) for _, o in options):
        norm = _norm(norm[cut:])
    said = [(len(o), i) for i, o in options
            if o and norm.startswith(o) and not _runs_on(o[-1], norm[len(o):len(o) + 1])
            and not _hangul_goes_on(o, norm[len(o):])   # "예" in "예를 들어", "아니요" in "아니요가 아니라 예"
            and not (o in _OPENS_WORDS and norm[len(o):len(o) + 1].isalnum())   # "不" in "不知道"
            and not norm[len(o):].lstrip().startswith(("吗", "嗎"))]   # the question echoed: "相同吗？"
    letters = [letter.casefold() for letter in _letters(item)]
    if said:
        longest = max(said)[0]
        best = [i for length, i in said if length == longest]
        rest = norm[longest:]
        if len(best) > 1 or _lists_another(rest, best[0], options, letters, by_text=True) \
                or _refuses(norm[:longest], rest) or _brackets_another(rest, best[0], options, letters) \
                or _negated(rest, best[0], options):
            return None
        return best[0]
    # a letter alone or marked as one ("B)", "C.", "**B**", "B, because", "B is correct",
    # "B - chair", "B。"), never a word ("a house", "A drop", "e.g. C"); "A and C" names none
    match = _LETTER.match(norm)
    if match and match.group(1) in letters:
        index = letters.index(match.group(1))
        marked = norm[match.end():].lstrip()
        if norm[match.end() - 1] == ":":   # "A: B", "A: The answer is B": A as the Q/A format's cue
            told = _without_cue(template, marked)
            other = _LETTER_ALONE.match(told)
            if other and other.group(1) in letters and letters.index(other.group(1)) != index or any(
                    i != index and o and told.startswith(o) and _ALONE.match(told[len(o):]) for i, o in options):
                return None
        own = next((o for i, o in options if i == index and o and marked.startswith(o)), None)
        # a letter followed by another option's own text ("A. It was small." where that is B's,
        # "A (No)") contradicts itself: it names no answer
        told = _norm(marked)
        if any(i != index and o and len(o) > len(own or "") and told.startswith(o) and _ALONE.match(told[len(o):])
               for i, o in options):
            return None
        # what follows the option's own text ("A) shelf ..."), else the letter itself ("A, B")
        rest = marked[len(own):] if own else norm[match.start(1) + 1:]
        # (another letter alone in brackets, "A (B)", "A（B）", contradicts it as another's text does)
        return None if _lists_another(rest, index, options, letters, by_text=False) \
            or _negated(rest, index, options) or _brackets_another(norm[match.start(1) + 1:], index, [], letters) \
            else index
    return None


def _lists_another(rest: str, index: int, options: list[tuple[int, str]], letters: list[str],
                   by_text: bool) -> bool:
    """Whether what follows an answer's choice lists another choice on its line ("Yes or no",
    "A, B", "A) shelf B) bed C) oven", "A (shelf) or B (bed)"): such an answer names none (it
    was read as its first choice, which favours A)."""
    rest = rest.split("\n", 1)[0]
    if _corrects(rest, index, options, letters):
        return True

    def standing_alone(after: str, pattern=_LETTER_ALONE, ends=_ALONE) -> bool:   # another choice, alone
        letter = pattern.match(after)
        if letter and letter.group(1) in letters and letters.index(letter.group(1)) != index:
            return True
        return by_text and any(i != index and o and after.startswith(o) and ends.match(after[len(o):])
                               for i, o in options)

    sentence = _SENTENCE.match(rest)
    if sentence:   # "A. B. C.", "Yes. No.": listed; "B. A drop formed", "C. A and B are wrong": answered
        after = rest[sentence.end():]
        marked = _MARKED_LETTER.match(after)   # "A) shelf. B) bed.": a list
        if marked and marked.group(1) in letters and letters.index(marked.group(1)) != index:
            return True
        if standing_alone(after, _LETTER_SENTENCE, _SENTENCE_ENDS):
            return True
        # another choice that goes on listing ("A. B, C.", "shelf. bed, oven."); not "C. A and B are wrong"
        letter = _LETTER_ALONE.match(after)
        if letter and letter.group(1) in letters and letters.index(letter.group(1)) != index:
            return _lists_another(after[1:], letters.index(letter.group(1)), options, letters, by_text)
        return by_text and any(i != index and o and after.startswith(o) and _ALONE.match(after[len(o):])
                               and _lists_another(after[len(o):], i, options, letters, by_text) for i, o in options)
    joined = _LISTING.match(rest)
    after = rest[joined.end():] if joined else rest
    if not after or (joined and _SPACE_ONLY.match(joined.group(0))):
        # only a space (or nothing, in unspaced scripts) between: another marked letter ("B)")
        # lists, and another choice standing alone ("Yes No", "是否", "Yes B"); a word may be anything
        marked = _MARKED_LETTER.match(after)
        return bool(marked and marked.group(1) in letters and letters.index(marked.group(1)) != index) \
            or bool(after) and standing_alone(after, _LAST_LETTER)
    # after "or"/"and" another choice lists whatever follows it ("Yes or no depending on the
    # context", "是或否取决于语境"); after a comma or a slash only a choice standing alone does
    # ("A, B", "Yes/No"; not "Yes, no doubt", "B, A is wrong", "Yes; no differences")
    worded = bool(joined and joined.group("word"))
    letter = (_LISTED_LETTER if worded else _LETTER_ALONE).match(after)
    if letter and letter.group(1) in letters and letters.index(letter.group(1)) != index:
        return True
    return by_text and any(i != index and o and after.startswith(o) and (
        not _runs_on(o[-1], after[len(o):len(o) + 1]) if worded else _ALONE.match(after[len(o):]))
        for i, o in options)


# A bracket opened right after an answer's choice ("Yes (No)", "No (entailment)"), and one closed
# after a choice alone in it.
_OPENING = re.compile(r"[ \t]*[(（\[][\s\"'“”‘’「」『』«»《》`*]*")
_CLOSING = re.compile(r"[\s\"'“”‘’「」『』«»《》`*]*[)）\]]")
_BRACKETED_OR = re.compile(r"^(?:(?:or|oder|ou|o|или|atau|hay)(?![^\W\d_])"
                           r"|또는|혹은|或者|或(?!许|許)|还是|還是|または)\s*")
_BRACKETED_LETTER = re.compile(r"([a-z])(?=" + _CLOSING.pattern + ")")


def _bracketed(rest: str) -> str | None:
    """What follows a bracket opened right after an answer's choice, an "or" opening it stepped over ("A (or
    B)" lists two), else None."""
    opening = _OPENING.match(rest)
    return _BRACKETED_OR.sub("", rest[opening.end():], count=1) if opening else None


def _brackets_another(rest: str, index: int, options: list[tuple[int, str]], letters: list[str]) -> bool:
    """Whether an option's text is followed by another option in brackets, its text or its letter
    alone ("Yes (No)", "shelf (C)"): the answer contradicts itself ("A (No)" names none either)."""
    inner = _bracketed(rest)
    if inner is None:
        return False
    letter = _BRACKETED_LETTER.match(inner)
    if letter and letter.group(1) in letters and letters.index(letter.group(1)) != index:
        return True
    return any(i != index and o and inner.startswith(o) and _CLOSING.match(inner[len(o):]) for i, o in options)


# A choice negated right after it ("A is wrong", "A (incorrect)", "A: wrong", "A, definitely not", "A's
# wrong", "town isn't right", "镇不对", "町じゃない", "มันเล็กไม่ใช่คำตอบ", "Kilikuwa kidogo si jibu", "Li te
# piti pa vre"): such an answer names none (it was read as that choice). A "not" going on with another
# choice rejects that one ("C, not A", "hospital (not town)"), and a rhetorical question affirms ("病院
# ではないでしょうか"). After a sentence's end, a colon or a dash a negating word negates the choice only
# ending its clause ("A. Wrong.", "A - incorrect", "A: no"): one opening a sentence about the others
# answers ("C. Wrong answers: E does not fit.", "C. Not that E is impossible", "C - incorrect options are
# A, B"); Chinese, Japanese and Thai negations always end their clause ("C。错误选项：E。", "C、間違いなく病院",
# "มันบอบบาง ผิดปกติมาก"), and the Swahili and Haitian ones follow the option's own words ("A. Si jibu B.").
_QUOTES_CLOSED = r"[\s\"'“”‘’「」『』«»《》`*)）\]】]*"
_BREAK = r"[\s,，、(（\[]*[.。:：;!?？\-–—][\s,，、.。:：;!?？\-–—(（\[]*"   # (a sentence's end, a colon, a dash)
_ADVERBS = r"(?:(?:is|was|would\s+be|seems|definitely|certainly|clearly|surely|absolutely|probably)\s+)*"
_CLAUSE_END = r"(?=\s*(?:$|[。.!！?？,，、;；)）\]】]))"
_NEGATED_ANYWHERE = (   # Chinese, Japanese, Thai: ending their clause
    r"(?:(?:は|が|也|是)?(?:不对|不對|不正确|不正確|错[了的]?|錯[了的]?|間違い(?:です|だ)?|間違って(?:いる|います)"
    r"|違(?:う|います))" + _CLAUSE_END +
    r"|(?:は|が)?(?:じゃ|では)(?:な(?!い(?:でしょう|です)?か)|ありません(?!か))"
    r"|(?:也|是)?不是(?=\s*(?:$|[。.!！?？,，;；]|答案|正确|正確))"
    r"|ไม่ใช่(?=\s*(?:$|[.!?,]|" + unicodedata.normalize("NFKC", "คำตอบ") + "))"   # (as _norm writes ำ)
    r"|ผิด(?=\s*(?:$|[.!?,)]))|ไม่ถูก)")
_NEGATED_RIGHT_AFTER = (
    _ADVERBS + r"(?:(?:wrong|incorrect|false)(?![^\W\d_])"
    r"|no\s*(?=$|[.!)）\]】])|(?:not|never|isn['’]?t|wasn['’]?t)(?!\s+(?:it|this|that)\s*\?)"   # (not "A, isn't it?")
    r"\s*(?=$|[.,;:!)）\]】]|(?:this|it|right|correct|true|the\s+(?:(?:right|correct)\s+)?answer)(?![^\W\d_]))"
    r"|si\s+(?:jibu|sahihi|kweli)(?![^\W\d_])|pa\s+(?:vre|kòrèk|korèk|bon)(?![^\W\d_]))|" + _NEGATED_ANYWHERE)
_NEGATED_AFTER_BREAK = (   # after ". ", ": ", " - "
    _ADVERBS + r"(?:(?:wrong|incorrect|false|(?:not|never|isn['’]?t|wasn['’]?t)"
    r"(?:\s+(?:this(?:\s+one)?|right|correct|true|the\s+(?:(?:right|correct)\s+)?answer))?)"
    r"(?=\s*(?:$|[.!,;)）\]】]))|no\s*(?=$|[.!)）\]】]))|" + _NEGATED_ANYWHERE)   # (not "C. No, seriously, C")
_NEGATED = re.compile(_QUOTES_CLOSED + r"(?:(?:['’]s\s+|[\s,，、(（\[]*)(?:" + _NEGATED_RIGHT_AFTER + ")|"
                      + _BREAK + "(?:" + _NEGATED_AFTER_BREAK + "))")


def _negated(rest: str, index: int, options: list[tuple[int, str]]) -> bool:
    """Whether what follows an answer's choice negates it (see _NEGATED); a No choice negated is
    still No ("No, wrong", "いいえ、違います", "아니요, 같은 뜻이 아닙니다")."""
    return not any(i == index and o in _NO_WORDS for i, o in options) \
        and bool(_NEGATED.match(rest.split("\n", 1)[0]))   # (on its line, as _lists_another)


# A word correcting the choice before it, after a sentence's end, a comma or a dash ("A. Wait, C.",
# "A... actually C", "A. No wait, C is right", "A, I mean C", "A - sorry, C", "镇？不，是医院", "A。いや、Cです",
# "A, 아니 C"; the words may repeat: "Wait, no"), the other choice standing alone or affirmed after it.
_CORRECTION = re.compile(
    # (a No word only before punctuation or another correcting word: "E, non C" is "E, not C")
    r"(?:(?:no|nein|non)(?![^\W\d_])(?=\s*[,，、.!:…\-–—]|\s+(?:wait|sorry|actually|i\s+mean))"
    r"|(?:wait|actually|sorry|oops|i\s+meant?|or\s+rather|rather|warte|ich\s+meine|eigentlich"
    r"|je\s+veux\s+dire|attends|attendez|en\s+fait|espera|quiero\s+decir|mejor\s+dicho|en\s+realidad)(?![^\W\d_])"
    r"|不对|不對|我是说|我是說|我的意思是|等等|(?:不|아니)(?=[\s,，、.!])|いや|잠깐)[\s,，、.!:…\-–—]*")
_COPULA = re.compile(r"(?:it['’]?s|it\s+is|是|です)\s*")
_BEFORE_CORRECTION = re.compile(r"[\s\"'“”‘’「」『』«»《》`*)）\]】]*[,，、.。!?！？:：;；\-–—…]+\s*")
# A corrected-to choice affirmed ("C is right", "C is the answer", "C, because", "Cです", "C才对", "C가 맞습니다").
_AFFIRMED = (r"[\"'“”‘’「」『』«»《》`*)）\]】]*(?:(?:\s+(?:is|it\s+is)|['’]s)\s+(?:(?:definitely|clearly|actually"
             r"|really|surely)\s+)?(?:right|correct|true|it"
             r"|(?:the\s+)?(?:right|correct|best|better|real)\s+(?:answer|one|choice|option)|the\s+(?:answer|choice|option))"
             # (ending its clause: "A is true in a narrow sense, but C" affirms nothing)
             r"(?=\s*(?:$|[.!。！;:]|,?\s*(?:because|since)(?![^\W\d_])))|\s*,?\s*(?:because|since)(?![^\W\d_])"
             r"|\s*(?:です|입니다|才对|才對|是对的|是對的|[가이]\s*맞|[가이]\s*정답))")


def _correction_after(rest: str) -> list[str]:
    """What may follow a correction right after an answer's choice, on its line: the text after each of
    its words ("wait, no." after "Yes. ": "no." and ""; a correcting word may be the choice: No)."""
    line = rest.split("\n", 1)[0]
    start = _BEFORE_CORRECTION.match(line)
    found: list[str] = []
    word = _CORRECTION.match(line, start.end()) if start else None
    while word:
        found.append(_norm(line[word.end():]))
        copula = _COPULA.match(line, word.end())
        if copula:
            found.append(_norm(line[copula.end():]))
        word = _CORRECTION.match(line, word.end())
    return found


# (yes/no-like labels, PAWS-X's and NLI's: corrected before a comma too, "Yes. Actually no, they differ")
_ANSWER_WORDS = _NO_WORDS | {"yes", "ja", "oui", "sí", "si", "はい", "예", "네", "是", "maybe"} | {
    _norm(word) for accepted in ALSO_ACCEPTED.values() for words in accepted for word in words}


def _corrects(rest: str, index: int, options: list[tuple[int, str]], letters: list[str]) -> bool:
    """Whether what follows an answer's choice corrects it to another choice (see _CORRECTION): such an
    answer names none, as an arrow does ("A -> C"); "B. No, A is wrong" and "C. No, seriously, it's C" answer."""
    own = {o for i, o in options if i == index}   # (X-CSQA repeats an option's text under two letters at times)
    for after in _correction_after(rest):
        letter = _CORRECTED_LETTER.match(after)
        if letter and letter.group(1) in letters and letters.index(letter.group(1)) != index or any(
                i != index and o and o not in own and after.startswith(o)
                and not _runs_on(o[-1], after[len(o):len(o) + 1])
                and (_CORRECTED_WORD_END if o in _ANSWER_WORDS else _CORRECTED_TEXT_END).match(after[len(o):])
                for i, o in options):
            return True
    return False


# Answer words that also open longer words in a script without spaces (不知道 "I don't know",
# 不确定 "not sure", 不一定): such a word answers only standing alone.
_OPENS_WORDS = frozenset({"不"})


def _hangul(ch: str) -> bool:
    return 0xAC00 <= ord(ch) <= 0xD7A3


# A Hangul option's particle going on to the negating copula ("아니요가 아니라 예": "not no but yes",
# "아니요는 아닙니다"); any other particle leaves it the answer ("아니요가 정답입니다", "아니요라고 생각합니다").
_HANGUL_NOT = re.compile(r"[가이는은]\s*(?:아니(?:라|고|다|에요|예요|야)|아닙니다|아닙|아녜요)")


def _hangul_goes_on(word: str, rest: str) -> bool:
    """Whether a Hangul word runs on into a longer one or is denied by what follows: a one-syllable
    word ("예", "네") followed by any Hangul but the copula that makes it the answer ("예입니다": "it is
    yes"; "예를 들어" is "for example", "네가" "you"), a longer one ("아니요") only by a particle going on
    to the negating copula (_HANGUL_NOT)."""
    if not (rest and _hangul(word[-1]) and _hangul(rest[0])):
        return False
    if len(word) == 1:
        return not rest.startswith("입니다")
    return bool(_HANGUL_NOT.match(rest))


# What joins repeated choices: ", ", " or ", "/", "、", "还是" ... (after the first label word).
# What joins the choices an answer lists ("Yes, or no", "Yes and No", "是和否", "はいといいえ"):
# such an answer names no choice (a Hangul particle, "예와", already ends the first word).
# (A word joiner ends where a letter does not follow: the "y" of "Maybe, yes" is no joiner; a
# dash is none either: "Yes - no doubt" answers yes.)
# Quotes, bold, bullets and closing brackets around the choices are stepped over ("「はい」か「いいえ」",
# "**Yes** or **No**", "«Да» или «Нет»", "A (shelf) or B (bed)", "• Yes\n• No"); an opening bracket
# only after a joiner or a closed bracket ("(A) or (C)", "(A), (C)", "(A) (C)"), not after a space
# alone: "Yes (no doubt)" answers (and "Yes (No)": _brackets_another). 【 and 《 quote in Chinese.
# (でも, とも and 也 join "neither"/"both": "はいでもいいえでもない", "是也不是"; not 也许, "maybe";
# an arrow joins too: "A -> C" names none, as "A → C" does)
_JOINS = r"[\s,，、/|;&+\"'“”‘’「」『』«»《》【`*•>)）\]】]*"
_JOINER = (r"(?:(?:or|oder|ou|o|или|hay|atau|and|und|et|y|e|и|và|dan|but\s+(?:maybe|perhaps|possibly))(?![^\W\d_])"
           r"|或者|还是|或|또는|혹은|아니면|か|または|และ|หรือ|和|与|及|跟|とも|と|や|및|でも|也(?![许許])|->|=>)")
_LISTING = re.compile(f"^(?:(?:{_JOINS}(?P<word>{_JOINER})|{_JOINS}[)）\\]】]){_JOINS}[(（\\[［]?|{_JOINS})")
_SPACE_ONLY = re.compile(r"^\s*$")
# A sentence's end between an answer's choice and what follows ("A. B.", "はい。いいえ。"), quotes
# and bold stepped over on both sides ("「はい」。「いいえ」。", "**Yes**. **No**.", "«Yes». «No».").
_SENTENCE = re.compile(r"^[\"'“”‘’「」『』«»《》`*)）\]】]*[.!?。！？．]+\s*[\"'“”‘’「」『』«»《》【`*]*")
# An option's letter marked as one after nothing but a space ("A) shelf B) bed"): a list.
_MARKED_LETTER = re.compile(r"([a-z])[).:）](?=\s|$)")   # ("c.f." marks none)
# What may follow a listed choice: the line's end, punctuation, a bracket ("B (bed)"), or the next joiner.
_ALONE = re.compile(r"[\s\"'“”‘’「」『』«»《》`*]*(?:$|[.,;:!?。、，)）\]】(（/|&+]"
                    r"|(?:or|and|oder|ou|o|или|y|e|и|또는|혹은|아니면|或|还是|か|または|と)(?![^\W\d_]))")
_LETTER_ALONE = re.compile(r"([a-z])(?=" + _ALONE.pattern + ")")
_LAST_LETTER = re.compile(r"([a-z])(?=[\W_]*$)")   # a letter ending the line ("Yes B"; not "c.f. oven")
# A choice that is a sentence of its own after another's ("A. B.", "Yes. No."): its sentence ends
# there (not "C. A and B are wrong", "C. E.g. a hospital").
_SENTENCE_ENDS = re.compile(r"[\s\"'“”‘’「」『』«»《》`*)）\]】]*(?:$|[.!?。！？．]+(?![a-z0-9]))")
_LETTER_SENTENCE = re.compile(r"([a-z])(?=" + _SENTENCE_ENDS.pattern + ")")
# After a correction: another letter ending its sentence or affirmed ("A. Wait, C.", "A, I mean C is right"; not
# "B. No, A, C and D are wrong", nor "Wait, A? No, C"), another label also before a comma ("Yes. Actually no, ...",
# not "C. I mean, office building, town and schools are places too").
_STATED_ENDS = re.compile(r"[\s\"'“”‘’「」『』«»《》`*)）\]】]*(?:$|[.!。！．]+(?![a-z0-9]))")
_CORRECTED_LETTER = re.compile(r"([a-z])(?=" + _STATED_ENDS.pattern + "|" + _AFFIRMED + ")")
_CORRECTED_TEXT_END = re.compile(_STATED_ENDS.pattern + "|" + _AFFIRMED)
_CORRECTED_WORD_END = re.compile(_STATED_ENDS.pattern + "|" + _AFFIRMED
                                 + r"|[\"'“”‘’「」『』«»《》`*)）\]】]*\s*[,，、]")
# (a bracket after no space too: "B(Michigan)", "B（密歇根州）", whose full-width bracket _norm made ASCII)
_LETTER_MARKS = (r"([a-z])(?:\s*$|\s*\n|\.(?![a-z])|[(),:;\]）*\"'」』»》】`。、，!{}]|\s*(?:です(?!か)|입니다(?!까))"
                 r"|\s+(?:is\b(?!\s+(?:not|wrong|incorrect|false)\b)|because\b|since\b|[-–—(]))")
_LETTER = re.compile(_LETTER_MARKS.format(""))   # an answer's letter: "B?" asks, it does not answer
_LISTED_LETTER = re.compile(_LETTER_MARKS.format("?"))   # another choice listed: "A, or B?" lists two
