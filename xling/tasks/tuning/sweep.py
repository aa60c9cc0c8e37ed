"""`xling tune-ratio`: the whole sweep, resumable per (ratio, seed), records like other runs."""
from __future__ import annotations

import dataclasses
import json
import math
import shutil
import sys

import numpy as np

from ...backends import Batching, load_backend
from ...backends.base import Decoding, GenerationRequest, Prompt
from ...backends.loading import check_weights, locate_model
from ...data import hub
from ...data.textio import atomic_writer
from ...errors import XlingError
from ...metrics.rouge import rouge_l
from ...runs.config import TuneRatioConfig
from ...runs.folder import RunDir, RunHeader
from ...store.cache import content_key
from ...store.filehash import model_fingerprint
from .judge import JUDGE_RULE, judge_pairwise
from .mixes import DEFAULT_RATIOS, build_mix, check_ratios, split_pairs, without_held_out_text
from .paired import Pair, load_hub_pairs, load_pairs
from .train import encode_example, fine_tune

# Table 16's settings: (name, tested in, tuned shares in the numerator, the monolingual share).
SCORE_SETTINGS = (("en->ko", "ko", (0.0,), 1.0), ("ko->en", "en", (1.0,), 0.0),
                  ("en+ko->ko", "ko", (0.25, 0.5, 0.75), 1.0), ("en+ko->en", "en", (0.25, 0.5, 0.75), 0.0))


def unit_name(ratio: float, seed: int) -> str:
    return f"ratio-{ratio:g}_seed-{seed}"


def answer(model_dir, instructions: list[str], max_new_tokens: int) -> list[str]:

    # The fingerprint hashes the trained weights, so a retrained unit never reuses old answers.
    backend = load_backend(str(model_dir), batching=Batching(8), cache=True, quiet=True)
    requests = [GenerationRequest(Prompt(messages=(("user", i),)), max_new_tokens) for i in instructions]
    return [text.strip() for text in backend.generate(requests, Decoding())]


def run_tune_ratio(config: TuneRatioConfig, overwrite: bool = False, progress: bool = True) -> RunDir:
    with RunDir(config.out) as run:
        _run_tune_ratio(run, config, overwrite, progress)
    return run


def _saved_training(marker, made_by: dict) -> dict | None:
    """The training stats of a unit's saved model, if that model was trained by this very unit
    of this config (same identity, same training examples): a folder resumed with other settings
    trains again."""
    try:
        saved = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or not (marker.parent / "model").is_dir() or \
            any(saved.get(k) != v for k, v in made_by.items()):
        return None
    return saved.get("stats")


def _content(source: str) -> str:
    """A model's content (a local folder's fingerprint), or its hub name."""
    from pathlib import Path

    return model_fingerprint(Path(source)) if Path(source).is_dir() else source


def _check_answers_fit(source: str, options: dict, tokenizer, test: list[Pair], max_new_tokens: int) -> None:
    """Refuse, before any unit trains, a held-out instruction whose prompt and answer budget
    pass the base model's context window (the tuned models share it): found after training, it
    cost every unit's fine-tune."""
    from transformers import AutoConfig

    from ...backends.hfmodel import context_window

    with hub.quiet_transformers(), hub.offline_while(options.get("local_files_only", False)):
        window = context_window(AutoConfig.from_pretrained(source, **options), tokenizer)
    if not window:
        return
    for pair in test:
        for lang in ("en", "ko"):
            prompt = tokenizer.apply_chat_template([{"role": "user", "content": pair.side(lang)[0]}],
                                                   tokenize=False, add_generation_prompt=True)
            length = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
            if length + max_new_tokens > window:
                raise XlingError(f"held-out pair {pair.id} ({lang}: {length:,} tokens of prompt and "
                                 f"{max_new_tokens:,} of answer) does not fit the model's context window of "
                                 f"{window:,} tokens; lower max_new_tokens or use a model with a longer context")


def _run_tune_ratio(run: RunDir, config: TuneRatioConfig, overwrite: bool, progress: bool) -> None:
    from transformers import AutoTokenizer

    ratios = check_ratios(config.ratios if config.ratios is not None else DEFAULT_RATIOS)
    if config.metric not in ("rougeL", "judge"):
        raise XlingError(f"metric must be rougeL or judge, not {config.metric!r}")
    if config.metric == "judge" and not config.judge_model:
        raise XlingError("metric judge needs judge_model")
    if config.metric == "judge" and not {0.0, 1.0} <= set(ratios):   # (found only after training)
        raise XlingError("metric judge compares each share's model with the monolingual ones: ratios "
                         "must include 0 and 1")
    if not config.seeds:
        raise XlingError("seeds must name at least one seed")
    if len(set(config.seeds)) < len(config.seeds):   # (one unit, listed twice in config.json)
        raise XlingError(f"seeds names a seed twice ({config.seeds}): give each seed once")
    named = [k for k in ("train_hub", "train_paired", "train_en", "train_ko") if getattr(config, k)]
    if named not in (["train_hub"], ["train_paired"], ["train_en", "train_ko"]):
        # (train_hub won over a train_paired added beside it, which won over train_en/train_ko)
        raise XlingError("give one training source: train_hub, train_paired, or train_en with train_ko"
                         + (f" (this config names {', '.join(named)})" if named else ""))
    def load(extra: int):
        if config.train_hub:
            return load_hub_pairs(config.train_hub, wanted + extra if wanted else None)
        return load_pairs(config.train_en, config.train_ko, config.train_paired)

    wanted = config.train_size + config.test_size if config.train_hub and config.train_size else None
    pairs, data_report = load(0)   # (the data's problems first: the model may be the hub's too)
    source, _ = locate_model(config.model, quiet=True)   # a missing folder or an offline hub: one line
    check_weights(source)
    if config.metric == "judge":   # (loaded after every unit has trained: its weights checked now)
        check_weights(locate_model(config.judge_model, quiet=True)[0])
    options = hub.load_options(source)
    with hub.quiet_transformers(), hub.offline_while(options.get("local_files_only", False)):
        tokenizer = AutoTokenizer.from_pretrained(source, **options)
    if not getattr(tokenizer, "chat_template", None):
        raise XlingError(f"model {config.model} has no chat template; instruction tuning needs one")

    def fits(pair: Pair) -> bool:   # a prompt that fills max_length leaves no response token to learn from
        return all(any(label != -100 for label in encode_example(tokenizer, *pair.side(lang),
                                                                 config.max_length)["labels"])
                   for lang in ("en", "ko"))

    extra = 0
    while True:   # a hub sweep draws more rows for the pairs it leaves out (they had no slack)
        train, test = split_pairs(pairs, config.test_size, seed=0)
        clean = without_held_out_text(train, test)
        # Pairs that do not fit are left out of training (and counted) before any unit trains.
        fitting = [p for p in clean if fits(p)]
        short = (config.train_size or 0) - len(fitting)
        if not wanted or short <= 0 or len(pairs) < wanted + extra:   # enough, or the hub has no more
            break
        extra += short
        pairs, data_report = load(extra)
    data_report["dropped_too_long"] = len(clean) - len(fitting)
    if len(clean) < len(train):   # (only then: a sweep made before the rule keeps its report)
        data_report["dropped_held_out_text"] = len(train) - len(clean)
    if not fitting:
        raise XlingError(f"no training pair keeps a response token within max_length {config.max_length} "
                         "(their prompts fill it); raise max_length")
    train = fitting
    _check_answers_fit(source, options, tokenizer, test, config.max_new_tokens)
    if config.train_size and config.train_size > len(train):   # (build_mix found it after the folder was made)
        raise XlingError(f"train_size {config.train_size} exceeds the {len(train)} training pairs")
    if progress:
        print(f"xling: {data_report['pairs']} pairs survived ({data_report['dropped_empty']} dropped "
              f"for an empty side, {data_report['dropped_too_long']} whose prompt fills max_length "
              f"{config.max_length}"
              + (f", {data_report['dropped_held_out_text']} repeating a held-out instruction"
                 if "dropped_held_out_text" in data_report else "")
              + f"); {len(train)} for training, {len(test)} held out", file=sys.stderr)
    units = [(r, s) for s in config.seeds for r in ratios]
    size = config.train_size or len(train)
    trained_on = {r: round(r * size) for r in ratios}
    same = [r for r in ratios if any(o != r and trained_on[o] == trained_on[r] for o in ratios)
            or 0 < r < 1 and trained_on[r] in (0, size)]
    if same and progress:   # Figure 2 draws each at its real share
        print(f"xling: warning: with {size} training examples the Korean shares "
              f"{', '.join(f'{r:g}' for r in same)} train on "
              f"{', '.join(sorted({f'{trained_on[r]}' for r in same}, key=int))} Korean examples "
              "(the same as another share, or none/all of them); more training data separates them",
              file=sys.stderr)
    rounded = [r for r in ratios if r not in same and abs(r * size - trained_on[r]) > 1e-9]
    if rounded and progress:   # (Python rounds halves to even: 2.5 is 2, 7.5 is 8)
        print("xling: note: Korean shares trained on, rounded to whole examples of " + str(size) + ": "
              + ", ".join(f"{r:g} -> {trained_on[r] / size:.1%}" for r in rounded) + " (the table and "
              "Figure 2 show the share trained on)", file=sys.stderr)
    # what the units are made of, beyond the settings: the pairs' text (a file edited in place
    # mixed old and new references in one table) and the models' content (weights replaced at
    # the same path trained the next units on another base)
    identity = dict(config.identity(), data_sha256=content_key(pairs=[(p.id, p.en, p.ko) for p in pairs]),
                    base_model_content=_content(source),
                    judge_model_content=_content(locate_model(config.judge_model, quiet=True)[0])
                    if config.metric == "judge" else None)
    if "dropped_held_out_text" in data_report:   # (a sweep of such data made before the rule trained on them)
        identity["dropped_held_out_text"] = data_report["dropped_held_out_text"]
    run.prepare(RunHeader("tune_ratio", identity, dataclasses.asdict(config),
                          [unit_name(r, s) for r, s in units], data=data_report,
                          details={"test_ids": [p.id for p in test]}), overwrite=overwrite)
    # a unit's saved model is matched against the identity the folder keeps (a sweep made before
    # a key joined it keeps its own: its killed unit's model is not trained again)
    identity = run.read_config()["identity"]
    metrics = run.read_metrics(recover=True)
    for ratio, seed in units:
        name = unit_name(ratio, seed)
        if name in metrics["directions"] and run.outputs_path(name).is_file():
            continue   # finished earlier: resume skips it
        mix = build_mix(train, ratio, seed, config.train_size)
        if progress:
            print(f"xling: {name}: training on {len(mix.examples)} examples "
                  f"({mix.korean_share:.1%} Korean)", file=sys.stderr)

        unit_dir = run.path / "models" / name
        trained = unit_dir / "trained.json"   # written once the model is saved whole
        made_by = json.loads(json.dumps({"identity": identity, "unit": name,
                                         "examples": [[i, lang] for i, lang, _, _ in mix.examples]}, default=str))
        stats = _saved_training(trained, made_by)
        if stats is not None:
            # killed after training (while answering or judging): the fine-tune is not redone
            if progress:
                print(f"xling: {name}: its trained model is in {unit_dir}: not trained again", file=sys.stderr)
        else:
            stats = fine_tune(source, [(i, r) for _, _, i, r in mix.examples], unit_dir,
                              epochs=config.epochs, learning_rate=config.learning_rate,
                              batch_size=config.batch_size, max_length=config.max_length,
                              lora=config.lora, lora_r=config.lora_r, seed=seed)
            with atomic_writer(trained) as handle:
                json.dump({**made_by, "stats": stats}, handle)
        records, summary = [], {"ratio": ratio, "seed": seed, "korean_share": mix.korean_share,
                                "train_examples": len(mix.examples), "losses": stats["losses"]}
        for lang in ("ko", "en"):
            instructions = [p.side(lang)[0] for p in test]
            answers = answer(unit_dir / "model", instructions, config.max_new_tokens)
            scores = [rouge_l(a, p.side(lang)[1]) for a, p in zip(answers, test)]
            records += [{"id": p.id, "lang": lang, "instruction": p.side(lang)[0], "reference": p.side(lang)[1],
                         "answer": a, "rougeL": s} for p, a, s in zip(test, answers, scores)]
            summary[f"rougeL_{lang}"] = float(np.mean(scores))
        run.write_outputs(name, records)
        metrics["directions"][name] = summary
        # Figure 2 as far as the sweep has come: a stopped sweep draws its finished units
        metrics["figure2"] = figure2_points(_asked(metrics, units), config)
        run.write_metrics(metrics)
        if not config.keep_models:
            shutil.rmtree(unit_dir, ignore_errors=True)
    if config.metric == "judge":
        _judge_all(run, config, units, metrics)
    asked = _asked(metrics, units)
    metrics["score_x_to_y"] = score_x_to_y(asked, config.metric)
    metrics["figure2"] = figure2_points(asked, config)
    run.write_metrics(metrics)


def _asked(metrics: dict, units) -> dict:
    """metrics with the units asked for now (a folder may keep units of seeds or shares no
    longer asked for)."""
    names = [unit_name(*u) for u in units]
    return {**metrics, "directions": {name: metrics["directions"][name] for name in names
                                      if name in metrics["directions"]}}


def _judge_all(run: RunDir, config: TuneRatioConfig, units, metrics) -> None:
    """Preference of each model against the monolingual one in the test language (A = tuned)."""
    import json


    judge = load_backend(config.judge_model, cache=True, quiet=True)
    for ratio, seed in units:
        name = unit_name(ratio, seed)
        entry = metrics["directions"][name]
        if "preference_ko" in entry and entry.get("judge_rule") == JUDGE_RULE:
            continue
        records = run.read_outputs(name)
        for lang, mono in (("ko", 1.0), ("en", 0.0)):
            if ratio == mono:   # the monolingual model against itself: 0.5 by definition, not a
                entry[f"preference_{lang}"], entry[f"unparseable_{lang}"] = 0.5, 0   # judge's habit
                continue
            mine = [r for r in records if r["lang"] == lang]
            theirs = [r for r in run.read_outputs(unit_name(mono, seed)) if r["lang"] == lang]
            result = judge_pairwise(judge, [r["instruction"] for r in mine], [r["answer"] for r in mine],
                                    [r["answer"] for r in theirs])
            entry[f"preference_{lang}"] = result.preference
            entry[f"unparseable_{lang}"] = result.unparseable
            path = run.path / "outputs" / f"judge_{name}_{lang}.jsonl"
            with atomic_writer(path) as handle:
                handle.write("".join(json.dumps({"id": r["id"], "verdicts": v, "score": s}, ensure_ascii=False) + "\n"
                                     for r, v, s in zip(mine, result.verdicts, result.scores)))
        entry["judge_rule"] = JUDGE_RULE
        run.write_metrics(metrics)


def _mean_score(metrics, ratio: float, lang: str, key: str) -> float | None:
    values = [e[f"{key}_{lang}"] for e in metrics["directions"].values()
              if isinstance(e, dict) and e.get("ratio") == ratio and f"{key}_{lang}" in e]
    values = [v for v in values if v is not None and np.isfinite(v)]   # NaN: no verdict was readable
    return float(np.mean(values)) if values else None


def score_x_to_y(metrics: dict, metric: str = "rougeL") -> dict[str, float]:
    """Equation 1 for Table 16's four settings, from the shares the sweep ran (means over seeds)."""
    key = "preference" if metric == "judge" else "rougeL"
    out: dict[str, float] = {}
    for setting, lang, tuned, mono in SCORE_SETTINGS:
        base = _mean_score(metrics, mono, lang, key)
        ratios = [_mean_score(metrics, r, lang, key) for r in tuned]
        known = [v for v in ratios if v is not None]
        if base and len(known) == len(ratios):
            out[setting] = float(np.mean([v / base for v in known]))
    return out


def _trained_share(unit: dict) -> float:
    """The Korean share a unit trained on (sweeps made before it was stored: the share asked)."""
    share = unit.get("korean_share")
    return float(share if isinstance(share, (int, float)) else unit["ratio"])


def figure2_points(metrics: dict, config: TuneRatioConfig) -> dict:
    key, label = ("preference", "preference") if config.metric == "judge" else ("rougeL", "Rouge-L")
    panel = f"train {config.train_name}, test {config.test_name or config.train_name}"
    points: dict[str, object] = {"ylabel": label}
    for lang in ("ko", "en"):
        # a unit without a score (every judge verdict unreadable: NaN) has no point to draw
        # at the share trained on: round(ratio x examples) Korean examples (0.5% of 20 is none)
        points[lang] = [[100 * _trained_share(e), e[f"{key}_{lang}"]]
                        for e in metrics["directions"].values()
                        if isinstance(e, dict) and isinstance(e.get(f"{key}_{lang}"), (int, float))
                        and math.isfinite(e[f"{key}_{lang}"])]
    return {panel: points}
