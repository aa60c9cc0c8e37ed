"""The tests' door to the oracle (tests/oracle/run.py in the reference venv): `Oracle()` starts
it once; `oracle("comet", checkpoint=..., ...)` asks it. Without the venv, a test that needs it
skips with the command that builds it, except under CI, where it fails: the comparisons must run."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BUILD = "bash tests/oracle/build.sh"


def python() -> Path:
    venv = Path(os.environ.get("XLING_ORACLE_VENV") or REPO / ".oracle-venv")
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def missing_reason() -> str | None:
    if not python().is_file():
        return (f"the reference venv (unbabel-comet 2.2.7, mbrs 0.1.8 on the 2024 stack) is not "
                f"built: run `{BUILD}`")
    return None


class Oracle:
    def __init__(self, hub_cache: Path | None = None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
        if hub_cache is not None:       # where the oracle looks up hub names (MiniLM's tokenizer)
            env["HF_HUB_CACHE"] = str(hub_cache)
        self.process = subprocess.Popen([str(python()), str(HERE / "run.py")], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, encoding="utf-8", env=env)

    def __call__(self, task: str, **request):
        self.process.stdin.write(json.dumps({"task": task, **request}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the oracle ended (exit {self.process.wait()}) while answering {task!r}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"the oracle failed on {task!r}:\n{answer['error']}")
        return answer["result"]

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)
