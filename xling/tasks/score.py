"""The `score` task: several systems' outputs scored against references with any metrics,
optionally with paired significance against the first system (xling.reporting.scores formats
the report as text, JSON or LaTeX). The library behind `xling score`."""
from __future__ import annotations

import sys
from dataclasses import replace
from typing import Callable

from ..data.languages import all_languages, resolve
from ..errors import XlingError
from ..metrics import on_target_mask
from ..metrics.base import check_lengths
from ..metrics.preflight import check_metric_kinds, check_metric_models
from ..metrics.registry import get, parse_metric_names, warn_unread_settings
from ..metrics.significance import DEFAULT_SAMPLES, check_samples, paired_test
from ..metrics.unsegmented import result_warning, warn
from ..reporting.scores import ScoreReport


def warn_wrong_script(texts: dict[str, list[str]], tgt_lang: str, option: str = "-t") -> None:
    """One stderr line per text plainly written in a script `tgt_lang` is not written in (Korean
    references scored with -t en): the target language picks BLEU's tokenizer and what the
    off-target checks expect, so a stale -t changes the scores without an error. Give the
    references, or with none the system outputs (then only when all of them are: one system in
    another script is what the off-target rate is for)."""
    from ..metrics.langid import wrong_script

    tgt = resolve(tgt_lang)
    found = {name: wrong_script(lines, tgt.code) for name, lines in texts.items()}
    if not found or not all(found.values()):
        return
    from ..metrics.langid import SCRIPT_NAMES

    for name, script in found.items():
        named = "standard input" if name == "-" else name
        # the same language in the script found (Serbian in Latin letters: -t sr-Latn)
        other = next((lang for lang in all_languages() if lang.iso639_3 == tgt.iso639_3 and lang.code != tgt.code
                      and SCRIPT_NAMES.get(lang.script) == script), None)
        # (Simplified and Traditional Chinese, Serbian's two scripts: one BLEU tokenizer)
        what = "its off-target checks" if other and other.bleu_tokenizer == tgt.bleu_tokenizer \
            else "its BLEU tokenizer and off-target checks"
        print(f"xling: warning: {named} is written in {script}, and it is scored as {tgt.name} ({option} "
              f"{tgt_lang}: {what})" + (f"; {other.name} is {option} {other.code}" if other else ""), file=sys.stderr)


def check_tokenizer_options(metrics: list[str], tokenize: str | None, spm_model: str | None) -> None:
    """--tokenize and --spm-model where no metric asked for uses them: refused, never ignored
    (`-m chrf --tokenize zh` scored chrF as if it had not been given; `--spm-model` with 13a BLEU)."""
    from ..metrics.spm import SPM_TOKENIZERS

    if tokenize and "bleu" not in metrics:
        raise XlingError(f"--tokenize sets BLEU's tokenizer, and -m {','.join(metrics)} has no BLEU"
                         + (" (spBLEU tokenizes with flores200 always)" if "spbleu" in metrics else ""))
    sentencepiece = "spbleu" in metrics or "bleu" in metrics and tokenize in SPM_TOKENIZERS
    if spm_model and not sentencepiece:
        raise XlingError("--spm-model is the SentencePiece model of spBLEU: add -m spbleu (or --tokenize "
                         "flores200 with -m bleu)")


def score_systems(systems: dict[str, list[str]], refs: list[list[str]] | None, metrics, tgt_lang: str,
                  srcs: list[str] | None = None, src_lang: str | None = None,
                  test: str | None = None, n_samples: int | None = None, seed: int = 12345,
                  on_target_only: bool = False, tokenize: str | None = None,
                  settings: dict | None = None, gpus: int | None = None,
                  script_check: dict[str, list[str]] | None = None,
                  on_checked: Callable[[], None] | None = None) -> ScoreReport:
    """`refs`: one list of references per reference set (several: multi-reference string
    metrics; model-based metrics take the first). `settings` are metric settings by their
    run-config names (comet_model, xcomet_model, cometkiwi_model, metricx_model,
    comet_batch_size, precision, ...): each metric takes its own, as in a run. `script_check`:
    texts by file name to warn about when written in a script `tgt_lang` is not (warn_wrong_script),
    once every refusal is past; `on_checked`: called then too (the caller's own warnings)."""

    tgt = resolve(tgt_lang)
    src = resolve(src_lang) if src_lang else None
    metrics = parse_metric_names(metrics)
    specs = {m: get(m) for m in metrics}
    check_tokenizer_options(metrics, tokenize, (settings or {}).get("spm_model"))   # (refused: never warned first)
    warn_unread_settings(settings or {}, metrics, f"the metrics {', '.join(metrics)}")
    streams = refs
    if streams is not None and len(streams) > 1:
        check_lengths(**{f"reference {i}": r for i, r in enumerate(streams)})
    first_refs = streams[0] if streams is not None else None   # one per segment: checks, model metrics
    lacking = [s.display for s in specs.values() if s.needs_refs and first_refs is None]
    if lacking:
        raise XlingError(f"{', '.join(lacking)} need{'s' * (len(lacking) == 1)} references (-r)")
    lacking = [s.display for s in specs.values() if s.needs_srcs and srcs is None]
    if lacking:
        raise XlingError(f"{', '.join(lacking)} need{'s' * (len(lacking) == 1)} the source sentences "
                         "(-s/--source)")
    check_lengths(references=first_refs, sources=srcs,
                  **{f"hypotheses {name}": hyps for name, hyps in systems.items()})
    # a judge's URL and key, and each local model's kind, before the first system is scored (a
    # model's own load says the rest)
    check_metric_models([m for m in metrics if "template" in specs[m].settings], settings or {}, translating=False)
    check_metric_kinds(metrics, settings or {})
    report = ScoreReport(systems={}, settings={
        "tgt_lang": tgt.code, "src_lang": src.code if src else None, "metrics": metrics,
        "test": test, "seed": seed, "on_target_only": on_target_only,
        # (the samples drawn, a default included)
        "n_samples": check_samples(n_samples, test) if test in DEFAULT_SAMPLES else n_samples})
    # progress bars (model-based metrics, judges) on an interactive stderr only (a log's bar
    # began before a judge's window refusal, on that refusal's line)
    options = {m: dict(spec.options_from(settings or {}), tokenize=tokenize, gpus=gpus,
                       src_lang=src.code if src else None, progress=sys.stderr.isatty())
               for m, spec in specs.items()}
    if test and len(systems) > 1 and on_target_only:
        raise XlingError("paired tests need the same segments for every system; "
                         "drop --on-target-only")
    keeps = {}   # (every system's, before the first is scored: refusals before any warning)
    for name, hyps in systems.items():
        keep = on_target_mask(get("offtarget")(hyps, None, srcs, tgt.code)) if on_target_only else None
        if keep is not None and not any(keep):
            raise XlingError(f"--on-target-only: no output of {name} is in the target language ({tgt.code}): "
                             f"0 of {len(hyps)} kept")
        keeps[name] = keep
    if on_checked is not None:
        on_checked()
    if streams is not None and len(streams) > 1:
        single = [s.display for s in specs.values() if s.model_based and s.needs_refs]
        # (the clause on the others only where one was asked for: they get every stream)
        every = any(not s.model_based and s.needs_refs for s in specs.values())
        if single:
            print(f"xling: note: {', '.join(single)} score{'s' * (len(single) == 1)} against the first "
                  f"reference only" + (f"; string metrics use all {len(streams)}" if every else ""), file=sys.stderr)
    if script_check:
        warn_wrong_script(script_check, tgt_lang)
    for name, hyps in systems.items():
        keep = keeps[name]
        report.systems[name] = {}
        several = len(streams or []) > 1
        for m, spec in specs.items():
            # the off-target rate is over all outputs (over the on-target ones it is 0 by construction)
            result = spec(hyps, streams if several and not spec.model_based else first_refs, srcs, tgt.code,
                          keep=None if m == "offtarget" else keep, **options[m])
            reads_refs = spec.needs_refs is not False or "|ref:yes" in result.signature   # (a judge's template)
            if several and spec.model_based and reads_refs:   # which one it read (a judge's ref:yes, said so)
                signature = result.signature.replace("|ref:yes", "")
                result = replace(result, signature=f"{signature}|ref:1-of-{len(streams or [])}")
            report.systems[name][m] = result
    warn(result_warning(m, r.signature, tgt.code) for results in report.systems.values()
         for m, r in results.items())
    if test and len(systems) > 1:
        names = list(systems)
        for metric in metrics:
            baseline = report.systems[names[0]][metric]
            report.paired[metric] = paired_test(
                baseline, {n: report.systems[n][metric] for n in names[1:]}, test, n_samples, seed)
            if test == "bs":   # the baseline's own bootstrap interval, from the same draws (as sacrebleu)
                report.baseline[metric] = paired_test(baseline, {names[0]: baseline}, test, n_samples, seed)[0]
    return report
