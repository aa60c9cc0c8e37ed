"""A run is a folder: config.json (every setting, resolved model revision, template hash,
package versions), one outputs/<direction>.jsonl per direction, and metrics.json.

Every file is written atomically (temporary file + rename), so a run killed at any moment leaves
either the old or the new version of each file, never a torn one; generation itself resumes from
the content cache (xling.cache).
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

from .errors import XlingError
from .textio import atomic_writer

PACKAGES = ("xling", "torch", "transformers", "tokenizers", "sacrebleu", "unbabel-comet",
            "lingua-language-detector", "numpy")


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def _write_json(path: Path, data) -> None:
    with atomic_writer(path) as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2)
        handle.write("\n")


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)

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

    # -- config ----------------------------------------------------------------------------------
    def read_config(self) -> dict:
        if not self.exists():
            raise XlingError(f"{self.path} is not a run folder (no config.json)")
        try:
            return json.loads(self.config_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise XlingError(f"{self.config_path} is not valid JSON") from exc

    def prepare(self, config: dict, overwrite: bool = False) -> None:
        """Claim the folder for a run with this config. A folder holding a run with another
        identity is refused unless `overwrite`; then its old outputs and metrics go."""
        if self.exists():
            old = self.read_config()
            if old.get("identity") != config["identity"]:
                changed = sorted(k for k in set(old.get("identity", {})) | set(config["identity"])
                                 if old.get("identity", {}).get(k) != config["identity"].get(k))
                if not overwrite:
                    raise XlingError(f"{self.path} holds a run with a different config (differs in: "
                                     f"{', '.join(changed)}); pass --overwrite or choose another --out")
                shutil.rmtree(self.path / "outputs", ignore_errors=True)
                self.metrics_path.unlink(missing_ok=True)
            config = dict(config, created=old.get("created", config.get("created")))
        elif self.path.exists() and any(self.path.iterdir()) and not overwrite:
            raise XlingError(f"{self.path} exists and is not a run folder; choose another --out")
        (self.path / "outputs").mkdir(parents=True, exist_ok=True)
        # Temporary files of a run that was killed mid-write: the real files are intact.
        for folder in (self.path, self.path / "outputs"):
            for stale in folder.glob(".*.partial"):
                stale.unlink(missing_ok=True)
        _write_json(self.config_path, dict(config, created=config.get("created") or time.strftime("%Y-%m-%dT%H:%M:%S")))

    # -- outputs ---------------------------------------------------------------------------------
    def write_outputs(self, direction: str, records: list[dict]) -> str:
        path = self.outputs_path(direction)
        with atomic_writer(path) as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        return self.outputs_digest(direction)

    def outputs_digest(self, direction: str) -> str:
        return hashlib.sha256(self.outputs_path(direction).read_bytes()).hexdigest()

    def read_outputs(self, direction: str) -> list[dict]:
        path = self.outputs_path(direction)
        if not path.is_file():
            raise XlingError(f"{self.path} has no outputs for {direction}")
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]

    def directions(self) -> list[str]:
        order = self.read_config().get("directions") or []
        present = {p.stem for p in (self.path / "outputs").glob("*.jsonl")}
        return [d for d in order if d in present] + sorted(present - set(order))

    # -- metrics ---------------------------------------------------------------------------------
    def read_metrics(self) -> dict:
        if not self.metrics_path.is_file():
            return {"directions": {}}
        return json.loads(self.metrics_path.read_text(encoding="utf-8"))

    def write_metrics(self, metrics: dict) -> None:
        _write_json(self.metrics_path, metrics)
