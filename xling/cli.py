"""The `xling` command line: parses options and calls the library (keep it thin).

Only click and xling's light modules are imported at start-up; torch loads when a model does.
"""
from __future__ import annotations

import sys

import click

from .errors import XlingError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="xling")
def cli():
    """Cross-lingual machine translation and inference with large language models."""


@cli.command()
@click.option("--src", "-s", required=True, help="Source language (ko, kor, kor_Hang, ...).")
@click.option("--tgt", "-t", required=True, help="Target language.")
@click.option("--model", "-m", default=None,
              help="Local folder or hub name; default: $XLING_MODEL, else the embedded tiny model.")
@click.option("--template", default=None,
              help="Prompt template name or YAML file (default: mt-chat for chat models, "
                   "mt-completion for base models). See `xling templates`.")
@click.option("--shots", "-k", default=0, show_default=True, type=click.IntRange(0),
              help="Few-shot demonstrations (from the FLORES-200 dev split or --shots-file).")
@click.option("--shots-file", type=click.Path(dir_okay=False), default=None,
              help="Demonstration pairs: TSV (source<TAB>target) or JSONL (source, target).")
@click.option("--seed", default=0, show_default=True, help="Seed for choosing demonstrations.")
@click.option("--batch-size", "-b", default=8, show_default=True, type=click.IntRange(1))
@click.option("--input", "-i", "input_path", type=click.Path(dir_okay=False), default=None,
              help="Read source lines from this file (default: TEXT arguments, else stdin).")
@click.option("--output", "-o", "output_path", type=click.Path(dir_okay=False), default=None,
              help="Write translations here (default: stdout). Written only when complete.")
@click.option("--no-cache", is_flag=True, help="Do not reuse or store outputs in the cache.")
@click.option("--trust-remote-code", is_flag=True, help="Allow model code from the hub to run.")
@click.option("--static-cache", is_flag=True, help="Static KV cache (GPU only; compiles once).")
@click.argument("text", nargs=-1)
def translate(src, tgt, model, template, shots, shots_file, seed, batch_size, input_path,
              output_path, no_cache, trust_remote_code, static_cache, text):
    """Translate TEXT (or a file, or stdin): one output line per input line, in order."""
    from .languages import check_direction
    from .postprocess import one_line
    from .textio import atomic_writer, read_lines, read_stdin_lines

    src_lang, tgt_lang = check_direction(src, tgt)
    if text:
        lines = [line for t in text for line in t.splitlines() or [""]]
    elif input_path:
        lines = read_lines(input_path)
    else:
        lines = read_stdin_lines()
    pool = None
    if shots_file:
        from .datasets import read_pair_file
        pool = read_pair_file(shots_file)
    from .translation import Translator

    translator = Translator(model, template=template, shots=shots, shot_pool=pool, seed=seed,
                            batch_size=batch_size, cache=not no_cache,
                            trust_remote_code=trust_remote_code, static_cache=static_cache)
    outputs = translator.translate(lines, src_lang, tgt_lang, progress=input_path is not None)
    body = "".join(one_line(o) + "\n" for o in outputs)
    if output_path:
        with atomic_writer(output_path) as handle:
            handle.write(body)
    else:
        sys.stdout.write(body)


@cli.command()
def langs():
    """List the known languages and their codes."""
    from .languages import all_languages

    rows = [("code", "FLORES", "name", "native", "script", "BLEU tok.", "targeted")]
    rows += [(l.code, l.flores, l.name, l.native, l.script, l.bleu_tokenizer,
              "yes" if l.targeted else "") for l in all_languages()]
    click.echo(_table(rows))


@cli.command()
def templates():
    """List the prompt templates (built-in and the user's)."""
    from .prompts import list_templates

    rows = [("name", "task", "format", "hash", "file")]
    rows += [(t.name, t.task, t.format, t.hash, t.path) for t in list_templates().values()]
    click.echo(_table(rows))


def _table(rows) -> str:
    import unicodedata

    def width(s: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)

    widths = [max(width(str(r[c])) for r in rows) for c in range(len(rows[0]))]
    return "\n".join("  ".join(str(v) + " " * (w - width(str(v))) for v, w in zip(r, widths)).rstrip()
                     for r in rows)


def register(command):
    """Add a command defined in another module (keeps this file a thin index)."""
    cli.add_command(command)
    return command


def main(argv=None) -> int:
    try:
        cli.main(args=argv, prog_name="xling", standalone_mode=False)
    except XlingError as exc:
        click.echo(f"xling: error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("xling: interrupted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("xling: interrupted (finished work is kept in the cache; run again to resume)", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())


def run():  # console-script entry point
    sys.exit(main())
