"""Task runners: each builds prompts, calls a backend and writes a run folder."""


def run_config(config, overwrite: bool = False, progress: bool = True):
    """Run any experiment config by its task."""
    if config.task == "mt":
        from .mt import run_mt
        return run_mt(config, overwrite=overwrite, progress=progress)
    if config.task in ("nli", "multiple_choice"):
        from .choice import run_choice
        return run_choice(config, overwrite=overwrite, progress=progress)
    if config.task == "tune_ratio":
        from .tuning.sweep import run_tune_ratio
        return run_tune_ratio(config, overwrite=overwrite, progress=progress)
    from ..errors import XlingError
    raise XlingError(f"no runner for task {config.task!r}")
