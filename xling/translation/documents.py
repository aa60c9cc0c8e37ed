"""Document-level translation (`--unit document`): a document's segments go into one prompt,
numbered [1], [2], ... at their line starts; the answer is split back at the numbers.

A document longer than the model can take is cut into the largest runs of whole segments that
fit both the context window (prompt + answer) and the answer cap (--max-new-tokens). An answer
whose numbers are not exactly 1..n in order, or with a number left empty, cannot be split back
safely: its segments are scored as empty and counted as a realignment failure — never shifted
onto other segments.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass

from ..backends.base import was_cut
from ..data.languages import check_direction
from ..data.textio import is_blank
from ..errors import XlingError
from .postprocess import Cleaned, clean_output
from .translator import Translation, source_texts

# A number in square brackets at the start of a line, then the segment's text.
_MARK = re.compile(r"^[ \t]*\[(\d+)\][ \t]*", re.M)
MARK_TOKENS = 4      # what "[12] " and its line break may cost in tokens, per segment


def mark(segments: list[str]) -> str:
    """The numbered text of a chunk: one segment per line, each after its [k]."""
    return "\n".join(f"[{k}] {text}" for k, text in enumerate(segments, 1))


def split_marked(text: str, n: int) -> list[str] | None:
    """The n segments of a numbered answer, or None when its numbers are not exactly 1..n in
    order (missing, repeated, merged or out of order) or a number has no text: a model that put
    two segments' text under [1] and left [2] empty would otherwise have every segment scored
    against its neighbour's reference (the numbered segments are never empty). Text before [1]
    is dropped."""
    marks = list(_MARK.finditer(text))
    if [int(m.group(1)) for m in marks] != list(range(1, n + 1)):
        return None
    ends = [m.start() for m in marks[1:]] + [len(text)]
    pieces = [text[m.end():end].strip() for m, end in zip(marks, ends)]
    return pieces if all(pieces) else None


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
    chunks and segments whose answers could not be split back."""

    texts, document_ids, src, tgt = checked_inputs(texts, document_ids, src, tgt)
    shots, chunks = prepare(translator, texts, document_ids, src, tgt)
    clipped = translator.clipped_budgets
    built, asked = [], []
    for chunk in chunks:
        segments = [texts[p] for p in numbered(chunk, texts)]
        if not segments:   # only empty segments: nothing to ask
            continue
        budget = min(translator.decoding.max_new_tokens_cap,
                     sum(translator.budget(s) + MARK_TOKENS for s in segments))
        built.append(translator.request(mark(segments), src, tgt, shots, budget))
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
    failed_chunks = failed_segments = cut_chunks = cut_segments = 0
    cut_budgets = []
    for chunk, (request, prompt_hash), answer, hit in zip(asked, built, raw, hits):
        positions = numbered(chunk, texts)
        # the budget ended the answer: its last segment (or more, unnumbered) is cut short, which
        # the numbering cannot show; its segments are marked and counted, as segment mode's are
        cut = was_cut(answer)
        cut_chunks += cut
        if cut:
            cut_budgets.append(request.max_new_tokens)
        cut_segments += len(positions) if cut else 0
        # cleaned as the translation of the numbered chunk: a first segment that reads like a
        # preamble ("[1] Translation services:") is a line the source has, so it stays
        whole = clean_output(answer, tgt, source=mark([texts[p] for p in positions]))
        pieces = split_marked(whole.text, len(positions))
        if pieces is None and split_marked(answer, len(positions)) is not None:
            # the whole answer's cleaning cut inside it (a "Note: ..." line after [2] ended the
            # answer there, [3] and [4] lost): split the answer itself, each piece is cleaned below
            whole = Cleaned(answer, answer)
            pieces = split_marked(answer, len(positions))
        first = _MARK.search(whole.text)
        if pieces is not None and first and whole.text[:first.start()].strip():   # talk before [1]
            whole.removed.append(("preamble", whole.text[:first.start()].strip()))
        if pieces is None:
            failed_chunks += 1
            failed_segments += len(positions)
        for k, position in enumerate(positions):
            unit = {"chunk": chunk.name, "realigned": pieces is not None}
            if cut:
                unit["cut"] = True
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
               "context_window": translator.backend.context_window,
               "answer_cap": translator.decoding.max_new_tokens_cap}
    if progress:
        split = f"; {len(chunks) - documents} more chunks to fit" if len(chunks) > documents else ""
        print(f"xling: {documents} document{'s' * (documents != 1)} in {len(chunks)} chunk{'s' * (len(chunks) != 1)}"
              f"{split} (context window "
              f"{summary['context_window'] or 'unknown'}, answer cap {summary['answer_cap']} tokens); "
              f"realignment failed for {failed_chunks} chunks ({failed_segments} segments, scored as empty)",
              file=sys.stderr)
    if cut_chunks:
        low, high = min(cut_budgets), max(cut_budgets)
        budgets = f"{low:,}" if low == high else f"{low:,} to {high:,}"
        print(f"xling: note: {cut_chunks} of {len(asked)} chunk answers stopped at their token budget "
              f"({cut_segments} segments; a budget of {budgets} tokens a chunk): "
              "their last segments are cut short", file=sys.stderr)
    return results, summary


def _say_clipped(translator, clipped: int, chunks: int) -> None:
    """Segment mode's note (Translator.requests) for budgets the context window cut, per chunk."""
    print(f"xling: note: {clipped} of {chunks} chunk answer budgets were cut to what the model's context "
          f"window of {translator.backend.context_window:,} tokens leaves after the prompt", file=sys.stderr)
