"""The settings machinery every config dataclass uses: one table of numeric ranges (BOUNDS),
the choices a setting takes, the checks run on construction, and `setting()` (a field with its
help text, from which the command line's options are built)."""
from __future__ import annotations

import types
import typing
from dataclasses import field, fields
from typing import Any, get_args, get_origin

from .errors import XlingError

# The range of every numeric setting, checked however a config is made (YAML, CLI or Python):
# name -> (lowest, highest, whether the lowest itself is allowed); None: no bound. Floats must
# also be finite. An upper bound is there only where a larger value cannot work on any machine:
# MBR's utility matrix grows with candidates x pseudo-references per source (1,024 x 1,024 is
# a million evaluations already); each judge sample is a whole pass of the judge; each request
# in flight is a thread; a timeout past a day overflows the clock; sampling at a temperature
# above 100 is uniform noise; resamples past 100,000 change no p-value's first digits.
BOUNDS = {
    "candidates": (1, 1024, True), "pseudo_refs": (1, 1024, True), "judge_samples": (1, 100, True),
    "judge_max_tokens": (1, None, True),
    "shots": (0, None, True), "limit": (1, None, True), "limit_per_domain": (1, None, True),
    "batch_size": (1, None, True), "max_batch_tokens": (1, None, True),
    "comet_batch_size": (1, None, True), "max_new_tokens": (1, None, True),
    "concurrency": (1, 1024, True), "max_retries": (0, 100, True), "bootstrap": (1, 100_000, True),
    "test_size": (1, None, True), "train_size": (1, None, True), "max_length": (1, None, True),
    "lora_r": (1, None, True), "seed": (0, 2**63 - 1, True), "gpus": (0, 1024, True),
    "request_timeout": (0, 86_400, False), "temperature": (0, 100, False),
    "judge_temperature": (0, 100, False), "top_p": (0, 1, False), "epsilon": (0, 1, True),
    "epochs": (0, 1000, False), "learning_rate": (0, 1, False),
    "tensor_parallel_size": (1, 1024, True), "data_parallel_size": (1, 1024, True),
    "gpu_memory_utilization": (0, 1, False), "max_num_seqs": (1, None, True), "max_model_len": (1, None, True),
}
# Epsilon must stay below 1 (it drops every token at 1).
BELOW = {"epsilon": 1}
CHOICES = {"select": ("greedy", "mbr", "rerank"), "sampling": ("sample", "beam"),
           "unit": ("segment", "document"), "reference": ("post-edit", "original"), "mode": ("ll", "gen", "both"),
           "metric": ("rougeL", "judge")}


# The settings the task configs own (xling.runs.config; tests/test_contributing.py keeps these
# lists equal to the code), and the built-in metrics' run settings. Configs and the command line
# are flat, so a plugin's backend or metric setting of one of these names would silently take
# the task's value (its `limit`, its `out`) or another component's: such a plugin is refused.
TASK_SETTINGS = frozenset({
    "batch_size", "bootstrap", "candidates", "data", "data_dir", "description", "epochs", "epsilon", "gen_template",
    "hypothesis_langs", "keep_bad_sources", "keep_models", "langs", "learning_rate", "limit", "limit_per_domain",
    "lora", "lora_r", "max_batch_tokens", "max_length", "max_new_tokens", "metric", "metrics", "mode", "model",
    "name", "out", "pairs", "premise_langs", "prompt_lang", "pseudo_refs", "qe", "ratios", "reference", "refill",
    "sampling", "seed", "seeds", "select", "shots", "shots_file", "static_cache", "task", "temperature", "template",
    "test_name", "test_size", "top_p", "train_en", "train_hub", "train_ko", "train_name", "train_paired",
    "train_size", "unit", "utility", "backend"})
BUILTIN_METRIC_SETTINGS = frozenset({
    "comet_batch_size", "comet_model", "cometkiwi_model", "cometkiwi_xl_model", "judge_api_key_env",
    "judge_api_key_file", "judge_base_url", "judge_max_tokens", "judge_model", "judge_samples", "judge_temperature",
    "judge_template",
    "metricx_model", "metricx_version", "precision", "spm_model", "xcomet_model"})


# The commands' own options that are not settings (`score --format`, `translate --paragraphs`, the
# `--no-cache` of a flag): a plugin's setting so named would be a second --format, which click
# warns of on every run and which the command's own option takes the value of (test_contributing
# keeps this list equal to the commands' options).
COMMAND_OPTIONS = frozenset({
    "all_languages", "cell", "exclude", "experiment", "figure", "file", "files", "fmt", "format", "gpus", "group",
    "help", "human", "human_reference", "hyps", "input", "input_path", "item_id", "lang", "metric_batch_size",
    "no_cache", "no_refill", "on_target_only", "output", "output_path", "overwrite", "paired_ar", "paired_bs",
    "paired_n", "paragraphs", "permutations", "recompute", "refs", "run_dir", "run_dirs", "runs", "source", "split",
    "src", "src_lang", "src_path", "text", "tgt", "tgt_lang", "tokenize", "tokenizers", "version"})


def refuse_reserved_setting(kind: str, component: str, name: str, flag: bool, flags: tuple[str, ...] = ()) -> None:
    """A plugin's setting is never named as a task's setting or a command's own option (a flag's
    `--no-NAME`, and the setting's own command-line `flags`, included)."""
    refuse_taken_setting(kind, component, name, TASK_SETTINGS, "a task")
    options = {name, f"no_{name}"} if flag else {name}
    options |= {f[2:].replace("-", "_") for f in flags if f.startswith("--")}
    for option in sorted(options & COMMAND_OPTIONS):
        raise XlingError(f"{kind} {component!r}: its setting {name!r} would be a second --{option.replace('_', '-')} "
                         "of a command; a plugin's settings (or those of one registered from Python) must have names "
                         "of their own")


def refuse_taken_setting(kind: str, component: str, name: str, taken: frozenset | set, owner: str) -> None:
    """A plugin component's setting must have a name of its own (see TASK_SETTINGS)."""
    if name in taken:
        raise XlingError(f"{kind} {component!r}: its setting {name!r} is {owner}'s already; a plugin's "
                         "settings (or those of one registered from Python) must have names of their own")


class SettingError(XlingError):
    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


def check_number(name: str, value):
    """`value` if it is in the setting's range (BOUNDS), else a SettingError naming both."""
    import math

    if name not in BOUNDS or value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    low, high, low_allowed = BOUNDS[name]
    if isinstance(value, float) and not math.isfinite(value):
        raise SettingError(name, f"'{name}' must be a finite number, not {value!r}")
    if value < low if low_allowed else value <= low:
        raise SettingError(name, f"'{name}' must be {'at least' if low_allowed else 'above'} {low}, "
                                 f"not {value!r}")
    if name in BELOW and value >= BELOW[name]:
        raise SettingError(name, f"'{name}' must be below {BELOW[name]}, not {value!r}")
    if high is not None and value > high:
        raise SettingError(name, f"'{name}' must be at most {high:,}, not {value!r}")
    return value


def check_type(value: Any, hint, key: str, where: str, yaml: bool = True) -> None:
    """A config's value of `key` is of its field's type (`hint`); else one XlingError naming both
    (`yaml`: the value was read from YAML, whose no/yes are booleans)."""
    origin = get_origin(hint)
    if origin is None and hint is Any:
        return
    options = get_args(hint) if origin in (types.UnionType, typing.Union) else (hint,)
    for option in options:
        if option is type(None) and value is None:
            return
        base = get_origin(option) or option
        if base is list and isinstance(value, list):
            (item,) = get_args(option) or (Any,)
            for i, v in enumerate(value):
                check_type(v, item, f"{key}[{i}]", where, yaml)
            return
        if base is bool and isinstance(value, bool):
            return
        if base is int and isinstance(value, int) and not isinstance(value, bool):
            return
        if base is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return
        if base is str and isinstance(value, str):
            return
    none = "null" if yaml else "None"
    names = " or ".join(none if o is type(None) else getattr(get_origin(o) or o, "__name__", str(o)) for o in options)
    hint = ""
    if yaml and isinstance(value, bool) and "str" in names:   # YAML reads no/yes/on/off as false/true
        hint = "; YAML reads no, yes, on and off as false/true: quote a text such as 'no' (Norwegian)"
    shown = "" if "url" in key or "key" in key else f" ({value!r})"   # (a URL's credentials, a key)
    raise XlingError(f"{where}: '{key}' must be {names}, not {type(value).__name__}{shown}{hint}")


def choices_of(spec) -> tuple | None:
    """The values a config field (a dataclasses.Field) takes, if it is a choice: its own
    (setting(..., choices=...)) or the shared table's."""
    return spec.metadata.get("choices") or CHOICES.get(spec.name)


class Checked:
    """Range and choice checks for every config dataclass, run on construction."""

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(f.default, bool) and value is not None and not isinstance(value, bool):
                # (from Python: trust_remote_code="no" is a true string, and let a model's code run)
                raise SettingError(f.name, f"'{f.name}' must be True or False, not {value!r}")
            if value is None or isinstance(value, bool):
                continue
            if isinstance(value, str) and not value.strip() and f.default is None \
                    and f.name not in ("name", "description"):
                # an unset shell variable (`--shots-file "$DEV"`) is not "not given": the embedded
                # model or FLORES demonstrations would run without a word
                raise SettingError(f.name, f"'{f.name}' is empty; leave it out, or give a value")
            if f.name == "batch_size" and isinstance(value, str) and value != "auto":
                raise SettingError(f.name, f"'batch_size' must be a positive integer or 'auto', not {value!r}")
            check_number(f.name, value)
            if isinstance(value, list) and f.name == "seeds":
                for seed in value:
                    check_number("seed", seed)
            choices = choices_of(f)
            if choices and value not in choices:
                raise SettingError(f.name, f"'{f.name}' must be one of {', '.join(choices)}, not {value!r}")


def setting(default, help: str, **options):
    """A config field with its help text: the dataclass owns defaults and help; the command
    line's options are built from them (xling.cli.options.config_option). Options: choices=
    (the values it takes), output=False (changes no output: left out of a run's identity),
    path=True (a file the command reads)."""
    if callable(default) and not isinstance(default, type):
        return field(default_factory=default, metadata={"help": help, **options})
    return field(default=default, metadata={"help": help, **options})
