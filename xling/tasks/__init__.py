"""Task runners: each builds prompts, calls a backend and writes a run folder. Which runner a
task has is in the one table of tasks, `xling.runs.config.TASKS`."""


def preflight(config) -> None:
    """What a config's runner checks before its model loads, run for every variant of an
    experiment file before the first runs (a bad last variant failed hours later, after the
    others ran). MT runs; the other tasks check theirs as they start."""
    if config.task == "mt":
        from .mt import check_mt

        check_mt(config)


def run_config(config, overwrite: bool = False, progress: bool = True):
    """Run any experiment config by its task."""
    import importlib

    from ..errors import XlingError
    from ..runs.config import TASKS

    if config.task not in TASKS:
        raise XlingError(f"no runner for task {config.task!r}")
    module, _, function = TASKS[config.task].runner.partition(":")
    return getattr(importlib.import_module(module), function)(config, overwrite=overwrite, progress=progress)
