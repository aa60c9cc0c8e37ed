"""xcopa_vs_lm_eval: lm-evaluation-harness's XCOPA task vs xling on the same local files.

lm-eval's own task (its xcopa `doc_to_text` / `doc_to_choice` functions, loaded from the installed
package at run time, with its task file pointed at the local JSONL files; no hub) and xling score
the first N test items of each language with the same model (default: the embedded one), 0-shot:

1. scorer: xling's shared-prefix log-likelihood on lm-eval's exact context/continuation texts,
   against lm-eval's own scores (identical predictions expected);
2. prompts: what lm-eval's texts do to the data: a premise without a final full stop loses its
   last letter (lm-eval drops the last character; Thai and Tamil premises have no full stop), a
   connective from a wrong question field (the official th/tr/sw/id/it files disagree with the
   other languages), a Turkish İ lowercased into i + a combining dot; and accuracy with lm-eval's
   prompts vs xling's `copa` template.

Needs lm-eval: run it with a Python that has it, e.g.
    python -m venv --system-site-packages /tmp/lmeval && /tmp/lmeval/bin/pip install lm-eval
    /tmp/lmeval/bin/python experiments/bench/xcopa_vs_lm_eval.py [--langs th,tr,zh] [--n 100]
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from _common import model_or_embedded, require_data, require_lm_eval, scratch, timer

from xling.data.xcopa import _rows, xcopa_items
from xling.prompts.choice import render_loglikelihood
from xling.prompts.templates import load_template


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="local model folder (default: the embedded model)")
    parser.add_argument("--langs", default="th,tr,zh")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--json", default=None, help="write the figures here too")
    args = parser.parse_args()
    require_lm_eval()
    import lm_eval
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    root = require_data(args.data_dir)
    args.model = model_or_embedded(args.model)
    langs = args.langs.split(",")
    # lm-eval's task files for these languages, pointed at local copies of the first N items
    work = scratch("xling-lmeval-xcopa-")
    shutil.copy(Path(lm_eval.__file__).parent / "tasks" / "xcopa" / "utils.py", work / "utils.py")
    docs = {}
    for lang in langs:
        docs[lang] = _rows(root, "test", lang)[:args.n]
        data = work / f"{lang}.test.jsonl"
        data.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs[lang]), encoding="utf-8")
        (work / f"xcopa_local_{lang}.yaml").write_text(
            f"task: xcopa_local_{lang}\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {data}\n"
            f"output_type: multiple_choice\ntest_split: test\ndoc_to_text: !function utils.doc_to_text_{lang}\n"
            "doc_to_target: label\ndoc_to_choice: !function utils.doc_to_choice\n"
            "metric_list:\n  - metric: acc\nmetadata:\n  version: 1.0\n", encoding="utf-8")

    import torch
    torch.manual_seed(0)
    lm = HFLM(pretrained=args.model, dtype="float32", batch_size=1, device="cpu")
    times: dict = {}
    with timer(times, "lm-eval"):
        result = simple_evaluate(model=lm, tasks=[f"xcopa_local_{lang}" for lang in langs], num_fewshot=0,
                                 task_manager=TaskManager(include_path=str(work)), log_samples=True,
                                 random_seed=0, numpy_random_seed=0, torch_random_seed=0, fewshot_random_seed=0)

    from xling.backends.hf import HFBackend
    backend = HFBackend(args.model, display=args.model)
    copa = load_template("copa")
    out: dict = {"model": args.model, "n": args.n, "lm_eval": lm_eval.__version__, "languages": {}}
    for lang in langs:
        samples = sorted(result["samples"][f"xcopa_local_{lang}"], key=lambda s: s["doc_id"])
        theirs = [max(range(2), key=lambda k: s["resps"][k][0][0]) for s in samples]
        texts = [(s["arguments"][0][0] if isinstance(s["arguments"][0], (list, tuple))
                  else s["arguments"]["gen_args_0"]["arg_0"],
                  [a[1] if isinstance(a, (list, tuple)) else a["arg_1"] for a in
                   (s["arguments"] if isinstance(s["arguments"], list) else s["arguments"].values())])
                 for s in samples]
        with timer(times, f"xling {lang}"):
            scores = backend.loglikelihood(texts)
        same_text = [max(range(2), key=lambda k: s[k]) for s in scores]
        gap = max(abs(a - s["resps"][k][0][0]) for a_s, s in zip(scores, samples) for k, a in enumerate(a_s))
        items = xcopa_items("test", lang, root=root)[:args.n]
        ours = [max(range(2), key=lambda k: s[k]) for s in backend.loglikelihood(
            [render_loglikelihood(copa, item, lang) for item in items])]
        gold = [d["label"] for d in docs[lang]]
        row = {
            "items": len(gold),
            "identical_predictions_on_lm_eval_texts": sum(a == b for a, b in zip(same_text, theirs)),
            "max_abs_loglikelihood_difference": gap,
            "accuracy_lm_eval": sum(p == g for p, g in zip(theirs, gold)) / len(gold),
            "accuracy_xling_copa": sum(p == g for p, g in zip(ours, gold)) / len(gold),
            "lm_eval_premise_loses_a_letter": sum(not d["premise"].strip().endswith((".", "。")) for d in docs[lang]),
            "lm_eval_wrong_relation": sum(d["question"] != i.fields["relation"] for d, i in zip(docs[lang], items)),
            "lm_eval_combining_dot": sum("\u0307" in c for _, cs in texts for c in cs),
        }
        out["languages"][lang] = row
        print(f"{lang}: {row['items']} items; xling's scorer on lm-eval's texts: "
              f"{row['identical_predictions_on_lm_eval_texts']}/{row['items']} identical predictions (largest "
              f"log-likelihood difference {gap:.2e}); accuracy "
              f"lm-eval {row['accuracy_lm_eval']:.3f}, xling copa {row['accuracy_xling_copa']:.3f}; lm-eval "
              f"premises cut mid-word {row['lm_eval_premise_loses_a_letter']}, wrong connective "
              f"{row['lm_eval_wrong_relation']}, combining dots {row['lm_eval_combining_dot']}", flush=True)
    out["seconds"] = {k: round(v, 1) for k, v in times.items()}
    print(f"wall time: lm-eval {times['lm-eval']:.1f} s for all languages")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
