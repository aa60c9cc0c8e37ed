"""http_concurrency: the same 64 prompts through the HTTP backend, one request at a time and with
8 in flight, against a real OpenAI-compatible server on loopback (`transformers serve` with a
local model; point --base-url at vLLM or any other server instead).

    python experiments/bench/http_concurrency.py [--model PATH] [--base-url URL] [--n 64]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _common import scratch, timer

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="local model folder (default: a tiny chat model built here)")
    parser.add_argument("--base-url", default=None, help="an already running server (default: start one)")
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    from xling.backends.http import HTTPBackend
    from xling.translation.translator import Translator

    model = args.model
    if model is None:
        from tiny_models import build_causal
        model = str(build_causal(scratch("xling-bench-")))
    server = None
    if args.base_url is None:
        from servers import TransformersServer
        server = TransformersServer()
    url = args.base_url or server.url
    try:
        from tiny_models import PAIRS
        sources = [f"{ko} ({i})" for i, (ko, _, _) in enumerate(PAIRS * (args.n // len(PAIRS) + 1))][:args.n]
        Translator(backend=HTTPBackend(model, url), cache=False).translate(sources[:2], "ko", "en")  # warm-up
        times, outputs = {}, {}
        for label, concurrency in (("sequential", 1), (f"concurrency {args.concurrency}", args.concurrency)):
            translator = Translator(backend=HTTPBackend(model, url, concurrency=concurrency), cache=False)
            with timer(times, label):
                outputs[label] = translator.translate(sources, "ko", "en")
        first, second = times
        print(f"{args.n} prompts against {url} (model {model})")
        for label in times:
            print(f"{label:>16}: {times[label]:7.2f} s  {args.n / times[label]:6.2f} requests/s")
        print(f"speed-up: {times[first] / times[second]:.2f}x; same outputs in the same order: "
              f"{outputs[first] == outputs[second]}")
    finally:
        if server:
            server.close()


if __name__ == "__main__":
    main()
