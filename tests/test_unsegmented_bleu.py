"""BLEU on scripts without spaces between words (issue 25, item 3): the warning in `score`,
`eval` and `report`, and spBLEU offline from a SentencePiece model file (sacrebleu's cache or a
path), equal to sacrebleu's own score with that file. The model is trained here, on our own
Thai sentences, with the sentencepiece package."""
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import assert_one_line_error, run_cli, xling

# Our own Thai sentences (references) and damaged copies of them (hypotheses).
THAI = """วันนี้ฉันไปตลาดกับแม่
แมวตัวนี้ชอบนอนบนโซฟา
เขากำลังอ่านหนังสือในห้องสมุด
พรุ่งนี้ฝนอาจจะตกหนัก
ร้านอาหารนี้เปิดทุกวันยกเว้นวันจันทร์
เด็กๆ เล่นฟุตบอลที่สนามหลังโรงเรียน
กาแฟแก้วนี้หวานเกินไป
รถไฟขบวนสุดท้ายออกตอนสี่ทุ่ม
คุณยายปลูกดอกไม้ไว้หน้าบ้าน
เราจะไปเที่ยวทะเลในเดือนหน้า
น้องชายของฉันเรียนคณิตศาสตร์เก่งมาก
ห้องนี้เย็นสบายเพราะมีเครื่องปรับอากาศ""".splitlines()
THAI_HYP = """วันนี้ฉันไปตลาดกับพ่อ
แมวตัวนี้ชอบนอนบนเตียง
เขาอ่านหนังสือในห้องสมุด
พรุ่งนี้ฝนจะตกหนัก
ร้านอาหารนี้เปิดทุกวัน
เด็กๆ เล่นฟุตบอลที่สนามโรงเรียน
กาแฟแก้วนี้หวานมาก
รถไฟขบวนสุดท้ายออกตอนสี่ทุ่มครึ่ง
คุณยายปลูกต้นไม้ไว้หน้าบ้าน
เราจะไปเที่ยวภูเขาในเดือนหน้า
น้องชายของฉันเรียนเก่งมาก
ห้องนี้เย็นเพราะมีพัดลม""".splitlines()
KOREAN = ["오늘은 시장에 갔다.", "고양이가 소파에서 잔다.", "내일은 비가 올 것 같다."]
KOREAN_HYP = ["오늘 시장에 갔다.", "고양이가 침대에서 잔다.", "내일 비가 온다."]
ENGLISH = ["I went to the market today.", "The cat sleeps on the sofa.", "It may rain tomorrow."]
ENGLISH_HYP = ["I went to market today.", "The cat sleeps on the bed.", "It will rain tomorrow."]


def write(path: Path, lines) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("xling: warning:")]


@pytest.fixture(scope="module")
def spm_model(tmp_path_factory) -> Path:
    """A tiny SentencePiece model of our Thai sentences (a stand-in for sacrebleu's flores200)."""
    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(THAI + THAI_HYP), model_writer=model, vocab_size=120,
        model_type="unigram", hard_vocab_limit=False, minloglevel=2)
    path = tmp_path_factory.mktemp("spm") / "thai-tiny.model"
    path.write_bytes(model.getvalue())
    return path


def sacrebleu_with_model(model: Path, ref: Path, hyp: Path, tmp_path: Path) -> dict:
    """sacrebleu's own CLI with `model` as its cached flores200 model (its cache in tmp_path)."""
    cache = tmp_path / "sacrebleu-own"
    (cache / "models").mkdir(parents=True)
    shutil.copy(model, cache / "models" / "flores200sacrebleuspm")
    result = subprocess.run([sys.executable, "-m", "sacrebleu", str(ref), "-i", str(hyp), "-tok", "flores200",
                             "-w", "4", "-f", "json"], capture_output=True, text=True, check=True,
                            env=dict(os.environ, SACREBLEU=str(cache)))
    return json.loads(result.stdout)


OFFLINE = {"https_proxy": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
           "http_proxy": "http://127.0.0.1:9", "no_proxy": "", "NO_PROXY": ""}


# -- the warning ---------------------------------------------------------------------------------
def test_score_warns_for_thai_with_13a_and_not_for_korean_or_english(tmp_path, capsys):
    ref, hyp = write(tmp_path / "ref.th", THAI), write(tmp_path / "hyp.th", THAI_HYP)
    code, out, err = run_cli(capsys, "score", "-r", ref, "-i", hyp, "-t", "th", "-m", "bleu", "chrf")
    assert code == 0 and "BLEU" in out and "tok:13a" in out
    (line,) = warnings(err)
    assert "13a" in line and "Thai (th)" in line and "chrF" in line and "spBLEU" in line and "COMET" in line
    # another whitespace tokenizer warns too; characters do not need it
    code, _, err = run_cli(capsys, "score", "-r", ref, "-i", hyp, "-t", "th", "-m", "bleu", "--tokenize", "intl")
    assert code == 0 and len(warnings(err)) == 1 and "intl" in warnings(err)[0]
    code, _, err = run_cli(capsys, "score", "-r", ref, "-i", hyp, "-t", "th", "-m", "bleu", "--tokenize", "char")
    assert code == 0 and warnings(err) == []
    # chrF alone is fine
    code, _, err = run_cli(capsys, "score", "-r", ref, "-i", hyp, "-t", "th", "-m", "chrf")
    assert code == 0 and warnings(err) == []
    # TER's words are split at spaces too (a Thai system keeping 85% of each line's characters: TER 121)
    code, _, err = run_cli(capsys, "score", "-r", ref, "-i", hyp, "-t", "th", "-m", "ter")
    assert code == 0 and len(warnings(err)) == 1 and "TER on Thai (th) means little" in err
    for lang, refs, hyps in (("ko", KOREAN, KOREAN_HYP), ("en", ENGLISH, ENGLISH_HYP)):
        code, out, err = run_cli(capsys, "score", "-r", write(tmp_path / f"ref.{lang}", refs),
                                 "-i", write(tmp_path / f"hyp.{lang}", hyps), "-t", lang, "-m", "bleu")
        assert code == 0 and "BLEU" in out and warnings(err) == [], lang


def test_every_unsegmented_script_is_covered():
    from xling.metrics.unsegmented import bleu_warning

    for code in ("th", "lo", "km", "my", "tha_Thai", "lao_Laoo", "khm_Khmr", "mya_Mymr"):
        assert bleu_warning("13a", code) is not None, code
        assert bleu_warning("flores200", code) is None and bleu_warning("char", code) is None
    for code in ("ko", "ja", "zh", "en", "vi", "hi"):
        assert bleu_warning("13a", code) is None, code


def test_eval_and_report_warn_once_for_a_thai_target(tmp_path, tiny_causal_base, spm_model):
    (tmp_path / "corpus.en").write_text("\n".join(ENGLISH * 2) + "\n", encoding="utf-8")
    (tmp_path / "corpus.th").write_text("\n".join(THAI[:6]) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    result = xling("eval", "mt", "-m", str(tiny_causal_base), "--data", f"text:{tmp_path}/corpus.{{lang}}",
                   "-p", "en-th,th-en", "--metrics", "bleu,spbleu,chrf", "--spm-model", str(spm_model),
                   "--max-new-tokens", "8", "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    (line,) = warnings(result.stderr.decode())
    assert "13a" in line and "Thai (th)" in line
    assert "spBLEU" in result.stdout.decode()
    result = xling("report", str(out))
    assert result.returncode == 0, result.stderr.decode()
    assert len(warnings(result.stderr.decode())) == 1
    # without BLEU in the report, nothing to warn about
    result = xling("report", str(out), "-m", "chrf,spbleu")
    assert result.returncode == 0 and warnings(result.stderr.decode()) == []


def test_spbleu_added_later_is_reported_with_its_own_model_file(tmp_path, tiny_causal_base, spm_model):
    """rescore -m spbleu --spm-model FILE on a run made without it: the report recomputes
    spBLEU with that file (the stored result's), offline, without sacrebleu's cached model."""
    (tmp_path / "corpus.en").write_text("\n".join(ENGLISH[:3]) + "\n", encoding="utf-8")
    (tmp_path / "corpus.th").write_text("\n".join(THAI[:3]) + "\n", encoding="utf-8")
    out, offline = tmp_path / "run", dict(SACREBLEU=str(tmp_path / "no-sacrebleu-cache"), **OFFLINE)
    result = xling("eval", "mt", "-m", str(tiny_causal_base), "--data", f"text:{tmp_path}/corpus.{{lang}}",
                   "-p", "en-th", "--metrics", "chrf", "--max-new-tokens", "8", "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    result = xling("rescore", str(out), "-m", "spbleu", "--spm-model", str(spm_model), env=offline)
    assert result.returncode == 0, result.stderr.decode()
    stored = json.loads((out / "metrics.json").read_text())["directions"]["en-th"]["metrics"]["spbleu"]["score"]
    result = xling("report", str(out), "-m", "spbleu", env=offline)
    assert result.returncode == 0, result.stderr.decode()
    assert f"{stored:.2f}" in result.stdout.decode()


# -- spBLEU offline ------------------------------------------------------------------------------
def test_spbleu_from_sacrebleus_cache_offline_equals_sacrebleu(tmp_path, spm_model):
    ref, hyp = write(tmp_path / "ref.th", THAI), write(tmp_path / "hyp.th", THAI_HYP)
    theirs = sacrebleu_with_model(spm_model, ref, hyp, tmp_path)
    cache = tmp_path / "sacrebleu-cache"
    (cache / "models").mkdir(parents=True)
    shutil.copy(spm_model, cache / "models" / "flores200sacrebleuspm")
    result = xling("score", "-r", str(ref), "-i", str(hyp), "-t", "th", "-m", "spbleu", "-f", "json",
                   env=dict(SACREBLEU=str(cache), **OFFLINE))
    assert result.returncode == 0, result.stderr.decode()
    ours = json.loads(result.stdout)["systems"][str(hyp)]["spbleu"]
    assert 0 < theirs["score"] < 100
    assert round(ours["score"], 4) == theirs["score"]
    assert ours["signature"].startswith(theirs["signature"] + "|spm:sha256-")
    assert warnings(result.stderr.decode()) == []


def test_spbleu_with_a_model_file_given_equals_sacrebleu(tmp_path, spm_model, capsys):
    from xling.metrics import bleu, spbleu

    ref, hyp = write(tmp_path / "ref.th", THAI), write(tmp_path / "hyp.th", THAI_HYP)
    theirs = sacrebleu_with_model(spm_model, ref, hyp, tmp_path)
    ours = spbleu(THAI_HYP, THAI, tgt_lang="th", spm_model=str(spm_model))
    assert round(ours.score, 4) == theirs["score"]
    assert ours.name == "spBLEU" and ours.signature.startswith(theirs["signature"])
    # segment scores and the flores101 spelling come from the same statistics
    assert len(ours.segments) == len(THAI) and max(ours.segments) <= 100
    flores101 = bleu(THAI_HYP, THAI, tgt_lang="th", tokenize="flores101", spm_model=str(spm_model))
    assert flores101.score == ours.score and "tok:flores101" in flores101.signature
    code, out, err = run_cli(capsys, "score", "-r", ref, "-i", hyp, "-t", "th", "-m", "spbleu",
                             "--spm-model", spm_model, "-f", "json")
    assert code == 0, err
    assert json.loads(out)["systems"][str(hyp)]["spbleu"]["score"] == ours.score


def test_spbleu_without_its_model_offline_is_one_error_line(tmp_path, spm_model):
    ref, hyp = write(tmp_path / "ref.th", THAI), write(tmp_path / "hyp.th", THAI_HYP)
    empty = tmp_path / "empty-cache"
    result = xling("score", "-r", str(ref), "-i", str(hyp), "-t", "th", "-m", "spbleu",
                   env=dict(SACREBLEU=str(empty), **OFFLINE))
    assert_one_line_error(result, str(empty / "models" / "flores200sacrebleuspm"))
    assert "--spm-model" in result.stderr.decode()
    result = xling("score", "-r", str(ref), "-i", str(hyp), "-t", "th", "-m", "spbleu",
                   "--spm-model", str(tmp_path / "nowhere.model"), env=OFFLINE)
    assert_one_line_error(result, "nowhere.model does not exist")
    result = xling("score", "-r", str(ref), "-i", str(hyp), "-t", "th", "-m", "spbleu",
                   "--spm-model", str(ref), env=OFFLINE)
    assert_one_line_error(result, "is not a SentencePiece model")


def test_an_mbr_run_is_its_utilitys_settings_too(tmp_path, tiny_causal_base, spm_model):
    # spBLEU with another SentencePiece model chooses other candidates: the run folder says so
    import sentencepiece

    other = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(sentence_iterator=iter(THAI), model_writer=other, vocab_size=60,
                                             model_type="unigram", hard_vocab_limit=False, minloglevel=2)
    (tmp_path / "other.model").write_bytes(other.getvalue())
    (tmp_path / "t.en").write_text("I like apples.\nIt rains.\n", encoding="utf-8")
    (tmp_path / "t.th").write_text("\n".join(THAI[:2]) + "\n", encoding="utf-8")

    def mbr(model):
        return xling("eval", "mt", "--data", f"text:{tmp_path}/t.{{lang}}", "-p", "en-th", "--out",
                     str(tmp_path / "run"), "-m", str(tiny_causal_base), "--metrics", "chrf", "-n", "2",
                     "--select", "mbr", "--utility", "spbleu", "--spm-model", str(model),
                     env={"XLING_CACHE": str(tmp_path / "cache")})

    assert mbr(spm_model).returncode == 0
    assert mbr(spm_model).returncode == 0                        # the same settings resume
    assert_one_line_error(mbr(tmp_path / "other.model"), "differs in: chooser_options")


def test_an_spbleu_results_segments_and_tests_need_no_model_file_once_scored(tmp_path, spm_model):
    """(audit round 26) segment scores and paired tests are made from the stored statistics, yet
    they rebuilt the SentencePiece tokenizer: once its file was gone, both raised "does not
    exist" (with sacrebleu's cached model: a download)."""
    from xling.metrics import paired_test, spbleu

    copy = tmp_path / "copy.model"
    shutil.copy(spm_model, copy)
    ours = spbleu(THAI_HYP, THAI, tgt_lang="th", spm_model=str(copy))
    other = spbleu(THAI, THAI, tgt_lang="th", spm_model=str(copy))
    expected = spbleu(THAI_HYP, THAI, tgt_lang="th", spm_model=str(spm_model)).segments
    copy.unlink()
    assert ours.segments == expected and len(expected) == len(THAI)
    assert paired_test(ours, {"other": other})
