"""Progress bars on stderr: live on a terminal (a widget in a notebook); in a log file (stderr
not a terminal, as under Slurm or `2> log`) one update every 30 seconds, so a long run shows it
is alive without filling the log with redraws."""
from __future__ import annotations

import sys

LOG_INTERVAL = 30.0   # seconds between two updates written to a log


def bar(**options):
    """A tqdm bar (options as tqdm's: total, iterable, desc, unit, disable, leave)."""
    if "ipykernel" in sys.modules:   # a notebook: tqdm's widget
        from tqdm.auto import tqdm as notebook_bar
        return notebook_bar(**options)
    from tqdm import tqdm

    live = sys.stderr.isatty()
    return tqdm(file=sys.stderr, dynamic_ncols=live, mininterval=0.1 if live else LOG_INTERVAL, **options)
