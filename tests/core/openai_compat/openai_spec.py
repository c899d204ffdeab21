"""Validation of JSON objects against schemas of the OpenAI OpenAPI document (test helper).

The document (``specs/openai.yaml`` in the shared directory, ~3 MB) is loaded once per process
with the C YAML loader. It is OpenAPI 3.1 but still marks optional-null fields with the
OpenAPI 3.0 keyword ``nullable: true``, which JSON Schema 2020-12 ignores; :func:`load_spec`
rewrites ``nullable: true`` into an explicit ``null`` alternative so real replies (``content:
null`` beside tool calls) validate as the API documents them.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

SPEC_URI = "urn:chatpipe:openai-spec"


def _allow_null(node: Any) -> Any:
    if isinstance(node, list):
        return [_allow_null(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _allow_null(v) for k, v in node.items()}
    if out.pop("nullable", False) is True:
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


@functools.cache
def load_spec(path: str) -> dict[str, Any]:
    """The OpenAPI document at ``path`` with ``nullable`` rewritten (cached per process)."""
    import yaml

    with open(path, "rb") as handle:
        document = yaml.load(handle, Loader=yaml.CSafeLoader)
    result: dict[str, Any] = _allow_null(document)
    return result


class SpecValidator:
    """Validates instances against ``#/components/schemas/<name>`` of one document."""

    def __init__(self, spec_path: Path) -> None:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        self.document = load_spec(str(spec_path))
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        self.registry: Any = Registry().with_resource(SPEC_URI, resource)
        self._validators: dict[str, Any] = {}

    def validator(self, name: str) -> Any:
        """A Draft 2020-12 validator for schema ``name``."""
        from jsonschema import Draft202012Validator

        if name not in self._validators:
            if name not in self.document["components"]["schemas"]:
                raise KeyError(f"schema {name!r} not in the spec")
            schema = {"$ref": f"{SPEC_URI}#/components/schemas/{name}"}
            self._validators[name] = Draft202012Validator(schema, registry=self.registry)
        return self._validators[name]

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


def spec_path(shared_dir: Path) -> Path:
    """The OpenAI spec file inside the shared directory."""
    return shared_dir / "specs" / "openai.yaml"


def load_module(path: Path, name: str) -> Any:
    """Import a helper file by path once (plugin test folders share this helper)."""
    import importlib.util
    import sys

    if name in sys.modules:
        return sys.modules[name]
    module_spec = importlib.util.spec_from_file_location(name, path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    module_spec.loader.exec_module(module)
    return module
