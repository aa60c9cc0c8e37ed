"""Results that cannot go stale or be lost: a model changed in place, folders xling did not make,
two writers at once, and outputs that would destroy their input (issue: reliability, cases 1-4)."""
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import assert_one_line_error, xling

from xling.runs.folder import RunDir

SOURCES = {"ko": ["저는 학생입니다.", "오늘 날씨가 좋네요.", "책을 읽고 있어요."],
           "en": ["I am a student.", "The weather is nice today.", "I am reading a book."]}


@pytest.fixture
def corpus(tmp_path) -> str:
    for lang, lines in SOURCES.items():
        (tmp_path / f"corpus.{lang}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f"text:{tmp_path}/corpus.{{lang}}"


def zero_tensor_in_place(path: Path, name: str) -> None:
    """Overwrite one tensor's bytes with zeros: the file keeps its size, inode and (set back)
    modification time, as a checkpoint retrained into the same folder would keep its size."""
    before = path.stat()
    with open(path, "r+b") as handle:
        (header_len,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(header_len))
        start, end = header[name]["data_offsets"]
        handle.seek(8 + header_len + start)
        handle.write(b"\0" * (end - start))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size


def test_a_model_retrained_in_place_never_serves_cached_outputs(tmp_path, tiny_causal_base):
    import shutil

    from xling.backends import load_backend

    model = tmp_path / "copy"
    shutil.copytree(tiny_causal_base, model)
    args = ["translate", "-s", "ko", "-t", "en", "-m", str(model), *SOURCES["ko"]]
    before = xling(*args)
    assert before.returncode == 0, before.stderr
    revision = load_backend(str(model)).fingerprint["revision"]

    weights = model / "model.safetensors"
    header = json.loads(weights.read_bytes()[8:8 + struct.unpack("<Q", weights.read_bytes()[:8])[0]])
    zero_tensor_in_place(weights, next(k for k in header if "embed" in k))
    assert load_backend(str(model)).fingerprint["revision"] != revision
    cached = xling(*args)
    fresh = xling(*args, "--no-cache")
    assert cached.returncode == fresh.returncode == 0
    assert cached.stdout == fresh.stdout            # the new weights' outputs, not the old ones
    assert cached.stdout != before.stdout


def test_the_weight_digest_is_remembered_until_the_file_changes(tmp_path):
    from xling.store import filehash

    path = tmp_path / "w.safetensors"
    path.write_bytes(b"a" * 1000)
    first = filehash.file_digest(path)
    filehash._memory.clear()
    store = filehash._DigestStore(tmp_path / "xling-cache" / "file-digests.sqlite")
    assert store.get_many([filehash._stat_key(path)]) == {filehash._stat_key(path): first}   # kept on disk
    assert filehash.file_digest(path) == first
    with open(path, "r+b") as handle:               # same size, new content
        handle.write(b"b")
    assert filehash.file_digest(path) != first


def test_overwrite_never_deletes_a_folder_xling_did_not_make(tmp_path, tiny_causal_base, corpus):
    project = tmp_path / "proj"
    (project / "outputs").mkdir(parents=True)
    (project / "config.json").write_text('{"name": "x"}', encoding="utf-8")
    thesis = project / "outputs" / "thesis_results.csv"
    thesis.write_text("data\n", encoding="utf-8")
    for extra in ([], ["--overwrite"]):
        result = xling("eval", "mt", "--langs", "ko,en", "--limit", "2", "-m", str(tiny_causal_base),
                       "--data", corpus, "--out", str(project), *extra)
        assert_one_line_error(result, "is not an xling run folder")
    assert thesis.read_text(encoding="utf-8") == "data\n"
    assert sorted(p.name for p in project.rglob("*")) == ["config.json", "outputs", "thesis_results.csv"]


def test_overwrite_replaces_only_xling_files_and_a_damaged_config(tmp_path, tiny_causal_base, corpus):
    out = tmp_path / "run"
    base = ["eval", "mt", "--langs", "ko,en", "-m", str(tiny_causal_base), "--data", corpus,
            "--out", str(out), "--metrics", "chrf"]
    assert xling(*base, "--limit", "3").returncode == 0
    notes = out / "my-notes.txt"
    notes.write_text("keep me\n", encoding="utf-8")
    (out / "config.json").write_text("{ torn", encoding="utf-8")
    assert_one_line_error(xling(*base, "--limit", "2"), "config.json is damaged")
    replaced = xling(*base, "--limit", "2", "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    run = RunDir(out)
    assert run.read_config()["settings"]["limit"] == 2
    assert [len(run.read_outputs(d)) for d in ("ko-en", "en-ko")] == [2, 2]
    assert notes.read_text(encoding="utf-8") == "keep me\n"


def test_a_second_writer_of_a_run_folder_is_refused(tmp_path, tiny_causal_base, corpus):
    out = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c",
                               "import sys, time; from xling.runs.folder import RunDir\n"
                               f"run = RunDir({str(out)!r}).claim(); print('locked', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"locked"
        result = xling("eval", "mt", "--langs", "ko,en", "--limit", "2", "-m", str(tiny_causal_base),
                       "--data", corpus, "--out", str(out), "--overwrite")
        assert_one_line_error(result, f"is being written by another xling process (pid {holder.pid})")
        assert not (out / "config.json").exists()
    finally:
        holder.kill()
        holder.wait()
    # The lock dies with its process: no stale lock blocks the next run.
    result = xling("eval", "mt", "--langs", "ko,en", "--limit", "2", "-m", str(tiny_causal_base),
                   "--data", corpus, "--out", str(out), "--metrics", "chrf")
    assert result.returncode == 0, result.stderr


def test_a_second_writer_of_an_output_file_is_refused(tmp_path, tiny_causal_base):
    from xling.store.locks import output_lock

    out = tmp_path / "out.en"
    out.write_text("old\n", encoding="utf-8")
    with output_lock(out):
        result = xling("translate", "-s", "ko", "-t", "en", "-m", str(tiny_causal_base),
                       "-o", str(out), "안녕")
    assert_one_line_error(result, "is being written by another xling process")
    assert out.read_text(encoding="utf-8") == "old\n"


def test_output_that_would_destroy_the_input_or_is_not_a_file(tmp_path, tiny_causal_base):
    source = tmp_path / "src.ko"
    source.write_text("\n".join(SOURCES["ko"]) + "\n", encoding="utf-8")
    original = source.read_bytes()
    model = ["-m", str(tiny_causal_base)]
    base = ["translate", "-s", "ko", "-t", "en", *model, "-i", str(source)]
    assert_one_line_error(xling(*base, "-o", str(source)), "is the input file")
    link_to_source = tmp_path / "alias.ko"
    link_to_source.symlink_to(source)
    assert_one_line_error(xling(*base, "-o", str(link_to_source)), "is the input file")
    assert source.read_bytes() == original

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert_one_line_error(xling(*base, "-o", str(fifo), timeout=60), "it is a FIFO")
    assert_one_line_error(xling(*base, "-o", "/proc/self/fd/1", timeout=60), "regular files only")
    assert_one_line_error(xling(*base, "-o", "/dev/stdout", timeout=60), "regular files only")
    assert_one_line_error(xling(*base, "-o", str(tmp_path)), "is a directory")

    # A symlink to a regular file: the file it points to is written, the link stays a link.
    real = tmp_path / "real.en"
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "latest.en"
    link.symlink_to(real)
    assert xling(*base, "-o", str(link)).returncode == 0
    assert link.is_symlink() and len(real.read_text(encoding="utf-8").splitlines()) == 3


def test_a_bad_output_folder_is_found_before_the_model_loads(tmp_path):
    result = xling("translate", "-s", "ko", "-t", "en", "-o", str(tmp_path / "missing" / "out.en"), "안녕")
    assert_one_line_error(result, "does not exist")
    assert b"embedded model" not in result.stderr   # refused before loading anything
