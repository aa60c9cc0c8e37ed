"""Task runners: each builds prompts, calls a backend and writes a run folder. Which runner a
task has is in the one table of tasks, `xling.runs.config.TASKS`."""


def run_config(config, overwrite: bool = False, progress: bool = True):
    """Run any experiment config by its task."""
    import importlib

    from ..errors import XlingError
    from ..runs.config import TASKS

    if config.task not in TASKS:
        raise XlingError(f"no runner for task {config.task!r}")
    module, _, function = TASKS[config.task].runner.partition(":")
    return getattr(importlib.import_module(module), function)(config, overwrite=overwrite, progress=progress)
