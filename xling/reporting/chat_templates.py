"""A model's chat template rendered with Jinja2 alone, as transformers renders it (a sandboxed
environment with trim_blocks, lstrip_blocks and loop controls; `raise_exception`, `strftime_now`,
a `tojson` that keeps non-ASCII text; the tokenizer's special tokens as variables), without
importing transformers or torch. The HTML report takes its result only where it hashes to the
prompt_hash the run recorded, and asks the tokenizer's own apply_chat_template otherwise."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

SPECIAL_TOKENS = ("bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token")


def _model_file(model: str, name: str, revision: str | None) -> Path | None:
    """A file of a local model folder, or of a hub model already in the local cache."""
    if Path(model).is_dir():
        path = Path(model) / name
        return path if path.is_file() else None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    try:
        found = try_to_load_from_cache(model, name, revision=revision)
    except Exception:  # noqa: BLE001 - not a hub name (a missing folder, say): nothing to read
        return None
    return Path(found) if isinstance(found, str) else None


def read_chat_template(model: str, revision: str | None = None) -> tuple[str, dict] | None:
    """The model's default chat template and the tokenizer's special tokens, or None."""
    config_path = _model_file(model, "tokenizer_config.json", revision)
    try:
        config = json.loads(config_path.read_text(encoding="utf-8")) if config_path else {}
    except (OSError, ValueError):
        return None
    jinja_path = _model_file(model, "chat_template.jinja", revision)
    template = jinja_path.read_text(encoding="utf-8") if jinja_path else config.get("chat_template")
    if isinstance(template, list):     # named templates: the default one
        template = next((t.get("template") for t in template if t.get("name") == "default"), None)
    if not isinstance(template, str):
        return None
    tokens = {}
    for key in SPECIAL_TOKENS:
        value = config.get(key)
        if isinstance(value, dict):
            value = value.get("content")
        if isinstance(value, str):
            tokens[key] = value
    return template, tokens


def quick_renderer(model: str, revision: str | None = None) -> Callable[[list], str] | None:
    """messages ([role, content] pairs) -> the model's input with the generation prompt, or None
    where the template cannot be read or compiled here."""
    found = read_chat_template(model, revision)
    if found is None:
        return None
    template_text, tokens = found
    from jinja2.exceptions import TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise TemplateError(message)

    def tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    try:
        template = env.from_string(template_text)
    except TemplateError:
        return None

    def render(messages: list) -> str:
        from ..backends.base import render_chat
        return render_chat(lambda chat: template.render(messages=chat, add_generation_prompt=True, tools=None,
                                                        documents=None, **tokens), messages, model)

    return render
