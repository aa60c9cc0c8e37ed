"""Experiment configurations: one dataclass per task, loaded from YAML with strict checking
(an unknown key or a wrong type names the key and its line) or built from CLI options."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from ..backends.http import TRANSPORT
from ..backends.settings import BackendSettings
from ..data.languages import Direction, resolve
from ..data.textio import decode_utf8
from ..data.yamlfile import RepeatedKey, key_lines, load_yaml, yaml_problem
from ..errors import XlingError, did_you_mean
from ..metrics.registry import metric_settings, parse_metric_names, registered_name
from ..settings import Checked, SettingError, check_type, setting
from ..translation.selection import selection_problem


def _metric_settings_class() -> type:
    """The run settings every registered metric declares (xling.metrics.registry), as one
    dataclass of config fields; none changes an output (scores are recomputed, not resumed)."""
    spec = [(s.name, s.type, setting(s.default, s.help, output=False, **({"choices": s.choices} if s.choices else {})))
            for s in metric_settings().values()]
    return dataclasses.make_dataclass("MetricSettings", spec, kw_only=True, namespace={"__module__": __name__})


MetricSettings: Any = _metric_settings_class()

DEFAULT_METRICS = ("bleu", "chrf", "offtarget")


@dataclass
class MTEvalConfig(BackendSettings, MetricSettings):
    out: str                                   # run folder
    model: str | None = None                   # None: $XLING_MODEL or the embedded model
    data: str = setting("flores200:devtest", "Data set (`xling data` lists them): flores200:devtest, "
                                             "wmt24pp:en-ko_KR, text:PATTERN_{lang}, jsonl:PATH, ...")
    data_dir: str | None = None
    pairs: list[str] | None = None             # ["ko-en", "en-ko"] or a named set: ["hcx_table15"]
    langs: list[str] | None = None             # full direction matrix between these
    keep_bad_sources: bool = setting(False, "WMT24++: keep the rows marked is_bad_source (the "
                                            "canary is always dropped).")
    reference: str = setting("post-edit", "WMT24++ reference: post-edit (the 'target' field) or "
                                          "original ('original_target').")
    unit: str = setting("segment", "segment: one prompt per segment; document: one prompt per "
                                   "document (split into chunks that fit), realigned to segments.")
    shots: int = setting(0, "Few-shot examples from the dev split (or --shots-file).")
    shots_file: str | None = setting(None, "Your own demonstrations: source<TAB>target lines (or JSONL with "
                                           "source/target); for several directions one file each, named with "
                                           "{src} and {tgt} (shots.{src}-{tgt}.tsv). Pairs that are sentences "
                                           "of the data are left out.")
    template: str | None = setting(None, "Prompt template name or YAML file.")
    seed: int = setting(0, "Seed for choosing demonstrations and for sampling the candidates.")
    limit: int | None = setting(None, "First N segments per direction.")
    limit_per_domain: int | None = setting(None, "First N segments of each domain (data sets with "
                                                 "domains: WMT24++, FLORES-200, jsonl: records with a "
                                                 "domain field).")
    batch_size: int | str = setting("auto", "Segments per batch (hf), or auto: sized for the device "
                                            "(by free GPU memory and tokens; 32 on a CPU).")
    max_batch_tokens: int | None = setting(None, "Also cap each batch at this many tokens: rows x "
                                                 "(longest prompt + largest budget) (hf).")
    refill: bool | None = setting(None, "Refill rows freed by finished ones from the queue (continuous "
                                        "batching, greedy, hf); default: on with --batch-size auto. "
                                        "Outputs are the same either way.")
    candidates: int = setting(1, "Candidate translations per source (with --select mbr or rerank).")
    sampling: str = setting("sample", "How candidates are drawn: sample (temperature, top-p, epsilon) "
                                      "or beam (the N best beams; hf only).")
    temperature: float = setting(1.0, "Sampling temperature of the candidates.")
    top_p: float = setting(1.0, "Nucleus sampling of the candidates (1: off).")
    epsilon: float = setting(0.0, "Epsilon sampling of the candidates: drop tokens below this "
                                  "probability (0: off; 0.02 is common for MBR), of the temperature-scaled "
                                  "distribution, before top-p (transformers cuts after top-p renormalises).")
    select: str = setting("greedy", "greedy: one greedy translation; mbr: minimum Bayes risk among "
                                    "the candidates; rerank: the candidate a QE metric scores best.")
    utility: str = setting("chrf", "MBR utility: any reference-based metric (chrf, bleu, comet, "
                                   "metricx, ...).")
    qe: str = setting("cometkiwi", "Reranking metric: any reference-free one (cometkiwi, xcomet-qe, "
                                   "metricx-qe, ...).")
    pseudo_refs: int | None = setting(None, "MBR against this many separate samples instead of "
                                            "the candidates themselves.")
    metrics: list[str] = field(default_factory=lambda: list(DEFAULT_METRICS))
    static_cache: bool = setting(False, "Static KV cache, shapes bucketed (its decoding step is compiled on a GPU).")
    max_new_tokens: int = setting(512, "Cap on the new tokens of one answer (a segment, or a document "
                                       "chunk with --unit document).")
    task: str = "mt"
    name: str | None = None
    description: str | None = None

    ADDED_LATER = ("keep_bad_sources", "reference", "unit", "limit_per_domain", "candidates", "sampling",
                   "temperature", "top_p", "epsilon", "select", "utility", "qe", "pseudo_refs", "tokenizer")

    def __post_init__(self):
        super().__post_init__()
        # the MBR utility and the QE metric by their registered names, as --metrics names are:
        # the identity and metrics.json hold the metric ("chrf++"), not its spelling ("chrfpp")
        for name in ("utility", "qe"):
            if isinstance(getattr(self, name), str):
                setattr(self, name, registered_name(getattr(self, name)))
    # Settings that change no output: a run folder may be resumed with other values of these.
    # (with the metric settings and the backends' transport and engine settings: output=False)
    NON_IDENTITY = ("out", "batch_size", "max_batch_tokens", "refill", "metrics", "name", "description", "data_dir")

    def shared_settings(self) -> tuple[str, ...]:
        """A judge server takes the run's transport settings, whatever the backend."""

        return TRANSPORT if self.judge_base_url else ()


@dataclass
class ChoiceEvalConfig(BackendSettings):
    """NLI (XNLI, KorNLI) and multiple choice (X-CSQA): accuracy by language, with premise and
    hypothesis languages crossed when asked."""
    out: str
    task: str = "nli"                          # "nli" or "multiple_choice"
    model: str | None = None
    data: str = "xnli:test"                    # a labelled data set (`xling data`)
    data_dir: str | None = None
    langs: list[str] | None = None             # premise = hypothesis language
    premise_langs: list[str] | None = None     # with hypothesis_langs: every combination
    hypothesis_langs: list[str] | None = None
    prompt_lang: str = setting("data", "'data' (the premise's language), 'en', or any language code.")
    shots: int = setting(0, "Few-shot examples from the dev split, balanced across labels.")
    shots_file: str | None = setting(None, "NLI demonstrations: premise<TAB>hypothesis<TAB>label, "
                                           "instead of the dev split (needed for nli-file: data "
                                           "without a DEV file).")
    seed: int = setting(0, "Seed for choosing few-shot examples and bootstrap resamples.")
    limit: int | None = setting(None, "First N items per language.")
    mode: str = setting("ll", "Log-likelihood of each answer (ll), generation + parsing (gen), or both.")
    template: str | None = setting(None, "Log-likelihood template (default: the data set's own, "
                                         "else xnli-rightq / mc-qa).")
    gen_template: str | None = setting(None, "Generation template (default: the data set's own, "
                                             "else nli-generate / mc-qa).")
    batch_size: int | str = setting("auto", "Items per batch (hf), or auto: sized for the device "
                                            "(by free GPU memory and tokens; on a CPU 8 items scored, "
                                            "32 rows generated).")
    bootstrap: int = 1000
    max_new_tokens: int = 8
    name: str | None = None
    description: str | None = None

    ADDED_LATER = ("shots_file", "tokenizer")
    NON_IDENTITY = ("out", "batch_size", "bootstrap", "name", "description", "data_dir")


@dataclass
class TuneRatioConfig(Checked):
    """The language-ratio sweep: fine-tune at several Korean shares, test in Korean and English."""
    out: str
    model: str
    task: str = "tune_ratio"
    train_en: str | None = None                # JSONL {"id", "instruction", "response"}
    train_ko: str | None = None
    train_paired: str | None = None            # JSONL {"id", "en": {...}, "ko": {...}}
    train_hub: str | None = None               # or the report's hub pairs: "lima", "openorca"
    train_name: str = "train"                  # for Figure 2's panel titles (e.g. OpenOrca, LIMA)
    test_name: str | None = None               # the same: test items are held out of the training pairs
    ratios: list[float] | None = None          # default: the 15 shares in xling.tasks.tuning.mixes
    seeds: list[int] = field(default_factory=lambda: [0])
    test_size: int = 20
    train_size: int | None = None
    epochs: float = 1.0
    learning_rate: float = 2e-5
    batch_size: int = 4
    max_length: int = 512
    lora: bool = False
    lora_r: int = 8
    max_new_tokens: int = 128
    metric: str = "rougeL"                     # "rougeL", or "judge" (preference vs the monolingual model)
    judge_model: str | None = None
    keep_models: bool = False
    name: str | None = None
    description: str | None = None

    # seeds and ratios choose which units exist, not what a unit is: a sweep given another seed
    # trains only that seed's units (runs.folder.IDENTITY_DROPPED_LATER keeps older sweeps resumable)
    # (test_name only ever named the panel: runs.folder.IDENTITY_DROPPED_LATER resumes older sweeps)
    NON_IDENTITY = ("out", "name", "description", "keep_models", "seeds", "ratios", "test_name")

    def __post_init__(self):
        super().__post_init__()
        # Figure 2's panels (b) and (c) test on the other data set, which a sweep cannot do: a
        # test_name other than train_name filed in-domain points under a cross-dataset panel
        if self.test_name is not None and self.test_name.casefold().split() != self.train_name.casefold().split():
            raise SettingError("test_name", f"'test_name' is {self.test_name!r}, but a sweep tests on pairs held out "
                               f"of its training data ({self.train_name!r}); testing on another data set is not "
                               "supported: leave test_name out")

    def identity(self) -> dict:
        # batch_size is the training batch (it changes the model): in the identity; sweeps made
        # when it was left out resume (runs.folder.IDENTITY_ADDED_LATER)
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in self.NON_IDENTITY}


@dataclass(frozen=True)
class TaskKind:
    """What xling knows of a task: its config class, the function that runs it (a
    "module:function" path into xling.tasks, imported only when a run starts: this layer sits
    below the tasks) and how `runs.records.read_run` reads its folder."""
    config: type
    runner: str
    records: str          # "mt", "choice" or "tuning"


# The one table of tasks.
TASKS = {"mt": TaskKind(MTEvalConfig, "xling.tasks.mt:run_mt", "mt"),
         "nli": TaskKind(ChoiceEvalConfig, "xling.tasks.choice:run_choice", "choice"),
         "multiple_choice": TaskKind(ChoiceEvalConfig, "xling.tasks.choice:run_choice", "choice"),
         "tune_ratio": TaskKind(TuneRatioConfig, "xling.tasks.tuning.sweep:run_tune_ratio", "tuning")}
CONFIGS = {name: kind.config for name, kind in TASKS.items()}
CHOICE_TASKS = tuple(name for name, kind in TASKS.items() if kind.records == "choice")


def _check_selection(values: dict, where: str) -> None:
    """Candidates and selection agree (translate.selection says how)."""

    problem = selection_problem(values.get("select", "greedy"), values.get("candidates", 1),
                                values.get("unit", "segment"), values.get("pseudo_refs"), values.get("sampling"))
    if problem:
        raise XlingError(f"{where}: {problem}")


def build_config(values: dict, where: str = "config", lines: dict | None = None):
    task = values.get("task", "mt")
    if not isinstance(task, str) or task not in CONFIGS:
        raise XlingError(f"{where}: unknown task {task!r}; known: {', '.join(CONFIGS)}")
    cls = CONFIGS[task]
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    for key, value in values.items():
        place = f"{where}, line {lines[key]}" if lines and key in lines else where
        if key not in known:
            raise XlingError(f"{place}: unknown key {key!r}{did_you_mean(key, known)}; "
                             f"known keys: {', '.join(sorted(known))}")
        check_type(value, hints[key], key, place)
    missing = [f.name for f in fields(cls) if f.name not in values
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise XlingError(f"{where}: {', '.join(repr(m) for m in missing)} required")
    if task == "mt":
        _check_selection(values, where)
    try:
        config = cls(**values)
    except SettingError as exc:
        place = f"{where}, line {lines[exc.key]}" if lines and exc.key in lines else where
        raise XlingError(f"{place}: {exc}") from None
    if task in CHOICE_TASKS:
        if not config.langs and not (config.premise_langs and config.hypothesis_langs):
            raise XlingError(f"{where}: give 'langs', or 'premise_langs' and 'hypothesis_langs'")
    _check_names(values, where, lines or {})
    return config


# How the runners read a key's names (a pair without "-" names a group: the runner checks it).
_NAME_CHECKS = {
    "metrics": parse_metric_names,
    "pairs": lambda items: [Direction.parse(item) for item in items if "-" in item],
    "langs": lambda items: [resolve(item) for item in items],
    "premise_langs": lambda items: [resolve(item) for item in items],
    "hypothesis_langs": lambda items: [resolve(item) for item in items],
    "prompt_lang": lambda item: item == "data" or resolve(item),
}


def _check_names(values: dict, where: str, lines: dict) -> None:
    """An unknown metric, language or direction is named with its key and line: the runner's
    own check (`xling run` checks every variant first) could name only the file."""
    for key, check in _NAME_CHECKS.items():
        if values.get(key):
            try:
                check(values[key])
            except XlingError as exc:
                place = f"{where}, line {lines[key]}, {key}" if key in lines else f"{where}, {key}"
                if where == "command line":
                    place = f"--{key.replace('_', '-')}"
                raise XlingError(f"{place}: {exc}") from None


def load_experiment(path: str | Path, overrides: dict | None = None):
    """Read an experiment YAML file; `overrides` (CLI options) replace its values. A file with
    `variants` gives several configs: use load_experiments."""
    configs = load_experiments(path, overrides)
    if len(configs) != 1:
        raise XlingError(f"{path} defines {len(configs)} variants; run it with `xling run`")
    return configs[0]


def _check_overrides(given: dict, task, path: Path) -> None:
    """Command-line values an experiment's task cannot take are named as options, not blamed on
    the file (`--limit` of a tune_ratio sweep was "tr.yaml: unknown key 'limit'")."""
    for key, value in given.items():
        if isinstance(value, str) and not value.strip():
            raise XlingError(f"--{key.replace('_', '-')} is empty; leave it out, or give a value")
    kind = CONFIGS.get(task) if isinstance(task, str) else None
    if kind is None:
        return
    known = {f.name for f in dataclasses.fields(kind)}
    for key in given:
        if key not in known:
            raise XlingError(f"--{key.replace('_', '-')} does not apply to {task} experiments ({path})")
    if task == "tune_ratio" and "batch_size" in given:   # inference batches elsewhere, training here
        raise XlingError(f"--batch-size sets inference batches; {path} is a tune_ratio sweep, whose "
                         "batch_size is the training batch: set it in the file")


def load_experiments(path: str | Path, overrides: dict | None = None) -> list:
    """The configs of an experiment YAML file: one, or one per entry of its `variants` mapping
    (name -> settings that replace the shared ones; each runs in OUT/NAME), so that variants
    of one experiment (segment vs document translation, say) are compared on the same data."""
    import yaml

    path = Path(path)
    try:
        text = decode_utf8(path.read_bytes(), str(path), allow_nul=False)   # (its line, the UTF-16 hint)
        values = load_yaml(text)      # first: it refuses a document nested too deeply to compose
        node = yaml.compose(text)
    except FileNotFoundError as exc:
        raise XlingError(f"experiment file {path} does not exist") from exc
    except RepeatedKey as exc:
        raise XlingError(f"{path}, {exc}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise XlingError(f"cannot read {path}: {yaml_problem(exc)}") from exc
    if not isinstance(values, dict):
        raise XlingError(f"{path}: expected a mapping of settings")
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    lines = {k: line for k, line in key_lines(node).items() if k not in given}   # (not the file's value)
    _check_overrides(given, values.get("task"), path)
    variants = values.pop("variants", None)
    if variants is None:
        return [build_config({**values, **given}, where=str(path), lines=lines)]
    if not isinstance(variants, dict) or not variants or \
            not all(isinstance(v, dict) for v in variants.values()):
        raise XlingError(f"{path}, line {lines.get('variants')}: 'variants' must map names to settings")
    _check_keys(values, path, lines)      # a typo in the shared settings is named as such
    variant_nodes = {k.value: v for k, v in node.value if k.value == "variants"}
    variant_lines = key_lines(variant_nodes.get("variants"))
    configs = []
    for key, settings in variants.items():
        name = _check_variant_name(key, f"{path}, line {variant_lines.get(str(key))}")
        where = f"{path}, variant {name}"
        if settings.get("task", values.get("task", "mt")) != values.get("task", "mt"):
            raise XlingError(f"{where}: variants compare runs of one task; this one sets task {settings['task']!r}")
        hidden = sorted(k for k in given if k != "out" and k in settings and settings[k] != given[k])
        if hidden:   # `-m tiny` made variants qwen and llama two identical runs
            raise XlingError(f"{where} sets {', '.join(hidden)}, which the command line would override for "
                             "every variant: leave the option out, or edit the file")
        # (variants reached through a merge key have no node of their own: no line numbers)
        inner = next((v for k, v in variant_nodes["variants"].value if k.value == name), None) \
            if "variants" in variant_nodes else None
        merged = {**values, **settings, **given}
        if "out" in given or ("out" in merged and "out" not in settings):   # each variant in OUT/NAME
            merged["out"] = str(Path(merged["out"]) / name)
        if "name" not in settings:
            merged["name"] = f"{values.get('name', path.stem)}-{name}"
        configs.append(build_config(merged, where=where, lines={**lines, **key_lines(inner)}))
    folders = [Path(c.out).resolve() for c in configs]
    if len(set(folders)) < len(folders):   # a second variant would refuse, or replace, the first
        twice = next(str(f) for f in folders if folders.count(f) > 1)
        raise XlingError(f"{path}: two variants write into one folder ({twice})")
    for (one, inner), (other, outer) in ((a, b) for a in zip(variants, folders) for b in zip(variants, folders)):
        if inner != outer and inner.is_relative_to(outer):   # (refused only after the first variant had run)
            raise XlingError(f"{path}: variant {one}'s folder {inner} is inside variant {other}'s ({outer}); "
                             "give each variant a folder of its own")
    return configs


def _check_keys(values: dict, path: Path, lines: dict) -> None:
    task = values.get("task", "mt")
    cls = CONFIGS.get(task) if isinstance(task, str) else None
    if cls is None:
        return                   # build_config names the unknown task
    known = {f.name for f in fields(cls)}
    for key in values:
        if key not in known:
            raise XlingError(f"{path}, line {lines.get(key)}: unknown key {key!r} in the shared "
                             f"settings; known keys: {', '.join(sorted(known))}")


def _check_variant_name(key, where: str) -> str:
    """A variant runs in OUT/NAME: its name is one plain folder name, never a path."""
    name = str(key) if isinstance(key, int) and not isinstance(key, bool) else key
    if not isinstance(name, str) or not name.strip() or name in (".", "..") or \
            Path(name).name != name or "/" in name or "\\" in name or name.startswith("."):
        raise XlingError(f"{where}: variant name {name!r} must be a plain folder name (letters, "
                         "digits, '-', '_'; no '/', no leading '.'): each variant runs in OUT/NAME")
    return name
