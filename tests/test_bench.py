"""The GPU session's script runs end to end in its small mode (here on the CPU, a tiny model with
the embedded tokenizer), so a lent GPU's minutes are never spent on a broken script; on a CPU in
float32 every batching path must give the same outputs."""
import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_gpu_check_small_runs_every_path_with_equal_outputs(data_dir, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("gpu_check", REPO / "experiments" / "bench" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    report = module.main(["--small", "--data-dir", str(data_dir), "--out", str(tmp_path / "r.json")])
    assert report["device"] == "cpu" and "errors" not in report, report.get("errors")
    for path in ("naive", "fixed32", "auto", "auto_no_refill", "static_first_pass", "static_second_pass"):
        assert report[path]["new_tokens_per_s"] > 0, path
    assert report["auto_plan"]["batch_size"] == "auto"
    assert report["auto_refill_equals_no_refill"] == 1.0 and report["static_equals_auto"] == 1.0
    assert report["auto_equals_naive_first"] == 1.0
    assert report["static_shapes"] and len(report["static_shapes"]) <= 2
    nli = report["nli"]
    assert nli["items"] == 20 and nli["same_predictions"] == 1.0 and nli["max_abs_score_difference"] < 1e-4
    assert report["matrix"]["directions"] == 12 and report["matrix"]["sentences"] == 48
    assert '"across_vs_per_item"' in capsys.readouterr().out and (tmp_path / "r.json").is_file()
