"""Entry points read straight from installed metadata, without importing any plugin.

``importlib.metadata`` costs ~40 ms to import; listing plugins and resolving one name only
needs the ``entry_points.txt`` and ``METADATA`` files of installed distributions, so this
module scans ``sys.path`` for ``*.dist-info`` / ``*.egg-info`` directories itself.

That scan reads every distribution's ``entry_points.txt`` (~3 ms for a hundred installed
packages), so :func:`cached_scan` keeps its result between processes in one small file beside
chatpipe's bytecode (``__pycache__``, or ``sys.pycache_prefix``), written only where Python
writes bytecode. The file is used only while nothing it was made from changed: the same
interpreter and ``sys.path``, the same modification time of every ``sys.path`` directory
(installing or removing a distribution adds or removes a ``*.dist-info`` entry there, which
changes it) and of every ``entry_points.txt`` read. A result whose directories changed in the
last seconds is not kept, since a change within the file system's timestamp resolution could
go unseen.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import attrs

__all__ = ["EntryPoint", "cached_scan", "scan"]

CACHE_FORMAT = 1
"""Bumped whenever the cache file's layout or the scan's rules change (older files are then ignored)."""

CACHE_FILE = "chatpipe-entry-points.json"
"""The cache file's name, in the directory of this module's bytecode."""

SETTLED_NS = 2_000_000_000
"""A directory or file modified less than this long before a scan (ns) keeps its result out of the cache."""


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
    return _scan(set(groups), sys.path if paths is None else paths, [])


def _scan(wanted: set[str], paths: Iterable[str], read: list[str]) -> list[EntryPoint]:
    """:func:`scan`; appends to ``read`` the path of every ``entry_points.txt`` found."""
    found: list[EntryPoint] = []
    for meta_dir in _metadata_dirs(paths):
        file = os.path.join(meta_dir, "entry_points.txt")
        text = _read(file)
        if text is None:
            continue
        read.append(file)
        entries = [(g, n, v) for g, n, v in _parse(text) if g in wanted]
        if not entries:
            continue
        dist, version = _name_and_version(meta_dir)
        found.extend(EntryPoint(g, n, v, dist, version) for g, n, v in entries)
    return found


def cached_scan(groups: Sequence[str], cache_dir: str | None = None) -> list[EntryPoint]:
    """:func:`scan` of ``sys.path``, through the cache file described above (in ``cache_dir``:
    by default the directory of this module's bytecode).

    Always the same result as :func:`scan`: the cache is only a shortcut, and a missing,
    unreadable, outdated or foreign cache file means a fresh scan.
    """
    directory = cache_dir if cache_dir is not None else _bytecode_dir()
    # "" (the current directory, for -c and the REPL) and relative entries name different
    # directories from one process to the next: the key holds them resolved.
    paths = [p if os.path.isabs(p) else os.path.abspath(p or ".") for p in sys.path]
    key = {"format": CACHE_FORMAT, "executable": sys.executable, "groups": sorted(groups), "path": paths}
    file = None
    if directory is not None:
        # One file, whatever the key: processes with another key (a script in another
        # directory, another interpreter using this copy of chatpipe) replace it, never misread it.
        file = os.path.join(directory, CACHE_FILE)
        cached = _cached(file, key)
        if cached is not None:
            return cached
    started = time.time_ns()
    stamps = _stamps(paths)
    read: list[str] = []
    found = _scan(set(groups), paths, read)
    files = _stamps(read)
    settled = all(m is None or started - m >= SETTLED_NS for m in (*stamps, *files))
    if file is not None and settled and not sys.dont_write_bytecode:
        rows = [[e.group, e.name, e.value, e.distribution, e.version] for e in found]
        _write(file, {**key, "stamps": stamps, "files": read, "file_stamps": files, "entries": rows})
    return found


def _bytecode_dir() -> str | None:
    cached = globals().get("__cached__")
    return os.path.dirname(cached) if isinstance(cached, str) else None


def _stamps(paths: Iterable[str]) -> list[int | None]:
    """The modification time (ns) of each path; ``None`` for one that does not exist."""
    out: list[int | None] = []
    for path in paths:
        try:
            out.append(os.stat(path or ".").st_mtime_ns)
        except OSError:
            out.append(None)
    return out


def _cached(file: str, key: dict[str, Any]) -> list[EntryPoint] | None:
    """The entry points stored in ``file`` if it was made for ``key`` and nothing changed since; else ``None``."""
    text = _read(file)
    if text is None:
        return None
    try:
        data = json.loads(text)
        if any(data.get(k) != v for k, v in key.items()):
            return None
        if data["stamps"] != _stamps(key["path"]) or data["file_stamps"] != _stamps(data["files"]):
            return None
        return [EntryPoint(*map(str, row)) for row in data["entries"]]
    except (ValueError, TypeError, KeyError, AttributeError):
        return None  # a damaged or foreign file: scan afresh (and replace it)


def _write(file: str, data: dict[str, Any]) -> None:
    """Replace ``file`` atomically with ``data``; a cache that cannot be written is simply not kept."""
    temporary = f"{file}.{os.getpid()}-{threading.get_ident()}.tmp"  # unique to this writer
    try:
        os.makedirs(os.path.dirname(file), exist_ok=True)
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(temporary, file)
    except OSError:
        with contextlib.suppress(OSError):
            os.remove(temporary)
