"""The `xling` command line: parses options and calls the library (keep it thin). One module
per command group; `main` turns every user mistake into one line on stderr.

Only click and xling's light modules are imported at start-up; torch loads when a model does.
"""
from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from ..errors import XlingError
from . import evaluate, listing, metaeval, reports, score, translate  # noqa: F401 - they add their commands
from .app import cli, interrupted_keeps
from .options import BatchSize, Bounded

__all__ = ["BatchSize", "Bounded", "cli", "main", "run"]


# `xling` or `xling eval` alone (click 8.2+; 8.1 prints the help itself, matching nothing here)
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


# Options that take several values (`-i A B C`); click wants `-i A -i B -i C`.
VARIADIC = {"score": {"-i", "--input", "-m", "--metrics", "-r", "--reference"},
            "figures": {"-r", "--runs"}}


def expand_variadic(argv: list[str]) -> list[str]:
    """Rewrite `-i A B` as `-i A -i B` for the variadic options of the chosen command."""
    command = next((a for a in argv if not a.startswith("-")), None)
    options = VARIADIC.get(command or "")
    if not options:
        return argv
    out, current, has_value = [], None, False
    for arg in argv:
        if arg.startswith("-") and len(arg) > 1:
            current, has_value = (arg if arg in options else None), False
        elif current is not None:
            if has_value:  # a further value: repeat the option before it
                out.append(current)
            has_value = True
        out.append(arg)
    return out


# The commands whose finished work an interrupted run keeps (outputs, scores in the caches).
RESUMABLE = {"translate", "eval", "run", "tune-ratio", "rescore", "score", "meta-eval"}


def _command_words(argv: list[str]) -> list[str]:
    """The leading words of `argv` that name a command and its subcommands (`eval mt`): where a
    missing option value is reported, click gives no context to name them."""
    words, group = [], cli
    for arg in argv:
        command = getattr(group, "commands", {}).get(arg)
        if command is None:
            break
        words.append(arg)
        group = command
    return words


def _no_cache(argv: list[str]) -> bool:
    """--no-cache among the options (before a `--`)."""
    return "--no-cache" in argv[:argv.index("--")] if "--" in argv else "--no-cache" in argv


def main(argv=None) -> int:
    argv = expand_variadic(list(sys.argv[1:] if argv is None else argv))
    interrupted_keeps.clear()   # (main called again in one process: a test, a notebook)
    try:
        cli.main(args=argv, prog_name="xling", standalone_mode=False)
    except XlingError as exc:
        click.echo(f"xling: error: {exc}", err=True)
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt) as exc:   # click makes Ctrl-C an Abort
        # (nothing is stored with --no-cache: running again starts from scratch)
        where = interrupted_keeps.get("where", "the cache")
        if isinstance(where, Path) and not where.is_file():   # nothing kept yet
            where = None
        kept = f" (finished work is kept in {where}; run again to resume)" if where is not None and \
            next((a for a in argv if not a.startswith("-")), None) in RESUMABLE and not _no_cache(argv) else ""
        if isinstance(exc, Terminated) or isinstance(exc.__cause__, Terminated):
            click.echo(f"xling: terminated{kept}", err=True)
            return 128 + signal.SIGTERM
        click.echo(f"xling: interrupted{kept}", err=True)
        return 130
    except _NO_ARGS_IS_HELP as exc:   # `xling`, `xling eval`: the help itself
        click.echo(exc.format_message())
        return 0
    except click.UsageError as exc:   # one line, like every other user mistake
        where = f"xling {exc.ctx.command_path.partition(' ')[2]} --help".replace("  ", " ") \
            if exc.ctx else " ".join(["xling", *_command_words(argv), "--help"])
        click.echo(f"xling: error: {' '.join(exc.format_message().split())} (see `{where.strip()}`)",
                   err=True)
        return exc.exit_code
    except click.ClickException as exc:
        click.echo(f"xling: error: {' '.join(exc.format_message().split())}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    except SystemExit as exc:   # click's own answer to a closed pipe (`xling ... | head -1`): exit 1
        if exc.code == 1 and type(sys.stdout).__name__ == "_PacifyFlushWrapper":
            return 0
        raise
    except MemoryError:   # no traceback: say what to make smaller (finished work is cached)
        click.echo("xling: error: out of memory; use fewer candidates, segments or a smaller batch "
                   "(--batch-size), then run again"
                   + ("" if _no_cache(argv) else ": finished work is kept in the cache"), err=True)
        return 1
    return 0


class Terminated(KeyboardInterrupt):
    """SIGTERM (timeout, kill, Slurm's scancel, docker stop), unwound as Ctrl-C is: temporary
    files, locks and half-converted models are cleaned up on the way out."""


def _terminate(signum, frame):
    raise Terminated()


def run():  # console-script entry point (and `python -m xling.cli`)
    from ..console import safe_stderr
    safe_stderr()   # (a closed or full stderr never loses the translations)
    signal.signal(signal.SIGTERM, _terminate)
    code = main()
    # the work is done and said: a Ctrl-C or SIGTERM while the interpreter waits for a worker
    # thread to end (shutdown joins them) stops it as the signal does, never with a traceback
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sys.exit(code)
