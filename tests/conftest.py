import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

REPO = Path(__file__).resolve().parent.parent


def shared_data() -> Path | None:
    for candidate in (os.environ.get("XLING_DATA"), REPO.parent / "shared" / "data"):
        if candidate and (Path(candidate) / "flores200").is_dir():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    root = shared_data()
    if root is None:
        pytest.skip("real evaluation data not found: set XLING_DATA or provide ../shared/data")
    return root


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    # Each test gets its own output cache (the embedded model's converted checkpoint is shared
    # through XLING_MODEL_CACHE so it is converted at most once per machine).
    monkeypatch.setenv("XLING_CACHE", str(tmp_path / "xling-cache"))
    monkeypatch.setenv("XLING_MODEL_CACHE", os.environ.get("XLING_MODEL_CACHE")
                       or str(Path.home() / ".cache" / "xling" / "models"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_causal(tmp_path_factory) -> Path:
    from tiny_models import build_causal
    return build_causal(tmp_path_factory.mktemp("tiny-causal"))


@pytest.fixture(scope="session")
def tiny_causal_base(tmp_path_factory) -> Path:
    """The same shape without a chat template (a 'base' model)."""
    from tiny_models import build_causal
    return build_causal(tmp_path_factory.mktemp("tiny-base"), with_chat_template=False)


@pytest.fixture(scope="session")
def tiny_seq2seq(tmp_path_factory) -> Path:
    from tiny_models import build_seq2seq
    return build_seq2seq(tmp_path_factory.mktemp("tiny-seq2seq"))


@pytest.fixture(scope="session")
def oracle(tmp_path_factory):
    """unbabel-comet 2.2.7 and mbrs 0.1.8 in the reference venv, started once per session. Its
    hub cache is a folder of the session's own (tests put tiny models there under hub names)."""
    from oracle import Oracle, missing_reason

    reason = missing_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the oracle comparisons, but {reason}")
        pytest.skip(reason)
    process = Oracle(hub_cache=oracle_hub_cache(tmp_path_factory))
    yield process
    process.close()


def oracle_hub_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.getbasetemp() / "oracle-hub-cache"


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Headless chromium with its console and network logged (skipped without it, failing on CI)."""
    from browser import start_browser

    driver = start_browser(tmp_path_factory)
    yield driver
    driver.quit()
