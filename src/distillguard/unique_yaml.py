"""YAML read as PyYAML's safe loader reads it, but a key given twice in one mapping is an
error: safe_load keeps the last without a word, so a keys file that gave one API key to
two accounts, or a policy that set a rung twice, would act on whichever came last."""

from __future__ import annotations

from typing import Any

import yaml


class DuplicateKeyError(yaml.YAMLError):
    """A mapping names the same key twice; `line` is where it comes again (the key itself
    is in the message: leave it out where keys are secrets)."""

    def __init__(self, key: Any, line: int) -> None:
        super().__init__(f"{key!r} is given twice (again on line {line})")
        self.line = line


class _UniqueLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise DuplicateKeyError(key, key_node.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_unique(text: str) -> Any:
    """The document in `text`; DuplicateKeyError (a YAMLError) for a key given twice."""
    return yaml.load(text, Loader=_UniqueLoader)  # a SafeLoader: no arbitrary objects
