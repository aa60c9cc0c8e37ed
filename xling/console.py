"""The `xling` console entry point: light, so that Ctrl-C or SIGTERM during start-up (the
command modules' imports, a second or more on a busy machine) ends with one line and the usual
status instead of a traceback."""
from __future__ import annotations

import signal
import sys


class _Terminated(KeyboardInterrupt):
    pass


def _terminate(signum, frame):
    raise _Terminated


def run() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        from .cli import run as command_line  # (it installs its own SIGTERM handler)
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, _Terminated)
        print(f"xling: {'terminated' if terminated else 'interrupted'}", file=sys.stderr)
        sys.exit(128 + (signal.SIGTERM if terminated else signal.SIGINT))
    command_line()
