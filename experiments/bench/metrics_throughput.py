"""metrics_throughput: xling's BLEU + chrF (+ off-target) vs plain sacrebleu, same data, same run.

The 12 directions between en, ko, ja and zh on FLORES-200 devtest (1012 segments each); another
language's reference stands in for the hypotheses (en→ko scores the Japanese sentences against the
Korean references, and so on), which is what an off-target system would produce.

    python experiments/bench/metrics_throughput.py [--repeat 3]
"""
from __future__ import annotations

import argparse
import itertools

from _common import require_data, timer

from xling.data.languages import resolve
from xling.data.parallel import flores200

LANGS = ["en", "ko", "ja", "zh"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--repeat", type=int, default=3, help="take the best of N timings")
    args = parser.parse_args()
    root = require_data(args.data_dir)
    text = {code: flores200("devtest", code, root) for code in LANGS}
    directions = list(itertools.permutations(LANGS, 2))
    # Stand-in hypotheses: the sentences of the language after the target, in a fixed cycle.
    stand_in = {tgt: LANGS[(LANGS.index(tgt) + 1) % len(LANGS)] for tgt in LANGS}
    jobs = [(src, tgt, text[stand_in[tgt]], text[tgt]) for src, tgt in directions]
    n_segments = sum(len(h) for _, _, h, _ in jobs)

    from sacrebleu.metrics import BLEU, CHRF

    import xling.metrics as xm

    def plain_sacrebleu():
        bleus = {t: BLEU(trg_lang=t) for t in LANGS}
        chrf_metric = CHRF()
        return [(bleus[tgt].corpus_score(h, [r]).score, chrf_metric.corpus_score(h, [r]).score)
                for _, tgt, h, r in jobs]

    def xling_metrics():
        return [(xm.bleu(h, r, tgt_lang=tgt).score, xm.chrf(h, r, tgt_lang=tgt).score)
                for _, tgt, h, r in jobs]

    # Warm both (mecab dictionaries, lingua models), then time the best of N.
    plain_sacrebleu(), xling_metrics(), xm.off_target(jobs[0][2][:5], "en")
    best = {"sacrebleu": float("inf"), "xling": float("inf"), "offtarget": float("inf")}
    for _ in range(args.repeat):
        times = {}
        with timer(times, "sacrebleu"):
            theirs = plain_sacrebleu()
        with timer(times, "xling"):
            ours = xling_metrics()
        with timer(times, "offtarget"):
            rates = [xm.off_target(h, tgt).score for _, tgt, h, _ in jobs]
        best = {k: min(best[k], times[k]) for k in best}
    assert theirs == ours, "xling and sacrebleu disagree"

    print(f"{len(jobs)} directions x 1012 segments = {n_segments} segments (best of {args.repeat})")
    print(f"sacrebleu BLEU+chrF : {best['sacrebleu']:7.2f} s")
    print(f"xling     BLEU+chrF : {best['xling']:7.2f} s   ratio xling/sacrebleu = "
          f"{best['xling'] / best['sacrebleu']:.3f}  (identical scores: True)")
    print(f"xling off-target    : {best['offtarget']:7.2f} s   = "
          f"{1000 * best['offtarget'] / n_segments:.3f} ms per segment")
    for (src, tgt, _, _), rate in zip(jobs, rates):
        print(f"  {src}->{tgt}: stand-in {resolve(stand_in[tgt]).name} scored as "
              f"{resolve(tgt).name}: off-target {rate:.1f}%")


if __name__ == "__main__":
    main()
