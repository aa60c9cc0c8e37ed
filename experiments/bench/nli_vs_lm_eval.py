"""nli_vs_lm_eval: lm-evaluation-harness's XNLI formulation vs xling on the same prompts.

Both score the same 5-shot prompts for the first N XNLI test rows of two languages (read from
../shared/data/xnli through local JSON files; no hub) with the same model (default: the embedded
one). lm-eval scores each full option ("<premise>, right? Yes, <hypothesis>", lm-eval's own
wording per language) after the few-shot context; xling gives the identical text to its
shared-prefix scorer (the context plus premise encoded once per item). Prints both accuracies,
the share of identical predictions and both wall times.

Needs lm-eval: run it with a Python that has it, e.g.
    python -m venv --system-site-packages /tmp/lmeval && /tmp/lmeval/bin/pip install lm-eval
    /tmp/lmeval/bin/python experiments/bench/nli_vs_lm_eval.py [--langs en,de] [--n 50]
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from _common import model_or_embedded, require_data, require_lm_eval, scratch, timer

from xling.data.choice import nli_items


def lm_eval_words(lang: str) -> tuple[str, list[str]]:
    """("right?" word, [Yes, Also, No] words) from lm-eval's own XNLI task file."""
    import lm_eval
    import yaml

    spec = yaml.safe_load((Path(lm_eval.__file__).parent / "tasks" / "xnli" / f"xnli_{lang}.yaml").read_text())
    parts = re.findall(r'premise\+", ([^"]*?) ([^" ]+), "\+hypothesis', spec["doc_to_choice"].replace("\n", " "))
    return parts[0][0], [word for _, word in parts]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="local model folder (default: the embedded model)")
    parser.add_argument("--langs", default="en,de")
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--shots", type=int, default=5)
    parser.add_argument("--data-dir", default=None)
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
        items[lang] = nli_items("test", lang, root=root)[:args.n]
        shots[lang] = nli_items("dev", lang, root=root)[:args.shots]   # lm-eval's first_n sampler
        for split, rows in (("test", items[lang]), ("validation", shots[lang])):
            with open(work / f"{lang}.{split}.jsonl", "w", encoding="utf-8") as handle:
                for row in rows:
                    handle.write(json.dumps({"premise": row.fields["premise"], "hypothesis": row.fields["hypothesis"],
                                             "label": row.label}, ensure_ascii=False) + "\n")
        right, words = lm_eval_words(lang)
        choices = ",".join(f'premise+", {right} {w}, "+hypothesis' for w in words)
        (work / f"xnli_local_{lang}.yaml").write_text(
            f"task: xnli_local_{lang}\ndataset_path: json\n"
            f"dataset_kwargs:\n  data_files:\n    test: {work / f'{lang}.test.jsonl'}\n"
            f"    validation: {work / f'{lang}.validation.jsonl'}\n"
            "output_type: multiple_choice\ntest_split: test\nfewshot_split: validation\n"
            "fewshot_config:\n  sampler: first_n\n"
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
    backend = HFBackend(args.model, display=args.model)
    requests = {}
    for lang in langs:
        right, words = lm_eval_words(lang)
        requests[lang] = [(ctx + " " + it.fields["premise"] + ", " + right,
                           [f" {w}, {it.fields['hypothesis']}" for w in words])
                          for ctx, it in zip(contexts[lang], items[lang])]
    backend.loglikelihood(requests[langs[0]][:1])   # load weights outside the timing
    ours = {}
    with timer(times, "xling"):
        for lang in langs:
            ours[lang] = [max(range(3), key=lambda k: s[k]) for s in backend.loglikelihood(requests[lang])]

    total = sum(len(items[lang]) for lang in langs)
    same = sum(a == b for lang in langs for a, b in zip(ours[lang], theirs[lang]))
    print(f"model {args.model}; XNLI test, first {args.n} rows of {', '.join(langs)}; {args.shots}-shot "
          f"(first {args.shots} dev rows); lm-eval {__import__('lm_eval').__version__}")
    for lang in langs:
        acc_t = sum(p == it.label for p, it in zip(theirs[lang], items[lang])) / len(items[lang])
        acc_o = sum(p == it.label for p, it in zip(ours[lang], items[lang])) / len(items[lang])
        print(f"  {lang}: accuracy lm-eval {acc_t:.3f}, xling {acc_o:.3f}")
    print(f"identical predictions: {same}/{total} ({same / total:.1%})")
    print(f"wall time: lm-eval {times['lm-eval']:.1f} s, xling {times['xling']:.1f} s, "
          f"speed-up {times['lm-eval'] / times['xling']:.2f}x")


if __name__ == "__main__":
    main()
