"""JSON Schema reduction to Gemini's Schema subset (chatpipe_gemini._schema)."""

from __future__ import annotations

from typing import Any

import pytest
from chatpipe.errors import InvalidRequestError
from chatpipe.testing.openapi import SpecValidator
from chatpipe_gemini import gemini_schema


def reduce(schema: dict[str, Any]) -> dict[str, Any]:
    return gemini_schema(schema, where="tools[0].function.parameters")


def test_rejected_keywords_are_dropped_and_kept_ones_kept(gemini_spec: SpecValidator) -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "x",
        "title": "Query",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "q": {"type": "string", "default": "", "minLength": 1, "maxLength": 9, "pattern": "^a", "examples": ["a"]},
            "n": {"type": "integer", "minimum": 1, "maximum": 5, "exclusiveMaximum": 6, "multipleOf": 1},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3, "uniqueItems": True},
        },
        "required": ["q", "ghost"],
    }
    out = reduce(schema)
    assert out == {
        "title": "Query",
        "type": "OBJECT",
        "properties": {
            "q": {"type": "STRING", "minLength": 1, "maxLength": 9, "pattern": "^a"},
            "n": {"type": "INTEGER", "minimum": 1, "maximum": 5},
            "tags": {"type": "ARRAY", "items": {"type": "STRING"}, "minItems": 1, "maxItems": 3},
        },
        "required": ["q"],
    }
    gemini_spec.check("Schema", out)


def test_type_lists_const_enums_and_formats() -> None:
    assert reduce({"type": ["integer", "null"]}) == {"type": "INTEGER", "nullable": True}
    assert reduce({"type": ["string", "integer"], "description": "d"}) == {
        "anyOf": [{"type": "STRING", "description": "d"}, {"type": "INTEGER", "description": "d"}],
        "description": "d",
    }
    assert reduce({"const": "x"}) == {"enum": ["x"], "type": "STRING"}
    assert reduce({"type": "string", "enum": ["a", 1, None]}) == {"type": "STRING", "enum": ["a", "1", "null"]}
    assert reduce({"type": "string", "format": "date-time"}) == {"type": "STRING", "format": "date-time"}
    assert reduce({"type": "string", "format": "email"}) == {"type": "STRING"}
    assert reduce({"type": "integer", "format": "int64"}) == {"type": "INTEGER", "format": "int64"}


def test_refs_are_inlined_and_one_of_becomes_any_of(gemini_spec: SpecValidator) -> None:
    schema = {
        "type": "object",
        "$defs": {"City": {"type": "object", "properties": {"name": {"type": "string"}}}},
        "definitions": {"Unit": {"enum": ["C", "F"]}},
        "properties": {
            "city": {"$ref": "#/$defs/City", "description": "where"},
            "unit": {"allOf": [{"$ref": "#/definitions/Unit"}]},
            "when": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        },
    }
    out = reduce(schema)
    assert out["properties"] == {
        "city": {"type": "OBJECT", "description": "where", "properties": {"name": {"type": "STRING"}}},
        "unit": {"enum": ["C", "F"], "type": "STRING"},
        "when": {"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}]},
    }
    assert "$defs" not in out and "definitions" not in out
    gemini_spec.check("Schema", out)


@pytest.mark.parametrize(
    ("schema", "needle"),
    [
        (
            {"$defs": {"N": {"type": "object", "properties": {"next": {"$ref": "#/$defs/N"}}}}, "$ref": "#/$defs/N"},
            "itself",
        ),
        ({"type": "object", "properties": {"a": {"$ref": "#/components/x"}}}, "does not point"),
    ],
)
def test_unexpressible_references_are_errors_naming_the_tool(schema: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidRequestError, match=needle) as info:
        reduce(schema)
    assert "tools[0].function.parameters" in str(info.value)


def test_empty_object_properties_are_left_out() -> None:
    assert reduce({"type": "object", "properties": {}}) == {"type": "OBJECT"}
    assert reduce({"type": "object", "properties": {"o": {"type": "object", "additionalProperties": {}}}}) == {
        "type": "OBJECT",
        "properties": {"o": {"type": "OBJECT"}},
    }
