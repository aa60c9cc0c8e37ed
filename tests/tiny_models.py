"""Tiny real models for tests: a byte-level BPE tokenizer trained on our own sentences, a
Llama-shaped causal LM (briefly trained so that it ends lines) and an M2M100/NLLB-shaped
encoder-decoder with FLORES language tokens. Everything is built locally in seconds."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

# Our own fixture sentences (written for these tests).
PAIRS = [
    ("나는 사과를 좋아한다.", "I like apples.", "私はりんごが好きです。"),
    ("오늘은 비가 온다.", "It is raining today.", "今日は雨が降っています。"),
    ("고양이가 창문 옆에서 잔다.", "The cat sleeps by the window.", "猫が窓のそばで寝ています。"),
    ("우리는 내일 시장에 간다.", "We go to the market tomorrow.", "私たちは明日市場に行きます。"),
    ("이 책은 아주 재미있다.", "This book is very interesting.", "この本はとても面白いです。"),
    ("그는 매일 아침 달린다.", "He runs every morning.", "彼は毎朝走ります。"),
    ("물이 너무 차갑다.", "The water is too cold.", "水が冷たすぎます。"),
    ("기차가 늦게 도착했다.", "The train arrived late.", "電車が遅れて到着しました。"),
    ("저는 학생입니다.", "I am a student.", "私は学生です。"),
    ("바다가 조용하다.", "The sea is calm.", "海は静かです。"),
]
LANG_TOKENS = ["eng_Latn", "kor_Hang", "jpn_Jpan"]
SPECIALS = ["<pad>", "<s>", "</s>", "<unk>"]
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")


def corpus_lines() -> list[str]:
    lines = []
    for ko, en, ja in PAIRS:
        lines += [f"Korean: {ko}\nEnglish: {en}\n", f"Korean: {ko}\nJapanese: {ja}\n",
                  f"English: {en}\nKorean: {ko}\n", ko, en, ja]
    return lines


def build_tokenizer(folder: Path, with_chat_template: bool = True, lang_tokens: bool = False):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = SPECIALS + (LANG_TOKENS if lang_tokens else [])
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus_lines(), trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                   pad_token="<pad>", unk_token="<unk>",
                                   model_input_names=["input_ids", "attention_mask"])
    if lang_tokens:
        fast.add_special_tokens({"additional_special_tokens": LANG_TOKENS})
    if with_chat_template:
        fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(folder)
    return fast


def build_causal(folder: Path, train_steps: int = 80, with_chat_template: bool = True) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = build_tokenizer(folder, with_chat_template)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=48, intermediate_size=96,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=2048, bos_token_id=tok.bos_token_id,
                         eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    model = LlamaForCausalLM(config)
    # A few steps on the fixture lines teach it the "Korean: ...\nEnglish: ...\n" shape, so that
    # it really emits line ends (what stop-at-newline must catch).
    texts = [line for line in corpus_lines() if "\n" in line]
    batch = tok([tok.bos_token + t for t in texts], return_tensors="pt", padding=True,
                add_special_tokens=False)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    optim = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(train_steps):
        loss = model(**batch, labels=labels).loss
        loss.backward()
        optim.step()
        optim.zero_grad()
    model.eval()
    model.save_pretrained(folder)
    return folder


def build_seq2seq(folder: Path) -> Path:
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration

    tok = build_tokenizer(folder, with_chat_template=False, lang_tokens=True)
    torch.manual_seed(0)
    config = M2M100Config(vocab_size=len(tok), d_model=32, encoder_layers=1, decoder_layers=1,
                          encoder_attention_heads=2, decoder_attention_heads=2,
                          encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=256,
                          pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                          eos_token_id=tok.eos_token_id, decoder_start_token_id=tok.eos_token_id)
    M2M100ForConditionalGeneration(config).save_pretrained(folder)
    return folder


def build_comet(folder: Path) -> Path:
    """A tiny COMET regression checkpoint in COMET's own layout:
    folder/hparams.yaml and folder/checkpoints/model.ckpt, its encoder a tiny BERT (WordPiece
    tokenizer trained on our sentences) saved in folder/encoder."""
    import torch
    from comet.models import RegressionMetric

    encoder_dir = _tiny_bert_encoder(folder)
    hparams = dict(encoder_model="BERT", pretrained_model=str(encoder_dir), hidden_sizes=[16],
                   layer="mix", pool="avg", dropout=0.0, batch_size=2)
    torch.manual_seed(0)
    return _save_comet(folder, RegressionMetric(**hparams))

def build_comet_variant(folder: Path, encoder: str = "BERT", **hparams) -> Path:
    """A tiny COMET regression checkpoint (or, given input_segments, a unified one without
    word-level tags) with the given hyper-parameters (layer mix or one layer, softmax or
    sparsemax, layer norm, pooling), on a tiny BERT or XLM-R encoder; the
    scalar-mix weights are drawn at random so that the mix matters."""
    import torch
    from comet.models import RegressionMetric, UnifiedMetric

    encoder_dir = _tiny_bert_encoder(folder) if encoder == "BERT" else \
        _tiny_xlmr_encoder(folder, xl=encoder == "XLM-RoBERTa-XL")
    torch.manual_seed(2)
    if hparams.pop("xcomet", False):
        from comet.models import XCOMETMetric as cls
    else:
        cls = UnifiedMetric if "input_segments" in hparams else RegressionMetric   # CometKiwi-shaped
    metric = cls(**{"encoder_model": encoder, "pretrained_model": str(encoder_dir),
                    "hidden_sizes": [16, 8], "dropout": 0.0, "batch_size": 2, **hparams})
    with torch.no_grad():
        if metric.layerwise_attention is not None:
            for parameter in metric.layerwise_attention.scalar_parameters:
                parameter.uniform_(-1.5, 1.5)
            metric.layerwise_attention.gamma.fill_(1.3)
        if getattr(metric, "hidden2tag", None) is not None:   # tags that vary: some error spans
            metric.hidden2tag.weight.normal_(0, 1.0)
            metric.hidden2tag.weight[0].zero_()          # "O" at 0: the errors win at random
            metric.hidden2tag.bias.fill_(-1.0)
            metric.hidden2tag.bias[0] = 0.0
    return _save_comet(folder, metric)


def _tiny_xlmr_encoder(folder: Path, xl: bool = False, corpus: list[str] | None = None,
                       vocab_size: int = 300, hidden: int = 32, layers: int = 2, heads: int = 2,
                       ff: int = 64, positions: int = 130) -> Path:
    """A tiny XLM-R, or XLM-R-XL (pre-layer-norm) with xl, in folder/encoder: a
    SentencePiece-style unigram tokenizer trained on `corpus` (our sentences by default). The
    COMET benchmark builds an XLM-R-base shape with it."""
    import torch
    import transformers
    from tokenizers import SentencePieceUnigramTokenizer
    from tokenizers.processors import TemplateProcessing
    from transformers import XLMRobertaTokenizerFast

    config_class = transformers.XLMRobertaXLConfig if xl else transformers.XLMRobertaConfig
    model_class = transformers.XLMRobertaXLModel if xl else transformers.XLMRobertaModel
    encoder_dir = folder / "encoder"
    encoder_dir.mkdir(parents=True)
    unigram = SentencePieceUnigramTokenizer()
    unigram.train_from_iterator(corpus or corpus_lines(), vocab_size=vocab_size,
                                special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"], unk_token="<unk>")
    tokenizer = XLMRobertaTokenizerFast(tokenizer_object=unigram, bos_token="<s>", eos_token="</s>",
                                        sep_token="</s>", cls_token="<s>", unk_token="<unk>",
                                        pad_token="<pad>", mask_token="<mask>")
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in ("<s>", "</s>")}
    tokenizer.backend_tokenizer.post_processor = TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=list(ids.items()))
    tokenizer.save_pretrained(encoder_dir)
    torch.manual_seed(0)
    model_class(config_class(vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
                             num_attention_heads=heads, intermediate_size=ff, max_position_embeddings=positions,
                             pad_token_id=tokenizer.pad_token_id, bos_token_id=0, eos_token_id=2),
                add_pooling_layer=False).save_pretrained(encoder_dir)
    return encoder_dir


def _tiny_bert_encoder(folder: Path) -> Path:
    """A tiny BERT (WordPiece trained on our sentences) in folder/encoder, for COMET models."""
    import torch
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    encoder_dir = folder / "encoder"
    encoder_dir.mkdir(parents=True)
    wordpiece = BertWordPieceTokenizer(lowercase=False)
    wordpiece.train_from_iterator(corpus_lines(), vocab_size=400, min_frequency=1)
    wordpiece.save_model(str(encoder_dir))
    tokenizer = BertTokenizerFast(str(encoder_dir / "vocab.txt"), do_lower_case=False)
    tokenizer.save_pretrained(encoder_dir)
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                         num_attention_heads=2, intermediate_size=64,
                         max_position_embeddings=128), add_pooling_layer=False).save_pretrained(encoder_dir)
    return encoder_dir


def _save_comet(folder: Path, model) -> Path:
    import pytorch_lightning
    import torch
    import yaml

    (folder / "checkpoints").mkdir()
    ckpt = folder / "checkpoints" / "model.ckpt"
    torch.save({"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams),
                "pytorch-lightning_version": pytorch_lightning.__version__}, ckpt)
    (folder / "hparams.yaml").write_text(yaml.safe_dump(dict(model.hparams)), encoding="utf-8")
    return ckpt


def build_comet_unified(folder: Path, with_reference: bool = True) -> Path:
    """A tiny COMET unified metric in COMET's layout: with_reference=False is CometKiwi-shaped
    (source + translation), True is xCOMET-shaped (word-level error tags, scores with or
    without a reference)."""
    import torch
    from comet.models import UnifiedMetric

    encoder_dir = _tiny_bert_encoder(folder)
    torch.manual_seed(1)
    model = UnifiedMetric(encoder_model="BERT", pretrained_model=str(encoder_dir), hidden_sizes=[16],
                          word_layer=2, sent_layer="mix", layer_transformation="softmax", dropout=0.0,
                          batch_size=2, input_segments=["mt", "src", "ref"] if with_reference else ["mt", "src"],
                          word_level_training=with_reference)
    return _save_comet(folder, model)


def build_metricx(folder: Path) -> Path:
    """A MetricX-shaped model: random mT5 weights (mT5's vocabulary size, since MetricX reads
    the logit of token 250089) with our own small tokenizer saved beside them."""
    import torch
    from mbrs.metrics.metricx import MT5ForRegression
    from transformers import MT5Config

    build_tokenizer(folder, with_chat_template=False)
    torch.manual_seed(0)
    config = MT5Config(vocab_size=250112, d_model=8, d_kv=4, d_ff=16, num_layers=1,
                       num_decoder_layers=1, num_heads=2, pad_token_id=0, eos_token_id=2,
                       decoder_start_token_id=0, tie_word_embeddings=False)
    model = MT5ForRegression(config)
    with torch.no_grad():   # spread the one logit MetricX reads over its 0-25 range
        model.lm_head.weight[250089].normal_(0, 40)
    # mbrs's MT5ForRegression shares its embeddings without declaring it, which safetensors
    # refuses; the released MetricX checkpoints are PyTorch .bin files too.
    model.save_pretrained(folder, safe_serialization=False)
    return folder


@contextmanager
def device_holding(model, max_rows: int, decode_only: bool = False):
    """Within the block, `model` acts like a device that holds at most `max_rows` rows: a larger
    forward pass raises torch's out-of-memory error (only in one-token decoding steps with
    `decode_only`, so that it strikes a batch already running)."""
    import torch

    original = model.forward

    def forward(*args, **kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is not None and ids.shape[0] > max_rows and (not decode_only or ids.shape[1] == 1):
            raise torch.OutOfMemoryError("simulated: CUDA out of memory")
        return original(*args, **kwargs)

    model.forward = forward
    try:
        yield
    finally:
        del model.forward
