"""Every backend through the same cases (tests/backend_conformance.py): hf and seq2seq on tiny
real models, http against a scripted OpenAI-compatible server; vllm runs them in its venv
(tests/vllmenv/probe.py, asserted in tests/test_vllm.py)."""
import pytest
from backend_conformance import check
from servers import ScriptedModel

from xling.backends import load_backend
from xling.backends.registry import backends


@pytest.fixture(scope="module")
def scripted():
    server = ScriptedModel()
    yield server
    server.close()


@pytest.mark.parametrize("name", ["hf", "seq2seq", "http"])
def test_backend_conforms(name, tiny_causal, tiny_seq2seq, scripted):
    if name == "http":
        backend = load_backend("toy", backend="http", base_url=scripted.url, quiet=True)
    else:
        backend = load_backend(str(tiny_causal if name == "hf" else tiny_seq2seq), backend="hf", quiet=True)
    assert check(backend.backend) == []


def test_every_builtin_backend_is_covered():
    """A new built-in backend joins this test (or the vLLM probe) by name."""
    assert set(backends()) == {"hf", "http", "vllm"}
