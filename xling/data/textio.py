"""Reading and writing the user's text files: strict UTF-8, clear errors, atomic writes."""
from __future__ import annotations

import hashlib
import os
import re
import stat
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..errors import XlingError

UTF16_HINT = "; it looks like UTF-16: save it as UTF-8 (iconv -f UTF-16 -t UTF-8)"


def _looks_utf16(data: bytes) -> bool:
    """A UTF-16 byte-order mark, or NULs mostly in one byte position (the other a third as often
    at most: ASCII, spaces and line ends so written, and a Hangul syllable's low byte may be 0)
    over the first few KB; Japanese has NULs at its line ends alone (a percent of the pairs), a
    binary file has NULs at both positions, gzip few."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    head = data[:4096]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    many, few = max(even, odd), min(even, odd)
    return many >= max(2, 0.01 * (len(head) // 2)) and few * 3 <= many


def not_text_hint(data: bytes) -> str:
    """What a file that is not UTF-8 text seems to be, as "; ..." for an error message."""
    if data.startswith(b"\x1f\x8b"):
        return "; it is gzip-compressed (gunzip it first)"
    if _looks_utf16(data):
        return UTF16_HINT
    head = data[:4096]   # (a stray NUL beside a bad byte is no binary file)
    return "; it looks like a binary file" if head.count(0) >= max(2, 0.01 * len(head)) else ""


def _place(data: bytes, offset: int) -> tuple[int, int]:
    """The line of the byte at `offset` and its place in that line, both counted from 1 (the
    file's offset beside a line number pointed nowhere: "line 2, byte 6" on a 4-byte line)."""
    return data.count(b"\n", 0, offset) + 1, offset - data.rfind(b"\n", 0, offset)


def decode_utf8(data: bytes, where: str, allow_nul: bool = True) -> str:
    """A user's text, strictly UTF-8. UTF-16 without a byte-order mark is refused too: ASCII text
    so written is valid UTF-8 with a NUL after every letter, and was translated as such (garbage
    outputs, one line too many from the NUL after the last line end). A few NULs are said only (a
    model's byte-0 token in an output file is text sacrebleu scores), unless not `allow_nul` (a
    YAML file, which cannot hold one: refused here, no warning before the refusal)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _place(data, exc.start)
        # (Windows' "Unicode": a byte-order mark of UTF-16, or none and NUL bytes; gzip; binary)
        raise XlingError(f"{where} is not valid UTF-8 (line {line}, byte {column}){not_text_hint(data)}") from exc
    nul = data.find(b"\x00")
    if nul >= 0:
        line, column = _place(data, nul)
        count = data.count(b"\x00")
        # a NUL beside nearly every ASCII letter, or UTF-16 of a script whose code units are all
        # under 0x80 (Devanagari, Arabic, Cyrillic, Thai: valid UTF-8 of control characters)
        utf16 = count * 3 >= len(data) or (_looks_utf16(data) and count >= 0.01 * len(data))
        if utf16 or not allow_nul:
            raise XlingError(f"{where} holds NUL bytes (from line {line}, byte {column})"
                             f"{not_text_hint(data) or (UTF16_HINT if utf16 else '')}")
        print(f"xling: warning: {where} holds {count} NUL byte(s) (the first on line {line}); they are read "
              "as text", file=sys.stderr)
    return text


def is_blank(text: str) -> bool:
    """Nothing but white space and invisible format characters (a zero-width space, a BOM): an
    empty output wherever outputs are counted as empty."""
    import unicodedata

    return not "".join(c for c in text if unicodedata.category(c) != "Cf").strip()


def counted(n: int, thing: str) -> str:
    """ "1 chunk", "2 chunks", "0 chunks": a count as the messages and notes write it."""
    return f"{n} {thing}{'s' * (n != 1)}"


def split_lines(text: str, keep_bom: bool = False) -> list[str]:
    """Lines without their terminators (\\n, \\r\\n); a final newline adds no empty line. A
    leading byte-order mark is dropped unless `keep_bom` (metric input: sacrebleu keeps it as
    part of the first segment, and scores must equal sacrebleu's)."""
    if not keep_bom:
        text = text.lstrip("\ufeff")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_input_lines(path: str, keep_bom: bool = False) -> list[str]:
    """An input of translate or score: a file's lines, or standard input's for "-" (as -o - is
    standard output)."""
    if str(path) != "-":
        return read_lines(path, keep_bom=keep_bom)
    lines = read_stdin_lines(keep_bom)
    if not lines:
        raise XlingError("standard input (-) is empty")
    return lines


def read_lines(path: str | Path, *, allow_empty: bool = False, keep_bom: bool = False) -> list[str]:
    """A text file's lines, split at \\n only (as sacrebleu reads them)."""
    path = Path(path)
    if path.is_dir():
        raise XlingError(f"{path} is a folder, not a text file")
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise XlingError(f"input file {path} does not exist") from exc
    except OSError as exc:
        raise XlingError(f"cannot read {path}: {exc.strerror}") from exc
    lines = split_lines(decode_utf8(data, str(path)), keep_bom)
    if not lines and not allow_empty:
        raise XlingError(f"{path} is empty")
    _warn_lone_returns(data, str(path))
    return lines


def _warn_lone_returns(data: bytes, where: str) -> None:
    """Line ends of classic Mac OS: lines split at \\n only, as sacrebleu's, so such a text is
    one line (or a few). Said wherever lone carriage returns outnumber the line feeds (a final
    \\n added by an editor hid them)."""
    lone = data.count(b"\r") - data.count(b"\r\n")
    if lone > data.count(b"\n"):
        read = data.rstrip(b"\n").count(b"\n") + 1
        print(f"xling: warning: {where} ends its lines with carriage returns (\\r) alone, so it is read as "
              f"{'one line' if read == 1 else f'{read} lines'}; convert them first (tr '\\r' '\\n')", file=sys.stderr)


def json_line(text: str, where: str):
    """One JSON value read from a user's file (`where`: path:line): invalid JSON, nesting too
    deep for the parser, and lone surrogates (`"\\ud800"`, which no UTF-8 file or output can
    hold) and a key given twice in one object (JSON keeps the last silently) are each one
    XlingError naming the line."""
    import json

    def refuse_repeats(pairs):
        value = dict(pairs)
        if len(value) < len(pairs):
            keys = [key for key, _ in pairs]
            repeated = next(key for key in keys if keys.count(key) > 1)
            raise XlingError(f"{where}: key {repeated!r} is given twice in one object; keep one")
        return value

    try:
        value = json.loads(text, object_pairs_hook=refuse_repeats)
    except RecursionError:
        raise XlingError(f"{where}: JSON nested too deeply") from None
    except ValueError as exc:
        raise XlingError(f"{where}: not valid JSON") from exc
    bad = lone_surrogate(value)
    if bad is not None:
        raise XlingError(f"{where}: {bad!r} holds a lone surrogate escape (\\ud800-\\udfff), which is not "
                         "text; fix or remove it")
    return value


def lone_surrogate(value) -> str | None:
    """The first string (key or value) inside a parsed JSON value that is not encodable text."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return item[:40]
    return None


def read_jsonl(path: str | Path) -> list[tuple[int, dict]]:
    """(line number, object) for each non-empty line of a JSONL file."""
    rows = []
    for number, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        row = json_line(line, f"{path}:{number}")
        if not isinstance(row, dict):
            raise XlingError(f"{path}:{number}: expected a JSON object")
        rows.append((number, row))
    return rows


def file_record(path: str | Path) -> dict:
    """What a run's config.json says of an input file it read: absolute path and SHA-256."""
    import hashlib

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise XlingError(f"cannot read {path}: {exc.strerror}") from None
    return {"path": os.path.abspath(path), "sha256": hashlib.sha256(data).hexdigest()}


def paragraphs(lines: list[str]) -> list[str]:
    """Blocks of lines separated by blank lines (one or more, whitespace-only counts as
    blank); each block keeps its inner line breaks."""
    blocks, current = [], []
    for line in lines + [""]:
        if line.strip():
            current.append(line)
        elif current:
            blocks.append("\n".join(current))
            current = []
    return blocks


def join_paragraphs(texts: list[str]) -> str:
    """The file text of translated blocks: blank-line separated, inner line breaks kept (a
    blank line inside a translation would split its block, so runs of them become one line
    break). Every other line break a model writes (CR, U+2028, U+2029, NEL, ...) becomes \n, so a
    reader that splits lines as `str.splitlines` does sees the same blocks."""
    import re

    def block(text: str) -> str:
        text = re.sub(r"\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]", "\n", text.strip())
        return re.sub(r"\n\s*\n", "\n", text.strip())

    return "\n\n".join(block(t) for t in texts) + "\n"


def read_stdin_lines(keep_bom: bool = False, instead: str = "give a file instead of -") -> list[str]:
    """Standard input's lines; `instead`: what the caller's user can give when it is closed."""
    if sys.stdin is None:   # closed (`0<&-`)
        raise XlingError(f"standard input is closed: {instead}")
    try:
        data = sys.stdin.buffer.read()
    except OSError as exc:
        raise XlingError(f"cannot read standard input: {exc.strerror or exc}") from None
    lines = split_lines(decode_utf8(data, "standard input"), keep_bom)
    _warn_lone_returns(data, "standard input")
    return lines


def publish(tmp: str | Path, path: str | Path) -> None:
    """Move a finished temporary file into place: with the permissions of the file it
    replaces (a private file stays private), else the usual ones (mkstemp makes files private)."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def describe_kind(mode: int) -> str:
    """What a file that is not a regular file is, for messages."""
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a terminal or device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a regular file"


RUN_MARKER = ".xling-run"   # the file that marks a run folder (runs.folder.MARKER)


def is_run_folder(folder: Path) -> bool:
    """Whether xling made `folder` as a run: its marker, or (runs made before the marker) a
    config.json in xling's own shape."""
    if (folder / RUN_MARKER).is_file():
        return True
    try:
        import json
        old = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(old, dict) and isinstance(old.get("identity"), dict)
            and isinstance(old.get("packages"), dict) and "xling" in old["packages"])

# What follows a temporary file's stem: mkstemp's 8 random characters and the suffix.
TEMP_TAIL = ".XXXXXXXX.partial"


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):   # (no pathconf: Windows)
        return 255


def helper_stem(path: Path, tail: str) -> str:
    """The start of the name of a file xling keeps beside `path` (its lock, its temporary file):
    `.NAME`, or where that and `tail` would pass the folder's name limit (a legal NAME of 238
    characters and more), NAME cut short with a digest of it, so any name the OS takes can be an
    output. Short names keep their old helpers (a stale lock or temp file is still found)."""
    name, limit = path.name, _name_max(path.parent)
    if len(os.fsencode(f".{name}{tail}")) <= limit:
        return f".{name}"
    digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:16]
    keep = name
    while keep and len(os.fsencode(f".{keep}.{digest}{tail}")) > limit:
        keep = keep[:-1]
    return f".{keep}.{digest}"


def stale_temporaries(path: Path) -> list[Path]:
    """The temporary files atomic_writer left for `path` when killed mid-write: its own names for
    this exact file only (mkstemp's 8 characters), never another file's."""
    stem = helper_stem(path, TEMP_TAIL)
    pattern = re.compile(re.escape(stem) + r"\.[a-z0-9_]{8}\.partial")
    try:
        return [p for p in path.parent.iterdir() if pattern.fullmatch(p.name) and p.is_file() and not p.is_symlink()]
    except OSError:
        return []


def _xling_owned(target: Path) -> str | None:
    """What of xling's own a (resolved) output path would replace: a database of its cache
    (<cache>/*.sqlite and its -wal/-shm files) or a file of a converted model (a folder holding
    config.json under the model cache). Only those: a cache root set to a broad folder
    (XLING_CACHE=.) still takes the user's outputs."""
    from .resources import cache_dir, models_path

    cache = Path(os.path.realpath(cache_dir()))
    if target.parent == cache and ".sqlite" in target.name:
        return f"a database of xling's cache ({cache})"
    models = Path(os.path.realpath(models_path()))
    if target.is_relative_to(models) and len(target.relative_to(models).parts) > 1:
        model = models / target.relative_to(models).parts[0]
        if (model / "config.json").is_file():
            return f"inside {model}, a model converted into xling's model cache"
    return None


def output_target(path: str | Path, inputs: tuple = (), reads_stdin: bool = False) -> Path:
    """Check an output file before any work is done and return where it will be written.

    A symlink is followed (its target is replaced, the link kept); the output may not be one
    of the `inputs` (every file the command reads: source, template, shots, key file, ...; and,
    where `reads_stdin`, the file standard input is redirected from) nor lie inside an input
    folder (a model), nor be a FIFO, device or folder: xling writes complete files only, atomically."""
    if str(path).endswith(("/", os.sep)):   # Path() drops the slash: `-o out/` wrote a file "out"
        raise XlingError(f"cannot write {path}: it names a folder; give a file name")
    path = Path(path)
    where = os.path.abspath(path)
    if where.startswith(("/proc/", "/dev/")) and not where.startswith("/dev/shm/"):   # /dev/stdout, /proc/self/fd/1
        raise XlingError(f"cannot write {path}: it names a device or file descriptor; xling writes "
                         "complete regular files only (leave out -o to write to standard output)")
    # The folder as the OS reaches it: `missing/../x` fails there, while a lexical resolution
    # (realpath's) would quietly turn it into `x`, which may be the input itself.
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise XlingError(f"cannot write {path}: folder {folder} does not exist")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise XlingError(f"cannot write {path}: {exc.strerror}") from exc
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise XlingError(f"cannot write {path}: it is {describe_kind(info.st_mode)}; xling writes complete "
                         "regular files only (leave out -o to write to standard output)")
    target = Path(os.path.realpath(path))
    for source in inputs:   # every file and folder the command reads
        if source is None or not os.path.exists(source := os.path.expanduser(source)):
            continue
        if os.path.isdir(source):
            if target.is_relative_to(os.path.realpath(source)):
                raise XlingError(f"the output {path} is inside {source}, which this command reads "
                                 "(a model or data folder): choose an output outside it")
        elif target.exists() and os.path.samefile(target, source):
            raise XlingError(f"the output {path} is the input file {source}; writing it would "
                             "destroy the source: choose another output")
    if reads_stdin and target.exists():   # `-o f < f`, as `-i f -o f` (a pipe, `cat f |`, cannot be told)
        try:
            given = os.fstat(0)
        except OSError:   # (closed: said when it is read)
            given = None
        if given is not None and stat.S_ISREG(given.st_mode) and os.path.samestat(given, os.stat(target)):
            raise XlingError(f"the output {path} is the input file {path} (read on standard input); writing it "
                             "would destroy the source: choose another output")
    if not target.parent.is_dir():
        raise XlingError(f"cannot write {path}: folder {target.parent} does not exist")
    owned = _xling_owned(target)
    if owned:   # (an output over the cache's database or a converted model's config lost them)
        raise XlingError(f"the output {path} is {owned}: choose an output outside it")
    run = next((folder for folder in target.parents if is_run_folder(folder)), None)
    if run is not None:   # (another run's metrics.json or outputs/*.jsonl, replaced: its work lost)
        raise XlingError(f"the output {path} is inside the run folder {run}, which holds only what its run "
                         "writes: choose an output outside it")
    if not os.access(target.parent, os.W_OK):
        raise XlingError(f"cannot write {path}: folder {target.parent} is not writable")
    # an atomic write renames over the file, which its own permissions do not stop: a file
    # marked read-only (for anyone, root included) is refused as `>` refuses it
    if target.exists() and (not os.access(target, os.W_OK) or not target.stat().st_mode & 0o222):
        raise XlingError(f"cannot write {path}: the file is read-only (make it writable to replace it)")
    return target


@contextmanager
def atomic_writer(path: str | Path):
    """Write to a temporary file beside `path` and move it into place only on success, so a
    failure or an interrupt never leaves a half-written output. Every OS failure (full disk,
    read-only folder) becomes one XlingError naming the path and the reason."""
    path = Path(path)
    if path.is_symlink():   # written through: the link stays, its target is replaced
        path = Path(os.path.realpath(path))
    if path.parent and not path.parent.exists():
        raise XlingError(f"cannot write {path}: folder {path.parent} does not exist")
    if path.exists() and not path.is_file():   # a folder, a device (/dev/null), a FIFO
        raise XlingError(f"cannot write {path}: it is {describe_kind(path.stat().st_mode)}; xling writes "
                         "complete regular files only")
    try:
        fd, tmp = tempfile.mkstemp(prefix=helper_stem(path, TEMP_TAIL) + ".", suffix=".partial",
                                   dir=path.parent or ".")
    except OSError as exc:
        raise XlingError(f"cannot write {path}: {exc.strerror}") from exc
    try:
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                yield handle
            publish(tmp, path)
        except OSError as exc:
            raise XlingError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
