"""The HTML report renders a model's chat template with Jinja2 alone (no transformers import);
it must give what the tokenizer's own apply_chat_template gives, for the models xling ships and
tests with."""
from __future__ import annotations

import pytest

from xling.reporting.chat_templates import quick_renderer

CHATS = [
    [["user", "Translate into English: 나는 사과를 좋아한다."]],
    [["system", "You translate Korean into Japanese."], ["user", "오늘은 <b>비</b>가 온다 & \"눈\"."]],
    [["system", "Translate."], ["user", "하늘이 맑다."], ["assistant", "The sky is clear."],
     ["user", "저녁을 먹었다.\n\n  두 줄."]],
]


def _models(tiny_causal):
    models = [str(tiny_causal)]
    try:
        from xling.backends.embedded import embedded_model_dir
        models.append(str(embedded_model_dir()))
    except Exception:  # noqa: BLE001 - the embedded model's files are made on first use
        pass
    return models


def test_quick_rendering_equals_the_tokenizers(tiny_causal):
    from transformers import AutoTokenizer

    for model in _models(tiny_causal):
        render = quick_renderer(model)
        tokenizer = AutoTokenizer.from_pretrained(model, local_files_only=True)
        if tokenizer.chat_template is None:     # the embedded model: completion prompts only
            assert render is None, model
            continue
        assert render is not None, model
        for messages in CHATS:
            expected = tokenizer.apply_chat_template([{"role": r, "content": c} for r, c in messages],
                                                     tokenize=False, add_generation_prompt=True)
            assert render(messages) == expected, model


def test_no_template_no_quick_rendering(tmp_path):
    (tmp_path / "tokenizer_config.json").write_text('{"bos_token": "<s>"}', encoding="utf-8")
    assert quick_renderer(str(tmp_path)) is None
    assert quick_renderer(str(tmp_path / "absent")) is None


# A chat template in the manner of Gemma 1 and 2: no system turn (written here for the test).
NO_SYSTEM = ("{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}"
             "{{ raise_exception('System role not supported') }}{% endif %}"
             "<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
             "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")


def test_a_system_turn_a_template_refuses_goes_into_the_first_user_turn(tiny_causal, tmp_path):
    """A judge or template with a system message on a Gemma-2-style model was a Jinja traceback
    (under `eval mt`, after the whole translation)."""
    import shutil

    from transformers import AutoTokenizer

    from xling.backends.base import Prompt
    from xling.errors import XlingError
    from xling.translation.translator import Translator

    folder = tmp_path / "no-system"
    shutil.copytree(tiny_causal, folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.chat_template = NO_SYSTEM
    tokenizer.save_pretrained(folder)
    backend = Translator(str(folder), cache=False).backend
    messages = (("system", "You translate Korean into Japanese."), ("user", "물."))
    rendered = backend.render(Prompt(messages=messages))
    assert rendered == "<s><|user|>\nYou translate Korean into Japanese.\n\n물.\n<|assistant|>\n"
    assert quick_renderer(str(folder))([list(m) for m in messages]) == rendered   # the page's too
    with pytest.raises(XlingError, match="refused the prompt \\(System role not supported\\)"):
        backend.render(Prompt(messages=(("system", "Translate."),)))   # no user turn to carry it
