"""The `xling` console entry point: light, so that Ctrl-C or SIGTERM during start-up (the
command modules' imports, a second or more on a busy machine) ends with one line and the usual
status instead of a traceback."""
from __future__ import annotations

import os
import signal
import sys


class _Terminated(KeyboardInterrupt):
    pass


class _Diagnostics:
    """sys.stderr whose write and flush never fail: a note, bar or error line that cannot be
    written (a full log disk, a dead terminal's EIO) is dropped, and the work it would have
    described still reaches -o or stdout. Everything else is the stream's own (isatty, fileno,
    encoding, buffer), so click and tqdm treat it as before."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        try:
            return self._stream.write(text)
        except OSError:
            return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        try:
            self._stream.flush()
        except OSError:
            pass

    def __getattr__(self, name):
        return getattr(self._stream, name)


def safe_stderr() -> None:
    """Make diagnostics unable to end a run. With stderr closed (`2>&-`: Python leaves
    sys.stderr None, so print() wrote notes to stdout, and the next file opened took descriptor
    2) or open for reading only (a shell wrapper's script, as pyenv's shims leave it: EBADF on
    the first note lost every translation), descriptor 2 becomes os.devnull; then sys.stderr
    is wrapped so that a failing write is dropped."""
    if isinstance(sys.stderr, _Diagnostics):
        return
    try:
        os.write(2, b"")
    except OSError:   # closed, or not writable: os.devnull in its place (C-level writes too)
        null = os.open(os.devnull, os.O_WRONLY)
        if null != 2:
            os.dup2(null, 2)
            os.close(null)
        if sys.stderr is None:   # (one on descriptor 2 now writes to os.devnull)
            sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)
    if sys.stderr is not None:
        sys.stderr = _Diagnostics(sys.stderr)


def _terminate(signum, frame):
    raise _Terminated


def run() -> None:
    safe_stderr()
    signal.signal(signal.SIGTERM, _terminate)
    try:
        from .cli import run as command_line  # (it installs its own SIGTERM handler)
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, _Terminated)
        print(f"xling: {'terminated' if terminated else 'interrupted'}", file=sys.stderr)
        sys.exit(128 + (signal.SIGTERM if terminated else signal.SIGINT))
    command_line()
