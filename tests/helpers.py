"""Helpers shared by the test files: the CLI run in-process or as a subprocess, and what a
user-mistake error must look like (one `xling: error:` line, exit 2, no traceback)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from xling.cli import main


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """`xling ARGS` in this process (an unexpected exception fails the test with its traceback)."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def xling(*args, input=None, env=None, timeout=300, python=sys.executable):
    """`python -m xling.cli ARGS` as a user runs it (bytes out and err); `python`: another
    environment's interpreter (the vLLM venv's, say)."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([str(python), "-m", "xling.cli", *args], input=input,
                          capture_output=True, timeout=timeout, env=full_env)


def assert_one_line_error(result, pattern):
    """A subprocess run that failed with exactly one `xling: error:` line holding `pattern`."""
    assert result.returncode == 2, result.stderr
    err = result.stderr.decode()
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("xling: error: "), err
    assert pattern in lines[0], err


def assert_error(code: int, err: str, pattern: str) -> str:
    """Exit 2 and a last stderr line that is xling's one error line, holding `pattern`
    (progress bars and notes may come before it)."""
    assert "Traceback" not in err, err
    assert code == 2, err
    last = [line for line in err.replace("\r", "\n").splitlines() if line.strip()][-1]
    assert last.startswith("xling: error: ") and pattern in last, err
    return last


def write_corpus(folder: Path, sources: dict[str, list[str]]) -> str:
    """One text file per language; returns the `text:` data spec that reads them."""
    for lang, lines in sources.items():
        (folder / f"corpus.{lang}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f"text:{folder}/corpus.{{lang}}"


def files_under(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` (relative path -> bytes): to show that nothing else changed."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
