"""The GPU path's choices, tested on the CPU (issue 34): xling's forward passes run with the
attention kernels it picks (never cuDNN's, which re-plans per shape) and leave PyTorch's own
choice untouched outside them; `--backend auto` picks HF here and says why, and vLLM where a
CUDA device is present and vLLM imports; the grouped-query decode attention and the in-place
KV cache give the outputs of the plain path."""
import sys

import pytest
import torch

from xling.backends import attention, choice
from xling.backends.base import GenerationRequest, Prompt
from xling.backends.batching import Batching
from xling.backends.kvcache import Slots
from xling.data.languages import check_direction
from xling.translation.translator import Translator

SOURCES = ["나는 사과를 좋아한다.", "저는 학생입니다.", "바다가 조용하다.", "고양이가 창문 옆에서 잔다.",
           "새 문장.", "기차가 늦게 도착했다."]


@pytest.fixture(scope="module")
def translator(tiny_causal_base):
    return Translator(str(tiny_causal_base), cache=False)


def _requests(translator):
    return [r for r, _ in translator.requests(SOURCES, *check_direction("ko", "en")).values()]


def test_every_forward_runs_in_xlings_kernel_scope_and_the_scope_ends_with_the_call(translator):
    backend = translator.backend
    model = backend.model
    seen = []
    hook = model.register_forward_pre_hook(lambda module, args: seen.append(torch.backends.cuda.cudnn_sdp_enabled()))
    try:
        backend.with_batching(Batching(3, refill=True)).generate(_requests(translator), translator.decoding)
        decoded = len(seen)
        backend.loglikelihood([("Korean: 물.\nEnglish:", [" Water.", " Fire."])])
        static = backend.with_batching(Batching(2))      # a copy on the same weights
        static.static_cache = True
        static.generate(_requests(translator)[:2], translator.decoding)
    finally:
        hook.remove()
    assert decoded > 10 and len(seen) > decoded       # prefills, decoding steps, scoring, generate()
    assert not any(seen)                              # cuDNN attention never allowed inside
    assert torch.backends.cuda.cudnn_sdp_enabled()    # and PyTorch's own choice back outside


def _sdp_flags() -> dict:
    return {name: getattr(torch.backends.cuda, f"{name}_sdp_enabled")()
            for name in ("flash", "mem_efficient", "math", "cudnn")}


@pytest.mark.parametrize("math_off", [False, True], ids=["defaults", "math-off-by-the-user"])
def test_calls_overlapping_in_threads_give_pytorchs_kernel_choice_back(math_off):
    """(audit round 25) each call restored the flags it saw on entry: the first of two
    overlapping calls to leave turned cuDNN back on under the other, and the last turned it off
    for the rest of the process. (The flags are readable on a CPU build too.)"""
    import threading

    torch.backends.cuda.enable_math_sdp(not math_off)
    try:
        before = _sdp_flags()
        both_in, first_out = threading.Barrier(2, timeout=30), threading.Event()
        seen = {}

        def first():
            with attention.kernel_scope():
                both_in.wait()
            first_out.set()

        def second():
            with attention.kernel_scope():
                both_in.wait()
                first_out.wait(30)
                seen.update(_sdp_flags())   # still xling's choice while this call runs

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert first_out.is_set() and seen == {"flash": True, "mem_efficient": True, "math": True, "cudnn": False}
        assert _sdp_flags() == before and before["cudnn"] and before["math"] is not math_off
    finally:
        torch.backends.cuda.enable_math_sdp(True)


def test_the_kernel_choice_is_recorded_beside_the_batch_plan(translator):
    translator.translate(SOURCES[:2], "ko", "en")
    plan = translator.backend.stats()["plan"]
    assert plan["attention"]["sdpa_kernels"] == ["flash", "efficient", "math"]
    assert "cudnn" in plan["attention"]["excluded"]


def test_grouped_query_decoding_without_repeat_kv_gives_the_same_outputs(tiny_causal_base):
    plain = Translator(str(tiny_causal_base), cache=False)
    expected = plain.translate(SOURCES, "ko", "en")
    folded = Translator(str(tiny_causal_base), cache=False)
    attention.install_gqa_decode(folded.backend.model, force=True)   # xling's own registration
    assert folded.backend.model.config._attn_implementation == attention.XLING_SDPA
    assert attention.describe(folded.backend.model)["gqa_decode"] == "folded query heads"
    assert folded.translate(SOURCES, "ko", "en") == expected


def test_greedy_outputs_are_the_same_at_every_batch_size(translator):
    requests = _requests(translator)
    outputs = [translator.backend.with_batching(Batching(rows, refill=refill)).generate(requests, translator.decoding)
               for rows, refill in ((1, False), (2, True), (4, False), (6, True))]
    assert all(o == outputs[0] for o in outputs)


def test_slots_drop_rows_by_moving_only_the_last_ones():
    slots = Slots(torch.arange(6.0).reshape(6, 1).repeat(1, 3), dim=1)
    slots.reserve(4)
    assert slots.buf.shape[1] == 7 and torch.equal(slots.view()[:, 0], torch.arange(6.0))
    slots.move_rows(torch.tensor([1, 3]), torch.tensor([5, 4]), 4)    # rows 1 and 3 finished
    assert slots.view()[:, 0].tolist() == [0.0, 5.0, 2.0, 4.0]
    slots.append(torch.full((4, 1), 9.0))
    assert slots.view().shape == (4, 4) and slots.view()[:, -1].tolist() == [9.0] * 4


def test_stop_strings_are_checked_only_after_tokens_that_can_end_them(translator):
    lm = translator.backend.lm
    ask = lambda *stops: lm.stop_enders([GenerationRequest(prompt=Prompt(text="x"), max_new_tokens=4, stop=stops)])  # noqa: E731
    assert ask() == frozenset()
    enders = ask("]")
    bracket = lm.tokenizer("]", add_special_tokens=False)["input_ids"][-1]
    word = lm.tokenizer("apple", add_special_tokens=False)["input_ids"][0]
    assert bracket in enders and word not in enders
    assert ask("Q: ") is None                                  # ends in a space: every row is checked
    line_feeds = {i for i in lm.newline_token_ids() if "\n" in lm.tokenizer.decode([i])}   # (not a lone "\r")
    assert line_feeds and line_feeds <= ask("\n\n")


def test_auto_picks_hf_here_and_says_why(tmp_path):
    from helpers import xling

    assert choice.resolve_backend("auto") == "hf"
    result = xling("translate", "--src", "ko", "--tgt", "en", "--model", "embedded", "물.")
    assert result.returncode == 0
    assert "xling: backend hf (auto: no CUDA device" in result.stderr.decode()
    assert "backend hf" not in xling("translate", "--backend", "hf", "-s", "ko", "-t", "en", "물.").stderr.decode()


def test_auto_is_resolved_before_the_identity_so_a_run_keeps_the_backend_that_ran(tmp_path):
    from xling.runs.config import MTEvalConfig

    config = MTEvalConfig(out=str(tmp_path), pairs=["ko-en"])
    assert config.backend == "hf" and config.public_settings()["backend"] == "hf"
    assert config.identity()["backend"] == "hf"        # the same identity as runs made with --backend hf
    assert MTEvalConfig(out=str(tmp_path), pairs=["ko-en"], backend="hf").identity() == config.identity()


def _fake_vllm(tmp_path, monkeypatch, body="VERSION = 'fake'\n"):
    package = tmp_path / "fakevllm" / "vllm"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(body)
    monkeypatch.syspath_prepend(str(package.parent))
    # (the fake module must leave with the test: a later find_spec("vllm") found it in sys.modules,
    # and gpu_check's vLLM section then failed to load it)
    monkeypatch.setitem(sys.modules, "vllm", None)
    monkeypatch.delitem(sys.modules, "vllm")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)


def test_auto_picks_vllm_where_a_cuda_device_is_present_and_vllm_imports(tmp_path, monkeypatch):
    _fake_vllm(tmp_path, monkeypatch)
    assert choice.choose_backend() == ("vllm", "a CUDA device and vLLM are present")
    assert choice.resolve_backend("auto", static_cache=True) == "hf"    # static cache: transformers' path


def test_auto_takes_hf_for_candidates_vllm_cannot_draw(tmp_path, monkeypatch):
    """Beam-search candidates and epsilon sampling: vLLM refused them, so `auto` on a GPU failed."""
    from xling.runs.config import MTEvalConfig

    _fake_vllm(tmp_path, monkeypatch)
    chosen = [MTEvalConfig(out="x", pairs=["ko-en"], select="mbr", candidates=4, **extra).backend
              for extra in ({}, {"sampling": "beam"}, {"epsilon": 0.02})]
    assert chosen == ["vllm", "hf", "hf"]
    assert MTEvalConfig(out="x", pairs=["ko-en"], epsilon=0.02).backend == "vllm"   # greedy: no candidates


def test_auto_takes_hf_for_an_encoder_decoder_model(tmp_path, monkeypatch, tiny_seq2seq, tiny_causal_base):
    """(audit round 18) `auto` took vLLM on a GPU for NLLB, M2M100 or Marian, which vLLM refuses
    here: the README's own NLLB example failed on every machine with vLLM."""
    from xling.runs.config import MTEvalConfig

    _fake_vllm(tmp_path, monkeypatch)
    assert MTEvalConfig(out="x", pairs=["ko-en"], model=str(tiny_seq2seq)).backend == "hf"
    assert MTEvalConfig(out="x", pairs=["ko-en"], model=str(tiny_causal_base)).backend == "vllm"
    assert "is an encoder-decoder model" in choice.encoder_decoder_reason(str(tiny_seq2seq))
    assert choice.encoder_decoder_reason(None) is None and choice.encoder_decoder_reason("no/such-model") is None


def test_translate_on_a_vllm_machine_takes_hf_for_an_encoder_decoder_model(tmp_path, monkeypatch, capsys,
                                                                           tiny_seq2seq):
    """(review of audit round 18) the CLI's greedy translate asked the candidates' sampling of a
    greedy selection (None) on every machine where vLLM imports: AttributeError for any model."""
    from helpers import run_cli

    # (the choice as on a GPU machine with vLLM; the model itself then runs here)
    monkeypatch.setattr(choice, "choose_backend", lambda: ("vllm", "a CUDA device and vLLM are present"))
    monkeypatch.setattr(choice, "_said", set())
    code, out, err = run_cli(capsys, "translate", "-s", "en", "-t", "ko", "-m", tiny_seq2seq, "--no-cache", "Hello.")
    assert code == 0, err
    assert "backend hf (auto: " in err and "is an encoder-decoder model" in err


def test_auto_keeps_hf_when_vllm_does_not_import_and_says_why(tmp_path, monkeypatch):
    _fake_vllm(tmp_path, monkeypatch, body="raise ImportError('libcudart.so.12: cannot open')\n")
    chosen, why = choice.choose_backend()
    assert chosen == "hf" and "vLLM does not import" in why and "libcudart" in why


def test_the_precision_a_model_runs_in_is_part_of_its_fingerprint(tiny_causal_base):
    # bfloat16 on a GPU, float32 on the CPU: outputs differ, so cache keys and run identities
    # must too (the weights are not loaded to know it).
    from xling.backends.loading import load_hf_backend

    cpu = load_hf_backend(str(tiny_causal_base), device="cpu")
    gpu = load_hf_backend(str(tiny_causal_base), device="cuda")
    # float32 is the fingerprint without a dtype (as before it was recorded: old runs resume)
    assert "dtype" not in cpu.fingerprint and gpu.fingerprint["dtype"] == "bfloat16"
    assert cpu.fingerprint == {k: v for k, v in gpu.fingerprint.items() if k != "dtype"}
    assert cpu.model.dtype == torch.float32


def test_translate_on_a_gpu_takes_hf_for_candidates_vllm_cannot_draw(monkeypatch, capsys, tiny_causal_base):
    """`translate` built its backend settings without the selection, so auto picked vLLM there."""
    from helpers import run_cli

    # (a line already said in this process, by another test's load, is not said again)
    monkeypatch.setattr(choice, "_said", set())
    monkeypatch.setattr(choice, "_pending", {})

    monkeypatch.setattr(choice, "choose_backend", lambda: ("vllm", "a CUDA device and vLLM are present"))
    code, out, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "-m", str(tiny_causal_base),
                             "--select", "mbr", "-n", "2", "--epsilon", "0.02", "--no-cache", "안녕")
    assert code == 0, err
    assert "backend hf (auto: epsilon sampling is transformers' path" in err


def test_auto_on_a_gpu_takes_hf_for_a_temperature_below_vllms_floor(monkeypatch):
    """vLLM raises a temperature below 0.01 to 0.01 (a warning per request), so candidates drawn
    at 0.005 were recorded as 0.005 and drawn at 0.01."""
    from xling.backends.base import Sampling
    from xling.backends.vllm import VLLMBackend
    from xling.runs.config import MTEvalConfig

    monkeypatch.setattr(choice, "_pending", {})
    monkeypatch.setattr(choice, "choose_backend", lambda: ("vllm", "a CUDA device and vLLM are present"))
    assert "temperature 0.01 at least" in VLLMBackend.sampling_problem(Sampling(temperature=0.005))
    assert VLLMBackend.sampling_problem(Sampling(temperature=0.01)) is None
    low = MTEvalConfig(out="x", pairs=["ko-en"], select="mbr", candidates=4, temperature=0.005)
    assert low.backend == "hf"
    assert MTEvalConfig(out="x", pairs=["ko-en"], select="mbr", candidates=4, temperature=0.5).backend == "vllm"


def test_variants_built_together_are_each_announced_with_their_own_reason(tmp_path, monkeypatch):
    """Round 16: variants' configs are built before any loads, and the last one's reason
    (epsilon sampling) was said when the greedy variant loaded; on a GPU the greedy variant's
    vLLM line was lost."""
    import io

    from xling.runs.config import MTEvalConfig

    monkeypatch.setattr(choice, "_pending", {})
    monkeypatch.setattr(choice, "_said", set())
    MTEvalConfig(out="x", pairs=["ko-en"])
    MTEvalConfig(out="x", pairs=["ko-en"], select="mbr", candidates=4, epsilon=0.02)
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    choice.announce("hf")
    # here the machine's reason serves both
    assert err.getvalue() == "xling: backend hf (auto: no CUDA device; --backend hf|vllm chooses)\n"
    _fake_vllm(tmp_path, monkeypatch)
    MTEvalConfig(out="x", pairs=["ko-en"])
    MTEvalConfig(out="x", pairs=["ko-en"], select="mbr", candidates=4, epsilon=0.02)
    choice.announce("vllm")
    choice.announce("hf")
    assert err.getvalue().splitlines()[1:] == [
        "xling: backend vllm (auto: a CUDA device and vLLM are present; --backend hf forces transformers)",
        "xling: backend hf (auto: epsilon sampling is transformers' path; --backend hf|vllm chooses)"]
