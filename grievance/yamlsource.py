"""YAML that remembers where each value came from, so errors can say ``file:line``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class LineDict(dict[str, Any]):
    """A mapping from YAML with the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    @classmethod
    def empty(cls, line: int) -> LineDict:
        """An empty mapping that stands at ``line`` (for an omitted block)."""
        mapping = cls()
        mapping.line, mapping.key_lines = line, {}
        return mapping

    def line_of(self, key: str) -> int:
        """The line where ``key`` is written, or the mapping's own line."""
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A sequence from YAML with the line of itself and of each item (1-based)."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        """The line of item ``index``, or the sequence's own line."""
        return self.item_lines[index] if index < len(self.item_lines) else self.line


@dataclass(frozen=True)
class YamlError(Exception):
    """A file that is not valid YAML, with the line where parsing failed."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class _Loader(yaml.SafeLoader):
    """SafeLoader that records line numbers and refuses duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:  # type: ignore[override]
        result = LineDict()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool):
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be plain text", key_node.start_mark
                )
            key = str(key)
            if key in result:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"'{key}' is written twice in the same block; keep one",
                    key_node.start_mark,
                )
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = key_node.start_mark.line + 1
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:
        result = LineList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result


# YAML 1.1 reads yes/no/on/off as booleans, so `routes: {yes: ..., no: ...}` would
# silently break; like YAML 1.2, only true and false are booleans here.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)

_Loader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    lambda loader, node: loader.construct_mapping(node),  # type: ignore[arg-type]
)
_Loader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG,
    lambda loader, node: loader.construct_sequence(node),  # type: ignore[arg-type]
)


def load_text(text: str, path: str) -> Any:
    """Parse YAML ``text``; raise :class:`YamlError` naming ``path`` and the line."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader
    except yaml.MarkedYAMLError as exc:
        context, problem = exc.context_mark, exc.problem_mark
        if context is not None and problem is not None and context.line != problem.line:
            # An unclosed "[" or quote is noticed lines later: point at where it was opened.
            raise YamlError(
                path,
                context.line + 1,
                f"{exc.context} that starts here: {exc.problem} on line {problem.line + 1}",
            ) from None
        mark = problem or context
        line = mark.line + 1 if mark is not None else 1
        raise YamlError(path, line, str(exc.problem or exc.context or "invalid YAML")) from None
    except yaml.YAMLError as exc:
        raise YamlError(path, 1, str(exc)) from None


def load_file(path: Path) -> Any:
    """Parse the YAML file at ``path``."""
    return load_text(path.read_text(encoding="utf-8"), str(path))
