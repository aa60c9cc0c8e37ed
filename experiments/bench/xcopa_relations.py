"""xcopa_relations: XCOPA accuracy with each item's agreed relation vs the file's own field.

The official XCOPA files disagree on whether an item asks for its cause or its effect (Thai marks
all 500 test items "effect", Turkish 51 causes, Swahili 37; see xling/data/xcopa.py). A prompt
built from a wrong field says "so" where the item asks "because". This scores the same items
twice with the same model (default: the embedded one) and the `copa` template, 0-shot, by
log-likelihood: once with the relation most languages agree on (what xling uses), once with the
language's own field (what a per-file reader such as lm-evaluation-harness's xcopa uses). Prints
accuracy both ways, on all items and on the items whose field disagrees, per language.

    python experiments/bench/xcopa_relations.py [--langs th,tr,sw,zh] [--n 500] [--json OUT]
"""
from __future__ import annotations

import argparse
import json
from dataclasses import replace

from _common import require_data, timer

from xling.backends import Batching, load_backend
from xling.data.xcopa import _rows, xcopa_items
from xling.prompts.choice import render_loglikelihood
from xling.prompts.templates import load_template


def accuracy(backend, template, items, lang) -> list[bool]:
    requests = [render_loglikelihood(template, item, lang) for item in items]
    scores = backend.loglikelihood(requests)
    return [max(range(len(s)), key=s.__getitem__) == item.label for s, item in zip(scores, items)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="local model folder (default: the embedded model)")
    parser.add_argument("--langs", default="th,tr,sw,zh")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--json", default=None, help="write the figures here too")
    args = parser.parse_args()
    root = require_data(args.data_dir)
    backend = load_backend(args.model, batching=Batching("auto"))
    template = load_template("copa")
    results: dict = {"model": backend.fingerprint, "n": args.n, "languages": {}}
    for lang in args.langs.split(","):
        items = xcopa_items("test", lang, root=root)[:args.n]
        own = {f"test-{row['idx']:03d}": row["question"] for row in _rows(root, "test", lang)}
        as_filed = [replace(i, fields={**i.fields, "relation": own[i.id]}) for i in items]
        times: dict = {}
        with timer(times, "seconds"):
            agreed_ok = accuracy(backend, template, items, lang)
            filed_ok = agreed_ok if all(a.fields == b.fields for a, b in zip(items, as_filed)) \
                else accuracy(backend, template, as_filed, lang)
        differ = [k for k, (a, b) in enumerate(zip(items, as_filed)) if a.fields["relation"] != b.fields["relation"]]
        row = {"items": len(items), "field_differs": len(differ),
               "accuracy_agreed": sum(agreed_ok) / len(items), "accuracy_file_field": sum(filed_ok) / len(items),
               "on_differing_agreed": sum(agreed_ok[k] for k in differ) / len(differ) if differ else None,
               "on_differing_file_field": sum(filed_ok[k] for k in differ) / len(differ) if differ else None,
               "seconds": round(times["seconds"], 1)}
        results["languages"][lang] = row
        print(f"{lang}: {len(items)} items, field differs on {len(differ)}; accuracy agreed "
              f"{row['accuracy_agreed']:.3f} vs file field {row['accuracy_file_field']:.3f}"
              + (f"; on those {len(differ)}: {row['on_differing_agreed']:.3f} vs {row['on_differing_file_field']:.3f}"
                 if differ else "") + f" ({row['seconds']} s)", flush=True)
        if args.json:
            with open(args.json, "w", encoding="utf-8") as handle:
                json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
