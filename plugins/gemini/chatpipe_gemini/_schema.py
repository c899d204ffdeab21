"""JSON Schema -> the OpenAPI-3.0 subset Gemini's ``Schema`` accepts (pure).

Used for tool ``parameters`` and for ``response_format`` ``json_schema``. Gemini rejects a
request whose schema holds a keyword it does not know, so the schema is rebuilt keyword by
keyword:

* **Kept**: ``type``, ``format`` (see below), ``title``, ``description``, ``nullable``,
  ``enum``, ``items``, ``properties``, ``required``, ``minItems``, ``maxItems``,
  ``minimum``, ``maximum``, ``minLength``, ``maxLength``, ``pattern``, ``minProperties``,
  ``maxProperties``, ``anyOf``, ``propertyOrdering`` (sub-schemas converted the same way).
* **Converted**:

  * ``type`` is upper-cased (``"object"`` → ``"OBJECT"``, Gemini's enum); a list of types with
    ``"null"`` becomes the other type plus ``nullable: true``; a list of several non-null types
    becomes ``anyOf`` of one schema per type;
  * ``const: v`` becomes ``enum: [v]``; ``oneOf`` becomes ``anyOf``; an ``allOf`` of one
    schema is merged into its parent;
  * ``$ref`` to ``#/$defs/...`` or ``#/definitions/...`` is replaced by the definition
    (inlined; a recursive reference is an :class:`~chatpipe.errors.InvalidRequestError`:
    Gemini's schemas cannot express one);
  * ``enum`` values become strings (Gemini enums are strings) and, without a type, the type
    ``STRING`` is added;
  * ``format`` is kept only where Gemini knows it: ``enum`` and ``date-time`` on strings,
    ``int32``/``int64`` on integers, ``float``/``double`` on numbers; others are dropped.

* **Dropped** (Gemini rejects them): every other keyword, notably ``$schema``, ``$id``,
  ``$defs``/``definitions`` (after inlining), ``additionalProperties``, ``default``,
  ``examples``, ``$comment``, ``readOnly``, ``writeOnly``, ``deprecated``,
  ``exclusiveMinimum``/``exclusiveMaximum``, ``multipleOf``, ``uniqueItems``,
  ``patternProperties``, ``not``, ``if``/``then``/``else``, and an ``allOf`` of several schemas
  (its parent is kept without it).
* An ``OBJECT`` with an empty ``properties`` loses it (Gemini refuses empty properties); a
  ``required`` naming no known property is filtered to the known ones.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from chatpipe.plugin import InvalidRequestError

__all__ = ["DROPPED_EXAMPLES", "KEPT_KEYWORDS", "gemini_schema"]

KEPT_KEYWORDS = frozenset(
    {
        "title",
        "description",
        "nullable",
        "minItems",
        "maxItems",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "pattern",
        "minProperties",
        "maxProperties",
        "propertyOrdering",
    }
)
"""Keywords copied as they are (besides those converted: type, format, enum, items, properties,
required, anyOf)."""

DROPPED_EXAMPLES = ("$schema", "additionalProperties", "default", "examples", "$comment", "uniqueItems")
"""A few of the keywords removed (every keyword not kept or converted is)."""

_FORMATS: Mapping[str, frozenset[str]] = {
    "STRING": frozenset({"enum", "date-time"}),
    "INTEGER": frozenset({"int32", "int64"}),
    "NUMBER": frozenset({"float", "double"}),
}
_MAX_DEPTH = 64


def _definitions(root: Mapping[str, Any]) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    for key in ("definitions", "$defs"):
        table = root.get(key)
        if isinstance(table, Mapping):
            defs.update({f"#/{key}/{name}": value for name, value in table.items()})
    return defs


class _Converter:
    def __init__(self, root: Mapping[str, Any], where: str) -> None:
        self.defs = _definitions(root)
        self.where = where

    def fail(self, problem: str) -> InvalidRequestError:
        return InvalidRequestError(
            f"{problem}; Gemini's schemas cannot express it, simplify the schema", where=self.where
        )

    def convert(self, node: Any, seen: tuple[str, ...] = (), depth: int = 0) -> dict[str, Any]:
        if depth > _MAX_DEPTH:
            raise self.fail("the schema is nested too deeply")
        if isinstance(node, bool) or not isinstance(node, Mapping):
            return {}  # `true` / anything: no constraint Gemini can state
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in seen:
                raise self.fail(f"the schema refers to itself ({ref})")
            if ref not in self.defs:
                raise self.fail(f"the reference {ref!r} does not point into the schema's $defs/definitions")
            merged = {**self.defs[ref], **{k: v for k, v in node.items() if k != "$ref"}}
            return self.convert(merged, (*seen, ref), depth + 1)
        all_of = node.get("allOf")
        if isinstance(all_of, Sequence) and len(all_of) == 1 and isinstance(all_of[0], Mapping):
            merged = {**all_of[0], **{k: v for k, v in node.items() if k != "allOf"}}
            return self.convert(merged, seen, depth + 1)
        out = self._type(node, seen, depth)
        if "anyOf" in out:  # a list of types: each branch carries the other keywords already
            return {**out, **{k: node[k] for k in ("title", "description") if k in node}}
        for key in KEPT_KEYWORDS:
            if key in node:
                out[key] = node[key]
        enum = [node["const"]] if "const" in node else node.get("enum")
        if isinstance(enum, Sequence) and not isinstance(enum, str):
            out["enum"] = [v if isinstance(v, str) else _enum_text(v) for v in enum]
            out.setdefault("type", "STRING")
        fmt = node.get("format")
        if isinstance(fmt, str) and fmt in _FORMATS.get(out.get("type", ""), frozenset()):
            out["format"] = fmt
        if isinstance(node.get("items"), Mapping):
            out["items"] = self.convert(node["items"], seen, depth + 1)
        properties = node.get("properties")
        if isinstance(properties, Mapping) and properties:
            out["properties"] = {str(k): self.convert(v, seen, depth + 1) for k, v in properties.items()}
            required = node.get("required")
            if isinstance(required, Sequence) and not isinstance(required, str):
                known = [r for r in required if r in out["properties"]]
                if known:
                    out["required"] = known
        branches = node.get("anyOf", node.get("oneOf"))
        if isinstance(branches, Sequence) and not isinstance(branches, str) and branches:
            out["anyOf"] = [self.convert(b, seen, depth + 1) for b in branches]
        return out

    def _type(self, node: Mapping[str, Any], seen: tuple[str, ...], depth: int) -> dict[str, Any]:
        kind = node.get("type")
        if isinstance(kind, str):
            return {"type": kind.upper()} if kind != "null" else {"nullable": True}
        if isinstance(kind, Sequence) and kind:
            kinds = [str(k) for k in kind if k != "null"]
            out: dict[str, Any] = {"nullable": True} if len(kinds) < len(kind) else {}
            if len(kinds) == 1:
                out["type"] = kinds[0].upper()
            elif kinds:
                rest = {k: v for k, v in node.items() if k != "type"}
                out["anyOf"] = [self.convert({**rest, "type": k}, seen, depth + 1) for k in kinds]
            return out
        return {}


def _enum_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def gemini_schema(schema: Mapping[str, Any], *, where: str) -> dict[str, Any]:
    """``schema`` rebuilt as Gemini's ``Schema`` (see the module docstring).

    ``where`` locates the schema in errors (``tools[0].function.parameters``).
    """
    return _Converter(schema, where).convert(schema)
