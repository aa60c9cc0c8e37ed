"""How a task reaches its model: the settings of every registered backend (xling.backends.registry)
in one flat dataclass, inherited by each task's config, so that YAML keys and command-line
options stay the flat names users type (--base-url, --tensor-parallel-size). `section()` hands a
backend only its own settings, and refuses a setting given for another backend."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from typing import Any, cast, get_type_hints

from ..errors import XlingError
from ..secrets import check_server_url, redact_url
from ..settings import Checked, setting
from .choice import encoder_decoder_reason, hf_only_reason, resolve_backend
from .registry import BUILTIN, BackendKind, backends, get_backend, setting_fields, takers


@dataclass(frozen=True)
class BackendChoice:
    """One backend and its own settings: what a backend's loader receives."""
    kind: BackendKind
    settings: Any                  # an instance of kind.settings

    @property
    def name(self) -> str:
        return self.kind.name


class _BackendSettingsBase(Checked):
    NON_IDENTITY: tuple[str, ...] = ()   # set by each task config
    # Settings added after runs already existed: left out of the identity at their default, so
    # a run folder made before them is resumed, not refused as "a different config".
    ADDED_LATER: tuple[str, ...] = ()

    def __post_init__(self):
        super().__post_init__()

        for name, option in (("base_url", "--base-url"), ("judge_base_url", "--judge-base-url")):
            check_server_url(getattr(self, name, None), option)
        if self.backend == "auto":   # chosen now, so config.json and the identity hold what runs

            self.backend = resolve_backend("auto", bool(getattr(self, "static_cache", False)), self._hf_only)

    def _hf_only(self) -> str | None:
        """Why these settings need transformers' path, which `auto` then takes (vLLM refuses them)."""
        return hf_only_reason(getattr(self, "select", "greedy"), getattr(self, "candidates", 1),
                              getattr(self, "sampling", None), getattr(self, "epsilon", 0),
                              getattr(self, "temperature", 1.0)) \
            or encoder_decoder_reason(getattr(self, "model", None))

    def public_settings(self) -> dict:
        """Every setting, as stored in a run folder: credentials in the URL are never kept."""

        values = dataclasses.asdict(cast(Any, self))
        for key in ("base_url", "judge_base_url"):
            if key in values:
                values[key] = redact_url(values[key])
        return values

    def identity(self) -> dict:
        """The settings that make a run what it is (a run folder resumes only with the same)."""
        defaults = {f.name: f.default for f in fields(cast(Any, self))}
        quiet = {f.name for f in fields(cast(Any, self)) if f.metadata.get("output") is False}
        return {k: v for k, v in self.public_settings().items() if k not in self.NON_IDENTITY
                and k not in quiet and not (k in self.ADDED_LATER and v == defaults.get(k))
                and not (k in self._other_plugins_settings() and v == defaults.get(k))}

    def at_default(self) -> dict:
        """The settings identity() leaves out at their default value (those added later), with it."""
        defaults = {f.name: f.default for f in fields(cast(Any, self))}
        return {k: defaults[k] for k in self.ADDED_LATER if k in defaults and getattr(self, k) == defaults[k]}

    def _other_plugins_settings(self) -> set[str]:
        """Settings only plugin backends other than the chosen one take: at their defaults they
        say nothing of this run, so installing or removing a plugin leaves every run resumable."""
        kinds = backends().values()
        builtin = {n for k in kinds if k.load.__module__ in BUILTIN for n in k.setting_names()}
        chosen = set(backends()[self.backend].setting_names()) if self.backend in backends() else set()
        return {n for k in kinds for n in k.setting_names()} - builtin - chosen

    def shared_settings(self) -> tuple[str, ...]:
        """Backend settings another component of the task uses too (never refused)."""
        return ()

    def section(self, static_cache: bool | None = None) -> BackendChoice:
        """The chosen backend with its own settings. A setting of another backend given here
        (not at its default) is refused, never silently dropped."""
        kind = get_backend(self.backend)
        own = set(kind.setting_names())
        static_cache = bool(getattr(self, "static_cache", False)) if static_cache is None else static_cache
        given = [f.name for f in setting_fields().values() if f.name not in own
                 and f.name not in self.shared_settings() and getattr(self, f.name) != f.default]
        if static_cache and "static_cache" not in kind.load_options:
            given.append("static_cache")
        if given:
            others = sorted({t for name in given for t in takers(name)})
            raise XlingError(f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} to --backend "
                             f"{' or '.join(others)}, not to --backend {kind.name}")
        return BackendChoice(kind, kind.settings(**{name: getattr(self, name) for name in own}))


def _make_settings_class() -> type:
    """The flat dataclass of `backend` and every registered backend's settings."""
    spec = [("backend", str, setting("auto", "auto: vllm where a CUDA device is present and vLLM imports, "
                                             "else hf; " + "; ".join(f"{k.name}: {k.help}" for k in
                                                                     backends().values()) + ".",
                                     choices=("auto", *backends())))]
    for f in setting_fields().values():
        owner = next(k.settings for k in backends().values() if f.name in k.setting_names())
        spec.append((f.name, get_type_hints(owner)[f.name],
                     field(default=f.default, metadata=f.metadata)))
    cls = dataclasses.make_dataclass("BackendSettings", spec, bases=(_BackendSettingsBase,), kw_only=True,
                                     namespace={"__module__": __name__, "__doc__": (
                                         "How to reach the model: `backend` and the settings of every "
                                         "registered backend (each takes only its own).")})
    return cls


BackendSettings: Any = _make_settings_class()
