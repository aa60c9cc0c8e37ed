"""Runs in the vLLM venv (tests/vllmenv/build.sh): the embedded model through `--backend vllm`
and through the HF backend in one process, both in float32 on the CPU, and prints one JSON
object that tests/test_vllm.py asserts on. Input (stdin, JSON): {"data_dir": ...}.

- greedy: 16 FLORES-200 devtest ko→en sentences, each backend's raw output; where they differ,
  the HF model's two best next tokens and their logit margin at the first token that differs;
- loglik: 3-shot XNLI (ko, en) scores of 12 items per language from both backends; two options
  that merge with their (zh) context, from both and from the unshared reference;
- candidates: three candidates of four prompts asked alone, with five, and in one batch;
- resume: a cached generation interrupted after its first chunk, then run again.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

# On a CPU vLLM reserves this share of the RAM (KV cache included): 0.9, its default, fails on
# a machine where anything else runs.
GPU_MEMORY = 0.4


def main() -> None:
    args = json.load(sys.stdin)
    from xling.backends import load_backend
    from xling.backends.base import Sampling
    from xling.data.choice import nli_items
    from xling.data.languages import check_direction
    from xling.data.parallel import flores200
    from xling.prompts.choice import render_loglikelihood
    from xling.prompts.templates import load_template
    from xling.translation.translator import Translator

    root = Path(args["data_dir"])
    report = {}
    started = time.perf_counter()
    vllm = load_backend(None, backend="vllm", dtype="float32", enforce_eager=True, max_model_len=2048,
                        gpu_memory_utilization=GPU_MEMORY, quiet=True).backend
    hf = load_backend(None, quiet=True).backend
    report["fingerprint"] = vllm.fingerprint
    # "auto" as vLLM resolves it here (no engine starts for a fingerprint)
    report["auto_dtype"] = load_backend(None, backend="vllm", dtype="auto", enforce_eager=True, max_model_len=2048,
                                        gpu_memory_utilization=GPU_MEMORY, quiet=True).backend.fingerprint["dtype_run"]
    report["context_window"] = vllm.context_window

    # Greedy translation, the same requests (same rendered prompts) through both.
    src, tgt = check_direction("ko", "en")
    sources = flores200("devtest", src, root)[:16]
    translator = Translator(backend=hf, cache=False)
    requests = [r for r, _ in translator.requests(sources, src, tgt).values()]
    report["rendered_equal"] = [vllm.render(r.prompt) for r in requests] == [hf.render(r.prompt) for r in requests]
    t0 = time.perf_counter()
    ours = vllm.generate(requests, translator.decoding)
    report["vllm_seconds"] = round(time.perf_counter() - t0, 1)
    theirs = hf.generate(requests, translator.decoding)
    report["greedy"] = {"vllm": ours, "hf": theirs, "differences": [
        _divergence(hf, requests[i], ours[i], theirs[i]) for i in range(len(requests)) if ours[i] != theirs[i]]}

    # Log-likelihood, 3-shot XNLI.
    template = load_template("xnli-rightq")
    scored = {}
    for lang in ("ko", "en"):
        shots = nli_items("dev", lang, root=root)[:3]
        items = [render_loglikelihood(template, item, lang, shots) for item in nli_items("test", lang, root=root)[:12]]
        scored[lang] = {"vllm": vllm.loglikelihood(items), "hf": hf.loglikelihood(items)}
    report["loglik"] = scored
    # Options that merge with their context across the boundary (Gemma: "因为"+"它" is "因为它"):
    # both backends score log p(context + option) - log p(context), as loglik.scoring_units says.
    merging = [("该物品用气泡包装纸包着，因为", ["它很易碎。", "它很小。"]), ("The cat", [" sat.", " ran."])]
    report["loglik_merging"] = {"vllm": vllm.loglikelihood(merging), "hf": hf.loglikelihood(merging),
                                "hf_unshared": hf.loglikelihood_unshared(merging)}

    # Candidates: candidate k the same whatever N and whatever else is in the batch.
    sampling = Sampling(seed=5, temperature=1.0, top_p=0.95)
    few = requests[:4]
    alone = [vllm.candidates([r], sampling, [[0, 1, 2]])[0] for r in few]
    with_five = vllm.candidates(few, sampling, [[0, 1, 2, 3, 4]] * 4)
    together = vllm.candidates(few, sampling, [[0, 1, 2]] * 4)
    report["candidates"] = {"alone": alone, "with_five": with_five, "together": together}
    report["resume"] = _resume(vllm, requests[:6], translator.decoding, Path(args["cache"]))
    report["documents"] = _documents(vllm, hf, root)
    report["mbr"] = _mbr(vllm, sources[:2], src, tgt)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # tests/: the shared cases
    from backend_conformance import check
    report["conformance"] = check(vllm)
    # Ctrl-C between two engine steps (a notebook's "interrupt kernel"): the unfinished requests
    # stayed queued and the next call got them first, every row another prompt's output (audit
    # round 23). The engine is closed now: it gives its memory back, and one starts again in this
    # process (a second engine beside a live one found no memory left on this CPU: round 18).
    engine = vllm.llm.llm_engine
    step = engine.step

    def interrupted_step():
        engine.step = step
        raise KeyboardInterrupt

    engine.step = interrupted_step
    before = _rss_mb()
    try:
        vllm.generate(requests[:4], translator.decoding)
        raised = False
    except KeyboardInterrupt:
        raised = True
    del engine, step
    report["closed"] = {"interrupt_raised": raised, "rss_mb_before": before, "rss_mb_after": _rss_mb(),
                        "again_equal": vllm.generate(requests[:2], translator.decoding) == ours[:2]}
    vllm.close()
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, ensure_ascii=False))


def _rss_mb() -> int:
    import gc
    gc.collect()
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) // 1024


def _documents(vllm, hf, root: Path) -> dict:
    """One WMT24++ en→ko document (its first five segments) through document mode on both."""
    from xling.data.languages import check_direction
    from xling.data.parallel import load_parallel
    from xling.translation.documents import translate_documents
    from xling.translation.translator import Translator

    data = load_parallel("wmt24pp:en-ko_KR", root)
    first = data.meta[0]["document_id"]
    positions = [i for i, m in enumerate(data.meta) if m["document_id"] == first][:5]
    texts, ids = [data.text("en")[i] for i in positions], [first] * len(positions)
    src, tgt = check_direction("en", "ko")
    out = {}
    for name, backend in (("vllm", vllm), ("hf", hf)):
        translator = Translator(backend=backend, cache=False, unit="document")
        results, summary = translate_documents(translator, texts, ids, src, tgt)
        out[name] = {"raw": [r.unit.get("chunk_raw") if r.unit else r.raw for r in results],
                     "text": [r.text for r in results], "summary": summary}
    return out


def _mbr(vllm, sources, src, tgt) -> dict:
    """MBR with chrF among four sampled candidates per source, through --backend vllm."""
    from xling.backends.base import Sampling
    from xling.translation.selection import Selection
    from xling.translation.translator import Translator

    results = Translator(backend=vllm, cache=False).translate_candidates(
        sources, src, tgt, Selection("mbr", 4, Sampling(seed=2, temperature=0.8), utility="chrf"))
    return {"chosen": [r.text for r in results], "units": [r.unit for r in results]}


def _resume(vllm, requests, decoding, cache_path: Path) -> dict:
    """Chunks of two: interrupted once the first chunk is stored, then resumed from the cache."""
    from xling.backends import vllm as module
    from xling.backends.cached import CachedBackend
    from xling.store.cache import OutputCache

    module.CHUNK = 2

    def stop(indices, texts):
        raise KeyboardInterrupt

    first = CachedBackend(vllm, OutputCache(str(cache_path)))
    try:
        first.generate(requests, decoding, on_batch=stop)
    except KeyboardInterrupt:
        pass
    again = CachedBackend(vllm, OutputCache(str(cache_path)))
    resumed = again.generate(requests, decoding)
    return {"resumed": resumed, "hits": again.last_hits, "direct": vllm.generate(requests, decoding)}


def _divergence(hf, request, ours: str, theirs: str) -> dict:
    """Where two greedy outputs part: the HF model's two best tokens after the common prefix
    and the margin between their logits (a near-tie explains a different pick)."""
    import torch

    prompt = hf.encode_prompt(request.prompt)
    a = hf.tokenizer(ours, add_special_tokens=False)["input_ids"]
    b = hf.tokenizer(theirs, add_special_tokens=False)["input_ids"]
    common = 0
    while common < min(len(a), len(b)) and a[common] == b[common]:
        common += 1
    with torch.inference_mode():
        logits = hf.model(input_ids=torch.tensor([prompt + b[:common]])).logits[0, -1].float()
    top = torch.topk(logits, 2)
    return {"common_tokens": common, "vllm": ours, "hf": theirs,
            "top2": [hf.tokenizer.decode([int(i)]) for i in top.indices],
            "margin": float(top.values[0] - top.values[1])}


if __name__ == "__main__":
    main()
