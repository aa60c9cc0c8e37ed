"""How a task reaches its model: the settings every backend takes, owned here and inherited by
each task's config."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

from ..settings import Checked, setting

@dataclass(kw_only=True)
class BackendSettings(Checked):
    """How to reach the model: load it here (hf) or call an OpenAI-compatible server (http)."""
    backend: str = setting("hf", "hf: load the model here; http: an OpenAI-compatible server (vLLM, TGI, ...).")
    base_url: str | None = setting(None, "Server URL for --backend http, e.g. http://127.0.0.1:8000/v1.")
    api_key_env: str | None = setting(None, "Environment variable holding the API key (default: "
                                            "XLING_API_KEY, then OPENAI_API_KEY).")
    api_key_file: str | None = setting(None, "File holding the API key.")
    concurrency: int = setting(8, "Requests in flight (http).")
    request_timeout: float = setting(120.0, "Seconds per request (http).")
    max_retries: int = setting(5, "Retries of a failed request, with exponential backoff (http).")
    revision: str | None = setting(None, "Hub revision of the model (hf).")
    trust_remote_code: bool = setting(False, "Allow model code from the hub to run (hf).")

    # Settings that change no output, shared by every task.
    TRANSPORT = ("api_key_env", "api_key_file", "concurrency", "request_timeout", "max_retries")
    NON_IDENTITY = ()  # set by each task config

    def public_settings(self) -> dict:
        """Every setting, as stored in a run folder: credentials in the URL are never kept."""
        from ..secrets import redact_url

        values = dataclasses.asdict(self)
        for key in ("base_url", "judge_base_url"):
            if key in values:
                values[key] = redact_url(values[key])
        return values

    # Settings added after runs already existed: left out of the identity at their default, so
    # a run folder made before them is resumed, not refused as "a different config".
    ADDED_LATER = ()

    def identity(self) -> dict:
        defaults = {f.name: f.default for f in fields(self)}
        return {k: v for k, v in self.public_settings().items() if k not in self.NON_IDENTITY
                and not (k in self.ADDED_LATER and v == defaults.get(k))}
