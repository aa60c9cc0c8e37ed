"""Options built from the settings the library owns (config dataclass fields, the backend
registry, the metric specs), so that the command line only collects values."""
from __future__ import annotations

from typing import Any

import click

from ..errors import XlingError
from ..metrics.registry import metric_settings
from ..runs.config import MTEvalConfig


class BatchSize(click.ParamType):
    """A positive integer or "auto"."""
    name = "N|auto"

    def get_metavar(self, param, ctx=None):   # (click upper-cases `name` otherwise)
        return "N|auto"

    def convert(self, value, param, ctx):
        from ..backends.batching import check_batch_size

        try:
            return check_batch_size(value)
        except XlingError as exc:
            self.fail(str(exc), param, ctx)


class Bounded(click.ParamType):
    """A number in the range its setting allows (xling.settings.BOUNDS): finite, and never
    past a bound, so that a bad value is refused here, before any work."""

    def __init__(self, setting: str, base=int):
        self.setting, self.base = setting, base
        self.name = "integer" if base is int else "float"

    def convert(self, value, param, ctx):
        from ..settings import check_number

        value = (click.INT if self.base is int else click.FLOAT).convert(value, param, ctx)
        try:
            return check_number(self.setting, value)
        except XlingError as exc:   # click names the option; the setting's own name may differ
            self.fail(str(exc).replace(f"'{self.setting}' ", "", 1), param, ctx)


def config_option(cls, name: str, *flags: str, **overrides):
    """A click option whose default, help and bounds come from the config dataclass field
    `name`: the dataclass owns them, the command line only collects values."""
    import dataclasses
    import typing

    from ..settings import BOUNDS, choices_of

    spec = next(f for f in dataclasses.fields(cls) if f.name == name)
    hint = typing.get_type_hints(cls)[name]
    base = next((a for a in typing.get_args(hint) if a is not type(None)), hint)
    default = None if spec.default is dataclasses.MISSING else spec.default
    kw: dict[str, Any] = dict(default=default, show_default=default is not None and default is not False,
                              help=spec.metadata.get("help"))
    if name == "batch_size":
        kw["type"] = BatchSize()
    elif choices := choices_of(spec):
        kw["type"] = click.Choice(choices)
    elif spec.metadata.get("path"):
        kw["type"] = click.Path(dir_okay=False)
    elif base is bool:
        kw.update(is_flag=True, show_default=False)
        if default is True and len(flags) == 1 and flags[0].startswith("--") and "/" not in flags[0]:   # else never off
            flags = (f"{flags[0]}/--no-{flags[0][2:]}",)
            kw["show_default"] = True
    elif base in (int, float):
        kw["type"] = Bounded(name, base) if name in BOUNDS else base
    if default is None and base is str and "type" not in kw or spec.metadata.get("path"):
        kw["callback"] = refuse_empty   # an unset shell variable is not "not given"
    kw.update(overrides)
    return click.option(*flags, name, **kw)


class FilePath(click.Path):
    """click.Path refusing an empty value (an unset shell variable): Path("") is the working
    directory, so `xling report "$RUN"` would read ".", and `run ""` a folder."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not value.strip():
            self.fail("is empty; give a path", param, ctx)
        return super().convert(value, param, ctx)


def refuse_empty(ctx, param, value):
    if isinstance(value, str) and not value.strip():
        raise click.BadParameter("is empty; leave the option out, or give a value")
    return value


def config_options(*specs):
    """Several options of MTEvalConfig as one decorator: (field, flag, ...) each."""
    def wrap(f):
        for spec in reversed(specs):
            f = config_option(MTEvalConfig, *spec)(f)
        return f
    return wrap


def metric_options(*names, unset: bool = False):
    """Options of metric settings (declared by the metric specs, xling.metrics.registry; through
    the config's fields): --comet-model, --metric-batch-size, ... With `unset`, no defaults
    (rescore: the run's own settings stay unless given)."""
    def flags(name):
        return metric_settings()[name].option_flags()
    extra = dict(default=None, show_default=False) if unset else {}

    def wrap(f):
        for name in reversed(names):
            f = config_option(MTEvalConfig, name, *flags(name), **extra)(f)
        return f
    return wrap


# Every metric setting, as the metric specs declare them, so a new one reaches translate, score,
# eval mt and rescore without being listed here: models and files (with the batch size), and the
# judges' options; precision is given where a command has a use for it.
MODEL_SETTINGS = tuple(k for k, s in metric_settings().items() if not s.judge and k != "precision")
JUDGE_SETTINGS = tuple(k for k, s in metric_settings().items() if s.judge)
# How one translation is chosen (xling.translation.selection.Selection), one option each.
SELECTION_SETTINGS = ("candidates", "select", "utility", "qe", "pseudo_refs", "sampling", "temperature", "top_p",
                      "epsilon")
candidate_options = config_options(*((name, "--" + name.replace("_", "-"), *(("-n",) if name == "candidates" else ()))
                                     for name in SELECTION_SETTINGS))
judge_options = metric_options(*JUDGE_SETTINGS)
transport_options = config_options(   # for commands whose only server is a judge's
    ("concurrency", "--concurrency"), ("request_timeout", "--request-timeout"), ("max_retries", "--max-retries"))


def backend_options(f):
    """--backend and the settings of every registered backend (xling.backends.registry), shared
    by every command that takes a model; one the chosen backend does not take is refused."""
    import dataclasses

    from ..backends.settings import BackendSettings

    for spec in reversed(dataclasses.fields(BackendSettings)):
        f = config_option(BackendSettings, spec.name, "--" + spec.name.replace("_", "-"))(f)
    return f


def metric_names() -> str:
    """The registered metrics for a help text, by what they need."""
    from ..metrics.registry import REGISTRY, get

    get("bleu")   # loads plugins' metrics too
    with_refs = [n for n, m in REGISTRY.items() if m.needs_refs]
    return f"{' '.join(with_refs)} (references); {' '.join(n for n in REGISTRY if n not in with_refs)} (none)"


def split_list(values) -> list[str] | None:
    out = [v.strip() for value in values or () for v in value.split(",") if v.strip()]
    return out or None


def metric_list(value: str | None) -> list[str] | None:
    """`--metrics a,b`: None when not given; given but empty is a mistake, not the defaults."""
    if value is None:
        return None
    names = split_list([value])
    if names is None:
        raise XlingError("--metrics names no metric: give one or more, e.g. --metrics bleu,chrf")
    return names


def print_report(paths, metrics=None, fmt="text", test="bs", n_samples=None):
    from ..reporting.report import build_report
    from ..reporting.tables import render_all

    click.echo(render_all(build_report(paths, metrics, test, n_samples), fmt), nl=False)
