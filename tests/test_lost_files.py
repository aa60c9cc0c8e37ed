"""A user's files are never lost or overwritten (reliability round 3, cases 1, 2, 3, 10, 15, 17,
18): the output never reaches the input through a path trick, lock files never write through
links, --overwrite deletes only what xling's records say it wrote, variants stay inside OUT, and a
failed run leaves nothing that blocks the corrected one."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import assert_error, files_under, run_cli, write_corpus

from xling.runs.folder import RunDir

SOURCES = {"ko": ["저는 학생입니다.", "오늘 날씨가 좋네요.", "책을 읽고 있어요."],
           "en": ["I am a student.", "The weather is nice today.", "I am reading a book."]}


@pytest.fixture
def corpus(tmp_path) -> str:
    return write_corpus(tmp_path, SOURCES)


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "in.ko"
    path.write_text("\n".join(SOURCES["ko"]) + "\n", encoding="utf-8")
    return path


def translate(capsys, model, source, output):
    return run_cli(capsys, "translate", "-s", "ko", "-t", "en", "-m", model, "-i", source, "-o", output)


# -- case 1: the output reaches the input through a missing folder ------------------------------
@pytest.mark.parametrize("relative", [True, False], ids=["relative", "absolute"])
def test_an_output_through_a_missing_folder_never_replaces_the_input(tmp_path, capsys, monkeypatch,
                                                                      tiny_causal_base, source, relative):
    monkeypatch.chdir(tmp_path)
    before = source.read_bytes()
    output = "./nosuchdir/../in.ko" if relative else f"{tmp_path}/nosuchdir/../in.ko"
    code, _, err = translate(capsys, tiny_causal_base, "in.ko", output)
    assert_error(code, err, "folder")
    assert "does not exist" in err
    assert source.read_bytes() == before
    assert not (tmp_path / "nosuchdir").exists()


def test_an_output_that_is_the_input_by_another_path_is_refused(tmp_path, capsys, tiny_causal_base, source):
    (tmp_path / "sub").mkdir()
    before = source.read_bytes()
    code, _, err = translate(capsys, tiny_causal_base, source, tmp_path / "sub" / ".." / "in.ko")
    assert_error(code, err, "is the input file")
    assert source.read_bytes() == before


def test_an_output_that_is_the_file_on_standard_input_is_refused(tmp_path, tiny_causal_base, source):
    """(audit round 25) `-o in.ko < in.ko` replaced the source with its translation, exit 0; the
    same mistake spelt `-i in.ko -o in.ko` is refused."""
    from helpers import assert_one_line_error

    before = source.read_bytes()
    os.link(source, tmp_path / "same.ko")   # (another name of the same file: refused too)
    for output in (source, tmp_path / "same.ko"):
        with open(source, "rb") as stdin:
            result = subprocess.run([sys.executable, "-m", "xling.cli", "translate", "-s", "ko", "-t", "en",
                                     "-m", str(tiny_causal_base), "-o", str(output)], stdin=stdin,
                                    capture_output=True, timeout=300)
        assert_one_line_error(result, f"the output {output} is the input file {output} (read on standard input); "
                              "writing it would destroy the source")
        assert source.read_bytes() == before
    with open(source, "rb") as stdin:   # another output: translated
        result = subprocess.run([sys.executable, "-m", "xling.cli", "translate", "-s", "ko", "-t", "en",
                                 "-m", str(tiny_causal_base), "-o", str(tmp_path / "out.en")], stdin=stdin,
                                capture_output=True, timeout=300)
    assert result.returncode == 0, result.stderr.decode()
    assert (tmp_path / "out.en").read_text(encoding="utf-8").count("\n") == len(SOURCES["ko"])


# -- case 2: lock files that are links ----------------------------------------------------------
def _finished_run(capsys, tmp_path, model, corpus):
    out = tmp_path / "R"
    args = ["eval", "mt", "-p", "ko-en", "--limit", "3", "-m", model, "--data", corpus, "--out", out,
            "--metrics", "chrf"]
    code, _, err = run_cli(capsys, *args)
    assert code == 0, err
    return out, args


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_a_run_lock_that_is_a_link_never_writes_the_file_behind_it(tmp_path, capsys, tiny_causal_base,
                                                                   corpus, link):
    out, args = _finished_run(capsys, tmp_path, tiny_causal_base, corpus)
    mine = tmp_path / "thesis.txt"
    mine.write_text("my chapter\n", encoding="utf-8")
    (out / ".xling.lock").unlink()
    if link == "symlink":
        (out / ".xling.lock").symlink_to(mine)
    else:
        os.link(mine, out / ".xling.lock")
    code, _, err = run_cli(capsys, *args)
    assert_error(code, err, ".xling.lock")
    assert mine.read_text(encoding="utf-8") == "my chapter\n"


def test_an_output_lock_that_is_a_link_never_writes_the_file_behind_it(tmp_path, capsys, tiny_causal_base,
                                                                       source):
    mine = tmp_path / "thesis.txt"
    mine.write_text("my chapter\n", encoding="utf-8")
    (tmp_path / ".out.en.xling-lock").symlink_to(mine)
    code, _, err = translate(capsys, tiny_causal_base, source, tmp_path / "out.en")
    assert_error(code, err, "symbolic link")
    assert mine.read_text(encoding="utf-8") == "my chapter\n"
    assert not (tmp_path / "out.en").exists()


# -- case 18: the -o lock lives beside the output, whatever the cache ----------------------------
def test_two_writers_of_one_output_with_different_caches_are_kept_apart(tmp_path, capsys, tiny_causal_base,
                                                                        source):
    out = tmp_path / "out.en"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; from pathlib import Path; from xling.store.locks import output_lock\n"
         f"with output_lock(Path({str(out)!r})):\n    print('locked', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, env=dict(os.environ, XLING_CACHE=str(tmp_path / "another-cache")))
    try:
        assert holder.stdout.readline().strip() == b"locked"
        code, _, err = translate(capsys, tiny_causal_base, source, out)
        assert_error(code, err, "is being written by another xling process")
    finally:
        holder.kill()
        holder.wait()
    assert not out.exists()
    code, _, err = translate(capsys, tiny_causal_base, source, out)   # the lock died with its process
    assert code == 0, err
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []   # lock removed


# -- case 3: --overwrite deletes only what xling wrote -------------------------------------------
def test_overwrite_keeps_a_users_file_among_the_outputs(tmp_path, capsys, tiny_causal_base, corpus):
    out, args = _finished_run(capsys, tmp_path, tiny_causal_base, corpus)
    mine = out / "outputs" / "mine.jsonl"
    mine.write_text('{"my": "notes"}\n', encoding="utf-8")
    code, _, err = run_cli(capsys, *[a if a != "3" else "2" for a in args], "--overwrite")
    assert code == 0, err
    assert mine.read_text(encoding="utf-8") == '{"my": "notes"}\n'
    assert RunDir(out).directions() == ["ko-en"]               # not read as a direction either
    assert len(RunDir(out).read_outputs("ko-en")) == 2
    code, out_text, err = run_cli(capsys, "report", out)
    assert code == 0 and "mine" not in out_text, err


def test_overwrite_whose_new_run_fails_before_writing_gives_the_old_run_back(tmp_path, capsys, tiny_causal_base,
                                                                            corpus):
    """Round 14: --overwrite deleted the old outputs and metrics at once; a model that then failed
    to load left neither run (the README: a refused command leaves nothing behind)."""
    out, args = _finished_run(capsys, tmp_path, tiny_causal_base, corpus)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != ".xling.lock"}
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in tiny_causal_base.iterdir():
        if f.is_file() and not f.name.endswith(".safetensors"):
            (broken / f.name).write_bytes(f.read_bytes())
    (broken / "model.safetensors").write_bytes(b"garbage")
    code, _, err = run_cli(capsys, *[str(broken) if a == tiny_causal_base else a for a in args], "--overwrite")
    assert code != 0
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != ".xling.lock"}
    assert after == before
    # and once the new run writes, the old one is gone for good (nothing set aside is left)
    code, _, err = run_cli(capsys, *[a if a != "3" else "2" for a in args], "--overwrite")
    assert code == 0, err
    assert len(RunDir(out).read_outputs("ko-en")) == 2 and not (out / ".xling-overwritten").exists()


def test_an_overwrite_killed_while_setting_the_old_run_aside_gives_it_back(tmp_path, capsys, tiny_causal_base,
                                                                         corpus):
    """(the review of round 14) Killed after moving only some files aside, the next run took the
    old metrics.json left in place for the new run's, and deleted the outputs set aside."""
    out, args = _finished_run(capsys, tmp_path, tiny_causal_base, corpus)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != ".xling.lock"}
    aside = out / ".xling-overwritten"
    for moved in (["config.json"], ["outputs/ko-en.jsonl"]):   # killed setting it aside, or putting it back
        (aside / "outputs").mkdir(parents=True, exist_ok=True)
        for name in moved:
            (out / name).rename(aside / name)
        code, _, err = run_cli(capsys, *args)
        assert code == 0, err
        after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != ".xling.lock"}
        assert after == before


def test_an_overwrite_killed_while_deleting_the_old_run_never_puts_it_back(tmp_path, capsys, tiny_causal_base,
                                                                          corpus):
    """(audit round 18) The old run was deleted after the new run's first file was in place: killed
    in between, the next run put the old files back over the new run's. It is now renamed out of
    the way in one step before that file lands, and what a kill leaves of it is only deleted."""
    out, args = _finished_run(capsys, tmp_path, tiny_causal_base, corpus)
    old = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != ".xling.lock"}
    new_args = [a if a != "3" else "2" for a in args]
    code, _, err = run_cli(capsys, *new_args, "--overwrite")
    assert code == 0, err
    new = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != ".xling.lock"}
    assert new != old
    left = out / ".xling-overwritten-discarded"   # a kill halfway through deleting the old run
    for name, data in old.items():
        (left / name).parent.mkdir(parents=True, exist_ok=True)
        (left / name).write_bytes(data)
    code, _, err = run_cli(capsys, *new_args)
    assert code == 0, err
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != ".xling.lock"}
    assert after == new and len(RunDir(out).read_outputs("ko-en")) == 2


# -- case 15: a failed run pins no config ----------------------------------------------------------
def test_a_run_refused_for_its_settings_writes_no_folder(tmp_path, capsys, tiny_causal_base, data_dir):
    out = tmp_path / "R"
    # (WMT24++ few-shot, the refusal this used, now draws from FLORES dev: issue 25)
    code, _, err = run_cli(capsys, "eval", "mt", "--data", "flores200:devtest", "--data-dir", data_dir,
                           "--unit", "document", "-p", "en-ko", "--limit", "2", "-m", tiny_causal_base,
                           "--out", out)
    assert_error(code, err, "has no documents")
    assert not out.exists()
    code, _, err = run_cli(capsys, "eval", "mt", "--data", "wmt24pp:en-ko_KR", "--data-dir", data_dir,
                           "--limit", "2", "-m", tiny_causal_base, "--out", out, "--metrics", "chrf")
    assert code == 0, err


def test_a_folder_whose_run_wrote_no_output_takes_a_new_config(tmp_path, capsys, tiny_causal_base, corpus):
    out, args = _finished_run(capsys, tmp_path, tiny_causal_base, corpus)
    (out / "outputs" / "ko-en.jsonl").unlink()       # as a run stopped before its first output
    (out / "metrics.json").unlink()
    code, _, err = run_cli(capsys, *[a if a != "3" else "2" for a in args])
    assert code == 0, err
    assert RunDir(out).read_config()["settings"]["limit"] == 2
    # A folder that does hold outputs still needs --overwrite.
    code, _, err = run_cli(capsys, *args)
    assert_error(code, err, "holds a run with a different config")


# -- case 10: variants stay inside OUT --------------------------------------------------------------
@pytest.mark.parametrize("name", ["../x", "ABSOLUTE", "''", ".", ".hidden", "a/b"])
def test_a_variant_name_that_is_a_path_is_refused(tmp_path, capsys, corpus, tiny_causal_base, name):
    elsewhere = tmp_path / "elsewhere"          # an absolute variant name would run there
    name = name.replace("ABSOLUTE", str(elsewhere))
    experiment = tmp_path / "x.yaml"
    experiment.write_text(f"data: '{corpus}'\npairs: [ko-en]\nout: {tmp_path / 'OUT'}\nmodel: {tiny_causal_base}\n"
                          f"metrics: [chrf]\nvariants:\n  {name}: {{limit: 1}}\n", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = run_cli(capsys, "run", experiment)
    assert_error(code, err, "must be a plain folder name")
    assert "line 7" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("bad, message", [("metrics: [blue]", "unknown metric 'blue'"),
                                          ("template: no-such-template", "no-such-template"),
                                          ("shots_file: shots.tsv", "shots is 0")])
def test_a_bad_later_variant_fails_before_the_first_one_runs(tmp_path, capsys, corpus, tiny_causal_base, bad,
                                                             message):
    """(audit round 18) Variants were checked one at a time: a bad last one failed after the
    others had translated, been scored and written."""
    experiment = tmp_path / "x.yaml"
    experiment.write_text(f"data: '{corpus}'\npairs: [ko-en]\nout: {tmp_path / 'OUT'}\nmodel: {tiny_causal_base}\n"
                          f"metrics: [chrf]\nlimit: 1\nvariants:\n  first: {{}}\n  second: {{{bad}}}\n",
                          encoding="utf-8")
    code, _, err = run_cli(capsys, "run", experiment)
    assert_error(code, err, message)
    assert not (tmp_path / "OUT").exists()


def test_a_metric_setting_no_metric_of_the_run_reads_is_said(tmp_path, capsys, corpus, tiny_causal_base):
    """(audit round 18) --comet-model without comet among the metrics exited 0 without a word:
    who meant to add COMET got none."""
    code, _, err = run_cli(capsys, "eval", "mt", "-p", "ko-en", "--limit", "1", "-m", tiny_causal_base,
                           "--data", corpus, "--out", tmp_path / "R", "--metrics", "chrf", "--comet-model", "my/comet")
    assert code == 0, err
    assert "xling: warning: comet_model set, and read by none of this run's metrics (chrf): unused" in err


def test_a_key_given_twice_in_an_experiment_is_refused(tmp_path, capsys, corpus):
    experiment = tmp_path / "x.yaml"
    experiment.write_text(f"data: '{corpus}'\npairs: [ko-en]\nout: {tmp_path / 'OUT'}\n"
                          "variants:\n  a: {limit: 1}\n  a: {limit: 2}\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "run", experiment)
    assert_error(code, err, "line 6: key 'a' is given twice (first on line 5)")
    experiment.write_text("limit: 1\nseed: 0\nlimit: 2\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "run", experiment)
    assert_error(code, err, "line 3: key 'limit' is given twice")
    assert not (tmp_path / "OUT").exists()


def test_a_typo_in_the_shared_settings_is_named_as_such(tmp_path, capsys, corpus):
    experiment = tmp_path / "x.yaml"
    experiment.write_text(f"data: '{corpus}'\npairs: [ko-en]\nout: {tmp_path / 'OUT'}\nlimt: 3\n"
                          "variants:\n  a: {limit: 1}\n  b:\n    limt: 2\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "run", experiment)
    line = assert_error(code, err, "line 4: unknown key 'limt' in the shared settings")
    assert ", variant " not in line     # not blamed on a variant (the known keys hold batch_invariant)
    experiment.write_text(f"data: '{corpus}'\npairs: [ko-en]\nout: {tmp_path / 'OUT'}\n"
                          "variants:\n  a: {limit: 1}\n  b:\n    limt: 2\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "run", experiment)
    assert_error(code, err, "variant b, line 7: unknown key 'limt'")


# -- case 17: --out that cannot be a folder ---------------------------------------------------------
def test_out_on_a_link_loop_or_a_device_is_named_for_what_it_is(tmp_path, capsys, corpus, tiny_causal_base):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    base = ["eval", "mt", "-p", "ko-en", "-m", tiny_causal_base, "--data", corpus]
    code, _, err = run_cli(capsys, *base, "--out", loop)
    assert_error(code, err, "symbolic link that leads nowhere")
    code, _, err = run_cli(capsys, *base, "--out", "/dev/full")
    line = assert_error(code, err, "/dev/full is a terminal or device, not a folder")
    assert "a file" not in line
    assert files_under(tmp_path).keys() == {"corpus.ko", "corpus.en"}


# -- reliability round 4: -o against every file and folder the command reads --------------------
def test_an_output_that_is_the_template_is_refused(tmp_path, capsys, tiny_causal_base, source):
    from xling.prompts.templates import BUILTIN_DIR as BUILTIN

    template = tmp_path / "t.yaml"
    template.write_text((BUILTIN / "mt-completion.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    before = template.read_bytes()
    code, _, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "-m", tiny_causal_base, "-i", source,
                           "--template", template, "-o", template)
    assert_error(code, err, "is the input file")
    assert template.read_bytes() == before


def test_an_output_that_is_the_api_key_file_is_refused(tmp_path, capsys, source):
    key = tmp_path / "key.txt"
    key.write_text("sk-local-secret\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "-m", "some-model", "-i", source,
                           "--backend", "http", "--base-url", "http://127.0.0.1:9/v1", "--api-key-file", key,
                           "-o", key)
    assert_error(code, err, "is the input file")
    assert key.read_text(encoding="utf-8") == "sk-local-secret\n"


def test_an_output_inside_the_model_folder_is_refused(tmp_path, capsys, tiny_causal_base, source):
    import shutil

    model = tmp_path / "model"
    shutil.copytree(tiny_causal_base, model)
    before = files_under(model)
    for output in (model / "tokenizer_config.json", model / "new.txt"):
        code, _, err = translate(capsys, model, source, output)
        assert_error(code, err, "inside")
    assert files_under(model) == before


def test_a_report_output_is_written_through_a_link_never_over_a_device_and_keeps_its_permissions(tmp_path, capsys):
    """`report -o` replaced a device node or a link with a regular file (as root: /dev/null),
    and any replaced output became world-readable; `-o -` wrote a file named "-"."""
    import shutil
    from pathlib import Path

    run = tmp_path / "mt"
    shutil.copytree(Path(__file__).parent / "data" / "run_before_registries" / "mt", run)
    private = tmp_path / "private.md"
    private.write_text("old\n")
    private.chmod(0o600)
    (tmp_path / "link.md").symlink_to(private)
    code, out, err = run_cli(capsys, "report", str(run), "-f", "markdown", "-o", str(tmp_path / "link.md"))
    assert code == 0, err
    assert (tmp_path / "link.md").is_symlink() and "BLEU" in private.read_text()
    assert private.stat().st_mode & 0o777 == 0o600
    os.mkfifo(tmp_path / "fifo")
    code, _, err = run_cli(capsys, "report", str(run), "-o", str(tmp_path / "fifo"))
    assert_error(code, err, "it is a FIFO")
    code, out, err = run_cli(capsys, "report", str(run), "-o", "-")
    assert code == 0 and "BLEU" in out and not Path("-").exists()
    code, _, err = run_cli(capsys, "report", str(tmp_path), "-f", "html", "-o", str(tmp_path / "r.html"))
    assert_error(code, err, "is not a run folder")


def test_a_refused_run_leaves_no_folder_it_made_on_the_way(tmp_path):
    """A run refused after its folder was claimed removed the folder, not the parents made for it."""
    (tmp_path / "kept").mkdir()
    run = RunDir(tmp_path / "kept" / "deep" / "a" / "run").claim()
    assert run.path.is_dir()
    run.release()
    assert [p.name for p in tmp_path.rglob("*")] == ["kept"]


def test_a_template_file_named_another_way_resumes_the_run(tmp_path, capsys, monkeypatch, tiny_causal_base, corpus):
    """The same template file given relative, then absolute, was "a different config"."""
    builtin = Path(__file__).parent.parent / "xling" / "prompts" / "builtin" / "mt-completion.yaml"
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "mine.yaml").write_text(builtin.read_text(encoding="utf-8").replace(
        "name: mt-completion", "name: mine"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    args = ["eval", "mt", "-p", "ko-en", "--limit", "2", "-m", tiny_causal_base, "--data", corpus, "--out",
            tmp_path / "R", "--metrics", "chrf"]
    code, _, err = run_cli(capsys, *args, "--template", "tpl/mine.yaml")
    assert code == 0, err
    code, _, err = run_cli(capsys, *args, "--template", str(tmp_path / "tpl" / "mine.yaml"))
    assert code == 0, err


def test_an_output_inside_xlings_own_cache_is_refused(tmp_path, capsys, tiny_causal_base, source, monkeypatch):
    """(audit round 21) -o over the cache's database replaced it (every cached translation set
    aside as corrupt on the next run), and over a converted model's config.json broke every later
    run; neither folder is one the command reads as an input, so neither was refused."""
    cache, models = tmp_path / "cache", tmp_path / "models"
    monkeypatch.setenv("XLING_CACHE", str(cache))
    monkeypatch.setenv("XLING_MODEL_CACHE", str(models))
    assert translate(capsys, tiny_causal_base, source, tmp_path / "out.txt")[0] == 0
    (models / "converted").mkdir(parents=True)
    (models / "converted" / "config.json").write_text("{}", encoding="utf-8")
    before = files_under(cache), files_under(models)
    assert any(name.endswith(".sqlite") for name in before[0])
    databases = [cache / name for name in before[0] if name.endswith(".sqlite")]
    for output in databases + [models / "converted" / "config.json"]:
        code, _, err = translate(capsys, tiny_causal_base, source, output)
        assert_error(code, err, "choose an output outside it")
    assert (files_under(cache), files_under(models)) == before
    # (the review) only xling's own files: a cache root set to a broad folder still takes outputs
    monkeypatch.setenv("XLING_CACHE", str(tmp_path))
    assert translate(capsys, tiny_causal_base, source, tmp_path / "out2.txt")[0] == 0


# -- audit round 24 ------------------------------------------------------------------------------
def _killed_while_writing(target: Path) -> None:
    """A real process killed (SIGKILL) in the middle of atomic_writer's write of `target`."""
    code = ("import os, signal\nfrom xling.data.textio import atomic_writer\n"
            f"with atomic_writer({str(target)!r}) as handle:\n"
            "    handle.write('half of the output\\n'); handle.flush(); os.kill(os.getpid(), signal.SIGKILL)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert done.returncode == -9, done.stderr


def test_a_translate_killed_while_writing_leaves_no_temporary_file_after_the_next_run(tmp_path, capsys,
                                                                                       tiny_causal_base, source):
    """(audit round 24, 1) `.out.en.XXXXXXXX.partial` of a killed `translate -o out.en` stayed for
    good; the next run to that output removes it, and nothing of another file's."""
    out = tmp_path / "out.en"
    out.write_text("old\n", encoding="utf-8")
    _killed_while_writing(out)
    _killed_while_writing(tmp_path / "out.en2")    # another output's temporary file
    left = sorted(p.name for p in tmp_path.glob(".out.en.*.partial"))
    assert len(left) == 1 and out.read_text(encoding="utf-8") == "old\n"
    mine = [tmp_path / name for name in (".out.en.mine.partial", ".out.en.notes.txt.partial", "out.en.partial")]
    for path in mine:
        path.write_text("mine\n", encoding="utf-8")
    others = {p.name for p in tmp_path.iterdir() if p.is_file()}
    code, _, err = translate(capsys, tiny_causal_base, source, out)
    assert code == 0, err
    assert not (tmp_path / left[0]).exists()
    assert out.read_text(encoding="utf-8") != "old\n"
    assert all(path.read_text(encoding="utf-8") == "mine\n" for path in mine)
    assert [p.name for p in tmp_path.glob(".out.en2.*.partial")]   # not this output's: kept
    assert {p.name for p in tmp_path.iterdir() if p.is_file()} == others - {left[0]}


@pytest.mark.parametrize("length", [237, 240, 245, 255])
def test_any_output_name_the_os_takes_can_be_written(tmp_path, capsys, tiny_causal_base, source, length):
    """(audit round 24, 2) names of 238-255 characters failed "File name too long": the lock and
    temporary file names added characters (238-243 only after the whole translation)."""
    from xling.data.textio import atomic_writer
    from xling.store.locks import output_lock_path

    out = tmp_path / ("b" * (length - 3) + ".en")
    out.write_text("old\n", encoding="utf-8")   # a name the OS takes
    code, _, err = translate(capsys, tiny_causal_base, source, out)
    assert code == 0, err
    assert out.read_text(encoding="utf-8") != "old\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == sorted(["in.ko", out.name])
    _killed_while_writing(out)        # its temporary file, under a shortened name, is found again
    assert len(list(tmp_path.glob(".*.partial"))) == 1
    assert translate(capsys, tiny_causal_base, source, out)[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == sorted(["in.ko", out.name])
    with atomic_writer(tmp_path / ("é" * 127)) as handle:   # (the limit is in bytes: 254 here)
        handle.write("x")
    # short names keep the helper names they always had (a stale lock of an older xling is found)
    assert output_lock_path(tmp_path / "out.en").name == ".out.en.xling-lock"
    assert len(output_lock_path(out).name) <= 255


def test_the_same_data_named_another_way_resumes_the_run(tmp_path, capsys, monkeypatch, tiny_causal_base):
    """(audit round 24, 3) text:corp/x.{lang}, text:./corp/x.{lang} and the absolute path were
    "a different config (differs in: data)": a run moved with its data could not go on."""
    import shutil

    (tmp_path / "a" / "corp").mkdir(parents=True)
    write_corpus(tmp_path / "a" / "corp", SOURCES)
    monkeypatch.chdir(tmp_path / "a")
    args = ["eval", "mt", "-p", "ko-en", "-m", tiny_causal_base, "--metrics", "chrf", "--out", "R"]
    code, _, err = run_cli(capsys, *args, "--data", "text:corp/corpus.{lang}")
    assert code == 0, err
    for spec in ("text:./corp/corpus.{lang}", f"text:{tmp_path}/a/corp/corpus.{{lang}}", "text:corp//corpus.{lang}"):
        code, _, err = run_cli(capsys, *args, "--data", spec)
        assert code == 0, (spec, err)
    shutil.copytree(tmp_path / "a", tmp_path / "moved")   # the run and its data, elsewhere
    monkeypatch.chdir(tmp_path / "moved")
    code, _, err = run_cli(capsys, *args, "--data", f"text:{tmp_path}/moved/corp/corpus.{{lang}}")
    assert code == 0, err
    # really other data: still refused, both spellings named (the same texts elsewhere too: the
    # digest leaves out what a jsonl file says of its segments, review E of round 24)
    (tmp_path / "other").mkdir()
    write_corpus(tmp_path / "other", {"ko": SOURCES["ko"][::-1], "en": SOURCES["en"][::-1]})
    shutil.copytree(tmp_path / "moved" / "corp", tmp_path / "same")
    for spec in ("text:../other/corpus.{lang}", "text:../same/corpus.{lang}"):
        code, _, err = run_cli(capsys, *args, "--data", spec)
        assert_error(code, err, "differs in: data;")
        assert f"{spec} now" in err and "text:corp/corpus.{lang} in the run" in err
    # another kind of data over files with the same texts is another data set
    (tmp_path / "moved" / "corp" / "all.jsonl").write_text("".join(
        f'{{"ko": "{k}", "en": "{e}"}}\n' for k, e in zip(SOURCES["ko"], SOURCES["en"])), encoding="utf-8")
    code, _, err = run_cli(capsys, *args, "--data", "jsonl:corp/all.jsonl")
    assert_error(code, err, "differs in: data")


@pytest.mark.parametrize("how", ["removed", "moved"])
def test_a_run_whose_folder_was_removed_never_writes_into_the_run_now_there(tmp_path, how):
    """Round 25: a run kept writing by path after its folder was removed (or moved), into the
    folder a second run made at that path since: the second run's folder showed the first run's
    outputs and scores under its own config, and both exited 0."""
    import json
    import shutil

    from xling.errors import XlingError
    from xling.runs.folder import RunHeader

    def header(tokens):
        return RunHeader("mt", {"max_new_tokens": tokens}, {"data": "x"}, ["ko-en"],
                         model={"model": "hand", "revision": "0"})

    path = tmp_path / "run"
    first = RunDir(path)
    first.prepare(header(200))
    if how == "removed":
        shutil.rmtree(path)
    else:
        path.rename(tmp_path / "old")
    second = RunDir(path)
    second.prepare(header(8))
    second.write_outputs("ko-en", [{"id": "1", "output": "short"}])
    second.write_metrics({"directions": {"ko-en": {"bleu": 1.0}}})
    second.release()
    kept = files_under(path)
    for write in (lambda: first.write_outputs("ko-en", [{"id": "1", "output": "long " * 50}]),
                  lambda: first.write_metrics({"directions": {"ko-en": {"bleu": 9.0}}})):
        with pytest.raises(XlingError, match="was removed or moved while this run was writing it"):
            write()
    # (review) nor does it prepare there (--overwrite would set the other run's files aside and
    # put older ones back), nor tidy the path away when it ends
    with pytest.raises(XlingError, match="was removed or moved while this run was writing it"):
        first.prepare(header(200), overwrite=True)
    first.release()
    assert files_under(path) == kept
    assert json.loads((path / "config.json").read_text())["identity"] == {"max_new_tokens": 8}
    made = RunDir(tmp_path / "made").claim()   # a folder it made and never used goes when it ends...
    shutil.rmtree(tmp_path / "made")
    other = RunDir(tmp_path / "made").claim()
    made.release()                             # ...but not the one another run made there since
    other.prepare(header(8))
    other.release()
    assert (tmp_path / "made" / "config.json").is_file()
