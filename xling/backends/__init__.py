"""Model backends: every task talks only to the small interface in `base`."""
from .base import Backend, Decoding, GenerationRequest, Prompt

__all__ = ["Backend", "Decoding", "GenerationRequest", "Prompt", "load_backend"]


def load_backend(model: str | None = None, **options) -> Backend:
    """Load a backend for `model` (a local path or hub name; None: $XLING_MODEL or the
    embedded default model). Imports torch lazily."""
    from .hf import load_hf_backend

    return load_hf_backend(model, **options)
