"""Entry points read straight from installed metadata, without importing any plugin.

``importlib.metadata`` costs ~40 ms to import; listing plugins and resolving one name only
needs the ``entry_points.txt`` and ``METADATA`` files of installed distributions, so this
module scans ``sys.path`` for ``*.dist-info`` / ``*.egg-info`` directories itself.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator

import attrs

__all__ = ["EntryPoint", "scan"]


@attrs.frozen
class EntryPoint:
    """One entry point: ``name = value`` in ``group``, shipped by ``distribution`` ``version``."""

    group: str
    name: str
    value: str
    distribution: str
    version: str

    def load(self) -> object:
        """Import the object the entry point names (``module`` or ``module:attr``)."""
        import importlib

        module_name, _, attr = self.value.partition(":")
        obj: object = importlib.import_module(module_name.strip())
        for part in filter(None, attr.strip().split(".")):
            obj = getattr(obj, part)
        return obj


def _metadata_dirs(paths: Iterable[str]) -> Iterator[str]:
    seen: set[str] = set()
    for base in paths:
        try:
            with os.scandir(base or ".") as entries:
                names = [e.name for e in entries]
        except OSError:
            continue
        for name in sorted(names):
            if name.endswith((".dist-info", ".egg-info")):
                # The first distribution of a name on sys.path wins, as with importlib.metadata.
                key = name.split("-", 1)[0].lower().replace("_", "-")
                if key in seen:
                    continue
                seen.add(key)
                yield os.path.join(base or ".", name)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def _name_and_version(meta_dir: str) -> tuple[str, str]:
    text = _read(os.path.join(meta_dir, "METADATA")) or _read(os.path.join(meta_dir, "PKG-INFO")) or ""
    name = version = ""
    for line in text.splitlines():
        if not line:
            break
        if line.startswith("Name:"):
            name = line[5:].strip()
        elif line.startswith("Version:"):
            version = line[8:].strip()
    return name, version


def _parse(text: str) -> Iterator[tuple[str, str, str]]:
    group = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1].strip()
            continue
        name, sep, value = line.partition("=")
        if sep and group:
            yield group, name.strip(), value.strip()


def scan(groups: Iterable[str], paths: Iterable[str] | None = None) -> list[EntryPoint]:
    """Every entry point of the given groups among the distributions on ``paths`` (``sys.path``)."""
    wanted = set(groups)
    found: list[EntryPoint] = []
    for meta_dir in _metadata_dirs(sys.path if paths is None else paths):
        text = _read(os.path.join(meta_dir, "entry_points.txt"))
        if not text:
            continue
        entries = [(g, n, v) for g, n, v in _parse(text) if g in wanted]
        if not entries:
            continue
        dist, version = _name_and_version(meta_dir)
        found.extend(EntryPoint(g, n, v, dist, version) for g, n, v in entries)
    return found
