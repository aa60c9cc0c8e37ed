"""Metric models found before any work: a run that would translate a whole direction and then
fail on a COMET or MetricX model that cannot load (offline, a mistyped folder) or is of another
kind (a MetricX folder naming no version, a reference-based checkpoint for a QE metric, an
hparams.yaml xling cannot build), or on a missing SentencePiece file, fails first."""
from __future__ import annotations

from pathlib import Path

from ..data import hub
from ..errors import XlingError
from .registry import MetricSetting, get
from .spm import SPM_TOKENIZERS


def check_metric_models(metrics: list[str], settings, translating: bool = True) -> None:
    """Each model-based metric's model is a local checkpoint, in the hub cache, or fetchable (the
    hub answers); else one XlingError naming the metric, the model and the option to change
    (`translating`: a run that translates, whose files have --qe/--utility and keys; else a
    command that only scores: score, rescore, meta-eval)."""

    _no_key_given_as_a_name(settings)
    online = None
    for name in metrics:
        spec = get(name)
        spm = spec.options_from(settings).get("spm_model") if "spm_model" in spec.settings else None
        if spm and not Path(spm).expanduser().is_file():
            raise XlingError(f"SentencePiece model {spm} does not exist (--spm-model)")
        tokenize = "flores200" if spec.name == "spbleu" else spec.options_from(settings).get("tokenize")
        if spm is None and tokenize in SPM_TOKENIZERS:   # sacrebleu's own file: found or fetched now, or one line
            from .sacre import _bleu

            _bleu(tokenize, False, False, None)
        if "template" in spec.settings:   # a judge: its template and its model, before any translation
            _check_judge(spec, spec.options_from(settings))
            continue
        key = spec.settings.get("model")
        if not isinstance(key, MetricSetting) or key.snapshot_file is None:
            continue
        model = spec.options_from(settings).get("model") or key.default
        option = key.option_flags()[0]
        path = Path(model).expanduser()
        needed = [model]
        if spec.name in ("metricx", "metricx-qe"):   # and mT5's tokenizer, from the hub unless a folder holds it
            from .metricx import _tokenizer_source, in_hub_cache
            needed.append(_tokenizer_source(model, None))
        if path.exists():
            if key.snapshot_file.startswith("checkpoints") and path.is_dir() \
                    and not (path / key.snapshot_file).is_file():
                kind = "; it holds config.json: a transformers model (MetricX: --metricx-model)" \
                    if (path / "config.json").is_file() else ""
                raise XlingError(f"{spec.display} model folder {model} has no {key.snapshot_file} ({option}){kind}")
            if spec.name in ("metricx", "metricx-qe") and path.is_dir():   # (a COMET folder: not "offline")
                from .metricx import check_folder
                check_folder(model, option)
            needed.remove(model)
        for need in needed:
            if Path(need).expanduser().exists():
                continue
            hub.check_name(need, f"{spec.display} model")
            if _in_hub_cache(need, key.snapshot_file) if need == model else in_hub_cache(need):
                continue
            online = hub.reachable() if online is None else online
            if online:
                continue
            why = (f"{spec.display} needs {'model' if need == model else 'the tokenizer'} {need!r}, which is "
                   "neither a local folder nor in the hub cache, and the Hugging Face hub cannot be reached "
                   "(offline?); pass a local checkpoint")
            if not translating:
                raise XlingError(f"{why} ({option} PATH) or leave {name} out of -m (checked before scoring: "
                                 "nothing was written)")
            raise XlingError(f"{why} ({option} PATH; `{key.name}:` in an experiment file) or leave {name} "
                             "out (of the metrics, or of --qe/--utility; `metrics:`, `qe:`, `utility:` in a file) "
                             "(checked before translating: nothing was generated)")
        _check_kind(spec, model, key, spec.options_from(settings))


def check_metric_kinds(metrics: list[str], settings) -> None:
    """The cheap part of check_metric_models, no hub asked (`score`, whose models load as it
    scores): each model found here is of its metric's kind, before the first metric scores."""
    for name in metrics:
        spec = get(name)
        key = spec.settings.get("model")
        if "template" in spec.settings or not isinstance(key, MetricSetting) or key.snapshot_file is None:
            continue
        options = spec.options_from(settings)
        model = options.get("model") or key.default
        if spec.name in ("metricx", "metricx-qe") and Path(model).expanduser().is_dir():
            from .metricx import check_folder
            check_folder(model, key.option_flags()[0])   # (a COMET folder is named so, not by its version)
        _check_kind(spec, model, key, options)


def _check_kind(spec, model: str, key: MetricSetting, options: dict) -> None:
    """A model is one its metric scores (a MetricX version its name or --metricx-version gives, a
    COMET checkpoint xling builds, a QE metric's model reading no reference): read from names
    and hparams.yaml, no weights loaded. It was found only after the whole translation."""
    if spec.name in ("metricx", "metricx-qe"):
        from .metricx import check_kind
        check_kind(model, options.get("version"), spec.needs_refs)
        return
    ckpt = _comet_checkpoint(model, key.snapshot_file or "")
    if ckpt is not None:
        from .comet_scoring import check_checkpoint
        check_checkpoint(ckpt, model, spec.needs_refs, None if spec.needs_refs else spec.display,
                         key.option_flags()[0])


def _comet_checkpoint(model: str, snapshot_file: str) -> Path | None:
    """A COMET model's checkpoint file where it is here with its hparams.yaml (a local folder or
    file, or the hub cache's copy); None where it is not (fetched when scored)."""
    if not snapshot_file.startswith("checkpoints"):
        return None
    path = Path(model).expanduser()
    if path.exists():   # (a folder without its checkpoint is said so where it loads)
        ckpt = path if path.is_file() else path / snapshot_file
        return ckpt if ckpt.is_file() else None
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(model, snapshot_file)
    except Exception:  # noqa: BLE001 - a name the hub would refuse is not cached
        return None
    if not isinstance(found, str):
        return None
    return Path(found) if (Path(found).parents[1] / "hparams.yaml").is_file() else None


def _no_key_given_as_a_name(settings) -> None:
    """The judge's key options name a variable and a file: a key given there by mistake is
    refused before a run folder records it (whether or not a judge server reads it)."""
    import re

    from ..secrets import redact

    def given(name):
        return settings.get(name) if isinstance(settings, dict) else getattr(settings, name, None)

    from ..backends.http import key_like

    env, path = given("judge_api_key_env"), given("judge_api_key_file")
    if env and (not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(env)) or redact(str(env)) != str(env)
                or key_like(str(env))):
        raise XlingError("--judge-api-key-env takes the NAME of an environment variable holding the key, "
                         "not the key itself")
    if path and redact(str(path)) != str(path):
        raise XlingError("--judge-api-key-file takes the path of a file holding the key, not the key itself")


def check_judge_model(model: str, kind: str) -> None:
    """A local or hub judge whose config (read, not its weights) says it is an encoder-decoder
    model (NLLB, M2M100, Marian) is refused: it was found only after the whole translation, with a
    message about translation templates that named no judge."""
    from ..backends.choice import encoder_decoder_reason
    from .judge import KINDS

    if encoder_decoder_reason(model):
        raise XlingError(judge_needs_causal(model, KINDS[kind][1]))


def judge_needs_causal(model: str, name: str) -> str:
    return (f"the judge {model} is an encoder-decoder MT model; {name} judges need a causal LM "
            "(or a server: --judge-base-url)")


def _check_judge(spec, options: dict) -> None:
    from .judge import KINDS, judge_template

    kind = next((k for k, (name, _) in KINDS.items() if name == spec.name), None)
    if kind is None:   # (a plugin's judge: its own checks)
        return
    judge_template(options.get("template"), kind)
    if options.get("base_url"):   # its URL and its key, before anything is translated or written
        from ..backends.http import read_api_key
        from ..secrets import check_server_url

        check_server_url(options["base_url"], "--judge-base-url")
        read_api_key(options.get("api_key_env"), options.get("api_key_file"))
    if options.get("model") and not options.get("base_url"):   # a local or hub judge (a server's is its own name)
        from ..backends.loading import locate_model

        locate_model(options.get("model"), quiet=True)
        check_judge_model(options["model"], kind)


def _in_hub_cache(model: str, filename: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(model, filename), str)
    except Exception:  # noqa: BLE001 - a name the hub would refuse is not cached
        return False
