"""`xling translate`."""
from __future__ import annotations

import os
import shlex
import sys
from contextlib import nullcontext

import click

from ..errors import XlingError
from ..metrics.registry import metric_settings, warn_unread_settings
from ..runs.config import MTEvalConfig
from ..translation.selection import Selection
from .app import cli
from .options import (
    JUDGE_SETTINGS,
    MODEL_SETTINGS,
    SELECTION_SETTINGS,
    backend_options,
    candidate_options,
    config_option,
    judge_options,
    metric_options,
)


@cli.command()
@click.option("--src", "-s", required=True, help="Source language (ko, kor, kor_Hang, ...).")
@click.option("--tgt", "-t", required=True, help="Target language.")
@click.option("--model", "-m", default=None,
              help="Local folder or hub name; default: $XLING_MODEL, else the embedded tiny model.")
@click.option("--template", default=None,
              help="Prompt template name or YAML file (default: mt-chat for chat models, "
                   "mt-completion for base models). See `xling templates`.")
@config_option(MTEvalConfig, "shots", "--shots", "-k")
@click.option("--shots-file", type=click.Path(dir_okay=False), default=None,
              help="Demonstration pairs: TSV (source<TAB>target) or JSONL (source, target).")
@config_option(MTEvalConfig, "seed", "--seed")
@config_option(MTEvalConfig, "batch_size", "--batch-size", "-b")
@config_option(MTEvalConfig, "max_batch_tokens", "--max-batch-tokens")
@config_option(MTEvalConfig, "refill", "--refill/--no-refill")
@click.option("--input", "-i", "input_path", type=click.Path(dir_okay=False), default=None,
              help="Read source lines from this file (default: TEXT arguments, else stdin; - is stdin).")
@click.option("--output", "-o", "output_path", type=click.Path(dir_okay=False), default=None,
              help="Write translations here (default: stdout). Written only when complete.")
@click.option("--paragraphs", is_flag=True,
              help="Segments are blocks separated by blank lines; their inner line breaks are kept "
                   "from input to output where the model writes them (an encoder-decoder MT model's "
                   "tokenizer reads one as a space), blocks stay blank-line separated.")
@candidate_options
@metric_options(*MODEL_SETTINGS, "precision")
@judge_options   # (--qe gemba-*: the judge was always the embedded model)
@click.option("--no-cache", is_flag=True, help="Do not reuse or store the translations in the cache (an "
              "LLM judge's answers, --qe gemba-*, are still cached).")
@config_option(MTEvalConfig, "static_cache", "--static-cache")
@backend_options
@click.argument("text", nargs=-1)
def translate(src, tgt, model, template, shots, shots_file, seed, batch_size, max_batch_tokens, refill,
              input_path, output_path, paragraphs, no_cache, static_cache, text, **settings):
    """Translate TEXT (or a file, or stdin): one output line per input line, in order (with
    --paragraphs: one output block per blank-line separated input block)."""
    from ..backends.settings import BackendSettings
    from ..data.languages import check_direction
    from ..data.textio import (
        atomic_writer,
        is_blank,
        join_paragraphs,
        output_target,
        read_lines,
        read_stdin_lines,
        split_lines,
    )
    from ..data.textio import paragraphs as blocks_of
    from ..store.locks import output_lock
    from ..translation.postprocess import one_line

    src_lang, tgt_lang = check_direction(src, tgt)
    if text and input_path:   # `-i in.txt out.txt` would translate the words "out.txt"
        raise XlingError(f"give TEXT or --input, not both (TEXT: {' '.join(text)[:60]!r}); "
                         "the output file is -o FILE")
    for option, value in (("--model", model), ("--shots-file", shots_file), ("--template", template),
                          ("--input", input_path), ("--output", output_path)):
        if value is not None and not value.strip():   # an unset shell variable, not "not given"
            raise XlingError(f"{option} is empty; leave it out, or give a value")
    if shots_file and not shots:
        raise XlingError("--shots-file gives demonstrations, and --shots is 0: add --shots K")
    if output_path == "-":   # the usual spelling of standard output
        output_path = None
    if input_path == "-" or text == ("-",):   # and of standard input (a lone "-" was translated as text)
        input_path, text = None, ()
    metric_values = {k: settings.pop(k) for k in (*MODEL_SETTINGS, *JUDGE_SETTINGS, "precision")}
    selection = Selection.from_settings({**metric_values, "seed": seed},
                                        **{k: settings.pop(k) for k in SELECTION_SETTINGS})
    warn_unread_settings(metric_values, [] if selection.greedy else [selection.chooser],
                         "this translation's metrics (only --select mbr or rerank runs one)" if selection.greedy
                         else f"--select {selection.select}'s {selection.chooser}")
    if settings.get("backend", "auto") == "auto":   # (candidates vLLM cannot draw, an encoder-decoder model)
        from ..backends.choice import encoder_decoder_reason, hf_only_reason, resolve_backend
        def hf_only() -> str | None:
            drawn = None if selection.greedy else hf_only_reason(
                selection.select, selection.candidates, selection.sampling.method, selection.sampling.epsilon,
                selection.sampling.temperature)
            return drawn or encoder_decoder_reason(model)
        settings["backend"] = resolve_backend("auto", bool(static_cache), hf_only)
    settings = BackendSettings(**settings)
    if not selection.greedy:   # the MBR utility's or QE reranker's model, before any sampling
        from ..metrics.preflight import check_metric_models
        check_metric_models([selection.chooser], metric_values)
    # The output is checked (and locked) before any model loads: never translate for nothing.
    reads = (input_path, shots_file, template, model, settings.api_key_file,
             *(v for k, v in metric_values.items() if metric_settings()[k].is_model))
    target = output_target(output_path, inputs=reads, reads_stdin=not text and not input_path) if output_path else None
    with output_lock(target) if target else nullcontext():
        if text:   # only \n separates lines (U+2028 inside an argument is text, as in a file)
            for k, t in enumerate(text, 1):
                try:
                    t.encode("utf-8")
                except UnicodeEncodeError:   # argv bytes that are not UTF-8 (surrogate-escaped)
                    raise XlingError(f"TEXT argument {k} is not valid UTF-8") from None
            lines = [line for t in text for line in split_lines(t) or [""]]
        elif input_path:
            lines = read_lines(input_path)
        else:
            if sys.stdin is not None and sys.stdin.isatty():   # (a forgotten TEXT or -i looked like a hung command)
                click.echo("xling: reading source lines from the terminal; end with Ctrl-D "
                           "(or give TEXT or -i FILE)", err=True)
            lines = read_stdin_lines(instead="give TEXT or --input FILE")
            if not lines:
                raise XlingError("standard input is empty: nothing to translate")
        if paragraphs:   # TEXT arguments are never merged into one block
            lines = [b for t in text for b in blocks_of(split_lines(t))] if text else blocks_of(lines)
            if not lines:
                raise XlingError("the input holds no text to translate")
        pool = None
        if shots_file:
            from ..data.parallel import read_pair_file
            pool = read_pair_file(shots_file)
        from ..translation.translator import Translator

        translator = Translator(model, template=template, shots=shots, shot_pool=pool, seed=seed,
                                batch_size=batch_size, max_batch_tokens=max_batch_tokens, refill=refill,
                                cache=not no_cache, settings=settings,
                                static_cache=static_cache)
        if pool is not None and translator.template is not None:   # (JSONL pairs may hold line breaks)
            translator.template.check_demonstrations(pool, src_lang, tgt_lang)
        if selection.greedy:
            outputs = translator.translate(lines, src_lang, tgt_lang, progress=input_path is not None)
        else:   # many candidates per line are long work even for one line: always a bar
            outputs = [r.text for r in translator.translate_candidates(lines, src_lang, tgt_lang, selection,
                                                                       progress=True)]
        body = join_paragraphs(outputs) if paragraphs else "".join(one_line(o) + "\n" for o in outputs)
        # (invisible characters alone, a zero-width space, are no translation either)
        failed = [k for k, (line, out) in enumerate(zip(lines, outputs), 1) if not is_blank(line) and is_blank(out)]
        unit = "block" if paragraphs else "line"
        # blank-line separated blocks cannot hold an empty one: it vanishes from the output
        dropped = [k for k in failed if not outputs[k - 1].strip()] if paragraphs else []
        kept = [k for k in failed if k not in dropped]
        if dropped:
            click.echo(f"xling: warning: {len(dropped)} of {len(lines)} blocks were translated to nothing "
                       f"({_places(unit, dropped)}); the output has that many fewer blocks than the input", err=True)
        if kept:   # they stay in place: an empty (or invisible) line of output is a failed translation
            click.echo(f"xling: note: {len(kept)} of {len(lines)} {unit}s were translated to nothing "
                       f"({_places(unit, kept)}); {'it stays' if len(kept) == 1 else 'they stay'} in the "
                       "output, empty or holding only invisible characters", err=True)
        if target:
            with atomic_writer(target) as handle:
                handle.write(body)
        else:   # UTF-8 whatever the locale says, as -o files are
            try:
                sys.stdout.flush()
                sys.stdout.buffer.write(body.encode("utf-8"))
                sys.stdout.flush()
            except (AttributeError, ValueError):   # stdout closed (`1>&-`)
                raise XlingError("standard output is closed: write to a file with -o FILE") from None
            except OSError as exc:
                if isinstance(exc, BrokenPipeError):
                    raise
                raise XlingError(f"cannot write to standard output: {exc.strerror or exc}; the "
                                 "translations are in the cache: run again with -o FILE") from None
        # TEXT naming files (`xling translate ... a.txt`, as sacrebleu or cat take them): said after
        # the work and its output, so after every refusal; the words were what TEXT asks to translate
        named = [t for t in text if os.path.isfile(t)]
        if named:
            are = "is also a file" if len(named) == 1 else "are also files"
            click.echo(f"xling: warning: {', '.join(map(repr, named))} {are} here; TEXT is translated as words "
                       f"(to translate the file's lines: -i {shlex.quote(named[0])})", err=True)


def _places(unit: str, numbers: list[int]) -> str:
    """"line 2", "blocks 2, 4" (the first ten)."""
    return f"{unit}{'s' if len(numbers) > 1 else ''} {', '.join(map(str, numbers[:10]))}" \
        + (", ..." if len(numbers) > 10 else "")
