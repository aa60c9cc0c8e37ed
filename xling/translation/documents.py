"""Document-level translation (`--unit document`): a document's segments go into one prompt,
numbered [1], [2], ... at their line starts; the answer is split back at the numbers.

A document longer than the model can take is cut into the largest runs of whole segments that
fit both the context window (prompt + answer) and the answer cap (--max-new-tokens). An answer
whose numbers are not exactly 1..n in order, or with a number left empty, cannot be split back
safely: its segments are scored as empty and counted as a realignment failure — never shifted
onto other segments. Numbers written otherwise ("［1］", "**[1]**") still split an answer, and a
one-segment chunk answered without its "[1]" is that segment.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass

from ..backends.base import budget_cut, was_cut
from ..data.languages import check_direction
from ..data.textio import counted, is_blank
from ..errors import XlingError
from .postprocess import Cleaned, clean_output, without_reasoning
from .translator import Translation, source_texts

# A number in square brackets at the start of a line, then the segment's text.
_MARK = re.compile(r"^[ \t]*\[(?P<number>\d+)\][ \t]*", re.M)
# The number as models also write it: "［1］" (fullwidth, as CJK text is typed), "[ 1 ]", "**[1]**"
# (markdown bold), after a no-break space, at the start of a line any line break ends ("\r",
# U+2028). Read only where the plain numbers do not split an answer: a segment may hold such a line.
_SPACE = r"[ \t\u00a0\u3000]*"
_LOOSE_MARK = re.compile(rf"(?:^|(?<=[\n\r\x85\u2028\u2029])){_SPACE}(\*\*)?[\[［]{_SPACE}(?P<number>\d+){_SPACE}[\]］]"
                         rf"(?(1)\*\*){_SPACE}")
MARK_TOKENS = 4      # what "[12] " and its line break may cost in tokens, per segment


def mark(segments: list[str]) -> str:
    """The numbered text of a chunk: one segment per line, each after its [k]."""
    return "\n".join(f"[{k}] {text}" for k, text in enumerate(segments, 1))


def split_marked(text: str, n: int) -> tuple[list[str], str] | None:
    """The n segments of a numbered answer and the text before [1] (stripped), or None when its
    numbers are not exactly 1..n in order (missing, repeated, merged or out of order) or a number
    has no text: a model that put two segments' text under
    [1] and left [2] empty would otherwise have every segment scored against its neighbour's
    reference (the numbered segments are never empty). Numbers as models also write them
    (_LOOSE_MARK) count where the plain ones do not split the answer; a one-segment answer
    without a number is its segment. A last number of the model's own ("[3] (end)") fails too: a
    segment it split in two lines ("[1] 감사\n[2] 합니다.\n[3] (박수)") would shift the rest."""
    for pattern in (_MARK, _LOOSE_MARK):
        marks = list(pattern.finditer(text))
        if [int(m.group("number")) for m in marks] != list(range(1, n + 1)):
            continue
        ends = [m.start() for m in marks[1:]] + [len(text)]
        pieces = [text[m.end():e].strip() for m, e in zip(marks, ends)]
        return (pieces, text[:marks[0].start()].strip()) if all(pieces) else None
    if n == 1 and text.strip() and not _LOOSE_MARK.search(text):   # "[1]" left out: nothing to shift
        return [text.strip()], ""
    return None


def _cut_inside(cleaned: str, answer: str, n: int) -> bool:
    """Whether cleaning `answer` cut off its end (a "Note: ..." line after [2] ended it there,
    [3] and [4] lost): the cleaned text's numbers are 1..k of 1..n, and from [1] on it opens the
    answer's text from its [1] on."""
    marks, whole = list(_LOOSE_MARK.finditer(cleaned)), list(_LOOSE_MARK.finditer(answer))
    numbers = [int(m.group("number")) for m in marks]
    if not marks or not whole or len(marks) >= n or numbers != list(range(1, len(marks) + 1)):
        return False
    return answer[whole[0].start("number"):].startswith(cleaned[marks[0].start("number"):])


@dataclass
class Chunk:
    document: str
    number: int            # 0, 1, ... within its document
    positions: list[int]   # the segments' positions in the input
    # whether its document is cut as xling cut it before round 24 counted each number's tokens
    # (MARK_TOKENS for every number): a run whose chunks differ gets another identity
    as_before: bool = True

    @property
    def name(self) -> str:
        return f"{self.document}#{self.number}"


def group_documents(document_ids: list[str]) -> dict[str, list[int]]:
    """Positions of each document's segments, documents in order of first appearance."""
    groups: dict[str, list[int]] = {}
    for position, doc in enumerate(document_ids):
        groups.setdefault(doc, []).append(position)
    return groups


def plan_chunks(translator, texts: list[str], document_ids: list[str], src, tgt, shots) -> list[Chunk]:
    """The largest runs of whole segments that fit: answer budget (sum of the segments' own
    budgets plus the numbers) within the cap, prompt + answer within the context window. A
    number's prompt cost is counted by the model's tokenizer ("\n[12] " may take a token more than
    "\n[1] ": digits one by one), at least MARK_TOKENS; the answer's numbers take MARK_TOKENS each
    within the budgets (2.5 x the source's tokens + 20), as translate_documents asks."""
    backend = translator.backend
    window = backend.context_window
    cap = translator.decoding.max_new_tokens_cap
    empty_prompt = backend.prompt_tokens(translator.template.render_translation(src, tgt, "", shots)) + 2
    costs: dict[int, int] = {}

    def number_cost(k: int) -> int:   # "\n[k] " before a segment's text, in the model's tokens
        if k not in costs:
            costs[k] = max(MARK_TOKENS, backend.count_tokens(f"\n[{k}] x") - backend.count_tokens("x"))
        return costs[k]

    chunks = []
    for doc, positions in group_documents(document_ids).items():
        own = [(backend.count_tokens(texts[p]), translator.budget(texts[p]) + MARK_TOKENS) for p in positions]
        runs = _runs(doc, positions, texts, own, number_cost, empty_prompt, window, cap)
        before = _runs(doc, positions, texts, own, lambda k: MARK_TOKENS, empty_prompt, window, cap)
        chunks += [Chunk(doc, number, run, runs == before) for number, run in enumerate(runs)]
    return chunks


def _runs(doc, positions, texts, own, number_cost, empty_prompt, window, cap) -> list[list[int]]:
    """A document's positions cut into runs that fit (see plan_chunks); `own`: each segment's
    tokens and answer budget; `number_cost(k)`: the prompt tokens of the k-th number of a run."""
    runs: list[list[int]] = [[]]
    prompt = answer = numbers = 0
    for place, (position, (tokens, seg_answer)) in enumerate(zip(positions, own), 1):
        blank = is_blank(texts[position])   # (not numbered: an empty one is not sent)

        def seg_prompt(k: int) -> int:
            return tokens + (MARK_TOKENS if blank else number_cost(k))

        if window is not None and empty_prompt + seg_prompt(1) >= window:   # no room for an answer
            raise XlingError(f"document {doc}: its segment {place} of {len(positions)} alone needs "
                             f"{empty_prompt + seg_prompt(1)} tokens of prompt, which leaves no room for an "
                             f"answer in the model's context window of {window}; shorten or split it, or "
                             "use a model with a longer context")
        here = seg_prompt(numbers + 1)
        fits = answer + seg_answer <= cap and (
            window is None or empty_prompt + prompt + here + min(cap, answer + seg_answer) <= window)
        if runs[-1] and not fits:
            runs.append([])
            prompt = answer = numbers = 0
            here = seg_prompt(1)
        runs[-1].append(position)
        prompt, answer, numbers = prompt + here, answer + seg_answer, numbers + (not blank)
    return runs


def checked_inputs(texts, document_ids, src, tgt):
    """The texts, document ids and languages as the Python API may give them (language codes or
    Languages, as every Translator method takes), or one XlingError saying what is wrong."""
    src, tgt = check_direction(src, tgt)
    texts = source_texts(texts)
    if document_ids is None or isinstance(document_ids, (str, bytes, bytearray)):
        raise XlingError(f"document ids: got {type(document_ids).__name__}; pass a list of strings, "
                         "one per segment")
    document_ids = list(document_ids)
    for i, doc in enumerate(document_ids):
        if not isinstance(doc, str):
            raise XlingError(f"document ids: item {i} is {doc!r:.40} ({type(doc).__name__}), not a string")
    if len(texts) != len(document_ids):
        raise XlingError("each segment needs its document id")
    return texts, document_ids, src, tgt


def prepare(translator, texts: list[str], document_ids: list[str], src, tgt):
    """The numbered demonstrations and the chunks of a direction; a segment too long for the
    model even alone is an error here, before anything is generated."""
    texts, document_ids, src, tgt = checked_inputs(texts, document_ids, src, tgt)
    if translator.template is None:
        raise XlingError("document mode needs a prompt template (encoder-decoder models translate "
                         "segments)")
    shots = [(mark([s]), mark([t])) for s, t in translator.demonstrations(src, tgt, texts)]
    places = {position: (place, len(positions)) for positions in group_documents(document_ids).values()
              for place, position in enumerate(positions, 1)}
    for position, (text, doc) in enumerate(zip(texts, document_ids)):
        segment = "its segment {} of {}".format(*places[position])
        # (the text as mark() writes it, unstripped: "\n[2] Jones" follows "[1] " as a line of its own)
        if any(_MARK.match(line) for line in _lines(text)[1:]):
            # its own "[2] Jones, 2021." would read as xling's segment number: no answer realigns
            raise XlingError(f"document {doc}: {segment} has a line starting with a number in "
                             "square brackets, which document mode cannot tell from its own segment numbers; "
                             "translate by segment (--unit segment)")
        check_no_blank_line(translator.template, text, f"document {doc}: {segment}")
    return shots, plan_chunks(translator, texts, document_ids, src, tgt, shots)


def _lines(text: str) -> list[str]:
    """A segment's lines as a model reads them in its prompt (any line break ends a line)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def segment_name(record_id: str, meta: dict) -> str:
    """A segment of a run as its records name it: "segment 3 (document a, segment_id 2)"."""
    said = [f"document {meta['document_id']}"] if "document_id" in meta else []
    said += [f"segment_id {meta['segment_id']}"] if "segment_id" in meta else []
    return f"segment {record_id}" + (f" ({', '.join(said)})" if said else "")


def check_no_blank_line(template, text: str, segment: str) -> None:
    """Refuse a segment holding a blank line under a completion template (`segment` names it:
    its document and place, or its id): the blank line ends a block there, so its answer would
    end at it. Checked as the prompt holds the text, unstripped (a segment that opens with one), and
    as the template's own check (Template.stops_for) reads it. A blank segment is never sent."""
    if template is not None and template.format == "completion" and not is_blank(text) \
            and "\n\n" in text.replace("\r", ""):
        raise XlingError(f"{segment} holds a blank line, which ends an answer under the completion template "
                         f"{template.name!r}; remove the blank line, or use a chat model and template")


def numbered(chunk: "Chunk", texts: list[str]) -> list[int]:
    """The positions of a chunk that are numbered into its prompt: its non-empty segments (an
    empty one is translated as empty, as in segment mode, and a model cannot skip its number)."""
    return [p for p in chunk.positions if not is_blank(texts[p])]


# What a model may write between a segment's number and its text ("[1]: ...", "[2] - ...",
# "[3]：..." as CJK text is typed, "[4]:..."): removed unless the source segment itself starts
# with it (a list item "- ..."). A colon needs no space after it (ASCII or fullwidth), the others
# do. Dashes stay: dialogue opens with one in many languages ("— Да, — сказал он.").
_SEPARATOR = re.compile(r"^(?:([:：])[ \t\u3000]*|([.)\-．）])[ \t\u3000]+)")


def _without_separator(piece: str, source: str) -> tuple[str, list]:
    found = _SEPARATOR.match(piece)
    if found is None:
        return piece, []
    mark, rest = found.group(1) or found.group(2), piece[found.end():]
    if source.lstrip().startswith(mark) or not rest.strip():
        return piece, []
    return rest, [("mark separator", mark)]


def translate_documents(translator, texts: list[str], document_ids: list[str], src, tgt,
                        progress: bool = False) -> tuple[list, dict]:
    """One Translation per segment (in input order) and a summary: documents, chunks, and the
    chunks and segments whose answers could not be split back. `translator`: a Translator made
    with unit='document' (its default templates ask to keep the segment numbers)."""

    if translator.template is not None and translator.unit != "document":   # (its prompt never asks for numbers)
        raise XlingError("translate_documents needs a Translator made with unit='document', whose templates ask to "
                         "keep the [1], [2], ... numbers each answer is split back by; this one translates single "
                         f"segments (template {translator.template.name!r})")
    texts, document_ids, src, tgt = checked_inputs(texts, document_ids, src, tgt)
    shots, chunks = prepare(translator, texts, document_ids, src, tgt)
    clipped = translator.clipped_budgets
    built, asked, wanted = [], [], []
    for chunk in chunks:
        segments = [texts[p] for p in numbered(chunk, texts)]
        if not segments:   # only empty segments: nothing to ask
            continue
        wanted.append(sum(translator.budget(s) + MARK_TOKENS for s in segments))
        built.append(translator.request(mark(segments), src, tgt, shots,
                                        min(translator.decoding.max_new_tokens_cap, wanted[-1])))
        asked.append(chunk)
    if translator.clipped_budgets > clipped:
        _say_clipped(translator, translator.clipped_budgets - clipped, len(built))
    raw, hits = translator.generate([r for r, _ in built], "translating documents" if progress else None,
                                    unit="chunk")
    results: list = [None] * len(texts)
    for chunk in chunks:
        for position in chunk.positions:
            if is_blank(texts[position]):
                results[position] = Translation(source=texts[position], text="", raw="", removed=[],
                                                prompt_hash="", cached=True,
                                                unit={"chunk": chunk.name, "realigned": True})
    failed_chunks = failed_segments = cut_chunks = cut_segments = cut_failed_chunks = cut_failed_segments = 0
    # chunks a server's content filter ended (a larger budget cannot help), counted apart, as segment mode's
    filtered_chunks = filtered_segments = filtered_failed_chunks = filtered_failed_segments = 0
    cut_budgets, cut_by = [], set()
    for chunk, (request, prompt_hash), answer, hit, budget in zip(asked, built, raw, hits, wanted):
        positions = numbered(chunk, texts)
        # the budget ended the answer: its last segment (or more, unnumbered) is cut short, which
        # the numbering cannot show; its segments are marked and counted, as segment mode's are
        cut = was_cut(answer)
        filtered = cut and not budget_cut(answer)
        if filtered:
            filtered_chunks += 1
            filtered_segments += len(positions)
        elif cut:
            cut_chunks += 1
            cut_segments += len(positions)
            cut_budgets.append(request.max_new_tokens)
        # cleaned as the translation of the numbered chunk: a first segment that reads like a
        # preamble ("[1] Translation services:") is a line the source has, so it stays
        source = mark([texts[p] for p in positions])
        whole = clean_output(answer, tgt, source=source)
        split = split_marked(whole.text, len(positions))
        unthought, thoughts = without_reasoning(answer, source)
        if split is None and _cut_inside(whole.text, unthought, len(positions)):
            # the whole answer's cleaning cut inside it (a "Note: ..." line after [2] ended the
            # answer there, [3] and [4] lost): split the answer itself, each piece is cleaned below;
            # never its reasoning, whose own numbered lines ("[1] bridge = 다리") are no translation
            whole = Cleaned(unthought, answer, [("think", t.strip()) for t in thoughts if t.strip()])
            split = split_marked(unthought, len(positions))
        pieces = split[0] if split is not None else None
        if split is not None and split[1]:   # talk before [1]
            whole.removed.append(("preamble", split[1]))
        if pieces is None:
            failed_chunks += 1
            failed_segments += len(positions)
            if filtered:   # ended before its last number: the filter's doing, not the layout's
                filtered_failed_chunks += 1
                filtered_failed_segments += len(positions)
            elif cut:   # ended before its last number: the budget's doing, not the layout's
                cut_failed_chunks += 1
                cut_failed_segments += len(positions)
                # (the cap or the context window set the budget, or the model wrote past its segments' budgets)
                cut_by.add("limit" if request.max_new_tokens < budget else "length")
        for k, position in enumerate(positions):
            unit = {"chunk": chunk.name, "realigned": pieces is not None}
            if cut:
                unit["cut"] = True
                if filtered:
                    unit["content_filter"] = True
            if k == 0:
                unit["chunk_raw"] = answer     # the whole answer, once per chunk
            text, removed = "", []
            if pieces is not None:
                piece, separator = _without_separator(pieces[k], texts[position])
                cleaned = clean_output(piece, tgt, source=texts[position])
                text = cleaned.text
                removed = (whole.removed if k == 0 else []) + separator + cleaned.removed
            results[position] = Translation(source=texts[position], text=text,
                                            raw=pieces[k] if pieces is not None else "",
                                            removed=removed, prompt_hash=prompt_hash, cached=hit,
                                            unit=unit)
    documents = len(group_documents(document_ids))
    summary = {"documents": documents, "chunks": len(chunks), "failed_chunks": failed_chunks,
               "failed_segments": failed_segments, "cut_chunks": cut_chunks, "cut_segments": cut_segments,
               "cut_failed_chunks": cut_failed_chunks, "cut_failed_segments": cut_failed_segments,
               "filtered_chunks": filtered_chunks, "filtered_segments": filtered_segments,
               "filtered_failed_chunks": filtered_failed_chunks, "filtered_failed_segments": filtered_failed_segments,
               "context_window": translator.backend.context_window,
               "answer_cap": translator.decoding.max_new_tokens_cap}
    if progress:
        more = f"; {counted(len(chunks) - documents, 'more chunk')} to fit" if len(chunks) > documents else ""
        print(f"xling: {counted(documents, 'document')} in {counted(len(chunks), 'chunk')}{more} (context window "
              f"{summary['context_window'] or 'unknown'}, answer cap {summary['answer_cap']} tokens); "
              f"realignment failed for {counted(failed_chunks, 'chunk')} ({counted(failed_segments, 'segment')}, "
              "scored as empty)", file=sys.stderr)
    if cut_chunks:
        low, high = min(cut_budgets), max(cut_budgets)
        budgets = f"{low:,}" if low == high else f"{low:,} to {high:,}"
        said = []
        if cut_chunks > cut_failed_chunks:
            said.append(f"{cut_chunks - cut_failed_chunks} split back, their last segments cut short")
        if cut_failed_chunks:
            d = translator.decoding
            why = [f"a larger --max-new-tokens (now {d.max_new_tokens_cap:,}) or context window gives them room"] \
                if "limit" in cut_by else []
            why += [f"the model wrote past {d.length_factor:g} x the source's tokens + {d.length_slack} a segment: "
                    "a repetition loop, or reasoning"] if "length" in cut_by else []
            said.append(f"{cut_failed_chunks} ended before their last number and could not be split back: "
                        f"{scored_empty(cut_failed_segments)} ({'; '.join(why)})")
        print(f"xling: note: {cut_chunks} of {len(asked)} chunk answers stopped at their token budget "
              f"({counted(cut_segments, 'segment')}; a budget of {budgets} tokens a chunk): {'; '.join(said)}",
              file=sys.stderr)
    if filtered_chunks:
        said = [f"{filtered_chunks - filtered_failed_chunks} split back, their last segments cut short"] \
            if filtered_chunks > filtered_failed_chunks else []
        if filtered_failed_chunks:
            said.append(f"{filtered_failed_chunks} ended before their last number and could not be split back: "
                        f"{scored_empty(filtered_failed_segments)}")
        print(f"xling: note: {filtered_chunks} of {len(asked)} chunk answers were stopped by the server's content "
              f"filter (finish_reason content_filter; {counted(filtered_segments, 'segment')}; a larger budget "
              "cannot help): "
              f"{'; '.join(said)}", file=sys.stderr)
    return results, summary


def scored_empty(n: int) -> str:
    return f"its {n} segment is scored as empty" if n == 1 else f"their {n} segments are scored as empty"


def _say_clipped(translator, clipped: int, chunks: int) -> None:
    """Segment mode's note (Translator.requests) for budgets the context window cut, per chunk."""
    print(f"xling: note: {clipped} of {chunks} chunk answer budgets were cut to what the model's context "
          f"window of {translator.backend.context_window:,} tokens leaves after the prompt", file=sys.stderr)
