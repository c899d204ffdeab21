"""chatpipe._entrypoints.cached_scan: the scan's result kept between processes, and never stale."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from chatpipe import _entrypoints
from chatpipe._entrypoints import EntryPoint, cached_scan, scan

GROUPS = ["chatpipe.providers", "chatpipe.converters"]


def _install(site: Path, name: str, entry_points: str) -> Path:
    dist = site / f"{name.replace('-', '_')}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n\n")
    (dist / "entry_points.txt").write_text(entry_points)
    return dist


def _age(*paths: Path, seconds: float) -> None:
    """Date ``paths`` ``seconds`` back: the cache keeps only results whose sources have settled."""
    stamp = time.time() - seconds
    for path in paths:
        os.utime(path, (stamp, stamp))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site directory holding one provider plugin, as the whole of ``sys.path``, with bytecode writing on."""
    site = tmp_path / "site"
    site.mkdir()
    dist = _install(site, "chatpipe-one", "[chatpipe.providers]\none = chatpipe_one\n")
    _age(dist / "entry_points.txt", site, seconds=60)
    monkeypatch.setattr(sys, "path", [str(site)])
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    return site


def _names(found: list[EntryPoint]) -> list[str]:
    return sorted(e.name for e in found)


def _no_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: object) -> list[EntryPoint]:
        raise AssertionError("scanned although the cache was valid")

    monkeypatch.setattr(_entrypoints, "_scan", fail)


def test_a_second_scan_comes_from_the_cache_with_the_same_result(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = cached_scan(GROUPS, str(tmp_path / "cache"))
    assert first == scan(GROUPS) == [EntryPoint("chatpipe.providers", "one", "chatpipe_one", "chatpipe-one", "1.0")]
    _no_scan(monkeypatch)
    assert cached_scan(GROUPS, str(tmp_path / "cache")) == first


def test_installing_then_removing_a_plugin_is_seen(site: Path, tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    assert _names(cached_scan(GROUPS, cache)) == ["one"]
    two = _install(site, "chatpipe-two", "[chatpipe.converters]\ntwo = chatpipe_two\n")
    assert _names(cached_scan(GROUPS, cache)) == ["one", "two"]
    _age(two / "entry_points.txt", site, seconds=30)  # settled: this state is cached in turn
    assert _names(cached_scan(GROUPS, cache)) == ["one", "two"]
    for file in two.iterdir():
        file.unlink()
    two.rmdir()
    assert _names(cached_scan(GROUPS, cache)) == ["one"]


def test_an_entry_points_file_rewritten_in_place_is_seen(site: Path, tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    assert _names(cached_scan(GROUPS, cache)) == ["one"]
    file = site / "chatpipe_one-1.0.dist-info" / "entry_points.txt"
    file.write_text("[chatpipe.providers]\none = chatpipe_one\nuno = chatpipe_one\n")
    _age(file, seconds=40)  # another time than the cached one; the directory itself is unchanged
    assert _names(cached_scan(GROUPS, cache)) == ["one", "uno"]


def test_another_interpreter_path_or_groups_does_not_use_the_file(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    cached_scan(GROUPS, str(cache))
    (written,) = cache.iterdir()
    data = json.loads(written.read_text())
    data["entries"] = [["chatpipe.providers", "stale", "x", "x", "0"]]
    written.write_text(json.dumps(data))
    assert _names(cached_scan(GROUPS, str(cache))) == ["stale"]  # the file is what answers...
    assert _names(cached_scan(["chatpipe.providers"], str(cache))) == ["one"]  # ...for its own key only
    assert not [p for p in cache.iterdir() if "stale" in p.read_text()]  # and it was replaced
    data["executable"] = "/another/python"
    written.write_text(json.dumps(data))
    assert _names(cached_scan(GROUPS, str(cache))) == ["one"]


def test_a_damaged_file_means_a_fresh_scan(site: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cached_scan(GROUPS, str(cache))
    (written,) = cache.iterdir()
    for broken in ("{not json", "[]", json.dumps({**json.loads(written.read_text()), "entries": 3})):
        written.write_text(broken)
        assert _names(cached_scan(GROUPS, str(cache))) == ["one"]


def test_nothing_is_kept_from_a_recent_change_or_without_bytecode_writing(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install(site, "chatpipe-two", "[chatpipe.converters]\ntwo = chatpipe_two\n")  # just now: not settled
    assert _names(cached_scan(GROUPS, str(tmp_path / "recent"))) == ["one", "two"]
    assert not (tmp_path / "recent").exists()
    _age(site, *site.glob("*/entry_points.txt"), seconds=60)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert _names(cached_scan(GROUPS, str(tmp_path / "off"))) == ["one", "two"]
    assert not (tmp_path / "off").exists()


def test_fresh_processes_share_the_cache_beside_the_bytecode_and_see_a_new_plugin(tmp_path: Path) -> None:
    # The default registry's scan, across processes: the cache file lands in the bytecode
    # directory (here PYTHONPYCACHEPREFIX), and a plugin installed after it is still found.
    site, cwd = tmp_path / "site", tmp_path / "cwd"
    site.mkdir()
    cwd.mkdir()
    _age(site, cwd, seconds=60)  # -c puts the current directory on sys.path: it must have settled too
    prefix = tmp_path / "pycache"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPYCACHEPREFIX=str(prefix), PYTHONPATH=os.pathsep.join([str(site), env.get("PYTHONPATH", "")]))
    code = textwrap.dedent(
        """
        from chatpipe.registry import default_registry
        print(sorted(e.name for e in default_registry().entry_points() if e.group == "chatpipe.providers"))
        """
    )

    def providers() -> list[str]:
        out = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return list(json.loads(out.stdout.replace("'", '"')))

    before = providers()
    assert "openai" in before and "late" not in before
    assert list(prefix.rglob("chatpipe-entry-points.json"))
    _install(site, "chatpipe-late", "[chatpipe.providers]\nlate = chatpipe_late\n")
    assert providers() == sorted([*before, "late"])
