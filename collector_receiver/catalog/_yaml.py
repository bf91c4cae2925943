"""Reading catalog YAML strictly: safe types only, duplicate keys refused, positions remembered.

PyYAML silently keeps the last of two equal keys in a mapping; in a catalog that would hide a
mistake (two ``match:`` blocks in one entry), so the loader refuses it. The loader also records
the line of every mapping it builds so that validation errors can point into the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from collector_receiver._one_line import one_line

# The C parser is several times faster on large catalogs; the constructor (where the checks
# below live) stays in Python either way.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlProblem(Exception):
    """The text is not acceptable YAML; ``str`` is a one-line reason with the line number."""


@dataclass(frozen=True)
class LoadedYaml:
    """The parsed document and the 1-based first line of each mapping in it, by ``id``."""

    data: Any
    lines: dict[int, int]

    def line_of(self, node: Any) -> int | None:
        return self.lines.get(id(node))


class _StrictLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    lines: dict[int, int]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # "<<: *anchor" merges; the mapping's own keys may override those
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key (a list or mapping used as key)
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a scalar", key_node.start_mark
                ) from None
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first at line {first})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        mapping = super().construct_mapping(node, deep=deep)
        self.lines[id(mapping)] = node.start_mark.line + 1
        return mapping


# Mappings are built through this constructor (safe_load's default builds them lazily via
# construct_yaml_map, which bypasses construct_mapping's duplicate check for the first pass).
def _construct_map(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def load_yaml(text: str) -> LoadedYaml:
    """Parse one YAML document with safe types only; raise :class:`YamlProblem` otherwise."""
    loader = _StrictLoader(text)
    loader.lines = {}
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        raise YamlProblem(_describe(exc)) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"invalid YAML: {one_line(str(exc))}") from None
    finally:
        loader.dispose()
    return LoadedYaml(data=data, lines=loader.lines)


def _describe(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "cannot be parsed"
    if exc.context and exc.problem and "duplicate key" not in exc.problem:
        problem = f"{exc.problem} ({exc.context})"
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"invalid YAML{where}: {one_line(problem)}"
