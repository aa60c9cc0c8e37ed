"""The `xling` command group; each command group's module adds its commands to it."""
from __future__ import annotations

from pathlib import Path

import click

# Where an interrupted command's finished work is kept, when it is not in the cache (a command
# sets it once it knows): {"where": "the cache"}, {"where": None} for nowhere, or a file's Path,
# promised only once that file is written.
interrupted_keeps: dict[str, str | Path | None] = {}


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="xling")
def cli():
    """Cross-lingual machine translation and inference with large language models."""
