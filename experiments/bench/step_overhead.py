"""step_overhead: what a decoding step costs beyond the model's forward pass (issue 34).

On a tiny model the forward is nearly free, so steps per second measure the loop itself:
xling's decoding loop (`backends/decoding.py`) against transformers' `generate` and its
continuous batching (`generate_batch`) on the same prompts (FLORES-200 devtest Korean, token ids
folded into the tiny model's vocabulary), greedy, the same token budget, at 1 and 32 rows. One
run prints each path's new tokens/s and steps/s, xling's ratio to each, and whether the outputs
are identical (float32). `--shape 1.5b` builds the issue's Qwen2-1.5B shape instead (for a GPU).

    python experiments/bench/step_overhead.py [--rows 1,32] [--n 32] [--tokens 48] [--shape tiny]
        [--data-dir D] [--tokenizer T]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from _common import generate_batch as paged_generate_batch
from _common import require_data, scratch
from gpu_check import SHAPES, _sync

from xling.backends.base import GenerationRequest, Prompt
from xling.backends.decoding import Unit
from xling.data.languages import check_direction
from xling.data.parallel import flores200

VOCAB = 2048    # the tiny model's vocabulary: a cheap output layer


def build(folder: Path, shape: str, on_gpu: bool, tokenizer_dir=None):
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    if tokenizer_dir is None:
        from xling.backends.embedded import embedded_model_dir
        tokenizer_dir = embedded_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = Qwen2Config(vocab_size=VOCAB if shape == "tiny" else len(tokenizer), max_position_embeddings=4096,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True, **SHAPES[shape])
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config).to(torch.bfloat16 if on_gpu else torch.float32)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def timed(function):
    _sync()
    start = time.perf_counter()
    result = function()
    _sync()
    return result, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1,32")
    parser.add_argument("--n", type=int, default=32, help="prompts per run (1 row: the first 16)")
    parser.add_argument("--tokens", type=int, default=48, help="new tokens per prompt")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--tokenizer", default=None, help="default: the embedded model's folder")
    args = parser.parse_args()
    root = require_data(args.data_dir)

    import torch
    from transformers import GenerationConfig

    from xling.backends.batching import Batching
    from xling.backends.loading import open_hf_backend

    on_gpu = torch.cuda.is_available() and args.shape != "tiny"
    folder = str(scratch("xling-step-overhead-"))
    build(Path(folder), args.shape, on_gpu, args.tokenizer)
    backend = open_hf_backend(folder, display=f"qwen2-{args.shape}", device=None if on_gpu else "cpu")
    lm, model = backend.lm, backend.model
    vocab = model.config.vocab_size
    sources = flores200("devtest", check_direction("ko", "en")[0], root)[:args.n]
    prompts = [[lm.tokenizer.bos_token_id] + [i % vocab for i in lm.tokenizer(s, add_special_tokens=False)["input_ids"]]
               for s in sources]
    eos = sorted(lm.eos_ids)
    print(f"model qwen2-{args.shape} ({sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters) on "
          f"{backend.device}, {'bf16' if on_gpu else 'float32'}; {args.tokens} new tokens per prompt, greedy")

    def xling(batch, rows):
        requests = [GenerationRequest(prompt=Prompt(text=""), max_new_tokens=args.tokens) for _ in batch]
        units = sorted((Unit(ids, [i]) for i, ids in enumerate(batch)), key=lambda u: -len(u.ids))
        raw: dict[int, list[int]] = {}
        original = lm.finish
        # The raw token ids of each row (finish() is called with them), to compare exactly.
        position = {id(r): i for i, r in enumerate(requests)}
        lm.finish = lambda request, new: (raw.__setitem__(position[id(request)], list(new)),
                                          original(request, new))[1]
        try:
            backend.with_batching(Batching(rows, refill=False)).decoder.decode(units, requests, rows, None)
        finally:
            lm.finish = original
        return [cut(raw[i]) for i in range(len(batch))]

    def cut(ids):
        ids = list(ids)[:args.tokens]
        return ids[:next((k for k, t in enumerate(ids) if t in lm.eos_ids), len(ids))]

    def generate(batch, rows):
        out = []
        for start in range(0, len(batch), rows):
            chunk = batch[start:start + rows]
            ids, mask = lm.left_pad(chunk)
            with torch.inference_mode():
                result = model.generate(input_ids=ids.to(model.device), attention_mask=mask.to(model.device),
                                        max_new_tokens=args.tokens, do_sample=False, temperature=None, top_p=None,
                                        top_k=None, eos_token_id=eos, pad_token_id=lm.tokenizer.pad_token_id)
            out += [cut(row[ids.shape[1]:].tolist()) for row in result]
        return out

    def generate_batch(batch, rows):
        config = GenerationConfig(max_new_tokens=args.tokens, do_sample=False, eos_token_id=eos,
                                  pad_token_id=lm.tokenizer.pad_token_id, max_batch_tokens=rows * 512)
        config.scheduler = "fifo"
        outputs = paged_generate_batch(model, batch, config)
        ordered = sorted(outputs.values(), key=lambda o: int(str(o.request_id).rsplit("_", 1)[-1]))
        return [cut(o.generated_tokens) for o in ordered]

    for rows in (int(r) for r in args.rows.split(",")):
        batch = prompts[:16] if rows == 1 else prompts[:max(rows, min(args.n, len(prompts)))]
        xling(batch[:2], rows)     # warm-up
        results = {}
        for name, path in (("xling", xling), ("generate", generate), ("generate_batch", generate_batch)):
            try:
                outputs, seconds = timed(lambda: path(batch, rows))
            except Exception as exc:  # noqa: BLE001 - a path transformers cannot run here is reported
                print(f"  {rows:>3} rows  {name:<15} failed: {type(exc).__name__}: {str(exc)[:120]}")
                continue
            tokens = sum(len(o) for o in outputs)
            steps = tokens / min(rows, len(batch))
            results[name] = (outputs, seconds)
            print(f"  {rows:>3} rows  {name:<15} {seconds:7.2f} s  {tokens / seconds:9.1f} new tokens/s  "
                  f"{steps / seconds:8.1f} steps/s")
        if "xling" in results:
            ours, ours_s = results["xling"]
            for other in ("generate", "generate_batch"):
                if other in results:
                    theirs, theirs_s = results[other]
                    same = sum(a == b for a, b in zip(ours, theirs))
                    print(f"  {rows:>3} rows  xling vs {other}: {theirs_s / ours_s:.2f}x the steps/s, "
                          f"identical outputs {same}/{len(ours)}")


if __name__ == "__main__":
    main()
