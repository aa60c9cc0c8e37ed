"""An MT run's prompts rebuilt from the run folder: its template (unchanged since the run), its
demonstrations drawn again and its model's chat template, each checked against the prompt_hash
the record kept (the hash of exactly what the model saw). The HTML report shows them per segment
(SENTINEL stands for the source, which the page fills in); `xling prompt RUN ID --lang SRC-TGT`
prints one."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..data import hub
from ..data.languages import Direction, resolve
from ..data.parallel import load_parallel, read_pair_file, shots_file_pool
from ..data.textio import is_blank
from ..errors import XlingError
from ..prompts.templates import recorded_template, select_shots
from ..runs.records import MTRun
from .chat_templates import quick_renderer
from .document_prompts import document_prompt_view

# Stands for the source text in a direction's prompt, which the page fills in per segment.
SENTINEL = "\ue000xling:source\ue000"


class PromptRebuilder:
    """Rebuilds the prompts of one run's records: its template, the pool of its demonstrations and
    its model's chat template are each read once, for all its directions."""

    def __init__(self, run: MTRun) -> None:
        self.run = run
        self._data: dict = {}
        self._renderer: tuple[Callable[[list], str] | None, str] | None = None
        self._quick: Callable[[list], str] | None | bool = False     # False: not read yet

    def pool(self, src, tgt):
        return _shot_pool(self.run, src, tgt, self._data)

    def renderer(self) -> tuple[Callable[[list], str] | None, str]:
        if self._renderer is None:
            self._renderer = _chat_renderer(self.run)
        return self._renderer

    def quick_renderer(self) -> Callable[[list], str] | None:
        """The chat template rendered with Jinja2 alone (no transformers import), or None."""
        if self._quick is False:
            model = self.run.model.get("model")
            self._quick = quick_renderer(model, self.run.model.get("revision")) if model else None
        return self._quick  # type: ignore[return-value]

    def template_and_shots(self, template_info: dict, src, tgt, records: list[dict]) -> tuple[Any, list, dict | None]:
        """The run's template as it was and a direction's demonstrations drawn again, or (third)
        the view that says why they cannot be."""
        settings = self.run.settings
        try:
            template = recorded_template(settings.get("template") or template_info["name"], template_info.get("hash"))
        except XlingError as exc:
            return None, [], {"status": str(exc)}
        shots: list = []
        if settings.get("shots"):
            try:
                shots = select_shots(self.pool(src, tgt), settings["shots"], settings.get("seed") or 0,
                                     exclude=[r["source"] for r in records])
            except XlingError as exc:
                return template, [], {"status": f"its {settings['shots']} demonstrations cannot be drawn again "
                                                f"here: {exc}", "template": template.name}
        return template, shots, None

    def view(self, name: str, records: list[dict]) -> tuple[dict, list[bool | None]]:
        return prompt_view(self.run, name, records, self)


def _shot_pool(run: MTRun, src, tgt, loaded: dict | None = None):
    """The demonstrations' pool of a run: its shots file (unchanged since) or its data set's dev
    split (`loaded`: data sets read before, by spec)."""

    settings = run.settings
    source = run.config.get("shots") or {}
    asked = settings.get("data") or run.config["data"]["spec"]
    if asked.split(":")[0].strip().lower() in ("flores_plus", "flores+") and not run.config["data"].get("note"):
        asked = run.config["data"]["spec"]   # (read the local FLORES-200 before round 23, said so)
    key = (asked, settings.get("data_dir"),
           bool(settings.get("keep_bad_sources")), settings.get("reference") or "post-edit")
    loaded = {} if loaded is None else loaded

    def data():
        if key not in loaded:
            loaded[key] = load_parallel(key[0], key[1], keep_bad_sources=key[2], reference=key[3])
        return loaded[key]

    if settings.get("shots_file"):
        pattern = settings["shots_file"]
        path = pattern.replace("{src}", resolve(src).code).replace("{tgt}", resolve(tgt).code)
        direction = f"{resolve(src).code}-{resolve(tgt).code}"
        record = next((f for f in source["files"] if f.get("direction") == direction), {}) \
            if "files" in source else source
        path = record.get("path") or path
        if not Path(path).is_file():
            raise XlingError(f"its shots file {path} is not here")
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        if record.get("sha256") not in (None, digest):
            raise XlingError(f"its shots file {path} changed since the run")
        if "dropped" not in record:   # a run made before pairs of the data were dropped
            return read_pair_file(path)
        return shots_file_pool(path, src, tgt, data())[1]
    pool = data().dev_pool(src, tgt)
    if pool is None:
        raise XlingError(f"{data().spec} has no dev split")
    return pool


def _chat_renderer(run: MTRun) -> tuple[Callable[[list], str] | None, str]:
    """How the run's backend turned chat messages into the model's input (the tokenizer's chat
    template, read from the local files only), or None and why not."""
    model, backend = run.model.get("model"), run.model.get("backend")
    if backend == "http":
        return (lambda messages: json.dumps([list(m) for m in messages], ensure_ascii=False)), \
            "the server applied its own chat template to these messages"
    if backend not in ("hf", "vllm") or not model:
        return None, f"the chat template of the {backend or 'embedded'} model is not read here"
    try:
        from transformers import AutoTokenizer


        local = Path(model).is_dir()
        revision = None if local else run.model.get("revision")
        with hub.quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(model, revision=revision, local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure only means the page cannot check
        return None, f"the tokenizer of {model} could not be read here ({type(exc).__name__})"

    def render(messages: list) -> str:
        from ..backends.base import render_chat
        return render_chat(lambda chat: tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True),
                           messages, model)

    return render, CHAT_TEMPLATE_APPLIED


def prompt_view(run: MTRun, name: str, records: list[dict],
                rebuilder: PromptRebuilder | None = None) -> tuple[dict, list[bool | None]]:
    """What rebuilds each record's prompt in the page — the direction's prompt with SENTINEL for
    the source (template messages or completion text, and the model's input where its chat
    template can be read) — and per record whether the rebuilt prompt hashes to its prompt_hash
    (None: the record had no prompt, or it could not be checked)."""

    rebuilder = rebuilder or PromptRebuilder(run)
    none: list[bool | None] = [None] * len(records)
    settings = run.settings
    src, tgt = Direction.parse(name)
    if settings.get("unit") == "document" or any("chunk" in r for r in records):
        return document_prompt_view(run, name, records, rebuilder)
    template_info = run.config.get("template")
    if template_info is None:    # an encoder-decoder model: the bare source
        seen = f"{resolve(src.code).flores}>{resolve(tgt.code).flores}\n{SENTINEL}"
        return _checked({"status": "an encoder-decoder model: the bare source, with its language codes",
                         "input": seen}, records, lambda s: seen.replace(SENTINEL, s))
    template, shots, refused = rebuilder.template_and_shots(template_info, src, tgt, records)
    if refused is not None:
        return refused, none
    prompt = template.render_translation(src, tgt, SENTINEL, shots)
    view: dict = {"template": template.name, "shots": len(shots)}
    if prompt.messages is None:
        text = prompt.text or ""
        view |= {"status": "a completion prompt", "input": text}
        return _checked(view, records, lambda s: text.replace(SENTINEL, s))
    messages = [list(m) for m in prompt.messages]
    view["messages"] = messages
    quick = rebuilder.quick_renderer() if run.model.get("backend") in ("hf", "vllm") else None
    if quick is not None:   # taken only where every prompt checks: else the tokenizer decides
        found = _rendered(dict(view), records, messages, quick, CHAT_TEMPLATE_APPLIED, local=True)
        if found[0].get("checked") and found[0]["verified"] == found[0]["checked"]:
            return found
    render, how = rebuilder.renderer()
    if render is None:
        view["status"] = f"the template's messages; {how}, so the prompt_hash is not checked"
        return view, none
    return _rendered(view, records, messages, render, how, local=run.model.get("backend") != "http")


CHAT_TEMPLATE_APPLIED = "the model's chat template applied to these messages"


def _rendered(view: dict, records: list[dict], messages: list, render: Callable[[list], str], how: str,
              local: bool) -> tuple[dict, list[bool | None]]:
    """The view of chat messages as `render` turns them into the model's input (`local`: the
    input is made here, not by a server), with each record's prompt checked."""
    view["status"] = how
    if local:
        try:
            shown = render(messages)
        except Exception as exc:  # noqa: BLE001 - a template that fails here fails the check only
            view["status"] = f"the chat template could not be applied here ({type(exc).__name__})"
            return view, [None] * len(records)
        if shown.count(SENTINEL) == 1:
            view["input"] = shown
    return _checked(view, records,
                    lambda s: render([[role, content.replace(SENTINEL, s)] for role, content in messages]))


def _prompt_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _checked(view: dict, records: list[dict], seen: Callable[[str], str]) -> tuple[dict, list[bool | None]]:
    """Whether each record's prompt_hash is the hash of the prompt rebuilt for its source (as
    Translator.request hashes what the model sees); records with no prompt get None. Where the
    page's own filling-in of the source would differ from the model's input, the record keeps
    that input (`view["exact"]`: position -> input)."""
    verified: list[bool | None] = []
    exact = {}
    for i, record in enumerate(records):
        if not record.get("prompt_hash") or not record["source"].strip():
            verified.append(None)
            continue
        if "input" in view:   # the page's own filling-in is what the model saw: nothing to render
            filled = view["input"].replace(SENTINEL, record["source"])
            if _prompt_hash(filled) == record["prompt_hash"]:
                verified.append(True)
                continue
        text = seen(record["source"])
        verified.append(_prompt_hash(text) == record["prompt_hash"])
        if "input" in view and filled != text:
            exact[str(i)] = text
    if exact:
        view["exact"] = exact
    checked = [v for v in verified if v is not None]
    view["verified"] = sum(checked)
    view["checked"] = len(checked)
    return view, verified




def _seq2seq_languages(run: MTRun, name: str) -> tuple[str, str] | None:
    """The language tokens an encoder-decoder run's model got for a direction (its tokenizer read
    from local files only; no weights), in words, and its encoder's text with SOURCE for the
    source; None where the tokenizer cannot be read."""
    model, backend = run.model.get("model"), run.model.get("backend")
    if backend != "hf" or not model:
        return None
    try:
        from transformers import AutoTokenizer

        from ..backends.seq2seq import HFSeq2SeqBackend

        revision = None if Path(model).is_dir() else run.model.get("revision")
        with hub.quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(model, revision=revision, local_files_only=True)
        src, tgt = Direction.parse(name)
        return HFSeq2SeqBackend.on_tokenizer(tokenizer, model).describe_languages(src.code, tgt.code)
    except Exception:  # noqa: BLE001 - any failure: the FLORES codes are shown instead
        return None


def _blank_segment(run: MTRun, name: str, segment_id: str, record: dict) -> str:
    """A segment whose source is blank: no prompt was made for it (a chunk's numbered prompt
    leaves it out), so there is none to show or check; its output is empty."""
    where = f", chunk {record['chunk']}" if "chunk" in record else ""
    left = (f"; its document chunk {record['chunk']}'s numbered prompt leaves it out" if "chunk" in record else "")
    return "\n".join([f"# {run.path}: direction {name}, segment {segment_id}{where}",
                      f"## its source is blank: it was not sent to the model{left}, and its output is empty",
                      "## source", str(record["source"]), "## output", str(record.get("output", ""))]) + "\n"


def segment_prompt(run: MTRun, segment_id: str, direction: str | None = None) -> str:
    """`xling prompt RUN ID [--lang SRC-TGT]` for an MT run: one segment's prompt rebuilt (the
    template's messages, the model's input), whether it hashes to the record's prompt_hash, and
    the model's raw answer and cleaned output."""
    names = [d.name for d in run.directions]
    if direction is not None and direction not in names:   # another spelling of one (EN-ja, eng_Latn-jpn_Jpan)
        try:
            direction = Direction.parse(direction).name
        except XlingError:
            pass
    if direction is not None and direction not in names:
        raise XlingError(f"{run.path} has no direction {direction!r}; it has: {', '.join(names)}")
    found = []
    for name in [direction] if direction else names:
        records = run.run.read_outputs(name)
        found += [(name, i, records) for i, r in enumerate(records) if str(r.get("id")) == segment_id]
    if not found:
        raise XlingError(f"{run.path} has no segment {segment_id!r}" + (f" in {direction}" if direction else ""))
    if len(found) > 1:
        raise XlingError(f"segment {segment_id!r} is in several directions of {run.path} "
                         f"({', '.join(n for n, _, _ in found)}); pick one with --lang")
    name, i, records = found[0]
    record = records[i]
    if is_blank(str(record.get("source", ""))) and not record.get("prompt_hash"):
        return _blank_segment(run, name, segment_id, record)
    view, verified = PromptRebuilder(run).view(name, records)
    chunk = (view.get("chunks") or {}).get(str(record["chunk"])) if "chunk" in record else None
    source = None if chunk is not None else record["source"]

    def filled(text: str) -> str:
        return text if source is None else text.replace(SENTINEL, source)

    lines = [f"# {run.path}: direction {name}, segment {segment_id}" + (f", chunk {record['chunk']}" if chunk else ""),
             f"## {view.get('status', '')}"]
    messages = chunk.get("messages") if chunk is not None else view.get("messages")
    if view.get("template"):   # (a completion prompt is tokenized with the tokenizer's own start token)
        lines.append(f"template {view['template']}, {view.get('shots', 0)} demonstration(s)"
                     + ("" if messages else "; the tokenizer's start token, where it adds one, comes before "
                        "the model's input"))
    if messages:
        lines.append("## messages")
        for role, content in messages:
            lines += [f"[{role}]", filled(content)]
    exact = None if chunk is not None else (view.get("exact") or {}).get(str(i))
    model_input = chunk.get("input") if chunk is not None else view.get("input")
    told = _seq2seq_languages(run, name) if run.config.get("template") is None and chunk is None else None
    if told is not None:   # an encoder-decoder model: the language tokens it got, not the FLORES pair hashed
        lines += ["## the model's input", f"language tokens: {told[0]}",
                  told[1].replace("SOURCE", str(record["source"]), 1)]
    elif exact or model_input:
        lines += ["## the model's input" if run.config.get("template") is not None or chunk is not None
                  else "## the direction (FLORES codes; the model's language tokens could not be read here) "
                  "and the source", exact or filled(str(model_input))]
    check = {True: "the rebuilt prompt hashes to it", False: "the rebuilt prompt does NOT hash to it",
             None: "not checked"}[verified[i]]
    lines.append(f"## prompt_hash {record.get('prompt_hash') or '(none)'}: {check}")
    if isinstance(record.get("chosen"), int) and isinstance(record.get("candidates"), list):   # MBR, rerank
        k, scores = record["chosen"], record.get("candidate_scores") or []
        why = "expected utility" if record.get("select") == "mbr" else "QE score"
        lines += [f"## chosen: candidate {k} of {len(record['candidates'])} ({record.get('select')}; {why} "
                  + (f"{scores[k]:.4f}" if k < len(scores) and isinstance(scores[k], (int, float)) else "n/a")
                  + "; the records hold every candidate and its score)"]
    lines += ["## raw answer", str(record.get("raw", record["output"])), "## output", record["output"]]
    if "chunk" in record:   # as the page: the chunk, whether its answer was split, the whole answer
        lines.append(f"## document chunk {record['chunk']}" + (": its answer could not be split back into segments, "
                     "so this segment's output is empty" if record.get("realigned") is False else ""))
        chunk_raw = next((r["chunk_raw"] for r in records if r.get("chunk") == record["chunk"] and "chunk_raw" in r),
                         None)
        if chunk_raw is not None:
            lines += ["## the chunk's raw answer", str(chunk_raw)]
    return "\n".join(lines) + "\n"
