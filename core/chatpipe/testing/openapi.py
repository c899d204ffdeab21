"""Validate JSON against schemas of a vendor's OpenAPI document (for contract tests).

``SpecValidator(path).check("CreateChatCompletionRequest", body)`` asserts that ``body`` is
valid against ``#/components/schemas/CreateChatCompletionRequest`` of the document at
``path``, using JSON Schema 2020-12 (``jsonschema`` and ``referencing`` must be installed).
:meth:`SpecValidator.from_document` takes a document already loaded (a JSON file, or a copy
a test patched in memory).

Documents are loaded once per process with the C YAML loader and patched in memory for the
known defects of the vendors' files (the files themselves are never edited):

* OpenAPI 3.0's ``nullable: true`` (still used in 3.1 documents) becomes an explicit
  ``null`` alternative, which JSON Schema understands;
* ``$ref`` values pointing outside the document (Cohere's code-sample files) are dropped;
* references to ``#/$defs/...`` (pydantic-style, in Mistral's file) resolve against the
  document's top-level ``$defs``, which the registry serves as they are;
* YAML 1.1 booleans that stand for enum strings (``OFF`` loading as ``false``) are restored;
* a ``type: null`` keyword (Anthropic's ``Model``) is dropped;
* a ``oneOf`` with an OpenAPI ``discriminator`` mapping (Cohere's response formats, citation
  sources and stream events) becomes "the ``propertyName`` value picks the mapped branch":
  JSON Schema ignores ``discriminator``, and loose branches would otherwise match twice.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

__all__ = ["SpecValidator", "load_spec"]

SPEC_URI = "urn:chatpipe:openai-spec"


def _allow_null(node: Any) -> Any:
    if isinstance(node, list):
        return [_allow_null(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _allow_null(v) for k, v in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and not ref.startswith("#"):
        del out["$ref"]  # points at a file beside the spec (code samples): not part of the contract
    enum = out.get("enum")
    if isinstance(enum, list) and any(v is False for v in enum) and any(isinstance(v, str) for v in enum):
        out["enum"] = ["OFF" if value is False else value for value in enum]
    if "type" in out and out["type"] is None:
        del out["type"]  # Anthropic's Model schema says `type: null`
    nullable = out.get("nullable")
    if isinstance(nullable, bool):  # not a property named "nullable" (Gemini's Schema has one)
        del out["nullable"]
    if nullable is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        elif isinstance(kind, list):
            if "null" not in kind:
                out["type"] = [*kind, "null"]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _discriminated(node: Any) -> Any:
    if isinstance(node, list):
        return [_discriminated(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _discriminated(value) for key, value in node.items()}
    discriminator = out.get("discriminator")
    if not isinstance(discriminator, dict):
        return out
    mapping = discriminator.get("mapping")
    if "oneOf" in out and isinstance(mapping, dict) and mapping:
        prop = discriminator["propertyName"]
        branches = [
            {"if": {"properties": {prop: {"const": value}}, "required": [prop]}, "then": {"$ref": ref}}
            for value, ref in mapping.items()
        ]
        selector = {"properties": {prop: {"enum": list(mapping)}}, "required": [prop]}
        del out["oneOf"], out["discriminator"]
        out["allOf"] = [*out.get("allOf", []), selector, *branches]
    return out


@functools.cache
def load_spec(path: str) -> dict[str, Any]:
    """The OpenAPI document at ``path`` with ``nullable`` rewritten (cached per process)."""
    import yaml

    with open(path, "rb") as handle:
        document = yaml.load(handle, Loader=yaml.CSafeLoader)
    result: dict[str, Any] = _discriminated(_allow_null(document))
    return result


class SpecValidator:
    """Validates instances against ``#/components/schemas/<name>`` of one document."""

    def __init__(self, spec_path: Path) -> None:
        self._use(load_spec(str(spec_path)))

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> SpecValidator:
        """A validator for an OpenAPI ``document`` already in memory: a JSON spec, or one a test
        patched for fields newer than the file (patch a copy: :func:`load_spec` caches)."""
        validator = cls.__new__(cls)
        validator._use(_discriminated(_allow_null(document)))
        return validator

    def _use(self, document: dict[str, Any]) -> None:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        self.document = document
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        self.registry: Any = Registry().with_resource(SPEC_URI, resource)
        self._validators: dict[str, Any] = {}

    def validator(self, name: str) -> Any:
        """A Draft 2020-12 validator for schema ``name``, or for a JSON pointer into the
        document when ``name`` starts with ``#/`` (see :meth:`request_body`)."""
        from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

        if name not in self._validators:
            if name.startswith("#/"):
                pointer = name
            elif name in self.document["components"]["schemas"]:
                pointer = f"#/components/schemas/{name}"
            else:
                raise KeyError(f"schema {name!r} not in the spec")
            schema = {"$ref": f"{SPEC_URI}{pointer}"}
            self._validators[name] = Draft202012Validator(schema, registry=self.registry)
        return self._validators[name]

    @staticmethod
    def request_body(path: str, method: str = "post", media_type: str = "application/json") -> str:
        """The pointer naming the JSON request body schema of ``method path`` (inline schemas
        included), usable wherever a schema name is: ``check(request_body("/v2/chat"), body)``."""
        escaped = path.replace("~", "~0").replace("/", "~1")
        media = media_type.replace("~", "~0").replace("/", "~1")
        return f"#/paths/{escaped}/{method.lower()}/requestBody/content/{media}/schema"

    def errors(self, name: str, instance: Any) -> list[str]:
        """Readable validation errors of ``instance`` against schema ``name`` (empty when valid)."""
        found = sorted(self.validator(name).iter_errors(copy.deepcopy(instance)), key=lambda e: list(e.path))
        return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}" for e in found]

    def check(self, name: str, instance: Any) -> None:
        """Assert ``instance`` is valid against schema ``name``."""
        problems = self.errors(name, instance)
        assert not problems, f"{name} validation failed:\n" + "\n".join(problems)

    def schema(self, name: str) -> dict[str, Any]:
        """The (nullable-rewritten) schema ``name`` as stored in the document."""
        result: dict[str, Any] = self.document["components"]["schemas"][name]
        return result
