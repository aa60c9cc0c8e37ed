"""xling: cross-lingual machine translation and inference with large language models.

Heavy libraries (torch, transformers) load only when a model is used, so `import xling` and
`xling --help` stay fast.
"""
from .version import __version__

__all__ = ["translate", "Translator", "resolve_language", "XlingError", "__version__"]

from .data.languages import resolve as resolve_language
from .errors import XlingError


def __getattr__(name):
    if name in ("translate", "Translator"):
        from .translation import translator as module
        return getattr(module, name)
    raise AttributeError(f"module 'xling' has no attribute {name!r}")


def __dir__():   # the lazy names too (a notebook's tab completion)
    return sorted(set(globals()) | set(__all__))
