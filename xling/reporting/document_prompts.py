"""The prompts of a run translated by document (`--unit document`, translation/documents.py),
rebuilt for the HTML report and checked against the records' prompt_hash (issue 33).

Each chunk of a document was translated in one prompt: its segments numbered by
`documents.mark`, after the demonstrations (each a one-segment numbered pair), in the run's
template. The records say which chunk they belong to (`chunk`, the chunk's name); the chunk's
segments are the records of that name, in record order — the chunking itself (which needs the
model's tokenizer and context window) is not planned again. Every record of a chunk carries the
hash of that one prompt, as `Translator.request` computed it: the first 16 hex digits of the
SHA-256 of what the model saw (the chat template applied to the messages, or the completion
text; for a server, the messages as JSON).
"""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from ..data.languages import Direction
from ..data.textio import is_blank
from ..runs.records import MTRun
from ..translation.documents import mark

if TYPE_CHECKING:   # mt_prompts imports this module: a module-level import back would be a circle
    from .mt_prompts import PromptRebuilder


def document_prompt_view(run: MTRun, name: str, records: list[dict],
                         rebuilder: PromptRebuilder) -> tuple[dict, list[bool | None]]:
    """What shows each chunk's exact prompt in the page, and per record whether that prompt
    hashes to its prompt_hash (None: no prompt_hash, or it could not be checked) — the contract of
    `mt_prompts.prompt_view`, for a direction translated by document.

    The view: {"status": str, "unit": "document", "template": name, "shots": n,
    "chunks": {chunk name: {"input": the model's input} or {"messages": [[role, content], ...]},
    plus "hash": the rebuilt prompt's hash where it was computed}, "verified": n, "checked": n}
    ("input" where the model's input is known: a completion prompt, or the chat template read
    from the model's files; "messages" for a server, which applied its own chat template and was
    sent, and hashed, these messages; or where the chat template cannot be read here). Where the
    prompts cannot be rebuilt the view holds a "status" only (and "template" when known), and
    every record gets None. `rebuilder`: the run's `mt_prompts.PromptRebuilder` (its pool() and
    renderer(), read once for all the run's directions)."""

    none: list[bool | None] = [None] * len(records)
    src, tgt = Direction.parse(name)
    chunks: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        if "chunk" not in record:
            return {"status": f"record {i + 1} names no document chunk: not a direction translated by "
                              "document"}, none
        chunks.setdefault(str(record["chunk"]), []).append(i)
    template_info = run.config.get("template")
    if template_info is None:
        return {"status": "no prompt template (document mode needs one): the prompts cannot be rebuilt"}, none
    template, pairs, refused = rebuilder.template_and_shots(template_info, src, tgt, records)
    if refused is not None:
        return refused, none
    # the direction's demonstrations, each a numbered one-segment pair (documents.prepare)
    shots = [(mark([s]), mark([t])) for s, t in pairs]
    view: dict = {"unit": "document", "template": template.name, "shots": len(shots)}
    render, how = (None, "") if template.format == "completion" else rebuilder.renderer()
    server = run.model.get("backend") == "http"
    shown: dict[str, dict] = {}
    verified = list(none)
    for chunk, positions in chunks.items():
        sources = [records[i]["source"] for i in positions]
        if all(is_blank(s) for s in sources):
            continue   # only empty segments: no prompt was sent (documents.numbered)
        # empty segments (white space, or a zero-width space or BOM alone: is_blank, as
        # documents.numbered) are not numbered (runs made before 2026-12-05 numbered them: their
        # chunks with an empty segment show a prompt_hash that does not match)
        prompt = template.render_translation(src, tgt, mark([s for s in sources if not is_blank(s)]), shots)
        if prompt.messages is None:
            seen: str | None = prompt.text or ""
            shown[chunk] = {"input": seen}
        else:
            messages = [list(m) for m in prompt.messages]
            seen = None
            if render is not None:
                try:
                    seen = render(messages)
                except Exception as exc:  # noqa: BLE001 - a template that fails here fails the check only
                    view["status"] = f"the chat template could not be applied here ({type(exc).__name__})"
                    return view, none
            shown[chunk] = {"messages": messages} if seen is None or server else {"input": seen}
        if seen is None:
            continue
        digest = hashlib.sha256(seen.encode()).hexdigest()[:16]
        shown[chunk]["hash"] = digest
        for i in positions:
            if records[i].get("prompt_hash"):
                verified[i] = records[i]["prompt_hash"] == digest
    if template.format == "completion":
        view["status"] = "translated by document: a completion prompt per chunk of numbered segments"
    elif render is None:
        view["status"] = (f"translated by document: the template's messages per chunk of numbered segments; "
                          f"{how}, so the prompt_hash is not checked")
    else:
        view["status"] = f"translated by document: per chunk of numbered segments, {how}"
    view["chunks"] = shown
    checked = [v for v in verified if v is not None]
    view["verified"] = sum(checked)
    view["checked"] = len(checked)
    return view, verified
