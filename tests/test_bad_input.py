"""Bad settings, templates, names and paths: one clear line and exit 2, found before any work
starts, whether they come from the shell, a YAML file or the Python API."""
import json
from pathlib import Path

import pytest
from helpers import assert_error, assert_one_line_error, xling

from xling.errors import XlingError
from xling.runs.config import build_config


@pytest.mark.parametrize("setting, message", [
    ("batch_size: 0", "line 4: 'batch_size' must be at least 1, not 0"),
    ("max_retries: -1", "'max_retries' must be at least 0, not -1"),
    ("request_timeout: -1", "'request_timeout' must be above 0, not -1"),
    ("shots: -2", "'shots' must be at least 0, not -2"),
    ("max_new_tokens: -5", "'max_new_tokens' must be at least 1, not -5"),
    ("backend: grpc", "'backend' must be one of auto, hf, vllm, http, not 'grpc'"),
])
def test_bad_yaml_settings_are_refused_before_anything_is_written(tmp_path, setting, message):
    experiment = tmp_path / "exp.yaml"
    experiment.write_text(f"task: mt\npairs: [ko-en]\nout: {tmp_path / 'run'}\n{setting}\n", encoding="utf-8")
    assert_one_line_error(xling("run", str(experiment)), message)
    assert not (tmp_path / "run").exists()


def test_the_python_api_checks_the_same_limits(tmp_path):
    from xling.backends.base import Decoding
    from xling.runs.config import MTEvalConfig

    with pytest.raises(XlingError, match="'batch_size' must be at least 1"):
        MTEvalConfig(out=str(tmp_path), pairs=["ko-en"], batch_size=0)
    with pytest.raises(XlingError, match="max_new_tokens_cap"):
        Decoding(max_new_tokens_cap=-5)
    with pytest.raises(XlingError, match="'shots' must be at least 0"):
        build_config(dict(out=str(tmp_path), pairs=["ko-en"], shots=-2))


def test_unknown_bleu_tokenizer_lists_the_valid_ones(tmp_path):
    hyp = tmp_path / "h.txt"
    hyp.write_text("a b c\n", encoding="utf-8")
    result = xling("score", "-i", str(hyp), "-r", str(hyp), "-t", "en", "--tokenize", "bogus")
    assert_one_line_error(result, "unknown BLEU tokenizer 'bogus'; sacrebleu's are: none, zh, 13a")


@pytest.mark.parametrize("query, message", [
    ("'{source} in {foo}:'", "names unknown field(s) {foo}"),
    ("'{source} => {'", "unpaired braces"),
    ("'Translate:'", "must contain {source}"),
    ("'{source} in {tgt_name[99]}:'", "has the field {tgt_name[99]}; fields are plain names"),
    ("'{source} in {tgt_name.nope}:'", "has the field {tgt_name.nope}"),
    ("'{source!z} =>'", "has the field {source!z}"),
    ("'{source:>99999999999} =>'", "has the field {source:>99999999999}"),
    ("'{source.__class__} =>'", "has the field {source.__class__}"),
    ("[unclosed", "cannot read template"),
])
def test_bad_templates_fail_when_read(tmp_path, query, message):
    template = tmp_path / "t.yaml"
    template.write_text(f"format: completion\nexample: '{{source}} => {{target}}'\nquery: {query}\n",
                        encoding="utf-8")
    result = xling("translate", "-s", "ko", "-t", "en", "--template", str(template), "안녕")
    assert_one_line_error(result, message)
    if query == "[unclosed":
        assert "line 3" in result.stderr.decode()   # where the YAML broke


def test_a_template_or_experiment_file_not_in_utf8_names_its_line(tmp_path):
    """(audit round 25) they gave Python's codec words ("can't decode byte 0xff in position 0"),
    without the line or the UTF-16 hint every other user file gets."""
    builtin = Path(__file__).parents[1] / "xling" / "prompts" / "builtin" / "mt-completion.yaml"
    template = tmp_path / "my16.yaml"
    template.write_bytes(builtin.read_text(encoding="utf-8").replace("name: mt-completion", "name: my-t")
                         .encode("utf-16"))
    assert_one_line_error(xling("translate", "-s", "ko", "-t", "en", "--template", str(template), "x"),
                          "template " + str(template) + " is not valid UTF-8 (line 1, byte 1); it looks like UTF-16")
    nul = tmp_path / "nul.yaml"   # (a YAML file cannot hold one: refused, with no warning first)
    nul.write_bytes(b"format: completion\nexample: '{source} = {target}'\nquery: '{source} =\x00'\n")
    assert_one_line_error(xling("translate", "-s", "ko", "-t", "en", "--template", str(nul), "x"),
                          "holds NUL bytes (from line 3, byte 19)")
    experiment = tmp_path / "x16.yaml"
    experiment.write_bytes("task: mt\nlangs: [ko, en]\n".encode("utf-16"))
    assert_one_line_error(xling("run", str(experiment), "-o", str(tmp_path / "run")),
                          f"{experiment} is not valid UTF-8 (line 1, byte 1); it looks like UTF-16")
    latin1 = tmp_path / "lat.yaml"
    latin1.write_bytes(b"task: mt\n\xe9: 1\n")
    assert_one_line_error(xling("run", str(latin1), "-o", str(tmp_path / "run")),
                          f"{latin1} is not valid UTF-8 (line 2, byte 1)")
    assert not (tmp_path / "run").exists()


def test_a_template_file_is_known_by_its_suffix_in_any_case(tmp_path):
    """(audit round 25) `--template my.YAML` or a .txt file was an "unknown template", the file unnamed."""
    from xling.prompts.templates import load_template

    upper = tmp_path / "my.YAML"
    upper.write_text("name: mine\nformat: completion\nexample: '{source} = {target}'\nquery: '{source} ='\n",
                     encoding="utf-8")
    assert load_template(str(upper)).name == "mine"
    text = tmp_path / "a.txt"
    text.write_text("format: completion\n", encoding="utf-8")
    assert_one_line_error(xling("translate", "-s", "ko", "-t", "en", "--template", str(text), "x"),
                          f"template files are YAML (.yaml or .yml): {text}")


def test_a_bad_user_template_never_breaks_the_built_ins(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "broken.yaml").write_text("format: chat\nuser: '{oops'\n", encoding="utf-8")
    (folder / "mine.yaml").write_text("format: completion\nexample: '{source} = {target}'\n"
                                      "query: '{source} ='\n", encoding="utf-8")
    env = {"XLING_TEMPLATES": str(folder)}
    listed = xling("templates", env=env)
    assert listed.returncode == 0
    names = [line.split()[0] for line in listed.stdout.decode().splitlines()[1:]]
    assert {"mt-chat", "mt-completion", "mine"} <= set(names) and "broken" not in names
    assert listed.stderr.decode().count("warning: skipping a template") == 1
    assert_one_line_error(xling("translate", "-s", "ko", "-t", "en", "--template", "broken", "x", env=env),
                          "unpaired braces")


def test_a_mistyped_data_folder_never_falls_back(tmp_path):
    result = xling("eval", "mt", "--langs", "ko,en", "--limit", "1", "--out", str(tmp_path / "run"),
                   env={"XLING_DATA": str(tmp_path / "no-such-data")})
    assert_one_line_error(result, "XLING_DATA folder")
    assert not (tmp_path / "run").exists()


def test_another_task_s_data_in_an_experiment_file_names_the_task_key(tmp_path):
    config = tmp_path / "mt.yaml"
    config.write_text("task: mt\ndata: xnli:test\nlangs: [ko, en]\n", encoding="utf-8")
    assert_one_line_error(xling("run", str(config), "-o", str(tmp_path / "run")),
                          "xnli:test is an NLI data set: use `xling eval nli` (task: nli in an experiment file)")
    assert not (tmp_path / "run").exists()


def test_a_yaml_syntax_error_never_quotes_the_line_it_is_on(tmp_path):
    """PyYAML's message quotes the line: a URL's password and ?api_key= were printed."""
    config = tmp_path / "bad.yaml"
    config.write_text("task: mt\nbase_url: http://u:YAMLPASS99@127.0.0.1:1/v1?api_key=QQQ123456 extra: x\n",
                      encoding="utf-8")
    result = xling("run", str(config))
    assert_one_line_error(result, "mapping values are not allowed here (line 2, column 69)")
    assert b"YAMLPASS99" not in result.stderr and b"QQQ123456" not in result.stderr


def test_an_empty_model_folder_is_explained(tmp_path):
    (tmp_path / "model").mkdir()
    assert_one_line_error(xling("translate", "-s", "ko", "-t", "en", "-m", str(tmp_path / "model"), "x"),
                          "has no config.json: it is not a transformers checkpoint")


def _damaged_copy(source, folder, drop=(), config=None):
    """A copy of a model folder without the tensors `drop` and with `config` set in its config.json."""
    import shutil

    from safetensors.torch import load_file, save_file

    shutil.copytree(source, folder)
    weights = load_file(folder / "model.safetensors")
    for name in drop:
        del weights[name]
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    if config:
        path = folder / "config.json"
        path.write_text(json.dumps(dict(json.loads(path.read_text(encoding="utf-8")), **config)), encoding="utf-8")
    return folder


def test_a_checkpoint_missing_tensors_is_refused_not_run_with_random_ones(tmp_path, tiny_causal_base, tiny_seq2seq):
    """(audit round 25) tensors missing from a local checkpoint were filled with random values
    without a word (transformers' report of it is hidden with its warnings): garbage outputs,
    exit 0, cached like any others. Causal and encoder-decoder models load alike."""
    from helpers import assert_error

    from xling.backends.loading import load_hf_backend

    broken = _damaged_copy(tiny_causal_base, tmp_path / "missing",
                           drop=("lm_head.weight", "model.layers.1.mlp.down_proj.weight"))
    (tmp_path / "in.txt").write_text("나는 사과를 좋아한다.\n", encoding="utf-8")
    result = xling("translate", "-s", "ko", "-t", "en", "-m", str(broken), "-i", str(tmp_path / "in.txt"),
                   "-o", str(tmp_path / "out.txt"))
    assert_error(result.returncode, result.stderr.decode(),
                 f"cannot load model weights from '{broken}': 2 tensors missing from the checkpoint (lm_head.weight, "
                 "model.layers.1.mlp.down_proj.weight): they would be random")
    assert not (tmp_path / "out.txt").exists()
    dropped = "model.decoder.layers.0.fc1.weight"
    seq2seq = load_hf_backend(str(_damaged_copy(tiny_seq2seq, tmp_path / "seq2seq", drop=(dropped,))))
    with pytest.raises(XlingError, match=f"1 tensor missing from the checkpoint \\({dropped}\\)"):
        seq2seq.model
    # a config that does not belong to the weights: the first tensor and both shapes, not transformers'
    # "For details look at the above report!" (a report its hidden warnings never showed)
    wider = load_hf_backend(str(_damaged_copy(tiny_causal_base, tmp_path / "wider",
                                              config={"hidden_size": 64, "intermediate_size": 100})))
    with pytest.raises(XlingError, match=r"tensors do not have the shape config.json gives \(lm_head.weight: "
                                         r"\[\d+, 48\] in the checkpoint, \[\d+, 64\] in the model, ...\)"):
        wider.model


def test_tied_and_computed_weights_are_no_missing_tensors(tmp_path, tiny_causal_base):
    """The refusal above has no false alarms: an output layer tied to the embeddings (saved once)
    and buffers computed at load (rotary inv_freq) are no random weights. (The untied Llama, the
    encoder-decoder tiny models and the embedded Gemma 3 load throughout the suite.)"""
    import torch
    from tiny_models import build_tokenizer
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    from xling.backends.hf import HFBackend
    from xling.backends.hfmodel import unloaded_weights

    tokenizer = build_tokenizer(tmp_path / "tied")
    build_tokenizer(tmp_path / "gpt2")
    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                 num_attention_heads=4, num_key_value_heads=2,
                                 tie_word_embeddings=True)).save_pretrained(tmp_path / "tied")
    GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_embd=32, n_layer=1, n_head=4,
                               n_positions=64)).save_pretrained(tmp_path / "gpt2")   # (tied, learned positions)
    tied = HFBackend(str(tmp_path / "tied"), display="tied", device="cpu").model
    assert tied.lm_head.weight is tied.model.embed_tokens.weight
    HFBackend(str(tmp_path / "gpt2"), display="gpt2", device="cpu").model
    # as an older transformers lists them: the tied output layer and a buffer are never counted
    said = {"missing_keys": {"lm_head.weight", "model.rotary_emb.inv_freq"}}
    assert unloaded_weights(tied, said) is None
    untied = HFBackend(str(tiny_causal_base), display="untied", device="cpu").model
    assert unloaded_weights(untied, said) == \
        "1 tensor missing from the checkpoint (lm_head.weight): they would be random"


def test_a_model_folder_without_tokenizer_files_says_so_in_one_line(tmp_path, tiny_causal_base):
    """(audit round 25) six lines that blamed a missing sentencepiece or tiktoken (installed)."""
    import shutil

    from xling.backends.loading import load_hf_backend

    folder = tmp_path / "no-tokenizer"
    shutil.copytree(tiny_causal_base, folder)
    (folder / "tokenizer.json").unlink()
    assert_one_line_error(xling("translate", "-s", "ko", "-t", "en", "-m", str(folder), "나는"),
                          f"model folder '{folder}' has no tokenizer files (tokenizer.json, tokenizer.model")
    (folder / "tokenizer.json").write_text('{"model": ', encoding="utf-8")   # one there, but damaged: its own error
    with pytest.raises(XlingError, match=f"cannot load model from '{folder}': ") as raised:
        load_hf_backend(str(folder))
    assert "\n" not in str(raised.value)


def test_line_separators_inside_text_are_text(tiny_causal_base):
    result = xling("translate", "-s", "ko", "-t", "en", "-m", str(tiny_causal_base), "안녕\u2028하세요")
    assert result.returncode == 0 and len(result.stdout.decode().split("\n")) == 2   # one line


def test_report_metric_filter(tmp_path, tiny_causal_base):
    for lang, line in (("ko", "저는 학생입니다."), ("en", "I am a student.")):
        (tmp_path / f"c.{lang}").write_text(line + "\n", encoding="utf-8")
    out = tmp_path / "run"
    assert xling("eval", "mt", "--pairs", "ko-en", "-m", str(tiny_causal_base), "--data",
                 f"text:{tmp_path}/c.{{lang}}", "--metrics", "bleu,chrf", "--out", str(out)).returncode == 0
    only = xling("report", str(out), "-m", "chrf").stdout.decode()
    assert "chrF" in only and "BLEU" not in only
    assert_one_line_error(xling("report", str(out), "-m", "comet"), "has no comet scores")


def test_the_report_s_hub_pairs_fail_clearly_offline(tmp_path):
    experiment = tmp_path / "ratio.yaml"
    experiment.write_text(f"task: tune_ratio\nmodel: someorg/model\ntrain_hub: lima\nout: {tmp_path / 'run'}\n",
                          encoding="utf-8")
    assert_one_line_error(xling("tune-ratio", str(experiment), env={"HF_HUB_OFFLINE": "1"}),
                          "lima comes from the Hugging Face hub, which cannot be reached")
    assert not (tmp_path / "run").exists()
    experiment.write_text(f"task: tune_ratio\nmodel: m\ntrain_hub: alpaca\nout: {tmp_path / 'run'}\n",
                          encoding="utf-8")
    assert_one_line_error(xling("tune-ratio", str(experiment)), "unknown paired dataset 'alpaca'")


def test_a_languages_own_format_is_checked_when_read(tmp_path):
    from xling.prompts.templates import load_template

    template = tmp_path / "c.yaml"
    template.write_text("format: loglikelihood\ntask: nli\nlabels: [entailment, neutral, contradiction]\n"
                        "context: '{premise}, {right}'\ncontinuation: ' {label}, {hypothesis}'\n"
                        "words:\n  en: {right: 'right?', entailment: 'Yes', neutral: 'Also', contradiction: 'No',"
                        " context: '{premise[0]} {right}'}\n", encoding="utf-8")
    with pytest.raises(XlingError, match=r"'words: en: context' has the field \{premise\[0\]\}"):
        load_template(str(template))


def test_translate_refuses_what_it_would_silently_misread(tmp_path):
    """TEXT beside -i (`-i in.txt out.txt` translated the words "out.txt"), demonstrations
    without shots, argv bytes that are not UTF-8, an empty or closed stdin: one line each,
    before any model loads (the model named here does not exist)."""
    import subprocess
    import sys

    common = ["translate", "-s", "ko", "-t", "en", "-m", str(tmp_path / "no-model")]
    (tmp_path / "in.txt").write_text("안녕\n", encoding="utf-8")
    (tmp_path / "s.tsv").write_text("오늘\ttoday\n", encoding="utf-8")
    assert_one_line_error(xling(*common, "-i", tmp_path / "in.txt", "out.txt"), "give TEXT or --input, not both")
    assert_one_line_error(xling(*common, "--shots-file", tmp_path / "s.tsv", "안녕"), "add --shots K")
    assert_one_line_error(xling(*common, b"ab\xffcd"), "TEXT argument 1 is not valid UTF-8")
    assert_one_line_error(xling(*common, input=b""), "standard input is empty")
    closed = subprocess.run([sys.executable, "-m", "xling.cli", *common], stdin=subprocess.DEVNULL,
                            capture_output=True, close_fds=True, preexec_fn=lambda: __import__("os").close(0))
    assert_one_line_error(closed, "standard input is closed")


def test_text_arguments_that_name_files_are_translated_as_words_with_one_warning(tmp_path, tiny_causal_base):
    """(audit round 25) `xling translate -s ko -t en a.txt b.txt` (as sacrebleu or cat take files)
    translated the two names without a word. Still translated as words (TEXT is text), and said
    once, after every refusal."""
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text("안녕하세요\n", encoding="utf-8")
    common = ["translate", "-s", "ko", "-t", "en", "-m", tiny_causal_base]
    both = subprocess_in(tmp_path, common + ["a.txt", "b.txt"])
    assert both.returncode == 0 and both.stdout.decode().count("\n") == 2, both.stderr.decode()
    warnings = [line for line in both.stderr.decode().splitlines() if "warning" in line]
    assert warnings == ["xling: warning: 'a.txt', 'b.txt' are also files here; TEXT is translated as words "
                        "(to translate the file's lines: -i a.txt)"]
    words = subprocess_in(tmp_path, common + ["c.txt"])   # (no such file: no warning)
    assert words.returncode == 0 and b"warning" not in words.stderr
    (tmp_path / "shots.tsv").write_text("a\tb\n", encoding="utf-8")   # refused after the model loads: no warning first
    refused = subprocess_in(tmp_path, common + ["-k", "2", "--shots-file", "shots.tsv", "a.txt"])
    assert b"warning" not in refused.stderr
    assert_error(refused.returncode, refused.stderr.decode(), "asked for 2 few-shot examples")


def test_translate_writes_utf8_to_stdout_and_dash_means_stdout(tmp_path, tiny_causal_base):
    common = ["translate", "-s", "ko", "-t", "en", "-m", str(tiny_causal_base)]
    plain = xling(*common, "안녕하세요")
    assert plain.returncode == 0, plain.stderr.decode()
    latin = xling(*common, "안녕하세요", env={"PYTHONIOENCODING": "latin-1"})
    assert latin.returncode == 0 and latin.stdout == plain.stdout, latin.stderr.decode()
    dash = subprocess_in(tmp_path, common + ["-o", "-", "안녕하세요"])
    assert dash.stdout == plain.stdout and not (tmp_path / "-").exists()
    closed = subprocess_in(tmp_path, common + ["안녕하세요"], close_stdout=True)
    assert_one_line_error(closed, "standard output is closed")


@pytest.mark.parametrize("redirect", ["2>&-", "2>/dev/full", "2<in.txt"])
def test_a_closed_or_failing_stderr_never_loses_the_translations(tmp_path, tiny_causal_base, redirect):
    """(audit round 25) with stderr closed (cron, `2>&-`), full (a log disk) or open for reading
    only (as a pyenv shim leaves a closed one), the first note's OSError ended the run: exit 1,
    no -o file, nothing on stdout. A diagnostic that cannot be written is dropped."""
    import shlex
    import subprocess
    import sys

    (tmp_path / "in.txt").write_text("안녕하세요\n", encoding="utf-8")
    command = shlex.join([sys.executable, "-m", "xling.cli", "translate", "-s", "ko", "-t", "en",
                          "-m", str(tiny_causal_base)])

    def run(args: str):   # (--no-cache: the model loads, and its note is the first line written)
        return subprocess.run(["bash", "-c", f"{command} --no-cache {args} {redirect}"], cwd=tmp_path,
                              stdout=subprocess.PIPE, timeout=300)

    written = run("-i in.txt -o out.txt")
    assert written.returncode == 0 and written.stdout == b""
    assert (tmp_path / "out.txt").read_text(encoding="utf-8").count("\n") == 1
    printed = run("안녕하세요")
    assert printed.returncode == 0 and printed.stdout.decode("utf-8").count("\n") == 1
    assert printed.stdout.decode("utf-8") == (tmp_path / "out.txt").read_text(encoding="utf-8")
    refused = run("-i missing.txt -o out2.txt")   # a mistake still exits 2 (its line dropped), writing nothing
    assert refused.returncode == 2 and refused.stdout == b"" and not (tmp_path / "out2.txt").exists()


def subprocess_in(folder, args, close_stdout=False):
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "xling.cli", *map(str, args)], cwd=folder,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          preexec_fn=(lambda: os.close(1)) if close_stdout else None)


@pytest.mark.parametrize("args, message", [
    (["translate", "-s", "ko", "-t", "en", "-k", "1", "--shots-file", "", "a"], "--shots-file is empty"),
    (["translate", "-s", "ko", "-t", "en", "-m", "", "a"], "--model is empty"),
    # an unset $OUT printed to the job log and exited 0; an unset $IN read standard input
    (["translate", "-s", "ko", "-t", "en", "-o", "", "a"], "--output is empty"),
    (["translate", "-s", "ko", "-t", "en", "-i", ""], "--input is empty"),
    (["eval", "mt", "--langs", "ko,en", "--shots", "1", "--shots-file", "", "--limit", "1", "--out", "{out}"],
     "'--shots-file': is empty"),
    (["eval", "mt", "--langs", "ko,en", "-m", "", "--limit", "1", "--out", "{out}"], "is empty"),
    # Path("") is the working directory: `report "$RUN"` said ". is not a run folder"
    (["report", ""], "'RUN_DIRS...': is empty"),
    (["rescore", "", "-m", "bleu"], "'RUN_DIR': is empty"),
    (["run", ""], "'EXPERIMENT': is empty"),
    (["score", "-i", "", "-r", "{out}", "-t", "en"], "'--input' / '-i': is empty"),
])
def test_an_empty_value_is_refused_not_taken_for_a_default(tmp_path, args, message):
    """An unset shell variable (`--shots-file "$DEV"`) ran FLORES demonstrations or the embedded
    model without a word."""
    out = tmp_path / "run"
    assert_one_line_error(xling(*[a.replace("{out}", str(out)) for a in args]), message)
    assert not out.exists()


def test_an_empty_judge_or_metric_model_is_refused_not_taken_for_the_embedded_model(tmp_path):
    (tmp_path / "h.txt").write_text("a\n", encoding="utf-8")
    (tmp_path / "s.txt").write_text("b\n", encoding="utf-8")
    result = xling("score", "-i", str(tmp_path / "h.txt"), "-s", str(tmp_path / "s.txt"), "-t", "en", "-m", "gemba-mqm",
                   "--judge-model", "")
    assert_one_line_error(result, "is empty")


def test_an_output_in_dev_shm_is_an_ordinary_file():
    from xling.data.textio import output_target

    if not __import__("os").path.isdir("/dev/shm"):
        pytest.skip("no /dev/shm here")
    assert str(output_target("/dev/shm/xling-report.md")) == "/dev/shm/xling-report.md"


def test_an_output_path_ending_in_a_slash_is_refused(tmp_path):
    """`-o new/` wrote a file named "new" (a shell refuses `> new/`)."""
    from xling.data.textio import output_target

    with pytest.raises(XlingError, match="it names a folder; give a file name"):
        output_target(f"{tmp_path}/new/")
    assert not (tmp_path / "new").exists()


def test_a_read_only_output_file_is_refused_not_replaced(tmp_path, capsys):
    """`-o` renamed its complete file over a file marked read-only (mode 444), as `>`, `cp` and
    `tee` refuse to."""
    import os

    from helpers import assert_error, run_cli

    kept = tmp_path / "out.en"
    kept.write_text("my earlier translation\n", encoding="utf-8")
    os.chmod(kept, 0o444)
    code, _, err = run_cli(capsys, "translate", "-s", "ko", "-t", "en", "-o", str(kept), "안녕")
    assert_error(code, err, "the file is read-only")
    assert kept.read_text(encoding="utf-8") == "my earlier translation\n" and oct(kept.stat().st_mode)[-3:] == "444"


def test_a_line_translated_to_nothing_is_said(tmp_path):
    """Line mode kept an empty output line for a failed translation without a word (--paragraphs
    warned, eval counted it)."""
    from servers import FakeOpenAI

    # (audit round 19: an answer of a zero-width space alone was not counted; off-target called it empty)
    server = FakeOpenAI(respond=lambda payload: "" if "둘" in json.dumps(payload, ensure_ascii=False) else
                        "\u200b" if "넷" in json.dumps(payload, ensure_ascii=False) else "fine")
    try:
        (tmp_path / "in.ko").write_text("하나\n둘\n셋\n넷\n", encoding="utf-8")
        result = xling("translate", "-s", "ko", "-t", "en", "--backend", "http", "--base-url", server.url, "-m", "fake",
                       "--no-cache", "-i", tmp_path / "in.ko", "-o", tmp_path / "out.en")
    finally:
        server.close()
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.en").read_text(encoding="utf-8") == "fine\n\nfine\n\u200b\n"
    assert "2 of 4 lines were translated to nothing (lines 2, 4)" in result.stderr.decode()


def test_a_server_whose_schema_never_comes_is_probed_once():
    """The server-kind probe gave "unknown" when /openapi.json timed out, and ran again before
    every request, one at a time: a timeout's worth of waiting per segment."""
    import threading
    import time
    from http.server import ThreadingHTTPServer

    from servers import QuietHandler

    from xling.backends.base import Decoding, GenerationRequest, Prompt
    from xling.backends.http import HTTPBackend

    schema_asked = []

    class Handler(QuietHandler):
        def do_GET(self):
            if self.path.startswith("/openapi.json"):
                schema_asked.append(self.path)
                time.sleep(3)
            self._reply(200, b'{"data": [{"id": "m", "owned_by": "someone"}]}', {})

        def do_POST(self):
            self.body()
            self._reply(200, b'{"choices": [{"message": {"content": "fine"}}]}', {})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        backend = HTTPBackend("m", f"http://127.0.0.1:{server.server_address[1]}/v1", timeout=1.0, max_retries=0,
                              concurrency=1)
        requests = [GenerationRequest(Prompt(messages=(("user", f"line {i}"),)), 8) for i in range(4)]
        assert backend.generate(requests, Decoding()) == ["fine"] * 4
    finally:
        server.shutdown()
    assert len(schema_asked) == 1


def test_utf16_without_a_byte_order_mark_is_refused_not_translated(tmp_path, capsys, tiny_causal_base):
    """(audit round 21) ASCII text in UTF-16 without a BOM is valid UTF-8 holding a NUL after
    every letter: it was translated (garbage, and a line too many), exit 0."""
    from helpers import assert_error, run_cli

    text = tmp_path / "u16.txt"
    text.write_bytes("Hello.\nGood morning.\n".encode("utf-16-le"))
    code, out, err = run_cli(capsys, "translate", "-s", "en", "-t", "ko", "-m", tiny_causal_base, "-i", text)
    assert_error(code, err, "u16.txt holds NUL bytes (from line 1, byte 2); it looks like UTF-16")
    assert out == ""
    code, _, err = run_cli(capsys, "score", "-i", text, "-r", text, "-t", "en")
    assert_error(code, err, "it looks like UTF-16: save it as UTF-8")
    korean = tmp_path / "ko16.txt"   # (not ASCII: not UTF-8 at all, and no BOM to tell it by)
    korean.write_bytes("안녕하세요.\n".encode("utf-16-le"))
    code, _, err = run_cli(capsys, "score", "-i", korean, "-r", korean, "-t", "ko")
    assert_error(code, err, "it looks like UTF-16: save it as UTF-8")
    # (the review) a model's byte-0 token in an output: text, said, and scored as sacrebleu scores it
    output = tmp_path / "out.txt"
    output.write_text("Hello\x00 there.\nGood morning.\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "score", "-i", output, "-r", output, "-t", "en", "-m", "chrf")
    assert code == 0 and "holds 1 NUL byte(s) (the first on line 1); they are read as text" in err
    assert "100.00" in out


def test_a_document_template_is_refused_for_single_segments():
    """(audit round 22) mt-document-chat's prompt speaks of numbered segments; under --unit segment
    the text went unnumbered and its answer was taken whole."""
    assert_one_line_error(xling("translate", "-s", "en", "-t", "ko", "--template", "mt-document-chat", "Hello."),
                          "template 'mt-document-chat' translates numbered documents: use it with --unit document")


def test_a_gzip_or_binary_file_is_not_called_utf16(tmp_path):
    """(audit round 23) any file with a NUL byte was "UTF-16: save it as UTF-8 (iconv -f UTF-16 ...)",
    a .gz file and an executable too (iconv on them makes garbage)."""
    import gzip

    from xling.data.textio import decode_utf8
    from xling.errors import XlingError

    text = "The weather is nice today.\n오늘은 날씨가 좋다.\n"
    cases = {"gz": (gzip.compress(text.encode()), "it is gzip-compressed (gunzip it first)"),
             "binary": (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00\xff\xfe\x00\x00" * 20,
                        "it looks like a binary file"),
             "utf16-bom": (text.encode("utf-16"), "it looks like UTF-16"),
             "utf16le": (text.encode("utf-16-le"), "it looks like UTF-16"),
             "korean-utf16be": ("오늘은 날씨가 좋다 정말로\n".encode("utf-16-be") * 3, "it looks like UTF-16"),
             # (review C) NULs at the line ends alone, or valid UTF-8 of control characters
             "japanese-utf16le": ("今日は東京に行きました。とても楽しかったです。\n".encode("utf-16-le") * 30,
                                  "it looks like UTF-16"),
             "hindi-utf16le": ("आज मौसम अच्छा है और हम बाहर जाएंगे।\n".encode("utf-16-le") * 30, "it looks like UTF-16"),
             "stray-nul": ("héllo wörld\n".encode() * 100 + b"\x00\xff", "is not valid UTF-8 (line 101")}
    for name, (data, hint) in cases.items():
        with pytest.raises(XlingError) as caught:
            decode_utf8(data, name)
        assert hint in str(caught.value) and ("UTF-16" in hint) == ("UTF-16" in str(caught.value)), name
        assert name != "stray-nul" or str(caught.value).endswith("(line 101, byte 2)"), str(caught.value)
    hyp = tmp_path / "hyp.txt.gz"
    hyp.write_bytes(gzip.compress(text.encode()))
    assert_one_line_error(xling("score", "-i", str(hyp), "-r", str(hyp), "-t", "en"), "gunzip it first")


def test_score_on_a_closed_stdin_names_no_translate_options(tmp_path):
    """(audit round 23) `score -i - -r ref.txt <&-` said "give TEXT or --input FILE": score has no
    TEXT, and its -i was what pointed at standard input."""
    import subprocess
    import sys

    ref = tmp_path / "ref.txt"
    ref.write_text("The weather is nice today.\n", encoding="utf-8")
    closed = subprocess.run([sys.executable, "-m", "xling.cli", "score", "-i", "-", "-r", str(ref), "-t", "en"],
                            stdin=subprocess.DEVNULL, capture_output=True, close_fds=True,
                            preexec_fn=lambda: __import__("os").close(0))
    assert_one_line_error(closed, "standard input is closed: give a file instead of -")
