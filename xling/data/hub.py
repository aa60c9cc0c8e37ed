"""The Hugging Face hub: is it reachable, is a repo already in the local cache, and the one
clear error every loader gives when it is not. Light: no torch, no transformers."""
from __future__ import annotations

import functools
import os
import re
import socket
from contextlib import contextmanager
from functools import lru_cache
from urllib.parse import urlparse

from ..errors import XlingError


@lru_cache(maxsize=None)
def _probe(host: str, port: int, timeout: float) -> bool:
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


class quiet_transformers:
    """`with quiet_transformers():` transformers' own warnings and bars off while xling loads
    with it (its warnings are not the user's to act on, and 5.x's "Loading weights" bar sits
    beside xling's own line on stderr); the user's settings are back afterwards."""

    def __enter__(self):
        from transformers.utils import logging

        self._level, self._bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
        logging.set_verbosity_error()
        logging.disable_progress_bar()
        return self

    def __exit__(self, *exc) -> None:
        from transformers.utils import logging

        logging.set_verbosity(self._level)
        if self._bars:
            logging.enable_progress_bar()


def quieted(function):
    """`function` run inside quiet_transformers()."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with quiet_transformers():
            return function(*args, **kwargs)
    return wrapper


def reachable(timeout: float = 3.0) -> bool:
    """Whether the hub answers at all (probed once per process), so that an offline machine
    gets one clear error instead of minutes of retries. HF_HUB_OFFLINE=1 means no."""
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in {"1", "true", "yes"}:
        return False
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    try:
        url = urlparse(endpoint)
        port = url.port
    except ValueError:   # a port that is no number, an unclosed [IPv6 address
        url, port = None, None
    if url is None or url.scheme not in ("http", "https") or not url.hostname:
        from ..secrets import shown_url

        raise XlingError(f"HF_ENDPOINT {shown_url(endpoint)!r} is not a URL such as https://host or https://host:port")
    return _probe(url.hostname, port or (80 if url.scheme == "http" else 443), timeout)


def looks_like_path(name: str) -> bool:
    return (name.startswith(("/", "./", "../", "~", "\\")) or name.count("/") > 1
            or os.sep in name and os.sep != "/")


def check_name(name: str, what: str = "model") -> str:
    """`name` when it can be a hub repo id; else the one-line error a user gets for a local
    path that does not exist or a name the hub could never hold ("bad name!", "a..b")."""
    if looks_like_path(name):
        raise XlingError(f"{what} folder {name!r} does not exist")
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(name)
    except HFValidationError as exc:
        raise XlingError(f"{what} {name!r} is neither a local folder nor a valid Hugging Face hub "
                         "name (letters, digits, '-', '_' and '.', one '/' at most, no '--' or '..')") from exc
    return name


def load_options(source: str, revision: str | None = None, trust_remote_code: bool = False) -> dict:
    """from_pretrained's options for a model: a hub name read from the local hub cache when the
    hub cannot be reached (local_files_only: no retries, and nothing set for the whole process)."""
    options = dict(revision=revision, trust_remote_code=trust_remote_code)
    if not os.path.exists(os.path.expanduser(source)) and not reachable():
        options["local_files_only"] = True
    return options


@contextmanager
def offline_while(offline: bool):
    """HF_HUB_OFFLINE for the span of a call that reads no options of its own (a vLLM engine
    start), restored afterwards."""
    if not offline:
        yield
        return
    from huggingface_hub import constants

    before, flag = os.environ.get("HF_HUB_OFFLINE"), constants.HF_HUB_OFFLINE
    os.environ["HF_HUB_OFFLINE"], constants.HF_HUB_OFFLINE = "1", True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = flag
        if before is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = before


def cached(name: str, revision: str | None = None) -> bool:
    """Whether the repo's config.json is already in the local hub cache."""
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(name, "config.json", revision=revision), str)


def error_for(name: str, exc: Exception | None = None, what: str = "model") -> XlingError:
    """The user-facing error for a hub name that could not be loaded."""
    text = f"{type(exc).__name__}: {exc}" if exc else "offline"
    if re.search(r"RepositoryNotFound|404|not a valid model identifier", text) and \
            "offline" not in text.lower() and "connect" not in text.lower():
        return XlingError(f"{what} {name!r} is neither a local folder nor a {what} on the "
                          "Hugging Face hub")
    return XlingError(f"{what} {name!r} is not a local folder, and the Hugging Face hub cannot be "
                      "reached to fetch it (offline?); pass a local path or go online")
