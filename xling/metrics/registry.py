"""One spec per metric: what it needs, how it is shown, which way is better, how it is computed
and the run settings it takes (its model, batch size, precision, judge options). Scoring, runs,
reports, significance, transfer and figures read the spec and keep no table of their own; run
configs, YAML keys and command-line options of metric settings are made from the settings the
specs declare. A new metric is one function and one `register(MetricSpec(...))`; a metric in
another package registers through the entry point group "xling.metrics".

This module is light (no numpy): `xling --help` imports it; metrics load their code when called.

Every spec is called the same way: `spec(hyps, refs=None, srcs=None, tgt_lang=None, **options)`.
Options a metric does not take (another metric's model, say) are not passed to it, so one set
of settings can serve every metric of a run.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..backends.http import TRANSPORT
from ..backends.registry import backends
from ..errors import XlingError, did_you_mean
from ..plugins import (
    discover,
    from_python,
    importing,
    importing_content,
    refuse_taken,
    refuse_unreachable,
    replaced_from_python,
    track,
)
from ..settings import refuse_reserved_setting, refuse_taken_setting
from .settings import (
    BATCH_SIZE,
    CHECKPOINT,
    COMET_MODEL,
    COMETKIWI_MODEL,
    COMETKIWI_XL_MODEL,
    JUDGE_API_KEY_ENV,
    JUDGE_API_KEY_FILE,
    JUDGE_BASE_URL,
    JUDGE_MAX_TOKENS,
    JUDGE_MODEL,
    JUDGE_PARSER,
    JUDGE_SAMPLES,
    JUDGE_TEMPERATURE,
    JUDGE_TEMPLATE,
    LANGID_RULES,
    METRICX_MODEL,
    METRICX_VERSION,
    PRECISION,
    SPM_MODEL,
    XCOMET_MODEL,
    MetricSetting,
)

if TYPE_CHECKING:
    from .base import MetricResult


SETTINGS: dict[str, MetricSetting] = {}
JUDGE_KEYS = ("judge_api_key_env", "judge_api_key_file")   # where a judge's key is read: no part of its scores


@dataclass(frozen=True)
class MetricSpec:
    name: str                                  # the key users type: -m bleu
    display: str                               # column title in reports and figures
    compute: Callable[..., MetricResult]       # compute(hyps, refs, srcs, tgt_lang, **options)
    needs_refs: bool = True
    needs_srcs: bool = False
    higher_is_better: bool = True
    model_based: bool = False                  # expensive: run records keep its segment scores
    options: tuple[str, ...] = ()              # options it takes (besides `keep`, the mask)
    # option -> the run setting it comes from: a MetricSetting it owns, or the name of another
    # component's setting (a judge server's transport settings are the backend's)
    settings: dict[str, MetricSetting | str] = field(default_factory=dict)
    detail: tuple[str, ...] = ()               # per-segment `extra` keys not kept in metrics.json
    unit: str | None = None                    # axis label of figures (default: display)
    # figures shown beside the score in score output and reports: (`extra` key, column title)
    beside: tuple[tuple[str, str], ...] = ()
    digits: int = 2                            # decimals shown (4 for COMET's 0-1 scale)
    plugin: str | None = None                  # "distribution==version" of the plugin that registered it
    plugin_content: str | None = None          # a digest of that plugin's source (plugins.source_digest)
    rules: str | None = None                   # the version of how it reads its input (judge parser, langid)

    def __call__(self, hyps, refs=None, srcs=None, tgt_lang: str | None = None,
                 **options) -> MetricResult:
        if self.needs_refs and refs is None:
            raise XlingError(f"{self.display} needs references (refs; -r on the command line)")
        if self.needs_srcs and srcs is None:
            raise XlingError(f"{self.display} needs the source sentences (srcs; -s/--source on the command line)")
        if isinstance(srcs, str):   # get("bleu")(hyps, refs, "ko"): BLEU ignored its sources, and the target
            raise XlingError(f"{self.display}: srcs (the third argument, the source sentences) is one string "
                             f"{srcs[:20]!r}; give the target language as tgt_lang={srcs[:20]!r}")
        if srcs is not None and hasattr(srcs, "__len__") and hasattr(hyps, "__len__") and len(srcs) != len(hyps):
            raise XlingError(f"{self.display}: {len(srcs)} source sentences for {len(hyps)} hypotheses")
        # another metric's option is dropped (one set of options serves every metric of a run),
        # an option no metric takes is a typo: `tokenise="char"` scored 13a BLEU without a word
        unknown = sorted(set(options) - {o for spec in REGISTRY.values() for o in spec.options} - {"keep"})
        if unknown:
            raise XlingError(f"{self.display} takes no option {', '.join(map(repr, unknown))}; its options: "
                             f"{', '.join(self.options) or 'none'}")
        given = {k: v for k, v in options.items() if v is not None and (k in self.options or k == "keep")}
        given = self.checked(given)
        result = self.compute(hyps, refs, srcs, tgt_lang, **given)
        if given.get("keep") is not None and "segments_kept" not in result.extra:
            # a plugin's compute that took `keep` and scored every segment would pass for the subset
            raise XlingError(f"{self.display} was given a keep mask (--on-target-only) and scored without "
                             "it: its compute must apply it (base.apply_mask) and record it (base.mask_extra)")
        if "segments_kept" in result.extra and "subset:" not in result.signature:
            result.signature += f"|subset:{result.extra['segments_kept']}/{result.extra['segments_total']}"
        result.higher_is_better = self.higher_is_better
        result.digits = self.digits
        return result

    def checked(self, options: dict) -> dict:
        """`options` given from Python, each one that comes from a MetricSetting checked as the
        config and the command line check that setting (see `MetricSetting.check`)."""
        checked = dict(options)
        for option, value in options.items():
            key = self.settings.get(option)
            if isinstance(key, MetricSetting):
                checked[option] = key.check(value, option, self.display)
        return checked

    def setting_name(self, option: str) -> str | None:
        """The run setting an option comes from (None: the metric takes it from no setting)."""
        key = self.settings.get(option)
        return key.name if isinstance(key, MetricSetting) else key

    def options_from(self, settings) -> dict:
        """The options a run's settings (a config object or its stored dict) give this metric."""
        get = settings.get if isinstance(settings, dict) else (lambda k, d=None: getattr(settings, k, d))
        names = {option: self.setting_name(option) for option in self.settings}
        return {option: get(key) for option, key in names.items() if get(key) is not None}

    def made_with(self, settings) -> dict:
        """What this metric's score depends on, as a run's settings give it: its options but the
        batch size and a judge server's transport settings (which change no score), and the
        content of each local model or file it reads (a checkpoint replaced at the same path
        scores otherwise). A stored score made otherwise is stale (see `stale`)."""
        from ..secrets import redact_url
        from ..store.filehash import file_digest, model_fingerprint

        made = {}
        for option, value in self.options_from(settings).items():
            key = self.settings[option]
            if self.setting_name(option) in (BATCH_SIZE.name, *TRANSPORT, *JUDGE_KEYS):   # how, not what, is scored
                continue
            # a judge server's URL as config.json keeps it: never its credentials
            made[option] = redact_url(value) if isinstance(value, str) and "://" in value else value
            path = Path(str(value)).expanduser()
            if isinstance(key, MetricSetting) and key.is_model and path.exists():
                snapshot = path / (key.snapshot_file or "")
                if key.snapshot_file == CHECKPOINT and (path.is_file() or snapshot.is_file()):   # COMET's
                    made[option + "_content"] = _checkpoint_content(path if path.is_file() else snapshot)
                else:
                    made[option + "_content"] = file_digest(path) if path.is_file() else model_fingerprint(path)
        if "template" in self.settings:   # a judge: its prompt's text, edited in place or by a newer xling
            from ..prompts.templates import load_template

            made["template_content"] = load_template(self.options_from(settings).get("template") or self.name).hash
        if self.rules:   # another parser or detector reads the same outputs otherwise
            made["rules"] = self.rules
        if self.plugin:   # a newer version of the plugin, or one edited in place, may score otherwise
            made["plugin"] = self.plugin
            if self.plugin_content:
                made["plugin_content"] = self.plugin_content
        return made

    def stale(self, stored: dict | None, current: dict, given: dict | None = None) -> list[str]:
        """The options whose value a stored score (its `made_with`) was not made with, among
        those asked for now: `given` (settings by name, as `rescore` takes them: a setting not
        given never undoes what `rescore --cometkiwi-model PATH` scored), else (a run's config,
        `given` None) every setting, so a run's scores always match its config (a resumed run
        back at the default COMET model scores again). A setting the stored score predates
        counts only when set to other than its default; a local model whose files changed at the
        same path always counts. Scores stored before `made_with`: none."""
        if stored is None:
            return []
        changed = []
        for option, value in current.items():
            if option == "plugin":
                if stored.get(option, value) != value:
                    changed.append(f"plugin version ({stored[option]}; now {value})")
                continue
            if option == "rules":    # (scores stored before rules were recorded: made again)
                if stored.get(option) != value:
                    changed.append(f"version of its rules ({stored[option]}; now {value})" if option in stored
                                   else f"version of its rules (not recorded then; now {value})")
                continue
            if option.endswith("_content"):
                base = option[:-len("_content")]
                if current.get(base) == stored.get(base) and stored.get(option, value) != value:
                    changed.append(f"{base} (its files changed)")
                continue
            if stored.get(option) == value:
                continue
            key = self.settings.get(option)
            default = key.default if isinstance(key, MetricSetting) else None
            if given is not None:
                asked = self.setting_name(option) in given
            else:
                asked = option in stored or value != default
            if asked:
                changed.append(option)
        return sorted(changed)

    def beside_values(self, result: MetricResult | dict) -> list[float | None]:
        """The `beside` figures of a result (or of its stored dict); None where it has none (a
        run scored before the figure existed)."""
        extra = result.get("extra", {}) if isinstance(result, dict) else result.extra
        return [extra.get(key) for key, _ in self.beside]

    def better(self, a: float, b: float) -> bool:
        """Whether score a is better than score b."""
        return a > b if self.higher_is_better else a < b


REGISTRY: dict[str, MetricSpec] = {}
ALIASES: dict[str, str] = {}
track(REGISTRY, ALIASES, SETTINGS)
_BUILDING = True   # while this module registers xling's own metrics (below)


def register(spec: MetricSpec, *aliases: str) -> MetricSpec:
    """Add a metric (a plugin's, or one from Python) under its name and `aliases`; returns it."""
    if importing() and spec.plugin is None:
        spec = replace(spec, plugin=importing(), plugin_content=importing_content())
    if from_python(_BUILDING):   # checked against the plugins' metrics too
        _discover()
    for name in (spec.name, *aliases):
        if name != name.lower():   # names are looked up lower-cased
            raise XlingError(f"metric {name!r}: a metric's name and aliases are lower-case")
        refuse_unreachable("metric", name, "--metrics", ",")   # (split on commas, stripped)
        refuse_taken("metric", name, {**REGISTRY, **ALIASES}, _BUILDING, registering=spec.name)
    # one registered from Python before (a notebook cell run again): this one replaces it, its
    # column title and its own settings included
    replaced = replaced_from_python("metric", (spec.name, *aliases), {**REGISTRY, **ALIASES}, _BUILDING)
    others = [other for other in REGISTRY.values() if other.name not in replaced]
    theirs = {s.name for other in others for s in other.settings.values() if isinstance(s, MetricSetting)}
    dropped = {s.name for name in replaced for s in REGISTRY[name].settings.values()
               if isinstance(s, MetricSetting)} - theirs
    # a plugin's or one from Python (a TypeError later otherwise, or a second column of a title)
    if not _BUILDING:   # a second "BLEU" column (and signature line) beside the real one
        shown = next((other for other in others if other.display.lower() == spec.display.lower()), None)
        if shown is not None:
            raise XlingError(f"metric {spec.name!r}: its column title {spec.display!r} is metric {shown.name!r}'s "
                             "already; choose another display name")
    for owned in spec.settings.values():
        if isinstance(owned, MetricSetting):
            if not _BUILDING:   # never a task's setting or a backend's
                refuse_reserved_setting("metric", spec.name, owned.name, isinstance(owned.default, bool),
                                        owned.flags)
                refuse_taken_setting("metric", spec.name, owned.name, {n for k in backends().values()
                                     for n in k.setting_names()}, "a backend")   # (a plugin's too)
            other = owned if owned.name in dropped else SETTINGS.get(owned.name, owned)
            if other != owned:
                raise XlingError(f"metric {spec.name!r}: its setting {owned.name!r} is another metric's already, "
                                 f"declared otherwise (default {other.default!r}); share that MetricSetting, "
                                 "or name it otherwise")
    for name in replaced:   # (only once every check has passed)
        del REGISTRY[name]
        for alias in [alias for alias, target in ALIASES.items() if target == name]:
            del ALIASES[alias]
    for setting_name in dropped:
        del SETTINGS[setting_name]
    for owned in spec.settings.values():
        if isinstance(owned, MetricSetting):
            SETTINGS.setdefault(owned.name, owned)
    REGISTRY[spec.name] = spec
    for alias in aliases:
        ALIASES[alias] = spec.name
    return spec


def _discover() -> None:
    discover("xling.metrics")   # the built-in specs are registered below, in this module


def metric_settings() -> dict[str, MetricSetting]:
    """Every run setting of every registered metric (built-in ones and plugins')."""
    _discover()
    return SETTINGS


def unread_settings(settings, metrics) -> list[str]:
    """The metric settings `settings` (a config) give other than their default that none of
    `metrics` reads (`--comet-model` on a run without COMET: silently unused)."""
    read = {spec.setting_name(option) for spec in map(get, metrics) for option in spec.settings}
    return [name for name, key in metric_settings().items() if name not in read
            and getattr(settings, name, None) not in (None, key.default)]


def warn_unread_settings(values: dict, metrics, reading: str) -> None:
    """One stderr line naming the metric settings in `values` (given, not their default) that
    none of `metrics` reads: `score -m bleu --comet-model X` scored without it, unsaid before.
    `reading` says what would read them ("the metrics bleu, chrf")."""
    import sys
    from types import SimpleNamespace

    unread = unread_settings(SimpleNamespace(**values), metrics)
    if unread:
        flags = ", ".join(metric_settings()[name].option_flags()[0] for name in unread)
        print(f"xling: warning: {flags} set, and read by none of {reading}: unused", file=sys.stderr)


def setting_default(name: str):
    return SETTINGS[name].default


def get(name: str) -> MetricSpec:
    """The registered metric `name` (or an alias: "chrf++", "kiwi"), callable as
    get(name)(hyps, refs, srcs, tgt_lang)."""
    if not isinstance(name, str):
        raise XlingError(f"a metric is named by a string, not {name!r}")
    _discover()
    key = ALIASES.get(name.lower(), name.lower())
    if key not in REGISTRY:
        raise XlingError(f"unknown metric {name!r}{did_you_mean(name, [*REGISTRY, *ALIASES])}; "
                         f"known: {', '.join(REGISTRY)}")
    return REGISTRY[key]


def registered_name(name: str) -> str:
    """A metric's registered name ("chrfpp", "Chrf" -> "chrf++", "chrf"); a name that is no
    metric comes back as it is (its user hears of it where it is used)."""
    try:
        return get(name).name
    except XlingError:
        return name


def parse_metric_names(names) -> list[str]:
    """Metric names from options (`-m bleu chrf`, `bleu,chrf`), checked, deduplicated, each by
    its registered name: an alias (`chrfpp`, `kiwi`) is the metric it names, never a second
    column of it (stored results are keyed by the registered name)."""
    if isinstance(names, str):   # "bleu,chrf" given whole, not its letters one by one
        names = [names]
    out = []
    for name in names:
        for part in str(name).split(","):
            part = part.strip().lower()
            if part:
                out.append(get(part).name)
    if names and not out:   # `--metrics ""` is a mistake, never a quiet fallback to the defaults
        raise XlingError("no metric named: give one or more, e.g. --metrics bleu,chrf")
    return list(dict.fromkeys(out))


def canonical_keys(stored: dict) -> dict:
    """Stored scores keyed by registered names: a run scored before aliases were folded keeps
    `chrfpp`/`kiwi` keys, read as `chrf++`/`cometkiwi` (the registered name's own entry wins)."""
    out = {k: v for k, v in stored.items() if ALIASES.get(k, k) == k}
    for key, value in stored.items():
        out.setdefault(ALIASES.get(key, key), value)
    return out


def display(name: str) -> str:
    """A metric's display name (an unknown name is shown as it is)."""
    spec = REGISTRY.get(ALIASES.get(name, name))
    return spec.display if spec else name


# -- the metrics ---------------------------------------------------------------------------------
def _sacrebleu(function: str):
    """A sacrebleu-based metric of xling.metrics.sacre (loaded on first use)."""
    def compute(hyps, refs, srcs, tgt_lang, **options):
        from . import sacre, spm
        tokenize = options.get("tokenize") or sacre.bleu_tokenizer_for(tgt_lang)
        if function == "bleu" and tokenize not in spm.SPM_TOKENIZERS:
            options.pop("spm_model", None)   # the run's spBLEU model: this BLEU tokenizes otherwise
        return getattr(sacre, function)(hyps, refs, tgt_lang, **options)
    return compute


def _comet(hyps, refs, srcs, tgt_lang, **options):
    from .comet_scoring import comet
    return comet(hyps, refs, srcs, **options)


def _xcomet(hyps, refs, srcs, tgt_lang, **options):
    from .comet_scoring import XCOMET, comet
    # its error spans kept, as xcomet-qe's (the HTML page shows them)
    return comet(hyps, refs, srcs, **{"model": XCOMET, "name": "xCOMET", "error_spans": True, **options})


def _comet_qe(default_model: str, name: str, spans: bool = False):
    """A COMET model scoring without references: CometKiwi, or xCOMET in QE mode (its error
    spans kept)."""
    def compute(hyps, refs, srcs, tgt_lang, **options):
        from .comet_scoring import comet
        return comet(hyps, None, srcs, **{"model": default_model, "name": name,
                                          **({"error_spans": True} if spans else {}), **options})
    return compute


def _metricx(qe: bool):
    def compute(hyps, refs, srcs, tgt_lang, **options):
        from .metricx import metricx
        return metricx(hyps, None if qe else refs, srcs, **options)
    return compute


def _judge(kind: str):
    """An LLM judge (xling.metrics.judge); the reference is shown only to templates naming it."""
    def compute(hyps, refs, srcs, tgt_lang, keep=None, base_url=None, api_key_env=None, api_key_file=None,
                **options):
        from .base import apply_mask
        from .judge import judge

        hyps, refs, srcs = apply_mask(keep, hyps, refs, srcs)
        # A judge server gets the run's transport settings (requests in flight, timeout, retries).
        transport = {k: options.pop(k) for k in JUDGE_TRANSPORT if k in options}
        if base_url:
            from ..backends.settings import BackendSettings
            if not options.get("model"):   # (BackendSettings' own line names the translation options)
                raise XlingError("--judge-base-url needs --judge-model (the model name the judge server serves)")
            options["settings"] = BackendSettings(backend="http", base_url=base_url, api_key_env=api_key_env,
                                                  api_key_file=api_key_file, **transport)
        result = judge(hyps, srcs, tgt_lang, kind=kind, refs=refs, **options)
        if keep is not None:   # scored on a subset: said as the other metrics say it
            from .base import mask_extra
            extra = mask_extra(keep)
            result.extra.update(extra)
            result.signature += f"|subset:{extra['segments_kept']}/{extra['segments_total']}"
        return result
    return compute


def _off_target(hyps, refs, srcs, tgt_lang, keep=None):
    """The outputs' off-target rate and, given references, the references' own (the floor: human
    references hold names, markup and quotes in other languages too)."""
    from .base import apply_mask, as_reference_streams, mask_extra
    from .offtarget import off_target

    refs = as_reference_streams(refs)[0] if refs is not None else None
    kept_hyps, kept_refs, kept_srcs = apply_mask(keep, hyps, refs, srcs)
    result = off_target(kept_hyps, tgt_lang, kept_srcs)
    if kept_refs is not None:
        floor = off_target(kept_refs, tgt_lang, kept_srcs)
        result.extra.update(reference_rate=floor.score, reference_undetermined_rate=floor.extra["undetermined_rate"])
    if keep is not None:   # scored on a subset: said in the signature, as the other metrics do
        extra = mask_extra(keep)
        result.extra.update(extra)
        result.signature += f"|subset:{extra['segments_kept']}/{extra['segments_total']}"
    return result


# -- the metrics ----------------------------------------------------------------------------------
COMET_OPTIONS = ("model", "batch_size", "gpus", "precision", "error_spans", "progress")
MODEL_RUN = {"batch_size": BATCH_SIZE, "precision": PRECISION}
SPM_SETTINGS: dict[str, MetricSetting | str] = {"spm_model": SPM_MODEL}   # a SentencePiece tokenizer's model file
register(MetricSpec("bleu", "BLEU", _sacrebleu("bleu"), options=("tokenize", "lowercase", "spm_model"),
                    settings=SPM_SETTINGS))
register(MetricSpec("spbleu", "spBLEU", _sacrebleu("spbleu"), options=("lowercase", "spm_model"),
                    settings=SPM_SETTINGS))
register(MetricSpec("chrf", "chrF", _sacrebleu("chrf"), options=("lowercase",)))
register(MetricSpec("chrf++", "chrF++", _sacrebleu("chrfpp"), options=("lowercase",)), "chrfpp")
register(MetricSpec("ter", "TER", _sacrebleu("ter"), higher_is_better=False,
                    options=("asian_support", "case_sensitive", "normalized")))
register(MetricSpec("comet", "COMET", _comet, needs_srcs=True, model_based=True, options=COMET_OPTIONS,
                    settings={"model": COMET_MODEL, **MODEL_RUN}, digits=4))
register(MetricSpec("xcomet", "xCOMET", _xcomet, needs_srcs=True, model_based=True, options=COMET_OPTIONS,
                    settings={"model": XCOMET_MODEL, **MODEL_RUN}, digits=4))
register(MetricSpec("cometkiwi", "CometKiwi", _comet_qe(COMETKIWI_MODEL.default, "CometKiwi"),
                    needs_refs=False, needs_srcs=True, model_based=True, options=COMET_OPTIONS,
                    settings={"model": COMETKIWI_MODEL, **MODEL_RUN}, digits=4), "kiwi")
register(MetricSpec("cometkiwi-xl", "CometKiwi-XL", _comet_qe(COMETKIWI_XL_MODEL.default, "CometKiwi-XL"),
                    needs_refs=False, needs_srcs=True, model_based=True, options=COMET_OPTIONS,
                    settings={"model": COMETKIWI_XL_MODEL, **MODEL_RUN}, digits=4))
register(MetricSpec("xcomet-qe", "xCOMET-QE", _comet_qe(XCOMET_MODEL.default, "xCOMET-QE", spans=True),
                    needs_refs=False, needs_srcs=True, model_based=True, options=COMET_OPTIONS,
                    settings={"model": XCOMET_MODEL, **MODEL_RUN}, digits=4))
METRICX_OPTIONS = ("model", "batch_size", "precision", "tokenizer", "version")
METRICX_SETTINGS: dict[str, MetricSetting | str] = {"model": METRICX_MODEL, "version": METRICX_VERSION, **MODEL_RUN}
register(MetricSpec("metricx", "MetricX", _metricx(qe=False), needs_srcs=True, higher_is_better=False,
                    model_based=True, options=METRICX_OPTIONS, settings=METRICX_SETTINGS,
                    unit="MetricX (0-25, lower is better)"))
register(MetricSpec("metricx-qe", "MetricX-QE", _metricx(qe=True), needs_refs=False, needs_srcs=True,
                    higher_is_better=False, model_based=True, options=METRICX_OPTIONS,
                    settings=METRICX_SETTINGS, unit="MetricX-QE (0-25, lower is better)"))
# A judge server takes the run's transport settings (the HTTP backend's own: concurrency, ...).
JUDGE_TRANSPORT = TRANSPORT
JUDGE_OPTIONS = ("model", "base_url", "api_key_env", "api_key_file", "template", "samples", "temperature",
                 "max_new_tokens", "src_lang", "batch_size", "progress", *JUDGE_TRANSPORT)
JUDGE_SETTINGS: dict[str, MetricSetting | str] = {
    "model": JUDGE_MODEL, "base_url": JUDGE_BASE_URL, "template": JUDGE_TEMPLATE, "samples": JUDGE_SAMPLES,
    "temperature": JUDGE_TEMPERATURE, "api_key_env": JUDGE_API_KEY_ENV, "api_key_file": JUDGE_API_KEY_FILE,
    "max_new_tokens": JUDGE_MAX_TOKENS,
    **{k: k for k in JUDGE_TRANSPORT}}
register(MetricSpec("gemba-mqm", "GEMBA-MQM", _judge("mqm"), needs_refs=False, needs_srcs=True,
                    model_based=True, options=JUDGE_OPTIONS, settings=JUDGE_SETTINGS,
                    unit="GEMBA-MQM (0 = no errors, -25 worst)", rules=f"parser{JUDGE_PARSER}"))
register(MetricSpec("gemba-esa", "GEMBA-ESA", _judge("esa"), needs_refs=False, needs_srcs=True,
                    model_based=True, options=JUDGE_OPTIONS, settings=JUDGE_SETTINGS,
                    unit="GEMBA-ESA (0-100)", rules=f"parser{JUDGE_PARSER}"))
register(MetricSpec("offtarget", "OffTarget%", _off_target, needs_refs=False, higher_is_better=False,
                    detail=("flags",), unit="% outputs not in the target language", rules=f"rules{LANGID_RULES}",
                    beside=(("undetermined_rate", "Undetermined%"), ("reference_rate", "Ref OffTarget%"),
                            ("reference_undetermined_rate", "Ref Undetermined%"))))
_BUILDING = False


def _checkpoint_content(ckpt: Path) -> str:
    """A local COMET checkpoint's content (its weights, hparams.yaml, a local encoder it names)."""
    from .comet_scoring import checkpoint_content

    return checkpoint_content(ckpt)
