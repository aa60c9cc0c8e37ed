"""gpu_check: one script for a GPU session (issue 11) that prints every figure as one JSON object,
each path measured in the same run on the same device.

It builds the issue's model: a Qwen2-1.5B-shaped causal LM (28 layers, hidden 1536, 12 heads,
2 KV heads, MLP 8960) with random bf16 weights and the embedded model's Gemma tokenizer (262k
vocabulary), saves it and loads it through xling like any checkpoint. Random weights run almost
every row to its token budget, so every path does the same work. Then, on FLORES-200 devtest
ko→en with `mt-completion`:

- naive: one `model.generate` per sentence (first 8 sentences),
- fixed32: xling's former default (32 rows, batches wait for their longest row; a subset),
- auto: `--batch-size auto` (rows and tokens from free memory, rows refilled as others finish),
- auto_no_refill: the same batches without refilling,
- static: the static KV cache (rows padded to a power of two, lengths to buckets) at 64 rows —
  the first pass includes compiling, the second reuses the compiled step;
- NLI: XNLI zh, 5-shot, 200 items, log-likelihood one item per pass vs many items per pass;
- matrix: the 12 en/ko/ja/zh directions of the devtest (12,144 sentences) with `auto`, if the
  time budget allows.

`--small` runs the same code paths on a CPU with a tiny model of the same tokenizer in well under a
minute (the test suite runs it). On a GPU machine without ../shared, pass `--data-dir` (a folder
with flores200/devtest/{eng_Latn,kor_Hang,jpn_Jpan,zho_Hans}.devtest and xnli/{dev,test}/zh.tsv)
and `--tokenizer` (a folder with the embedded model's tokenizer files): `gpu_carry.sh` prepares
both and prints the device command. Sections past `--budget` seconds are skipped.

    python experiments/bench/gpu_check.py [--small] [--data-dir D] [--tokenizer T] [--out F]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

SHAPES = {"1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                       num_attention_heads=12, num_key_value_heads=2),
          "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2)}


def _sync():
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _timed(function):
    _sync()
    start = time.perf_counter()
    result = function()
    _sync()
    return result, time.perf_counter() - start


def build_model(folder: Path, tokenizer_dir: Path, shape: str, on_gpu: bool) -> float:
    """A randomly initialised Qwen2 model with the given tokenizer, saved as a checkpoint."""
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    start = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = Qwen2Config(vocab_size=len(tokenizer), max_position_embeddings=4096, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, **SHAPES[shape])
    torch.manual_seed(0)
    with torch.device("cuda" if on_gpu else "cpu"):
        model = Qwen2ForCausalLM(config).to(torch.bfloat16 if on_gpu else torch.float32)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    del model
    return time.perf_counter() - start


def translation_paths(backend, translator, sources, src, tgt, small: bool, report: dict, over_budget):
    from translate_throughput import naive_loop

    from xling.backends.base import Decoding
    from xling.backends.batching import Batching

    decoding = translator.decoding
    requests = [r for r, _ in translator.requests(sources, src, tgt).values()]
    backend.with_batching(Batching(2)).generate(requests[:2], Decoding())      # warm-up

    def measure(name, function, n):
        if over_budget():
            report[name] = "skipped: over the time budget"
            return None
        before = backend.tokens_generated
        outputs, seconds = _timed(function)
        tokens = backend.tokens_generated - before
        report[name] = {"sentences": n, "seconds": round(seconds, 2), "sentences_per_s": round(n / seconds, 2),
                        "new_tokens_per_s": round(tokens / seconds, 1)}
        return outputs

    naive_n = 2 if small else 8
    start = time.perf_counter()
    naive, naive_tokens = naive_loop(backend, requests[:naive_n])
    seconds = time.perf_counter() - start
    report["naive"] = {"sentences": naive_n, "seconds": round(seconds, 2),
                       "sentences_per_s": round(naive_n / seconds, 3),
                       "new_tokens_per_s": round(naive_tokens / seconds, 1)}
    subset = requests[:len(requests) if small else 256]
    measure("fixed32", lambda: backend.with_batching(Batching(32, refill=False)).generate(subset, decoding),
            len(subset))
    auto = measure("auto", lambda: backend.with_batching(Batching("auto")).generate(requests, decoding), len(requests))
    report["auto_plan"] = dict(backend.batch_plan)
    plain = measure("auto_no_refill", lambda: backend.with_batching(Batching("auto", refill=False)).generate(requests, decoding),
                    len(requests))
    if auto is not None and plain is not None:
        report["auto_refill_equals_no_refill"] = sum(a == b for a, b in zip(auto, plain)) / len(auto)
    if auto is not None:
        report["auto_equals_naive_first"] = sum(a == b for a, b in zip(auto, naive)) / naive_n
    static = backend.with_batching(Batching(64))   # a copy on the same weights: its own cache setting
    static.static_cache, static.static_shapes = True, []
    first = measure("static_first_pass", lambda: static.generate(requests, decoding), len(requests))
    measure("static_second_pass", lambda: static.generate(requests, decoding), len(requests))
    report["static_shapes"] = static.static_shapes
    if first is not None and auto is not None:
        report["static_equals_auto"] = sum(a == b for a, b in zip(first, auto)) / len(auto)
    for name in ("auto", "auto_no_refill", "fixed32", "static_second_pass"):
        if isinstance(report.get(name), dict):
            report[f"{name}_vs_naive"] = round(report[name]["new_tokens_per_s"] / report["naive"]["new_tokens_per_s"], 1)


def matrix_path(backend, translator, root: Path, small: bool, report: dict, over_budget):
    """The 12 directions among en, ko, ja, zh on the whole devtest with `auto`, as a run would
    translate them one direction after another (the issue's 5-minute target)."""
    from xling.backends.batching import Batching

    from xling.data.languages import check_direction
    from xling.data.parallel import flores200

    if over_budget():
        report["matrix"] = "skipped: over the time budget"
        return
    langs = ["en", "ko", "ja", "zh"]
    n = 4 if small else None
    before, sentences = backend.tokens_generated, 0
    start = time.perf_counter()
    for a in langs:
        for b in langs:
            if a != b:
                src, tgt = check_direction(a, b)
                sources = flores200("devtest", src, root)[:n]
                requests = [r for r, _ in translator.requests(sources, src, tgt).values()]
                backend.with_batching(Batching("auto")).generate(requests, translator.decoding)
                sentences += len(sources)
    _sync()
    seconds = time.perf_counter() - start
    report["matrix"] = {"directions": 12, "sentences": sentences, "seconds": round(seconds, 1),
                        "new_tokens_per_s": round((backend.tokens_generated - before) / seconds, 1)}


def nli_paths(backend, root: Path, small: bool, report: dict, over_budget):
    from xling.backends.batching import Batching
    from xling.data.choice import nli_items
    from xling.prompts.choice import balanced_shots, render_loglikelihood
    from xling.prompts.templates import load_template

    if over_budget():
        report["nli"] = "skipped: over the time budget"
        return
    template = load_template("xnli-rightq")
    items = nli_items("test", "zh", root=root)[:20 if small else 200]
    shots = balanced_shots(nli_items("dev", "zh", root=root), 5, 0, 3)
    requests = [render_loglikelihood(template, item, "zh", shots) for item in items]
    backend.with_batching(Batching(2)).loglikelihood(requests[:2])             # warm-up
    one, t_one = _timed(lambda: backend.with_batching(Batching(1)).loglikelihood(requests))
    many, t_many = _timed(lambda: backend.with_batching(Batching("auto")).loglikelihood(requests))
    picks = [[max(range(3), key=s.__getitem__) for s in scores] for scores in (one, many)]
    report["nli"] = {"items": len(items), "shots": 5,
                     "per_item_items_per_s": round(len(items) / t_one, 1),
                     "across_items_items_per_s": round(len(items) / t_many, 1),
                     "across_vs_per_item": round(t_one / t_many, 2),
                     "max_abs_score_difference": round(max(abs(a - b) for x, y in zip(one, many)
                                                           for a, b in zip(x, y)), 5),
                     "same_predictions": sum(a == b for a, b in zip(*picks)) / len(items)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a tiny model and a few sentences (CPU smoke test)")
    parser.add_argument("--data-dir", default=None, help="default: $XLING_DATA or ../shared/data")
    parser.add_argument("--tokenizer", default=None, help="default: the embedded model's folder")
    parser.add_argument("--n", type=int, default=None, help="sentences (default: the whole devtest; 16 with --small)")
    parser.add_argument("--budget", type=float, default=420, help="seconds after which sections are skipped")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    import tokenizers
    import torch
    import transformers

    from xling.data.languages import check_direction
    from xling.data.parallel import data_root, flores200
    from xling.backends.base import Decoding
    from xling.backends.loading import open_hf_backend
    from xling.translate.translator import Translator

    on_gpu = torch.cuda.is_available() and not args.small
    root = data_root(args.data_dir)
    if args.tokenizer is None:
        from xling.backends.embedded import embedded_model_dir
        args.tokenizer = str(embedded_model_dir())
    report = {"device": torch.cuda.get_device_name(0) if on_gpu else "cpu",
              "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                           "tokenizers": tokenizers.__version__, "python": sys.version.split()[0]},
              "model": "qwen2-1.5b-shaped, random bf16" if not args.small else "qwen2-tiny, random fp32"}
    src, tgt = check_direction("ko", "en")
    sources = flores200("devtest", src, root)[:args.n or (16 if args.small else None)]
    with tempfile.TemporaryDirectory(prefix="xling-gpu-check-") as folder:
        report["build_seconds"] = round(build_model(Path(folder), Path(args.tokenizer),
                                                    "tiny" if args.small else "1.5b", on_gpu), 2)
        backend, seconds = _timed(lambda: open_hf_backend(folder, display=report["model"],
                                                          device=None if on_gpu else "cpu"))
        _, load = _timed(lambda: backend.model)
        report["load_seconds"] = round(seconds + load, 2)
        # --small caps answers at 16 tokens: a random model runs every row to its budget.
        translator = Translator(backend=backend, cache=False,
                                decoding=Decoding(max_new_tokens_cap=16) if args.small else None)
        over_budget = lambda: time.perf_counter() - started > args.budget   # noqa: E731
        for section in (lambda: translation_paths(backend, translator, sources, src, tgt, args.small,
                                                  report, over_budget),
                        lambda: nli_paths(backend, root, args.small, report, over_budget),
                        lambda: matrix_path(backend, translator, root, args.small, report, over_budget)):
            try:
                section()
            except Exception as exc:  # noqa: BLE001 - one failing path must not lose the others' figures
                report.setdefault("errors", []).append(f"{type(exc).__name__}: {exc}")
    if on_gpu:
        report["peak_gpu_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2 ** 30, 2)
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
