"""Safe YAML parsing that reports errors with a line number and never echoes file content.

Uses libyaml (``yaml.CSafeLoader``) when PyYAML was built with it, else the pure-Python
``SafeLoader``. Duplicate keys in one mapping are an error (YAML would silently keep the last).
Error messages name the line and column but never quote the offending text, because a
config or key file may hold secrets.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode

__all__ = ["YamlSyntaxError", "dump_yaml", "parse_yaml"]

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]
_MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlSyntaxError(ValueError):
    """The text is not valid YAML; ``str()`` is a one-line description with the position."""


class _StrictLoader(_BaseLoader):
    """The safe loader, refusing duplicate mapping keys."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            ident = (key_node.tag, key_node.value)
            if ident in seen:
                shown = key_node.value if len(key_node.value) <= 40 else key_node.value[:37] + "..."
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {shown!r}",
                    key_node.start_mark,
                )
            seen.add(ident)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def _position(error: yaml.MarkedYAMLError, text: str) -> str:
    mark = error.problem_mark or error.context_mark
    if mark is None:
        return ""
    if mark.index >= len(text.rstrip()):
        return "at the end of the text: "
    return f"line {mark.line + 1}, column {mark.column + 1}: "


def parse_yaml(text: str) -> Any:
    """The value ``text`` holds (``None`` for an empty document).

    Raises :class:`YamlSyntaxError` for anything the safe loader rejects: syntax errors,
    duplicate keys, unsafe tags, invalid dates, nesting too deep, several documents.
    """
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a safe loader subclass
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlSyntaxError(f"{_position(exc, text)}{problem}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(str(exc).splitlines()[0] if str(exc) else "invalid YAML") from None
    except RecursionError:
        raise YamlSyntaxError("nested too deeply") from None
    except Exception as exc:  # the loader's own failures, e.g. a timestamp with month 13
        raise YamlSyntaxError(f"invalid value: {exc}") from None


def dump_yaml(data: Any) -> str:
    """``data`` as block-style YAML, keys sorted, that :func:`parse_yaml` reads back unchanged."""
    return yaml.safe_dump(data, default_flow_style=False, sort_keys=True, allow_unicode=True)
