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
    paths["bad"].write_text("\n".join(l[: len(l) // 2] for l in ko) + "\n", encoding="utf-8")
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
