"""zh_script: Simplified vs Traditional Chinese, per line, by each candidate inventory (issue 25).

Candidates: the word list xling used before (the baseline), hanzidentifier's CC-CEDICT sets with
xling's rule (xling.metrics.zhscript: more script-only characters wins, a tie is undecided),
hanzidentifier's own `identify`, and OpenCC's conversion (characters t2s changes are Traditional,
characters s2t changes Simplified; needs `pip install opencc`, skipped without it). Data:
FLORES-200 dev and devtest zho_Hans / zho_Hant, NTREX-128 zho-CN / zho-TW. Prints, per set,
lines right / undecided / wrong, then the same for 8-character pieces of every line (what short
outputs look like), and the cost per line.

`--ja` (issue 31) measures Chinese against Japanese instead, as off-target detection sees it for a
Japanese target: FLORES-200 dev+devtest zho_Hans, zho_Hant and jpn_Jpan, whole lines and short
cuts (pieces of at most 12 Han characters), each line's language with `expected="ja"`: how many
Chinese lines are called Japanese (goal ≤ 1%) and how many Japanese lines are not Japanese
(off-target or undetermined; goal ≤ 1%); then zho_Hans and zho_Hant with their own script as
the target: on-target, undetermined (the inventory cannot tell), other script.

    python experiments/bench/zh_script.py [--data-dir DIR] [--ja]
"""
from __future__ import annotations

import argparse
import time

from _common import require_data

SETS = [("FLORES dev zho_Hans", "flores200/dev/zho_Hans.dev", "Hans"),
        ("FLORES dev zho_Hant", "flores200/dev/zho_Hant.dev", "Hant"),
        ("FLORES devtest zho_Hans", "flores200/devtest/zho_Hans.devtest", "Hans"),
        ("FLORES devtest zho_Hant", "flores200/devtest/zho_Hant.devtest", "Hant"),
        ("NTREX-128 zho-CN", "ntrex128/newstest2019-ref.zho-CN.txt", "Hans"),
        ("NTREX-128 zho-TW", "ntrex128/newstest2019-ref.zho-TW.txt", "Hant")]

# The rule before issue 25: common words only, two hits and twice the other script's needed.
_OLD_S = ("这们说国时会为来个对学发经过还进没动现开关问长见东车门书马鸟鱼语话读写听"
          "买卖钱电体点实业头气爱认让边应该从请谢难样种万与产两")
_OLD_T = ("這們說國時會為來個對學發經過還進沒動現開關問長見東車門書馬鳥魚語話讀寫聽"
          "買賣錢電體點實業頭氣愛認讓邊應該從請謝難樣種萬與產兩")


def word_list(text):
    s, t = sum(text.count(c) for c in _OLD_S), sum(text.count(c) for c in _OLD_T)
    return "Hans" if s >= 2 and s >= 2 * t else "Hant" if t >= 2 and t >= 2 * s else None


def candidates() -> dict:
    import hanzidentifier

    from xling.metrics.zhscript import chinese_script

    found = {"word list (before)": word_list, "hanzidentifier sets, xling's rule": chinese_script,
             "hanzidentifier.identify": lambda text: {hanzidentifier.SIMPLIFIED: "Hans",
                                                      hanzidentifier.TRADITIONAL: "Hant"}.get(
                                                          hanzidentifier.identify(text))}
    try:
        import opencc
    except ImportError:
        print("(opencc not installed: its row is left out)")
        return found
    t2s, s2t = opencc.OpenCC("t2s.json"), opencc.OpenCC("s2t.json")

    def changed(text, converted):
        if len(converted) != len(text):
            return abs(len(converted) - len(text)) + 1
        return sum(a != b for a, b in zip(text, converted))

    def by_opencc(text):
        simplified, traditional = changed(text, s2t.convert(text)), changed(text, t2s.convert(text))
        return "Hans" if simplified > traditional else "Hant" if traditional > simplified else None

    found[f"opencc {opencc.__version__} t2s/s2t"] = by_opencc
    return found


def tally(decide, lines, want) -> dict:
    out = {"right": 0, "undecided": 0, "wrong": 0}
    for line in lines:
        got = decide(line)
        out["right" if got == want else "undecided" if got is None else "wrong"] += 1
    return out


def short_cuts(line: str, most: int = 12) -> list[str]:
    """The line cut into consecutive pieces of at most `most` Han characters each."""
    import re

    han = re.compile("[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff]")
    pieces, current, count = [], "", 0
    for char in line:
        if han.match(char):
            if count == most:
                pieces.append(current)
                current, count = "", 0
            count += 1
        current += char
    return pieces + [current] if current else pieces


def japanese_against_chinese(root) -> dict:
    from xling.metrics.langid import detect

    report = {}
    for name, want in (("zho_Hans", "zh"), ("zho_Hant", "zh"), ("jpn_Jpan", "ja")):
        lines = [line for split in ("dev", "devtest")
                 for line in (root / "flores200" / split / f"{name}.{split}").read_text(encoding="utf-8").splitlines()]
        for label, items in (("lines", lines), ("short cuts", [p for line in lines for p in short_cuts(line)])):
            calls: dict[str, int] = {}
            for text in items:
                lang = detect(text, expected="ja").lang
                calls[lang] = calls.get(lang, 0) + 1
            wrong = calls.get("ja", 0) if want == "zh" else len(items) - calls.get("ja", 0)
            report[f"{name} {label}"] = {"n": len(items), "calls": calls, "wrong": wrong,
                                         "wrong_percent": round(100 * wrong / len(items), 2)}
            what = "called Japanese" if want == "zh" else "not called Japanese"
            print(f"  {name} {label:10} {len(items):6}: {wrong:4} {what} ({100 * wrong / len(items):.2f}%); "
                  f"calls {dict(sorted(calls.items()))}")
    return report


def chinese_for_chinese(root) -> dict:
    """Each Chinese line and short cut with its own script as the target: on-target, undetermined
    (valid in both scripts: the inventory cannot tell), or in the other script."""
    from xling.metrics.offtarget import segment_flags

    report = {}
    for name, target in (("zho_Hans", "zh"), ("zho_Hant", "zh-Hant")):
        lines = [line for split in ("dev", "devtest")
                 for line in (root / "flores200" / split / f"{name}.{split}").read_text(encoding="utf-8").splitlines()]
        for label, items in (("lines", lines), ("short cuts", [p for line in lines for p in short_cuts(line)])):
            flags = [segment_flags(text, target) for text in items]
            counts = {"on-target": sum(not f["off_target"] and not f["undetermined"] for f in flags),
                      "undetermined": sum(f["undetermined"] for f in flags),
                      "other script": sum(f["wrong_script"] for f in flags),
                      "other language": sum(f["wrong_language"] for f in flags)}
            report[f"{name} {label}"] = counts
            print(f"  {name} {label:10} {len(items):6}: " + ", ".join(
                f"{k} {v} ({100 * v / len(items):.2f}%)" for k, v in counts.items()))
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--ja", action="store_true", help="Chinese against Japanese for a Japanese target")
    args = parser.parse_args()
    root = require_data(args.data_dir)
    if args.ja:
        print("Chinese and Japanese lines with a Japanese target (detect(text, expected='ja')):")
        japanese_against_chinese(root)
        print("Chinese lines with their own target (what the inventory can decide):")
        chinese_for_chinese(root)
        return
    data = [(name, (root / path).read_text(encoding="utf-8").splitlines(), want)
            for name, path, want in SETS if (root / path).is_file()]
    for label, decide in candidates().items():
        decide("热身")   # load the inventory before timing
        start, n = time.perf_counter(), 0
        print(f"\n{label}")
        for name, lines, want in data:
            t = tally(decide, lines, want)
            n += len(lines)
            print(f"  {name:24} {t['right']:5}/{len(lines)} right ({100 * t['right'] / len(lines):6.2f}%), "
                  f"{t['undecided']} undecided, {t['wrong']} wrong")
        per_line = (time.perf_counter() - start) / n * 1e6
        for name, lines, want in data:
            pieces = [line[k:k + 8] for line in lines for k in range(0, max(1, len(line) - 8), 8)]
            t = tally(decide, pieces, want)
            print(f"  {name:24} 8-char pieces: {t['right']}/{len(pieces)} right, {t['undecided']} "
                  f"undecided, {t['wrong']} wrong")
        print(f"  {per_line:.0f} µs per line")


if __name__ == "__main__":
    main()
