"""nli_vs_lm_eval: lm-evaluation-harness's XNLI task vs what `xling eval nli` sends, on the same items.

The first N XNLI test rows of some languages (read from ../shared/data/xnli through local JSON
files; no hub), the same demonstrations (xling's balanced draw from the dev split, given to lm-eval
in that order: its first_n sampler) and the same model (default: the embedded one), three ways:

1. lm-eval's xnli task with its own words per language: each option is the whole
   " <premise>, right? Yes, <hypothesis>" after BOS and the demonstrations, each
   " <premise>, right? <word>, <hypothesis>" followed by a blank line: lm-eval's target delimiter
   " " opens every premise;
2. xling: a real `xling eval nli` run (xnli-rightq, `run_choice`), whose requests are the
   template's `loglikelihood_parts`: context "<premise>, right?" and continuations
   " Yes, <hypothesis>", demonstrations "<premise>, right? Yes, <hypothesis>" joined by blank
   lines: no space before a premise (and xling's own words outside en and de);
3. xling's scorer given lm-eval's texts (the scoring alone: identical predictions expected).

Prints each accuracy, the share of predictions identical to lm-eval's and the accuracy difference
for 2 and 3, and the wall times of 1 and 3 (the same texts) and of the run.

Needs lm-eval: run it with a Python that has it, e.g.
    python -m venv --system-site-packages /tmp/lmeval && /tmp/lmeval/bin/pip install lm-eval
    /tmp/lmeval/bin/python experiments/bench/nli_vs_lm_eval.py [--langs en,de] [--n 50] [--shots 5]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from _common import model_or_embedded, require_data, require_lm_eval, scratch, timer

from xling.data.choice import choice_source, exclusions
from xling.prompts.choice import balanced_shots, loglikelihood_parts
from xling.prompts.templates import load_template


def lm_eval_words(lang: str) -> tuple[str, list[str]]:
    """("right?" word, [Yes, Also, No] words) from lm-eval's own XNLI task file."""
    import lm_eval
    import yaml

    spec = yaml.safe_load((Path(lm_eval.__file__).parent / "tasks" / "xnli" / f"xnli_{lang}.yaml").read_text())
    parts = re.findall(r'premise\+", ([^"]*?) ([^" ]+), "\+hypothesis', spec["doc_to_choice"].replace("\n", " "))
    return parts[0][0], [word for _, word in parts]


def xling_demonstrations(root: Path, lang: str, n: int, shots: int, seed: int):
    """(the items, the demonstration items) a `xling eval nli --limit n --shots k --seed s` run of
    one language draws, by the run's own functions (tasks.choice._run_choice); checked against the
    run's config.json below."""
    source = choice_source("xnli:test", str(root), "nli")
    every = source.asked_in(source.items(lang, lang), lang, lang)
    full = source.asked_in(source.dev_pool(lang, lang), lang, lang) if shots else []
    pool, excluded = exclusions(source, every, full)
    return every[:n], balanced_shots(pool, shots, seed, 3, excluded, repeats=len(full) - len(pool))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="local model folder (default: the embedded model)")
    parser.add_argument("--langs", default="en,de")
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--shots", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="xling's draw of the demonstrations")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--json", default=None, help="write the figures here too")
    args = parser.parse_args()
    require_lm_eval()
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    root = require_data(args.data_dir)
    args.model = model_or_embedded(args.model)
    langs = args.langs.split(",")
    work = scratch("xling-lmeval-")
    items, shots = {}, {}
    for lang in langs:
        items[lang], shots[lang] = xling_demonstrations(root, lang, args.n, args.shots, args.seed)
        for split, rows in (("test", items[lang]), ("validation", shots[lang])):
            with open(work / f"{lang}.{split}.jsonl", "w", encoding="utf-8") as handle:
                for row in rows:
                    handle.write(json.dumps({"premise": row.fields["premise"], "hypothesis": row.fields["hypothesis"],
                                             "label": row.label}, ensure_ascii=False) + "\n")
        right, words = lm_eval_words(lang)
        choices = ",".join(f'premise+", {right} {w}, "+hypothesis' for w in words)
        # (0-shot: no validation split; an empty one stops the datasets library)
        fewshot = (f"    validation: {work / f'{lang}.validation.jsonl'}\n", "fewshot_split: validation\n"
                   "fewshot_config:\n  sampler: first_n\n") if args.shots else ("", "")
        (work / f"xnli_local_{lang}.yaml").write_text(
            f"task: xnli_local_{lang}\ndataset_path: json\n"
            f"dataset_kwargs:\n  data_files:\n    test: {work / f'{lang}.test.jsonl'}\n{fewshot[0]}"
            f"output_type: multiple_choice\ntest_split: test\n{fewshot[1]}"
            f"doc_to_text: ''\ndoc_to_target: label\ndoc_to_choice: '{{{{[{choices}]}}}}'\n"
            "metric_list:\n  - metric: acc\nmetadata:\n  version: 1.0\n", encoding="utf-8")

    import torch
    torch.manual_seed(0)
    lm = HFLM(pretrained=args.model, dtype="float32", batch_size=1, add_bos_token=True, device="cpu")
    times = {}
    with timer(times, "lm-eval"):
        result = simple_evaluate(model=lm, tasks=[f"xnli_local_{lang}" for lang in langs], num_fewshot=args.shots,
                                 task_manager=TaskManager(include_path=str(work)), log_samples=True,
                                 random_seed=0, numpy_random_seed=0, torch_random_seed=0, fewshot_random_seed=0)
    theirs, contexts = {}, {}
    for lang in langs:
        samples = sorted(result["samples"][f"xnli_local_{lang}"], key=lambda s: s["doc_id"])
        theirs[lang] = [max(range(3), key=lambda k: s["resps"][k][0][0]) for s in samples]
        contexts[lang] = [s["arguments"][0][0] if isinstance(s["arguments"][0], (list, tuple))
                          else s["arguments"]["gen_args_0"]["arg_0"] for s in samples]

    from xling.backends.hf import HFBackend
    from xling.runs.config import ChoiceEvalConfig
    from xling.tasks.choice import run_choice
    backend = HFBackend(args.model, display=args.model)
    # 3: xling's scorer on lm-eval's own texts (its context, then the premise with lm-eval's space)
    as_lm_eval = {}
    for lang in langs:
        right, words = lm_eval_words(lang)
        as_lm_eval[lang] = [(ctx + " " + it.fields["premise"] + ", " + right,
                             [f" {w}, {it.fields['hypothesis']}" for w in words])
                            for ctx, it in zip(contexts[lang], items[lang])]
    backend.loglikelihood(as_lm_eval[langs[0]][:1])   # load weights outside the timing
    scorer = {}
    with timer(times, "xling scorer"):
        for lang in langs:
            scorer[lang] = [max(range(3), key=lambda k: s[k]) for s in backend.loglikelihood(as_lm_eval[lang])]
    # 2: the run `xling eval nli` makes, its output cache a fresh one (no answer from an earlier run)
    os.environ["XLING_CACHE"] = str(work / "cache")
    config = ChoiceEvalConfig(out=str(work / "run"), task="nli", model=args.model, data="xnli:test",
                              data_dir=str(root), langs=langs, shots=args.shots, seed=args.seed, limit=args.n)
    with timer(times, "xling eval nli"):
        run_choice(config, progress=False, backend=backend)
    header = json.loads((work / "run" / "config.json").read_text(encoding="utf-8"))
    template = load_template("xnli-rightq")
    ours, sent = {}, {}
    for lang in langs:
        records = [json.loads(line) for line in (work / "run" / "outputs" / f"{lang}.jsonl").open(encoding="utf-8")]
        demos = header["demonstrations"][lang]["ll"]
        # lm-eval was given the run's items and demonstrations, and xling's requests are its template's own
        if [r["id"] for r in records] != [it.id for it in items[lang]] \
                or loglikelihood_parts(template, items[lang][0], lang, shots[lang])[0] != demos:
            sys.exit(f"{lang}: the run drew other items or demonstrations than those given to lm-eval")
        ours[lang] = [r["ll_pred"] for r in records]
        sent[lang] = (demos, records[0]["prompt"]["ll"]["context"])

    total = sum(len(items[lang]) for lang in langs)
    # "xling": the run's predictions; "scorer": xling's scorer on lm-eval's texts
    figures: dict = {"model": args.model, "n": args.n, "shots": args.shots, "seed": args.seed,
                     "lm_eval": __import__("lm_eval").__version__, "langs": {}}
    print(f"model {args.model}; XNLI test, first {args.n} rows of {', '.join(langs)}; {args.shots}-shot "
          f"(xling's draw, seed {args.seed}, given to lm-eval in order); lm-eval {__import__('lm_eval').__version__}")
    for lang in langs:
        gold = [it.label for it in items[lang]]
        preds = {"lm-eval": theirs[lang], "xling": ours[lang], "scorer": scorer[lang]}
        acc = {name: sum(p == g for p, g in zip(pred, gold)) / len(gold) for name, pred in preds.items()}
        same = {name: sum(a == b for a, b in zip(preds[name], theirs[lang])) for name in ("xling", "scorer")}
        figures["langs"][lang] = {"items": len(gold), "accuracy": acc, "same_as_lm_eval": same}
        print(f"  {lang}: accuracy lm-eval {acc['lm-eval']:.3f}, xling eval nli {acc['xling']:.3f} "
              f"({acc['xling'] - acc['lm-eval']:+.3f}; predictions identical to lm-eval's "
              f"{same['xling']}/{len(gold)}), "
              f"xling's scorer on lm-eval's texts {acc['scorer']:.3f} (identical {same['scorer']}/{len(gold)})")
        # where the demonstrations end and the first item's premise begins
        premise = as_lm_eval[lang][0][0][len(contexts[lang][0]):]
        print(f"      lm-eval: {contexts[lang][0][-12:]!r} + {premise[:24]!r} (the premise in each option)")
        print(f"      xling:   {sent[lang][0][-12:]!r} + {sent[lang][1][:24]!r} (the premise in the context)")
    for name, what in (("xling", "xling eval nli"), ("scorer", "xling's scorer on lm-eval's texts")):
        same_all = sum(figures["langs"][lang]["same_as_lm_eval"][name] for lang in langs)
        print(f"identical predictions, {what} vs lm-eval: {same_all}/{total} ({same_all / total:.1%})")
    print(f"wall time: lm-eval {times['lm-eval']:.1f} s, xling's scorer on the same texts "
          f"{times['xling scorer']:.1f} s (speed-up {times['lm-eval'] / times['xling scorer']:.2f}x); "
          f"the xling eval nli run {times['xling eval nli']:.1f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({**figures, "wall_s": times}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
