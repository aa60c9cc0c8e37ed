"""CONTRIBUTING.md's three recipes, followed: a toy metric, a toy backend (wrapping the HF one)
and a toy data set, each one module of a package of its own that xling finds through its entry
points (`xling.metrics`, `xling.backends`, `xling.datasets`) — no file of xling touched. The
metric and data-set modules are the guide's own code blocks, so the guide cannot drift."""
import json
import os
import re
from pathlib import Path

import pytest
from helpers import assert_one_line_error, xling

ROOT = Path(__file__).resolve().parent.parent

TOY_BACKEND = '''
from dataclasses import dataclass

from xling.backends.base import Backend
from xling.backends.loading import LocalModelSettings, load_hf_backend
from xling.backends.registry import register_backend
from xling.settings import setting


@dataclass(kw_only=True)
class ShoutSettings(LocalModelSettings):
    shout: bool = setting(False, "Upper-case every answer (toy-shout).")


class ShoutBackend(Backend):
    """The HF backend, its answers upper-cased when asked."""

    def __init__(self, inner, shout):
        self.inner, self.shout = inner, shout
        self.fingerprint = {**inner.fingerprint, "backend": "toy-shout", "shout": shout}
        self.is_seq2seq, self.has_chat_template = inner.is_seq2seq, inner.has_chat_template
        self.context_window = inner.context_window

    def _case(self, text):
        return text.upper() if self.shout else text

    def render(self, prompt):
        return self.inner.render(prompt)

    def count_tokens(self, text):
        return self.inner.count_tokens(text)

    def with_batching(self, batching):
        return ShoutBackend(self.inner.with_batching(batching), self.shout)

    def generate(self, requests, decoding, on_batch=None):
        hook = None if on_batch is None else (lambda ids, texts: on_batch(ids, [self._case(t) for t in texts]))
        return [self._case(t) for t in self.inner.generate(requests, decoding, on_batch=hook)]

    def candidates(self, requests, sampling, wanted, on_item=None):
        found = self.inner.candidates(requests, sampling, wanted)
        return [{k: self._case(t) for k, t in row.items()} for row in found]

    def loglikelihood(self, requests, on_item=None):
        return self.inner.loglikelihood(requests, on_item)

    def stats(self):
        return self.inner.stats()


@register_backend("toy-shout", settings=ShoutSettings, help="the HF backend, shouting (a toy)")
def load(model, settings, *, quiet=False, batching=None, static_cache=False):
    inner = load_hf_backend(model, revision=settings.revision, trust_remote_code=settings.trust_remote_code,
                            batching=batching, quiet=quiet)
    return ShoutBackend(inner, settings.shout)
'''


def guide_block(heading: str) -> str:
    """The first Python block under a heading of CONTRIBUTING.md."""
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = text[text.index(heading):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture(scope="module")
def plugin(tmp_path_factory) -> dict:
    """A package `xling_toys` with one module per component and the entry points naming them."""
    root = tmp_path_factory.mktemp("plugin")
    package = root / "xling_toys"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "metric.py").write_text(guide_block("### Add a metric"), encoding="utf-8")
    (package / "backend.py").write_text(TOY_BACKEND, encoding="utf-8")
    (package / "data.py").write_text(guide_block("### Add a data set"), encoding="utf-8")
    info = root / "xling_toys-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: xling-toys\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[xling.metrics]\nlength = xling_toys.metric\n\n"
                                           "[xling.backends]\nshout = xling_toys.backend\n\n"
                                           "[xling.datasets]\nmine = xling_toys.data\n")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "test.ko").write_text("나는 사과를 좋아한다.\n오늘은 비가 온다.\n", encoding="utf-8")
    (corpus / "test.en").write_text("I like apples.\nIt is raining today.\n", encoding="utf-8")
    return {"env": {"PYTHONPATH": f"{root}:{ROOT}"}, "corpus": corpus}


def run(plugin, *args):
    return xling(*args, env=plugin["env"])


def test_help_with_the_guides_plugins_installed_loads_no_heavy_library(plugin):
    """Round 16: the guide's metric imports xling.metrics.base, which imported numpy: `xling
    --help` with it installed loaded numpy."""
    import subprocess
    import sys

    heavy = ("torch", "numpy", "transformers", "lingua", "sacrebleu")
    code = (f"import sys\nfrom xling.cli import main\ntry:\n    main(['score', '--help'])\n"
            f"except SystemExit:\n    pass\nprint(sorted(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, **plugin["env"]})
    assert "length-ratio" in out.stdout and out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr


def test_the_toy_metric_is_a_metric_with_its_own_option(plugin, tmp_path):
    hyp, ref = tmp_path / "hyp.txt", tmp_path / "ref.txt"
    hyp.write_text("a b c\nx y\n")
    ref.write_text("a b\nx y\n")
    result = run(plugin, "score", "-i", str(hyp), "-r", str(ref), "-t", "en", "-m", "length-ratio",
                 "--length-unit", "words", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["systems"][str(hyp)]["length-ratio"]["score"] == 1.25
    helps = run(plugin, "eval", "mt", "--help").stdout.decode()
    assert "--length-unit" in helps and "length-ratio" in helps
    assert_one_line_error(run(plugin, "score", "-i", str(hyp), "-r", str(ref), "-t", "en", "-m", "length-ratio",
                              "--length-unit", "pages"), "'pages' is not one of 'chars', 'words'")


def test_a_metric_s_options_from_python_are_checked_as_its_settings_are(plugin):
    """(audit round 28) get("length-ratio")(..., unit="lines") scored words (its compute reads
    anything but "chars" as words), where --length-unit lines is refused; a flag took 1 for True."""
    code = ("import numpy as np\nfrom xling.errors import XlingError\n"
            "from xling.metrics.base import mean_result\n"
            "from xling.metrics.registry import MetricSetting, MetricSpec, get, register\n"
            "STRICT = MetricSetting('toy_strict', False, 'Strict (a toy flag).', type=bool)\n"
            "register(MetricSpec('flagged', 'Flagged', lambda h, r, s, t, strict=False: mean_result(\n"
            "    'f', [float(strict is True)] * len(h), 'f'), options=('strict',), settings={'strict': STRICT}))\n"
            "print(get('length-ratio')(['a b c'], ['a b'], tgt_lang='en', unit=np.str_('words')).score)\n"
            "print(get('flagged')(['a'], ['a'], tgt_lang='en', strict=np.bool_(True)).score)\n"
            # (review B) a setting declared with a number as its default and no type= is a number
            "ORDER = MetricSetting('toy_order', 4, 'Order (a toy number).')\n"
            "register(MetricSpec('ordered', 'Ordered', lambda h, r, s, t, order=4: mean_result(\n"
            "    'o', [float(order)] * len(h), 'o'), options=('order',), settings={'order': ORDER}))\n"
            "print(get('ordered')(['a'], ['a'], tgt_lang='en', order=3).score)\n"
            "for name, option in (('length-ratio', {'unit': 'lines'}), ('flagged', {'strict': 1})):\n"
            "    try:\n        get(name)(['a b c'], ['a b'], tgt_lang='en', **option)\n"
            "    except XlingError as error:\n        print(error)\n")
    result = _python(plugin["env"], code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["1.5", "1.0", "3.0",
                                          "LenRatio: 'unit' must be one of chars, words, not 'lines'",
                                          "Flagged: 'strict' must be bool, not int (1)"], result.stdout


def test_the_toy_metric_scores_the_on_target_subset_alone(plugin, tmp_path):
    """The recipe once took `keep` and scored every segment: --on-target-only moved chrF to the
    on-target subset while length-ratio stayed the all-segments value, unmarked."""
    hyp, ref = tmp_path / "hyp.txt", tmp_path / "ref.txt"
    hyp.write_text("The cat sleeps on the warm mat all afternoon.\n"
                   "Le chat dort sur le tapis chaud tout l'après-midi, comme toujours.\n")
    ref.write_text("The cat sleeps on the mat.\nThe cat sleeps on the warm mat all afternoon.\n")
    result = run(plugin, "score", "-i", str(hyp), "-r", str(ref), "-t", "en", "-m", "length-ratio",
                 "--length-unit", "words", "--on-target-only", "--format", "json")
    assert result.returncode == 0, result.stderr
    scored = json.loads(result.stdout)["systems"][str(hyp)]["length-ratio"]
    assert scored["score"] == pytest.approx(9 / 6) and "subset:1/2" in scored["signature"]


def test_a_metric_that_ignores_the_keep_mask_is_refused():
    from xling.errors import XlingError
    from xling.metrics.base import mean_result
    from xling.metrics.registry import MetricSpec

    ignores = MetricSpec("ignores-keep", "Ign", lambda hyps, refs, srcs, tgt, keep=None: mean_result(
        "ignores-keep", [1.0] * len(hyps), "ignores-keep"))
    assert ignores(["a", "b"], ["a", "b"]).score == 1.0
    with pytest.raises(XlingError, match="Ign was given a keep mask .* and scored without it"):
        ignores(["a", "b"], ["a", "b"], keep=[True, False])


def test_the_toy_backend_wraps_hf_with_its_own_setting(plugin, tiny_causal):
    text = "나는 사과를 좋아한다."
    plain = run(plugin, "translate", "-s", "ko", "-t", "en", "-m", str(tiny_causal), "--backend", "hf",
                "--no-cache", text)
    shouted = run(plugin, "translate", "-s", "ko", "-t", "en", "-m", str(tiny_causal), "--backend", "toy-shout",
                  "--shout", "--no-cache", text)
    assert plain.returncode == 0 and shouted.returncode == 0, shouted.stderr
    assert shouted.stdout.decode() == plain.stdout.decode().upper() != plain.stdout.decode()
    assert_one_line_error(run(plugin, "translate", "-s", "ko", "-t", "en", "-m", str(tiny_causal), "--backend",
                              "hf", "--shout", text), "shout applies to --backend toy-shout, not to --backend hf")


def test_the_toy_data_set_is_listed_and_runs(plugin, tiny_causal, tmp_path):
    listing = run(plugin, "data").stdout.decode()
    assert "mycorpus:FOLDER" in listing and "my corpus" in listing
    out = tmp_path / "run"
    result = run(plugin, "eval", "mt", "-m", str(tiny_causal), "--data", f"mycorpus:{plugin['corpus']}",
                 "--pairs", "ko-en", "--metrics", "chrf,length-ratio", "--length-unit", "words", "-o", str(out))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in (out / "outputs" / "ko-en.jsonl").read_text().splitlines()]
    assert [r["reference"] for r in records] == ["I like apples.", "It is raining today."]
    scores = json.loads((out / "metrics.json").read_text())["directions"]["ko-en"]["metrics"]
    assert set(scores) == {"chrf", "length-ratio"} and "unit:words" in scores["length-ratio"]["signature"]
    # the plugin uninstalled: its scores are named with it (was "unknown metric 'length-ratio'")
    for command in (("report", str(out)), ("rescore", str(out), "-m", "chrf")):
        assert_one_line_error(xling(*command, env={"PYTHONPATH": str(ROOT)}),
                              "holds 'length-ratio' scores made by plugin xling-toys==0.1, which is not installed")


def test_scores_of_a_metric_plugin_installed_but_failing_to_import_say_so(plugin, tiny_causal, tmp_path):
    """Round 26: the plugin's import failed (warned), and the run's scores then asked to install
    it: "which is not installed here"."""
    import shutil
    broken = tmp_path / "broken"
    shutil.copytree(plugin["env"]["PYTHONPATH"].split(":")[0], broken)
    env = {"PYTHONPATH": f"{broken}:{ROOT}"}
    out = tmp_path / "run"
    made = xling("eval", "mt", "-m", str(tiny_causal), "--data", f"mycorpus:{plugin['corpus']}", "--pairs", "ko-en",
                 "--metrics", "length-ratio", "-o", str(out), env=env)
    assert made.returncode == 0, made.stderr
    metric = broken / "xling_toys" / "metric.py"
    metric.write_text(metric.read_text(encoding="utf-8") + "\nraise ImportError('broken on import')\n",
                      encoding="utf-8")
    for command in (("report", str(out)), ("rescore", str(out), "-m", "chrf")):
        result = xling(*command, env=env)
        assert result.returncode == 2 and "Traceback" not in result.stderr.decode(), result.stderr
        assert result.stderr.decode().splitlines()[-2:] == [
            "xling: warning: plugin 'length' (xling.metrics: xling_toys.metric) does not load, skipped: "
            "ImportError: broken on import",
            f"xling: error: {out} holds 'length-ratio' scores made by plugin xling-toys==0.1, which is installed "
            "here but does not load (see the warning above): fix its import to report or rescore this run"]


def test_a_metric_plugin_s_scores_record_its_version_and_a_new_version_scores_again(plugin, tiny_causal, tmp_path):
    """A resumed run kept the scores an older version of a metric plugin had stored."""
    import shutil
    out = tmp_path / "run"
    command = ("eval", "mt", "-m", str(tiny_causal), "--data", f"mycorpus:{plugin['corpus']}", "--pairs", "ko-en",
               "--metrics", "chrf,length-ratio", "-o", str(out))
    assert run(plugin, *command).returncode == 0

    def stored():
        return json.loads((out / "metrics.json").read_text())["directions"]["ko-en"]["metrics"]
    assert stored()["length-ratio"]["made_with"]["plugin"] == "xling-toys==0.1"
    assert "plugin" not in stored()["chrf"]["made_with"]                   # built-in metrics: none
    newer = tmp_path / "newer"
    shutil.copytree(plugin["env"]["PYTHONPATH"].split(":")[0], newer)
    (newer / "xling_toys-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: xling-toys\n"
                                                                 "Version: 0.2\n")
    again = xling(*command, env={"PYTHONPATH": f"{newer}:{ROOT}"})
    assert again.returncode == 0, again.stderr
    assert ("LenRatio is scored again: it was stored with another plugin version (xling-toys==0.1; "
            "now xling-toys==0.2)") in again.stderr.decode()
    assert stored()["length-ratio"]["made_with"]["plugin"] == "xling-toys==0.2"


def test_a_metric_plugin_edited_in_place_scores_again(plugin, tiny_causal, tmp_path):
    """An editable install changed without a version bump kept the old plugin's scores
    (only "distribution==version" was compared): 1.74 stayed where the code now gives 3.47."""
    import shutil
    edited = tmp_path / "edited"
    shutil.copytree(plugin["env"]["PYTHONPATH"].split(":")[0], edited)
    env = {"PYTHONPATH": f"{edited}:{ROOT}"}
    out = tmp_path / "run"
    command = ("eval", "mt", "-m", str(tiny_causal), "--data", f"mycorpus:{plugin['corpus']}", "--pairs", "ko-en",
               "--metrics", "length-ratio", "-o", str(out))
    assert xling(*command, env=env).returncode == 0
    metric = edited / "xling_toys" / "metric.py"
    metric.write_text(metric.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    again = xling(*command, env=env)
    assert again.returncode == 0, again.stderr
    assert "LenRatio is scored again" in again.stderr.decode() and "(its files changed)" in again.stderr.decode()
    unchanged = xling(*command, env=env)
    assert "scored again" not in unchanged.stderr.decode()


def test_a_report_says_where_a_metric_plugin_was_edited_since_its_scores_were_stored(plugin, tiny_causal, tmp_path):
    """Round 26: the direction table showed the stored LenErr 113.50, "runs compared" 13.50
    recomputed by the edited plugin (same signature), without a word."""
    import shutil
    edited = tmp_path / "edited"
    shutil.copytree(plugin["env"]["PYTHONPATH"].split(":")[0], edited)
    env = {"PYTHONPATH": f"{edited}:{ROOT}"}
    for out in ("A", "B"):
        made = xling("eval", "mt", "-m", str(tiny_causal), "--data", f"mycorpus:{plugin['corpus']}", "--pairs",
                     "ko-en", "--metrics", "length-ratio", "-o", str(tmp_path / out), env=env)
        assert made.returncode == 0, made.stderr
    metric = edited / "xling_toys" / "metric.py"
    code = metric.read_text(encoding="utf-8")
    assert "/ max(1, size(r))" in code
    metric.write_text(code.replace("/ max(1, size(r))", "/ max(1, size(r)) + 100"), encoding="utf-8")
    report = xling("report", str(tmp_path / "A"), str(tmp_path / "B"), env=env)
    assert report.returncode == 0, report.stderr
    compared = report.stdout.decode()[report.stdout.decode().index("LenRatio: runs compared"):]
    assert ("A ko-en's stored score was made with plugin xling-toys==0.1's code as it was then (the plugin "
            "changed since: its code was edited): `xling rescore") in compared, compared
    assert "B ko-en's stored score was made with plugin xling-toys==0.1's code" in compared


def test_a_backend_plugin_edited_in_place_or_a_new_version_makes_new_outputs(plugin, tiny_causal, tmp_path):
    """The cache served a backend plugin's old outputs after its code was edited (an editable
    install) or its version bumped: neither was in any cache key."""
    import shutil
    edited = tmp_path / "edited"
    shutil.copytree(plugin["env"]["PYTHONPATH"].split(":")[0], edited)
    env = {"PYTHONPATH": f"{edited}:{ROOT}"}
    command = ("translate", "-s", "ko", "-t", "en", "-m", str(tiny_causal), "--backend", "toy-shout", "--shout",
               "나는 사과를 좋아한다.")
    first = xling(*command, env=env)
    assert first.returncode == 0, first.stderr
    backend = edited / "xling_toys" / "backend.py"
    backend.write_text(backend.read_text(encoding="utf-8").replace(".upper()", ".upper() + '!'"), encoding="utf-8")
    edited_once = xling(*command, env=env)
    assert edited_once.stdout.decode() == first.stdout.decode().rstrip("\n") + "!\n"
    (edited / "xling_toys-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: xling-toys\n"
                                                                  "Version: 0.2\n")
    assert xling(*command, env=env).stdout == edited_once.stdout


def test_a_plugin_that_fails_halfway_leaves_nothing_registered(tmp_path):
    """A plugin that registered a metric and then failed to import was said to be skipped, and
    its metric scored all the same (without its distribution in config.json)."""
    env = _plugin_package(tmp_path, "[xling.metrics]\nhalf = halfway\n", {"halfway": (
        "from xling.metrics.base import mean_result\n"
        "from xling.metrics.registry import MetricSpec, register\n"
        "register(MetricSpec('halfway', 'Halfway', lambda h, r, s, t, **o: mean_result('H', [1.0] * len(h), 'h')))\n"
        "import no_such_module_here\n")})
    (tmp_path / "hyp.txt").write_text("a b\n")
    result = xling("score", "-i", str(tmp_path / "hyp.txt"), "-r", str(tmp_path / "hyp.txt"), "-t", "en",
                   "-m", "halfway", env=env)
    assert result.returncode != 0
    err = result.stderr.decode()
    assert "plugin 'half' (xling.metrics: halfway) does not load, skipped" in err and "unknown metric" in err, err


def test_a_plugin_error_of_several_lines_is_one_warning_line(tmp_path):
    """(audit round 20) a YAML parse error at import printed seven lines, on every command."""
    env = _plugin_package(tmp_path, "[xling.metrics]\nmultiline = multiline\n", {"multiline": (
        "raise ValueError('while parsing\\n  in line 1\\n    a: [1, 2\\n       ^')\n")})
    result = xling("langs", env=env)
    assert result.returncode == 0
    (line,) = [x for x in result.stderr.decode().splitlines() if x.strip()]
    assert line.endswith("skipped: ValueError: while parsing in line 1 a: [1, 2 ^")


def test_a_failing_plugin_never_takes_a_built_in_with_it(tmp_path):
    """A plugin that imported xling's data loaders and then failed unregistered flores200,
    ntrex128 and text (registered while it was being imported)."""
    import os
    import subprocess
    import sys

    env = _plugin_package(tmp_path, "[xling.metrics]\nhalf = halfdata\n", {"halfdata": (
        "from xling.data.parallel import flores200\nimport no_such_module_here\n")})
    code = ("import xling.data.registry as data\nfrom xling.metrics.registry import metric_settings\n"
            "metric_settings()\nprint(sorted(data.families()))\n")
    result = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, **env), capture_output=True, text=True)
    assert {"flores200", "ntrex128", "text"} <= set(eval(result.stdout)), result.stderr
    assert "does not load, skipped" in result.stderr


def test_a_failing_metric_plugin_leaves_no_data_set_behind(tmp_path):
    """(audit round 22) a metric plugin that registered a data set (its import brought the data
    registry in) and then failed left the data set listed."""
    env = _plugin_package(tmp_path, "[xling.metrics]\nhalf = halfset\n", {"halfset": (
        "from xling.data.registry import register_dataset\n"
        "@register_dataset('halfds', task='mt', grammar='halfds', help='a data set of a half plugin')\n"
        "def load(arg, spec, options):\n    return None\n"
        "import no_such_module_here\n")})
    import os
    import subprocess
    import sys

    code = ("from xling.metrics.registry import get\nget('bleu')\n"   # the metrics' plugins load first
            "import xling.data.registry as data\nprint(sorted(data.families()))\n")
    result = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, **env), capture_output=True, text=True)
    assert "does not load, skipped" in result.stderr
    listed = set(eval(result.stdout))
    assert "flores200" in listed and "halfds" not in listed


def _plugin_package(root: Path, entry_points: str, modules: dict[str, str] | None = None,
                    dist: str = "xling_more") -> dict:
    info = root / f"{dist}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist.replace('_', '-')}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)
    for name, code in (modules or {}).items():
        (root / f"{name}.py").write_text(code, encoding="utf-8")
    return {"PYTHONPATH": f"{root}:{ROOT}"}


@pytest.mark.parametrize("group", ["xling.datasets", "xling.metrics", "xling.backends"])
def test_a_broken_plugin_is_named_and_skipped_and_the_rest_works(tmp_path, group):
    """A backend or metric plugin that failed to import made every command a traceback,
    `xling --help` and `xling langs` included."""
    env = _plugin_package(tmp_path, f"[{group}]\nbad = no_such_module\n")
    warning = (f"xling: warning: plugin 'bad' ({group}: no_such_module) does not load, skipped: "
               "ModuleNotFoundError: No module named 'no_such_module'")
    for command in (["--help"], ["langs"], ["data"]):   # (data sets are looked up only when listed or used)
        result = xling(*command, env=env)
        assert result.returncode == 0, result.stderr
        assert result.stderr.decode().splitlines() == ([warning] if command == ["data"] or group != "xling.datasets"
                                                       else [])


def test_of_two_plugins_with_one_name_the_first_by_distribution_name_keeps_it(tmp_path):
    """Round 16: the winner was whichever sys.path and folder listing gave first, and the
    warning named only the plugin skipped."""
    def metric(score):
        return ("from xling.metrics.base import mean_result\n"
                "from xling.metrics.registry import MetricSpec, register\n"
                "register(MetricSpec('same', 'Same',\n"
                f"    lambda h, r, s, t, **o: mean_result('S', [{score}] * len(h), 's')))\n")
    zed = _plugin_package(tmp_path / "z", "[xling.metrics]\nsame = zed_metric\n", {"zed_metric": metric(7.0)}, "zed")
    abe = _plugin_package(tmp_path / "a", "[xling.metrics]\nsame = abe_metric\n", {"abe_metric": metric(3.0)}, "abe")
    (tmp_path / "h.txt").write_text("Hello.\n", encoding="utf-8")
    for first, second in ((zed, abe), (abe, zed)):   # either order on sys.path
        env = {"PYTHONPATH": f"{first['PYTHONPATH'].split(':')[0]}:{second['PYTHONPATH']}"}
        result = xling("score", "-i", str(tmp_path / "h.txt"), "-r", str(tmp_path / "h.txt"), "--tgt-lang", "en",
                       "-m", "same", env=env)
        assert result.returncode == 0, result.stderr
        assert "3.00" in result.stdout.decode(), result.stdout
        assert ("xling: warning: plugin 'same' (xling.metrics: zed_metric) does not load, skipped: XlingError: "
                "metric 'same' is registered already (plugin abe==0.1's)") in result.stderr.decode()


def test_a_plugin_cannot_take_a_built_in_name(tmp_path):
    """A plugin registering "bleu" replaced sacrebleu's BLEU under its name (99.00)."""
    env = _plugin_package(tmp_path, "[xling.metrics]\nfake = fake_bleu\n", {"fake_bleu": (
        "from xling.metrics.base import mean_result\n"
        "from xling.metrics.registry import MetricSpec, register\n"
        "register(MetricSpec('bleu', 'BLEU',\n"
        "                    lambda h, r, s, t, **o: mean_result('BLEU', [99.0] * len(h), 'fake')))\n")})
    (tmp_path / "hyp.txt").write_text("the cat sat on the mat today\n")
    result = xling("score", "-i", str(tmp_path / "hyp.txt"), "-r", str(tmp_path / "hyp.txt"), "-t", "en", "-m", "bleu",
                   env=env)
    assert result.returncode == 0 and "100.00" in result.stdout.decode(), result.stdout
    assert "metric 'bleu' is registered already (xling's own); a plugin must choose another name" \
        in result.stderr.decode()


def test_installing_a_backend_plugin_leaves_other_runs_resumable():
    """Its settings (at their defaults) were in every run's identity: any run folder made before
    the plugin was installed was refused ("differs in: extra_strict")."""
    from xling.backends.settings import BackendSettings

    plugin_only = BackendSettings(backend="hf")._other_plugins_settings()
    assert not plugin_only & set(BackendSettings(backend="hf").identity())


def test_the_reserved_setting_names_are_the_configs_and_built_in_metrics_own():
    import dataclasses

    from xling.metrics.registry import metric_settings
    from xling.runs.config import CONFIGS, BackendSettings, MetricSettings
    from xling.settings import BUILTIN_METRIC_SETTINGS, TASK_SETTINGS

    inherited = {f.name for cls in (BackendSettings, MetricSettings) for f in dataclasses.fields(cls)}
    own = {f.name for config in CONFIGS.values() for f in dataclasses.fields(config)} - inherited
    assert TASK_SETTINGS == own | {"backend"}
    assert BUILTIN_METRIC_SETTINGS == set(metric_settings())   # (no plugin is installed here)


def test_the_reserved_option_names_are_the_commands_own():
    """COMMAND_OPTIONS: every option of every command that no setting makes (a plugin's setting of
    such a name would be a second --format)."""
    import click

    from xling.backends.registry import backends
    from xling.cli import cli
    from xling.metrics.registry import metric_settings
    from xling.settings import BUILTIN_METRIC_SETTINGS, COMMAND_OPTIONS, TASK_SETTINGS

    names = {"help"}

    def walk(command):
        for sub in getattr(command, "commands", {}).values():
            walk(sub)
        for param in command.params:
            names.add(param.name)
            names.update(o[2:].replace("-", "_") for o in (*param.opts, *param.secondary_opts) if o.startswith("--"))

    walk(cli)
    settings = TASK_SETTINGS | BUILTIN_METRIC_SETTINGS | set(metric_settings()) \
        | {n for kind in backends().values() for n in kind.setting_names()}
    assert isinstance(cli, click.Group) and COMMAND_OPTIONS == names - settings


@pytest.mark.parametrize("group, module, message", [
    ("xling.backends", "from dataclasses import dataclass\n"
                       "from xling.backends.registry import register_backend\n"
                       "from xling.settings import setting\n"
                       "@dataclass(kw_only=True)\n"
                       "class S:\n    limit: int = setting(3, 'mine')\n"
                       "register_backend('clash', settings=S, help='x')(lambda *a, **k: None)\n",
     "backend 'clash': its setting 'limit' is a task's already"),
    ("xling.backends", "from dataclasses import dataclass\n"
                       "from xling.backends.registry import register_backend\n"
                       "@dataclass(kw_only=True)\n"
                       "class S:\n    needed: int\n"
                       "register_backend('nodefault', settings=S, help='x')(lambda *a, **k: None)\n",
     "backend 'nodefault': its setting 'needed' has no default"),
    ("xling.metrics", "from xling.metrics.base import mean_result\n"
                      "from xling.metrics.registry import MetricSpec, register\n"
                      "from xling.metrics.settings import MetricSetting\n"
                      "register(MetricSpec('clash', 'Clash',\n"
                      "                    lambda h, r, s, t, **o: mean_result('C', [1.0] * len(h), 'c'),\n"
                      "                    settings={'base': MetricSetting('base_url', None, 'mine')}))\n",
     "metric 'clash': its setting 'base_url' is a backend's already"),
    # round 14: a built-in backend's setting with another default broke every command (a TypeError
    # when the settings class was made, after the plugins' imports)
    ("xling.backends", "from dataclasses import dataclass\n"
                       "from xling.backends.registry import register_backend\n"
                       "from xling.settings import setting\n"
                       "@dataclass(kw_only=True)\n"
                       "class S:\n    dtype: str = setting('float16', 'mine')\n"
                       "register_backend('mybk', settings=S, help='x')(lambda *a, **k: None)\n",
     "backend 'mybk': its setting 'dtype' is backend"),
    ("xling.metrics", "import sys\nsys.exit('plugin exits')\n", "SystemExit: plugin exits"),
    # round 16: a second "BLEU" column beside the real one
    ("xling.metrics", "from xling.metrics.base import mean_result\n"
                      "from xling.metrics.registry import MetricSpec, register\n"
                      "register(MetricSpec('bleu2', 'BLEU',\n"
                      "    lambda h, r, s, t, **o: mean_result('B', [1.0] * len(h), 'b')))\n",
     "metric 'bleu2': its column title 'BLEU' is metric 'bleu''s already"),
    # round 16: a setting named like a command's own option (score's --format, translate's
    # --paragraphs) was a second option of that name: click warned on every run, and the
    # command's option took the value
    ("xling.metrics", "from xling.metrics.base import mean_result\n"
                      "from xling.metrics.registry import MetricSpec, register\n"
                      "from xling.metrics.settings import MetricSetting\n"
                      "register(MetricSpec('fmtm', 'Fmt',\n"
                      "                    lambda h, r, s, t, **o: mean_result('F', [1.0] * len(h), 'f'),\n"
                      "                    settings={'fmt': MetricSetting('format', 'x', 'mine')}))\n",
     "metric 'fmtm': its setting 'format' would be a second --format of a command"),
    ("xling.backends", "from dataclasses import dataclass\n"
                       "from xling.backends.registry import register_backend\n"
                       "from xling.settings import setting\n"
                       "@dataclass(kw_only=True)\n"
                       "class S:\n    cache: bool = setting(True, 'mine')\n"
                       "register_backend('cachebk', settings=S, help='x')(lambda *a, **k: None)\n",
     "backend 'cachebk': its setting 'cache' would be a second --no-cache of a command"),
])
def test_a_plugin_setting_named_like_a_task_or_another_components_is_refused(tmp_path, group, module, message):
    """A plugin backend's `limit` took the run's --limit (and the run's value reached the
    plugin); a setting without a default made every other backend's runs fail."""
    env = _plugin_package(tmp_path, f"[{group}]\nclash = clashing\n", {"clashing": module})
    result = xling("eval", "mt", "--help", env=env)
    assert result.returncode == 0, result.stderr
    assert message in result.stderr.decode() and "does not load, skipped" in result.stderr.decode()


def test_a_plugin_backend_sharing_a_built_in_setting_as_it_is_loads(tmp_path):
    """The review of round 14: the same setting, annotated without `from __future__ import
    annotations` (a type, where the built-ins keep a string), was refused as another."""
    env = _plugin_package(tmp_path, "[xling.backends]\nsame = same\n", {"same": (
        "from dataclasses import dataclass\n"
        "from xling.backends.registry import register_backend\n"
        "from xling.settings import setting\n"
        "@dataclass(kw_only=True)\n"
        "class S:\n    dtype: str = setting('auto', 'mine')\n"
        "register_backend('same', settings=S, help='x')(lambda *a, **k: None)\n")})
    result = xling("eval", "mt", "--help", env=env)
    assert result.returncode == 0 and "skipped" not in result.stderr.decode(), result.stderr


def test_a_metric_plugin_setting_named_like_a_backend_plugin_s_is_refused(tmp_path):
    """A backend plugin's `length_unit` silently took over the toy metric's (scored by its
    default, "tokens", not one of the metric's choices)."""
    env = _plugin_package(tmp_path, "[xling.backends]\nbk = bk\n[xling.metrics]\nlr = lr\n", {
        "bk": "from dataclasses import dataclass\n"
              "from xling.backends.registry import register_backend\n"
              "from xling.settings import setting\n"
              "@dataclass(kw_only=True)\n"
              "class S:\n    length_unit: str = setting('tokens', 'mine')\n"
              "register_backend('bk', settings=S, help='x')(lambda *a, **k: None)\n",
        "lr": guide_block("### Add a metric")})
    result = xling("eval", "mt", "--help", env=env)
    assert result.returncode == 0, result.stderr
    err = result.stderr.decode()
    assert "metric 'length-ratio': its setting 'length_unit' is a backend's already" in err and "skipped" in err


# -- components registered from Python (audit round 24): checked as a plugin's are ---------------
def _python(env: dict, code: str):
    """`code` run by a fresh interpreter (every registry unused yet), with `env`'s PYTHONPATH."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", code], env=dict(os.environ, **env), capture_output=True,
                          text=True, timeout=300)


def _data_set_module(name: str) -> str:
    return ("from xling.data.registry import register_dataset\n"
            f"@register_dataset({name!r}, task='mt', grammar='{name}:X', help='my copy')\n"
            "def load(arg, spec, options):\n    return None\n")


def _modules(root: Path, modules: dict[str, str]) -> dict:
    """`modules` in a folder of their own, no entry point naming them: imported from Python."""
    root.mkdir(parents=True)
    for name, code in modules.items():
        (root / f"{name}.py").write_text(code, encoding="utf-8")
    return {"PYTHONPATH": f"{root}:{ROOT}"}


REFUSED = ("from xling.errors import XlingError\n"
           "try:\n    import {module}\nexcept XlingError as error:\n    print('refused:', error)\n")


@pytest.mark.parametrize("name", ["ntrex128", "ntrex"])   # a built-in's name, and a built-in's alias
def test_a_data_set_registered_from_python_under_a_built_in_name_is_refused_and_the_built_ins_stay(tmp_path, name):
    """Registered before the data registry's first use, the user's "ntrex" was accepted; the
    next lookup then blamed "a plugin" (xling's own ntrex128 refused) and wmt24pp, xnli, ... were
    unknown for the rest of the session."""
    env = _plugin_package(tmp_path / "plugin", "[xling.datasets]\nmine = userdata\n",
                          {"userdata": _data_set_module(name)})
    code = REFUSED.format(module="userdata") + (
        "from xling.data.registry import families, family_of\n"
        "print(family_of('wmt24pp:en-ko_KR', 'mt')[0].name, family_of('xnli:test', 'nli')[0].name)\n"
        "print(sorted(families()))\n")
    result = _python(_modules(tmp_path / "py", {"userdata": _data_set_module(name)}), code)
    out = result.stdout.splitlines()
    assert result.returncode == 0, result.stderr
    assert out[0] == (f"refused: data set {name!r} is registered already (xling's own); "
                      "register yours under another name"), result.stdout
    assert out[1] == "wmt24pp xnli" and {"flores200", "ntrex128", "text", "jsonl", "mqm"} <= set(eval(out[2]))
    # the same module as an entry point: a plugin's, named and skipped
    listing = xling("data", env=env)
    assert listing.returncode == 0, listing.stderr
    assert (f"data set {name!r} is registered already (xling's own); a plugin must choose another name"
            in listing.stderr.decode())
    assert "ntrex128" in listing.stdout.decode() and "wmt24pp" in listing.stdout.decode()


def test_a_data_set_registered_from_python_under_a_plugin_s_name_names_the_plugin(tmp_path):
    env = _plugin_package(tmp_path / "plugin", "[xling.datasets]\nmine = plugdata\n",
                          {"plugdata": _data_set_module("mine")})
    (tmp_path / "userdata.py").write_text(_data_set_module("mine"), encoding="utf-8")
    result = _python({"PYTHONPATH": f"{tmp_path}:{env['PYTHONPATH']}"}, REFUSED.format(module="userdata"))
    assert result.stdout.strip() == ("refused: data set 'mine' is registered already (plugin xling-more==0.1's); "
                                     "register yours under another name"), result.stdout + result.stderr


def test_a_built_in_module_that_fails_to_import_is_not_remembered_as_loaded(tmp_path):
    """discover() marked a group loaded before importing its built-ins: one failure, and every
    later lookup answered without them (no error, the built-ins "unknown")."""
    code = ("import xling.data.registry as data\n"
            "real = data.BUILTIN\ndata.BUILTIN = ('no_such_builtin_module', *real)\n"
            "for _ in range(2):\n"
            "    try:\n        data.families()\n    except ModuleNotFoundError as error:\n        print(error)\n"
            "data.BUILTIN = real\nprint(sorted(data.families()))\n")
    result = _python({"PYTHONPATH": str(ROOT)}, code)
    out = result.stdout.splitlines()
    assert out[:2] == ["No module named 'no_such_builtin_module'"] * 2, result.stdout + result.stderr
    assert {"flores200", "wmt24pp", "xnli"} <= set(eval(out[2]))


CLASHING_BACKEND = ("from dataclasses import dataclass\n"
                    "from xling.backends.registry import register_backend\n"
                    "@dataclass(kw_only=True)\n"
                    "class S:\n    revision: str | None = 'main'\n"   # hf's defaults to None
                    "register_backend('mine', settings=S, help='x')(lambda *a, **k: None)\n")
CLASHING_BACKEND_ERROR = ("backend 'mine': its setting 'revision' is backend 'hf''s too, with another default "
                          "('main', not None)")


def test_a_backend_registered_from_python_is_checked_as_a_plugin_s(tmp_path):
    """From Python the checks a plugin gets were skipped: the clashing default was accepted, and
    every later translate() (backend="hf" too) raised a TypeError."""
    env = _plugin_package(tmp_path / "plugin", "[xling.backends]\nmine = userbk\n", {"userbk": CLASHING_BACKEND})
    code = REFUSED.format(module="userbk") + (
        "import toybk\n"   # a backend sharing hf's settings as they are: registered
        "from xling.backends.registry import backends, setting_fields\n"
        "from xling.backends.settings import BackendSettings\n"
        "print(sorted(backends()), 'shout' in setting_fields(), BackendSettings(backend='hf').backend)\n")
    result = _python(_modules(tmp_path / "py", {"userbk": CLASHING_BACKEND, "toybk": TOY_BACKEND}), code)
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[0].startswith(f"refused: {CLASHING_BACKEND_ERROR}"), result.stdout
    assert out[1] == "['hf', 'http', 'toy-shout', 'vllm'] True hf"
    # the same module as an entry point: named and skipped with the same words
    helps = xling("translate", "--help", env=env)
    assert helps.returncode == 0 and CLASHING_BACKEND_ERROR in helps.stderr.decode(), helps.stderr


def test_a_backend_reusing_xlings_own_loader_is_checked_too(tmp_path):
    """(review of round 24) "built-in" was told by the loader's module: xling's own hf loader
    registered under another name, by a plugin or from Python, skipped every setting check."""
    module = CLASHING_BACKEND.replace("(lambda *a, **k: None)", "(loading.load)").replace(
        "from xling.backends.registry", "from xling.backends import loading\nfrom xling.backends.registry")
    assert "(loading.load)" in module
    result = _python(_modules(tmp_path / "py", {"userbk": module}), REFUSED.format(module="userbk"))
    assert result.stdout.startswith(f"refused: {CLASHING_BACKEND_ERROR}"), result.stdout + result.stderr
    env = _plugin_package(tmp_path / "plugin", "[xling.backends]\nmine = userbk\n", {"userbk": module})
    helps = xling("translate", "--help", env=env)
    assert helps.returncode == 0 and CLASHING_BACKEND_ERROR in helps.stderr.decode(), helps.stderr


def test_the_first_lookups_of_many_threads_all_see_the_built_ins(tmp_path):
    """(review of round 24) the group was marked loaded before its built-ins imported: 7 of 8
    threads looking data sets up at once in a fresh process found none."""
    code = ("import threading\nfrom xling.data.registry import families\nseen = []\n"
            "threads = [threading.Thread(target=lambda: seen.append(len(families()))) for _ in range(8)]\n"
            "[t.start() for t in threads]\n[t.join() for t in threads]\nprint(sorted(set(seen)))\n")
    result = _python(_modules(tmp_path / "py", {}), code)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)   # every thread the same, full count
    assert len(seen) == 1 and seen[0] >= 14, result.stdout


@pytest.mark.parametrize("spec, message", [
    ("MetricSpec('bleu2', 'BLEU', f)", "metric 'bleu2': its column title 'BLEU' is metric 'bleu''s already"),
    ("MetricSpec('clash', 'Clash', f, settings={'base': MetricSetting('base_url', None, 'mine')})",
     "metric 'clash': its setting 'base_url' is a backend's already"),
    ("MetricSpec('bleu', 'Fake', f)", "metric 'bleu' is registered already (xling's own)"),
])
def test_a_metric_registered_from_python_is_checked_as_a_plugin_s(tmp_path, spec, message):
    """From Python a second "BLEU" column (and a backend's setting name) was accepted."""
    module = ("from xling.metrics.base import mean_result\n"
              "from xling.metrics.registry import MetricSetting, MetricSpec, register\n"
              "f = lambda h, r, s, t, **o: mean_result('B', [1.0] * len(h), 'b')\n"
              f"register({spec})\n")
    env = _plugin_package(tmp_path / "plugin", "[xling.metrics]\nmine = usermetric\n", {"usermetric": module})
    result = _python(_modules(tmp_path / "py", {"usermetric": module}), REFUSED.format(module="usermetric"))
    assert result.stdout.startswith(f"refused: {message}"), result.stdout + result.stderr
    plugged = xling("score", "--help", env=env)
    assert plugged.returncode == 0 and message in plugged.stderr.decode(), plugged.stderr


def test_a_component_registered_from_python_again_replaces_the_one_before_never_a_plugin_s(tmp_path):
    """Round 26: a notebook cell registering a metric, run a second time, was refused "registered
    already (one registered from Python); register yours under another name"."""
    env = _plugin_package(tmp_path / "plugin", "[xling.metrics]\nplugged = plugmetric\n", {"plugmetric": (
        "from xling.metrics.base import mean_result\n"
        "from xling.metrics.registry import MetricSpec, register\n"
        "register(MetricSpec('plugged', 'Plugged', lambda h, r, s, t, **o: mean_result('p', [1.0] * len(h), 'p')))\n")})
    code = ("from dataclasses import dataclass\n"
            "from xling.backends.registry import backends, register_backend\n"
            "from xling.data.registry import families, register_dataset\n"
            "from xling.errors import XlingError\n"
            "from xling.metrics.base import mean_result\n"
            "from xling.metrics.registry import MetricSetting, MetricSpec, get, register\n"
            "for value in (1.0, 2.0):   # the cell, edited and run again\n"
            "    mode = MetricSetting('nb_mode', str(value), 'mine')\n"
            "    register(MetricSpec('nbmetric', 'NB', lambda h, r, s, t, mode=None, v=value: mean_result(\n"
            "        'nb', [v] * len(h), 'nb'), options=('mode',), settings={'mode': mode}), 'nbm')\n"
            "    @register_dataset('nbdata', task='mt', grammar='nbdata:X', help=f'mine {value}')\n"
            "    def load(arg, spec, options):\n        return None\n"
            "    @dataclass(kw_only=True)\n    class Settings:\n        nb_upper: bool = value > 1\n"
            "    @register_backend('nbbackend', settings=Settings, help=f'mine {value}')\n"
            "    def load_backend(model, settings, **options):\n        return None\n"
            "print(get('nbm')(['x'], ['y']).score, get('nbmetric').settings['mode'].default,\n"
            "      families()['nbdata'].help, backends()['nbbackend'].help)\n"
            "for name in ('plugged', 'bleu'):   # a plugin's name, a built-in's: never replaced\n"
            "    for _ in range(2):\n"
            "        try:\n"
            "            register(MetricSpec(name, name.upper() + '!', lambda h, r, s, t: None))\n"
            "        except XlingError as error:\n            print('refused:', error)\n"
            # (review D) another Python metric's name or alias reused: refused, never that metric dropped
            "for name, aliases in (('other', ('nbm',)), ('nbm', ())):\n"
            "    try:\n"
            "        register(MetricSpec(name, name.upper(), lambda h, r, s, t: None), *aliases)\n"
            "    except XlingError as error:\n        print('refused:', error)\n"
            "print(get('nbm').name)\n")
    result = _python(env, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "2.0 2.0 mine 2.0 mine 2.0",
        *["refused: metric 'plugged' is registered already (plugin xling-more==0.1's); register yours under "
          "another name"] * 2,
        *["refused: metric 'bleu' is registered already (xling's own); register yours under another name"] * 2,
        *["refused: metric 'nbm' is registered already (one registered from Python); register yours under another "
          "name"] * 2, "nbmetric"]


@pytest.mark.parametrize("call, message", [
    ("register(MetricSpec('my metric', 'Mine', f))", "metric 'my metric': --metrics could never name it"),
    ("register(MetricSpec('a,b', 'Mine', f))", "metric 'a,b': --metrics could never name it"),
    ("register(MetricSpec('mine', 'Mine', f), '')", "metric '': --metrics could never name it"),
    ("register_dataset('my:set', task='mt', grammar='x', help='x')(f)", "data set 'my:set': --data could never"),
    ("register_dataset('my set', task='mt', grammar='x', help='x')(f)", "data set 'my set': --data could never"),
])
def test_a_name_the_command_line_could_never_give_is_refused_when_registered(tmp_path, call, message):
    """Round 26: a metric named "my metric" or "a,b" (a data set "my:set") was registered, and
    --metrics (--data) could never name it."""
    code = ("from xling.data.registry import register_dataset\n"
            "from xling.metrics.registry import MetricSpec, register\n"
            "f = lambda *args, **options: None\n"
            f"try:\n    {call}\nexcept Exception as error:\n    print(type(error).__name__, error)\n")
    result = _python(_modules(tmp_path / "py", {}), code)
    assert result.stdout.startswith(f"XlingError {message}"), result.stdout + result.stderr


HYPLEN = ("from xling.metrics.base import mean_result\n"
          "from xling.metrics.registry import MetricSpec, register\n"
          "register(MetricSpec('hyplen', 'HypLen', lambda h, r, s, t, **o: mean_result(\n"
          "    'length', [float(len(x.split())) for x in h], 'length|v:1'), needs_refs=False,\n"
          "    higher_is_better=False))\n")


def _titles_checked(text: str, latex: str, data: dict, system: str) -> None:
    header = text.splitlines()[0].split()
    assert header == ["system", "BLEU", "HypLen"], text
    assert "HypLen: length|v:1" in text.splitlines() and "lower is better: HypLen" in text, text
    assert "system & BLEU & HypLen" in latex and "% HypLen: length|v:1" in latex, latex
    assert data["systems"][system]["hyplen"]["name"] == "HypLen"


def test_score_titles_a_plugin_metric_by_its_display(tmp_path):
    """`score` titled a plugin metric's column (and signature line) by its result's name
    ("length"), where `report` and the HTML pages show the spec's display ("HypLen")."""
    env = _plugin_package(tmp_path / "plugin", "[xling.metrics]\nhyplen = hyplen\n", {"hyplen": HYPLEN})
    hyp = tmp_path / "h.txt"
    hyp.write_text("the cat sat\n", encoding="utf-8")
    args = ("score", "-i", str(hyp), "-r", str(hyp), "-t", "en", "-m", "bleu,hyplen")
    formats = {fmt: xling(*args, "--format", fmt, env=env) for fmt in ("text", "latex", "json")}
    assert all(r.returncode == 0 for r in formats.values()), [r.stderr for r in formats.values()]
    text, latex, data = (formats["text"].stdout.decode(), formats["latex"].stdout.decode(),
                         json.loads(formats["json"].stdout))
    _titles_checked(text, latex, data, str(hyp))
    # the same metric registered from Python, scored through the Python API
    code = ("import json, hyplen\n"
            "from xling.reporting.scores import format_json, format_latex, format_text\n"
            "from xling.tasks.score import score_systems\n"
            "report = score_systems({'s': ['the cat sat']}, [['the cat sat']], ['bleu', 'hyplen'], 'en')\n"
            "print(json.dumps([format_text(report), format_latex(report), json.loads(format_json(report))]))\n")
    result = _python(_modules(tmp_path / "py", {"hyplen": HYPLEN}), code)
    assert result.returncode == 0, result.stderr
    _titles_checked(*json.loads(result.stdout.splitlines()[-1]), "s")


def test_score_titles_the_guide_s_metric_by_its_display(plugin, tmp_path):
    hyp = tmp_path / "hyp.txt"
    hyp.write_text("a b c\n")
    result = run(plugin, "score", "-i", str(hyp), "-r", str(hyp), "-t", "en", "-m", "length-ratio")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines()[0].split() == ["system", "LenRatio"], result.stdout
