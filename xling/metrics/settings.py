"""The run settings of metrics (a model, a batch size, a precision, a judge's options): each a
config field, a YAML key and a command-line option. The specs in `registry` own them (a spec's
`settings` maps its options to these, and the registry's table of settings is collected from the
specs); this leaf module declares the built-in ones, so that the metrics' own modules
(comet_scoring, metricx) read a default without importing the registry."""
from __future__ import annotations

import os
import typing
from dataclasses import dataclass
from typing import Any

from ..errors import XlingError


@dataclass(frozen=True)
class MetricSetting:
    """A run setting of metrics: a config field, a YAML key and a command-line option, owned by
    the specs that take it (several share one: COMET's batch size is MetricX's)."""
    name: str
    default: Any
    help: str
    type: Any = str
    flags: tuple[str, ...] = ()          # command-line flags (default: --name-with-dashes)
    choices: tuple[str, ...] = ()
    # a file the model's hub snapshot always has: a model is found before any work (preflight)
    snapshot_file: str | None = None
    judge: bool = False                  # an option of LLM judges

    def __post_init__(self):
        # a plugin's setting declared with a number or flag as its default and no type= is of
        # that default's type, as its command-line option is (it was checked as text: refused)
        if self.type is str and self.default is not None and not isinstance(self.default, str):
            object.__setattr__(self, "type", type(self.default))

    @property
    def is_model(self) -> bool:
        """A model or model file that the metric loads (an input the command reads)."""
        return self.name.endswith("_model") and not self.judge

    def option_flags(self) -> tuple[str, ...]:
        return self.flags or ("--" + self.name.replace("_", "-"),)

    def check(self, value, keyword: str, where: str):
        """`value`, given from Python as the option `keyword` of a metric (shown as `where`),
        checked as a config's or the command line's value of this setting is (its type, range
        and choices; one XlingError naming `keyword`): compute got "3" for an int, 0 judge
        tokens, or a unit not among its choices, and failed or scored otherwise. A numpy scalar
        is taken as Python's, a path (os.PathLike) for text, and a number for a choice it names
        (precision=16)."""
        from ..settings import SettingError, check_number, check_type

        value = _plain(value, self.type, self.choices)
        if self.choices and value is not None and value not in self.choices:   # (precision=8: not "must be str")
            raise XlingError(f"{where}: '{keyword}' must be one of {', '.join(self.choices)}, not {value!r}")
        check_type(value, self.type, keyword, where, yaml=False)
        if isinstance(value, str) and not value.strip() and self.default is None:
            raise XlingError(f"{where}: '{keyword}' is empty; leave it out, or give a value")
        try:
            check_number(self.name, value)
        except SettingError as exc:
            raise XlingError(f"{where}: {str(exc).replace(repr(self.name), repr(keyword), 1)}") from None
        return value


def _plain(value, kind, choices: tuple[str, ...]):
    """A numpy scalar as the Python value it holds (numpy.int64(3): 3, numpy.bool_: bool), a path
    as its text and a whole number as the choice it names, where the setting takes text."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        value = value.item()
    takes_text = kind is str or str in typing.get_args(kind)
    if takes_text and isinstance(value, os.PathLike):
        return os.fspath(value)
    if takes_text and choices and isinstance(value, int) and not isinstance(value, bool) and str(value) in choices:
        return str(value)
    return value


CHECKPOINT = "checkpoints/model.ckpt"      # what every COMET snapshot on the hub holds
COMET_MODEL = MetricSetting("comet_model", "Unbabel/wmt22-comet-da",
                            "COMET model: hub name or local checkpoint.", snapshot_file=CHECKPOINT)
XCOMET_MODEL = MetricSetting("xcomet_model", "Unbabel/XCOMET-XL",
                             "xCOMET model (xcomet, xcomet-qe): hub name or local checkpoint.",
                             snapshot_file=CHECKPOINT)
COMETKIWI_MODEL = MetricSetting("cometkiwi_model", "Unbabel/wmt22-cometkiwi-da",
                                "CometKiwi model (gated on the hub): hub name or local checkpoint.",
                                snapshot_file=CHECKPOINT)
COMETKIWI_XL_MODEL = MetricSetting("cometkiwi_xl_model", "Unbabel/wmt23-cometkiwi-da-xl",
                                   "CometKiwi-XL model (cometkiwi-xl; gated on the hub): hub name or local "
                                   "checkpoint.", snapshot_file=CHECKPOINT)
METRICX_MODEL = MetricSetting("metricx_model", "google/metricx-24-hybrid-large-v2p6",
                              "MetricX-24 model (metricx, metricx-qe): hub name or local folder.",
                              snapshot_file="config.json")
METRICX_VERSION = MetricSetting("metricx_version", None, "MetricX version of the model, 23 or 24 (default: "
                                "from its name, metricx-23-... or metricx-24-...; a local folder named "
                                "otherwise needs it).", type=str | None, choices=("23", "24"))
SPM_MODEL = MetricSetting("spm_model", None, "SentencePiece model file of spBLEU (sacrebleu's flores200 model), "
                          "for a machine without network; default: sacrebleu's cache "
                          "(~/.sacrebleu/models/flores200sacrebleuspm, downloaded once).", type=str | None)
BATCH_SIZE = MetricSetting("comet_batch_size", 16, "Segments per batch of model-based metrics (COMET, MetricX).",
                           type=int, flags=("--metric-batch-size", "--comet-batch-size"))
PRECISION = MetricSetting("precision", "32", "Precision of model-based metrics: 32, 16 or bf16.",
                          choices=("32", "16", "bf16"))
JUDGE_MODEL = MetricSetting("judge_model", None, "LLM judge for gemba-mqm / gemba-esa: local folder or hub name "
                            "(default: the translation default model), or the served model name with "
                            "--judge-base-url.", type=str | None, judge=True)
JUDGE_BASE_URL = MetricSetting("judge_base_url", None, "OpenAI-compatible server of the judge (key: "
                               "--judge-api-key-env / --judge-api-key-file, default XLING_API_KEY, then "
                               "OPENAI_API_KEY).", type=str | None, judge=True)
JUDGE_API_KEY_ENV = MetricSetting("judge_api_key_env", None, "Environment variable holding the judge server's API "
                                  "key (its own: --api-key-env is the translation server's).", type=str | None,
                                  judge=True)
JUDGE_API_KEY_FILE = MetricSetting("judge_api_key_file", None, "File holding the judge server's API key.",
                                   type=str | None, judge=True)
JUDGE_TEMPLATE = MetricSetting("judge_template", None, "Judge template (default: gemba-mqm / gemba-esa).",
                               type=str | None, judge=True)
JUDGE_SAMPLES = MetricSetting("judge_samples", 1, "Judge answers per segment: 1 is greedy; N > 1 samples N times "
                              "and reports the judge's own spread per segment.", type=int, judge=True)
JUDGE_TEMPERATURE = MetricSetting("judge_temperature", 0.7, "Sampling temperature of the judge when "
                                  "judge_samples > 1.", type=float, judge=True)
JUDGE_MAX_TOKENS = MetricSetting("judge_max_tokens", 512, "Longest judge answer, in tokens: an answer cut "
                                 "there is unparseable (its later errors are unknown).", type=int, judge=True)

# Versions of how a metric reads what it is given, bumped with a change of rules that changes
# scores (stored scores made under another version are made again; signatures carry them).
JUDGE_PARSER = 8        # 2: counts, CJK "none", the judge's total and prose after the list are no errors;
                        # 3: several headings on one line, "none" in other languages, a revised or hedged ESA score
                        # 4: headings xling cannot read, or items under none, are unparseable (never
                        # "no errors"); a lone "Critical:" is unparseable; counts in words
                        # 5: an ESA range or two numbers on the score line ("70—80", "85, 90"), two
                        # bare numbers, or an MQM count other than the errors listed are unparseable
                        # 6: numbered severity lines ("2. Major:") split right, <think> blocks left out,
                        # full-width colons, a dash alone is "none"
                        # 7: an ESA score given again as another number is a conflict (no score):
                        # under a revision label ("Revised: 60 (one major error)", "Correction: given
                        # the error, 60/100", "Final verdict: 60"), in the judge's words ("I'd give it
                        # 60 out of 100", "I'd say 80") or as a line "60/100"; not a mention of the
                        # scale ("not a perfect 100/100"), quoted words, an aspect's score, or the same
                        # number again
                        # 8: an MQM error under a heading xling cannot read ("Other errors:") is
                        # unparseable beside known headings too; "Major issues:", "Major (1):" are
                        # read as their severity; "Explanation:" alone on its line starts a remark
LANGID_RULES = 15       # 5: a word or two in a script the target does not write is off-target;
                        # 6: but one short sign ("kg", "km/h", "etc.") is undetermined;
                        # 7: a target's script beside another is judged by its own part (uk for ru,
                        # Cyrillic for sr-Latn), Azerbaijani/Belarusian candidates, hr stands for bs,
                        # neighbours judged without names; 8: Chinese keeping a Japanese word, title or
                        # form, or an unspaced Korean name, is Chinese; names alone are undetermined;
                        # 9: an empty output for a blank source line is nothing off-target; 10: English
                        # names weigh no more than others, Vietnamese-only letters, Ukrainian needs і/ї/є/ґ;
                        # 11: the target's script leading but outweighed by the others together is
                        # judged by the largest other (French words among Arabic and Hebrew); running
                        # English beside a target in another script is not names (partly translated);
                        # 12: Mongolian and Kazakh candidates (they passed as Russian)
                        # 13: Cyrillic or Arabic with no Latin word is not "names only" (short Russian
                        # for en/ko was undetermined); kana only in 《》 with nothing Japanese around is
                        # Chinese; Han mixing Simplified-only and Traditional-only forms is Japanese
                        # 14: running English beside a non-Latin target is off-target also when the
                        # target's script has more (weighted) letters (a sentence in four left in English);
                        # an empty output's "lang" is "empty", for a blank source line "blank" (was "und")
                        # 15: a sentence in another script with a Latin name is no "names alone" (Serbian
                        # Cyrillic with "Samsung" for sr-Latn was undetermined); a langpairs/-only language
                        # in a script that names another (Cantonese in Han) is undetermined, not that one;
                        # kana outside quotes weighed by hiragana runs against Chinese function words too;
                        # U+FEFF is no Arabic letter
