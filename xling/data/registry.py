"""The data sets xling reads. Each family registers itself where its loader lives:

    @register_dataset("ntrex128", task="mt", grammar="ntrex128[:test]", help="...", splits=("test",))
    def load(arg: str, spec: str, options: DataOptions) -> ParallelData: ...

A spec is `NAME[:ARG]` (flores200:devtest, xnli:test, text:corpus/test.{lang}); NAME picks the
family, ARG is the family's own. `xling data` lists the families with their splits and the
languages found locally. Built-in families live in the modules of BUILTIN; a family in another
package registers through the entry point group "xling.datasets". Importing this module is
light: loaders read their files only when called.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, cast

from ..errors import XlingError
from ..plugins import called_from, discover, from_python, refuse_taken, refuse_unreachable, replaced_from_python, track

BUILTIN = ("xling.data.parallel", "xling.data.wmt", "xling.data.jsonl", "xling.data.choice",
           "xling.data.pawsx", "xling.data.xcopa", "xling.data.human")
ENTRY_POINTS = "xling.datasets"
# The tasks a family serves: parallel text (translation) or labelled items (NLI, multiple choice).
TASKS = ("mt", "nli", "multiple_choice", "judgments")


@dataclass(frozen=True)
class DataOptions:
    """The data section of a run's settings: what every loader may need."""
    data_dir: str | Path | None = None     # local data root (default: $XLING_DATA)
    keep_bad_sources: bool = False         # WMT24++
    reference: str = "post-edit"           # WMT24++
    task: str = "mt"                       # the task asking (a choice family serves nli or mc)
    shots_file: str | None = None          # NLI demonstrations replacing the dev pool


@dataclass(frozen=True)
class DataFamily:
    name: str
    task: str                      # "mt", "nli" or "multiple_choice"
    grammar: str                   # how a spec of this family is written
    help: str
    load: Callable[[str, str, DataOptions], Any]
    aliases: tuple[str, ...] = ()
    splits: tuple[str, ...] = ()
    # The languages present locally (None: none found, or nothing local to look at).
    languages: Callable[[Path | None], list[str] | None] | None = None


REGISTRY: dict[str, DataFamily] = {}
_ALIASES: dict[str, str] = {}
track(REGISTRY, _ALIASES, builtin=BUILTIN)


def register_dataset(name: str, *, task: str, grammar: str, help: str, aliases: tuple[str, ...] = (),
                     splits: tuple[str, ...] = (), languages=None):
    """Decorator of a family's loader, load(arg, spec, options): registers it under `name`."""
    if task not in TASKS:
        raise ValueError(f"data set {name!r}: task must be one of {', '.join(TASKS)}")

    def wrap(load):
        builtin = called_from(BUILTIN)
        if from_python(builtin):   # the built-ins (and plugins) first: each refuses a name taken before it
            families()
        for taken in (name, *aliases):
            if taken != taken.lower():
                raise XlingError(f"data set {taken!r}: a data set's name and aliases are lower-case")
            refuse_unreachable("data set", taken, "--data", ":")   # (NAME:ARGUMENT)
            refuse_taken("data set", taken, {**REGISTRY, **_ALIASES}, builtin, registering=name)
        # one registered from Python before (a notebook cell run again): this one replaces it
        for replaced in replaced_from_python("data set", (name, *aliases), _ALIASES, builtin):
            del REGISTRY[replaced]
            for alias in [alias for alias, target in _ALIASES.items() if target == replaced]:
                del _ALIASES[alias]
        REGISTRY[name] = DataFamily(name, task, grammar, help, load, tuple(aliases), tuple(splits), languages)
        for alias in (name, *aliases):
            _ALIASES[alias] = name
        return load
    return wrap


def local_languages(family: DataFamily, root) -> list[str] | None:
    """A family's languages in the local folder, for `xling data`: each split's (a `languages`
    that takes a split) once, "en (test only)" where another split present lacks it; a folder
    holding dev files alone lists them."""
    import inspect

    if family.languages is None:
        return None
    if not family.splits or "split" not in inspect.signature(family.languages).parameters:
        return family.languages(root)
    languages = cast(Any, family.languages)   # (a callable taking a split: checked above)
    found = {split: set(languages(root, split=split) or ()) for split in family.splits}
    present = {split: codes for split, codes in found.items() if codes}
    if not present:
        return None
    return [code if all(code in codes for codes in present.values())
            else f"{code} ({', '.join(s for s, codes in present.items() if code in codes)} only)"
            for code in sorted(set().union(*present.values()))]


def families() -> dict[str, DataFamily]:
    discover(ENTRY_POINTS, BUILTIN)
    return REGISTRY


def family_of(spec: str, task: str) -> tuple[DataFamily, str]:
    """The family a spec names and the spec's own argument; refused for another task's data."""
    name, _, arg = spec.partition(":")
    known = families()
    family = known.get(_ALIASES.get(name.lower(), ""))
    serves = [f for f in known.values() if _serves(f, task)]
    if family is None:
        raise XlingError(f"unknown dataset {spec!r}; known: {', '.join(f.grammar for f in serves)}")
    if not _serves(family, task):
        label = {"mt": "a translation", "nli": "an NLI", "multiple_choice": "a multiple-choice",
                 "judgments": "a human-judgment"}[family.task]
        command = {"mt": "eval mt", "nli": "eval nli", "multiple_choice": "eval mc",
                   "judgments": "meta-eval"}[family.task]
        # the same words serve the command line and experiment files (their `task:` key)
        raise XlingError(f"{spec} is {label} data set: use `xling {command}` "
                         f"(task: {family.task} in an experiment file)")
    return family, arg


def _serves(family: DataFamily, task: str) -> bool:
    return family.task == task


def load_dataset(spec: str, options: DataOptions):
    """The data a spec names, for `options.task`."""
    family, arg = family_of(spec, options.task)
    return family.load(arg, spec, options)
