"""`python -m xling.cli`: the same as the `xling` command."""
from . import run

run()
