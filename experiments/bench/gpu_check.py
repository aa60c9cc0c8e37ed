"""gpu_check: one script for a GPU session (issues 11, 34). Every figure is measured in the same
run on the same device, and the JSON is rewritten after every section, so a run cut short still
reports what it measured; each section has a time cap, and a section that would start past the
run's budget says so instead.

The model is the issue's: a Qwen2-1.5B-shaped causal LM (28 layers, hidden 1536, 12 heads,
2 KV heads, MLP 8960) with random bf16 weights and the embedded model's Gemma tokenizer (262k
vocabulary), saved and loaded through xling like any checkpoint. Random weights run every row
to its token budget, so every path does the same work. Prompts: FLORES-200 devtest ko→en with
`mt-completion`. Sections, in order:

- naive: one `model.generate` per sentence (the baseline every ratio is against);
- rows_1 / rows_32 / rows_512: xling's loop at that many rows, answers capped at 32 tokens;
- kernels_default_32: rows_32 with PyTorch's own SDPA choice (cuDNN allowed), as before issue 34;
- auto / auto_no_refill / auto_again: `--batch-size auto` on 512 sentences, full budgets, refill
  on, off, and on again (run 1 and 2 found refill slower, with auto always run first: the third
  run tells an order effect from refill's own cost); each with the batches it ran;
- nli: XNLI zh 5-shot log-likelihood, one item per pass vs many;
- matrix: the 12 en/ko/ja/zh directions of the whole devtest with `auto`, from one queue as a run
  translates them (the 3-minute target; cut at its cap, it reports the sentences done and a
  projection for all 12; runs 1-3 translated direction by direction);
- static: the static KV cache (compiled with CUDA graphs on a GPU), two passes;
- generate_batch: transformers' continuous batching on the same prompts;
- divergence: where xling's 1-row tokens part from plain `generate`'s, and its k-row tokens from
  its 1-row ones: for each sentence, the first differing step and both tokens' logits there from
  one full forward of the prompt and the common prefix (no cache, math attention), so that a
  tie broken by kernel rounding tells itself from a path that computes something else;
- profile_512: torch.profiler over a 512-row batch, prefill alone and prefill + 8 steps: the
  costliest ops, host and device. Last but vLLM, so that the profiler's hooks (CUPTI) cannot slow
  what follows it;
- vllm: `--backend vllm` on the same 512 prompts, where vLLM imports: last, after the HF weights
  and compiled graphs leave the GPU (vLLM's start asks for most of its memory).

Results of the H200 runs are kept beside this script (results_gpu_check_h200_run*.json).

`--small` runs every section on a CPU with a tiny model of the same tokenizer in about a minute
(the test suite runs it). On a GPU machine without ../shared, pass `--data-dir` and
`--tokenizer`: `gpu_carry.sh` prepares both and prints the device command.

    python experiments/bench/gpu_check.py [--small] [--data-dir D] [--tokenizer T] [--out F]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

SHAPES = {"1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                       num_attention_heads=12, num_key_value_heads=2),
          "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2)}
# Seconds each section may take on a GPU (the run's budget still applies); --small: half.
CAPS = {"naive": 40, "rows_1": 30, "rows_32": 20, "rows_512": 30, "kernels_default_32": 30,
        "profile_512": 40, "auto": 45, "auto_no_refill": 45, "auto_again": 45, "matrix": 190, "nli": 40,
        "generate_batch": 90, "vllm": 90, "static": 120, "divergence": 90}


class SectionTimeout(Exception):
    pass


@contextmanager
def time_cap(seconds: float):
    """Raise SectionTimeout in this (main) thread after `seconds`."""
    def expire(signum, frame):
        raise SectionTimeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _sync():
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def build_model(folder: Path, tokenizer_dir: Path, shape: str, on_gpu: bool, fp32: bool = False) -> float:
    """A randomly initialised Qwen2 model with the given tokenizer, saved as a checkpoint (bf16 on
    a GPU unless `fp32`: outputs compared across paths, where bf16 flips a random model's ties)."""
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    start = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = Qwen2Config(vocab_size=len(tokenizer), max_position_embeddings=4096, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, **SHAPES[shape])
    torch.manual_seed(0)
    with torch.device("cuda" if on_gpu else "cpu"):
        model = Qwen2ForCausalLM(config).to(torch.bfloat16 if on_gpu and not fp32 else torch.float32)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    del model
    if on_gpu:   # the float32 build's blocks, kept by the allocator, are no run's memory
        torch.cuda.empty_cache()
    return time.perf_counter() - start


class Check:
    """The run: its report, the budget, and the shared model and prompts."""

    def __init__(self, args, backend, translator, capped, root, src, tgt, sources, started):
        self.args, self.backend, self.translator, self.capped = args, backend, translator, capped
        self.root, self.src, self.tgt, self.sources, self.started = root, src, tgt, sources, started
        self.small = args.small
        self.report: dict = {}
        self.outputs: dict = {}

    def requests(self, translator, n):
        return [r for r, _ in translator.requests(self.sources[:n], self.src, self.tgt).values()]

    def n(self, gpu: int, small: int) -> int:
        return small if self.small else gpu

    def write(self) -> None:
        self.report["total_seconds"] = round(time.perf_counter() - self.started, 1)
        if self.args.out:
            path = Path(self.args.out)
            path.with_suffix(".tmp").write_text(json.dumps(self.report, indent=1) + "\n", encoding="utf-8")
            os.replace(path.with_suffix(".tmp"), path)

    def run(self, name, function) -> None:
        left = self.args.budget - (time.perf_counter() - self.started)
        cap = CAPS[name] / (2 if self.small else 1)
        if self.args.no_time_limits:   # every section to its end (a test on a busy CPU)
            left = cap = float(3600)
        if left < min(cap, 10):
            self.report[name] = "skipped: over the run's time budget"
        else:
            print(f"gpu_check: {name} (cap {min(cap, left):.0f} s)", file=sys.stderr, flush=True)
            start = time.perf_counter()
            try:
                with time_cap(min(cap, left)):
                    function()
            except SectionTimeout:
                stopped = f"stopped: over its {min(cap, left):.0f} s cap"
                if isinstance(self.report.get(name), dict):    # what it measured before the cap stays
                    self.report[name]["stopped"] = stopped
                else:
                    self.report[name] = stopped
            except Exception as exc:  # noqa: BLE001 - one failing path must not lose the others' figures
                if time.perf_counter() - start >= min(cap, left) - 0.5:
                    # the cap fired inside a library that swallowed it (transformers' generate_batch
                    # logs it in its worker and returns no answer): stopped by the cap, not failed
                    self.report[name] = (f"stopped: over its {min(cap, left):.0f} s cap "
                                         f"({type(exc).__name__} after it: {str(exc)[:120]})")
                else:
                    self.report[name] = f"failed: {type(exc).__name__}: {str(exc)[:300]}"
            self.report.setdefault("section_seconds", {})[name] = round(time.perf_counter() - start, 1)
        self.write()

    def measure(self, name, function, sentences: int, keep: str | None = None) -> dict:
        before = self.backend.tokens_generated
        _sync()
        start = time.perf_counter()
        outputs = function()
        _sync()
        seconds = time.perf_counter() - start
        tokens = self.backend.tokens_generated - before
        figures = {"sentences": sentences, "seconds": round(seconds, 2), "new_tokens": tokens,
                   "sentences_per_s": round(sentences / seconds, 2), "new_tokens_per_s": round(tokens / seconds, 1)}
        self.report[name] = figures
        if keep:
            self.outputs[keep] = outputs
        return figures

    def ratio(self, name, baseline="naive") -> None:
        a, b = self.report.get(name), self.report.get(baseline)
        if isinstance(a, dict) and isinstance(b, dict):
            a[f"vs_{baseline}"] = round(a["new_tokens_per_s"] / b["new_tokens_per_s"], 2)

    def same(self, key, a, b) -> None:
        if a in self.outputs and b in self.outputs:
            pairs = list(zip(self.outputs[a], self.outputs[b]))
            self.report[key] = round(sum(x == y for x, y in pairs) / len(pairs), 3)


def naive(check: Check):
    from translate_throughput import naive_loop

    requests = check.requests(check.capped, check.n(4, 2))
    backend = check.backend
    before = backend.tokens_generated
    start = time.perf_counter()
    outputs, tokens = naive_loop(backend, requests)
    seconds = time.perf_counter() - start
    backend.lm.tokens_generated = before   # naive_loop counts through finish(); keep its own count
    check.report["naive"] = {"sentences": len(requests), "seconds": round(seconds, 2),
                             "answers_capped_at": 16 if check.small else 32,
                             "new_tokens_per_s": round(tokens / seconds, 1)}
    check.outputs["naive"] = outputs


def rows(count: int, default_kernels: bool = False):
    def section(check: Check):
        from xling.backends import attention, decoding
        from xling.backends.batching import Batching

        n = count if not check.small else min(count, 8)
        requests = check.requests(check.capped, max(n, check.n(4, 2)) if count == 1 else n)
        name = f"rows_{count}" if not default_kernels else f"kernels_default_{count}"
        backend = check.backend.with_batching(Batching(n, refill=False))
        scope = decoding.kernel_scope
        if default_kernels:   # as before issue 34: PyTorch's own choice (cuDNN where it prefers it)
            decoding.kernel_scope = nullcontext
        try:
            check.measure(name, lambda: backend.generate(requests, check.capped.decoding), len(requests), keep=name)
        finally:
            decoding.kernel_scope = scope
        check.report[name]["answers_capped_at"] = 32 if not check.small else 16
        check.report[name]["attention"] = (attention.describe(backend.model) if not default_kernels
                                           else "pytorch default")
        check.ratio(name)
    return section


def profile_512(check: Check):
    import torch
    from torch.profiler import ProfilerActivity, profile

    from xling.backends.base import Decoding
    from xling.backends.batching import Batching
    from xling.translation.translator import Translator

    n = check.n(512, 8)
    backend = check.backend.with_batching(Batching(n, refill=False))
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
    figures = check.report["profile_512"] = {"rows": n}
    for name, tokens in (("prefill", 1), ("prefill_and_8_steps", 9)):
        translator = Translator(backend=check.backend, cache=False, decoding=Decoding(max_new_tokens_cap=tokens))
        requests = check.requests(translator, n)
        start = time.perf_counter()
        with profile(activities=activities) as prof:
            backend.generate(requests, translator.decoding)
            _sync()
        seconds = time.perf_counter() - start
        averages = prof.key_averages()
        device_key = "device_time_total" if hasattr(averages[0], "device_time_total") else "cuda_time_total"
        table = [{"op": event.key, "calls": event.count, "host_ms": round(event.cpu_time_total / 1000, 2),
                  "device_ms": round(getattr(event, device_key, 0) / 1000, 2)} for event in averages]
        figures[name] = {"seconds_profiled": round(seconds, 2),
                         "by_device_time": sorted(table, key=lambda e: -e["device_ms"])[:10],
                         "by_host_time": sorted(table, key=lambda e: -e["host_ms"])[:10]}
        check.write()


def auto(name: str, refill: bool):
    def section(check: Check):
        from xling.backends.batching import Batching

        n = check.n(512, 16)
        requests = check.requests(check.translator, n)
        backend = check.backend.with_batching(Batching("auto", refill=refill))
        log = check.backend.batch_log
        first = len(log)
        check.measure(name, lambda: backend.generate(requests, check.translator.decoding), n, keep=name)
        check.report[name]["plan"] = dict(check.backend.batch_plan)
        check.report[name]["batches"] = log[first:first + 20]
        check.ratio(name)
        check.same("auto_refill_equals_no_refill", "auto", "auto_no_refill")
        check.same("auto_again_equals_auto", "auto_again", "auto")
    return section


def matrix(check: Check):
    """The 12 directions among en, ko, ja, zh on the whole devtest with `auto`, from one queue as
    a run translates them (target: 3 minutes with the model's load). The figures are rewritten
    as rows finish, so a cut run reports the sentences done and a linear projection for all 12
    (an overestimate: the longest prompts come first and rows finish late under refill)."""
    from xling.backends.batching import Batching
    from xling.data.languages import check_direction
    from xling.data.parallel import flores200

    backend = check.backend.with_batching(Batching("auto"))
    langs = ["en", "ko", "ja", "zh"]
    requests = []
    for a in langs:
        for b in langs:
            if a != b:
                src, tgt = check_direction(a, b)
                sources = flores200("devtest", src, check.root)[:check.n(None, 4)]
                requests += [r for r, _ in check.translator.requests(sources, src, tgt).values()]
    figures = check.report["matrix"] = {"queued": True, "sentences": len(requests), "sentences_done": 0,
                                        "seconds": 0.0}
    before, start = backend.tokens_generated, time.perf_counter()
    first, last_write = len(backend.stats()["batches"]), [start]

    def on_batch(indices, texts):
        seconds = time.perf_counter() - start
        done = figures["sentences_done"] + len(indices)
        figures.update(sentences_done=done, seconds=round(seconds, 1),
                       new_tokens_per_s=round((backend.tokens_generated - before) / max(seconds, 1e-9), 1),
                       projected_seconds_for_12=round(seconds * len(requests) / max(done, 1), 1))
        if time.perf_counter() - last_write[0] > 5:    # the JSON, every few seconds
            check.write()
            last_write[0] = time.perf_counter()

    backend.generate(requests, check.translator.decoding, on_batch=on_batch)
    _sync()
    seconds = time.perf_counter() - start
    figures.update(directions=12, sentences_done=len(requests), seconds=round(seconds, 1),
                   new_tokens_per_s=round((backend.tokens_generated - before) / seconds, 1),
                   batches=backend.stats()["batches"][first:first + 20])
    figures["with_load_seconds"] = round(figures["seconds"] + check.report.get("load_seconds", 0), 1)


def nli(check: Check):
    from xling.backends.batching import Batching
    from xling.data.choice import nli_items
    from xling.prompts.choice import balanced_shots, render_loglikelihood
    from xling.prompts.templates import load_template

    template = load_template("xnli-rightq")
    items = nli_items("test", "zh", root=check.root)[:check.n(200, 20)]
    shots = balanced_shots(nli_items("dev", "zh", root=check.root), 5, 0, 3)
    requests = [render_loglikelihood(template, item, "zh", shots) for item in items]
    backend = check.backend
    backend.with_batching(Batching(2)).loglikelihood(requests[:2])             # warm-up
    _sync()
    start = time.perf_counter()
    one = backend.with_batching(Batching(1)).loglikelihood(requests)
    _sync()
    t_one = time.perf_counter() - start
    start = time.perf_counter()
    many = backend.with_batching(Batching("auto")).loglikelihood(requests)
    _sync()
    t_many = time.perf_counter() - start
    picks = [[max(range(3), key=s.__getitem__) for s in scores] for scores in (one, many)]
    check.report["nli"] = {"items": len(items), "shots": 5,
                           "per_item_items_per_s": round(len(items) / t_one, 1),
                           "across_items_items_per_s": round(len(items) / t_many, 1),
                           "across_vs_per_item": round(t_one / t_many, 2),
                           "max_abs_score_difference": round(max(abs(a - b) for x, y in zip(one, many)
                                                                 for a, b in zip(x, y)), 5),
                           "same_predictions": sum(a == b for a, b in zip(*picks)) / len(items)}


def generate_batch(check: Check):
    from hf_loop_vs_transformers_cb import transformers_cb

    # 128 sentences: at 512 it did not finish within 45 s on the H200 (run 3); its rate is
    # compared with auto's rate on 512 (sentences per second)
    n = check.n(128, 4)
    requests = check.requests(check.translator, n)
    backend = check.backend
    texts = []

    def run():
        texts.extend(transformers_cb(backend, requests))
        return texts

    before = backend.tokens_generated
    _sync()
    start = time.perf_counter()
    run()   # (on "sdpa" meanwhile: _common.generate_batch)
    _sync()
    seconds = time.perf_counter() - start
    tokens = sum(backend.count_tokens(t) for t in texts) if check.small else None
    check.report["generate_batch"] = {"sentences": n, "seconds": round(seconds, 2),
                                      "sentences_per_s": round(n / seconds, 2),
                                      "vs_auto_rate": round((n / seconds) / (check.report["auto"]["sentences"]
                                                                             / check.report["auto"]["seconds"]), 3)
                                      if isinstance(check.report.get("auto"), dict) else None}
    backend.lm.tokens_generated = before
    check.outputs["generate_batch"] = texts
    if tokens is not None:
        check.report["generate_batch"]["kept_tokens"] = tokens
    check.same("generate_batch_equals_auto", "generate_batch", "auto")


def vllm_section(check: Check):
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        check.report["vllm"] = "skipped: vllm does not import here"
        return
    import gc

    import torch

    from xling.backends import load_backend

    n = check.n(512, 8)
    requests = check.requests(check.translator, n)
    # the HF weights leave the GPU first (reloaded if a later section asks): vLLM's start asks
    # for most of the device's memory and refused to start beside them
    check.translator.backend.lm._model = None
    torch.compiler.reset()   # (the static section's CUDA graphs hold memory too)
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    backend = load_backend(check.args.model_folder, backend="vllm", quiet=True)
    try:
        backend.generate(requests[:2], check.translator.decoding)    # engine start, outside the timing
        start = time.perf_counter()
        texts = backend.generate(requests, check.translator.decoding)
        seconds = time.perf_counter() - start
    finally:
        getattr(backend, "close", lambda: None)()
    check.report["vllm"] = {"sentences": n, "seconds": round(seconds, 2), "sentences_per_s": round(n / seconds, 2)}
    check.outputs["vllm"] = texts
    check.same("vllm_equals_auto", "vllm", "auto")


@contextmanager
def token_ids(lm):
    """The new token ids of every finished row, by prompt, while the context is open (every
    path - xling's loop and naive_loop alike - passes each row's tokens to `lm.finish`)."""
    seen: dict = {}
    original = lm.finish

    def finish(request, new_tokens):
        seen[request.prompt] = list(new_tokens[:request.max_new_tokens])
        return original(request, new_tokens)

    lm.finish = finish
    try:
        yield seen
    finally:
        del lm.finish


def first_difference(backend, request, a: list[int], b: list[int]) -> dict | None:
    """Where token lists `a` and `b` (the same prompt's answers from two paths) first differ, and
    both tokens' logits there from one full forward of the prompt and the common prefix (no
    cache, math attention, logits in float32). A margin within a few units of the model's
    rounding at that logit is a tie any kernel may break; a clear one means a path is wrong."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel

    step = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None)
    if step is None:
        return None if len(a) == len(b) else {"step": min(len(a), len(b)), "kind": "one path stopped earlier",
                                               "lengths": [len(a), len(b)]}
    model = backend.model
    ids = torch.tensor([backend.encode_prompt(request.prompt) + a[:step]], device=model.device)

    def last_logits(kernels):
        with torch.inference_mode(), sdpa_kernel(kernels) if kernels else nullcontext():
            return model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[0, -1].float()

    logits, default = last_logits([SDPBackend.MATH]), last_logits(None)   # math; PyTorch's own choice
    top = torch.topk(logits, 2)
    la, lb = logits[a[step]].item(), logits[b[step]].item()
    # the logits' rounding step where they are (bf16 keeps 8 significant bits, float32 24), and
    # the kernels' own disagreement on this margin: within a few of either, a tie
    bits = 8 if model.dtype == torch.bfloat16 else 11 if model.dtype == torch.float16 else 24
    unit = max(abs(la), abs(lb), 1e-6) * 2.0 ** -bits
    noise = abs((la - lb) - (default[a[step]] - default[b[step]]).item())
    return {"step": step, "prompt_tokens": ids.shape[1] - step, "tokens": [a[step], b[step]],
            "logits": [round(la, 6), round(lb, 6)], "margin": round(la - lb, 6),
            "margin_in_rounding_units": round(abs(la - lb) / unit, 1), "kernel_noise": round(noise, 6),
            "reference_picks": {a[step]: "first path", b[step]: "second path"}.get(int(top.indices[0]), "neither"),
            "reference_top2_gap": round((top.values[0] - top.values[1]).item(), 6),
            "verdict": "tie (within 4x the kernels' noise or 4 rounding units)"
            if abs(la - lb) <= 4 * max(noise, unit) else "clear margin: a path differs"}


def divergence(check: Check):
    """For sentences whose outputs differ between plain `generate` and xling at 1 row, and between
    1 row and k rows in one batch: the first differing step and its logits (`first_difference`)."""
    from translate_throughput import naive_loop

    from xling.backends.batching import Batching

    k = check.n(8, 4)
    requests = check.requests(check.capped, k)
    backend = check.backend
    lm = backend.lm
    before = backend.tokens_generated
    paths = {}
    with token_ids(lm) as seen:
        naive_loop(backend, requests)
        paths["naive"] = dict(seen)
        seen.clear()
        backend.with_batching(Batching(1, refill=False)).generate(requests, check.capped.decoding)
        paths["rows_1"] = dict(seen)
        seen.clear()
        backend.with_batching(Batching(k, refill=False)).generate(requests, check.capped.decoding)
        paths[f"rows_{k}"] = dict(seen)
    lm.tokens_generated = before
    figures = check.report["divergence"] = {"sentences": k, "dtype": str(backend.model.dtype).replace("torch.", "")}
    for a, b in (("naive", "rows_1"), ("rows_1", f"rows_{k}")):
        found = [first_difference(backend, r, paths[a][r.prompt], paths[b][r.prompt]) for r in requests]
        figures[f"{a}_vs_{b}"] = {"same": sum(f is None for f in found),
                                  "first_differences": [dict(sentence=i, **f) for i, f in enumerate(found) if f]}
        check.write()


def static(check: Check):
    from xling.backends.batching import Batching

    n = check.n(128, 8)
    requests = check.requests(check.translator, n)
    backend = check.backend.with_batching(Batching(check.n(64, 4)))   # a copy on the same weights
    backend.static_cache, backend.static_shapes = True, []
    check.measure("static_first_pass", lambda: backend.generate(requests, check.translator.decoding), n,
                  keep="static")
    check.write()
    check.measure("static_second_pass", lambda: backend.generate(requests, check.translator.decoding), n)
    check.report["static_shapes"] = backend.static_shapes
    check.ratio("static_second_pass")
    if "auto" in check.outputs:
        auto = check.outputs["auto"][:n]
        check.report["static_equals_auto"] = round(sum(a == b for a, b in zip(check.outputs["static"], auto)) / n, 3)


SECTIONS = [("naive", naive), ("rows_1", rows(1)), ("rows_32", rows(32)), ("rows_512", rows(512)),
            ("kernels_default_32", rows(32, default_kernels=True)), ("auto", auto("auto", True)),
            ("auto_no_refill", auto("auto_no_refill", False)), ("auto_again", auto("auto_again", True)),
            ("nli", nli), ("matrix", matrix), ("static", static), ("generate_batch", generate_batch),
            ("divergence", divergence), ("profile_512", profile_512), ("vllm", vllm_section)]   # (vLLM last: see it)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a tiny model and a few sentences (CPU smoke test)")
    parser.add_argument("--data-dir", default=None, help="default: $XLING_DATA or ../shared/data")
    parser.add_argument("--tokenizer", default=None, help="default: the embedded model's folder")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds after which sections are skipped (default 420; 150 with --small)")
    parser.add_argument("--only", default=None, help="comma-separated sections to run (default: all)")
    parser.add_argument("--no-time-limits", action="store_true",
                        help="no budget and no section caps: every section runs to its end (the test "
                             "suite's --small run, whose figures on a busy CPU measure nothing)")
    parser.add_argument("--out", default=None, help="the JSON, rewritten after every section")
    parser.add_argument("--fp32", action="store_true",
                        help="the model in float32 on a GPU too (to compare outputs across paths)")
    args = parser.parse_args(argv)
    args.budget = args.budget or (150 if args.small else 420)
    started = time.perf_counter()

    import tokenizers
    import torch
    import transformers

    from xling.backends.base import Decoding
    from xling.backends.loading import open_hf_backend
    from xling.data.languages import check_direction
    from xling.data.parallel import data_root, flores200
    from xling.translation.translator import Translator

    on_gpu = torch.cuda.is_available() and not args.small
    root = data_root(args.data_dir)
    if args.tokenizer is None:
        from xling.backends.embedded import embedded_model_dir
        args.tokenizer = str(embedded_model_dir())
    src, tgt = check_direction("ko", "en")
    sources = flores200("devtest", src, root)
    with tempfile.TemporaryDirectory(prefix="xling-gpu-check-") as folder:
        args.model_folder = folder
        build = build_model(Path(folder), Path(args.tokenizer), "tiny" if args.small else "1.5b", on_gpu, args.fp32)
        start = time.perf_counter()
        backend = open_hf_backend(folder, display="qwen2-1.5b-shaped" if on_gpu else "qwen2-tiny",
                                  device=None if on_gpu else "cpu")
        if args.fp32:   # xling loads bfloat16 on a GPU: run 4's "--fp32" call ran in bf16 for want of this
            backend.lm.dtype = "float32"
            backend.lm.fingerprint.pop("dtype", None)
        backend.model
        load = time.perf_counter() - start
        # A random model runs every row to its budget; --small caps answers at 16 tokens.
        translator = Translator(backend=backend, cache=False,
                                decoding=Decoding(max_new_tokens_cap=16) if args.small else None)
        capped = Translator(backend=backend, cache=False,
                            decoding=Decoding(max_new_tokens_cap=16 if args.small else 32))
        check = Check(args, backend, translator, capped, root, src, tgt, sources, started)
        check.report.update({
            "device": torch.cuda.get_device_name(0) if on_gpu else "cpu",
            "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                         "tokenizers": tokenizers.__version__, "python": sys.version.split()[0]},
            "model": ("qwen2-1.5b-shaped, random " + ("fp32" if args.fp32 else "bf16")) if on_gpu
            else "qwen2-tiny, random fp32",
            "loaded_dtype": str(backend.model.dtype).replace("torch.", ""),   # what really ran
            "build_seconds": round(build, 1), "load_seconds": round(load, 1)})
        backend.with_batching(backend.batching).generate(check.requests(capped, 2), capped.decoding)   # warm-up
        wanted = set(args.only.split(",")) if args.only else None
        for name, function in SECTIONS:
            if wanted is None or name in wanted:
                check.run(name, lambda: function(check))
        check.same("rows_1_equals_naive", "rows_1", "naive")
        check.same("rows_32_equals_rows_1", "rows_32", "rows_1")
        if on_gpu:
            check.report["peak_gpu_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2 ** 30, 2)
        check.write()
    print(json.dumps(check.report, indent=1))
    return check.report


if __name__ == "__main__":
    main()
