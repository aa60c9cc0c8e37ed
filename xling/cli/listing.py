"""Commands that list what xling knows: languages, prompt templates, data sets."""
from __future__ import annotations

import click

from ..reporting.text_table import table
from .app import cli
from .options import refuse_empty


@cli.command()
def langs():
    """List the known languages and their codes."""
    from ..data.languages import all_languages

    rows = [("code", "FLORES", "ISO 639-3", "name", "native", "script", "BLEU tok.", "targeted", "also")]
    rows += [(lang.code, lang.flores, lang.iso639_3, lang.name, lang.native, lang.script, lang.bleu_tokenizer,
              "yes" if lang.targeted else "", ",".join(lang.aliases)) for lang in all_languages()]
    click.echo(table(rows))


@cli.command()
def templates():
    """List the prompt templates (built-in and the user's)."""
    from ..prompts.templates import list_templates

    rows = [("name", "task", "format", "hash", "file")]
    rows += [(t.name, t.task, t.format, t.hash, t.path) for t in list_templates().values()]
    click.echo(table(rows))



@cli.command(name="data")
@click.option("--data-dir", default=None, callback=refuse_empty, help="Local data root (default: $XLING_DATA).")
@click.option("--all-languages", is_flag=True, help="Every language found, not the first ten.")
def data(data_dir, all_languages):
    """List the data sets (--data SPEC): the spec's form, the task, splits and the languages
    found in the local data folder."""
    from ..data.parallel import data_root
    from ..data.registry import families, local_languages

    root = data_root(data_dir, required=False)
    rows = [("spec", "task", "splits", "local languages", "what")]
    anything = False
    for family in families().values():
        found = local_languages(family, root)
        anything = anything or bool(found)
        shown = "" if not found else ", ".join(found if all_languages or len(found) <= 10 else
                                               [*found[:10], f"... ({len(found)})"])
        # (a spec whose argument is not a split, wmt24pp:en-LOCALE, lists none: its one split is no option)
        splits = "|".join(family.splits) if "[:" in family.grammar else ""
        also = f" (also --data {', '.join(sorted(family.aliases))})" if family.aliases else ""
        rows.append((family.grammar, family.task.replace("multiple_choice", "mc"), splits, shown, family.help + also))
    click.echo(table(rows))
    click.echo(f"\nlocal data root: {root if root is not None else 'none (--data-dir or XLING_DATA)'}")
    if root is not None and not anything:   # (a data set's own folder given, or a typo'd layout)
        click.echo(f"xling: note: no data set found in {root}: the data root holds one folder per data set "
                   "(flores200/, ntrex128/, xnli/, ...; see the README)", err=True)
