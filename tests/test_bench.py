"""The GPU session's script runs end to end in its small mode (here on the CPU, tiny model), so a
lent GPU's minutes are never spent on a broken script."""
import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_gpu_check_small_runs_and_reports_equal_outputs(tiny_causal_base, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("gpu_check", REPO / "experiments" / "bench" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sources = tmp_path / "s.ko"
    sources.write_text("나는 사과를 좋아한다.\n오늘은 비가 온다.\n저는 학생입니다.\n물이 너무 차갑다.\n", encoding="utf-8")
    report = module.main(["--small", "--model", str(tiny_causal_base), "--sources", str(sources)])
    assert report["sentences"] == 4 and report["device"] == "cpu"
    assert report["batched_equals_one_at_a_time"] and report["budgeted_equals_plain"]
    assert report["candidates_seconds"] > 0 and '"batched_speedup"' in capsys.readouterr().out
