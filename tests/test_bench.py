"""The GPU session's script runs end to end in its small mode (here on the CPU, a tiny model with
the embedded tokenizer), so a lent GPU's minutes are never spent on a broken script; on a CPU in
float32 every batching path must give the same outputs."""
import importlib.util
import json
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", REPO / "experiments" / "bench" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_check_small_runs_every_path_with_equal_outputs(data_dir, tmp_path, capsys):
    module = _gpu_check()
    out = tmp_path / "r.json"
    # every path to its end whatever the machine's load (its caps skipped sections on a busy CPU)
    report = module.main(["--small", "--no-time-limits", "--data-dir", str(data_dir), "--out", str(out)])
    assert report["device"] == "cpu"
    failed = {k: v for k, v in report.items() if isinstance(v, str) and v.startswith("failed")}
    assert not failed, failed
    for path in ("naive", "rows_1", "rows_32", "rows_512", "kernels_default_32", "auto", "auto_no_refill", "auto_again",
                 "static_first_pass", "static_second_pass"):
        assert report[path]["new_tokens_per_s"] > 0, path
    assert report["rows_1"]["attention"]["sdpa_kernels"] == ["flash", "efficient", "math"]
    assert report["auto"]["plan"]["batch_size"] == "auto"
    assert report["auto"]["batches"] and report["auto_again_equals_auto"] == 1.0
    for part in ("prefill", "prefill_and_8_steps"):
        assert report["profile_512"][part]["by_host_time"] and report["profile_512"][part]["by_device_time"]
    # float32 on a CPU: every batching path gives the same outputs
    assert report["auto_refill_equals_no_refill"] == 1.0 and report["static_equals_auto"] == 1.0
    assert report["rows_1_equals_naive"] == 1.0 and report["rows_32_equals_rows_1"] == 1.0
    assert report["static_shapes"] and len(report["static_shapes"]) <= 2
    assert report["matrix"]["directions"] == 12 and report["matrix"]["sentences"] == 48
    nli = report["nli"]          # its cap may stop it on a slow machine; what it measured holds
    if isinstance(nli, dict):
        assert nli["items"] == 20 and nli["same_predictions"] == 1.0 and nli["max_abs_score_difference"] < 1e-4
    assert report["vllm"].startswith("skipped") or isinstance(report["vllm"], dict)
    divergence = report["divergence"]         # fp32 on a CPU: no path parts from another
    assert divergence["naive_vs_rows_1"] == {"same": 4, "first_differences": []}
    assert divergence["rows_1_vs_rows_4"] == {"same": 4, "first_differences": []}
    # the JSON on disk is the last one written, whole
    assert json.loads(out.read_text())["total_seconds"] == report["total_seconds"]
    assert '"rows_512"' in capsys.readouterr().out


def test_transformers_generate_batch_runs_on_a_model_xling_switched_to_its_own_attention(tiny_causal_base):
    """On transformers 5.17 (the device's) xling switches a model to `xling_sdpa`, which paged
    attention refuses: step_overhead's generate_batch failed there on every row count (gpu_check
    alone set "sdpa" around it). The benchmarks' one helper does it now, and puts it back."""
    import sys

    from transformers import GenerationConfig

    from xling.backends import attention
    from xling.translation.translator import Translator

    sys.path.insert(0, str(REPO / "experiments" / "bench"))
    try:
        from _common import generate_batch
    finally:
        sys.path.remove(str(REPO / "experiments" / "bench"))
    backend = Translator(str(tiny_causal_base), cache=False).backend
    model = backend.model
    attention.install_gqa_decode(model, force=True)
    assert model.config._attn_implementation == attention.XLING_SDPA
    prompts = [backend.lm.tokenizer("Korean: 물.\nEnglish:")["input_ids"], backend.lm.tokenizer("Hello")["input_ids"]]
    config = GenerationConfig(max_new_tokens=4, do_sample=False, eos_token_id=sorted(backend.lm.eos_ids))
    outputs = generate_batch(model, prompts, config)
    assert len(outputs) == 2
    assert model.config._attn_implementation == attention.XLING_SDPA


def test_gpu_check_finds_where_two_paths_part_and_whether_it_is_a_tie(tiny_causal_base):
    """The device session's question (1 row vs plain generate differ on CUDA): the first step
    whose tokens differ, and a reference forward that says which token the model prefers there."""
    from xling.data.languages import check_direction
    from xling.translation.translator import Translator

    module = _gpu_check()
    translator = Translator(str(tiny_causal_base), cache=False)
    backend = translator.backend
    [(request, _)] = translator.requests(["물은 맑다."], *check_direction("ko", "en")).values()
    with module.token_ids(backend.lm) as seen:
        backend.generate([request], translator.decoding)
    greedy = seen[request.prompt]
    assert len(greedy) >= 3
    assert module.first_difference(backend, request, greedy, list(greedy)) is None
    other = greedy[:2] + [(greedy[2] + 1) % len(backend.lm.tokenizer)] + greedy[3:]
    found = module.first_difference(backend, request, greedy, other)
    assert found["step"] == 2 and found["tokens"] == [greedy[2], other[2]]
    assert found["reference_picks"] == "first path"      # greedy's own token is the argmax there
    # (each rounded to 6 decimals on its own: their difference may differ from the margin by 1e-6)
    assert found["margin"] > 0 and abs(found["margin"] - (found["logits"][0] - found["logits"][1])) <= 2e-6
    assert found["kernel_noise"] >= 0     # the margin's change from math attention to PyTorch's own choice
    assert found["verdict"].startswith("tie") == (found["margin_in_rounding_units"] <= 4
                                                  or abs(found["margin"]) <= 4 * found["kernel_noise"])
    shorter = module.first_difference(backend, request, greedy, greedy[:-1])
    assert shorter == {"step": len(greedy) - 1, "kind": "one path stopped earlier",
                       "lengths": [len(greedy), len(greedy) - 1]}
