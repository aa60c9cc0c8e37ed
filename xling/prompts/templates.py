"""Prompt templates as data: named, hashed YAML files.

Built-in templates live in xling/prompts/builtin/; users add their own by dropping YAML files into a
folder named by $XLING_TEMPLATES (several folders: os.pathsep-separated) or
~/.config/xling/templates, or by passing a file path wherever a template name is accepted.

A translation template has `format: chat` (a `user` message, optionally an `assistant` message
used for few-shot turns) or `format: completion` (`example`, `query` and `separator`). Fields
available in the strings: {src_name} {tgt_name} {src_native} {tgt_native} {src_code}
{tgt_code} {source} {target} and, when the template has an `instructions` table keyed by
target language, {instruction}.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import re
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Sequence

from ..backends.base import Prompt
from ..data.choice import NLI_LABELS
from ..data.corpus import ShotPool
from ..data.languages import Language, resolve
from ..data.textio import decode_utf8
from ..data.yamlfile import RepeatedKey, load_yaml, yaml_problem
from ..errors import XlingError, did_you_mean

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
REQUIRED = {"chat": ("user",), "completion": ("example", "query"),
            "loglikelihood": ("context", "continuation"), "generate": ("prompt", "target"),
            "judge": ("user", "kind")}
# The strings of each format that are filled in, and the fields they may name.
FORMATTED = ("user", "assistant", "system", "example", "query", "context", "continuation",
             "prompt", "target", "generate_prompt")
TRANSLATION_FIELDS = {"src_name", "tgt_name", "src_native", "tgt_native", "src_code", "tgt_code",
                      "source", "target", "instruction"}
JUDGE_FIELDS = {"src_name", "tgt_name", "src_code", "tgt_code", "source", "translation", "reference"}
JUDGE_KINDS = ("mqm", "esa")
CHOICE_FIELDS = {"premise", "hypothesis", "label", "stem", "options", "option", "question", "answer",
                 # COPA items: what they ask, and the fields made from it (prompts.choice._fields)
                 "relation", "clause", "connective", "ask", "option_lower", "gap"}
# Where the text to translate must appear.
SOURCE_SLOT = {"chat": "user", "completion": "query"}
# The keys each format reads (besides name, task and format): any other key is a
# typo that would be ignored without a word (`seperator:` ran the default separator).
KEYS = {"chat": {"user", "assistant", "system", "instructions"},
        "completion": {"example", "query", "separator", "instructions"},
        "loglikelihood": {"context", "continuation", "generate_prompt", "shot_separator", "words", "labels"},
        "generate": {"prompt", "target", "generate_prompt", "shot_separator", "words", "labels", "also_accepted"},
        "judge": {"user", "system", "kind", "answer_prefix", "shots"}}
TASKS = ("translation", "nli", "multiple_choice", "judge")
# The formats each task is written in (a chat template of task nli was asked for labels, then
# refused them).
TASK_FORMATS = {"translation": ("chat", "completion"), "nli": ("loglikelihood", "generate"),
                "multiple_choice": ("loglikelihood", "generate"), "judge": ("judge",)}
# Text keys besides FORMATTED: joined in as written (a number or a null crashed mid-run).
PLAIN_TEXT = ("separator", "shot_separator", "answer_prefix")


@dataclass(frozen=True)
class Template:
    name: str
    task: str
    format: str           # "chat" or "completion"
    body: str             # canonical JSON of the template's data (hashable, frozen)
    path: str

    @property
    def data(self) -> dict:
        return json.loads(self.body)

    @cached_property
    def hash(self) -> str:
        # What the model is shown; `also_accepted` only widens how answers are read (as a change
        # of the parser would), so adding a word to it keeps old runs resumable.
        data = self.data
        data.pop("also_accepted", None)
        body = json.dumps(data, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(body.encode("utf-8")).hexdigest()[:12]

    @property
    def stop_at_newline(self) -> bool:
        return self.format == "completion"

    @property
    def builtin(self) -> bool:
        """One of xling's own templates (a user's file of the same name is not)."""
        return Path(self.path).resolve().parent == BUILTIN_DIR

    def render_judgment(self, src: Language, tgt: Language, source: str, translation: str,
                        reference: str | None = None, chat: bool = True) -> Prompt:
        """A judge template's prompt for one translation: chat messages, or for a model
        without a chat template the same text as one completion prompt, ending with the
        template's `answer_prefix` (the start of the asked layout, which base models then
        continue; the judge parses prefix + answer)."""
        data = self.data
        fields = dict(src_name=src.name, tgt_name=tgt.name, src_code=src.code, tgt_code=tgt.code,
                      source=source, translation=translation, reference=reference or "")
        user = data["user"].format_map(fields)
        system = data["system"].format_map(fields) if data.get("system") else None
        shots = data.get("shots") or []   # demonstration turns, as written (GEMBA-MQM's are 3)
        if chat:
            turns = tuple(m for shot in shots for m in (("user", shot["user"]), ("assistant", shot["assistant"])))
            return Prompt(messages=((("system", system),) if system else ()) + turns + (("user", user),))
        blocks = [f"{shot['user']}\n\nAnswer:\n{shot['assistant']}" for shot in shots]
        return Prompt(text=(f"{system}\n\n" if system else "") + "".join(b + "\n\n" for b in blocks)
                      + f"{user}\n\nAnswer:\n" + data.get("answer_prefix", ""))

    def stops_for(self, source: str, src: Language | None = None) -> tuple[bool, tuple[str, ...]]:
        """How an answer to this source ends: (stop at the line end, stop strings). Chat
        models end their turn. A completion answer ends at its line end — or, when the source
        has several lines (a paragraph, a numbered document), at the end marker of a block:
        the blank line of the template's separator, which such a block never contains, or the
        next block's source label on a line of its own ("\nKorean:": a base model that goes on
        with the pattern without a blank line wrote template lines into the translation)."""
        if self.format != "completion":
            return False, ()
        if "\n" not in source and "\r" not in source:
            return True, ()
        separator = self.data.get("separator", "\n\n")
        if "\n\n" not in separator:
            raise XlingError(f"template {self.name!r} separates its blocks with {separator!r}, so a "
                             "segment of several lines has no end marker; give it a separator "
                             "with a blank line (\\n\\n)")
        if "\n\n" in source.replace("\r", ""):
            raise XlingError(f"a segment holds a blank line ({source.strip()[:40]!r}), which ends a block of "
                             f"template {self.name!r}: remove the blank line or split the segment there, or use "
                             "a chat model and template")
        label = ""
        if src is not None and "{source}" in self.data.get("query", ""):
            line = self.data["query"].split("{source}")[0].rstrip().split("\n")[-1].strip()
            try:   # (a custom template's line may name fields only a whole prompt fills)
                label = line.format_map({"src_name": src.name, "src_native": src.native, "src_code": src.code})
            except (KeyError, ValueError, IndexError):
                label = ""
            if not re.fullmatch(r"[^\W\d_][^\n]*[:：]", label):
                label = ""   # a bullet or quote before the source ('- ', '"') also opens translated lines
        return False, ("\n\n", "\n" + label) if label else ("\n\n",)

    def check_demonstrations(self, pairs: Sequence[tuple[str, str]], src: Language, tgt: Language) -> None:
        """Refuse, under a completion template, a demonstration it cannot show as one block: a
        blank line in its source or target ends the block there (the rule a segment has, see
        stops_for), and a line of it that starts with one of the template's own labels
        ("English:") reads as a line of the template. Only a pair that can be drawn (select_shots)
        is checked; pairs from read_pair_file are named by their file and line."""
        if self.format != "completion":
            return
        places = getattr(pairs, "places", None)
        labels = self._labels(src, tgt)
        for i, (source, target) in enumerate(pairs):
            if not source.strip() or not target.strip():
                continue
            where = places[i] if places else f"demonstration {i + 1}"
            for side, text in (("source", source), ("target", target)):
                if "\n\n" in text.replace("\r", ""):
                    raise XlingError(f"{where}: the demonstration's {side} holds a blank line, which ends a block "
                                     f"of the completion template {self.name!r}; remove the blank line, or use a "
                                     "chat model and template")
                for line in re.split(r"\r\n|\r|\n", text)[1:]:
                    label = next((label for label in labels if line.startswith(label)), None)
                    if label:
                        raise XlingError(f"{where}: a line of the demonstration's {side} starts with {label!r}, "
                                         f"a label of the completion template {self.name!r}, and would read as the "
                                         "template's own line; remove that line break, or use a chat model and "
                                         "template")

    def _labels(self, src: Language, tgt: Language) -> list[str]:
        """The labels a completion template writes at the start of its lines, as it fills them
        ("English:", "German:"): a line's text before its {source} or {target}."""
        fields = dict(src_name=src.name, tgt_name=tgt.name, src_native=src.native,
                      tgt_native=tgt.native, src_code=src.code, tgt_code=tgt.code)
        labels = []
        for key in ("example", "query"):
            for line in str(self.data.get(key, "")).split("\n"):
                head = re.split(r"\{(?:source|target)\}", line)[0].strip()
                try:   # (a custom template's line may name fields only a whole prompt fills)
                    label = head.format_map(fields)
                except (KeyError, ValueError, IndexError):
                    continue
                if re.fullmatch(r"[^\W\d_][^\n]*[:：]", label) and label not in labels:
                    labels.append(label)
        return labels

    def render_translation(self, src: Language, tgt: Language, source: str,
                           shots: Sequence[tuple[str, str]] = ()) -> Prompt:
        data = self.data
        fields = dict(src_name=src.name, tgt_name=tgt.name, src_native=src.native,
                      tgt_native=tgt.native, src_code=src.code, tgt_code=tgt.code)
        if "instructions" in data:
            table = {resolve(k): v for k, v in data["instructions"].items()}
            if tgt not in table and tgt.plain not in table:
                known = ", ".join(sorted(lang.code for lang in table))
                raise XlingError(f"template {self.name!r} has no instruction written in {tgt.name}; "
                                 f"it has: {known}")
            # a regional variety (fr_CA) without an instruction of its own: its language's, naming
            # the variety in its own words after it (two varieties are two prompts)
            fields["instruction"] = table[tgt] if tgt in table else f"{table[tgt.plain]} [{tgt.native}]"

        def fill(key: str, source_text: str, target_text: str = "") -> str:
            return data[key].format_map(dict(fields, source=source_text, target=target_text))

        if self.format == "completion":
            blocks = [fill("example", s, t) for s, t in shots] + [fill("query", source)]
            return Prompt(text=data.get("separator", "\n\n").join(blocks))
        messages: list[tuple[str, str]] = []
        if data.get("system"):
            messages.append(("system", data["system"].format_map(fields)))
        for s, t in shots:
            messages += [("user", fill("user", s)), ("assistant", fill("assistant", s, t))]
        messages.append(("user", fill("user", source)))
        return Prompt(messages=tuple(messages))


def _read_template(path: Path) -> Template:
    import yaml


    try:   # (UTF-8 as every user file: its line and the UTF-16 hint, not Python's codec words)
        data = load_yaml(decode_utf8(path.read_bytes(), f"template {path}", allow_nul=False))
    except RepeatedKey as exc:
        raise XlingError(f"template {path}, {exc}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise XlingError(f"cannot read template {path}: {yaml_problem(exc)}") from exc
    if not isinstance(data, dict):
        raise XlingError(f"template {path} must be a mapping of keys to values")
    fmt = data.get("format")
    if fmt not in REQUIRED:
        raise XlingError(f"template {path}: 'format' must be one of {', '.join(REQUIRED)}, not {fmt!r}")
    unknown = sorted(set(map(str, data)) - KEYS[fmt] - {"name", "task", "format"})
    if unknown:
        raise XlingError(f"template {path}: unknown key(s) {', '.join(map(repr, unknown))} for a {fmt} "
                         f"template; it reads: {', '.join(sorted(KEYS[fmt]))}")
    # (a judge template needs no task line; a choice template says which of two tasks it serves)
    task = data.get("task", "judge" if fmt == "judge" else "translation")
    if "task" not in data and fmt in ("loglikelihood", "generate"):
        raise XlingError(f"template {path}: a {fmt} template names its task: 'task: nli' or 'task: multiple_choice'")
    if task not in TASKS:
        raise XlingError(f"template {path}: 'task' must be one of {', '.join(TASKS)}, not {task!r}")
    if fmt not in TASK_FORMATS[task]:
        raise XlingError(f"template {path}: a {task} template is written in format "
                         f"{' or '.join(TASK_FORMATS[task])}, not {fmt}")
    missing = [k for k in REQUIRED[fmt] if not isinstance(data.get(k), str)]
    if fmt == "chat" and data.get("assistant") is None:
        data["assistant"] = "{target}"
    if missing:
        raise XlingError(f"template {path}: missing text field(s) {', '.join(missing)}")
    wrong = [k for k in (*FORMATTED, *PLAIN_TEXT) if k in data and not isinstance(data[k], str)]
    if wrong:
        raise XlingError(f"template {path}: {', '.join(repr(k) for k in wrong)} must be text, not "
                         f"{data[wrong[0]]!r}")
    _check_fields(path, fmt, data)
    if data.get("task") == "nli" and data.get("labels") != list(NLI_LABELS):
        # predictions, gold labels and demonstrations are all read by this order
        raise XlingError(f"template {path}: an NLI template's 'labels' must be {list(NLI_LABELS)} in this "
                         f"order, not {data.get('labels')!r}")
    _check_also_accepted(path, data)
    if data.get("task") == "nli":
        _check_nli_words(path, fmt, data)
    if data.get("task") == "multiple_choice":
        _check_choice_formats(path, fmt, data)
    name = str(data.get("name") or path.stem)
    data["name"] = name
    body = json.dumps(data, sort_keys=True, ensure_ascii=False)
    return Template(name=name, task=str(task), format=fmt,
                    body=body, path=str(path))


def _check_also_accepted(path: Path, data: dict) -> None:
    """`also_accepted: {lang: {label: [word, ...]}}`: answer words read as a label besides the
    one the prompt names (Korean 네 beside 예)."""
    table = data.get("also_accepted")
    if table is None:
        return
    labels = data.get("labels") or []
    if data.get("format") != "generate" or not isinstance(table, dict):
        raise XlingError(f"template {path}: 'also_accepted' is a table of language: label: [words] "
                         "of a generate template")
    for lang, words in table.items():
        if not isinstance(words, dict) or not all(
                label in labels and isinstance(ws, list) and ws and all(isinstance(w, str) and w.strip() for w in ws)
                for label, ws in words.items()):
            raise XlingError(f"template {path}: 'also_accepted: {lang}' must map labels "
                             f"({', '.join(map(str, labels))}) to lists of words")


def _check_nli_words(path: Path, fmt: str, data: dict) -> None:
    """The three labels of an NLI template must be told apart in every language: each has a word
    of its own (compared as the answer parser reads them), and the text scored or shown names it.
    Two labels with one word scored or read the same (the first one won every tie), and a
    continuation without {label} scored three copies of one option."""
    from .choice import _norm  # (prompts.choice imports this module)

    words = data.get("words")
    if not isinstance(words, dict) or not words or not all(isinstance(t, dict) for t in words.values()):
        raise XlingError(f"template {path}: an NLI template's 'words' is a table of language: "
                         "{entailment: WORD, neutral: WORD, contradiction: WORD}")
    what = "options" if fmt == "loglikelihood" else "answers"
    # a generated answer is read with the words of every language (prompts.choice.answer_vocabulary);
    # a language's options are scored among themselves
    read_as: dict[str, tuple[str, str]] = {}
    # options are scored as written ("+", "0", "-" are three options); answers are read as the parser reads them
    key = (lambda word: word.strip()) if fmt == "loglikelihood" else _norm
    for lang, table in words.items():
        lacking = [label for label in NLI_LABELS if not (isinstance(table.get(label), str) and key(table[label]))]
        if lacking:
            raise XlingError(f"template {path}: 'words: {lang}' gives no word for {', '.join(lacking)}; an NLI "
                             f"template names a word for each label ({', '.join(NLI_LABELS)})")
        if fmt == "loglikelihood":
            read_as = {}
            continuation = table.get("continuation", data["continuation"])
            if not isinstance(continuation, str) or "label" not in _plain_fields(
                    path, f"words: {lang}: continuation", continuation):
                raise XlingError(f"template {path}: the continuation {lang} uses ({continuation!r}) names no "
                                 "{label}, so its three options would be one text")
        for label in NLI_LABELS:
            _distinct(path, what, read_as, key(table[label]), str(lang), label, table[label])
    if fmt == "generate":
        for lang, table in (data.get("also_accepted") or {}).items():
            for label, accepted in table.items():
                for word in accepted:
                    _distinct(path, what, read_as, _norm(word), f"{lang} (also_accepted)", label, word)
        # a demonstration's answer: the label's word, filled in alone
        if _plain_fields(path, "target", data["target"]) != {"label"}:
            raise XlingError(f"template {path}: an NLI template's 'target' (a demonstration's answer) names "
                             f"{{label}} and no other field, not {data['target']!r}")


def _check_choice_formats(path: Path, fmt: str, data: dict) -> None:
    """A multiple-choice template must show each item's options: a continuation (scored once per
    option) without {option} or {option_lower} scored one text for all of them (every item a tie,
    read as A), and a generate_prompt without {options} showed the model no options to choose from."""
    words = data.get("words")
    tables = {str(lang): t for lang, t in words.items() if isinstance(t, dict)} if isinstance(words, dict) else {}
    needs = [("generate_prompt", {"options"}, "{options}", "the model would be shown no options to choose from")]
    if fmt == "loglikelihood":
        needs.insert(0, ("continuation", {"option", "option_lower"}, "{option} or {option_lower}",
                         "its options would be one text"))
    for key, fields, named, why in needs:
        # each language's own text, else the template's (the only one where no language has words)
        uses = [(f" {lang} uses", table.get(key, data.get(key))) for lang, table in tables.items()] \
            or [("", data.get(key))]
        for where, text in uses:
            if isinstance(text, str) and not fields & _plain_fields(path, key, text):
                raise XlingError(f"template {path}: the {key}{where} ({text!r}) names no {named}, so {why}")


def _distinct(path: Path, what: str, read_as: dict[str, tuple[str, str]], norm: str, lang: str, label: str,
              word: str) -> None:
    """Records that `norm` gives `label` (in `lang`); refuses it if it gave another label before."""
    where, other = read_as.setdefault(norm, (lang, label))
    if other != label:
        said = f"{lang} has {other} = {label} = {word!r}" if where == lang else \
            f"{word!r} is {other} in {where} and {label} in {lang}"
        raise XlingError(f"template {path}: an NLI template's labels must give different {what}: {said}")


def _plain_fields(path: Path, key: str, text: str) -> set[str]:
    """The fields a template text names, each a plain {name}: {name[0]}, {name.attr}, {name!r}
    or {name:>9} would fail (or reach into Python objects) in the middle of a run."""
    from string import Formatter

    try:
        parsed = [(field, spec, conversion) for _, field, spec, conversion in Formatter().parse(text)
                  if field is not None]
    except ValueError as exc:
        raise XlingError(f"template {path}: '{key}' has unpaired braces ({exc}); write {{{{ "
                         "and }} for literal braces") from None
    for field, spec, conversion in parsed:
        if not field.isidentifier() or spec or conversion:
            whole = field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise XlingError(f"template {path}: '{key}' has the field {{{whole}}}; fields are plain "
                             "names like {source} (write {{ and }} for literal braces)")
    return {field for field, _, _ in parsed}


def _check_fields(path: Path, fmt: str, data: dict) -> None:
    """Every {field} a template names must exist, and braces must pair, so that a template
    fails when it is read, never in the middle of a run."""

    if fmt == "judge":
        allowed = JUDGE_FIELDS
        if data.get("kind") not in JUDGE_KINDS:
            raise XlingError(f"template {path}: a judge template's 'kind' must be one of "
                             f"{', '.join(JUDGE_KINDS)}, not {data.get('kind')!r}")
        for needed in ("{source}", "{translation}"):
            if needed not in data["user"]:
                raise XlingError(f"template {path}: a judge template's 'user' must contain {needed}")
        shots = data.get("shots", [])
        if not isinstance(shots, list) or not all(
                isinstance(t, dict) and set(t) == {"user", "assistant"} and all(isinstance(v, str) for v in t.values())
                for t in shots):
            raise XlingError(f"template {path}: a judge template's 'shots' is a list of turns "
                             "{user: TEXT, assistant: TEXT}, shown as written before the judged one")
    elif fmt in SOURCE_SLOT:
        allowed = TRANSLATION_FIELDS
    else:
        words = data.get("words")
        if not isinstance(words, dict):
            words = {}
        allowed = CHOICE_FIELDS | {k for table in words.values() if isinstance(table, dict) for k in table}
    if fmt in SOURCE_SLOT and "instructions" in data:
        _check_instructions(path, data["instructions"])
    for key in FORMATTED:
        text = data.get(key)
        if not isinstance(text, str):
            continue
        fields = allowed
        if fmt in SOURCE_SLOT:   # what render_translation fills in for this key
            fields = allowed - ({"source", "target"} if key == "system" else set()) \
                - (set() if "instructions" in data else {"instruction"})
        named = _plain_fields(path, key, text)
        unknown = sorted(named - fields)
        if unknown:
            why = (" ('instruction' needs an 'instructions:' table)" if "instruction" in unknown
                   and "instructions" not in data and fmt in SOURCE_SLOT else "")
            raise XlingError(f"template {path}: '{key}' names unknown field(s) "
                             f"{', '.join('{' + u + '}' for u in unknown)}{why}; available there: "
                             f"{', '.join('{' + a + '}' for a in sorted(fields))}")
    for lang, table in (data.get("words") or {}).items():   # a language's own formats
        if isinstance(table, dict):
            for key in FORMATTED:
                if isinstance(table.get(key), str):
                    _plain_fields(path, f"words: {lang}: {key}", table[key])
    slot = SOURCE_SLOT.get(fmt)
    if slot and "{source}" not in data[slot]:
        raise XlingError(f"template {path}: '{slot}' must contain {{source}}, the text to translate")
    # a demonstration without its translation: --shots K showed sources alone ("Korean:" and nothing)
    shown = {"completion": ("example",), "chat": ("assistant",)}.get(fmt, ())
    for key in shown:
        if "{target}" not in data[key]:
            raise XlingError(f"template {path}: '{key}' must contain {{target}}, a demonstration's translation")
    if fmt == "completion" and "{source}" not in data["example"]:
        raise XlingError(f"template {path}: 'example' must contain {{source}}, a demonstration's source")


def _check_instructions(path: Path, table) -> None:
    """`instructions: {lang: text}`: each key a language, each value text (an empty entry put
    "None" in the prompt, a list its Python form)."""
    if not isinstance(table, dict):
        raise XlingError(f"template {path}: 'instructions' must be a table of language: instruction")
    for lang, text in table.items():
        try:
            resolve(str(lang))
        except XlingError:
            raise XlingError(f"template {path}: 'instructions' key {lang!r} is not a language code") from None
        if not isinstance(text, str) or not text.strip():
            raise XlingError(f"template {path}: 'instructions: {lang}' must be text, not {text!r}")


def template_dirs() -> list[Path]:
    dirs = [Path(p) for p in os.environ.get("XLING_TEMPLATES", "").split(os.pathsep) if p]
    for named in dirs:   # a folder named on purpose: a typo would give the built-in prompts silently
        if not named.is_dir():
            what = "a file, not a folder" if named.exists() else "not a folder that exists"
            raise XlingError(f"XLING_TEMPLATES names {named}, {what} (a folder of template .yaml files)")
    dirs.append(Path.home() / ".config" / "xling" / "templates")
    dirs.append(BUILTIN_DIR)
    return [d for d in dirs if d.is_dir()]


def _scan() -> tuple[dict[str, Template], dict[str, XlingError]]:
    """Templates by name (a user's shadows a built-in of the same name) and the broken files
    by their stem: a bad user file is skipped, never breaking the other templates — but it
    still shadows a later template of its name (a user's broken `mt-completion.yaml` must not
    quietly give the built-in prompt)."""
    found: dict[str, Template] = {}
    broken: dict[str, XlingError] = {}
    for folder in template_dirs():
        for path in sorted(folder.glob("*.y*ml")):
            try:
                template = _read_template(path)
            except XlingError as exc:
                # by its stem and by the name it declares (`name: mt-chat` in c.yaml, broken, gave
                # the stock mt-chat without a word)
                for name in dict.fromkeys((path.stem, _declared_name(path))):
                    if name and name not in found:
                        broken.setdefault(name, exc)
                continue
            other = found.get(template.name)
            if other is not None and Path(other.path).parent == folder:   # one folder, one name twice
                found.pop(template.name)
                broken[template.name] = XlingError(
                    f"templates {Path(other.path).name} and {path.name} in {folder} are both named "
                    f"{template.name!r}: rename one")
            if template.name not in broken:
                found.setdefault(template.name, template)
    return found, broken


def _declared_name(path: Path) -> str | None:
    """The `name:` a template file gives, where its YAML reads as a mapping at all."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except Exception:   # (any unreadable file: its stem names it)
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name.strip() else None


def list_templates(warn: bool = True) -> dict[str, Template]:
    """All usable templates by name; each broken file gets one warning on stderr."""
    found, broken = _scan()
    if warn:
        for error in {id(e): e for e in broken.values()}.values():   # (one file may shadow two names)
            print(f"xling: warning: skipping a template: {error}", file=sys.stderr)
    return found


def recorded_template(name_or_path: str, recorded_hash: str | None) -> Template:
    """The template a run recorded (by name and hash), unchanged since; else an XlingError that
    says why its prompts cannot be rebuilt (not readable here, or its hash differs)."""
    try:
        template = load_template(name_or_path)
    except XlingError as exc:
        raise XlingError(f"template {name_or_path!r} cannot be read here: {exc}") from None
    if template.hash != recorded_hash:
        raise XlingError(f"template {template.name!r} changed since the run (hash {template.hash}, the run's "
                         f"{recorded_hash}): its prompts cannot be rebuilt")
    return template


def load_template(name_or_path: str) -> Template:
    path = Path(name_or_path).expanduser()
    if path.suffix.lower() in {".yaml", ".yml"}:   # (my.YAML too)
        if not path.is_file():
            raise XlingError(f"template file {name_or_path!r} does not exist")
        return _read_template(path)
    templates, broken = _scan()
    if name_or_path in templates:
        return templates[name_or_path]
    if name_or_path in broken:
        raise broken[name_or_path]
    if path.is_file():   # a file, not a name: said so, not "unknown template" (names are looked up first)
        raise XlingError(f"template files are YAML (.yaml or .yml): {name_or_path}")
    raise XlingError(f"unknown template {name_or_path!r}{did_you_mean(name_or_path, templates)}; "
                     f"known: {', '.join(sorted(templates))}")


def select_shots(pool: Sequence[tuple[str, str]], k: int, seed: int = 0,
                 exclude: Sequence[str] = ()) -> list[tuple[str, str]]:
    """k demonstrations drawn reproducibly from `pool`, never one whose source or target is among
    the sentences being translated (`exclude`) or the pool's withheld ones (a ShotPool's). The
    draw is over the whole pool: a pair that may not be shown is replaced in its place by the
    next of a seeded order of the rest, so the others stay what they are in every direction and
    under every --limit (filtered first, one excluded pair changed the whole draw)."""
    if k <= 0:
        return []
    withheld = pool.withheld if isinstance(pool, ShotPool) else frozenset()
    pool = list(pool)   # (read twice below: a generator once)
    for item in pool:   # ("ab", "cd") unpacked as pairs read the 2-character strings as a->b
        if isinstance(item, (str, bytes)) or not isinstance(item, (tuple, list)) or len(item) != 2 \
                or not all(isinstance(side, str) for side in item):
            raise XlingError(f"a shot pool holds (source, target) pairs of strings, not {str(repr(item))[:60]}")
    banned = {s.strip() for s in exclude} | withheld
    candidates = [(s, t) for s, t in pool if s.strip() and t.strip()]
    shown = [s.strip() not in banned and t.strip() not in banned for s, t in candidates]
    if k > sum(shown):
        raise XlingError(f"asked for {k} few-shot examples but the pool has only {sum(shown)} usable pairs")
    rng = random.Random(seed)
    drawn = rng.sample(range(len(candidates)), k)   # (the same indices as sampling the pairs)
    if all(shown[i] for i in drawn):
        return [candidates[i] for i in drawn]
    taken = set(drawn)
    rest = [i for i in range(len(candidates)) if shown[i] and i not in taken]
    rng.shuffle(rest)
    spare = iter(rest)
    return [candidates[i if shown[i] else next(spare)] for i in drawn]
