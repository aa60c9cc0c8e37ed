"""The repository passes its linter and the library its type checker, with the settings in
pyproject.toml (ruff: pyflakes, pycodestyle's errors, import sorting; mypy on xling/)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*command):
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_is_clean():
    result = run("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean_on_the_library():
    result = run("mypy", "--no-incremental")
    assert result.returncode == 0, result.stdout + result.stderr
