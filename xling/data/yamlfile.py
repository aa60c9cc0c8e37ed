"""YAML as xling reads it: safe, and a key given twice in one mapping is an error (PyYAML keeps
the last one silently, so a copied-and-edited block would quietly replace another)."""
from __future__ import annotations


class RepeatedKey(ValueError):
    """A key given twice in one mapping; the message names both lines."""


def _loader():
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            seen = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node.start_mark.line + 1)
                except TypeError:      # an unhashable key: PyYAML's own error follows
                    continue
                if first != key_node.start_mark.line + 1:
                    raise RepeatedKey(f"line {key_node.start_mark.line + 1}: key {key!r} is given "
                                      f"twice (first on line {first}); keep one")
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader


def load_yaml(text: str):
    """The document's value; raises yaml.YAMLError for bad YAML, RepeatedKey for a key given
    twice."""
    import yaml

    return yaml.load(text, Loader=_loader())   # noqa: S506 - a SafeLoader subclass


def key_lines(node) -> dict:
    """Line of each key of a composed mapping node (1-based): for messages."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
