"""YAML as xling reads it: safe, and a key given twice in one mapping is an error (PyYAML keeps
the last one silently, so a copied-and-edited block would quietly replace another)."""
from __future__ import annotations

import re


class RepeatedKey(ValueError):
    """A key given twice in one mapping; the message names both lines."""


# Nodes a document may expand to through its aliases: a 700-byte "billion laughs" of nested
# aliases would otherwise take minutes and gigabytes (and every message that shows it).
MAX_EXPANDED_NODES = 100_000
MERGE_TAG = "tag:yaml.org,2002:merge"


def _loader():
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            """Keys are the text written (`1:`, `true:`, `no:` are the names "1", "true", "no",
            never 1 or True or False, so variants 1 and true are two names and Norwegian is not
            False); `<<: *base` merges, and its keys may be overridden."""
            if not isinstance(node, yaml.MappingNode):
                return super().construct_mapping(node, deep=deep)
            seen = {}
            for key_node, _ in node.value:
                if key_node.tag == MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                    continue
                first = seen.setdefault(key_node.value, key_node.start_mark.line + 1)
                if first != key_node.start_mark.line + 1:
                    raise RepeatedKey(f"line {key_node.start_mark.line + 1}: key {key_node.value!r} is "
                                      f"given twice (first on line {first}); keep one")
            self.flatten_mapping(node)
            mapping = {}
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) \
                    else self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark, "found an unhashable key",
                        key_node.start_mark) from None
                mapping[key] = self.construct_object(value_node, deep=deep)
            return mapping

    # Numbers as YAML 1.2 reads them: PyYAML's 1.1 rules made `0512` octal (330), `1:30`
    # base 60 (90) and `1_0` ten, silently; now those are 512 and two strings (refused by type).
    UniqueKeyLoader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in (INT_TAG, FLOAT_TAG)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    UniqueKeyLoader.add_implicit_resolver(INT_TAG, _INT, list("-+0123456789"))
    UniqueKeyLoader.add_implicit_resolver(FLOAT_TAG, _FLOAT, list("-+.0123456789"))
    UniqueKeyLoader.add_constructor(INT_TAG, _construct_int)
    return UniqueKeyLoader


INT_TAG, FLOAT_TAG = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")


def _construct_int(loader, node) -> int:
    text = loader.construct_scalar(node)
    if text.startswith(("0x", "0o")):
        return int(text[2:], 16 if text[1] == "x" else 8)
    return int(text, 10)   # "0512" is 512, as YAML 1.2 and every other reader take it


def _expanded_size(node, sizes: dict) -> int:
    """How many nodes `node` stands for once every alias is expanded (each shared node is
    counted once per use, computed once)."""
    import yaml

    if id(node) in sizes:
        return sizes[id(node)]
    sizes[id(node)] = 1   # a recursive alias counts once
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    else:
        size = 1
    sizes[id(node)] = size
    return size


def load_yaml(text: str):
    """The document's value; raises yaml.YAMLError for bad YAML (and for aliases that expand
    beyond MAX_EXPANDED_NODES nodes), RepeatedKey for a key given twice."""
    import yaml

    loader = _loader()(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:   # PyYAML composes recursively: [[[[...]]]] 600 deep
            raise yaml.YAMLError("it is nested too deeply (hundreds of levels); no xling file needs that") from None
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_EXPANDED_NODES:
            raise yaml.YAMLError(f"its aliases expand to more than {MAX_EXPANDED_NODES:,} values; "
                                 "write the values out, or use fewer nested aliases")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def key_lines(node) -> dict:
    """Line of each key of a composed mapping node (1-based): for messages."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}


def yaml_problem(exc: Exception) -> str:
    """What is wrong with a YAML text, where, in one line, without PyYAML's quoted snippet of
    the file (which may hold a password in a URL or a key: never echoed)."""
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if problem is None:
        return " ".join(str(exc).split())
    def at(mark) -> str:
        return f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""

    context = getattr(exc, "context", None)
    opened = f"{context}{at(getattr(exc, 'context_mark', None))}: " if context else ""
    return f"{opened}{problem}{at(mark)}"
