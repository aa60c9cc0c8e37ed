"""The command line as a user runs it: real subprocesses, exit codes, stderr, output files."""
import json
import subprocess
import sys

import pytest
from helpers import assert_one_line_error, xling


@pytest.mark.parametrize("command", [[], ["translate"], ["eval", "mt"], ["eval", "nli"], ["score"], ["data"]])
def test_help_loads_no_heavy_library(command):
    """`xling --help` (and each command's) stays light: the registries it is built from import
    neither torch nor numpy (nor transformers, lingua, sacrebleu)."""
    heavy = ("torch", "numpy", "transformers", "lingua", "sacrebleu")
    code = (f"import sys\nfrom xling.cli import main\ntry:\n    main({[*command, '--help']!r})\n"
            f"except SystemExit:\n    pass\nprint(sorted(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr


def test_langs_lists_languages():
    out = xling("langs").stdout.decode()
    assert "kor_Hang" in out and "한국어" in out and "zho_Hant" in out
    korean = next(line.split() for line in out.splitlines() if line.startswith("ko "))
    assert korean[2] == "kor" and "ko-kr" in korean[-1]     # the ISO 639-3 code and the aliases README names


@pytest.mark.parametrize("args, message", [
    (["translate", "--src", "xx", "--tgt", "ko", "a"], "unknown language code 'xx'"),
    (["translate", "--src", "ko", "--tgt", "kor_Hang", "a"], "both ko"),
    (["translate", "-s", "ko", "-t", "en", "-i", "/no/such/file.txt"], "does not exist"),
    (["translate", "-s", "ko", "-t", "en", "-m", "./no-such-model", "a"], "does not exist"),
    (["translate", "-s", "ko", "-t", "en", "-m", "someorg/some-model", "a"], "cannot be reached"),
    (["translate", "-s", "ko", "-t", "en", "--template", "nope", "a"], "unknown template"),
    (["translate", "-s", "ko", "-t", "en", "-m", "bad name!", "a"], "nor a valid Hugging Face hub name"),
    (["tokens", "a..b", "--langs", "ko"], "tokenizer 'a..b' is neither a local folder nor a valid"),
    (["tokens", "/no/such/tokenizer", "--langs", "ko"], "tokenizer folder '/no/such/tokenizer' does not exist"),
])
def test_bad_input_gives_one_clear_line(args, message):
    assert_one_line_error(xling(*args, env={"HF_HUB_OFFLINE": "1"}), message)


def test_invalid_utf8_and_no_partial_output(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes("좋은 줄\n".encode() + b"\xff\xfe broken\n")
    out = tmp_path / "out.txt"
    result = xling("translate", "-s", "ko", "-t", "en", "-i", str(bad), "-o", str(out))
    assert_one_line_error(result, "not valid UTF-8 (line 2, byte 1)")
    assert not out.exists()
    assert [p for p in tmp_path.iterdir() if p.name != "xling-cache"] == [bad]   # nothing partial
    stdin = xling("translate", "-s", "ko", "-t", "en", input=b"\xc3\x28\n")
    assert_one_line_error(stdin, "standard input is not valid UTF-8")
    # (audit round 25) the bad byte's place in its line, from 1: not the file's offset from 0 (6)
    stdin = xling("translate", "-s", "ko", "-t", "en", input=b"ok\ncaf\xe9\n")
    assert_one_line_error(stdin, "standard input is not valid UTF-8 (line 2, byte 4)")


def test_file_translation_keeps_lines_and_order(tiny_causal_base, tmp_path):
    src = tmp_path / "in.ko"
    src.write_text("나는 사과를 좋아한다.\n\n바다가 조용하다.\n", encoding="utf-8")
    out = tmp_path / "out.en"
    result = xling("translate", "-s", "ko", "-t", "en", "-m", str(tiny_causal_base),
                   "-i", str(src), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8") == "I like apples.\n\nThe sea is calm.\n"
    assert "translating" in result.stderr.decode()  # the progress bar
    piped = xling("translate", "-s", "ko", "-t", "en", "-m", str(tiny_causal_base),
                  input=src.read_bytes())
    assert piped.stdout.decode() == "I like apples.\n\nThe sea is calm.\n"
    # (audit round 19) "-i -" was "input file - does not exist", and a lone "-" was translated
    for dash in (["-i", "-"], ["-"]):
        piped = xling("translate", "-s", "ko", "-t", "en", "-m", str(tiny_causal_base), *dash, input=src.read_bytes())
        assert piped.stdout.decode() == "I like apples.\n\nThe sea is calm.\n", piped.stderr


def test_a_terminal_on_standard_input_is_said_before_it_is_read(tiny_causal_base):
    """(audit round 25) with no TEXT and no -i, translate waited on the terminal without a word:
    a forgotten argument looked like a hung command. A real pseudo-terminal, typed into."""
    import os
    import pty

    master, slave = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "xling.cli", "translate", "-s", "ko", "-t", "en",
                                    "-m", str(tiny_causal_base)], stdin=slave, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        os.close(slave)
        os.write(master, "나는 사과를 좋아한다.\n".encode() + b"\x04")   # a line, then Ctrl-D
        out, err = process.communicate(timeout=300)
    finally:
        os.close(master)
    assert process.returncode == 0, err.decode()
    assert out.decode() == "I like apples.\n"
    assert err.decode().splitlines()[0] == ("xling: reading source lines from the terminal; end with Ctrl-D "
                                            "(or give TEXT or -i FILE)")
    piped = xling("translate", "-s", "ko", "-t", "en", "-m", str(tiny_causal_base),
                  input="나는 사과를 좋아한다.\n".encode())
    assert piped.stdout == out and b"terminal" not in piped.stderr   # (a pipe or file: nothing to say)


def test_score_reads_one_input_from_standard_input(tmp_path):
    ref = tmp_path / "ref.en"
    ref.write_text("The sea is calm.\nI like apples.\n", encoding="utf-8")
    piped = xling("score", "-i", "-", "-r", str(ref), "-t", "en", "-m", "chrf", "-f", "json",
                  input=b"The sea is calm.\nI like apples.\n")
    assert piped.returncode == 0 and json.loads(piped.stdout)["systems"]["-"]["chrf"]["score"] == 100, piped.stderr
    twice = xling("score", "-i", "-", "-r", "-", "-t", "en", input=b"x\n")
    assert_one_line_error(twice, "standard input (-) is one of the inputs at most")


def test_embedded_default_model_from_the_shell():
    result = xling("translate", "--src", "ko", "--tgt", "en", "저는 학생입니다.",
                   env={"XLING_MODEL": ""})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 1 and lines[0].strip()
    err = [line for line in result.stderr.decode().splitlines() if line.strip()]
    assert any("tiny smoke-test model" in line for line in err)
    # nothing else but the one-time conversion: no library chatter the user cannot act on
    assert all(line.startswith("xling:") or "Converting" in line for line in err), err


@pytest.mark.parametrize("command", [["score"], ["eval", "mt"], ["rescore"]], ids=["score", "eval-mt", "rescore"])
def test_every_metric_setting_is_an_option_of_the_scoring_commands(command):
    """Issue 32 item 2: the options come from the settings the metric specs declare, so none is
    missing from a command that scores (--cometkiwi-xl-model, --precision, --judge-temperature were)."""
    from click.testing import CliRunner

    from xling.cli import cli
    from xling.metrics.registry import metric_settings

    text = CliRunner().invoke(cli, [*command, "--help"], terminal_width=200).output
    missing = [n for n, s in metric_settings().items() if s.option_flags()[0] not in text]
    assert len(metric_settings()) >= 13 and not missing, missing


def test_translate_takes_every_metric_model_setting():
    """Its candidates are chosen by metrics (MBR, QE reranking): every model setting applies."""
    from click.testing import CliRunner

    from xling.cli import cli
    from xling.metrics.registry import metric_settings

    text = CliRunner().invoke(cli, ["translate", "--help"], terminal_width=200).output
    models = [n for n, s in metric_settings().items() if s.is_model]
    assert "--cometkiwi-xl-model" in text and all("--" + n.replace("_", "-") in text for n in models)


def test_a_command_group_alone_prints_its_help_as_help():
    """`xling` and `xling eval` alone printed the whole help squashed into one error line."""
    for args in ([], ["eval"]):
        result = xling(*args)
        out = result.stdout.decode()
        assert result.returncode == 0 and out.startswith("Usage: xling") and out.count("\n") > 5
        assert not result.stderr


@pytest.mark.parametrize("extra, said", [
    (["--paired-bs", "--paired-ar"], "give --paired-bs or --paired-ar, not both"),
    (["--tokenize", ""], "--tokenize needs a tokenizer name"),
    (["--human-reference", "ref"], "give --human SPEC with it"),
    (["--paired-n", "5"], "--paired-n sets the resamples of a paired test"),
    (["-m", "chrf", "--tokenize", "zh"], "--tokenize sets BLEU's tokenizer, and -m chrf has no BLEU"),
    (["-m", "bleu", "--spm-model", "/nonexistent.model"], "--spm-model is the SentencePiece model of spBLEU"),
    (["-m", "chrf,ter", "--spm-model", "/nonexistent.model"], "--spm-model is the SentencePiece model of spBLEU"),
])
def test_score_options_that_would_be_ignored_are_refused(tmp_path, extra, said):
    """Audit round 10: both paired flags ran only AR; '' was 13a; --human-reference without
    --human and --paired-n without a test did nothing, silently. Round 15: --tokenize with no
    BLEU, --spm-model with no spBLEU (even a missing file) were ignored."""
    from helpers import assert_one_line_error, xling

    hyp = tmp_path / "hyp.txt"
    hyp.write_text("the cat sat\n", encoding="utf-8")
    assert_one_line_error(xling("score", "-i", str(hyp), str(hyp), "-r", str(hyp), "-t", "en", *extra), said)


def test_score_human_refuses_what_it_would_ignore_and_on_target_only_says_why_nothing_is_left(tmp_path):
    from helpers import assert_one_line_error, xling

    judgments = tmp_path / "j.tsv"
    judgments.write_text("system\tdoc\tdoc_id\tseg_id\trater\tsource\ttarget\tcategory\tseverity\n", encoding="utf-8")
    for extra in (["-m", "bleu"], ["--on-target-only"], ["--paired-ar"]):
        assert_one_line_error(xling("score", "--human", f"mqm:{judgments}", *extra), "--human ranks systems")
    hyp = tmp_path / "hyp.txt"
    hyp.write_text("The weather is nice today.\nI like apples very much.\n", encoding="utf-8")
    assert_one_line_error(xling("score", "-i", str(hyp), "-r", str(hyp), "-t", "de", "--on-target-only"),
                          "no output of")


@pytest.mark.parametrize("sig, status, said", [("SIGINT", 130, "xling: interrupted"),
                                               ("SIGTERM", 143, "xling: terminated")])
def test_a_signal_while_the_commands_load_is_one_line_not_a_traceback(sig, status, said):
    """Ctrl-C in the first second (the command modules' imports) printed a KeyboardInterrupt
    traceback; SIGTERM there ended with -15. The signal is sent for real, as xling.cli loads."""
    code = ("import os, signal, sys\n"
            "class Finder:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            f"        if name == 'xling.cli':\n"
            f"            os.kill(os.getpid(), signal.{sig})\n"
            "        return None\n"
            "sys.meta_path.insert(0, Finder())\n"
            "from xling.console import run\n"
            "run()\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert result.returncode == status and result.stderr.decode().strip() == said, result.stderr


def test_report_takes_its_format_from_the_output_suffix_and_refuses_a_contradiction():
    """`report -o r.html` wrote text tables into r.html; `-f csv -o r.tex` wrote CSV."""
    from xling.cli.reports import _format_for
    from xling.errors import XlingError

    assert [_format_for(None, o) for o in ("r.html", "r.MD", "r.csv", "r.tex", "r.txt", "r.out", "-", None)] == \
        ["html", "markdown", "csv", "latex", "text", "text", "text", "text"]
    assert _format_for("csv", "r.out") == "csv" and _format_for("latex", "r.tex") == "latex"
    assert _format_for("markdown", "summary.txt") == "markdown"      # a .txt holds any text format
    with pytest.raises(XlingError, match="--format csv into r.tex, whose suffix says latex"):
        _format_for("csv", "r.tex")


def test_a_progress_bar_written_to_a_log_updates_every_half_minute(tmp_path):
    """`translate -i` with stderr redirected to a file filled it with a redraw per batch."""
    import subprocess
    import sys

    script = ("import time\nfrom xling.progress import bar\n"
              "with bar(total=50, desc='translating') as b:\n"
              "    for _ in range(50):\n        b.update(1); time.sleep(0.02)\n")
    with open(tmp_path / "log", "w") as log:
        subprocess.run([sys.executable, "-c", script], stderr=log, check=True)
    redraws = (tmp_path / "log").read_text().replace("\r", "\n").strip().split("\n")
    assert len([r for r in redraws if "translating" in r]) == 2          # the start and the end
    assert "50/50" in redraws[-1]


def test_a_closed_pipe_ends_quietly_with_success():
    """`xling ... | true` exited 1 with no message: click turned the broken pipe into exit 1
    before xling's own handler saw it."""
    result = subprocess.run(f"{sys.executable} -m xling.cli langs | true; echo \"status=${{PIPESTATUS[0]}}\"",
                            shell=True, executable="/bin/bash", capture_output=True, text=True)
    assert result.stdout.strip() == "status=0" and "Traceback" not in result.stderr, result.stderr


def test_a_file_with_classic_mac_line_ends_is_said_to_be_one_line(tmp_path):
    old = tmp_path / "old.txt"
    old.write_bytes(b"Hello.\rGood morning.\r")
    result = xling("score", "-i", str(old), "-r", str(old), "-t", "en", "-m", "chrf")
    assert result.returncode == 0 and b"carriage returns (\\r) alone, so it is read as one line" in result.stderr
    # (audit round 19) not said once an editor had added a final \n, nor ever on standard input
    old.write_bytes(b"Hello.\rGood morning.\rBye.\n")
    result = xling("score", "-i", str(old), "-r", str(old), "-t", "en", "-m", "chrf")
    assert b"carriage returns (\\r) alone, so it is read as one line" in result.stderr
    program = "from xling.data.textio import read_stdin_lines as r; print(len(r()))"
    read = subprocess.run([sys.executable, "-c", program],
                          input=b"Hello.\rGood morning.\rBye.\r", capture_output=True)
    assert read.stdout == b"1\n" and b"standard input ends its lines with carriage returns" in read.stderr
    fine = tmp_path / "fine.txt"
    fine.write_bytes(b"Hello.\r\nA stray \r inside.\r\n")
    assert b"carriage returns" not in xling("score", "-i", str(fine), "-r", str(fine), "-t", "en", "-m", "chrf").stderr


@pytest.mark.parametrize("extra, kept", [((), True), (("--no-cache",), False)])
def test_ctrl_c_promises_resuming_only_when_the_cache_is_on(monkeypatch, capsys, extra, kept):
    """(audit round 23) Ctrl-C in `translate --no-cache` said "finished work is kept in the cache;
    run again to resume", and nothing had been stored."""
    import xling.cli as cli_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_module.cli, "main", interrupted)
    assert cli_module.main(["translate", "-m", "tiny", "-s", "ko", "-t", "en", *extra, "안녕"]) == 130
    said = capsys.readouterr().err.strip()
    assert said == ("xling: interrupted (finished work is kept in the cache; run again to resume)" if kept
                    else "xling: interrupted")


def test_ctrl_c_in_score_promises_resuming_only_for_what_is_kept(monkeypatch, capsys, tmp_path):
    """(audit round 27) `score` (which keeps no metric's scores) and `meta-eval` without -o said
    "finished work is kept in the cache; run again to resume": a rerun redid everything."""
    import xling.cli as cli_module
    import xling.tasks.metaeval
    import xling.tasks.score

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(xling.tasks.score, "score_systems", interrupted)
    monkeypatch.setattr(xling.tasks.metaeval, "meta_evaluate", interrupted)
    text = tmp_path / "hyp.txt"
    text.write_text("a\n", encoding="utf-8")
    assert cli_module.main(["score", "-i", str(text), "-r", str(text), "-t", "en", "-m", "chrf"]) == 130
    assert capsys.readouterr().err.strip() == "xling: interrupted"
    spec = f"mqm:{tmp_path / 'x.tsv'}"
    assert cli_module.main(["meta-eval", spec, "-r", "refA", "-m", "chrf"]) == 130
    assert capsys.readouterr().err.strip() == "xling: interrupted"
    # (audit round 28) with -o, promised once its scores file is written: not before a score is kept
    assert cli_module.main(["meta-eval", spec, "-r", "refA", "-m", "chrf", "-o", str(tmp_path / "me")]) == 130
    assert capsys.readouterr().err.strip() == "xling: interrupted"
    kept = tmp_path / "me" / "scores.json"
    kept.parent.mkdir()
    kept.write_text("{}", encoding="utf-8")
    assert cli_module.main(["meta-eval", spec, "-r", "refA", "-m", "chrf", "-o", str(tmp_path / "me")]) == 130
    said = capsys.readouterr().err.strip()
    assert said == f"xling: interrupted (finished work is kept in {kept}; run again to resume)"
    monkeypatch.setattr(xling.tasks.metaeval, "human_scores", interrupted)
    assert cli_module.main(["score", "--human", spec, "--human-reference", "refA", "-m", "comet", "-t", "de"]) == 130
    assert capsys.readouterr().err.strip() == "xling: interrupted"
    # a command after them in one process keeps its own note
    monkeypatch.setattr(cli_module.cli, "main", interrupted)
    assert cli_module.main(["translate", "-m", "tiny", "-s", "ko", "-t", "en", "안녕"]) == 130
    assert "kept in the cache" in capsys.readouterr().err


def test_a_near_miss_of_a_metric_template_or_experiment_key_is_suggested(tmp_path):
    """(audit round 23) language codes and commands got "did you mean", a metric (-m bleuu),
    a template (--template mt-chatt) or an experiment file's key (limt) only the whole list."""
    from xling.errors import XlingError
    from xling.metrics.registry import get
    from xling.prompts.templates import load_template
    from xling.runs.config import load_experiment

    with pytest.raises(XlingError, match=r"unknown metric 'bleuu' \(did you mean bleu\?\); known: "):
        get("bleuu")
    with pytest.raises(XlingError, match=r"unknown template 'mt-chatt' \(did you mean mt-chat\?\); known: "):
        load_template("mt-chatt")
    experiment = tmp_path / "e.yaml"
    experiment.write_text("task: mt\nmodel: m\nlimt: 2\n", encoding="utf-8")
    with pytest.raises(XlingError, match=r"unknown key 'limt' \(did you mean limit\?\); known keys: "):
        load_experiment(experiment)
    with pytest.raises(XlingError, match=r"unknown metric 'zzz'; known: "):   # nothing near: no guess
        get("zzz")


def test_a_ctrl_c_while_the_interpreter_ends_is_no_traceback():
    """(audit round 28) a Ctrl-C that came after the work was done and said, while the interpreter
    waited for a worker thread at exit, printed a KeyboardInterrupt traceback."""
    import signal
    import time

    code = ("import sys, threading, time\n"
            "threading.Thread(target=time.sleep, args=(30,)).start()   # (a worker the exit waits for)\n"
            "sys.argv = ['xling', 'langs']\n"
            "from xling.cli import run\n"
            "run()\n")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert child.stdout is not None
    first = child.stdout.readline()   # the command's own output: its work is done
    time.sleep(0.5)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert first and child.returncode == -signal.SIGINT, (child.returncode, err)
    assert b"Traceback" not in err and b"KeyboardInterrupt" not in err, err.decode()
