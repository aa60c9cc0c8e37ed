"""The HTML report renders a model's chat template with Jinja2 alone (no transformers import);
it must give what the tokenizer's own apply_chat_template gives, for the models xling ships and
tests with."""
from __future__ import annotations

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
