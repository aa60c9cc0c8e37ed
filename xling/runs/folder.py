"""A run is a folder: config.json (every setting, resolved model revision, template hash,
package versions), one outputs/<direction>.jsonl per direction, and metrics.json.

Every file is written atomically (temporary file + rename), so a run killed at any moment leaves
either the old or the new version of each file, never a torn one; generation itself resumes from
the content cache (xling.store.cache).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ..backends.http import same_server
from ..data.textio import RUN_MARKER, atomic_writer, describe_kind, is_run_folder
from ..errors import XlingError
from ..secrets import hidden_query_values
from ..store.locks import acquire, is_held

PACKAGES = ("xling", "torch", "transformers", "tokenizers", "sacrebleu", "huggingface-hub",
            "lingua-language-detector", "numpy")


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    from ..plugins import LOADED

    out.update(LOADED)   # the plugins whose components this process could use
    return out


def _write_json(path: Path, data) -> None:
    with atomic_writer(path) as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2)
        handle.write("\n")


def _why(changed: list[str]) -> str:
    """What a changed identity means, where the user did not change a setting themselves."""
    # (not when the user chose another template, nor another model: a model without a chat
    # template gets the completion template by default; nor another task, data or --unit, which
    # has its own default: --unit document the mt-document-* templates)
    if any(k in ("templates", "template_hash") for k in changed) and not any(
            k in ("template", "gen_template", "judge_template", "model", "judge_model",
                  "task", "data", "mode", "prompt_lang", "unit") for k in changed):
        return (": its prompt template has changed since that run was made (edited, or rewritten "
                "by a newer xling), so resuming would mix answers to two different prompts")
    if any(k in ("base_model_content", "judge_model_content") for k in changed):
        return (": the model's files at that path have changed since that sweep was made, so "
                "resuming would table units of two different models")
    if "varieties" in changed:
        return (": since round 27 a WMT24++ locale of a language the data set has in several (pt_BR and pt_PT, "
                "fr_CA and fr_FR, ar_EG and ar_SA, sw_KE and sw_TZ, bn_BD and bn_IN) is a language of its own, "
                "named with its region in the prompt (Portuguese (Brazil)) and the outputs (en-pt_BR), so "
                "resuming would mix answers to two different prompts")
    if "data_sha256" in changed:
        return (": the data's texts (or the demonstrations' pool) differ from that run's: an edited "
                "file, another --data-dir or shots file, or a newer xling choosing them otherwise "
                "(PAWS-X demonstrations, X-CSQA items with an empty answer, FLORES-200 demonstrations of a "
                "direction with Spanish since round 23; since round 24 PAWS-X asked in another --prompt-lang, "
                "JSON-lines documents read in segment_id order where a document's numbers run backwards "
                "beside another document's names, documents cut into other chunks: run it again with --overwrite)")
    return ""


MARKER = RUN_MARKER     # only xling writes it: the folder is a run xling may replace
META_EVAL_MARKER = "xling run folder (meta-eval)\n"   # the marker's text in a meta-evaluation's folder
LOCK = ".xling.lock"     # held (flock) by the one process writing the run
# --overwrite moves the old run here until the new one has written something: a new run that
# fails first (a model that does not load, Ctrl-C) gives the old one back
ASIDE = ".xling-overwritten"
# ... and here once the new run writes its first file (one rename: the old run is then gone,
# never put back over the new run's files by a later resume), before it is deleted
DISCARDED = ".xling-overwritten-discarded"
# Identity keys added after run folders already existed: a folder whose identity lacks one is
# resumed (its identity kept as it was), not refused as "a different config".
FILE_SETTINGS = frozenset({"template", "gen_template", "shots_file"})
IDENTITY_ADDED_LATER = frozenset({"data_sha256", "chooser_options", "batch_size", "base_model_content",
                                  "judge_model_content"})
# Keys that left the identity: an older folder holding one is resumed (a sweep's seeds and ratios,
# which choose its units: each unit is kept under its own name; a greedy MT run's candidate
# settings, which change none of its outputs: translation.selection.CANDIDATE_ONLY).
IDENTITY_DROPPED_LATER = frozenset({"seeds", "ratios", "sampling", "temperature", "top_p", "epsilon", "utility",
                                    "qe", "pseudo_refs", "test_name"})
# Keys added later inside one identity entry: the model fingerprint's dtype (an HF run on a GPU
# before it was recorded ran in bfloat16, as it does now) and vLLM's resolved one.
FINGERPRINT_ADDED_LATER = frozenset({"dtype", "dtype_run"})


LANGUAGE_LISTS = frozenset({"langs", "premise_langs", "hypothesis_langs", "pairs"})


def _language_codes(codes: list) -> list[str] | None:
    """Language codes or directions ("tha-eng") however spelled, as xling's own (None where one
    is neither: a named set of directions is compared as written)."""
    from ..data.languages import Direction, is_language, resolve

    try:
        return [Direction.parse(str(code)).name if "-" in str(code) and not is_language(str(code))
                else resolve(str(code)).code for code in codes]
    except XlingError:
        return None


def _same(key: str, old, new) -> bool:
    """Whether an identity entry is unchanged, counting keys added since the old one was made."""
    if old == new:
        return True
    if key == "model" and isinstance(old, str) and isinstance(new, str):   # "tiny/" is "./tiny"
        return os.path.normpath(old) == os.path.normpath(new)
    if key == "data" and isinstance(old, str) and isinstance(new, str):
        # the user's files named two ways (text:corp/x.{lang}, text:./corp/x.{lang}, absolute)
        was, now = _user_files(old), _user_files(new)
        return was is not None and now is not None and was[0] == now[0] and _one_path(was[1], now[1])
    if key in FILE_SETTINGS and isinstance(old, str) and isinstance(new, str):
        # one file named two ways (relative, absolute); its content is in the identity apart
        # (template_hash, templates, data_sha256)
        try:
            return os.path.samefile(old, new)
        except OSError:
            return False
    if key in ("base_url", "judge_base_url") and isinstance(old, str) and isinstance(new, str):
        # one server however spelt (http://h:8000, .../v1/), or stored when ?api-version= values were hidden
        return same_server(old, new) or old in hidden_query_values(new)
    if key in ("utility", "qe") and isinstance(old, str) and isinstance(new, str):
        # one metric however spelt (stored as typed before round 25: "chrfpp", "Chrf")
        from ..metrics.registry import registered_name
        return registered_name(old) == registered_name(new)
    if key in LANGUAGE_LISTS and isinstance(old, list) and isinstance(new, list):
        # "th" is "tha", "tha_Thai"; and in any order (each direction's outputs are its own)
        codes, new_codes = _language_codes(old), _language_codes(new)
        return codes is not None and new_codes is not None and sorted(codes) == sorted(new_codes)
    if key == "templates" and isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        # a choice run's [ll, gen] hashes: None for the mode it does not run (older runs held both)
        return all(a == b or a is None or b is None for a, b in zip(old, new))
    if key == "prompt_lang" and isinstance(old, str) and isinstance(new, str):   # "zh" is "zh-Hans"
        codes = _language_codes([old])
        return codes is not None and codes == _language_codes([new])
    if key == "model_fingerprint" and isinstance(old, dict) and isinstance(new, dict):
        was, now = old.get("base_url"), new.get("base_url")
        if isinstance(was, str) and isinstance(now, str) and (was in hidden_query_values(now) or same_server(was, now)):
            # made when a URL's setting values were hidden; one server however spelt (LocalHost:
            # stored in lower case only with credentials, so adding a password changed the run)
            new = dict(new, base_url=old["base_url"])
        if _one_local_model(old, new):   # a local folder however named ("tiny/", "./tiny", its copy)
            old, new = dict(old, model=None), dict(new, model=None)
        return old == {k: v for k, v in new.items() if k in old or k not in FINGERPRINT_ADDED_LATER}
    return False


USER_FILE_DATA = ("text", "jsonl")   # data specs that name the user's own files


def _user_files(spec: str) -> tuple[str, str] | None:
    kind, colon, path = spec.partition(":")
    return (kind, path) if colon and kind in USER_FILE_DATA and path else None


def _one_path(old: str, new: str) -> bool:
    def where(path: str) -> str:
        return os.path.normpath(os.path.abspath(os.path.expanduser(path)))
    return where(old) == where(new)


def _one_local_model(old: dict, new: dict) -> bool:
    """Two fingerprints of local model folders with the same content digest: one model, whatever
    path named it (relative, absolute, a copy)."""
    revision = old.get("revision")
    return isinstance(revision, str) and revision.startswith("local-") and new.get("revision") == revision


def _differs(key: str, old: dict, new: dict) -> bool:
    """Whether two identities differ on `key` (a local model named by another path is the same
    model where the fingerprints' content digests agree)."""
    if _same(key, old.get(key), new.get(key)):
        return False
    before, after = old.get("model_fingerprint"), new.get("model_fingerprint")
    return not (key == "model" and isinstance(before, dict) and isinstance(after, dict)
                and _one_local_model(before, after))


def run_fingerprint(fingerprint: dict) -> dict:
    """A backend's fingerprint as a run's identity records it. An HF model's float32 is written
    out there: the output cache's keys leave it out (as before the dtype was recorded, so their
    entries stay valid), but a folder without it cannot be told from a GPU run made before then,
    which a GPU resume must not join (bfloat16 outputs beside float32 ones)."""
    if fingerprint.get("backend") == "hf" and "dtype" not in fingerprint:
        return dict(fingerprint, dtype="float32")
    return fingerprint
def same_setting(key: str, a: dict, b: dict) -> bool:
    """Whether two runs' identities agree on `key` as a resume compares them (a key added since
    one of them was made, a local model's spelling)."""
    if key in IDENTITY_ADDED_LATER and (key not in a or key not in b):
        return True
    return not _differs(key, a, b)


REWRITE = "run the experiment again to rewrite it (finished outputs come from the cache)"


def record_problem(record: dict) -> str | None:
    """What is wrong with one outputs record as report, rescore and prompt read it (None: fine):
    an MT record's texts, a choice record's gold label and scores."""
    if "gold" in record:   # NLI / multiple choice
        scores = record.get("ll_scores")
        # (an option the model cannot produce scores -inf, as the output cache keeps it)
        if scores is not None and not (isinstance(scores, list)
                                       and all(_number(v) or v == float("-inf") for v in scores)):
            return "'ll_scores' is not a list of numbers"
        n = len(scores) if isinstance(scores, list) else None
        if type(record["gold"]) is not int or record["gold"] < 0 or n is not None and record["gold"] >= n:
            return f"'gold' is {record['gold']!r}, not a label index" + (f" below {n}" if n else "")
        for key in ("ll_pred", "gen_pred"):
            if record.get(key) is not None and type(record[key]) is not int:
                return f"'{key}' is {record[key]!r}, not a label index"
        return None
    if not {"output", "raw", "prompt_hash"} & set(record):   # neither MT nor choice (a tuning unit)
        return None
    if not isinstance(record.get("output"), str):
        return "'output' is missing" if "output" not in record else f"'output' is {record['output']!r:.40}, not text"
    if "source" in record and not isinstance(record["source"], str):
        return "'source' is not text"
    if "source" in record and "reference" not in record:   # (rescore scores against it)
        return "'reference' is missing"
    return None


def _number(value, null: bool = False) -> bool:
    """A number as xling writes one: NaN is "no score" (a judge none of whose answers parsed),
    infinity never is (an edited file)."""
    return value is None and null or type(value) in (int, float) and abs(value) != float("inf")


def _check_metrics_entry(entry: dict) -> None:
    """The fields report and rescore read from one direction's (or cell's) metrics, with their
    types; ValueError on the first that is not what xling writes (an edited or damaged file)."""
    if "n" in entry and type(entry["n"]) is not int:
        raise ValueError("n")
    scores = entry.get("metrics", {})
    if not isinstance(scores, dict):
        raise ValueError("metrics")
    for result in scores.values():
        if not isinstance(result, dict) or not _number(result.get("score"), null=True) \
                or not isinstance(result.get("signature"), str) or not isinstance(result.get("name", ""), str):
            raise ValueError("a metric result")
    for mode in ("ll", "gen"):
        if mode not in entry:
            continue
        summary = entry[mode]
        if not isinstance(summary, dict) or not all(_number(summary.get(k)) for k in ("accuracy", "ci_low", "ci_high")
                                                    if k in summary or k == "accuracy"):
            raise ValueError(mode)
        confusion = summary.get("confusion", [])
        if not isinstance(confusion, list) or not all(isinstance(row, list) and all(type(v) is int for v in row)
                                                      for row in confusion):
            raise ValueError("confusion")


@dataclass
class RunHeader:
    """What a run's config.json holds before any output is written: the task, the identity a
    resumed run must match, every setting (credentials redacted), the directions (or cells,
    units) it writes outputs for, the model and data it ran on, and the packages' versions;
    `details` holds what one task adds (MT: segments, template, decoding)."""
    task: str
    identity: dict
    settings: dict
    directions: list[str]
    model: dict | None = None
    data: dict | None = None
    details: dict = field(default_factory=dict)
    packages: dict[str, str] = field(default_factory=package_versions)
    # identity keys left out because they are at their default (settings added later): an older
    # folder holding another value of one is another run (not a key dropped from the identity)
    at_default: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        header = {"task": self.task, "identity": self.identity, "settings": self.settings,
                  "directions": list(self.directions)}
        header |= {k: v for k, v in (("model", self.model), ("data", self.data)) if v is not None}
        return header | self.details | {"packages": self.packages}


class RunDir:
    def __init__(self, path: str | Path):
        if isinstance(path, str) and not path.strip():
            # Path("") is the working directory: an empty option must not turn into "."
            raise XlingError("the run folder path is empty")
        self.path = Path(path)
        self._lock: IO | None = None
        self._created = False
        self._made_parents: list[Path] = []
        self._aside: Path | None = None   # the old run --overwrite set aside, until the new one writes

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.json"

    def outputs_path(self, direction: str) -> Path:
        return self.path / "outputs" / f"{direction}.jsonl"

    def exists(self) -> bool:
        return self.config_path.is_file()

    def is_xling_run(self) -> bool:
        """Whether xling made this folder: its marker, or (runs made before the marker) a
        config.json in xling's own shape."""
        return is_run_folder(self.path)

    # -- claiming and locking ------------------------------------------------------------------
    def claim(self) -> "RunDir":
        """Check the folder can hold this run and lock it against a second writer; call before
        any model loads, so a bad --out fails at once. Released by release() or at exit."""
        if self._lock is not None:
            return self
        self._check_place()
        if self.path.is_dir() and not self.is_xling_run() and \
                any(p.name != LOCK for p in self.path.iterdir()):
            raise XlingError(f"{self.path} exists and is not an xling run folder; xling never "
                             "writes into or clears a folder it did not make: choose another --out")
        try:
            while True:
                self._created = not self.path.exists()
                # the folders made for it (runs/mbr/), removed with it if it is never used
                self._made_parents = [p for p in self.path.parents if not p.exists()]
                self.path.mkdir(parents=True, exist_ok=True)
                self._lock = acquire(self.path / LOCK, str(self.path))
                # a run that ended between our open and our lock has removed its unused folder
                # and the lock file we hold: claim the one now at that path instead
                if self._holds_the_lock():
                    break
                self._lock.close()   # (the loop claims again)
        except OSError as exc:
            self._lock = None
            self._remove_unclaimed()
            raise XlingError(f"cannot write the run folder {self.path}: {exc.strerror}") from exc
        return self

    def _holds_the_lock(self) -> bool:
        """Whether the lock file at the folder's path is still the one this process locked."""
        assert self._lock is not None
        try:
            return os.path.samestat(os.fstat(self._lock.fileno()), os.stat(self.path / LOCK, follow_symlinks=False))
        except FileNotFoundError:
            return False

    def _check_still_ours(self) -> None:
        """Before each write: a folder removed or moved while its run went on may have been taken
        by another run since, which a write by path would fill with this run's outputs and scores."""
        if self._lock is not None and not self._holds_the_lock():
            raise XlingError(f"{self.path} was removed or moved while this run was writing it (another run "
                             "may hold that path now): nothing more is written there; run it again")

    def _remove_unclaimed(self) -> None:
        """The folders a failed claim() made (a full disk: the lock's pid could not be written),
        removed as release() removes an unused run's; acquire() removed its own lock file."""
        if self._created and self.path.exists():
            try:
                self.path.rmdir()   # only while empty
            except OSError:
                return
        self._remove_made_parents()

    def _remove_made_parents(self) -> None:
        for parent in self._made_parents:   # innermost first
            if not parent.exists():   # (mkdir stopped before it)
                continue
            try:
                parent.rmdir()   # only while empty
            except OSError:
                break

    def _check_place(self) -> None:
        """--out names a folder, or nothing yet: never a file, a device or a broken link, nor a
        folder inside another run (its outputs/ holds only what its run writes)."""
        import stat

        inside = next((p for p in Path(os.path.abspath(self.path)).parents if (p / MARKER).is_file()), None)
        if inside is not None and not (self.path / MARKER).is_file():   # (one made before this check resumes)
            raise XlingError(f"--out {self.path} is inside the run folder {inside}, which holds only what "
                             "its run writes: choose another --out")
        try:
            info = os.stat(self.path)
        except OSError as exc:
            if os.path.islink(self.path):
                raise XlingError(f"--out {self.path} is a symbolic link that leads nowhere (a loop "
                                 "or a missing target); choose a folder") from None
            if isinstance(exc, FileNotFoundError):
                return
            raise XlingError(f"--out {self.path}: {exc.strerror}; choose a folder") from None
        if not stat.S_ISDIR(info.st_mode):
            kind = "a file" if stat.S_ISREG(info.st_mode) else describe_kind(info.st_mode)
            raise XlingError(f"--out {self.path} is {kind}, not a folder; choose a folder")

    def being_written(self) -> bool:
        """Whether another xling process is writing this run now."""
        return self._lock is None and is_held(self.path / LOCK)

    def release(self) -> None:
        """Unlock; a folder this process made and never used is removed again."""
        if self._lock is None:
            return
        if not self._holds_the_lock():   # removed or moved meanwhile: the path is no longer ours to tidy
            self._aside = None
        elif self._aside is not None:   # the new run wrote nothing: the old one comes back
            self._settle_aside(restore=True)
        # the folder goes while still locked: another run claiming it in between would lose it
        if self._created and self._holds_the_lock() and self._never_used():
            shutil.rmtree(self.path, ignore_errors=True)
            self._remove_made_parents()
        self._lock.close()
        self._lock = None

    def _never_used(self) -> bool:
        """Nothing in the folder but the lock, or what `prepare` makes before its config (the
        marker, an empty outputs/: a full disk refused config.json, and they were left behind)."""
        outputs = self.path / "outputs"
        return all(p.name in (LOCK, MARKER) or p == outputs and p.is_dir() and not any(p.iterdir())
                   for p in self.path.iterdir())

    def __enter__(self) -> "RunDir":
        return self.claim()

    def __exit__(self, *exc) -> None:
        self.release()

    # -- config ----------------------------------------------------------------------------------
    def read_config(self) -> dict:
        if not self.exists():
            raise XlingError(f"{self.path} does not exist" if not os.path.lexists(self.path)
                             else f"{self.path} is not a run folder (no config.json)")
        try:
            config = json.loads(self.config_path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            if not (self.path / MARKER).is_file():   # (a model's folder: --overwrite refuses it)
                raise XlingError(f"{self.path} is not an xling run folder (its config.json is not "
                                 "xling's)") from exc
            raise XlingError(f"{self.config_path} is damaged (not valid JSON); run the "
                             "experiment again with --overwrite to replace the run") from exc
        except OSError as exc:
            raise XlingError(f"cannot read {self.config_path}: {exc.strerror}") from exc
        if not isinstance(config, dict) or not isinstance(config.get("task"), str):
            if not (self.path / MARKER).is_file():
                raise XlingError(f"{self.path} is not an xling run folder (its config.json is not xling's)")
            raise XlingError(f"{self.config_path} is damaged (not an xling run config); run the "
                             "experiment again with --overwrite to replace the run")
        return config

    def prepare(self, config: RunHeader | dict, overwrite: bool = False) -> None:
        """Claim the folder for a run with this header. A folder holding outputs of a run with
        another identity is refused unless `overwrite`; then its old outputs and metrics go (and
        nothing else: xling deletes only files its own records say it wrote). A folder whose
        run wrote no output yet (it failed, or was stopped early) simply takes the new config."""
        at_default = config.at_default if isinstance(config, RunHeader) else {}
        if isinstance(config, RunHeader):
            config = config.to_dict()
        self.claim()
        self._check_still_ours()   # (a run claimed earlier whose folder has gone since changes nothing there)
        if (self.path / DISCARDED).exists():   # an old run overwritten, killed while being deleted
            shutil.rmtree(self.path / DISCARDED, ignore_errors=True)
        if (self.path / ASIDE).is_dir():
            # an --overwrite killed before its new run wrote anything (the first write removes the
            # folder), or while putting the old run back: the old run comes back whole
            self._aside = self.path / ASIDE
            self._settle_aside(restore=True)
        marker = self.path / MARKER
        if marker.is_file() and marker.read_text(encoding="utf-8", errors="replace") == META_EVAL_MARKER:
            raise XlingError(f"{self.path} holds a meta-evaluation; a {config['task']} run writes a folder of "
                             "its own: choose another --out")
        if self.exists():
            try:
                old = self.read_config()
            except XlingError:
                if not overwrite:
                    raise
                old = {}
            found = old.get("identity")
            old_identity: dict = found if isinstance(found, dict) else {}
            changed = sorted(k for k in set(old_identity) | set(config["identity"])
                             if _differs(k, old_identity, config["identity"])
                             and not (k in IDENTITY_ADDED_LATER and k not in old_identity)
                             and not (k in IDENTITY_DROPPED_LATER and k not in config["identity"]
                                      and (k not in at_default or _same(k, old_identity[k], at_default[k]))))
            if not isinstance(found, dict) or changed:
                if not overwrite and self._written(old):
                    # the data digest follows from the settings: named only when nothing else changed
                    shown = [k for k in changed if k != "data_sha256"] or changed
                    given = (f"; data {config['identity'].get('data')} now, {old_identity.get('data')} in the run"
                             if "data" in shown else "")
                    raise XlingError(f"{self.path} holds a run with a different config (differs in: "
                                     f"{', '.join(shown)}{given}){_why(shown)}; pass --overwrite or "
                                     "choose another --out")
                self._clear(old, config)
                old = {}
            if old:   # a folder made before a key was added keeps its identity as it was
                config = dict(config, identity={k: old_identity[k] if k in old_identity else v
                                                for k, v in config["identity"].items()
                                                if k in old_identity or k not in IDENTITY_ADDED_LATER})
            config = dict(config, created=old.get("created", config.get("created")))
        try:
            (self.path / MARKER).write_text("xling run folder: `--overwrite` may replace it\n",
                                            encoding="utf-8")
            (self.path / "outputs").mkdir(parents=True, exist_ok=True)
            # Temporary files of a run that was killed mid-write: the real files are intact.
            for folder in (self.path, self.path / "outputs"):
                for stale in folder.glob(".*.partial"):
                    stale.unlink(missing_ok=True)
        except OSError as exc:
            raise XlingError(f"cannot write the run folder {self.path}: {exc.strerror}") from exc
        self._check_still_ours()
        _write_json(self.config_path, dict(config, created=config.get("created") or time.strftime("%Y-%m-%dT%H:%M:%S")))

    def _own_outputs(self, *configs: dict) -> list[Path]:
        """The outputs files that these configs say xling writes (names checked: a direction
        name is one plain file name, never a path)."""
        paths = []
        for config in configs:
            names = config.get("directions")
            for name in names if isinstance(names, list) else []:
                if isinstance(name, str) and name and Path(name).name == name and not name.startswith("."):
                    paths.append(self.outputs_path(name))
        return paths

    def _written(self, config: dict) -> bool:
        """Whether the run of `config` has written anything worth keeping."""
        return self.metrics_path.exists() or any(p.exists() for p in self._own_outputs(config))

    def _clear(self, old: dict, new: dict) -> None:
        """Set aside what xling wrote for the old run: the outputs files its config names (and
        any at the new run's names, which the new run replaces), metrics.json and config.json.
        They are deleted once the new run writes its first file, and put back if it writes none."""
        aside = self.path / ASIDE
        try:
            (aside / "outputs").mkdir(parents=True, exist_ok=True)
            for path in (self.config_path, self.metrics_path, *self._own_outputs(old, new)):
                if path.exists():
                    os.replace(path, aside / path.relative_to(self.path))
        except OSError as exc:
            raise XlingError(f"cannot set the old run of {self.path} aside: {exc.strerror}") from exc
        self._aside = aside

    def _settle_aside(self, restore: bool) -> None:
        """The old run set aside by --overwrite: moved back (the new run wrote nothing), or gone."""
        aside, self._aside = self._aside, None
        if aside is None:
            return
        if restore:
            for path in sorted(p for p in aside.rglob("*") if p.is_file()):
                os.replace(path, self.path / path.relative_to(aside))
            shutil.rmtree(aside, ignore_errors=True)
            return
        discarded = self.path / DISCARDED
        shutil.rmtree(discarded, ignore_errors=True)
        try:
            os.replace(aside, discarded)
        except OSError as exc:
            raise XlingError(f"cannot remove the overwritten run in {aside}: {exc.strerror}") from exc
        shutil.rmtree(discarded, ignore_errors=True)

    # -- outputs ---------------------------------------------------------------------------------
    def write_outputs(self, direction: str, records: list[dict]) -> str:
        """Write one direction's records (atomically); their digest, hashed from the text
        written rather than read back."""
        self._check_still_ours()
        text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        try:   # a finished run re-run: the file already holds these records (left as it is)
            same = self.outputs_path(direction).read_bytes() == text.encode("utf-8")
        except OSError:
            same = False
        if same:
            self._settle_aside(restore=False)
            return digest
        with atomic_writer(self.outputs_path(direction)) as handle:
            handle.write(text)
            handle.flush()
            # written (a full disk has failed it, and the old run comes back): the old one overwritten
            # goes before the new file takes its place
            self._settle_aside(restore=False)
        return digest

    def outputs_digest(self, direction: str) -> str:
        try:
            return hashlib.sha256(self.outputs_path(direction).read_bytes()).hexdigest()
        except OSError as exc:
            raise XlingError(f"cannot read {self.outputs_path(direction)}: {exc.strerror}") from exc

    def read_outputs(self, direction: str) -> list[dict]:
        """The records of one direction; a damaged line is named with what to do."""
        path = self.outputs_path(direction)
        if not path.is_file():
            raise XlingError(f"{self.path} has no outputs for {direction}")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise XlingError(f"cannot read {path}: {exc.strerror}") from exc
        records = []
        for number, raw in enumerate(data.split(b"\n"), 1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
            except ValueError:   # not JSON, or not UTF-8 (a character cut in two)
                record = None
            problem = "not a JSON object" if not isinstance(record, dict) else record_problem(record)
            if problem:
                raise XlingError(f"{path}, line {number}: damaged record ({problem}); {REWRITE}")
            records.append(record)
        config = self.read_config()
        expected = config.get("segments")   # MT: per direction; NLI / multiple choice: per cell
        if not isinstance(expected, int) and isinstance(config.get("items"), dict):
            expected = config["items"].get(direction)
        if isinstance(expected, int) and len(records) != expected:
            raise XlingError(f"{path} holds {len(records)} of its {expected} records (cut short?); {REWRITE}")
        return records

    def directions(self) -> list[str]:
        """The directions of this run that have outputs, in the config's order (files that the
        config does not name are not this run's)."""
        return [p.stem for p in self._own_outputs(self.read_config()) if p.is_file()]

    # -- metrics ---------------------------------------------------------------------------------
    def read_metrics(self, recover: bool = False) -> dict:
        """metrics.json. Metrics can always be recomputed from the outputs: with `recover`, a
        damaged file is set aside with one warning (the caller recomputes); without, it is an
        error that says how to recompute it."""
        if not self.metrics_path.is_file():
            return {"directions": {}}
        try:
            metrics = json.loads(self.metrics_path.read_text(encoding="utf-8"))
            if not isinstance(metrics, dict) or not isinstance(metrics.get("directions"), dict) or \
                    not all(isinstance(e, dict) for e in metrics["directions"].values()):
                raise ValueError("not xling's metrics")
            for entry in metrics["directions"].values():
                _check_metrics_entry(entry)
        except (ValueError, UnicodeDecodeError):
            if not recover:
                raise XlingError(f"{self.metrics_path} is damaged; `xling rescore {self.path} -m "
                                 "METRICS` recomputes it from the outputs") from None
            print(f"xling: warning: {self.metrics_path} was damaged; recomputing the metrics from "
                  "the outputs", file=sys.stderr)
            return {"directions": {}}
        except OSError as exc:
            raise XlingError(f"cannot read {self.metrics_path}: {exc.strerror}") from exc
        return metrics

    def write_metrics(self, metrics: dict) -> None:
        self._check_still_ours()
        self._settle_aside(restore=False)
        _write_json(self.metrics_path, metrics)
