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
    """A tiny COMET regression checkpoint (COMET-22-shaped, on a tiny BERT)."""
    return build_comet_variant(folder, "BERT", hidden_sizes=[16], seed=0)


def build_comet_unified(folder: Path, with_reference: bool = True) -> Path:
    """A tiny COMET unified metric: with_reference=False is CometKiwi-shaped (source +
    translation), True is xCOMET-shaped (word-level error tags, scores with or without a
    reference)."""
    return build_comet_variant(folder, "BERT", hidden_sizes=[16], word_layer=2, sent_layer="mix",
                               layer_transformation="softmax", seed=1,
                               input_segments=["mt", "src", "ref"] if with_reference else ["mt", "src"],
                               word_level_training=with_reference)


def build_comet_variant(folder: Path, encoder: str = "BERT", xcomet: bool = False, seed: int = 2,
                        hub_cache: Path | None = None, referenceless: bool = False,
                        encoder_sizes: dict | None = None, **hparams) -> Path:
    """A tiny random checkpoint in unbabel-comet's published layout (folder/hparams.yaml and
    folder/checkpoints/model.ckpt: a Lightning-style dict with `state_dict` and
    `hyper_parameters`), written here without unbabel-comet: COMET's module names
    (`encoder.model.*`, `layerwise_attention.*`, `estimator.ff.{0,3,..}`, `hidden2tag`).

    A regression metric by default (COMET-QE's referenceless one with referenceless); given
    input_segments a unified one (word-level tags with word_level_training), with xcomet an
    XCOMETMetric. The encoder (BERT, XLM-RoBERTa,
    XLM-RoBERTa-XL, MiniLM, RemBERT) is saved in folder/encoder; MiniLM's tokenizer is fetched
    by COMET under the hub name xlm-roberta-base, so it is put in `hub_cache` under that name.
    The layer-mix weights and error tags are drawn at random so that they matter.
    `encoder_sizes` (XLM-R only) sizes the encoder: the COMET benchmark builds XLM-R-base's shape."""
    import torch
    import yaml
    from torch import nn

    encoder_dir, model = _tiny_comet_encoder(folder, encoder, hub_cache, **(encoder_sizes or {}))
    kind = "xcomet_metric" if xcomet else "unified_metric" if "input_segments" in hparams else \
        "referenceless_regression_metric" if referenceless else "regression_metric"
    hparams = {"class_identifier": kind, "encoder_model": encoder, "pretrained_model": str(encoder_dir),
               "hidden_sizes": [16, 8], "dropout": 0.0, "batch_size": 2, **hparams}
    if xcomet:
        hparams.setdefault("error_labels", ["minor", "major", "critical"])
    torch.manual_seed(seed)
    hidden, layers = model.config.hidden_size, model.config.num_hidden_layers
    state = {f"encoder.model.{k}": v for k, v in model.state_dict().items()}
    regression = kind.endswith("regression_metric")
    if hparams.get("layer" if regression else "sent_layer", "mix") == "mix":
        for i in range(layers + 1):
            state[f"layerwise_attention.scalar_parameters.{i}"] = torch.empty(1).uniform_(-1.5, 1.5)
        state["layerwise_attention.gamma"] = torch.tensor([1.3])
    features = 4 if referenceless else 6 if regression else 1      # COMET's feature vectors
    sizes = [hidden * features, *hparams["hidden_sizes"], 1]
    for n, (inputs, outputs) in enumerate(zip(sizes, sizes[1:])):
        linear = nn.Linear(inputs, outputs)
        state[f"estimator.ff.{3 * n}.weight"], state[f"estimator.ff.{3 * n}.bias"] = linear.weight, linear.bias
    if xcomet or hparams.get("word_level_training"):
        labels = len(hparams.get("error_labels", ["minor", "major"])) + 1
        weight = torch.randn(labels, hidden) * 0.25    # about half the subwords tagged "O"
        weight[0] = 0                                  # "O" at 0, the errors around it
        state["hidden2tag.weight"] = weight
        state["hidden2tag.bias"] = torch.tensor([0.0] + [-1.0] * (labels - 1))
    state = {k: v.detach().clone() for k, v in state.items()}
    (folder / "checkpoints").mkdir()
    ckpt = folder / "checkpoints" / "model.ckpt"
    torch.save({"state_dict": state, "hyper_parameters": hparams,
                "pytorch-lightning_version": "2.6.6", "epoch": 0, "global_step": 0}, ckpt)
    (folder / "hparams.yaml").write_text(yaml.safe_dump(hparams), encoding="utf-8")
    return ckpt


def _tiny_comet_encoder(folder: Path, encoder: str, hub_cache: Path | None, **sizes):
    """(folder, model) of a tiny encoder as COMET builds it for `encoder`."""

    if encoder == "BERT":
        return _tiny_bert_encoder(folder)
    if encoder in ("XLM-RoBERTa", "XLM-RoBERTa-XL"):
        return _tiny_xlmr_encoder(folder, xl=encoder == "XLM-RoBERTa-XL", **sizes)
    if encoder == "MiniLM":      # a BERT (pooler kept, as COMET builds it) read with XLM-R's tokenizer
        tokenizer_dir, _ = _tiny_xlmr_encoder(folder / "xlmr")
        if hub_cache is not None:
            put_in_hub_cache(hub_cache, "xlm-roberta-base", tokenizer_dir)
        return _tiny_bert_encoder(folder, vocab_size=_vocab_size(tokenizer_dir), pooler=True)
    if encoder == "RemBERT":
        return _tiny_rembert_encoder(folder)
    raise ValueError(f"no tiny {encoder} encoder")


def _vocab_size(tokenizer_dir: Path) -> int:
    from transformers import AutoTokenizer

    return len(AutoTokenizer.from_pretrained(tokenizer_dir))


def put_in_hub_cache(cache: Path, name: str, source: Path) -> Path:
    """Copy a local folder into a Hugging Face hub cache as the snapshot of repo `name`, so
    that from_pretrained(name) finds it offline."""
    import shutil

    repo = cache / f"models--{name.replace('/', '--')}"
    revision = "0" * 40
    snapshot = repo / "snapshots" / revision
    if not snapshot.exists():
        shutil.copytree(source, snapshot)
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "refs" / "main").write_text(revision)
    return snapshot


def _tiny_xlmr_encoder(folder: Path, xl: bool = False, corpus: list[str] | None = None,
                       vocab_size: int = 300, hidden: int = 32, layers: int = 2, heads: int = 2,
                       ff: int = 64, positions: int = 130):
    """(folder/encoder, model): a tiny XLM-R, or XLM-R-XL (pre-layer-norm) with xl, and a
    SentencePiece-style unigram tokenizer trained on `corpus` (our sentences by default). The
    COMET benchmark builds an XLM-R-base shape with it."""
    import torch
    import transformers
    from transformers import XLMRobertaTokenizerFast

    config_class = transformers.XLMRobertaXLConfig if xl else transformers.XLMRobertaConfig
    model_class = transformers.XLMRobertaXLModel if xl else transformers.XLMRobertaModel
    encoder_dir = folder / "encoder"
    encoder_dir.mkdir(parents=True)
    unigram = _unigram(corpus, vocab_size, ["<s>", "<pad>", "</s>", "<unk>", "<mask>"], "<unk>")
    tokenizer = XLMRobertaTokenizerFast(tokenizer_object=unigram, bos_token="<s>", eos_token="</s>",
                                        sep_token="</s>", cls_token="<s>", unk_token="<unk>",
                                        pad_token="<pad>", mask_token="<mask>")
    _wrap(tokenizer, "<s>", "</s>", separators=2)
    tokenizer.save_pretrained(encoder_dir)
    torch.manual_seed(0)
    model = model_class(config_class(vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
                                     num_attention_heads=heads, intermediate_size=ff,
                                     max_position_embeddings=positions, pad_token_id=tokenizer.pad_token_id,
                                     bos_token_id=0, eos_token_id=2), add_pooling_layer=False)
    model.save_pretrained(encoder_dir)
    return encoder_dir, model


def _tiny_rembert_encoder(folder: Path):
    """(folder/encoder, model): a tiny RemBERT (its embeddings narrower than its layers, as
    RemBERT's are) with a unigram tokenizer in RemBERT's [CLS] A [SEP] B [SEP] form."""
    import torch
    from transformers import RemBertConfig, RemBertModel, RemBertTokenizerFast

    encoder_dir = folder / "encoder"
    encoder_dir.mkdir(parents=True)
    unigram = _unigram(None, 300, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], "[UNK]")
    tokenizer = RemBertTokenizerFast(tokenizer_object=unigram, bos_token="[CLS]", eos_token="[SEP]",
                                     sep_token="[SEP]", cls_token="[CLS]", unk_token="[UNK]",
                                     pad_token="[PAD]", mask_token="[MASK]")
    _wrap(tokenizer, "[CLS]", "[SEP]", separators=1)
    tokenizer.save_pretrained(encoder_dir)
    torch.manual_seed(0)
    model = RemBertModel(RemBertConfig(vocab_size=len(tokenizer), hidden_size=32, input_embedding_size=16,
                                       output_embedding_size=16, num_hidden_layers=2, num_attention_heads=2,
                                       intermediate_size=64, max_position_embeddings=128,
                                       pad_token_id=tokenizer.pad_token_id))
    model.save_pretrained(encoder_dir)
    return encoder_dir, model


def _unigram(corpus, vocab_size: int, specials: list[str], unk: str):
    """A unigram (SentencePiece-style) tokenizer trained on `corpus` (our sentences by default)."""
    from tokenizers import SentencePieceUnigramTokenizer

    unigram = SentencePieceUnigramTokenizer()
    unigram.train_from_iterator(corpus or corpus_lines(), vocab_size=vocab_size, special_tokens=specials,
                                unk_token=unk)
    return unigram


def _wrap(tokenizer, first: str, last: str, separators: int):
    """Wrap a text as `first A last`, a pair with `separators` copies of `last` between them."""
    from tokenizers.processors import TemplateProcessing

    ids = [(t, tokenizer.convert_tokens_to_ids(t)) for t in (first, last)]
    between = " ".join([last] * separators)
    tokenizer.backend_tokenizer.post_processor = TemplateProcessing(
        single=f"{first} $A {last}", pair=f"{first} $A {between} $B {last}", special_tokens=ids)


def _tiny_bert_encoder(folder: Path, vocab_size: int | None = None, pooler: bool = False):
    """(folder/encoder, model): a tiny BERT (WordPiece trained on our sentences); with
    vocab_size, a BERT of that vocabulary without a tokenizer of its own (MiniLM's case)."""
    import torch
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    encoder_dir = folder / "encoder"
    encoder_dir.mkdir(parents=True)
    if vocab_size is None:
        wordpiece = BertWordPieceTokenizer(lowercase=False)
        wordpiece.train_from_iterator(corpus_lines(), vocab_size=400, min_frequency=1)
        wordpiece.save_model(str(encoder_dir))
        tokenizer = BertTokenizerFast(str(encoder_dir / "vocab.txt"), do_lower_case=False)
        tokenizer.save_pretrained(encoder_dir)
        vocab_size = tokenizer.vocab_size
    torch.manual_seed(0)
    model = BertModel(BertConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2,
                                 num_attention_heads=2, intermediate_size=64, max_position_embeddings=128),
                      add_pooling_layer=pooler)
    model.save_pretrained(encoder_dir)
    return encoder_dir, model


def build_metricx(folder: Path) -> Path:
    """A MetricX-shaped model: random mT5 weights (mT5's vocabulary size, since MetricX reads
    the logit of token 250089) with our own small tokenizer saved beside them, under the
    names MetricX's own MT5ForRegression uses (those of MT5ForConditionalGeneration)."""
    import torch
    from transformers import MT5Config, MT5ForConditionalGeneration

    build_tokenizer(folder, with_chat_template=False)
    torch.manual_seed(0)
    config = MT5Config(vocab_size=250112, d_model=8, d_kv=4, d_ff=16, num_layers=1,
                       num_decoder_layers=1, num_heads=2, pad_token_id=0, eos_token_id=2,
                       decoder_start_token_id=0, tie_word_embeddings=False)
    model = MT5ForConditionalGeneration(config)
    # MetricX's head is its own (transformers 5 ties mT5's to the embeddings when building)
    model.lm_head.weight = torch.nn.Parameter(model.shared.weight.detach().clone())
    with torch.no_grad():   # spread the one logit MetricX reads over its 0-25 range
        model.lm_head.weight[250089].normal_(0, 40)
    model.save_pretrained(folder)
    # as MetricX's published configs say (5.x writes True for every mT5, and 4.x would tie)
    config_file = folder / "config.json"
    config_file.write_text(config_file.read_text(encoding="utf-8").replace(
        '"tie_word_embeddings": true', '"tie_word_embeddings": false'), encoding="utf-8")
    return folder


def build_mt5_tokenizer(folder: Path, corpus: list[str]) -> Path:
    """A folder laid out as google/mt5-xl's tokenizer is (spiece.model, tokenizer_config.json,
    special_tokens_map.json; no tokenizer.json): a SentencePiece unigram model trained on
    `corpus`, with T5's ids (<pad> 0, </s> 1, <unk> 2) and SentencePiece's default nmt_nfkc
    normalisation."""
    import json

    import sentencepiece

    folder.mkdir(parents=True, exist_ok=True)
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus), model_prefix=str(folder / "spiece"), vocab_size=3000,
        model_type="unigram", pad_id=0, eos_id=1, unk_id=2, bos_id=-1, character_coverage=1.0,
        minloglevel=2)
    (folder / "spiece.vocab").unlink()
    specials = {"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}
    (folder / "special_tokens_map.json").write_text(json.dumps(specials))
    (folder / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "T5Tokenizer", "extra_ids": 0, "additional_special_tokens": None,
         "model_max_length": 1000000000000000019884624838656, **specials}))
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


def build_language_coded_seq2seq(folder: Path, family: str, window: int = 128) -> Path:
    """A random encoder-decoder model whose tokenizer is the real class of its family, with
    that family's language codes: "nllb" (NllbTokenizer: eng_Latn, kor_Hang, ... as the source
    code and forced target), "m2m100" (M2M100Tokenizer: __en__, __ko__ ...), "marian" (a
    multi-target MarianTokenizer: >>kor<<, >>deu<<, >>cmn_Hans<< prefixes), "marian-en-de" (an
    OPUS-MT model of one pair: no prefixes, source_lang en, target_lang de). SentencePiece is
    trained on the test corpus; `window` is the encoder's and the decoder's positions."""
    import json
    import shutil

    import sentencepiece
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus_lines()), model_prefix=str(folder / "sp"), vocab_size=180,
        model_type="unigram", pad_id=0, eos_id=1, unk_id=2, bos_id=-1, character_coverage=1.0, minloglevel=2)
    pieces = [p.split("\t")[0] for p in (folder / "sp.vocab").read_text(encoding="utf-8").splitlines()]
    (folder / "sp.vocab").unlink()
    if family == "nllb":   # (converted from the SentencePiece file, as hub NLLB folders once were)
        from transformers import AutoTokenizer
        shutil.move(folder / "sp.model", folder / "sentencepiece.bpe.model")
        from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES
        (folder / "tokenizer_config.json").write_text(json.dumps(
            {"tokenizer_class": "NllbTokenizer", "src_lang": "eng_Latn", "model_max_length": window}))
        tok = AutoTokenizer.from_pretrained(folder)
        tok.add_special_tokens({"additional_special_tokens": list(FAIRSEQ_LANGUAGE_CODES)})
    elif family == "m2m100":
        from transformers import M2M100Tokenizer as Tokenizer
        shutil.move(folder / "sp.model", folder / "sentencepiece.bpe.model")
        specials = ["<s>", "<pad>", "</s>", "<unk>"]
        vocab = {p: i for i, p in enumerate(specials + [p for p in pieces if p not in specials])}
        (folder / "vocab.json").write_text(json.dumps(vocab))
        tok = Tokenizer(str(folder / "vocab.json"), str(folder / "sentencepiece.bpe.model"), src_lang="en",
                        model_max_length=window)
    else:
        from transformers import MarianTokenizer as Tokenizer
        shutil.copy(folder / "sp.model", folder / "target.spm")
        shutil.move(folder / "sp.model", folder / "source.spm")
        prefixes = [] if family == "marian-en-de" else [">>kor<<", ">>deu<<", ">>cmn_Hans<<"]
        vocab = {t: i for i, t in enumerate([*prefixes, "</s>", "<unk>"])}
        for piece in pieces:
            if piece not in ("<pad>", "</s>", "<unk>"):
                vocab.setdefault(piece, len(vocab))
        vocab["<pad>"] = len(vocab)
        (folder / "vocab.json").write_text(json.dumps(vocab))
        pair = {"source_lang": "en", "target_lang": "de"} if family == "marian-en-de" else {}
        tok = Tokenizer(str(folder / "source.spm"), str(folder / "target.spm"), str(folder / "vocab.json"),
                        model_max_length=window, **pair)
    tok.save_pretrained(folder)
    ids = [*tok.get_vocab().values(), *(getattr(tok, "lang_token_to_id", None) or {}).values()]
    sizes = dict(vocab_size=max(ids) + 1, d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                 decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=window,
                 pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    torch.manual_seed(0)
    if family.startswith("marian"):
        from transformers import MarianConfig, MarianMTModel
        # (as OPUS-MT's configs: EOS forced at the last position)
        MarianMTModel(MarianConfig(**sizes, decoder_start_token_id=tok.pad_token_id,
                                   forced_eos_token_id=tok.eos_token_id)).save_pretrained(folder)
    else:
        from transformers import M2M100Config, M2M100ForConditionalGeneration
        M2M100ForConditionalGeneration(M2M100Config(**sizes, bos_token_id=tok.bos_token_id,
                                                    decoder_start_token_id=tok.eos_token_id)).save_pretrained(folder)
    return folder
