"""Every file xling writes, damaged in every way: each command that reads it recovers (and says
so) or prints one line and exits 2 — never a traceback, never a silently wrong number.

Commands run in-process through the CLI's own `main`, so an unexpected exception fails the test
with its traceback. A full disk and read-only folders use small tmpfs mounts (tests run as root
in CI); elsewhere they are skipped with the reason."""
import contextlib
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from xling.cli import main

SOURCES = {"ko": ["저는 학생입니다.", "오늘 날씨가 좋네요.", "책을 읽고 있어요."],
           "en": ["I am a student.", "The weather is nice today.", "I am reading a book."]}


def truncate(path: Path):
    data = path.read_bytes()
    path.write_bytes(data[:random.Random(len(data)).randrange(1, len(data))])


def garbage(path: Path):
    path.write_bytes(bytes(random.Random(7).randrange(256) for _ in range(3000)))


def wrong_type(path: Path):
    path.write_text("[1, 2, 3]\n", encoding="utf-8")


def empty(path: Path):
    path.write_bytes(b"")


def zeroed(path: Path):
    path.write_bytes(b"\0" * path.stat().st_size)


DAMAGES = [truncate, garbage, wrong_type, empty]


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_clean(code, err, *, expect=None):
    """Exit 0, or exit 2 whose last stderr line is the one error line; no traceback ever."""
    assert "Traceback" not in err
    assert code in (0, 2), err
    if expect is not None:
        assert code == expect, err
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines[-1].startswith("xling: error: "), err
        assert sum(line.startswith("xling: error: ") for line in lines) == 1, err
    return code


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, tiny_causal_base):
    """A finished two-direction run, its report, and the files it was made from."""
    root = tmp_path_factory.mktemp("finished")
    for lang, lines in SOURCES.items():
        (root / f"corpus.{lang}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["eval", "mt", "--langs", "ko,en", "-m", tiny_causal_base, "--data",
            f"text:{root}/corpus.{{lang}}", "--metrics", "bleu,chrf", "--out", root / "run"]
    cache = root / "cache"
    with _env(XLING_CACHE=str(cache)):
        assert main([str(a) for a in args]) == 0
        assert main(["report", str(root / "run")]) == 0
    return root, args


@contextlib.contextmanager
def _env(**values):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def run_copy(finished_run, tmp_path, capsys):
    """A private copy of the finished run (and of its cache), and its report as printed."""
    root, args = finished_run
    shutil.copytree(root / "run", tmp_path / "run")
    shutil.copytree(root / "cache", tmp_path / "xling-cache", dirs_exist_ok=True)
    capsys.readouterr()
    code, report, _ = run_cli(capsys, "report", tmp_path / "run")
    assert code == 0
    args = [a if a != root / "run" else tmp_path / "run" for a in args]
    return tmp_path / "run", args, report


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda d: d.__name__)
def test_damaged_config(run_copy, capsys, damage):
    run, args, _ = run_copy
    damage(run / "config.json")
    for command in (["report", run], ["rescore", run, "-m", "chrf"], ["figures", "-r", run, "-o", run.parent / "f"],
                    ["transfer", run], args):
        code, _, err = run_cli(capsys, *command)
        assert_clean(code, err, expect=2)
        assert "config.json" in err
    code, _, err = run_cli(capsys, *args, "--overwrite")   # a marked run can be replaced
    assert_clean(code, err, expect=0)


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda d: d.__name__)
def test_damaged_metrics(run_copy, capsys, damage):
    run, args, report = run_copy
    damage(run / "metrics.json")
    for command in (["report", run], ["transfer", run]):
        code, _, err = run_cli(capsys, *command)
        assert_clean(code, err, expect=2)
    code, _, err = run_cli(capsys, "rescore", run, "-m", "bleu,chrf")
    assert_clean(code, err, expect=0)
    assert "warning" in err and "recomputing" in err
    assert run_cli(capsys, "report", run)[1] == report          # the same numbers as before
    damage(run / "metrics.json")
    code, out, err = run_cli(capsys, *args)                     # a re-run recovers too
    assert_clean(code, err, expect=0)
    assert out == report


def test_an_infinite_score_is_damage_not_a_number(run_copy, capsys):
    """An edited metrics.json holding Infinity was printed as "inf", exit 0, no warning."""
    import re

    run, _, _ = run_copy
    text = (run / "metrics.json").read_text(encoding="utf-8")
    (run / "metrics.json").write_text(re.sub(r'"score": [-\d.e]+', '"score": Infinity', text, count=1),
                                      encoding="utf-8")
    code, out, err = run_cli(capsys, "report", run)
    assert_clean(code, err, expect=2)
    assert "metrics.json" in err and "inf" not in out


def test_deleted_metrics_are_not_an_empty_report(run_copy, capsys):
    run, _, _ = run_copy
    (run / "metrics.json").unlink()
    code, _, err = run_cli(capsys, "report", run)
    assert_clean(code, err, expect=2)
    assert "missing" in err and "xling rescore" in err


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda d: d.__name__)
def test_damaged_outputs(run_copy, capsys, damage):
    run, args, report = run_copy
    damage(run / "outputs" / "ko-en.jsonl")
    for command in (["report", run], ["rescore", run, "-m", "chrf"], ["report", run, run]):
        code, _, err = run_cli(capsys, *command)
        assert_clean(code, err, expect=2)
        assert "ko-en" in err and "xling rescore" not in err   # rescoring cannot mend them
    code, out, err = run_cli(capsys, *args)          # re-running rewrites them from the cache
    assert_clean(code, err, expect=0)
    assert out == report


def test_edited_outputs_are_never_shown_with_their_old_metrics(run_copy, capsys):
    import json

    run, _, _ = run_copy
    path = run / "outputs" / "ko-en.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    records[0]["output"] = records[0]["output"] + " edited"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    for command in (["report", run], ["transfer", run], ["figures", "-r", run, "-o", run.parent / "f"]):
        code, _, err = run_cli(capsys, *command)
        assert_clean(code, err, expect=2)
        assert "older than its outputs" in err and "xling rescore" in err


def test_outputs_cut_at_a_line_boundary_never_show_old_metrics(run_copy, capsys):
    run, _, _ = run_copy
    path = run / "outputs" / "ko-en.jsonl"
    path.write_text("".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:2]), encoding="utf-8")
    for command in (["report", run], ["rescore", run, "-m", "chrf"]):
        code, _, err = run_cli(capsys, *command)
        assert_clean(code, err, expect=2)
        assert "ko-en" in err


@pytest.mark.parametrize("damage", [truncate, garbage, zeroed], ids=lambda d: d.__name__)
def test_damaged_cache_is_moved_aside(run_copy, tmp_path, capsys, damage, tiny_causal_base):
    cache = tmp_path / "xling-cache" / "outputs.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(f"{cache}{suffix}").unlink(missing_ok=True)
    command = ["translate", "-s", "ko", "-t", "en", "-m", tiny_causal_base, "안녕하세요"]
    truth = run_cli(capsys, *command, "--no-cache")[1]
    damage(cache)
    code, out, err = run_cli(capsys, *command)
    assert_clean(code, err, expect=0)
    assert out == truth                        # never an answer read from a damaged file
    if damage is not truncate:                 # (a truncated database may just miss keys)
        assert "was damaged" in err
        assert list(cache.parent.glob("outputs.sqlite.corrupt-*"))
    code, again, err = run_cli(capsys, *command)
    assert again == truth and "warning" not in err             # the fresh cache works


def test_a_second_store_finding_damage_keeps_the_first_ones_fresh_cache(tmp_path, capsys, monkeypatch):
    """(audit round 22) Two processes open one damaged cache; the first moves it aside, starts a
    fresh one and stores in it; the second, slower, then moved the fresh one aside as damaged
    (its rows, and their -wal, lost). Here the first recovers inside the second's window."""
    from xling.store.cache import KeyValueStore, OutputCache

    path = tmp_path / "outputs.sqlite"
    garbage(path)
    move_aside, first = KeyValueStore._move_aside, []

    def first_process_is_faster(store, exc):
        if not first:   # the second store found the damage: the first one recovers before it moves
            first.append(None)
            first[0] = OutputCache(path)
            first[0].put_many({"a": "kept"})
        move_aside(store, exc)

    monkeypatch.setattr(KeyValueStore, "_move_aside", first_process_is_faster)
    second = OutputCache(path)
    second.put_many({"b": "kept too"})
    assert len(list(tmp_path.glob("outputs.sqlite.corrupt-*"))) == 1
    assert second.get_many(["a", "b"]) == first[0].get_many(["a", "b"]) == {"a": "kept", "b": "kept too"}
    assert capsys.readouterr().err.count("was damaged") == 1


def test_damaged_figures_are_rewritten(tmp_path, capsys):
    code, _, err = run_cli(capsys, "figures", "-o", tmp_path / "f")
    assert_clean(code, err, expect=0)
    before = {p.name: p.read_bytes() for p in (tmp_path / "f").iterdir()}
    for damage, path in zip(DAMAGES, sorted((tmp_path / "f").iterdir())):
        damage(path)
    assert run_cli(capsys, "figures", "-o", tmp_path / "f")[0] == 0
    assert {p.name: p.read_bytes() for p in (tmp_path / "f").iterdir()} == before


def test_outputs_and_out_folders_that_are_files(tmp_path, capsys, tiny_causal_base):
    existing = tmp_path / "a-file"
    existing.write_text("mine\n", encoding="utf-8")
    for command in (["eval", "mt", "--langs", "ko,en", "-m", tiny_causal_base, "--out", existing],
                    ["figures", "-o", existing]):
        code, _, err = run_cli(capsys, *command)
        assert_clean(code, err, expect=2)
    assert existing.read_text(encoding="utf-8") == "mine\n"


# -- read-only folders and a full disk (tmpfs mounts, as root) ------------------------------------
@pytest.fixture
def mount(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    made = []

    def make(name: str, size: str = "256k", read_only: bool = False) -> Path:
        point = tmp_path / name
        point.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)]).returncode:
            pytest.skip("this machine does not allow mounting a tmpfs")
        made.append(point)
        return point

    def fill(point: Path):
        with open(point / "filler", "wb", buffering=0) as handle:
            with contextlib.suppress(OSError):
                while True:
                    handle.write(b"\0" * 4096)

    def read_only(point: Path):
        subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)

    yield make, fill, read_only
    for point in made:
        subprocess.run(["umount", "-l", str(point)])


def test_full_disk_and_read_only_outputs(mount, tmp_path, capsys, tiny_causal_base, run_copy):
    make, fill, read_only = mount
    _, args, _ = run_copy
    full, locked = make("full"), make("ro")
    fill(full)
    read_only(locked)
    source = tmp_path / "in.ko"
    source.write_text("안녕하세요\n", encoding="utf-8")
    translate = ["translate", "-s", "ko", "-t", "en", "-m", tiny_causal_base, "-i", source]
    for folder in (full, locked):
        code, _, err = run_cli(capsys, *translate, "-o", folder / "out.en")
        assert_clean(code, err, expect=2)
        assert str(folder) in err
        assert not (folder / "out.en").exists() and not list(folder.glob(".*partial"))
        out = [a if a != args[-1] else folder / "run" for a in args]
        code, _, err = run_cli(capsys, *out)
        assert_clean(code, err, expect=2)
        code, _, err = run_cli(capsys, "figures", "-o", folder / "figs")
        assert_clean(code, err, expect=2)


def test_a_run_folder_that_cannot_be_claimed_leaves_no_folders(mount):
    """(audit round 22) On a full disk the lock's pid cannot be written: the claim failed with one
    line, and left the empty folders it had made (full/deep/run)."""
    from xling.errors import XlingError
    from xling.runs.folder import RunDir

    make, fill, _ = mount
    full = make("full")
    fill(full)
    with pytest.raises(XlingError, match="^cannot write the run folder .*deep/run: No space left on device$"):
        RunDir(full / "deep" / "run").claim()
    assert sorted(p.name for p in full.iterdir()) == ["filler"]


def test_a_cache_that_cannot_be_written_is_skipped_with_one_warning(mount, capsys, tiny_causal_base):
    make, fill, read_only = mount
    for name, spoil in (("full-cache", fill), ("ro-cache", read_only)):
        folder = make(name)
        spoil(folder)
        with _env(XLING_CACHE=str(folder)):
            code, out, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "-m", tiny_causal_base,
                                     "안녕하세요")
        assert_clean(code, err, expect=0)
        assert out.strip() and err.count("warning") == 1 and ("without" in err or "nothing new is kept" in err)


def test_a_cache_on_a_full_disk_is_one_warning_that_says_so(mount, capsys, tmp_path):
    """(audit round 22) With a few KB left, the digest store failed with sqlite's "disk I/O error"
    (it cannot make its -shm file) and the outputs store with "database or disk is full": two
    warnings, the first pointing at failing hardware."""
    from xling.store.cache import OutputCache
    from xling.store.filehash import file_digest

    make, fill, _ = mount
    folder = make("nearly-full", size="2m")
    fill(folder)
    with open(folder / "filler", "r+b") as filler:   # 8 KB free: less than a database needs
        filler.truncate(filler.seek(0, os.SEEK_END) - 8192)
    hashed = tmp_path / "in.ko"
    hashed.write_text("안녕하세요\n", encoding="utf-8")
    with _env(XLING_CACHE=str(folder / "cache")):
        file_digest(hashed)
        cache = OutputCache()
        cache.put_many({"k": "v"})
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and "cannot be used (the disk is full)" in err, err
    assert "I/O" not in err


def test_a_read_only_cache_is_said_once_whatever_the_model_files_and_a_file_is_named(mount, capsys, tmp_path,
                                                                                   tiny_causal_base):
    """Round 16: a disabled digest store was falsy (its row count 0), so each weight file hashed
    opened it again and warned again (five lines for five files); an XLING_CACHE that is a file
    said "cannot be used (File exists)"."""
    import shutil

    model = tmp_path / "model"       # a folder this process has not digested, with several files
    shutil.copytree(tiny_causal_base, model)
    for k in range(3):
        (model / f"extra{k}.bin").write_bytes(os.urandom(64))
    folder = mount[0]("ro-cache-2")
    mount[2](folder)
    with _env(XLING_CACHE=str(folder)):
        code, out, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "-m", model, "안녕하세요")
    assert_clean(code, err, expect=0)
    # (audit round 20) one line for the folder, which says what both its stores lose, and why
    assert err.count("warning") == 1 and "is not writable" in err and "not kept for a resume" in err
    afile = tmp_path / "afile"
    afile.write_text("")
    with _env(XLING_CACHE=str(afile)):
        code, out, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "-m", tiny_causal_base, "안녕하세요")
    assert_clean(code, err, expect=0)
    assert f"{afile} is a file, not a folder" in err and "File exists" not in err


def test_a_record_cut_inside_a_character_is_named_with_its_line(run_copy, capsys):
    run, _, _ = run_copy
    path = run / "outputs" / "ko-en.jsonl"
    data = path.read_bytes()
    cut = data.index("학".encode()) + 1                 # inside a Hangul syllable's bytes
    path.write_bytes(data[:cut])
    code, _, err = run_cli(capsys, "rescore", run, "-m", "chrf")
    assert_clean(code, err, expect=2)
    assert "ko-en.jsonl, line 1: damaged record" in err


def test_a_model_folder_that_cannot_be_written_is_one_line(mount, capsys):
    make, _, read_only = mount
    folder = make("models")
    read_only(folder)
    with _env(XLING_MODEL_CACHE=str(folder), XLING_MODEL=""):
        code, _, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "안녕하세요")
    assert_clean(code, err, expect=2)
    assert "cannot write the converted embedded model" in err and "XLING_MODEL_CACHE" in err


@pytest.mark.parametrize("damage", [truncate, garbage, zeroed], ids=lambda d: d.__name__)
def test_damaged_weight_digest_store_is_moved_aside(tmp_path, capsys, damage, tiny_causal_base):
    from xling.store import filehash

    command = ["translate", "-s", "ko", "-t", "en", "-m", tiny_causal_base, "--no-cache", "안녕하세요"]
    filehash._memory.clear()                         # digests are computed (and stored) afresh
    truth = run_cli(capsys, *command)[1]
    store = tmp_path / "xling-cache" / "file-digests.sqlite"
    for open_store in filehash._stores.values():
        open_store.close()
    filehash._stores.clear()
    filehash._memory.clear()
    for suffix in ("-wal", "-shm"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)
    damage(store)
    code, out, err = run_cli(capsys, *command)
    assert_clean(code, err, expect=0)
    assert out == truth
    if damage is not truncate:
        assert "was damaged" in err and list(store.parent.glob("file-digests.sqlite.corrupt-*"))


@pytest.mark.parametrize("damage", [garbage, empty], ids=lambda d: d.__name__)
def test_a_damaged_lock_file_does_not_block_the_run(run_copy, capsys, damage):
    run, args, report = run_copy
    (run / ".xling.lock").write_bytes(b"")
    damage(run / ".xling.lock")
    code, out, err = run_cli(capsys, *args)
    assert_clean(code, err, expect=0)
    assert out == report


# -- every number a user can give: nan, inf, negative, zero and huge ------------------------------
# (reliability round 3, cases 4 and 8). Each numeric option of each command gets each value; the
# command ends in its result or in one error line — never a traceback, never a hang — and a
# refused value writes nothing. The options are found by walking the CLI, so a new one is covered.
INT_VALUES = ["nan", "inf", "-1", "0", str(10 ** 12)]
FLOAT_VALUES = ["nan", "inf", "-inf", "-1", "0", "1e300"]


def _numeric_options(*path: str) -> list[tuple[str, list[str]]]:
    import click

    from xling.cli import BatchSize, Bounded, cli

    command = cli
    for name in path:
        command = command.commands[name]
    found = []
    for param in command.params:
        if not isinstance(param, click.Option) or param.is_flag:
            continue
        kind = param.type
        if isinstance(kind, (Bounded, BatchSize, click.types.IntParamType, click.types.FloatParamType)):
            floats = isinstance(kind, click.types.FloatParamType) or getattr(kind, "base", int) is float
            found.append((max(param.opts, key=len), FLOAT_VALUES if floats else INT_VALUES))
    assert found, path
    return found


COMMANDS = {   # command -> numeric options (value lists) found on it
    name: _numeric_options(*name.split())
    for name in ("translate", "eval mt", "eval nli", "score", "report", "rescore", "run")}
CASES = [(command, flag, value) for command, options in COMMANDS.items() for flag, values in options
         for value in values]


@pytest.fixture(scope="module")
def abuse_inputs(tmp_path_factory, finished_run):
    root = tmp_path_factory.mktemp("abuse")
    for lang, lines in SOURCES.items():
        (root / f"corpus.{lang}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def _base_args(command: str, root: Path, tmp_path: Path, model, run: Path) -> tuple[list, Path | None]:
    """A command that works as it is (one segment where it translates), and what it would write."""
    out = tmp_path / "out"
    corpus = f"text:{root}/corpus.{{lang}}"
    if command == "translate":
        return ["translate", "-s", "ko", "-t", "en", "-m", model, "-i", root / "corpus.ko", "-o", out], out
    if command == "eval mt":
        return ["eval", "mt", "-p", "ko-en", "--limit", "1", "-m", model, "--data", corpus, "--out", out,
                "--metrics", "chrf"], out
    if command == "eval nli":
        data = os.environ.get("XLING_DATA") or str(Path(__file__).resolve().parents[2] / "shared" / "data")
        if not Path(data, "xnli").is_dir():
            pytest.skip("XNLI not found: set XLING_DATA or provide ../shared/data")
        return ["eval", "nli", "-l", "en", "--limit", "2", "-m", model, "--data-dir", data, "--out", out], out
    if command == "score":
        return ["score", "-r", root / "corpus.en", "-i", root / "corpus.en", root / "corpus.ko",
                "-t", "en", "-m", "chrf", "--paired-bs"], None
    if command == "report":
        return ["report", run, run], None
    if command == "rescore":
        return ["rescore", run, "-m", "chrf"], None
    experiment = tmp_path / "x.yaml"
    experiment.write_text(f"data: '{corpus}'\npairs: [ko-en]\nlimit: 1\nmodel: {model}\nmetrics: [chrf]\n"
                          f"out: {out}\n", encoding="utf-8")
    return ["run", experiment], out


@pytest.mark.parametrize("command", COMMANDS)
def test_the_commands_of_the_number_checks_work_as_given(abuse_inputs, run_copy, tmp_path, capsys,
                                                         tiny_causal_base, command):
    run, _, _ = run_copy
    args, writes = _base_args(command, abuse_inputs, tmp_path, tiny_causal_base, run)
    code, _, err = run_cli(capsys, *args)
    assert code == 0, err
    assert writes is None or writes.exists()


@pytest.mark.parametrize("command,flag,value", CASES, ids=[f"{c}{f}={v}" for c, f, v in CASES])
def test_every_number_is_checked(abuse_inputs, run_copy, tmp_path, capsys, tiny_causal_base, command, flag, value):
    run, _, _ = run_copy
    args, writes = _base_args(command, abuse_inputs, tmp_path, tiny_causal_base, run)
    code, _, err = run_cli(capsys, *args, flag, value)   # the last occurrence of an option wins
    assert_clean(code, err)
    if code == 2 and writes is not None:
        assert not writes.exists() or not any(writes.rglob("config.json")), err
    if value in ("nan", "inf", "-inf"):
        assert code == 2 and "Traceback" not in err, err


@pytest.mark.parametrize("setting,value", [("temperature", ".nan"), ("temperature", ".inf"),
                                           ("request_timeout", ".nan"), ("request_timeout", ".inf"),
                                           ("judge_temperature", ".nan"), ("top_p", "-.inf"),
                                           ("candidates", "200000"), ("judge_samples", "200000"),
                                           ("concurrency", "1000000"), ("epsilon", "1.0")])
def test_numbers_in_yaml_are_checked_before_anything_is_written(abuse_inputs, tmp_path, capsys,
                                                                 tiny_causal_base, setting, value):
    experiment = tmp_path / "x.yaml"
    extra = "select: mbr\n" + ("candidates: 2\n" if setting != "candidates" else "") \
        if setting in ("temperature", "top_p", "epsilon", "candidates") else ""
    experiment.write_text(f"data: 'text:{abuse_inputs}/corpus.{{lang}}'\npairs: [ko-en]\nlimit: 1\n"
                          f"model: {tiny_causal_base}\nout: {tmp_path / 'out'}\n{extra}{setting}: {value}\n",
                          encoding="utf-8")
    code, _, err = run_cli(capsys, "run", experiment)
    assert_clean(code, err, expect=2)
    assert f"'{setting}' must be" in err
    assert not (tmp_path / "out").exists()


def test_numbers_given_in_python_are_checked(tiny_causal_base):
    from xling.backends.base import Decoding, Sampling
    from xling.backends.http import HTTPBackend
    from xling.errors import XlingError
    from xling.runs.config import build_config

    bad = float("nan")
    for make in (lambda: Sampling("sample", bad), lambda: Sampling("sample", 1.0, top_p=bad),
                 lambda: Sampling("sample", 1.0, epsilon=float("inf")),
                 lambda: Decoding(do_sample=True, temperature=bad),
                 lambda: HTTPBackend("m", "http://127.0.0.1:9/v1", timeout=bad),
                 lambda: HTTPBackend("m", "http://127.0.0.1:9/v1", timeout=float("inf")),
                 lambda: build_config({"out": "x", "temperature": bad}),
                 lambda: build_config({"out": "x", "request_timeout": float("inf")}),
                 lambda: build_config({"out": "x", "task": "nli", "langs": ["en"], "bootstrap": 10 ** 9}),
                 lambda: build_config({"out": "x", "model": "m", "task": "tune_ratio", "seeds": [-1]}),
                 lambda: build_config({"out": "x", "model": "m", "task": "tune_ratio", "learning_rate": bad})):
        with pytest.raises(XlingError):
            make()


def test_python_arguments_of_the_wrong_kind_are_one_error_before_any_model_loads(tmp_path, capsys):
    """(audit round 18) trust_remote_code="no" is a true string: the model's own code ran;
    cache=1 (or a Path) kept nothing; template=Path(...), model=5 and get(5) were tracebacks;
    seed=-1 drew seed 1's demonstrations. Each is one XlingError, and nothing loads first."""
    import xling
    from xling.errors import XlingError
    from xling.metrics import get

    for make in (lambda: xling.Translator(trust_remote_code="no"), lambda: xling.Translator(static_cache="no"),
                 lambda: xling.Translator(cache=1), lambda: xling.Translator(cache=1.0),
                 lambda: xling.Translator(5), lambda: xling.Translator(template=5),
                 lambda: xling.Translator(seed=-1), lambda: xling.Translator(seed="x"), lambda: get(5),
                 lambda: xling.translate(["x"], "en", "ko", model=5),
                 lambda: xling.translate(["x"], "en", "ko", trust_remote_code="no")):
        with pytest.raises(XlingError):
            make()
    assert "embedded default model" not in capsys.readouterr().err   # refused before the model


def test_a_document_translator_never_translates_lines_one_by_one(tiny_causal_base):
    """(audit round 18) Translator(unit="document").translate sent each line alone under the
    prompt of numbered segments: "[1] " stayed in the output."""
    import xling
    from xling.errors import XlingError

    with pytest.raises(XlingError, match="translate_documents"):
        xling.Translator(str(tiny_causal_base), unit="document", cache=False).translate(["Hello."], "en", "ko")


def test_a_cache_given_as_a_path_keeps_the_outputs_and_a_numpy_seed_is_a_seed(tiny_causal_base, tmp_path):
    """(audit round 18) cache=Path(...) turned the cache off: nothing kept for a resume."""
    import numpy as np

    import xling

    translator = xling.Translator(str(tiny_causal_base), cache=tmp_path / "outputs.sqlite", seed=np.int64(3))
    assert translator.cache is not None and translator.seed == 3
    translator.close()


def test_every_number_of_every_config_is_checked_in_python():
    """Each numeric field of each task's config, built from Python (as a notebook would), with
    nan, inf, negative, zero and huge values: finite in-range values are kept, others refused."""
    import dataclasses
    import math
    import typing

    from xling.errors import XlingError
    from xling.runs.config import CONFIGS, build_config
    from xling.settings import BOUNDS

    required = {"mt": {}, "nli": {"langs": ["en"]}, "multiple_choice": {"langs": ["en"]},
                "tune_ratio": {"model": "m"}}
    checked = 0
    for task, cls in CONFIGS.items():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            hint = hints[f.name]
            kinds = {hint} if typing.get_origin(hint) is list else set(typing.get_args(hint)) - {type(None)} or {hint}
            if not kinds & {int, float} or bool in kinds:
                continue
            assert f.name in BOUNDS, f"{task}.{f.name} has no range in BOUNDS"
            for value in (float("nan"), float("inf"), -1, 0, 10 ** 12, 1e300):
                values = dict(required[task], out="x", task=task, **{f.name: value})
                if f.name in ("candidates", "pseudo_refs"):
                    values.update(select="mbr", candidates=values.get("candidates", 2))
                low, high, low_allowed = BOUNDS[f.name]
                fits = isinstance(value, int) or (float in kinds and math.isfinite(value))
                fits = fits and (value >= low if low_allowed else value > low) and (high is None or value <= high)
                fits = fits and not (f.name == "epsilon" and value >= 1)
                try:
                    build_config(values)
                except XlingError:
                    assert not fits, (task, f.name, value)
                else:
                    assert fits, (task, f.name, value)
                checked += 1
    assert checked > 150


@pytest.mark.parametrize("value", ["[-1.0, -2.0", "[]", "[-1.0]", "[-1.0, NaN]", '"text"'])
def test_a_damaged_cached_score_is_computed_again(tmp_path, capsys, tiny_causal_base, value):
    """One cache value damaged inside a sound database: a traceback (not JSON, an empty list), or
    scores of the wrong shape taken into an accuracy as they were."""
    import sqlite3

    from xling.backends import load_backend

    path = tmp_path / "outputs.sqlite"
    requests = [("Is the sky blue? Answer:", [" yes", " no"])]
    first = load_backend(str(tiny_causal_base), cache=str(path), quiet=True).loglikelihood(requests)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE outputs SET value = ?", (value,))
    again = load_backend(str(tiny_causal_base), cache=str(path), quiet=True)
    assert again.loglikelihood(requests)[0] == pytest.approx(first[0])
    assert "1 damaged cache entry" in capsys.readouterr().err
    assert again.loglikelihood(requests)[0] == pytest.approx(first[0])   # and the entry is sound again
    assert "damaged" not in capsys.readouterr().err


def test_a_cached_value_that_is_not_utf8_is_one_entry_computed_again(tmp_path, capsys):
    """(audit round 28) one value's bytes damaged into invalid UTF-8 failed sqlite's whole query:
    the cache was turned off for the run (its healthy entries generated again, nothing new kept),
    with a two-line warning quoting the damaged text."""
    import sqlite3

    from xling.store.cache import KeyValueStore

    path = tmp_path / "outputs.sqlite"
    store = KeyValueStore(path)
    store.put_many({f"k{i}": f"시장 {i}" for i in range(5)})
    store.close()
    with sqlite3.connect(path) as db:   # (a BLOB in a text column: how sqlite keeps bytes it never checked)
        db.execute("UPDATE outputs SET value = CAST(? AS TEXT) WHERE key = 'k2'", (b"\xff\xfe\xfd \n2",))
    store = KeyValueStore(path)
    assert store.get_many([f"k{i}" for i in range(5)]) == {f"k{i}": f"시장 {i}" for i in (0, 1, 3, 4)}
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"xling: warning: 1 damaged cache entry of {path} (not UTF-8 text): "
                                        "computed again"], err
    store.put_many({"k2": "시장 2", "new": "kept"})
    assert KeyValueStore(path).get_many(["k2", "new"]) == {"k2": "시장 2", "new": "kept"}


def test_a_cache_moved_aside_by_another_process_is_followed(tmp_path, capsys):
    """Process B found the shared cache damaged and moved it aside; process A went on writing into
    the moved file, so its results were lost to every later run."""
    import sqlite3

    from xling.store.cache import KeyValueStore

    path = tmp_path / "outputs.sqlite"
    first = KeyValueStore(path)
    first.put_many({f"k{i}": "v" * 2000 for i in range(40)})
    first._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    first.close()
    b = KeyValueStore(path)
    data = bytearray(path.read_bytes())
    data[4096 * 3:4096 * 4] = b"\xff" * 4096
    path.write_bytes(bytes(data))
    a = KeyValueStore(path)
    b.get_many([f"k{i}" for i in range(40)])          # B: damage found, the file moved aside
    assert "moved it to" in capsys.readouterr().err
    a.put_many({f"a{i}": "x" for i in range(5)})       # A stores after that: into the live cache
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM outputs").fetchone()[0] == 5
    assert KeyValueStore(path).get_many(["a0"]) == {"a0": "x"}


def test_a_record_without_its_reference_is_named(run_copy, capsys):
    """rescore: KeyError 'reference' (the record check looked at output and source only)."""
    import json

    run, _, _ = run_copy
    path = run / "outputs" / "ko-en.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    del records[1]["reference"]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    code, _, err = run_cli(capsys, "rescore", run, "-m", "chrf")
    assert_clean(code, err, expect=2)
    assert "line 2: damaged record ('reference' is missing)" in err


def test_an_nli_records_file_cut_at_a_line_boundary_is_named(tmp_path, capsys, tiny_causal_base, data_dir):
    """A cut choice records file read as a run of other items ("not comparable"), its accuracy
    table still showing the old count."""
    if not (data_dir / "xnli").is_dir():
        pytest.skip("XNLI is not in the shared data")
    out = tmp_path / "nli"
    code, _, err = run_cli(capsys, "eval", "nli", "-l", "en", "--limit", "3", "-m", tiny_causal_base,
                           "--data-dir", data_dir, "--out", out)
    assert code == 0, err
    path = out / "outputs" / "en.jsonl"
    path.write_text("".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:2]), encoding="utf-8")
    code, _, err = run_cli(capsys, "report", out)
    assert_clean(code, err, expect=2)
    assert "holds 2 of its 3 records (cut short?)" in err


def test_a_relative_cache_path_survives_a_change_of_folder(tmp_path, monkeypatch):
    """(the review of round 14) The moved-file check looked the relative path up from the new
    folder and opened an empty cache there."""
    from xling.store.cache import KeyValueStore

    monkeypatch.chdir(tmp_path)
    store = KeyValueStore("cache/outputs.sqlite")
    store.put_many({"k": "v"})
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert store.get_many(["k"]) == {"k": "v"}
    assert not (tmp_path / "elsewhere" / "cache").exists()


def test_a_read_only_cache_folder_is_read(mount, capsys, tmp_path, tiny_causal_base):
    """(audit round 25, left then) a cache folder on a read-only mount, holding every answer,
    was not read: everything was generated again. Its answers are read now; nothing is kept."""
    from xling.store.cache import OutputCache

    folder = mount[0]("shared-cache", size="8m")
    source = tmp_path / "in.ko"
    source.write_text("안녕하세요\n좋은 아침입니다\n", encoding="utf-8")
    translate = ["translate", "-s", "ko", "-t", "en", "-m", tiny_causal_base, "-i", source]
    from helpers import xling

    # (made by another process: this one's open stores would keep the mount from turning read-only)
    made = xling(*map(str, translate), env={"XLING_CACHE": str(folder)})
    assert made.returncode == 0, made.stderr
    first = made.stdout.decode()
    mount[2](folder)
    with _env(XLING_CACHE=str(folder)):
        before = {p.name: p.read_bytes() for p in folder.iterdir()}
        # the cached answers stand in for the model's: an answer of our own is what comes back
        store = OutputCache()
        assert len(store) > 0 and store.get_many(["no such key"]) == {}
        store.put_many({"new": "kept?"})             # (nothing is kept: no error either)
        assert store.get_many(["new"]) == {}
        code, again, err = run_cli(capsys, *translate)
        from xling.translation.translator import Translator
        with Translator(str(tiny_causal_base)) as translator:
            records = translator.translate_records(["안녕하세요", "좋은 아침입니다"], "ko", "en")
    assert_clean(code, err, expect=0)
    assert again == first and "cannot be used" not in err
    assert [r.cached for r in records] == [True, True] and [r.text for r in records] == first.splitlines()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_run_refused_for_a_full_disk_at_its_config_leaves_no_folder(mount, capsys, tiny_causal_base, run_copy):
    """(audit round 26) with room for the run's marker and outputs/ but not for config.json, the
    refusal left the half-made folder behind (a refused command leaves nothing behind)."""
    make, fill, _ = mount
    _, args, _ = run_copy
    folder = make("nearly-full", size="2m")
    fill(folder)
    with open(folder / "filler", "r+b") as filler:   # 8 KB free: the marker and the lock, no config
        filler.truncate(filler.seek(0, os.SEEK_END) - 8192)
    code, _, err = run_cli(capsys, *[a if a != args[-1] else folder / "deep" / "run" for a in args])
    assert_clean(code, err, expect=2)
    assert "config.json" in err and sorted(p.name for p in folder.iterdir()) == ["filler"]
