"""`xling score` as a user runs it."""
import json

import pytest
from helpers import assert_one_line_error, xling


@pytest.fixture()
def files(data_dir, tmp_path):
    flores = data_dir / "flores200" / "devtest"
    ko = (flores / "kor_Hang.devtest").read_text(encoding="utf-8").splitlines()[:100]
    paths = {"ref": tmp_path / "ref.ko", "good": tmp_path / "good.ko", "bad": tmp_path / "bad.ko",
             "src": tmp_path / "src.en"}
    paths["ref"].write_text("\n".join(ko) + "\n", encoding="utf-8")
    paths["good"].write_text("\n".join(ko) + "\n", encoding="utf-8")
    paths["bad"].write_text("\n".join(line[: len(line) // 2] for line in ko) + "\n", encoding="utf-8")
    en = (flores / "eng_Latn.devtest").read_text(encoding="utf-8").splitlines()[:100]
    paths["src"].write_text("\n".join(en) + "\n", encoding="utf-8")
    return paths


def test_score_several_systems_with_paired_bootstrap(files):
    result = xling("score", "-r", str(files["ref"]), "-i", str(files["good"]), str(files["bad"]),
                   "-s", str(files["src"]), "--tgt-lang", "ko", "-m", "bleu", "chrf", "offtarget",
                   "--paired-bs", "--paired-n", "200", "-f", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    good, bad = (report["systems"][str(files[k])] for k in ("good", "bad"))
    assert good["bleu"]["score"] == pytest.approx(100.0) and bad["bleu"]["score"] < 60
    assert "tok:ko-mecab" in good["bleu"]["signature"]
    (paired,) = report["paired"]["bleu"]
    assert paired["p_value"] < 0.05 and paired["signature"] == "test:bs|n:200|seed:12345"
    text = xling("score", "-r", str(files["ref"]), "-i", str(files["good"]), str(files["bad"]),
                 "-t", "ko", "--paired-ar", "--paired-n", "200").stdout.decode()
    assert "ko-mecab" in text and "(p=" in text and "*" in text
    latex = xling("score", "-r", str(files["ref"]), "-i", str(files["bad"]), "-t", "ko", "-f", "latex")
    assert b"\\begin{tabular}" in latex.stdout and b"% BLEU: nrefs:1" in latex.stdout


@pytest.mark.parametrize("make, args, message", [
    (lambda f, t: t.write_text("one line\n", encoding="utf-8"), ["-m", "bleu"], "segment counts differ"),
    (lambda f, t: t.write_text("", encoding="utf-8"), ["-m", "bleu"], "is empty"),
    (lambda f, t: t.write_bytes(b"ok\n\xff\n"), ["-m", "bleu"], "not valid UTF-8"),
    (lambda f, t: t.write_text("ok\nfine\n", encoding="utf-16"), ["-m", "bleu"],
     "is not valid UTF-8 (line 1, byte 1); it looks like UTF-16: save it as UTF-8"),
    (lambda f, t: t.write_text("x\n", encoding="utf-8"), ["-m", "blue"], "unknown metric 'blue'"),
    (lambda f, t: t.write_text("x\n", encoding="utf-8"), ["-m", "bleu", "--tgt-lang", "xx"], "unknown language code"),
])
def test_score_bad_input(files, tmp_path, make, args, message):
    hyp = tmp_path / "hyp.txt"
    make(files, hyp)
    cmd = ["score", "-r", str(files["ref"]), "-i", str(hyp)] + args
    if "--tgt-lang" not in args:
        cmd += ["--tgt-lang", "ko"]
    assert_one_line_error(xling(*cmd), message)


def test_comet_without_sources(files):
    assert_one_line_error(xling("score", "-r", str(files["ref"]), "-i", str(files["good"]),
                                "-t", "ko", "-m", "comet"), "needs the source")


# -- fidelity round 2: multi-reference scoring and paired tests equal sacrebleu's CLI ------------
def _sacrebleu_json(*args):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "sacrebleu", *map(str, args), "-f", "json"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _drop_words(lines, rate, seed):
    import random

    rng = random.Random(seed)
    return [" ".join(w for w in line.split() if rng.random() > rate) or line for line in lines]


@pytest.fixture()
def two_systems(data_dir, tmp_path):
    en = (data_dir / "flores200" / "devtest" / "eng_Latn.devtest").read_text(encoding="utf-8").splitlines()[:150]
    paths = {"ref": tmp_path / "ref.en", "a": tmp_path / "a.en", "b": tmp_path / "b.en"}
    paths["ref"].write_text("\n".join(en) + "\n", encoding="utf-8")
    # Two systems of nearly the same quality, so p-values are not all at their floor
    paths["a"].write_text("\n".join(_drop_words(en, 0.10, 1)) + "\n", encoding="utf-8")
    paths["b"].write_text("\n".join(_drop_words(en, 0.11, 2)) + "\n", encoding="utf-8")
    return paths


@pytest.mark.parametrize("test", ["ar", "bs"])
def test_paired_tests_equal_sacrebleus_cli(two_systems, test):
    n = "2000" if test == "ar" else "500"
    ours = xling("score", "-r", two_systems["ref"], "-i", two_systems["a"], two_systems["b"], "-t", "en",
                 "-m", "bleu,chrf,ter", f"--paired-{test}", "--paired-n", n, "-f", "json")
    assert ours.returncode == 0, ours.stderr
    report = json.loads(ours.stdout)
    ours = report["paired"]
    if test == "ar":
        theirs = _sacrebleu_json(two_systems["ref"], "-i", two_systems["a"], two_systems["b"], "-m", "bleu", "chrf",
                                 "ter", f"--paired-{test}", f"--paired-{test}-n", n)[1]
    else:   # sacrebleu 2.6's CLI cannot write bootstrap TER as JSON (a float32): the object it runs
        from sacrebleu.metrics import BLEU, CHRF, TER
        from sacrebleu.significance import PairedTest

        read = lambda k: two_systems[k].read_text(encoding="utf-8").splitlines()   # noqa: E731
        _, scores = PairedTest([("a", read("a")), ("b", read("b"))], {"BLEU": BLEU(), "chrF2": CHRF(), "TER": TER()},
                               [read("ref")], test_type="bs", n_samples=int(n))()
        theirs = {k: {"score": v[1].score, "p_value": v[1].p_value, "mean": v[1].mean, "ci": v[1].ci,
                      "baseline": (v[0].mean, v[0].ci)} for k, v in scores.items() if k != "System"}
    for metric, key in (("bleu", "BLEU"), ("chrf", "chrF2"), ("ter", "TER")):
        (p,) = ours[metric]
        assert p["score"] == pytest.approx(theirs[key]["score"], abs=1e-9)
        assert p["p_value"] == theirs[key]["p_value"], metric
        if test == "bs":
            assert p["mean"] == pytest.approx(theirs[key]["mean"], abs=1e-6)
            assert p["ci_half"] == pytest.approx(theirs[key]["ci"], abs=1e-6)
            # and the baseline's own interval, which sacrebleu prints on its row (xling gave none)
            baseline = report["baseline"][metric]
            assert (baseline["mean"], baseline["ci_half"]) == pytest.approx(theirs[key]["baseline"], abs=1e-6)
    assert 0.01 < ours["bleu"][0]["p_value"] < 0.99 or 0.01 < ours["ter"][0]["p_value"] < 0.99


def test_multi_reference_scores_equal_sacrebleus_cli(data_dir, tmp_path):
    flores = data_dir / "flores200"
    r1 = (flores / "devtest" / "jpn_Jpan.devtest").read_text(encoding="utf-8").splitlines()[:80]
    r2 = (flores / "devtest" / "jpn_Jpan.devtest").read_text(encoding="utf-8").splitlines()[80:160]
    hyp = [line.replace("。", "") for line in r1[:40]] + r2[40:]
    for name, lines in (("r1.ja", r1), ("r2.ja", r2), ("sys.ja", hyp)):
        (tmp_path / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    theirs = _sacrebleu_json(tmp_path / "r1.ja", tmp_path / "r2.ja", "-i", tmp_path / "sys.ja", "-l", "en-ja",
                             "-m", "bleu", "chrf", "ter", "-w", "6", "--ter-asian-support", "--ter-normalized")
    theirs = {r["name"]: r["score"] for r in theirs}
    for refs in (["-r", tmp_path / "r1.ja", "-r", tmp_path / "r2.ja"], ["-r", tmp_path / "r1.ja", tmp_path / "r2.ja"]):
        result = xling("score", *refs, "-i", tmp_path / "sys.ja", "-t", "ja", "-m", "bleu,chrf,ter", "-f", "json")
        assert result.returncode == 0, result.stderr
        scores = {k: v["score"] for k, v in json.loads(result.stdout)["systems"][str(tmp_path / "sys.ja")].items()}
        assert scores["bleu"] == pytest.approx(theirs["BLEU"], abs=1e-6)
        assert scores["chrf"] == pytest.approx(theirs["chrF2"], abs=1e-6)
        assert scores["ter"] == pytest.approx(theirs["TER"], abs=1e-6)


def test_a_leading_byte_order_mark_is_scored_as_sacrebleu_scores_it(data_dir, tmp_path):
    en = (data_dir / "flores200" / "devtest" / "eng_Latn.devtest").read_text(encoding="utf-8").splitlines()[:20]
    (tmp_path / "ref.en").write_text("\n".join(en) + "\n", encoding="utf-8")
    (tmp_path / "sys.en").write_text("\ufeff" + "\n".join(_drop_words(en, 0.1, 3)) + "\n", encoding="utf-8")
    theirs = {r["name"]: r["score"] for r in _sacrebleu_json(tmp_path / "ref.en", "-i", tmp_path / "sys.en",
                                                             "-m", "bleu", "chrf", "-w", "6")}
    result = xling("score", "-r", tmp_path / "ref.en", "-i", tmp_path / "sys.en", "-t", "en",
                   "-m", "bleu,chrf", "-f", "json")
    ours = json.loads(result.stdout)["systems"][str(tmp_path / "sys.en")]
    assert "sys.en starts with a byte-order mark" in result.stderr.decode()
    assert ours["bleu"]["score"] == pytest.approx(theirs["BLEU"], abs=1e-6)
    assert ours["chrf"]["score"] == pytest.approx(theirs["chrF2"], abs=1e-6)


def test_a_paired_test_of_one_system_is_refused(tmp_path):
    """It printed the system's score and no test, without a word (sacrebleu refuses)."""
    (tmp_path / "hyp.txt").write_text("the cat sat on the mat\n", encoding="utf-8")
    for test in ("bs", "ar"):
        assert_one_line_error(xling("score", "-i", str(tmp_path / "hyp.txt"), "-r", str(tmp_path / "hyp.txt"),
                                    "-t", "en", f"--paired-{test}"),
                              f"--paired-{test} compares systems with the first (the baseline): give two or more")


def test_latex_marks_better_and_worse_apart_with_a_legend(tmp_path):
    """Both were $^\\dagger$, with no legend and no "lower is better" line."""
    ref = ["the cat sat on the mat today", "a dog ran home in the rain", "we walked far away from here"] * 4
    worse = ["cat the mat", "dog home", "walked far"] * 4
    for name, lines in (("ref.txt", ref), ("base.txt", [r.replace("today", "now") for r in ref]),
                        ("good.txt", ref), ("bad.txt", worse)):
        (tmp_path / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = xling("score", "-r", str(tmp_path / "ref.txt"), "-i", *(str(tmp_path / n) for n in ("base.txt", "good.txt",
                   "bad.txt")), "-t", "en", "-m", "bleu,ter", "--paired-bs", "-f", "latex")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.decode().splitlines() if " & " in line]
    rows = {line.split(" & ")[0].rsplit("/", 1)[-1]: line for line in lines}
    assert rows["good.txt"].count("$^{\\uparrow}$") == 2 and rows["bad.txt"].count("$^{\\downarrow}$") == 2
    assert "% lower is better: TER" in result.stdout.decode() and "worse: p < 0.05" in result.stdout.decode()


def test_comet_scores_show_four_decimals():
    """COMET's 0-1 scores showed two ("0.82 (-0.00, p=0.001) worse*")."""
    from xling.metrics.registry import get
    from xling.reporting.report import _score_text

    assert _score_text(0.81234, get("comet").digits) == "0.8123" and _score_text(31.234, get("bleu").digits) == "31.23"


def test_a_p_value_below_005_never_reads_0_0500():
    """p = 50/1001 = 0.04995 was printed "p=0.0500 worse*" under a legend saying p < 0.05."""
    from xling.reporting.tables import p_text

    assert p_text(50 / 1001) == "0.0499" and p_text(0.05) == "0.0500" and p_text(0.05123) == "0.0512"
    assert p_text(0.00004) == "0.0000" and p_text(1.0) == "1.0000"


def test_a_difference_reads_as_the_html_page_writes_it():
    """(audit round 23) the text report wrote a zero difference "+0.00" (and -0.001 "-0.00")
    where the page wrote "0.00": the same number two ways in one comparison."""
    from xling.reporting.tables import signed

    assert [signed(v, 2) for v in (0.0, -0.001, 0.004, -0.0, 0.005001, -1.25)] == \
        ["0.00", "0.00", "0.00", "0.00", "+0.01", "-1.25"]


def test_a_system_file_named_with_a_line_break_keeps_every_format_whole(tmp_path):
    """The baseline's name went raw into LaTeX's '% paired:' comment: its second line was bare
    text under the table (and the text table broke the row); the JSON named no sample count."""
    import json

    ref = ["the cat sat on the mat today", "a dog ran home in the rain"] * 4
    base, other = tmp_path / "new\nline.txt", tmp_path / "other.txt"
    (tmp_path / "ref.txt").write_text("\n".join(ref) + "\n", encoding="utf-8")
    base.write_text("\n".join(r.replace("today", "now") for r in ref) + "\n", encoding="utf-8")
    other.write_text("\n".join(ref) + "\n", encoding="utf-8")
    args = ["score", "-r", str(tmp_path / "ref.txt"), "-i", str(base), str(other), "-t", "en", "-m", "bleu",
            "--paired-bs"]
    latex = xling(*args, "-f", "latex")
    assert latex.returncode == 0, latex.stderr
    assert all(line.startswith(("%", "\\")) or " & " in line for line in latex.stdout.decode().splitlines() if line)
    text = xling(*args).stdout.decode()
    assert not any(line.strip() == "line.txt" or line.startswith("line.txt") for line in text.splitlines())
    settings = json.loads(xling(*args, "-f", "json").stdout)["settings"]
    assert settings["n_samples"] == 1000


def test_target_in_another_script_than_the_references_is_warned(files, tmp_path):
    """(audit round 23) `-t en` left over from an earlier command on Korean references changed
    BLEU (13a instead of ko-mecab) with nothing said: one warning line names the file, its
    script and the language it is scored as; the right -t, and Han-sharing targets, say nothing."""
    args = ("score", "-r", str(files["ref"]), "-i", str(files["bad"]), "-m", "bleu")
    wrong = xling(*args, "-t", "en")
    assert wrong.returncode == 0, wrong.stderr
    warnings = [line for line in wrong.stderr.decode().splitlines() if "warning" in line]
    assert warnings == [f"xling: warning: {files['ref']} is written in Hangul, and it is scored as English "
                        "(-t en: its BLEU tokenizer and off-target checks)"]
    assert b"warning" not in xling(*args, "-t", "ko").stderr
    # no references: the outputs, when all of them are in another script
    alone = xling("score", "-i", str(files["bad"]), "-m", "offtarget", "-t", "de")
    assert f"{files['bad']} is written in Hangul, and it is scored as German" in alone.stderr.decode()
    mixed = xling("score", "-i", str(files["bad"]), str(files["src"]), "-m", "offtarget", "-t", "en")
    assert b"warning" not in mixed.stderr, mixed.stderr
    # Chinese (Han) scored as Japanese: the scripts overlap, nothing is said
    zh = tmp_path / "zh.txt"
    zh.write_text("\n".join(["我们今天在北京的大学里学习中文和历史，老师讲得很清楚。"] * 5) + "\n", encoding="utf-8")
    assert b"warning" not in xling("score", "-r", str(zh), "-i", str(zh), "-m", "bleu", "-t", "ja").stderr


def test_wrong_script_is_a_script_count():
    """(audit round 23) The library check behind the warning: plain Hangul is not English;
    Korean with Hanja, short text and Kana under Chinese are not flagged."""
    from xling.metrics.langid import wrong_script

    korean = ["대한민국의 수도는 서울이며 인구는 약 천만 명이다. 한국어는 한글로 쓴다."] * 3
    assert wrong_script(korean, "en") == "Hangul" and wrong_script(korean, "ko") is None
    hanja = ["大韓民國은 民主共和國이다 大韓民國의 主權은 國民에게 있고 모든 權力은 國民으로부터 나온다"] * 3
    assert wrong_script(hanja, "ko") is None
    assert wrong_script(["서울"], "en") is None   # too few letters to tell
    english = ["The quick brown fox jumps over the lazy dog again and again."] * 3
    assert wrong_script(english, "ru") == "Latin script" and wrong_script(english, "de") is None
    # (review C) product names in Chinese or Korean text: a Han character or Hangul syllable
    # weighs about three Latin letters, so these are no "Latin script" text
    chinese = ["使用 TensorFlow 和 PyTorch 训练 BERT 模型。", "在 Kubernetes 上部署 Docker container。",
               "Apple 发布了 iPhone Pro Max 和 MacBook Air。"]
    assert wrong_script(chinese, "zh") is None
    korean_names = ["Samsung Electronics 와 LG Display 가 OLED panel 을 발표했다.",
                    "Google Cloud Platform 에서 Kubernetes cluster 를 운영한다."]
    assert wrong_script(korean_names, "ko") is None
    # (review C) Han is Korean only beside Hangul, and Kana is Chinese only in a quoted word:
    # Chinese or Japanese references under -t ko, or Japanese under -t zh, change BLEU's tokenizer
    chinese_text = ["北京是中国的首都，也是全国的政治和文化中心。这里有很多历史悠久的名胜古迹。"] * 3
    japanese = ["東京は日本の首都であり、多くの人々が毎日電車で通勤しています。"] * 3
    assert wrong_script(chinese_text, "ko") == "Han characters" and wrong_script(japanese, "ko") == "Kana"
    assert wrong_script(japanese, "zh") == "Kana" and wrong_script(japanese, "ja") is None
    assert wrong_script(chinese_text, "zh") is None and wrong_script(chinese_text, "ja") is None


def test_the_wrong_script_warning_names_the_language_in_that_script(tmp_path, capsys):
    """(review C of audit round 23) Serbian in Latin letters scored with -t sr (Cyrillic) was
    warned about without naming -t sr-Latn."""
    from xling.tasks.score import warn_wrong_script

    latin = ["Naučnici su otkrili novu vrstu žabe u prašumi Amazona prošle nedelje.",
             "Vlada je najavila nove mere za podršku malim preduzećima širom zemlje."]
    warn_wrong_script({"ref.txt": latin}, "sr")
    # (one BLEU tokenizer for both scripts: only the off-target checks differ)
    assert capsys.readouterr().err.strip().endswith("(-t sr: its off-target checks); Serbian (Latin) is -t sr-Latn")
    warn_wrong_script({"ref.txt": latin}, "sr-Latn")
    assert capsys.readouterr().err == ""


SIMPLIFIED = ["我们明天去市场买水果，然后一起回家做饭。", "这本书很好看，我昨天在图书馆借的。",
              "请把窗户打开，房间里太热了。", "他说这个问题需要认真讨论一下。",
              "学生们在教室里听老师讲课。", "这里的天气一年四季都很舒服。"]
TRADITIONAL = ["我們明天去市場買水果，然後一起回家做飯。", "這本書很好看，我昨天在圖書館借的。",
               "請把窗戶打開，房間裡太熱了。", "他說這個問題需要認真討論一下。",
               "學生們在教室裡聽老師講課。", "這裡的天氣一年四季都很舒服。"]


def test_chinese_in_the_other_script_than_the_target_is_warned(tmp_path):
    """(audit round 25) Traditional references scored with -t zh (or Simplified with -t zh-TW)
    gave 100% OffTarget% to a perfect system with nothing said, where Serbian in Latin letters
    under -t sr is warned about: one line names the script and the right code, after every
    refusal; the right target, and a file of both scripts, say nothing."""
    files = {}
    for name, lines in (("zht", TRADITIONAL), ("zhs", SIMPLIFIED), ("both", SIMPLIFIED[:3] + TRADITIONAL[3:])):
        files[name] = tmp_path / f"{name}.txt"
        files[name].write_text("\n".join(lines) + "\n", encoding="utf-8")

    def score(name, target, *more):
        return xling("score", "-r", str(files[name]), "-i", str(files[name]), "-t", target, "-m", "bleu", *more)

    wrong = score("zht", "zh", "offtarget")
    assert wrong.returncode == 0, wrong.stderr
    assert wrong.stderr.decode().splitlines() == [
        f"xling: warning: {files['zht']} is written in Traditional Chinese characters, and it is scored as "
        "Chinese (Simplified) (-t zh: its off-target checks); Chinese (Traditional) is -t zh-Hant"]
    assert "OffTarget%" in wrong.stdout.decode()
    wrong = score("zhs", "zh-TW")
    assert wrong.stderr.decode().splitlines() == [
        f"xling: warning: {files['zhs']} is written in Simplified Chinese characters, and it is scored as "
        "Chinese (Traditional) (-t zh-TW: its off-target checks); Chinese (Simplified) is -t zh"]
    for name, target in (("zht", "zh-Hant"), ("zhs", "zh"), ("both", "zh"), ("both", "zh-Hant")):
        right = score(name, target)
        assert right.returncode == 0 and right.stderr == b"", (name, target, right.stderr)
    # a refusal comes alone, never after the warning
    given = ("score", "-r", str(files["zht"]), "-t", "zh", "-i", str(files["zht"]))
    assert_one_line_error(xling(*given, "-m", "chrf", "--tokenize", "13a"), "-m chrf has no BLEU")
    assert_one_line_error(xling(*given, str(files["zhs"]), "-m", "bleu", "--paired-bs", "--on-target-only"),
                          "paired tests need the same segments")


def test_a_metric_setting_no_metric_reads_is_warned_about(tmp_path):
    # `-m bleu --comet-model X` scored BLEU without a word about X (a typo of -m comet, say)
    (tmp_path / "h.txt").write_text("A cat sat.\n", encoding="utf-8")
    (tmp_path / "r.txt").write_text("The cat sat.\n", encoding="utf-8")
    args = ("score", "-i", str(tmp_path / "h.txt"), "-r", str(tmp_path / "r.txt"), "-t", "en", "-m", "bleu")
    given = xling(*args, "--comet-model", "my/comet", "--judge-model", "j")
    assert given.returncode == 0, given.stderr
    assert given.stderr.decode().splitlines() == [
        "xling: warning: --comet-model, --judge-model set, and read by none of the metrics bleu: unused"]
    plain = xling(*args)
    assert plain.returncode == 0 and plain.stderr == b"" and plain.stdout == given.stdout


def test_a_refusal_comes_before_the_byte_order_mark_warning_and_the_first_reference_note(tmp_path):
    """(audit round 25, left then) the BOM warning and the "first reference only" note came
    before a refusal (a hypothesis file of another length): three lines for one mistake."""
    (tmp_path / "r1.en").write_text("\ufeffthe cat sat\nthe dog ran\n", encoding="utf-8")
    (tmp_path / "r2.en").write_text("a cat sat\na dog ran\n", encoding="utf-8")
    (tmp_path / "sys.en").write_text("the cat sat\n", encoding="utf-8")
    result = xling("score", "-r", tmp_path / "r1.en", tmp_path / "r2.en", "-i", tmp_path / "sys.en", "-t", "en",
                   "-s", tmp_path / "r2.en", "-m", "bleu,comet")
    assert_one_line_error(result, "hypotheses")
